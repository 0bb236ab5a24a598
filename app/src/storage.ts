// Free-space policy for loop recording: before a new segment starts, make
// room for it by deleting the oldest recordings (rec_*), as a dashcam does.
import { list, remove, space } from "qcam:fs";

export interface Room {
  ok: boolean; // enough space now
  deleted: string[]; // paths removed, oldest first
  available: number; // bytes available afterwards
}

/** Recordings in `dir`, oldest first (their names start with the UTC time). */
export function recordings(dir: string): string[] {
  return list(dir)
    .filter((n) => /^rec_\d{8}_\d{6}_\d{3}\.(mp4|h26[45])$/.test(n))
    .sort()
    .map((n) => `${dir}/${n}`);
}

/** Delete the oldest recordings in `dir` until `needBytes` are available,
 * keeping the newest `keep` (the one being written). */
export function makeRoom(dir: string, needBytes: number, keep = 1): Room {
  const deleted: string[] = [];
  let available = space(dir).available;
  const old = recordings(dir);
  while (available < needBytes && old.length > keep) {
    const victim = old.shift()!;
    remove(victim);
    deleted.push(victim);
    available = space(dir).available;
  }
  return { ok: available >= needBytes, deleted, available };
}

/** Bytes a segment of `seconds` at `bitrate` may take, with headroom for keyframes and rate overshoot. */
export function segmentBudget(bitrate: number, seconds: number): number {
  return Math.ceil((bitrate / 8) * seconds * 1.5);
}
