// Playback of a recording on the screen: Mp4Reader or TsReader (by the file's
// extension, openReader) → Decoder (H.264 or H.265)
// → display.show(image), each picture when its time comes on the app's clock,
// so the file plays at its own rate. Pause, seek ±10 s (to the keyframe at or
// before the time, decoding on from there to the time itself).
import { time } from "qcam:app";
import type { Display } from "qcam:display";
import type { Image } from "qcam:image";
import { Mp4Reader } from "qcam:mp4";
import { probe, TsReader } from "qcam:ts";
import type { Frame } from "qcam:video";
import { Decoder } from "qcam:video";

/** What the player needs of a reader: Mp4Reader and TsReader both have it. */
export interface VideoReader {
  readonly duration: number;
  readonly tracks: readonly { kind: string; codec: string; width?: number; height?: number }[];
  read(): Frame | null;
  seek(seconds: number): number;
  close(): void;
}

/** The reader for a recording: TsReader for `.ts`, Mp4Reader otherwise. Throws what they throw (ENOENT, EBADMSG...). */
export function openReader(path: string): VideoReader {
  return path.endsWith(".ts") ? new TsReader(path) : new Mp4Reader(path);
}

/** A recording's length in seconds (an MP4's index; a TS file's first and last frames: probe()), or null when it cannot be read. */
export function recordingDuration(path: string): number | null {
  try {
    if (path.endsWith(".ts")) return probe(path).duration;
    const r = openReader(path);
    const d = r.duration;
    r.close();
    return d;
  } catch {
    return null;
  }
}

export class Player {
  readonly path: string;
  readonly duration: number;
  readonly codec: "h264" | "h265";
  readonly width: number;
  readonly height: number;
  /** Pictures put on the screen so far, and decoded (a slow turn shows only the newest due). */
  shown = 0;
  decoded = 0;
  ended = false;
  #disp: Display;
  #reader: VideoReader;
  #dec: Decoder;
  #next: Frame | null = null;
  #image: Image | null = null;
  /** ticksMs at which media time 0 is due (while playing). */
  #originMs = 0;
  #pausedAtUs: number | null = null;
  #firstPtsUs = 0;
  #posUs = 0;

  constructor(path: string, display: Display) {
    this.path = path;
    this.#disp = display;
    this.#reader = openReader(path);
    try {
      const v = this.#reader.tracks.find((t) => t.kind === "video");
      if (!v || (v.codec !== "h264" && v.codec !== "h265")) throw Object.assign(new Error(`${path} has no H.264 or H.265 video`), { code: "ENOTSUP" });
      this.codec = v.codec;
      this.width = v.width ?? 0;
      this.height = v.height ?? 0;
      this.duration = this.#reader.duration;
      this.#dec = new Decoder({ codec: this.codec });
    } catch (e) {
      this.#reader.close();
      throw e;
    }
    this.#next = this.#reader.read();
    this.#firstPtsUs = this.#next?.ptsUs ?? 0;
    this.#originMs = time.ticksMs();
    this.tick();
  }

  get paused(): boolean {
    return this.#pausedAtUs !== null;
  }
  /** Seconds into the file of the picture on the screen. */
  get position(): number {
    return this.#posUs / 1e6;
  }

  #mediaNowUs(): number {
    return this.#pausedAtUs ?? (time.ticksMs() - this.#originMs) * 1000;
  }

  /** Decode `f`; the pictures it gives replace the one shown when `show`. */
  #decode(f: Frame, show: boolean): void {
    const images = this.#dec.decode(f);
    this.#posUs = f.ptsUs - this.#firstPtsUs;
    f.close();
    for (const img of images) {
      this.decoded++;
      if (show) {
        this.#disp.show(img, { fit: "fit" });
        this.shown++;
        this.#image?.close();
        this.#image = img;
      } else img.close();
    }
  }

  /** On every loop turn: show what is due. Returns true while there is more to play. */
  tick(): boolean {
    if (this.ended) return false;
    const now = this.#mediaNowUs();
    // Decode every unit that is due (P frames need their predecessors); show only the last.
    while (this.#next && this.#next.ptsUs - this.#firstPtsUs <= now) {
      const f = this.#next;
      this.#next = this.#reader.read();
      const last = !this.#next || this.#next.ptsUs - this.#firstPtsUs > now;
      this.#decode(f, last);
    }
    if (!this.#next) {
      this.ended = true;
      return false;
    }
    return true;
  }

  pause(): void {
    if (this.#pausedAtUs === null) this.#pausedAtUs = this.#mediaNowUs();
  }
  resume(): void {
    if (this.#pausedAtUs === null) return;
    this.#originMs = time.ticksMs() - this.#pausedAtUs / 1000;
    this.#pausedAtUs = null;
  }
  toggle(): void {
    if (this.ended) this.seekTo(0);
    else if (this.paused) this.resume();
    else this.pause();
  }

  /** Seconds from here, clamped to the file. */
  seek(delta: number): void {
    this.seekTo(this.position + delta);
  }
  seekTo(seconds: number): void {
    const target = Math.max(0, Math.min(seconds, Math.max(0, this.duration - 0.001)));
    this.#next?.close();
    this.#reader.seek(target);
    const targetUs = Math.round(target * 1e6);
    // From the keyframe, decode up to the target; show the picture at it.
    let f = this.#reader.read();
    while (f) {
      const n = this.#reader.read();
      const last = !n || n.ptsUs - this.#firstPtsUs > targetUs;
      this.#decode(f, last);
      f = n;
      if (last) break;
    }
    this.#next = f;
    this.ended = !f;
    if (this.#pausedAtUs !== null) this.#pausedAtUs = this.#posUs;
    else this.#originMs = time.ticksMs() - this.#posUs / 1000;
  }

  close(): void {
    this.#next?.close();
    this.#next = null;
    this.#image?.close();
    this.#image = null;
    this.#dec.close();
    this.#reader.close();
  }
}
