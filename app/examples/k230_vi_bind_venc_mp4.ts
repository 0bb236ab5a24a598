// K230 CanMV vi_bind_venc_mp4_test (kd_mp4_* with a bound encoder): the camera
// is bound to the encoder, the app takes each encoded frame and writes it to a
// fragmented MP4 itself, starting at the first IDR with its parameter sets,
// 200 frames. qcam's writer does the IDR wait and the timestamps (from
// capture) on its own; `finalize: false` keeps the file fragmented as
// fmp4_flag=True does.
import { app } from "qcam:app";
import { Camera } from "qcam:camera";
import { Mp4Writer } from "qcam:mp4";
import { Encoder } from "qcam:video";

const fileName = app.args[0] ?? "/sdcard/examples/test.mp4";
const codec = app.args[1] === "h265" ? "h265" : "h264";
const width = 1280;
const height = 720;
const frames = 200;

const sensor = new Camera({ width, height, format: "nv21", fps: 30 });
const encoder = new Encoder({ codec, width, height, bitrate: 4_000_000, profile: "main" });
const mp4 = new Mp4Writer(fileName, { video: { codec, width, height }, finalize: false });
console.log(`save stream to file: ${fileName}`);

let frameCount = 0;
let keyframes = 0;
while (!app.needExit() && frameCount < frames) {
  const img = sensor.read(); // the camera paces the loop
  using frame = encoder.encode(img);
  img.close();
  if (frame.keyframe) keyframes++;
  mp4.write(frame);
  frameCount++;
}
mp4.flush();
const fragments = mp4.stats().fragments;
mp4.close();
console.log(`venc_test stop: ${frameCount} frames (${keyframes} IDR), ${fragments} fragments`);
encoder.close();
sensor.close();
