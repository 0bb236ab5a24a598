// The media benchmarks' app (bench/media.ts runs it; nothing here is a test).
//   pull   <y4m> <out.h264> <replay.h264>
//          the documented pull loop, per frame: needExit(), cam.read(),
//          enc.encode(img), img.close(), sink.write(frame), frame.close()
//   linked <y4m> <out.h264> <replay.h264>
//          the same camera, replay encoder and sink under link(): no JS per frame
//   x264   <y4m> <out.h264> <bitrate> <gop>
//          the same file through libx264 under link()
// The camera plays the Y4M once (loop: false) at the file's size and rate, in
// yuv420p (its own layout, read in place). Every mode runs to the end of the
// file and prints one line: `result {json}`.
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { EsFileSink, link, type LinkStats } from "qcam:link";
import { Encoder, type EncoderOptions } from "qcam:video";

const [mode = "", source = "", out = "", a = "", b = ""] = app.args;
const codeOf = (e: unknown): string => String((e as { code?: string }).code ?? e);
const END = new Set(["ERR_END_OF_STREAM", "ENODATA"]);

const cam = new Camera({ source, loop: false, format: "yuv420p" });
const { width, height, fps } = cam;
const opts: EncoderOptions =
  mode === "x264"
    ? { codec: "h264", width, height, fps, format: "yuv420p", profile: "high", rateControl: "cbr", bitrate: Number(a), gop: Number(b) }
    : { codec: "h264", width, height, fps, replay: a };
const enc = new Encoder(opts);
const sink = new EsFileSink(out);
const result: Record<string, unknown> = { mode, width, height, fps, replay: enc.replay };

if (mode === "pull") {
  let frames = 0;
  while (!app.needExit()) {
    let img;
    try {
      img = cam.read();
    } catch (e) {
      if (END.has(codeOf(e))) break;
      throw e;
    }
    const frame = enc.encode(img);
    img.close();
    sink.write(frame);
    frame.close();
    frames++;
  }
  result.frames = frames;
} else if (mode === "linked" || mode === "x264") {
  let ended = "";
  const pipe = link(cam, enc, sink, { onError: (e) => (ended = e.code) });
  // One check every 20 ms: the error event arrives through needExit().
  while (!ended && !app.needExit()) time.sleepMs(20);
  const stats: LinkStats | undefined = pipe.close();
  if (!END.has(ended)) throw new Error(`the link stopped with ${ended || "no error"}`);
  result.frames = stats?.framesOut;
  result.stats = stats;
} else throw new Error(`unknown mode '${mode}' (pull, linked, x264)`);

result.camera = cam.stats();
result.sinkFrames = sink.frames;
result.sinkBytes = sink.bytes;
sink.close();
enc.close();
cam.close();
console.log(`result ${JSON.stringify(result)}`);
