// Pushing an image as a delta against one the board holds (docs/dev-link.md,
// section 3.2): an edit changes a few hundred bytes of a 10 KiB image, and at
// 115200 baud every byte not sent is 87 µs saved.
//
// The delta is ops the board's qcam_dl_apply_delta (devlink_proto.c) reads:
// 01 off u32 len u32 (copy from the base), 02 len u32 bytes (literal). The
// host keeps a copy of every image it pushed (out/devlink/pushed/, the 16
// newest) so a later push — from this process or another — has the base.
import fs from "node:fs";
import path from "node:path";
import { OUT } from "../paths.ts";

const PUSHED = path.join(OUT, "devlink", "pushed");
const KEEP = 16;
const K = 8; // bytes a match starts with
const MIN_COPY = 12; // shorter matches go as literals (a copy op is 9 bytes)

/** The ops that turn `base` into `image`: greedy, longest match among a few candidates. */
export function makeDelta(base: Buffer, image: Buffer): Buffer {
  const index = new Map<string, number[]>();
  for (let i = 0; i + K <= base.length; i++) {
    const key = base.toString("latin1", i, i + K);
    const at = index.get(key);
    if (!at) index.set(key, [i]);
    else if (at.length < 16) at.push(i);
  }
  const out: Buffer[] = [];
  let lit = -1; // start of the pending literal run
  const flush = (end: number) => {
    if (lit < 0) return;
    const h = Buffer.alloc(5);
    h[0] = 2;
    h.writeUInt32LE(end - lit, 1);
    out.push(h, image.subarray(lit, end));
    lit = -1;
  };
  let i = 0;
  while (i < image.length) {
    let best = 0;
    let from = 0;
    for (const j of index.get(image.toString("latin1", i, i + K)) ?? []) {
      let l = 0;
      while (i + l < image.length && j + l < base.length && base[j + l] === image[i + l]) l++;
      if (l > best) {
        best = l;
        from = j;
      }
    }
    if (best >= MIN_COPY) {
      flush(i);
      const op = Buffer.alloc(9);
      op[0] = 1;
      op.writeUInt32LE(from, 1);
      op.writeUInt32LE(best, 5);
      out.push(op);
      i += best;
    } else {
      if (lit < 0) lit = i;
      i++;
    }
  }
  flush(image.length);
  return Buffer.concat(out);
}

/** What applying `delta` to `base` gives (the board's qcam_dl_apply_delta, for tests). */
export function applyDelta(base: Buffer, delta: Buffer, size: number): Buffer {
  const out = Buffer.alloc(size);
  let at = 0;
  let made = 0;
  while (at < delta.length) {
    const op = delta[at++];
    if (op === 1) {
      const off = delta.readUInt32LE(at);
      const len = delta.readUInt32LE(at + 4);
      at += 8;
      if (off + len > base.length || made + len > size) throw new Error("delta: copy out of range");
      base.copy(out, made, off, off + len);
      made += len;
    } else if (op === 2) {
      const len = delta.readUInt32LE(at);
      at += 4;
      if (at + len > delta.length || made + len > size) throw new Error("delta: literal out of range");
      delta.copy(out, made, at, at + len);
      at += len;
      made += len;
    } else throw new Error(`delta: unknown op ${op}`);
  }
  if (made !== size) throw new Error("delta: wrong length");
  return out;
}

/** Keep a copy of an image the board now holds. */
export function rememberPushed(hash: string, bytes: Buffer): void {
  try {
    fs.mkdirSync(PUSHED, { recursive: true });
    const file = path.join(PUSHED, `${hash}.qcam`);
    if (!fs.existsSync(file)) {
      fs.writeFileSync(`${file}.tmp`, bytes);
      fs.renameSync(`${file}.tmp`, file);
    } else fs.utimesSync(file, new Date(), new Date());
    const all = fs.readdirSync(PUSHED).filter((f) => f.endsWith(".qcam")).map((f) => ({ f, t: fs.statSync(path.join(PUSHED, f)).mtimeMs }));
    for (const old of all.sort((a, b) => b.t - a.t).slice(KEEP)) fs.rmSync(path.join(PUSHED, old.f), { force: true });
  } catch {
    // a cache: a push without it is only slower
  }
}

/** The bytes of an image pushed before, if we kept them. */
export function pushedBytes(hash: string | undefined): Buffer | undefined {
  if (!hash || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
  try {
    return fs.readFileSync(path.join(PUSHED, `${hash}.qcam`));
  } catch {
    return undefined;
  }
}
