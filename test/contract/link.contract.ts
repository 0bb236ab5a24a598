// qcam:link's contract, on a 1 MiB SD card (the runtime's --sdcard-size 1).
// A link runs on its own (native threads on the runtime, virtual time in the
// stub): the cases wait for `finished` with `frames: n` — with an encode queue
// that cannot fill, so every captured picture is encoded — and then hold both
// sides to counts that add up exactly, the bytes on the card, ERR_BUSY while
// linked, and errors delivered to onError at a needExit() turn. They never
// assert how long anything took.
import { app, time } from "qcam:app";
import { AudioEncoder, AudioIn } from "qcam:audio";
import { Camera } from "qcam:camera";
import * as fs from "qcam:fs";
import * as linkModule from "qcam:link";
import { EsFileSink, link, type LinkStats, type Pipe } from "qcam:link";
import { Encoder, EsReader, splitAccessUnits } from "qcam:video";
import { contract, deepEq, descriptor, eq, ok, throws } from "./kit.ts";

type AnyFn = (...args: unknown[]) => unknown;
const dispose = (Symbol as unknown as { dispose: symbol }).dispose;
const TYPE = (message: string) => ({ name: "TypeError", code: "ERR_INVALID_ARG", message });
const RANGE = (message: string) => ({ name: "RangeError", code: "ERR_INVALID_ARG", message });
const BUSY = (message: string) => ({ name: "Error", code: "ERR_BUSY", message });

/** Turn the loop (needExit) and sleep until `done()` or `ms` of time passed. */
function waitFor(done: () => boolean, ms = 10_000): void {
  const t0 = time.ticksMs();
  while (!done() && time.ticksMs() - t0 < ms) {
    app.needExit();
    time.sleepMs(5);
  }
}

function addsUp(s: LinkStats): void {
  eq(s.framesIn, s.framesEncoded + s.drops.queue + s.drops.encoder, "framesIn = framesEncoded + drops.queue + drops.encoder");
  s.sinkFrames.forEach((w, i) => eq(s.framesEncoded, w + s.drops.sinks[i], `sink ${i}: framesEncoded = sinkFrames + drops.sinks`));
  eq(s.framesOut, Math.min(...s.sinkFrames), "framesOut: the fewest any sink wrote");
}

const STATS_KEYS = ["fps", "framesIn", "framesEncoded", "framesOut", "drops", "queues", "sinkFrames", "encodeUs", "latencyUs", "cpuUs", "pixelCopies", "finished"];

/** cpuUs: whole microseconds, one figure per sink; with `before`, none went down. */
function cpuFigures(s: LinkStats, sinks: number, before?: LinkStats): void {
  deepEq(Object.keys(s.cpuUs), ["capture", "encode", "sinks"]);
  eq(s.cpuUs.sinks.length, sinks, "cpuUs.sinks: one per sink");
  const all = [s.cpuUs.capture, s.cpuUs.encode, ...s.cpuUs.sinks];
  ok(all.every((x) => Number.isInteger(x) && x >= 0), `cpuUs: non-negative integers (${JSON.stringify(s.cpuUs)})`);
  if (before) {
    const was = [before.cpuUs.capture, before.cpuUs.encode, ...before.cpuUs.sinks];
    ok(all.every((x, i) => x >= was[i]), `cpuUs only grows (${JSON.stringify(before.cpuUs)} then ${JSON.stringify(s.cpuUs)})`);
  }
}

export default contract(
  "qcam:link",
  (t) => {
    t.test("exports: link() and EsFileSink, their shapes", () => {
      deepEq(Object.keys(linkModule).sort(), ["EsFileSink", "link"]);
      eq(link.name, "link");
      eq(link.length, 3);
      eq(EsFileSink.name, "EsFileSink");
      eq(EsFileSink.length, 1);
      const proto = EsFileSink.prototype as unknown as Record<string | symbol, unknown>;
      eq(proto.constructor, EsFileSink);
      deepEq(Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor").sort(), ["bytes", "close", "frames", "kind", "path", "write"]);
      for (const g of ["bytes", "frames", "path"]) eq(descriptor(proto, g), "get configurable", g);
      eq(descriptor(proto, "write"), "method writable configurable");
      eq((proto.write as AnyFn).length, 1);
      eq((proto.close as AnyFn).length, 0);
      eq(descriptor(proto, "kind"), "value configurable");
      eq(proto.kind, "es");
      eq(proto[dispose], proto.close);
      eq(Object.prototype.toString.call(proto), "[object Object]", "no toStringTag");
    });

    t.test("EsFileSink: a board path, created empty; write() wants a Frame; close; errors", () => {
      throws(() => new (EsFileSink as unknown as new () => unknown)(), TYPE("new EsFileSink(path: string)"));
      throws(() => new EsFileSink(5 as unknown as string), TYPE("new EsFileSink(path: string)"));
      const out = throws(() => new EsFileSink("/etc/passwd"), { name: "Error", code: "EINVAL", message: "cannot open /etc/passwd: Invalid argument" });
      eq((out as { errno?: number }).errno, 22);
      fs.writeFile("/sdcard/old.h264", "old contents");
      const sink = new EsFileSink("/sdcard/old.h264");
      try {
        deepEq([sink.kind, sink.path, sink.frames, sink.bytes], ["es", "/sdcard/old.h264", 0, 0]);
        eq(fs.stat("/sdcard/old.h264").size, 0, "an existing file is emptied");
        deepEq(Object.keys(sink), []);
        throws(() => sink.write({} as never), TYPE("write(frame: Frame)"));
        throws(() => (sink.write as AnyFn).call(sink), TYPE("write(frame: Frame)"));
        throws(() => sink.write(sink as never), TYPE("write(frame: Frame)"));
      } finally {
        sink.close();
      }
      sink.close();
      const CLOSED = { name: "TypeError", code: "ERR_CLOSED", message: "EsFileSink is closed" };
      throws(() => sink.frames, CLOSED);
      throws(() => sink.write({} as never), CLOSED);
      eq(sink.kind, "es", "kind is on the prototype");
      throws(() => EsFileSink.prototype.close.call({} as EsFileSink), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a EsFileSink" });
      const d = new EsFileSink("/sdcard/d.h264");
      (d as unknown as Record<symbol, AnyFn>)[dispose]();
      throws(() => d.bytes, CLOSED, "[Symbol.dispose] closes");
      fs.remove("/sdcard/old.h264");
      fs.remove("/sdcard/d.h264");
    });

    t.test("EsFileSink makes the missing folders of its path, as every writer (a fresh card has no /sdcard/video); a file in the way is ENOTDIR", () => {
      eq(fs.exists("/sdcard/video"), false, "a fresh card");
      const sink = new EsFileSink("/sdcard/video/day/x.h264");
      sink.close();
      ok(fs.stat("/sdcard/video/day").isDirectory, "the folders were made");
      eq(fs.stat("/sdcard/video/day/x.h264").size, 0);
      const tmp = new EsFileSink("/tmp/a/b/x.alaw");
      tmp.close();
      ok(fs.exists("/tmp/a/b/x.alaw"), "in /tmp too");
      fs.writeFile("/sdcard/video/file", "x");
      throws(() => new EsFileSink("/sdcard/video/file/x.h264"), { name: "Error", code: "ENOTDIR", message: "cannot open /sdcard/video/file/x.h264: Not a directory" });
      fs.removeTree("/sdcard/video");
      fs.removeTree("/tmp/a");
    });

    t.test("link(): an unknown option key is refused, naming it, before the link starts", () => {
      const sink = new EsFileSink("/sdcard/keys.alaw");
      const mic = new AudioIn();
      const g711 = new AudioEncoder({ codec: "alaw" });
      const KNOWN = "encodeQueue, sinkQueue, frames, capture, overlay, onError";
      try {
        throws(() => link(mic, g711, sink, { frame: 10 } as never), TYPE(`unknown link option "frame" (known: ${KNOWN})`));
        throws(() => link(mic, g711, sink, { encodeQueue: 0, onerror: () => {} } as never), TYPE(`unknown link option "onerror" (known: ${KNOWN})`), "before the other checks");
        const pipe = link(mic, g711, sink, { frames: 2, capture: undefined, onError: undefined });
        pipe.close();
      } finally {
        g711.close();
        mic.close();
        sink.close();
      }
      fs.remove("/sdcard/keys.alaw");
    });

    t.test("link(): what the source and the encoder must be", () => {
      const sink = new EsFileSink("/sdcard/args.h264");
      const cam = new Camera({ width: 64, height: 48 });
      try {
        throws(() => (link as AnyFn)(cam, cam), TYPE("link(source, encoder, sinks, options?)"));
        throws(() => link({} as never, {} as never, sink), TYPE("link: the source must be a Camera, a Channel, an AudioIn or an RtspSource"));
        throws(() => link(sink as never, {} as never, sink), TYPE("link: the source must be a Camera, a Channel, an AudioIn or an RtspSource"));
        throws(() => link(cam, cam as never, sink), TYPE("link: the encoder must be an Encoder or an AudioEncoder"));
        const img = cam.read();
        img.close();
      } finally {
        cam.close();
        sink.close();
        fs.remove("/sdcard/args.h264");
      }
    });

    t.test("link(): sinks and options are checked; a failed link leaves its parts free", () => {
      const sink = new EsFileSink("/sdcard/args.h264");
      const cam = new Camera({ width: 64, height: 48, fps: 30 });
      const enc = new Encoder({ codec: "h264", width: 64, height: 48 });
      try {
        throws(() => link(cam, enc, []), RANGE("link: 1..8 sinks"));
        throws(() => link(cam, enc, Array(9).fill(sink)), RANGE("link: 1..8 sinks"));
        throws(() => link(cam, enc, [cam as never]), TYPE("link: sink 0 is not a sink"));
        throws(() => link(cam, enc, [sink, 5 as never]), TYPE("link: sink 1 is not a sink"));
        throws(() => link(cam, enc, sink, { encodeQueue: 0 }), RANGE("encodeQueue must be an integer 1..64"));
        throws(() => link(cam, enc, sink, { encodeQueue: 2.5 }), RANGE("encodeQueue must be an integer 1..64"));
        throws(() => link(cam, enc, sink, { sinkQueue: 5000 }), RANGE("sinkQueue must be an integer 1..4096"));
        throws(() => link(cam, enc, sink, { frames: 0 }), RANGE("frames must be an integer >= 1"));
        throws(() => link(cam, enc, sink, { frames: 1.5 }), RANGE("frames must be an integer >= 1"));
        throws(() => link(cam, enc, sink, { onError: 5 as never }), TYPE("onError must be a function"));
        throws(() => link(cam, enc, sink, { encodeQueue: 0, onError: 5 as never }), RANGE("encodeQueue must be an integer 1..64"), "the first bad option is reported");
        const closed = new EsFileSink("/sdcard/closed.h264");
        closed.close();
        throws(() => link(cam, enc, [sink, closed]), { name: "TypeError", code: "ERR_CLOSED", message: "EsFileSink is closed" });
        const enc2 = new Encoder({ codec: "h264", width: 64, height: 48 });
        enc2.close();
        throws(() => link(cam, enc2, sink), { name: "TypeError", code: "ERR_CLOSED", message: "Encoder is closed" });
        const img = cam.read(); // nothing above linked the camera
        const f = enc.encode(img); // nor the encoder
        sink.write(f); // nor the sink
        eq(sink.frames, 1);
        f.close();
        img.close();
      } finally {
        enc.close();
        cam.close();
        sink.close();
      }
      throws(() => link(cam, enc, sink), { name: "TypeError", code: "ERR_CLOSED", message: "EsFileSink is closed" }, "the sinks are checked first");
      const open = new EsFileSink("/sdcard/args2.h264");
      throws(() => link(cam, enc, open), { name: "TypeError", code: "ERR_CLOSED", message: "Camera is closed" }, "then the source");
      open.close();
      fs.remove("/sdcard/args.h264");
      fs.remove("/sdcard/args2.h264");
      fs.remove("/sdcard/closed.h264");
    }, { needs: ["encoder"] });

    t.test("a link of `frames: 6`: counts add up, the card holds what the sink wrote; linked parts refuse with ERR_BUSY", () => {
      fs.mkdir("/sdcard/link", { recursive: true });
      const cam = new Camera({ width: 64, height: 48, fps: 30 });
      const enc = new Encoder({ codec: "h264", width: 64, height: 48, gop: 4 });
      const sink = new EsFileSink("/sdcard/link/six.h264");
      let pipe: Pipe | undefined;
      try {
        pipe = link(cam, enc, [sink], { frames: 6, encodeQueue: 64 });
        eq(Object.prototype.toString.call(pipe), "[object Pipe]");
        const proto = Object.getPrototypeOf(pipe) as Record<string | symbol, unknown>;
        deepEq(Object.getOwnPropertyNames(proto).sort(), ["capture", "close", "stats"]);
        eq(proto[dispose], proto.close);
        const st = pipe.stats();
        deepEq(Object.keys(st), STATS_KEYS);
        deepEq(Object.keys(st.drops), ["source", "queue", "encoder", "sinks"]);
        deepEq(Object.keys(st.queues), ["encode", "sinks"]);
        deepEq(Object.keys(st.encodeUs), ["p50", "p99"]);
        eq(st.sinkFrames.length, 1);
        cpuFigures(st, 1);
        throws(() => cam.read(), BUSY("this Camera feeds a link: its frames go there (close the link first)"));
        throws(() => cam.skipFrames(1), BUSY("this Camera feeds a link: its frames go there (close the link first)"));
        throws(() => cam.close(), BUSY("this Camera feeds a link (close the link first)"));
        throws(() => enc.encode(null as never), BUSY("this encoder is fed by a link; close the link first"));
        throws(() => enc.close(), BUSY("close the link this encoder feeds first"));
        throws(() => sink.write(null as never), BUSY("this sink is fed by a link; write() is for pull mode"));
        throws(() => sink.close(), BUSY("close the link feeding this sink first"));
        throws(() => link(cam, new Encoder({ codec: "h264", width: 64, height: 48 }), new EsFileSink("/sdcard/link/x.h264")), BUSY("this Camera feeds a link: its frames go there (close the link first)"));
        const ch = cam.addChannel();
        throws(() => link(ch, enc, new EsFileSink("/sdcard/link/y.h264")), BUSY("this encoder already feeds a link"));
        const e2 = new Encoder({ codec: "h264", width: 64, height: 48 });
        throws(() => link(ch, e2, [sink]), BUSY("link: a sink is already fed by another video link"));
        const s2 = new EsFileSink("/sdcard/link/z.h264");
        throws(() => link(ch, e2, [s2, s2]), BUSY("link: a sink is already fed by another video link"), "the same sink twice");
        s2.close(); // the failed link let go of it
        const img = ch.read(); // the failed links let go of the channel
        const f = e2.encode(img); // and of the encoder
        f.close();
        img.close();
        e2.close();
        ok(cam.stats().delivered >= 0, "stats() works while linked");
        waitFor(() => pipe!.stats().finished);
        const final = pipe.close()!;
        addsUp(final);
        eq(final.framesIn, 6, "frames: 6");
        eq(final.framesEncoded, 6, "an encode queue of 64 never fills");
        deepEq(final.sinkFrames, [6]);
        deepEq([final.drops.queue, final.drops.encoder, final.drops.sinks], [0, 0, [0]]);
        eq(final.finished, true);
        ok(final.encodeUs.p99 >= final.encodeUs.p50 && final.encodeUs.p50 > 0, "time inside the encoder");
        ok(final.latencyUs.p50 >= final.encodeUs.p50, "latency includes encoding");
        cpuFigures(final, 1, st);
        ok(final.cpuUs.encode > 0, "the encode thread's CPU time, kept after it ended");
        eq(sink.frames, 6);
        eq(sink.bytes, fs.stat("/sdcard/link/six.h264").size, "bytes: what is on the card");
        const units = splitAccessUnits(fs.readFile("/sdcard/link/six.h264"), "h264");
        eq(units.length, 6);
        const rd = new EsReader("/sdcard/link/six.h264");
        const types: string[] = [];
        for (let fr = rd.read(); fr; fr = rd.read()) types.push(fr.type + (fr.keyframe ? "*" : "")), fr.close();
        rd.close();
        deepEq(types, ["I*", "P", "P", "P", "I*", "P"], "the stream starts at a keyframe, gop 4");
        eq(pipe.close(), undefined, "close() again: undefined");
        throws(() => pipe!.stats(), { name: "TypeError", code: "ERR_CLOSED", message: "Pipe is closed" });
        throws(() => pipe!.capture(), { name: "TypeError", code: "ERR_CLOSED", message: "Pipe is closed" });
        throws(() => (proto.stats as AnyFn).call({}), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Pipe" });
        const after = cam.read(); // free again
        const fa = enc.encode(after);
        sink.write(fa);
        eq(sink.frames, 7, "pull mode once the link is closed");
        fa.close();
        after.close();
      } finally {
        pipe?.close();
        sink.close();
        enc.close();
        cam.close();
        fs.removeTree("/sdcard/link");
      }
    }, { needs: ["encoder"] });

    t.test("capture: true keeps the last encoded picture; without it capture() throws ERR_NO_CAPTURE", () => {
      const cam = new Camera({ width: 64, height: 48, fps: 60 });
      const enc = new Encoder({ codec: "h265", width: 64, height: 48 });
      const s1 = new EsFileSink("/sdcard/c1.h265");
      const s2 = new EsFileSink("/sdcard/c2.h265");
      let p: Pipe | undefined;
      let q: Pipe | undefined;
      try {
        p = link(cam, enc, [s1, s2], { frames: 3, capture: true, encodeQueue: 64 });
        // `finished` says capturing ended; the encoder may still be at work: wait for the sinks.
        waitFor(() => p!.stats().framesOut === 3);
        const img = p.capture()!;
        ok(img !== null, "a picture");
        deepEq([img.width, img.height, img.format], [64, 48, "nv21"]);
        ok(img.seq >= 2, `the last of 3 captures (seq ${img.seq})`);
        img.close();
        const before = p.stats();
        cpuFigures(before, 2);
        const final = p.close()!;
        addsUp(final);
        deepEq(final.sinkFrames, [3, 3], "both sinks got every frame");
        cpuFigures(final, 2, before);
        ok(final.cpuUs.encode > 0, "3 pictures encoded: the encode thread used CPU");
        deepEq([s1.bytes, s1.frames], [s2.bytes, s2.frames], "the same stream twice");
        q = link(cam, enc, s1, { frames: 1, encodeQueue: 64 });
        throws(() => q!.capture(), { name: "Error", code: "ERR_NO_CAPTURE", message: "start the link with { capture: true } to use capture()" });
        waitFor(() => q!.stats().finished);
      } finally {
        p?.close();
        q?.close();
        s1.close();
        s2.close();
        enc.close();
        cam.close();
        fs.remove("/sdcard/c1.h265");
        fs.remove("/sdcard/c2.h265");
      }
    }, { needs: ["encoder"] });

    t.test("drops.source counts what the source dropped while linked, not the frames nobody read before", () => {
      const cam = new Camera({ width: 64, height: 48, fps: 30 });
      const enc = new Encoder({ codec: "h264", width: 64, height: 48 });
      const sink = new EsFileSink("/sdcard/late.h264");
      let p: Pipe | undefined;
      try {
        time.sleepMs(1000); // a camera open for a second that nobody reads: some 30 frames lost
        const before = cam.stats().dropped;
        ok(before >= 20, `the camera's own count: ${before} dropped before the link`);
        p = link(cam, enc, sink, { frames: 3, encodeQueue: 64 });
        waitFor(() => p!.stats().framesOut === 3);
        const final = p.close()!;
        addsUp(final);
        ok(cam.stats().dropped >= before, "the camera's own count goes on");
        ok(final.drops.source < before, `the link's count leaves out the ${before} from before it (${final.drops.source})`);
      } finally {
        p?.close();
        sink.close();
        enc.close();
        cam.close();
        fs.remove("/sdcard/late.h264");
      }
    }, { needs: ["encoder"] });

    t.test("drops.source stops when the link stops reading: frames that fall due while it drains or waits to be closed are not its", () => {
      const cam = new Camera({ width: 64, height: 48, fps: 30 });
      const enc = new Encoder({ codec: "h264", width: 64, height: 48 });
      const sink = new EsFileSink("/sdcard/after.h264");
      let p: Pipe | undefined;
      try {
        p = link(cam, enc, sink, { frames: 3, encodeQueue: 64 });
        waitFor(() => p!.stats().finished);
        const at = p.stats().drops.source;
        time.sleepMs(500); // some 15 frames fall due that nobody reads
        ok(cam.stats().dropped >= 10, `the camera's own count goes on (${cam.stats().dropped})`);
        eq(p.stats().drops.source, at, "not the link's: it had stopped reading");
        const final = p.close()!;
        addsUp(final);
        eq(final.drops.source, at);
      } finally {
        p?.close();
        sink.close();
        enc.close();
        cam.close();
        fs.remove("/sdcard/after.h264");
      }
    }, { needs: ["encoder"] });

    t.test("a full card: the sink's ENOSPC reaches onError at a needExit() turn; counts still add up", () => {
      fs.mkdir("/sdcard/full");
      const room = 500;
      fs.writeFile("/sdcard/full/fill.bin", new Uint8Array(fs.space().free - room));
      eq(fs.space().free, room);
      const cam = new Camera({ width: 64, height: 48, fps: 30 });
      const enc = new Encoder({ codec: "h264", width: 64, height: 48 });
      const sink = new EsFileSink("/sdcard/full/rec.h264");
      const errors: (Error & { code?: string; errno?: number })[] = [];
      let p: Pipe | undefined;
      try {
        p = link(cam, enc, [sink], { frames: 4, encodeQueue: 64, onError: (e) => errors.push(e) });
        waitFor(() => p!.stats().finished && errors.length > 0);
        time.sleepMs(10);
        eq(errors.length, 1, "the first error only, once");
        const e = errors[0];
        ok(e instanceof Error, "an Error");
        deepEq([e.code, e.errno, e.message], ["ENOSPC", 28, "link: es failed: No space left on device"]);
        const final = p.close()!;
        addsUp(final);
        eq(final.framesEncoded, 4);
        eq(final.sinkFrames[0], 0, "the first keyframe did not fit");
        eq(final.drops.sinks[0], 4, "a failed sink drops the rest");
        eq(sink.frames, 0);
        eq(sink.bytes, room, "what fit is on the card");
        eq(fs.stat("/sdcard/full/rec.h264").size, room);
        eq(errors.length, 1);
      } finally {
        p?.close();
        sink.close();
        enc.close();
        cam.close();
        fs.removeTree("/sdcard/full");
      }
    }, { needs: ["encoder"] });
  },
  { sdcardSizeMb: 1 },
);
