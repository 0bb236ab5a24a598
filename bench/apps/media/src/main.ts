// The media benchmarks' app: bench/media.ts runs it (nothing here is a test).
//   pull   <y4m> <frames> <out.h264> <replay.h264>
//          the documented pull loop; per frame: app.needExit(), cam.read(),
//          enc.encode(img), img.close(), sink.write(frame), frame.close()
//   pull-timed <y4m> <frames> <out.h264> <replay.h264>
//          the same, each frame's time measured (see below)
//   linked <y4m> <frames> <out.h264> <replay.h264>
//          the same camera, replay encoder and sink under link(): no JS per frame
//   x264   <y4m> <frames> <out.h264> <bitrate> <gop>
//          the same kind of link, with libx264 encoding the clip
// The camera plays the Y4M once (loop: false) at the file's size and rate, in
// yuv420p (the file's own layout). <frames> is the clip's length: a linked run
// sleeps through it in one call instead of polling. Every mode runs to the end
// of the file and prints one line: `result {json}`. pull and linked also print
// `bench:start` before the first frame and `bench:end frames=N` after the last
// one (linked: shortly before the end, see below), each followed by a 100 ms
// pause in which the harness reads the process's CPU time (bench/media.ts).
// pull-timed's C twin is bench/apps/pull-native.c.
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { EsFileSink, link, type LinkStats } from "qcam:link";
import { Encoder, type EncoderOptions } from "qcam:video";

const [mode = "", source = "", clipFrames = "0", out = "", a = "", b = ""] = app.args;
const codeOf = (e: unknown): string => String((e as { code?: string }).code ?? e);

const cam = new Camera({ source, loop: false, format: "yuv420p" });
const { width, height, fps } = cam;
const options: EncoderOptions =
  mode === "x264"
    ? { codec: "h264", width, height, fps, format: "yuv420p", profile: "high", rateControl: "cbr", bitrate: Number(a), gop: Number(b) }
    : { codec: "h264", width, height, fps, replay: a };
const enc = new Encoder(options);
const sink = new EsFileSink(out);
const result: Record<string, unknown> = { mode, width, height, fps, replay: enc.replay };

// The harness reads this process's CPU time while it waits after each marker.
const marker = (line: string) => {
  console.log(line);
  time.sleepMs(100);
};

if (mode === "pull") {
  // The documented loop, as an app writes it: read() sleeps until a frame is due.
  let n = 0;
  marker("bench:start");
  while (!app.needExit()) {
    let img;
    try {
      img = cam.read();
    } catch (e) {
      if (codeOf(e) === "ERR_END_OF_STREAM") break;
      throw e;
    }
    const frame = enc.encode(img);
    img.close();
    sink.write(frame);
    frame.close();
    n++;
  }
  marker(`bench:end frames=${n}`);
  result.frames = n;
} else if (mode === "pull-timed") {
  // The same work per frame, timed on the monotonic clock: needExit(), read(),
  // encode(), img.close(), write(), frame.close() (and the timestampUs read
  // that says when the next frame is due). Between frames the loop spins
  // until the next frame is due plus 50 µs, so read() finds it waiting, the
  // timed part holds no waiting, and the caches stay as warm as they would
  // be at a high frame rate (sleeping 8 ms between frames lets the machine's
  // other work evict them, and the frame time then depends on that work).
  const period = 1e6 / fps;
  const busyUs: number[] = [];
  let due = 0; // µs on the monotonic clock; 0 before the first frame
  for (;;) {
    if (due) while (time.monotonicMs() * 1000 < due + 50) {}
    const t0 = time.monotonicMs();
    if (app.needExit()) break;
    let img;
    try {
      img = cam.read();
    } catch (e) {
      if (codeOf(e) === "ERR_END_OF_STREAM") break;
      throw e;
    }
    due = img.timestampUs + period;
    const frame = enc.encode(img);
    img.close();
    sink.write(frame);
    frame.close();
    busyUs.push((time.monotonicMs() - t0) * 1000);
  }
  result.frames = busyUs.length;
  result.busyUs = busyUs.map((v) => Math.round(v * 1000) / 1000);
} else if (mode === "linked" || mode === "x264") {
  let error = "";
  if (mode === "linked") marker("bench:start");
  const pipe = link(cam, enc, sink, { onError: (e) => (error = `${e.code} ${e.message}`) });
  // Nothing runs per frame: sleep through the clip in one call. The linked
  // benchmark's end marker comes 0.4 s before the clip ends, while the link's
  // threads still run (the CPU time of threads that have ended is no longer
  // listed per thread); then look every 10 ms until the file has ended and
  // every picture taken is written.
  const clipMs = (Number(clipFrames) * 1000) / fps;
  if (mode === "linked") {
    time.sleepMs(Math.max(0, clipMs - 400));
    marker(`bench:end frames=${pipe.stats().framesOut}`);
  } else time.sleepMs(Math.max(0, clipMs - 50));
  const drained = (s: LinkStats) =>
    s.finished &&
    s.framesEncoded + s.drops.queue + s.drops.encoder === s.framesIn &&
    s.framesOut + s.drops.sinks[0] === s.framesEncoded;
  while (!error && !app.needExit() && !drained(pipe.stats())) time.sleepMs(10);
  const stats: LinkStats | undefined = pipe.close();
  if (error) throw new Error(`the link failed: ${error}`);
  result.frames = stats?.framesOut;
  result.stats = stats;
} else throw new Error(`unknown mode '${mode}' (pull, pull-timed, linked, x264)`);

result.camera = cam.stats();
result.sinkFrames = sink.frames;
result.sinkBytes = sink.bytes;
sink.close();
enc.close();
cam.close();
console.log(`result ${JSON.stringify(result)}`);
