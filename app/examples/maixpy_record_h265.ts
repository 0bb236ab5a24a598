// MaixPy "record 2 s of H.265" (examples/video/video_record_h265.py) in qcam:
// camera 640x480 NV21 → encoder.encode(img) → raw .h265, in pull mode.
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { EsFileSink } from "qcam:link";
import { Encoder } from "qcam:video";

const path = app.args[0] ?? `${app.videoPath()}/output.h265`;
const cam = new Camera({ width: 640, height: 480, format: "nv21", fps: 30 });
const enc = new Encoder({ codec: "h265", width: 640, height: 480, bitrate: 3_000_000 });
const out = new EsFileSink(path);
const t0 = time.ticksMs();
while (!app.needExit() && time.ticksMs() - t0 < 2000) {
  using img = cam.read();
  using frame = enc.encode(img);
  out.write(frame);
}
console.log(`wrote ${out.frames} frames (${out.bytes} bytes) to ${path}`);
out.close();
enc.close();
cam.close();
