// The MP4 benchmarks' app: bench/mp4.ts runs it (nothing here is a test).
//   remux  <in.h264> <out.mp4> [fps]
//          what a user writes to turn an elementary stream into an MP4:
//          remux() (one scan, one copy)
//   writer <in.h264> <out.mp4> <width> <height> [fragmentMs] [finalize: true|false]
//          the same through the crash-safe recording path: EsReader →
//          Mp4Writer in pull mode (fragments, then finalized on close)
//   record <y4m> <frames> <out> <es|mp4> <bitrate> <gop>
//          camera (the Y4M clip, played once at its rate) → libx264 → one sink
//          under link(): an EsFileSink (raw .h264) or an Mp4Writer; the
//          result has the final LinkStats, their per-thread CPU time
//          (cpuUs: capture, encode, the sink's thread), and the wall time
//          this thread spent in the sink's constructor (openUs) and in its
//          close() (closeUs: for the Mp4Writer, finalizing). Around that
//          close() it prints `mark before-close` and `mark after-close`,
//          each followed by a 300 ms pause, in which bench/mp4.ts reads
//          this thread's CPU clock from outside
// Each mode prints one line: `result {json}`.
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { EsFileSink, link, type LinkStats } from "qcam:link";
import { Mp4Writer, remux } from "qcam:mp4";
import { Encoder, EsReader } from "qcam:video";

const [mode = "", ...args] = app.args;
const result: Record<string, unknown> = { mode };

if (mode === "remux") {
  const [input, out, fps = "30"] = args;
  const info = remux(input, out, { fps: Number(fps) });
  result.frames = info.frames;
  result.info = info;
} else if (mode === "writer") {
  const [input, out, width, height, fragmentMs = "1000", finalize = "true"] = args;
  const es = new EsReader(input, { fps: 30 });
  const mp4 = new Mp4Writer(out, { video: { codec: es.codec, width: Number(width), height: Number(height) }, fragmentMs: Number(fragmentMs), finalize: finalize === "true" });
  let frames = 0;
  for (let f = es.read(); f; f = es.read()) {
    mp4.write(f);
    f.close();
    frames++;
  }
  result.frames = frames;
  result.info = mp4.close();
  result.stats = undefined;
  es.close();
} else if (mode === "record") {
  const [source, clipFrames, out, sinkKind, bitrate, gop] = args;
  const cam = new Camera({ source, loop: false, format: "yuv420p" });
  const { width, height, fps } = cam;
  const enc = new Encoder({ codec: "h264", width, height, fps, format: "yuv420p", profile: "high", rateControl: "cbr", bitrate: Number(bitrate), gop: Number(gop) });
  const t0 = time.ticksUs();
  const sink = sinkKind === "mp4" ? new Mp4Writer(out, { video: enc }) : new EsFileSink(out);
  result.openUs = time.ticksUs() - t0;
  let error = "";
  const pipe = link(cam, enc, sink, { onError: (e) => (error = `${e.code} ${e.message}`) });
  time.sleepMs(Math.max(0, (Number(clipFrames) * 1000) / fps - 50));
  const drained = (s: LinkStats) =>
    s.finished && s.framesEncoded + s.drops.queue + s.drops.encoder === s.framesIn && s.framesOut + s.drops.sinks[0] === s.framesEncoded;
  while (!error && !app.needExit() && !drained(pipe.stats())) time.sleepMs(10);
  const stats = pipe.close();
  if (error) throw new Error(`the link failed: ${error}`);
  result.frames = stats?.framesOut;
  result.stats = stats;
  result.cpuUs = stats?.cpuUs;
  console.log("mark before-close");
  time.sleepMs(300);
  const t1 = time.ticksUs();
  result.sink = sink instanceof Mp4Writer ? sink.close() : (sink.close(), undefined);
  result.closeUs = time.ticksUs() - t1;
  console.log("mark after-close");
  time.sleepMs(300);
  enc.close();
  cam.close();
} else throw new Error(`unknown mode '${mode}' (remux, writer, record)`);

console.log(`result ${JSON.stringify(result)}`);
