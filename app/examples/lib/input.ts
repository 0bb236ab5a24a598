// The input of the examples that read a file (k230_vdec, k230_mp4_demuxer).
// On a card that does not have it yet they record a short clip into it first,
// as k230_bind_venc.ts (a .264/.265 stream) and k230_mp4_muxer.ts (an MP4)
// would; when that cannot be done either, the app ends with one line saying
// which example makes the file.
import { app, time } from "qcam:app";
import { AudioEncoder, AudioIn } from "qcam:audio";
import { Camera } from "qcam:camera";
import { exists, mkdir } from "qcam:fs";
import { EsFileSink, link } from "qcam:link";
import { Mp4Writer } from "qcam:mp4";
import { Encoder } from "qcam:video";

const FRAMES = 60;

function record(path: string, maker: string, makeIt: () => void): boolean {
  if (exists(path)) return true;
  console.log(`${path} is not on the card: recording ${FRAMES} frames into it first (as ${maker} does)`);
  try {
    makeIt();
    return true;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    app.setExitMessage(1, `no ${path} (${msg}): make one with \`npx qcam run app/examples/${maker} -- ${path}\``);
    return false;
  }
}

/** Wait for a link started with `{ frames }` to have moved them all (or for Ctrl-C). */
function waitFinished(pipe: { stats(): { finished: boolean } }): void {
  while (!app.needExit() && !pipe.stats().finished) time.sleepMs(20);
}

/** An H.264/H.265 elementary stream at `path` (codec from the extension), 1280x720. */
export function ensureStream(path: string): boolean {
  const codec = /\.(264|h264)$/.test(path) ? "h264" : /\.(265|h265)$/.test(path) ? "h265" : null;
  if (!codec && !exists(path)) {
    app.setExitMessage(1, `no ${path}, and its name does not say which stream to record into it (.264 or .265)`);
    return false;
  }
  return record(path, "k230_bind_venc.ts", () => {
    if (!codec) return;
    using cam = new Camera({ width: 1280, height: 720, format: "nv21", fps: 30 });
    using enc = new Encoder({ codec, width: 1280, height: 720, bitrate: 4_000_000, gop: 30 });
    mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true }); // an EsFileSink makes no folders
    const out = new EsFileSink(path);
    const pipe = link(cam, enc, [out], { frames: FRAMES });
    waitFinished(pipe);
    pipe.close();
    out.close();
  });
}

/** An MP4 at `path`: 1280x720 H.265 with G.711 µ-law audio. */
export function ensureMp4(path: string): boolean {
  return record(path, "k230_mp4_muxer.ts", () => {
    using cam = new Camera({ width: 1280, height: 720, format: "nv21", fps: 30 });
    using venc = new Encoder({ codec: "h265", width: 1280, height: 720, bitrate: 4_000_000, gop: 30 });
    using mic = new AudioIn({ sampleRate: 8000, channels: 1 });
    using aenc = new AudioEncoder({ codec: "ulaw" });
    const muxer = new Mp4Writer(path, { video: venc, audio: { codec: "ulaw", sampleRate: 8000 } });
    const video = link(cam, venc, muxer, { frames: FRAMES });
    const audio = link(mic, aenc, muxer);
    waitFinished(video);
    video.close();
    audio.close();
    muxer.close();
  });
}
