// The overlay benchmark's app (bench/overlay.ts). Modes:
//   draw W H N SIZE     one W x H NV21 camera picture, the camera closed, then N
//                       overlay.draw() calls on it (a time stamp and frame number
//                       that change every call); N = 0 is the baseline
//   record W H N SIZE   camera → overlay → libx264 → .h264 on a link for N pictures
// Each prints one `result {json}` line.
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { EsFileSink, link } from "qcam:link";
import { Overlay } from "qcam:overlay";
import { Encoder } from "qcam:video";

const [mode, w, h, n, size] = app.args;
const W = Number(w), H = Number(h), N = Number(n);
const overlay = new Overlay({ text: "%Y-%m-%d %H:%M:%S #{frame}", position: "bottom-left", size: Number(size) });

if (mode === "draw") {
  const cam = new Camera({ width: W, height: H, format: "nv21", fps: 30 });
  const img = cam.read();
  cam.close(); // no camera thread while drawing: the process' CPU is the draws'
  const t0 = time.ticksUs();
  for (let i = 0; i < N; i++) overlay.draw(img);
  console.log(`result ${JSON.stringify({ frames: overlay.frames, wallUs: time.ticksUs() - t0 })}`);
  img.close();
} else {
  const cam = new Camera({ width: W, height: H, format: "nv21", fps: 30 });
  const enc = new Encoder({ codec: "h264", width: W, height: H, fps: 30, bitrate: W >= 1920 ? 6_000_000 : 3_000_000, gop: 30 });
  const out = new EsFileSink(`${app.videoPath()}/overlay-${H}p.h264`);
  const pipe = link(cam, enc, out, { frames: N, overlay });
  while (!app.needExit() && !pipe.stats().finished) time.sleepMs(20);
  const s = pipe.close()!;
  console.log(`result ${JSON.stringify({ frames: overlay.frames, framesIn: s.framesIn, encodeCpuUs: s.cpuUs.encode })}`);
  for (const x of [out, enc, cam]) x.close();
}
overlay.close();
