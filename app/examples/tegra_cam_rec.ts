// The Tegra camera recorder (OpenCV + GStreamer on a Jetson TX2) in qcam:
// record from an IP camera (--rtsp --uri) or the board's camera, burn a text
// overlay into the video, and write MPEG-TS ("it does not need any metadata at
// the end of the file, and thus is more resilient"). Its options and defaults:
//
//   --rtsp --uri URI [--latency MS]   read from an IP camera (RTSP)
//   --usb --vid N                     a USB camera (/dev/videoN): refused, qcam has no USB camera source
//   --width 640 --height 480          the board camera's size (an IP camera's own size is kept)
//   --fps 30                          frames per second
//   --ts output.ts                    the MPEG-TS file (a bare name goes to the video folder)
//   --rec 5                           seconds to record (by the frames' timestamps)
//   --text "TX2 DEMO"                 the text burned in
//
// The board camera runs bound (camera → overlay → encoder → TS on native
// threads); an IP camera's frames are decoded, stamped, encoded again and
// written in pull mode (the text is burned in, so there is no way around the
// re-encode). Prints "recorded N frames of WxH from SOURCE to PATH".
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { link } from "qcam:link";
import { Overlay } from "qcam:overlay";
import { RtspSource } from "qcam:rtsp";
import { TsWriter } from "qcam:ts";
import { Decoder, Encoder } from "qcam:video";

interface Options {
  rtsp: boolean;
  uri: string;
  latency: number;
  usb: boolean;
  vid: number;
  width: number;
  height: number;
  ts: string;
  fps: number;
  rec: number;
  text: string;
}

const USAGE = "usage: tegra_cam_rec [--rtsp --uri URI [--latency MS]] [--usb --vid N] [--width W] [--height H] [--ts FILE] [--fps N] [--rec SEC] [--text TEXT]";

/** The recorder's command line; a bad one ends the app with exit code 2 and says why. */
function parse(args: readonly string[]): Options | string {
  const o: Options = { rtsp: false, uri: "", latency: 2000, usb: false, vid: 1, width: 640, height: 480, ts: "output.ts", fps: 30, rec: 5, text: "TX2 DEMO" };
  const given = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.replace(/^--/, "");
    if (a === "--rtsp" || a === "--usb") {
      o[name as "rtsp" | "usb"] = true;
      continue;
    }
    if (!a.startsWith("--") || !(name in o)) return `unknown option ${a}\n${USAGE}`;
    const v = args[++i];
    if (v === undefined) return `${a} needs a value\n${USAGE}`;
    given.add(name);
    if (name === "uri" || name === "ts" || name === "text") {
      o[name] = v;
      continue;
    }
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) return `${a} must be a whole number, not ${v}`;
    (o as unknown as Record<string, number>)[name] = n;
  }
  if (o.usb) return `--usb --vid ${o.vid}: qcam has no USB camera source on ${app.platform}; use the board camera (no option) or an IP camera (--rtsp --uri URI)`;
  if (o.rtsp && !o.uri) return "--rtsp needs --uri rtsp://...";
  if (!o.rtsp && given.has("uri")) return "--uri is for --rtsp";
  if (o.fps < 1 || o.rec < 1 || o.width < 16 || o.height < 16) return "--fps and --rec must be at least 1, --width and --height at least 16";
  if (!o.ts.includes("/")) o.ts = `${app.videoPath()}/${o.ts}`;
  return o;
}

const opts = parse(app.args);
if (typeof opts === "string") {
  app.setExitMessage(2, opts);
} else {
  const stamp = new Overlay({ text: opts.text, position: "top-left", size: 32 });
  if (opts.rtsp) fromIpCamera(opts, stamp);
  else fromBoardCamera(opts, stamp);
  stamp.close();
}

function fromBoardCamera(o: Options, stamp: Overlay): void {
  const cam = new Camera({ width: o.width, height: o.height, format: "nv21", fps: o.fps });
  const enc = new Encoder({ codec: "h264", width: o.width, height: o.height, fps: o.fps, gop: o.fps, bitrate: 4_000_000 });
  const ts = new TsWriter(o.ts, { video: enc });
  const pipe = link(cam, enc, ts, { overlay: stamp, frames: o.rec * o.fps });
  while (!app.needExit() && !pipe.stats().finished) time.sleepMs(50);
  const st = pipe.close()!;
  const info = ts.close()!;
  console.log(`recorded ${info.frames} frames of ${o.width}x${o.height} from the board camera to ${o.ts} (${st.framesIn} captured)`);
  enc.close();
  cam.close();
}

function fromIpCamera(o: Options, stamp: Overlay): void {
  const src = new RtspSource(o.uri, { timeoutMs: Math.max(o.latency, 1000) });
  if ((o.width !== 640 || o.height !== 480) && (o.width !== src.width || o.height !== src.height))
    console.log(`note: the IP camera's ${src.width}x${src.height} is kept (qcam does not scale)`);
  const dec = new Decoder({ codec: src.codec });
  const enc = new Encoder({ codec: "h264", width: src.width, height: src.height, fps: o.fps, gop: o.fps, bitrate: 4_000_000, format: "yuv420p" });
  const ts = new TsWriter(o.ts, { video: enc });
  let first = -1;
  let done = false;
  while (!done && !app.needExit()) {
    const f = src.read(o.latency); // null while the camera reconnects: the recording waits
    if (!f) continue;
    for (const img of dec.decode(f)) {
      if (first < 0) first = img.timestampUs;
      if (img.timestampUs - first >= o.rec * 1e6) done = true;
      if (!done) {
        stamp.draw(img);
        const out = enc.encode(img);
        ts.write(out);
        out.close();
      }
      img.close();
    }
    f.close();
  }
  const info = ts.close()!;
  console.log(`recorded ${info.frames} frames of ${src.width}x${src.height} from ${src.url} to ${o.ts}`);
  enc.close();
  dec.close();
  src.close();
}
