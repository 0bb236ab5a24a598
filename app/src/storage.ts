// Free-space policy for loop recording: make room for the segment being
// written by deleting the oldest recordings (rec_*), as a dashcam does.
import { list, remove, space } from "qcam:fs";

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
