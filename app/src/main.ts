// qcam recorder: camera → encoder → raw H.265/H.264 files on the SD card, on
// native threads (qcam:link). `--record N` records N seconds into one file;
// without it, it records segments of `--segment` seconds until stopped.
// MP4 output, audio and RTSP come with their modules.
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { EsFileSink, link, type Pipe } from "qcam:link";
import { Encoder } from "qcam:video";
import { describePlan, OptionError, parseOptions, segmentName, type RecorderOptions } from "./options.ts";
import { makeRoom, segmentBudget } from "./storage.ts";

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const BITRATE = 3_000_000;

function record(opts: RecorderOptions): void {
  const dir = app.videoPath();
  console.log(`${app.name} ${app.version} on ${app.platform}`);
  for (const line of describePlan(opts, dir)) console.log(`  ${line}`);
  const cam = new Camera({ width: WIDTH, height: HEIGHT, format: "nv21", fps: FPS });
  const enc = new Encoder({ codec: opts.codec, width: WIDTH, height: HEIGHT, fps: FPS, bitrate: BITRATE, gop: FPS });
  let failure: string | null = null;
  const start = time.ticksMs();
  let index = 0;
  let sink: EsFileSink | null = null;
  let pipe: Pipe | null = null;
  let segmentStart = start;

  // Loop recording: each new segment first makes room by deleting the oldest.
  const roomForSegment = (): boolean => {
    if (opts.recordSeconds !== null) return true;
    const room = makeRoom(dir, segmentBudget(BITRATE, opts.segmentSeconds));
    for (const p of room.deleted) console.log(`  deleted ${p} to make room`);
    if (!room.ok) failure = `ENOSPC: the SD card has no room for a ${opts.segmentSeconds} s segment`;
    return room.ok;
  };
  const open = (): boolean => {
    if (!roomForSegment()) return false;
    sink = new EsFileSink(`${dir}/${segmentName(new Date(time.timeMs()), index++, opts.codec)}`);
    enc.requestIdr(); // every file starts with a keyframe
    pipe = link(cam, enc, [sink], {
      onError: (e) => {
        failure = `${e.code}: ${e.message}`;
        app.setExitFlag(true);
      },
    });
    segmentStart = time.ticksMs();
    return true;
  };
  const finish = () => {
    const stats = pipe?.close();
    if (sink && stats) console.log(`  saved ${sink.path}: ${stats.framesOut} frames, ${sink.bytes} bytes, dropped ${stats.drops.queue + stats.drops.source}`);
    sink?.close();
    pipe = sink = null;
  };

  let lastReport = start;
  open();
  while (!failure && !app.needExit()) {
    const now = time.ticksMs();
    if (opts.recordSeconds !== null && now - start >= opts.recordSeconds * 1000) break;
    if (opts.recordSeconds === null && now - segmentStart >= opts.segmentSeconds * 1000) {
      finish();
      if (!open()) break;
    }
    if (now - lastReport >= 1000) {
      lastReport = now;
      const s = pipe!.stats();
      console.log(`  recording ${Math.round((now - start) / 1000)} s, ${s.framesOut} frames`);
    }
    time.sleepMs(20);
  }
  finish();
  enc.close();
  cam.close();
  console.log(`stopped after ${((time.ticksMs() - start) / 1000).toFixed(1)} s`);
  if (failure) app.setExitMessage(1, `recording failed: ${failure}`);
}

try {
  record(parseOptions(app.args));
} catch (e) {
  if (!(e instanceof OptionError)) throw e;
  app.setExitMessage(2, e.message);
}
