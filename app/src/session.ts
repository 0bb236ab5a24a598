// One recording: camera → encoder → MP4 (or MPEG-TS) on the SD card, with
// G.711 audio and an RTSP live view, all on native threads (qcam:link). The
// headless recorder and the menu both run their recordings through it.
//
// Loop recording makes room for the segment being written by deleting the
// oldest recordings, sized from what segments really take. A card that fills
// anyway (onFull) ends the segment early and gets the same answer; the writer
// carries on with the next segment once there is room. Without loop recording
// a full card stops the recording (`stopReason`), keeping the file.
import { time } from "qcam:app";
import { AudioEncoder, AudioIn } from "qcam:audio";
import { Camera } from "qcam:camera";
import { link, type Pipe, type Sink } from "qcam:link";
import { Mp4Writer, type SegmentInfo } from "qcam:mp4";
import { Overlay } from "qcam:overlay";
import { RtmpPublisher, RtspPublisher, type PublishState, type PublishStats } from "qcam:publish";
import { RtspServer } from "qcam:rtsp";
import { TsWriter } from "qcam:ts";
import { Encoder } from "qcam:video";
import { publishProtocol } from "./defaults.ts";
import { AUDIO, OptionError, RESOLUTION_SIZE, RTSP_PATH, rtspAccess, rtspServerOptions, segmentName, segmentPattern, type RecorderOptions } from "./options.ts";
import { makeRoom, SegmentBudget } from "./storage.ts";

export const AUDIO_BITRATE = 64_000; // G.711: 8 bits a sample

export const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

export interface SessionOptions extends RecorderOptions {
  dir: string;
  /** Make room by deleting the oldest recordings (else a full card stops the recording). */
  loop: boolean;
  /** A camera already running at the recording's size and rate (the menu's preview); else one is opened. */
  camera?: Camera;
  /** Progress and results, one line each. */
  log: (line: string) => void;
  /** With `rtsp`: serve the stream from this server (kept open at the end) instead of one of its own. */
  server?: RtspServer;
  /** What happens along the way, for the fleet (fleet.ts): segments saved, a full card, errors, the push's state. */
  onEvent?: (e: SessionEvent) => void;
}

export type SessionEvent =
  | { type: "segment"; path: string; seconds: number; bytes: number; frames: number }
  | { type: "card-full"; path: string }
  | { type: "error"; code: string; message: string }
  | { type: "publish"; state: PublishState; reason?: string };

export interface SessionSummary {
  saved: SegmentInfo[];
  framesIn: number;
  stored: number;
  lost: number;
  sourceMissed: number;
  audioDropped: number;
  elapsedMs: number;
  /** What ended the recording early, if anything: "ENOSPC: ...", "EIO: ...". */
  failure: string | null;
}

/** --text as an Overlay; a field it does not know is an option error. */
export function makeOverlay(text: string | undefined, height = 720): Overlay | null {
  if (text === undefined) return null;
  try {
    return new Overlay({ text, position: "bottom-left", size: height >= 1080 ? 48 : 32 });
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_INVALID_ARG") throw new OptionError(`--text: ${(e as Error).message}`);
    throw e;
  }
}

export class Session {
  readonly startMs: number;
  readonly path: string;
  readonly budget: SegmentBudget;
  readonly saved: SegmentInfo[] = [];
  /** The first error (card, encoder, camera), as "CODE: message". */
  failure: string | null = null;
  /** Why the recording has to stop now (a failure, or a full card without loop recording). */
  stopReason: string | null = null;
  #o: SessionOptions;
  #stored = 0;
  #stopping = false;
  #enc: Encoder;
  #cam: Camera;
  #ownCamera: boolean;
  #mic: AudioIn | null;
  #g711: AudioEncoder | null;
  #overlay: Overlay | null;
  #writer: Mp4Writer | TsWriter;
  #server: RtspServer | null;
  #ownServer: boolean;
  #live: ReturnType<RtspServer["stream"]> | null;
  #pub: RtmpPublisher | RtspPublisher | null = null;
  #pubFinal: PublishStats | null = null;
  #pipes: Pipe[];
  #closed: SessionSummary | null = null;

  /** Room for the first segment (loop recording) or refused: returns the failure. */
  static prepare(o: Pick<SessionOptions, "dir" | "bitrate" | "audio" | "segmentSeconds" | "log">): { budget: SegmentBudget; failure: string | null } {
    const budget = new SegmentBudget(o.bitrate, o.audio ? AUDIO_BITRATE : 0, o.segmentSeconds);
    const room = makeRoom(o.dir, budget.bytes);
    for (const p of room.deleted) o.log(`deleted ${p} to make room`);
    const failure = room.ok ? null : `ENOSPC: the SD card has no room for a ${o.segmentSeconds} s segment (${mb(budget.bytes)} MB; ${mb(room.available)} MB free)`;
    return { budget, failure };
  }

  constructor(o: SessionOptions, budget?: SegmentBudget) {
    this.#o = o;
    const { width, height } = RESOLUTION_SIZE[o.resolution];
    this.budget = budget ?? new SegmentBudget(o.bitrate, o.audio ? AUDIO_BITRATE : 0, o.segmentSeconds);
    // Everything made is undone if a later part cannot be had (no encoder on this build,
    // the RTSP port taken, ...): nothing is left open and the camera is free again.
    const undo: (() => void)[] = [];
    const made = <T extends { close(): unknown }>(x: T): T => (undo.push(() => x.close()), x);
    try {
      this.#overlay = makeOverlay(o.text, height);
      if (this.#overlay) made(this.#overlay);
      // The encoder first: opening the first one can take tens of milliseconds
      // (on the sim it loads the codec plugin), and a camera already running
      // would pile up pictures from before the recording starts.
      this.#enc = made(new Encoder({ codec: o.codec, width, height, fps: o.fps, bitrate: o.bitrate, gop: o.fps }));
      this.#ownCamera = !o.camera;
      this.#cam = o.camera ?? made(new Camera({ width, height, format: "nv21", fps: o.fps }));
      this.#mic = o.audio ? made(new AudioIn({ sampleRate: AUDIO.sampleRate, channels: 1 })) : null;
      this.#g711 = o.audio ? made(new AudioEncoder({ codec: AUDIO.codec })) : null;
      const audioTrack = o.audio ? { codec: AUDIO.codec, sampleRate: AUDIO.sampleRate } : undefined;

      this.startMs = time.ticksMs();
      const segments = o.recordSeconds === null;
      const ext = o.container;
      this.path = segments ? segmentPattern(o.dir, ext) : `${o.dir}/${segmentName(new Date(time.timeMs()), 0, ext)}`;
      const writerOptions = {
        video: this.#enc,
        segment: segments ? { seconds: o.segmentSeconds } : undefined,
        onSegment: (s: SegmentInfo) => {
          this.#saved(s);
          if (!s.full) this.budget.measured(s.size);
          if (!this.#stopping && o.loop) this.#makeRoom(); // (close() hands over the last reports)
        },
        onFull: (path: string) => {
          o.log(`the card is full: ${path} cut short`);
          o.onEvent?.({ type: "card-full", path });
          if (this.#stopping) return;
          if (o.loop) this.#makeRoom();
          else this.stopReason ??= "ENOSPC: the SD card is full";
        },
        onError: (e: Error & { code: string }) => this.#fail(e),
      } as const;
      // A transport stream has no audio (G.711 has no standard MPEG-TS mapping).
      this.#writer = made(o.container === "ts" ? new TsWriter(this.path, writerOptions) : new Mp4Writer(this.path, { ...writerOptions, audio: audioTrack }));
      this.#ownServer = o.rtsp && !o.server;
      this.#server = o.rtsp ? (o.server ?? made(new RtspServer(rtspServerOptions(o)))) : null;
      this.#live = this.#server ? made(this.#server.stream(RTSP_PATH, { video: this.#enc, audio: audioTrack })) : null;
      if (this.#server) o.log(`live at ${this.#server.url(RTSP_PATH)} (${rtspAccess(o)})`); // (the URL has no password in it)

      // The push to a media server: one more sink on the same encoder. It only queues
      // (its own thread talks to the server), so a server that is down never holds up the card.
      if (o.publishUrl) {
        const Publisher = publishProtocol(o.publishUrl) === "RTSP" ? RtspPublisher : RtmpPublisher;
        const pub = made(new Publisher(o.publishUrl, {
          video: this.#enc,
          audio: audioTrack,
          onState: (state, reason) => {
            o.log(`publish: ${state}${reason ? ` (${reason})` : ""}`);
            o.onEvent?.(reason ? { type: "publish", state, reason } : { type: "publish", state });
          },
        }));
        this.#pub = pub;
        o.log(`publishing to ${pub.url}`); // (masked: no stream key or password)
      }
      const sinks: Sink[] = [this.#writer];
      if (this.#live) sinks.push(this.#live);
      if (this.#pub) sinks.push(this.#pub);
      const fail = (e: Error & { code: string }) => this.#fail(e);
      this.#pipes = [made(link(this.#cam, this.#enc, sinks, this.#overlay ? { onError: fail, overlay: this.#overlay } : { onError: fail }))];
      if (this.#mic && this.#g711) this.#pipes.push(made(link(this.#mic, this.#g711, sinks, { onError: fail })));
    } catch (e) {
      for (const u of undo.reverse()) {
        try {
          u();
        } catch {
          // already closed by what failed
        }
      }
      throw e;
    }
  }

  #fail(e: Error & { code: string }): void {
    if (this.failure === null) this.#o.onEvent?.({ type: "error", code: e.code, message: e.message });
    this.failure ??= `${e.code}: ${e.message}`;
    this.stopReason ??= this.failure;
  }
  #saved(s: SegmentInfo): void {
    this.#stored += s.frames;
    this.saved.push(s);
    this.#o.onEvent?.({ type: "segment", path: s.path, seconds: s.duration, bytes: s.size, frames: s.frames });
    this.#o.log(`saved ${s.path}: ${s.frames} frames, ${s.duration.toFixed(1)} s, ${mb(s.size)} MB${s.full ? " (the card was full)" : ""}`);
  }
  #makeRoom(): void {
    const room = makeRoom(this.#o.dir, this.budget.bytes, this.#writer.path);
    for (const p of room.deleted) this.#o.log(`deleted ${p} to make room`);
    if (!room.ok)
      this.#fail(Object.assign(new Error(`the SD card has no room for a ${this.#o.segmentSeconds} s segment (${mb(this.budget.bytes)} MB; ${mb(room.available)} MB free)`), { code: "ENOSPC" }));
  }

  get elapsedMs(): number {
    return (this.#closed?.elapsedMs ?? time.ticksMs() - this.startMs);
  }
  /** The file being written now. */
  get currentPath(): string {
    return this.#writer.path;
  }
  /** Frames in the current file, and live viewers. */
  stats(): { videoFrames: number; audioFrames: number; viewers: number } {
    const w = { audioFrames: 0, ...this.#writer.stats() };
    return { videoFrames: w.videoFrames, audioFrames: w.audioFrames, viewers: this.#server ? this.#server.stats().clients.length : 0 };
  }
  /** The push's counters (its URL masked), or null without one. */
  publishStats(): PublishStats | null {
    return this.#pubFinal ?? this.#pub?.stats() ?? null;
  }
  /** The link's counters now (the bench reads them). */
  pipeStats() {
    return this.#pipes[0].stats();
  }

  /** Stop: what is queued is written, the last file finished. Idempotent. */
  stop(): SessionSummary {
    if (this.#closed) return this.#closed;
    this.#stopping = true;
    const [video, audio] = this.#pipes.map((p) => p.close()!);
    const writerDropped = this.#writer.stats().dropped; // before a keyframe, or lost to a full card
    const last = this.#writer.close();
    if (last && last.size > 0) this.#saved(last); // (none when a full card kept the last segment from starting)
    // Every picture the link took is in a file or dropped on the way, counted where it was.
    const lost = video.drops.queue + video.drops.encoder + video.drops.sinks[0] + writerDropped;
    this.#live?.close();
    if (this.#pub) this.#pubFinal = this.#pub.close() ?? null;
    if (this.#ownServer) this.#server?.close();
    this.#g711?.close();
    this.#mic?.close();
    this.#overlay?.close();
    this.#enc.close();
    if (this.#ownCamera) this.#cam.close();
    this.#closed = {
      saved: this.saved,
      framesIn: video.framesIn,
      stored: this.#stored,
      lost,
      sourceMissed: video.drops.source,
      audioDropped: audio ? audio.drops.source + audio.drops.queue : 0,
      elapsedMs: time.ticksMs() - this.startMs,
      failure: this.failure,
    };
    return this.#closed;
  }
}
