// Free-space policy for loop recording: make room for the segment being
// written by deleting the oldest recordings (rec_*), as a dashcam does.
import { list, remove, space, stat } from "qcam:fs";

export interface Room {
  ok: boolean; // enough space now
  deleted: string[]; // paths removed, oldest first
  available: number; // bytes available afterwards
}

const RECORDING = /^rec_\d{8}_\d{6}_\d{3}\.(mp4|ts|h26[45])$/;

/** Recordings in `dir`, oldest first (their names start with the UTC time). */
export function recordings(dir: string): string[] {
  return list(dir)
    .filter((n) => RECORDING.test(n))
    .sort()
    .map((n) => `${dir}/${n}`);
}

/** Delete the oldest recordings in `dir` until `needBytes` are available.
 * Only recordings go (names as the recorder makes them), never `busy` (the
 * file being written). */
export function makeRoom(dir: string, needBytes: number, busy?: string): Room {
  const deleted: string[] = [];
  let available = space(dir).available;
  const old = recordings(dir).filter((p) => p !== busy);
  while (available < needBytes && old.length > 0) {
    const victim = old.shift()!;
    remove(victim);
    deleted.push(victim);
    available = space(dir).available;
  }
  return { ok: available >= needBytes, deleted, available };
}

/**
 * The room one segment needs. Before any segment is finished it is what
 * the bitrates say (a segment that overshoots meets a full card, which cuts
 * it short and makes room all the same); after that, the largest segment this recording has really made (its
 * finished size: samples and index), with a quarter more for variation.
 * Finalizing needs no second copy: on a tight card it happens in place
 * (docs/api/mp4.md).
 */
export class SegmentBudget {
  private largest = 0;
  constructor(
    private readonly videoBitrate: number,
    private readonly audioBitrate: number,
    private readonly seconds: number,
  ) {}

  /** A finished segment's size on the card. */
  measured(bytes: number): void {
    this.largest = Math.max(this.largest, bytes);
  }

  get bytes(): number {
    if (this.largest > 0) return Math.ceil(this.largest * 1.25);
    return Math.ceil(((this.videoBitrate + this.audioBitrate) / 8) * this.seconds);
  }
}

export interface RecordingInfo {
  path: string;
  name: string;
  /** The recording's start, from its name (UTC). */
  date: Date;
  size: number;
  /** Seconds, from the file's index (MP4) or first and last frames (TS); null for an elementary stream or a file that cannot be read. */
  duration: number | null;
  container: "mp4" | "ts" | "es";
}

/** The start time in a recording's name, rec_YYYYMMDD_HHMMSS_NNN.ext. */
export function dateOf(name: string): Date {
  const m = /^rec_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})_/.exec(name)!;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

const two = (n: number) => String(n).padStart(2, "0");
/** "2026-12-07 05:10:03" (UTC, as every qcam time). */
export const formatDate = (d: Date) =>
  `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
/** "0:07", "12:30", "1:02:03". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}
/** "812 kB", "4.5 MB", "1.2 GB". */
export function formatSize(bytes: number): string {
  if (bytes < 1e6) return `${Math.round(bytes / 1e3)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/** Recordings in `dir`, newest first, with their sizes; `duration` reads an MP4's index or a
 * TS file's first and last frames (cached by path and size: a finished file is not read again). */
export function recordingInfos(dir: string, duration: (path: string) => number | null, cache = new Map<string, RecordingInfo>()): RecordingInfo[] {
  const out: RecordingInfo[] = [];
  for (const path of recordings(dir).reverse()) {
    let size = 0;
    try {
      size = stat(path).size;
    } catch {
      continue; // gone meanwhile
    }
    const hit = cache.get(path);
    if (hit && hit.size === size) {
      out.push(hit);
      continue;
    }
    const name = path.slice(path.lastIndexOf("/") + 1);
    const container = name.endsWith(".mp4") ? "mp4" : name.endsWith(".ts") ? "ts" : "es";
    const info: RecordingInfo = { path, name, date: dateOf(name), size, duration: container !== "es" ? duration(path) : null, container };
    cache.set(path, info);
    out.push(info);
  }
  return out;
}
