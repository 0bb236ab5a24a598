// MaixPy bound mode (video.Encoder(capture=True) + encoder.bind_camera(cam)):
// the camera feeds the encoder on native threads, and the app can still look
// at the picture that was just encoded.
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { EsFileSink, link } from "qcam:link";
import { Encoder } from "qcam:video";

const path = app.args[0] ?? `${app.videoPath()}/bound.h265`;
const cam = new Camera({ width: 640, height: 480, format: "nv21", fps: 30 });
const enc = new Encoder({ codec: "h265", width: 640, height: 480, bitrate: 3_000_000 });
const out = new EsFileSink(path);
const pipe = link(cam, enc, [out], { capture: true });
const t0 = time.ticksMs();
let captured = 0;
while (!app.needExit() && time.ticksMs() - t0 < 2000) {
  const img = pipe.capture(); // the image behind the latest encoded frame
  if (img) {
    captured++;
    img.close();
  }
  time.sleepMs(100);
}
const stats = pipe.close()!;
console.log(`encoded ${stats.framesEncoded} frames, wrote ${stats.framesOut}, looked at ${captured} captures`);
out.close();
enc.close();
cam.close();
