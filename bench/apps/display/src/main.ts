// The display benchmark's app (bench/display.ts). Modes:
//   preview SECONDS          a 640x480 camera shown (fill) for SECONDS: the display
//                            thread's CPU per composed frame
//   menu N                   N full redraws of an 8-item menu (clear, rounded rects,
//                            text, outline, flush): p50/p99 of each redraw
//   record SECONDS [preview] 1080p camera → H.265 → file on a link for SECONDS, with
//                            or without a 640x480 channel of the same camera shown
// Each prints one `result {json}` line.
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { Display } from "qcam:display";
import { EsFileSink, link } from "qcam:link";
import { Encoder } from "qcam:video";

const [mode, arg, extra] = app.args;
const wait = (ms: number) => {
  const t0 = time.ticksMs();
  while (!app.needExit() && time.ticksMs() - t0 < ms) time.sleepMs(20);
};

if (mode === "preview") {
  const disp = new Display();
  const cam = new Camera({ width: 640, height: 480, fps: 30 });
  disp.show(cam, { fit: "fill" });
  wait(Number(arg) * 1000);
  disp.hide();
  const s = disp.stats();
  console.log(`result ${JSON.stringify({ board: disp.board, width: disp.width, height: disp.height, frames: s.videoFrames, cpuUs: s.videoCpuUs })}`);
  disp.close();
  cam.close();
} else if (mode === "menu") {
  const ITEMS = ["Record video", "Take photo", "Playback", "Live stream", "Timelapse", "Resolution", "Wi-Fi", "About"];
  const disp = new Display();
  const row = Math.floor((disp.height - 16) / ITEMS.length), w = Math.min(260, disp.width - 16);
  const took: number[] = [];
  for (let n = 0; n < Number(arg); n++) {
    const t0 = time.ticksUs();
    const sel = n % ITEMS.length;
    disp.clear(0);
    disp.fillRect(8, 8, w, row * ITEMS.length, 0xa0101820, 10);
    ITEMS.forEach((label, i) => {
      const y = 8 + i * row;
      if (i === sel) disp.fillRect(12, y + 2, w - 8, row - 4, 0xff2f6fd0, 8);
      const m = disp.measureText(label, 20);
      disp.text(label, 24, y + Math.floor((row - m.height) / 2), i === sel ? 0xffffffff : 0xffd0d8e0, 20);
    });
    disp.strokeRect(8, 8, w, row * ITEMS.length, 0xff80a0c0, { radius: 10, thickness: 2 });
    disp.flush();
    took.push(time.ticksUs() - t0);
  }
  took.sort((a, b) => a - b);
  const q = (p: number) => took[Math.min(took.length - 1, Math.floor(p * took.length))];
  console.log(`result ${JSON.stringify({ board: disp.board, n: took.length, p50Us: q(0.5), p99Us: q(0.99) })}`);
  disp.close();
} else if (mode === "record") {
  const cam = new Camera({ width: 1920, height: 1080, fps: 30 });
  const enc = new Encoder({ codec: "h265", width: 1920, height: 1080, bitrate: 8_000_000 });
  const out = new EsFileSink(`${app.videoPath()}/bench-display.h265`);
  const pipe = link(cam, enc, [out]);
  const disp = extra === "preview" ? new Display() : null;
  const chn = disp ? cam.addChannel({ width: 640, height: 480, fps: 30 }) : null;
  if (disp && chn) disp.show(chn, { fit: "fill" });
  wait(Number(arg) * 1000);
  disp?.hide();
  const st = pipe.close()!;
  const ds = disp?.stats();
  console.log(`result ${JSON.stringify({ encoded: st.framesEncoded, shown: ds?.videoFrames ?? 0, displayCpuUs: ds?.videoCpuUs ?? 0 })}`);
  disp?.close();
  chn?.close();
  out.close();
  enc.close();
  cam.close();
}
