// K230 CanMV `Mp4Container` (mp4_muxer_test): record 1280x720 H.265 video with
// G.711 µ-law audio from the camera and the microphone into an MP4, 200 video
// frames. On the K230 each Process() call moves one frame; here two links move
// video and audio on native threads, and the loop only watches the count.
import { app, time } from "qcam:app";
import { AudioEncoder, AudioIn } from "qcam:audio";
import { Camera } from "qcam:camera";
import { link } from "qcam:link";
import { Mp4Writer } from "qcam:mp4";
import { Encoder } from "qcam:video";

const fileName = app.args[0] ?? "/sdcard/examples/test.mp4";
const frames = Number(app.args[1] ?? 200);
const width = 1280;
const height = 720;

const cam = new Camera({ width, height, format: "nv21", fps: 30 });
const venc = new Encoder({ codec: "h265", width, height, bitrate: 4_000_000, gop: 30 });
const mic = new AudioIn({ sampleRate: 8000, channels: 1 });
const aenc = new AudioEncoder({ codec: "ulaw" });
const muxer = new Mp4Writer(fileName, { video: venc, audio: { codec: "ulaw", sampleRate: 8000 } });

const video = link(cam, venc, muxer, { frames });
const audio = link(mic, aenc, muxer);
while (!app.needExit() && !video.stats().finished) time.sleepMs(20);
const v = video.close()!;
audio.close();
const audioFrames = muxer.stats().audioFrames;
const info = muxer.close()!;
console.log(`mp4_muxer_test: ${v.framesOut} video frames, ${audioFrames} audio frames, ${info.duration.toFixed(2)} s to ${info.path}`);
aenc.close();
mic.close();
venc.close();
cam.close();
