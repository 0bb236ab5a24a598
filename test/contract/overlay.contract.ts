// qcam:overlay's contract: the Overlay class's shape, its option checks and
// messages, the text it expands (fixed times, frames, rates), draw() on an
// Image and link()'s `overlay` option. Pixels are judged in
// test/integration/overlay.test.ts (the stub's images carry no font).
import { app, time } from "qcam:app";
import { AudioEncoder, AudioIn } from "qcam:audio";
import { Camera } from "qcam:camera";
import * as fs from "qcam:fs";
import { EsFileSink, link } from "qcam:link";
import * as overlayModule from "qcam:overlay";
import { Overlay, type OverlayOptions } from "qcam:overlay";
import { Encoder } from "qcam:video";
import { contract, deepEq, descriptor, eq, ok, throws } from "./kit.ts";

type AnyFn = (...args: unknown[]) => unknown;
const dispose = (Symbol as unknown as { dispose: symbol }).dispose;
const TYPE = (message: string) => ({ name: "TypeError", code: "ERR_INVALID_ARG", message });
const RANGE = (message: string) => ({ name: "RangeError", code: "ERR_INVALID_ARG", message });
const CLOSED = { name: "TypeError", code: "ERR_CLOSED", message: "Overlay is closed" };
const WRONG_THIS = { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Overlay" };
const KNOWN = "text, position, x, y, margin, size, scale, color, background, opacity, padding";
const FIELDS = "Overlay text: unknown field (fields: %Y %m %d %H %M %S %%, {frame} {fps} {seq} {{)";
const POS = `"top-left", "top-right", "bottom-left" or "bottom-right"`;
const make = (o: unknown) => new Overlay(o as OverlayOptions);

function waitFor(done: () => boolean, ms = 10_000): void {
  const t0 = time.ticksMs();
  while (!done() && time.ticksMs() - t0 < ms) {
    app.needExit();
    time.sleepMs(5);
  }
}

export default contract("qcam:overlay", (t) => {
  t.test("exports: the Overlay class, its prototype and [Symbol.dispose]", () => {
    deepEq(Object.keys(overlayModule).sort(), ["Overlay"]);
    eq(Overlay.name, "Overlay");
    eq(Overlay.length, 1);
    eq(Overlay.prototype.constructor, Overlay);
    eq(Object.prototype.toString.call(Overlay.prototype), "[object Overlay]");
    const names = Object.getOwnPropertyNames(Overlay.prototype).filter((n) => n !== "constructor").sort();
    deepEq(names, ["close", "draw", "expand", "frames", "text"]);
    for (const g of ["text", "frames"]) eq(descriptor(Overlay.prototype, g), "get configurable", g);
    const proto = Overlay.prototype as unknown as Record<string | symbol, unknown>;
    for (const [m, len] of [["draw", 1], ["expand", 1], ["close", 0]] as const) {
      eq(descriptor(Overlay.prototype, m), "method writable configurable", m);
      eq((proto[m] as AnyFn).length, len, `${m}.length`);
    }
    eq(proto[dispose], Overlay.prototype.close);
    throws(() => (Overlay as unknown as AnyFn)({ text: "x" }), { name: "TypeError", code: undefined }, "Overlay() without new");
  });

  t.test("options: every check and its message; unknown keys are refused", () => {
    throws(() => make(undefined), TYPE("new Overlay(options): options must be an object"));
    throws(() => make("x"), TYPE("new Overlay(options): options must be an object"));
    throws(() => make([]), TYPE("new Overlay(options): options must be an object"));
    throws(() => make({ text: "a", colour: "#fff" }), TYPE(`unknown Overlay option "colour" (known: ${KNOWN})`));
    throws(() => make({ colour: "#fff" }), TYPE(`unknown Overlay option "colour" (known: ${KNOWN})`), "keys before text");
    const textMsg = TYPE("Overlay text must be a non-empty string (at most 255 bytes)");
    throws(() => make({}), textMsg);
    throws(() => make({ text: "" }), textMsg);
    throws(() => make({ text: 42 }), textMsg);
    throws(() => make({ text: "x".repeat(256) }), textMsg);
    throws(() => make({ text: "é".repeat(128) }), textMsg, "bytes of UTF-8, not characters");
    eq(make({ text: "x".repeat(255) }).text.length, 255);
    for (const bad of ["%y", "%", "50%", "{frames}", "{", "{fps", "%H:%M:%s"]) throws(() => make({ text: bad }), RANGE(FIELDS), bad);
    for (const good of ["%%", "{{", "}", "{{fps}", "%Y%m%d%H%M%S", "{frame}{fps}{seq}"]) eq(make({ text: good }).text, good);
    throws(() => make({ text: "a", position: "top" }), TYPE(`Overlay position must be ${POS} (at most 15 bytes)`));
    throws(() => make({ text: "a", position: 1 }), TYPE(`Overlay position must be ${POS} (at most 15 bytes)`));
    throws(() => make({ text: "a", position: "top-left", x: 1 }), TYPE("Overlay takes a position or x and y, not both"));
    throws(() => make({ text: "a", position: "bottom-right", y: 0 }), TYPE("Overlay takes a position or x and y, not both"));
    throws(() => make({ text: "a", x: -1 }), RANGE("Overlay x must be an integer from 0 to 16383, not -1"));
    throws(() => make({ text: "a", y: 1.5 }), RANGE("Overlay y must be an integer from 0 to 16383, not 1.5"));
    throws(() => make({ text: "a", x: "3" }), TYPE('Overlay x must be an integer from 0 to 16383, not "3"'));
    throws(() => make({ text: "a", margin: 2000 }), RANGE("Overlay margin must be an integer from 0 to 1024, not 2000"));
    const sizes = " (12, 14, 16, 20, 24, 32, 40 or 48)";
    throws(() => make({ text: "a", size: 13 }), RANGE(`Overlay size must be an integer from 12 to 48${sizes}, not 13`));
    throws(() => make({ text: "a", size: 64 }), RANGE(`Overlay size must be an integer from 12 to 48${sizes}, not 64`));
    throws(() => make({ text: "a", size: null }), TYPE(`Overlay size must be an integer from 12 to 48${sizes}, not null`));
    throws(() => make({ text: "a", scale: 0 }), RANGE("Overlay scale must be an integer from 1 to 8, not 0"));
    throws(() => make({ text: "a", color: "white" }), TYPE('Overlay color must be a colour "#rrggbb"'));
    throws(() => make({ text: "a", color: null }), TYPE('Overlay color must be a colour "#rrggbb"'));
    throws(() => make({ text: "a", background: "#12345" }), TYPE('Overlay background must be a colour "#rrggbb" or null'));
    throws(() => make({ text: "a", opacity: 101 }), RANGE("Overlay opacity must be an integer from 0 to 100 (percent), not 101"));
    throws(() => make({ text: "a", padding: 65 }), RANGE("Overlay padding must be an integer from 0 to 64, not 65"));
    for (const size of [12, 14, 16, 20, 24, 32, 40, 48]) make({ text: "a", size }).close();
    const all = make({
      text: "%H:%M:%S", x: 10, y: 20, margin: 0, size: 48, scale: 8, color: "#FFcc00", background: null, opacity: 0, padding: 64,
    });
    eq(all.text, "%H:%M:%S");
    eq(all.frames, 0);
    all.close();
    make({ text: "a", position: "bottom-left", background: "#000000", opacity: 100, x: undefined }).close();
  });

  t.test("expand(): strftime fields in UTC, {frame}, {fps} with one decimal, {seq}, literals", () => {
    const ov = make({ text: "%Y-%m-%d %H:%M:%S %% {{frame} #{frame} {fps} fps seq {seq} é" });
    eq(ov.expand(Date.UTC(2026, 11, 7, 3, 4, 5, 678), 42, 29.97, 7), "2026-12-07 03:04:05 % {frame} #42 30.0 fps seq 7 é");
    eq(ov.expand(0), "1970-01-01 00:00:00 % {frame} #0 0.0 fps seq 0 é");
    eq(ov.expand(Date.UTC(2024, 1, 29, 23, 59, 59, 999), 1, 0.04), "2024-02-29 23:59:59 % {frame} #1 0.0 fps seq 0 é");
    eq(ov.expand(Date.UTC(2000, 0, 1), 2 ** 53 - 1, 0.05, 2 ** 53 - 1), `2000-01-01 00:00:00 % {frame} #${2 ** 53 - 1} 0.1 fps seq ${2 ** 53 - 1} é`);
    eq(ov.expand(253402300799999, 3, 1e6), "9999-12-31 23:59:59 % {frame} #3 1000000.0 fps seq 0 é");
    eq(ov.expand(1000, undefined, 15, undefined), "1970-01-01 00:00:01 % {frame} #0 15.0 fps seq 0 é");
    for (const fps of [0.25, 0.35, 12.45, 24.95, 29.999, 59.94, 99.95]) {
      const t = Math.trunc(fps * 10 + 0.5);
      eq(make({ text: "{fps}" }).expand(0, 0, fps), `${Math.trunc(t / 10)}.${t % 10}`, String(fps));
    }
    throws(() => ov.expand(undefined as never), TYPE("Overlay expand: timeMs must be a number"));
    throws(() => ov.expand("1" as never), TYPE("Overlay expand: timeMs must be a number"));
    throws(() => ov.expand(-1), RANGE("Overlay expand: timeMs must be a whole number from 0 to 253402300799999"));
    throws(() => ov.expand(1.5), RANGE("Overlay expand: timeMs must be a whole number from 0 to 253402300799999"));
    throws(() => ov.expand(253402300800000), RANGE("Overlay expand: timeMs must be a whole number from 0 to 253402300799999"));
    throws(() => ov.expand(0, -1), RANGE("Overlay expand: frame must be a whole number from 0 to 9007199254740991"));
    throws(() => ov.expand(0, 0, NaN), RANGE("Overlay expand: fps must be from 0 to 1000000"));
    throws(() => ov.expand(0, 0, "1" as never), TYPE("Overlay expand: fps must be a number"));
    throws(() => ov.expand(0, 0, 0, 0.5), RANGE("Overlay expand: seq must be a whole number from 0 to 9007199254740991"));
    // At most 255 bytes come out, cut before a whole character.
    const long = make({ text: "%Y" + "é".repeat(126) });
    const s = long.expand(Date.UTC(2026, 0, 1));
    eq(s, "2026" + "é".repeat(125));
    const many = make({ text: "{seq}".repeat(51) });
    eq(many.expand(0, 0, 0, 2 ** 53 - 1), String(2 ** 53 - 1).repeat(16).slice(0, 255));
    ov.close();
  });

  t.test("close(): idempotent; then every member throws ERR_CLOSED; a foreign this is ERR_WRONG_THIS", () => {
    const ov = make({ text: "x" });
    ov.close();
    ov.close();
    (ov as unknown as Record<symbol, AnyFn>)[dispose]();
    throws(() => ov.text, CLOSED);
    throws(() => ov.frames, CLOSED);
    throws(() => ov.expand(0), CLOSED);
    throws(() => ov.draw(undefined as never), CLOSED);
    const getter = (n: string) => Object.getOwnPropertyDescriptor(Overlay.prototype, n)!.get as AnyFn;
    for (const self of [{}, null, 1, Overlay.prototype, Object.create(Overlay.prototype)]) {
      throws(() => getter("text").call(self), WRONG_THIS, "text");
      throws(() => Overlay.prototype.expand.call(self, 0), WRONG_THIS, "expand");
      throws(() => Overlay.prototype.close.call(self), WRONG_THIS, "close");
    }
  });

  t.test("draw(image): counts the pictures; only an open Image", () => {
    const cam = new Camera({ width: 64, height: 48, fps: 30 });
    const ov = make({ text: "%S {frame}", position: "bottom-right", size: 12 });
    try {
      const img = cam.read();
      ov.draw(img);
      ov.draw(img);
      eq(ov.frames, 2);
      eq(img.width, 64);
      throws(() => ov.draw({} as never), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Image" });
      throws(() => ov.draw(undefined as never), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Image" });
      img.close();
      throws(() => ov.draw(img), { name: "TypeError", code: "ERR_CLOSED", message: "Image is closed" });
      eq(ov.frames, 2);
      // Larger than the picture: clipped, not an error.
      const big = make({ text: "WWWWWWWWWW", size: 48, scale: 8, x: 60, y: 40 });
      const img2 = cam.read();
      big.draw(img2);
      eq(big.frames, 1);
      // Odd positions and every corner (chroma is shared by 2x2 blocks), a box wider than the picture.
      for (const o of [{ x: 63, y: 47 }, { x: 1, y: 1 }, { x: 16383, y: 16383 }, { position: "top-right" }, { position: "bottom-left", margin: 1023 }] as const) {
        const edge = make({ text: "{seq} %S", size: 16, scale: 3, padding: 1, ...o });
        edge.draw(img2);
        eq(edge.frames, 1);
        edge.close();
      }
      img2.close();
      big.close();
    } finally {
      ov.close();
      cam.close();
    }
    // A picture without a Y plane is refused, and not counted.
    const rgb = new Camera({ width: 64, height: 48, fps: 30, format: "rgb888" });
    const ov2 = make({ text: "x" });
    try {
      const img = rgb.read();
      throws(() => ov2.draw(img), TYPE("Overlay draw: the image must be nv21, nv12, yuv420p or gray, not rgb888"));
      eq(ov2.frames, 0);
      img.close();
    } finally {
      ov2.close();
      rgb.close();
    }
  });

  t.test("link(): overlay must be an open Overlay, and only on a video link", () => {
    const sink = new EsFileSink("/sdcard/ovl.alaw");
    const mic = new AudioIn();
    const g711 = new AudioEncoder({ codec: "alaw" });
    const ov = make({ text: "x" });
    try {
      throws(() => link(mic, g711, sink, { overlay: {} as never }), TYPE("link: overlay must be an Overlay (qcam:overlay)"));
      throws(() => link(mic, g711, sink, { overlay: null as never }), TYPE("link: overlay must be an Overlay (qcam:overlay)"));
      throws(() => link(mic, g711, sink, { overlay: ov }), TYPE("link: overlay is for video links"));
      const closed = make({ text: "y" });
      closed.close();
      throws(() => link(mic, g711, sink, { overlay: closed }), CLOSED);
      // Nothing was left linked: the parts still close and an overlay-free link starts.
      link(mic, g711, sink, { frames: 1, overlay: undefined }).close();
    } finally {
      ov.close();
      g711.close();
      mic.close();
      sink.close();
    }
    fs.remove("/sdcard/ovl.alaw");
  });

  t.test("a linked overlay draws every picture that reaches the encoder; closing it while linked is allowed", () => {
    const cam = new Camera({ width: 64, height: 48, fps: 30 });
    const enc = new Encoder({ codec: "h264", width: 64, height: 48, gop: 4 });
    const sink = new EsFileSink("/sdcard/ovl/six.h264");
    const ov = make({ text: "%H:%M:%S {frame} {fps}", position: "top-right", size: 12 });
    const pipe = link(cam, enc, sink, { frames: 6, encodeQueue: 64, overlay: ov });
    try {
      ov.close(); // the link holds its own reference and keeps drawing
      throws(() => ov.frames, CLOSED);
      waitFor(() => pipe.stats().finished);
      const st = pipe.close()!;
      eq(st.framesIn, 6);
      eq(st.framesEncoded, 6, "an encode queue of 64 never fills");
      eq(sink.frames, 6);
      const again = make({ text: "{frame}" });
      const p2 = link(cam, enc, sink, { frames: 3, encodeQueue: 64, overlay: again });
      waitFor(() => p2.stats().finished);
      const st2 = p2.close()!;
      eq(again.frames, st2.framesIn - st2.drops.queue, "one drawing per picture that reached the encode thread");
      eq(again.frames, 3);
      again.close();
    } finally {
      pipe.close();
      sink.close();
      enc.close();
      cam.close();
      fs.removeTree("/sdcard/ovl");
    }
  }, { needs: ["encoder"] });
});
