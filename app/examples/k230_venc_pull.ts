// K230 CanMV "send frames to the encoder yourself" (venc without bind):
// read 800x480 frames, hand each to the encoder, write what comes out.
import { app } from "qcam:app";
import { Camera } from "qcam:camera";
import { EsFileSink } from "qcam:link";
import { Encoder } from "qcam:video";

const path = app.args[0] ?? "/sdcard/pull.264";
const frames = Number(app.args[1] ?? 100);
const cam = new Camera({ width: 800, height: 480, format: "nv21", fps: 30 });
const enc = new Encoder({ codec: path.endsWith("5") ? "h265" : "h264", width: 800, height: 480, bitrate: 2_000_000, gop: 30 });
const out = new EsFileSink(path);
let keyframes = 0;
for (let i = 0; i < frames && !app.needExit(); i++) {
  using img = cam.read();
  using frame = enc.encode(img);
  if (frame.keyframe) keyframes++;
  out.write(frame);
}
console.log(`sent ${out.frames} frames, ${keyframes} keyframes, ${out.bytes} bytes to ${path}`);
out.close();
enc.close();
cam.close();
