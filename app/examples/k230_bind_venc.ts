// K230 CanMV "bind camera to encoder, save 200 frames" (venc bind example):
// the codec follows the output file's extension (.264/.h264 or .265/.h265).
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { mkdir } from "qcam:fs";
import { EsFileSink, link } from "qcam:link";
import { Encoder } from "qcam:video";

const path = app.args[0] ?? "/sdcard/test.265";
const frames = Number(app.args[1] ?? 200);
const codec = /\.(264|h264)$/.test(path) ? "h264" : /\.(265|h265)$/.test(path) ? "h265" : null;
if (!codec) throw new Error(`unknown stream extension: ${path} (use .264 or .265)`);

const cam = new Camera({ width: 1280, height: 720, format: "nv21", fps: 30 });
const enc = new Encoder({ codec, width: 1280, height: 720, bitrate: 4_000_000, gop: 30 });
mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true }); // an EsFileSink makes no folders
const out = new EsFileSink(path);
const pipe = link(cam, enc, [out], { frames });
while (!app.needExit() && !pipe.stats().finished) time.sleepMs(20);
const stats = pipe.close()!;
console.log(`${codec}: ${stats.framesOut} frames to ${path}, dropped ${stats.drops.queue + stats.drops.source}`);
out.close();
enc.close();
cam.close();
