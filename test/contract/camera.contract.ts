// qcam:camera's contract. On the runtime side the sim camera runs on real
// time, so the cases assert what pacing makes exact — seq and timestamp
// arithmetic, counts that add up, lower bounds on what a sleep lets fall due —
// and never an upper bound on elapsed time. Only one Camera can be open: every
// case closes the ones it opens.
import { Camera, Channel } from "qcam:camera";
import type { Image, PixelFormat } from "qcam:image";
import { time } from "qcam:app";
import { contract, deepEq, descriptor, eq, ok, throws } from "./kit.ts";

type AnyFn = (...args: unknown[]) => unknown;
const dispose = (Symbol as unknown as { dispose: symbol }).dispose;
const GETTERS = ["width", "height", "format", "fps", "buffers"];
const METHODS: Record<string, number> = { read: 0, skipFrames: 1, stats: 0, close: 0 };
const FORMATS: PixelFormat[] = ["nv21", "nv12", "yuv420p", "rgb888", "gray"];
const BYTES_PER_PIXEL: Record<string, number> = { nv21: 1.5, nv12: 1.5, yuv420p: 1.5, rgb888: 3, gray: 1 };

/** FNV-1a of an Image's pixels (or its first `n` bytes). */
function fnv(img: Image, n?: number): string {
  const b = new Uint8Array(img.toArrayBuffer(), 0, n);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** The sim's synthetic pattern at 64x48, capture 0, per format (FNV-1a of the pixels). */
const PATTERN_SEQ0: Record<string, string> = {
  gray: "5b2053d1",
  nv21: "07c68038",
  nv12: "4c58aa06",
  yuv420p: "e1c227f2",
  rgb888: "8e72a6e8",
};

const TYPE = (message: string | RegExp) => ({ name: "TypeError", code: "ERR_INVALID_ARG", message });
const RANGE = (message: string | RegExp) => ({ name: "RangeError", code: "ERR_INVALID_ARG", message });

/** Capture k of a sensor at `fps` whose capture 0 was at t0. */
const due = (t0: number, k: number, fps: number) => t0 + Math.ceil((k * 1e6) / fps);

export default contract("qcam:camera", (t) => {
  t.test("exports Camera and Channel: names, lengths, prototypes", () => {
    for (const [C, name, extra] of [[Camera, "Camera", ["addChannel"]], [Channel, "Channel", []]] as const) {
      eq(C.name, name);
      eq(C.length, 1, `${name}.length`);
      const proto = C.prototype as unknown as Record<string | symbol, unknown>;
      eq(proto.constructor, C, `${name}.prototype.constructor`);
      const names = Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor").sort();
      deepEq(names, [...GETTERS, ...Object.keys(METHODS), ...extra].sort(), `${name}.prototype`);
      for (const g of GETTERS) eq(descriptor(proto, g), "get configurable", `${name}.${g}`);
      for (const [m, length] of Object.entries({ ...METHODS, ...(extra.length ? { addChannel: 1 } : {}) })) {
        eq(descriptor(proto, m), "method writable configurable", `${name}.${m}`);
        eq((proto[m] as AnyFn).length, length, `${name}.${m}.length`);
      }
      eq(proto[dispose], proto.close, `${name}: [Symbol.dispose] is close`);
      eq(Object.prototype.toString.call(proto), `[object ${name}]`);
    }
  });

  t.test("Camera() needs new; Channels come from addChannel()", () => {
    throws(() => (Camera as unknown as AnyFn)(), { name: "TypeError", code: "ERR_CONSTRUCT_CALL_REQUIRED", message: "Camera must be called with new" });
    const ILLEGAL = { name: "TypeError", code: "ERR_ILLEGAL_CONSTRUCTOR", message: "Channels come from camera.addChannel()" };
    throws(() => new (Channel as unknown as new () => unknown)(), ILLEGAL);
    throws(() => (Channel as unknown as AnyFn)(), ILLEGAL, "Channel() without new");
  });

  t.test("defaults: 640x480 nv21 at 30 fps, 4 buffers; options resolved", () => {
    const cam = new Camera();
    try {
      deepEq([cam.width, cam.height, cam.format, cam.fps, cam.buffers], [640, 480, "nv21", 30, 4]);
      ok(cam instanceof Camera, "instanceof Camera");
      eq(String(cam), "[object Camera]");
      deepEq(Object.keys(cam), [], "no own properties");
    } finally {
      cam.close();
    }
    const c2 = new Camera({ width: 96, height: 32, format: "gray", fps: 7, buffers: 16, source: undefined, loop: undefined });
    try {
      deepEq([c2.width, c2.height, c2.format, c2.fps, c2.buffers], [96, 32, "gray", 7, 16]);
    } finally {
      c2.close();
    }
  });

  t.test("bad options: TypeError/RangeError ERR_INVALID_ARG naming what is allowed", () => {
    const cases: [unknown, ReturnType<typeof TYPE>][] = [
      [{ format: "rgb565" }, TYPE('Camera format must be one of "nv21", "nv12", "yuv420p", "rgb888", "gray"')],
      [{ format: 5 }, TYPE('Camera format must be one of "nv21", "nv12", "yuv420p", "rgb888", "gray"')],
      [{ width: 321 }, RANGE("Camera width must be an even integer from 32 to 3840, not 321")],
      [{ width: 10000 }, RANGE("Camera width must be an even integer from 32 to 3840, not 10000")],
      [{ width: 30 }, RANGE("Camera width must be an even integer from 32 to 3840, not 30")],
      [{ width: "640" }, TYPE('Camera width must be an even integer from 32 to 3840, not "640"')],
      [{ height: 2162 }, RANGE("Camera height must be an even integer from 32 to 2160, not 2162")],
      [{ height: NaN }, RANGE("Camera height must be an even integer from 32 to 2160, not nan")],
      [{ fps: 500 }, RANGE("Camera fps must be an integer from 1 to 120, not 500")],
      [{ fps: 29.97 }, RANGE("Camera fps must be an integer from 1 to 120, not 29.97")],
      [{ fps: 1e6 }, RANGE("Camera fps must be an integer from 1 to 120, not 1e+06")],
      [{ buffers: 1 }, RANGE("Camera buffers must be an integer from 2 to 16, not 1")],
      [{ buffers: true }, TYPE("Camera buffers must be an integer from 2 to 16, not true")],
      [{ frameRate: 30 }, TYPE('unknown Camera option "frameRate" (known: width, height, format, fps, buffers, source, loop)')],
      [{ width2: undefined }, TYPE('unknown Camera option "width2" (known: width, height, format, fps, buffers, source, loop)')],
      [{ fps: 500, frameRate: 30 }, TYPE('unknown Camera option "frameRate" (known: width, height, format, fps, buffers, source, loop)')],
      [{ width: 1, fps: 500 }, RANGE("Camera width must be an even integer from 32 to 3840, not 1")],
      [42, TYPE("Camera options must be an object")],
      [null, TYPE("Camera options must be an object")],
      [[640, 480], TYPE("Camera options must be an object")],
      [() => 1, TYPE("Camera options must be an object")],
      [{ source: 7 }, TYPE("Camera source must be the path of a .y4m file (at most 255 bytes)")],
      [{ source: "" }, TYPE("Camera source must be the path of a .y4m file (at most 255 bytes)")],
      [{ source: "/sdcard/" + "x".repeat(300) }, TYPE("Camera source must be the path of a .y4m file (at most 255 bytes)")],
      [{ source: "/sdcard/x.y4m", loop: "yes" }, TYPE("Camera loop must be a boolean")],
    ];
    for (const [opts, e] of cases) throws(() => new Camera(opts as never), e, JSON.stringify(opts) ?? String(opts));
    const cam = new Camera({ width: 64, height: 48, fps: 30 }); // none of those left a camera open
    cam.close();
  });

  t.test("one Camera at a time: a second one throws EBUSY until the first is closed", () => {
    const cam = new Camera({ width: 64, height: 48 });
    const e = throws(() => new Camera(), { name: "Error", code: "EBUSY", message: "the camera is already open (close() the other Camera first): Device or resource busy" });
    eq((e as { errno?: number }).errno, 16);
    throws(() => new Camera({ fps: 500 }), RANGE("Camera fps must be an integer from 1 to 120, not 500"), "options are checked first");
    cam.close();
    const again = new Camera({ width: 64, height: 48 });
    eq(again.width, 64);
    again.close();
  });

  t.test("the first frame is capture 0; frames are seq/fps apart on the monotonic clock; stats add up", () => {
    const before = time.monotonicMs() * 1000;
    const cam = new Camera({ width: 64, height: 48, fps: 10 });
    try {
      const frames = [cam.read(), cam.read(), cam.read()];
      const [a, b, c] = frames;
      const last = c.seq;
      const t0 = a.timestampUs;
      eq(a.seq, 0, "a new camera's first frame is capture 0");
      ok(a.timestampUs >= before - 1000, `capture 0 at the camera's start: ${a.timestampUs} vs ${before}`);
      ok(c.timestampUs <= time.monotonicMs() * 1000 + 1, "captured before now, on the monotonic clock");
      ok(b.seq > a.seq && c.seq > b.seq, `seq ${a.seq}, ${b.seq}, ${c.seq}`);
      for (const f of frames) {
        eq(f.timestampUs, due(t0, f.seq, 10), `capture ${f.seq}: t0 + ceil(seq * 1e6 / fps)`);
        deepEq([f.width, f.height, f.format, f.size], [64, 48, "nv21", 64 * 48 * 1.5]);
        f.close();
      }
      const st = cam.stats();
      deepEq(Object.keys(st), ["captured", "dropped", "delivered"]);
      eq(st.delivered, 3);
      eq(st.delivered + st.dropped, last + 1, "every capture up to the last was delivered or dropped");
      ok(st.captured >= st.delivered + st.dropped && st.captured <= st.delivered + st.dropped + 1, `captured ${st.captured}`);
    } finally {
      cam.close();
    }
  });

  t.test("a slow reader: captures that fell due meanwhile are dropped and counted, seq jumps", () => {
    const cam = new Camera({ width: 64, height: 48, fps: 50 });
    try {
      const seqs: number[] = [];
      const take = () => {
        const img = cam.read();
        seqs.push(img.seq);
        img.close();
      };
      take();
      time.sleepMs(200);
      take();
      take();
      ok(seqs[1] - seqs[0] >= 10, `200 ms at 50 fps: at least 10 captures fell due (seq ${seqs})`);
      eq(seqs[2], seqs[1] + 1, "then the next capture");
      const st = cam.stats();
      eq(st.delivered, 3);
      eq(st.delivered + st.dropped, seqs[2] + 1);
      ok(st.dropped >= 9);
    } finally {
      cam.close();
    }
  });

  t.test("skipFrames(n) waits for n frames and discards them (counted as delivered)", () => {
    const cam = new Camera({ width: 64, height: 48, fps: 60 });
    try {
      cam.skipFrames(5);
      cam.skipFrames(0);
      const img = cam.read();
      ok(img.seq >= 5, `seq ${img.seq}`);
      const st = cam.stats();
      eq(st.delivered, 6);
      eq(st.delivered + st.dropped, img.seq + 1);
      img.close();
      throws(() => cam.skipFrames(-1), RANGE("skipFrames(n): n must be an integer from 0 to 100000, not -1"));
      throws(() => cam.skipFrames(2.5), RANGE("skipFrames(n): n must be an integer from 0 to 100000, not 2.5"));
      throws(() => cam.skipFrames(100001), RANGE("skipFrames(n): n must be an integer from 0 to 100000, not 100001"));
      throws(() => cam.skipFrames("3" as unknown as number), TYPE("skipFrames(n): n must be a number"));
      throws(() => (cam.skipFrames as AnyFn).call(cam), TYPE("skipFrames(n): n must be a number"));
    } finally {
      cam.close();
    }
  });

  t.test("every format: the size its layout needs, and the sim's pattern for the capture", () => {
    const cam = new Camera({ width: 64, height: 48, format: "gray", fps: 5 });
    const outputs: { read(): Image }[] = [cam];
    for (const format of ["nv21", "nv12", "yuv420p"] as const) outputs.push(cam.addChannel({ format }));
    const imgs = outputs.map((o) => o.read());
    const rgbs: Image[] = [];
    try {
      eq(imgs[0].seq, 0, "capture 0");
      for (const img of imgs) eq(img.seq, imgs[0].seq, "every output has the same capture");
      cam.close();
      const rgbCam = new Camera({ width: 64, height: 48, format: "rgb888", fps: 5 });
      rgbs.push(rgbCam.read());
      rgbCam.close();
      const byFormat: Record<string, string> = {};
      for (const img of [...imgs, ...rgbs]) {
        eq(img.size, 64 * 48 * BYTES_PER_PIXEL[img.format], `${img.format} size`);
        eq(img.toArrayBuffer().byteLength, img.size, `${img.format} bytes`);
        byFormat[img.format] = fnv(img);
      }
      const gray = fnv(imgs[0]);
      for (const img of imgs.slice(1)) eq(fnv(img, 64 * 48), gray, `the ${img.format} luma is the gray frame`);
      ok(byFormat.nv21 !== byFormat.nv12, "nv21 and nv12 differ in chroma order");
      eq(rgbs[0].seq, 0);
      const px = new Uint8Array(imgs[0].toArrayBuffer());
      // The background is a luma ramp: ((x * 160 / w + seq % 80 * 2) % 160) + 16 + y * 60 / h.
      eq(px[30 * 64 + 10], ((Math.floor((10 * 160) / 64) + 0) % 160) + 16 + Math.floor((30 * 60) / 48), "a background pixel");
      eq(px[3 * 64 + 3], 16, "the text box is black");
      for (const f of FORMATS) eq(byFormat[f], PATTERN_SEQ0[f], `${f}: the pattern's bytes for capture 0`);
    } finally {
      for (const img of [...imgs, ...rgbs]) img.close();
      cam.close();
    }
  });

  t.test("channels: the same captures (seq, timestamp) at their own size, format and rate", () => {
    const cam = new Camera({ width: 64, height: 48, format: "nv21", fps: 30 });
    try {
      const small = cam.addChannel({ width: 32, height: 32, format: "gray" });
      const slow = cam.addChannel({ format: "rgb888", fps: 10, buffers: 2 });
      deepEq([small.width, small.height, small.format, small.fps, small.buffers], [32, 32, "gray", 30, 4], "a channel takes the camera's fps");
      deepEq([slow.width, slow.height, slow.format, slow.fps, slow.buffers], [64, 48, "rgb888", 10, 2], "and its size");
      ok(small instanceof Channel, "instanceof Channel");
      eq(Object.prototype.toString.call(small), "[object Channel]");
      let t0 = -1;
      for (let i = 0; i < 4; i++) {
        const a = cam.read();
        const b = small.read();
        if (t0 < 0) t0 = a.timestampUs - Math.ceil((a.seq * 1e6) / 30);
        eq(a.timestampUs, due(t0, a.seq, 30), "a capture's timestamp is the sensor's");
        eq(b.timestampUs, due(t0, b.seq, 30), "the same capture has the same timestamp on every output");
        ok(b.seq >= a.seq, "the channel's newest is not older");
        deepEq([a.size, b.size], [64 * 48 * 1.5, 32 * 32]);
        a.close();
        b.close();
      }
      const seen: number[] = [];
      for (let i = 0; i < 2; i++) {
        const c = slow.read();
        eq(c.seq % 3, 0, "10 fps of a 30 fps sensor: every third capture");
        eq(c.timestampUs, due(t0, c.seq, 30));
        eq(c.size, 64 * 48 * 3);
        seen.push(c.seq);
        c.close();
      }
      ok(seen[1] > seen[0]);
      const st = slow.stats();
      eq(st.delivered, 2);
      const fourth = cam.addChannel();
      deepEq([fourth.width, fourth.height, fourth.format, fourth.fps, fourth.buffers], [64, 48, "nv21", 30, 4], "the camera's settings");
      throws(() => cam.addChannel({ width: 32, height: 32 }), { name: "Error", code: "ERR_TOO_MANY_CHANNELS", message: "a camera has at most 4 channels (the main one and 3 more)" });
      fourth.close();
      throws(() => cam.addChannel(), { code: "ERR_TOO_MANY_CHANNELS" }, "a closed channel keeps its place");
      cam.close();
      throws(() => small.read(), { name: "TypeError", code: "ERR_CLOSED", message: "Channel is closed (its Camera was closed)" });
      throws(() => small.width, { name: "TypeError", code: "ERR_CLOSED", message: "Channel is closed (its Camera was closed)" });
      small.close();
      small.close();
      throws(() => small.stats(), { name: "TypeError", code: "ERR_CLOSED", message: "Channel is closed" });
      throws(() => fourth.read(), { name: "TypeError", code: "ERR_CLOSED", message: "Channel is closed" });
    } finally {
      cam.close();
    }
  });

  t.test("addChannel options: checked like the camera's, fps at most the camera's", () => {
    const cam = new Camera({ width: 64, height: 48, fps: 30 });
    try {
      throws(() => cam.addChannel({ format: "yuv422" as PixelFormat }), TYPE('channel format must be one of "nv21", "nv12", "yuv420p", "rgb888", "gray"'));
      throws(() => cam.addChannel({ fps: 60 }), RANGE("channel fps must be an integer from 1 to 30 (the camera's fps), not 60"));
      throws(() => cam.addChannel({ fps: "9" as unknown as number }), TYPE('channel fps must be an integer from 1 to 30 (the camera\'s fps), not "9"'));
      throws(() => cam.addChannel({ width: 33 }), RANGE("channel width must be an even integer from 32 to 3840, not 33"));
      throws(() => cam.addChannel({ source: "/sdcard/x.y4m" } as never), TYPE('unknown addChannel option "source" (known: width, height, format, fps, buffers)'));
      throws(() => cam.addChannel(5 as never), TYPE("addChannel options must be an object"));
      const ch = cam.addChannel(undefined);
      eq(ch.fps, 30);
    } finally {
      cam.close();
    }
  });

  t.test("every buffer held by the app: read() throws ERR_NO_BUFFER; closing one fixes it", () => {
    const cam = new Camera({ width: 64, height: 48, fps: 60, buffers: 2 });
    try {
      const held = [cam.read(), cam.read()];
      throws(() => cam.read(), {
        name: "Error",
        code: "ERR_NO_BUFFER",
        message: "no free buffer: all 2 Images of this camera are still open; close() the Images you are done with (or declare them with `using`), or ask for more buffers",
      });
      held[0].close();
      const next = cam.read();
      ok(next.seq > held[1].seq, "a later capture");
      const st = cam.stats();
      eq(st.delivered, 3);
      ok(st.dropped > 0, "frames that fell due while the pool was dry are counted");
      next.close();
      held[1].close();
    } finally {
      cam.close();
    }
  });

  t.test("close(): idempotent; afterwards members throw ERR_CLOSED; Images read before stay valid", () => {
    const cam = new Camera({ width: 64, height: 48 });
    const img = cam.read();
    cam.close();
    cam.close();
    const CLOSED = { name: "TypeError", code: "ERR_CLOSED", message: "Camera is closed" };
    throws(() => cam.read(), CLOSED, "read");
    throws(() => cam.skipFrames(1), CLOSED, "skipFrames");
    throws(() => cam.stats(), CLOSED, "stats");
    throws(() => cam.width, CLOSED, "width");
    throws(() => cam.fps, CLOSED, "fps");
    throws(() => cam.addChannel(), CLOSED, "addChannel");
    deepEq([img.width, img.size, img.toArrayBuffer().byteLength], [64, 64 * 48 * 1.5, 64 * 48 * 1.5], "the Image holds its own buffer");
    img.close();
    const d = new Camera({ width: 64, height: 48 });
    (d as unknown as Record<symbol, AnyFn>)[dispose]();
    throws(() => d.read(), CLOSED, "[Symbol.dispose] closes");
  });

  t.test("members on something that is not a Camera (Channel) throw ERR_WRONG_THIS", () => {
    const cam = new Camera({ width: 64, height: 48 });
    const img = cam.read();
    try {
      const WRONG = { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Camera" };
      throws(() => Camera.prototype.read.call({} as Camera), WRONG, "read on {}");
      throws(() => Camera.prototype.read.call(img as unknown as Camera), WRONG, "read on an Image");
      throws(() => Camera.prototype.close.call(img as unknown as Camera), WRONG, "close on an Image");
      throws(() => Object.getOwnPropertyDescriptor(Camera.prototype, "width")!.get!.call({}), WRONG, "a getter");
      throws(() => Camera.prototype.addChannel.call(null as unknown as Camera), WRONG, "addChannel on null");
      const ch = cam.addChannel();
      throws(() => Camera.prototype.stats.call(ch as unknown as Camera), WRONG, "a Channel is not a Camera");
      throws(() => Channel.prototype.read.call(cam as unknown as Channel), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Channel" });
      throws(() => Channel.prototype.close.call(cam as unknown as Channel), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Channel" });
    } finally {
      img.close();
      cam.close();
    }
  });
});
