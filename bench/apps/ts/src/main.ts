// The MPEG-TS and IP-camera benchmarks' app: bench/ts.ts runs it (nothing
// here is a test).
//   remux <in.h264> <out.ts> [fps]
//         what a user writes to turn an elementary stream into MPEG-TS:
//         qcam:ts's remux() (one pass, one sync)
//   writer <in.h264> <out.ts> <width> <height> [fps]
//         the same through the recording path: EsReader → TsWriter in pull
//         mode (written and fsync'ed once per second of video)
//   ipcam <rtsp url> <out.mp4> <frames>
//         an IP camera recorded without re-encoding: RtspSource linked to an
//         Mp4Writer (no encoder, no JavaScript per frame) until <frames>
//         are written, then finalized
// Each mode prints one line: `result {json}`.
import { app, time } from "qcam:app";
import { link } from "qcam:link";
import { Mp4Writer } from "qcam:mp4";
import { RtspSource } from "qcam:rtsp";
import { TsWriter, remux } from "qcam:ts";
import { EsReader } from "qcam:video";

const [mode = "", ...args] = app.args;
const result: Record<string, unknown> = { mode };

if (mode === "remux") {
  const [input, out, fps = "30"] = args;
  const info = remux(input, out, { fps: Number(fps) });
  result.frames = info.frames;
  result.info = info;
} else if (mode === "writer") {
  const [input, out, width, height, fps = "30"] = args;
  const es = new EsReader(input, { fps: Number(fps) });
  const ts = new TsWriter(out, { video: { codec: es.codec, width: Number(width), height: Number(height) } });
  let frames = 0;
  for (let f = es.read(); f; f = es.read()) {
    ts.write(f);
    f.close();
    frames++;
  }
  result.frames = frames;
  result.info = ts.close();
  es.close();
} else if (mode === "ipcam") {
  const [url, out, frames] = args;
  const src = new RtspSource(url, { transport: "tcp" });
  const mp4 = new Mp4Writer(out, { video: src.video });
  const pipe = link(src, [mp4]);
  while (!app.needExit() && pipe.stats().framesOut < Number(frames)) time.sleepMs(100); // a look at the stats now and then, as an app shows them
  const stats = pipe.close();
  result.frames = stats?.framesOut;
  result.cpuUs = stats?.cpuUs;
  result.source = src.stats();
  result.info = mp4.close();
  src.close();
} else throw new Error(`unknown mode '${mode}' (remux, writer, ipcam)`);
console.log(`result ${JSON.stringify(result)}`);
