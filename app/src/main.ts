// qcam recorder: camera → encoder → MP4 (or MPEG-TS: --container ts) on the SD
// card, on native threads (qcam:link), with G.711 audio (--audio, MP4 only)
// and a live RTSP view (--rtsp); --text burns a time stamp or other text into
// the video on the link's encode thread.
// `--record N` records N seconds into one file; without it, it records
// segments of `--segment` seconds until stopped, deleting the oldest
// recordings when the card is full. Files cut short by a crash or a power cut
// are repaired at start-up.
import { app, time } from "qcam:app";
import { AudioEncoder, AudioIn } from "qcam:audio";
import { Camera } from "qcam:camera";
import { link, type Pipe, type Sink } from "qcam:link";
import { Mp4Writer, repair, type SegmentInfo } from "qcam:mp4";
import { Overlay } from "qcam:overlay";
import { RtspServer } from "qcam:rtsp";
import { TsWriter } from "qcam:ts";
import { Encoder } from "qcam:video";
import { AUDIO, describePlan, OptionError, parseOptions, RTSP_PATH, RTSP_PORT, segmentName, segmentPattern, type RecorderOptions } from "./options.ts";
import { makeRoom, recordings, SegmentBudget } from "./storage.ts";

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const BITRATE = 3_000_000;
const AUDIO_BITRATE = 64_000; // G.711: 8 bits a sample

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** Mend what an earlier run left cut short (killed, power cut, full card). */
function repairFolder(dir: string): void {
  for (const path of recordings(dir).filter((p) => p.endsWith(".mp4"))) {
    const r = repair(path);
    if (r.status === "repaired")
      console.log(`  repaired ${path}: ${r.videoFrames} frames, ${r.duration.toFixed(1)} s kept, ${r.droppedBytes} bytes of torn tail dropped`);
    else if (r.status === "unrecoverable") console.log(`  cannot repair ${path}: ${r.reason ?? "not an MP4"}`);
  }
}

/** --text as an Overlay; a field it does not know is an option error. */
function makeOverlay(text: string | undefined): Overlay | null {
  if (text === undefined) return null;
  try {
    return new Overlay({ text, position: "bottom-left", size: 32 });
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_INVALID_ARG") throw new OptionError(`--text: ${(e as Error).message}`);
    throw e;
  }
}

function record(opts: RecorderOptions): void {
  const overlay = makeOverlay(opts.text);
  const dir = app.videoPath();
  console.log(`${app.name} ${app.version} on ${app.platform}`);
  for (const line of describePlan(opts, dir)) console.log(`  ${line}`);
  repairFolder(dir);

  let failure: string | null = null;
  const fail = (e: Error & { code: string }) => {
    failure ??= `${e.code}: ${e.message}`;
    app.setExitFlag(true);
  };
  let stored = 0; // video frames in the files saved
  const saved = (s: SegmentInfo) => {
    stored += s.frames;
    console.log(`  saved ${s.path}: ${s.frames} frames, ${s.duration.toFixed(1)} s, ${mb(s.size)} MB${s.full ? " (the card was full)" : ""}`);
  };
  const loop = opts.recordSeconds === null;
  // Loop recording: room for the segment being written is made by deleting
  // the oldest recordings, sized from what segments really take. A card
  // that fills anyway (onFull) ends the segment early and gets the same
  // answer; the writer carries on with the next segment once there is room.
  const budget = new SegmentBudget(BITRATE, opts.audio ? AUDIO_BITRATE : 0, opts.segmentSeconds);
  const makeRoomForSegment = (busy?: string): boolean => {
    const room = makeRoom(dir, budget.bytes, busy);
    for (const p of room.deleted) console.log(`  deleted ${p} to make room`);
    if (!room.ok) fail(Object.assign(new Error(`the SD card has no room for a ${opts.segmentSeconds} s segment (${mb(budget.bytes)} MB; ${mb(room.available)} MB free)`), { code: "ENOSPC" }));
    return room.ok;
  };
  if (loop && !makeRoomForSegment()) {
    overlay?.close();
    app.setExitMessage(1, `recording failed: ${failure}`);
    return;
  }

  // The encoder first: opening the first one can take tens of milliseconds
  // (on the sim it loads the codec plugin), and a camera already running
  // would pile up pictures from before the recording starts.
  const enc = new Encoder({ codec: opts.codec, width: WIDTH, height: HEIGHT, fps: FPS, bitrate: BITRATE, gop: FPS });
  const cam = new Camera({ width: WIDTH, height: HEIGHT, format: "nv21", fps: FPS });
  const mic = opts.audio ? new AudioIn({ sampleRate: AUDIO.sampleRate, channels: 1 }) : null;
  const g711 = opts.audio ? new AudioEncoder({ codec: AUDIO.codec }) : null;
  const audioTrack = opts.audio ? { codec: AUDIO.codec, sampleRate: AUDIO.sampleRate } : undefined;

  let stopping = false;
  const start = time.ticksMs();
  const ext = opts.container;
  const path = loop ? segmentPattern(dir, ext) : `${dir}/${segmentName(new Date(time.timeMs()), 0, ext)}`;
  const writerOptions = {
    video: enc,
    segment: loop ? { seconds: opts.segmentSeconds } : undefined,
    onSegment: (s: SegmentInfo) => {
      saved(s);
      if (!s.full) budget.measured(s.size);
      if (!stopping) makeRoomForSegment(writer.path); // (close() hands over the last reports)
    },
    onFull: (path: string) => {
      console.log(`  the card is full: ${path} cut short`);
      if (!stopping) makeRoomForSegment(writer.path);
    },
    onError: fail,
  } as const;
  // A transport stream has no audio (G.711 has no standard MPEG-TS mapping): parseOptions refuses --audio with it.
  const writer: Mp4Writer | TsWriter = opts.container === "ts" ? new TsWriter(path, writerOptions) : new Mp4Writer(path, { ...writerOptions, audio: audioTrack });
  const server = opts.rtsp ? new RtspServer({ port: RTSP_PORT }) : null;
  const live = server?.stream(RTSP_PATH, { video: enc, audio: audioTrack }) ?? null;
  if (server) console.log(`  live at ${server.url(RTSP_PATH)}`);

  const sinks: Sink[] = live ? [writer, live] : [writer];
  const pipes: Pipe[] = [link(cam, enc, sinks, overlay ? { onError: fail, overlay } : { onError: fail })];
  if (mic && g711) pipes.push(link(mic, g711, sinks, { onError: fail }));

  let lastReport = start;
  while (!failure && !app.needExit()) {
    const now = time.ticksMs();
    if (!loop && now - start >= opts.recordSeconds! * 1000) break;
    if (now - lastReport >= 1000) {
      lastReport = now;
      const w = { audioFrames: 0, ...writer.stats() };
      const clients = server ? `, ${server.stats().clients.length} live viewers` : "";
      console.log(`  recording ${Math.round((now - start) / 1000)} s, ${w.videoFrames} frames${opts.audio ? `, ${w.audioFrames} audio frames` : ""}${clients}`);
    }
    time.sleepMs(20);
  }
  stopping = true;
  const [video, audio] = pipes.map((p) => p.close()!);
  const writerDropped = writer.stats().dropped; // before a keyframe, or lost to a full card
  const last = writer.close();
  if (last && last.size > 0) saved(last); // (none when a full card kept the last segment from starting)
  // Every picture the link took is in a file or dropped on the way, counted where it was.
  const lost = video.drops.queue + video.drops.encoder + video.drops.sinks[0] + writerDropped;
  console.log(`  frames: ${video.framesIn} pictures taken, ${stored} stored, ${lost} dropped (${video.drops.source} more missed by the camera)`);
  if (audio && audio.drops.source + audio.drops.queue) console.log(`  audio: ${audio.drops.source + audio.drops.queue} blocks dropped`);
  live?.close();
  server?.close();
  g711?.close();
  mic?.close();
  overlay?.close();
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
