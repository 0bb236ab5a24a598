// The files channel (docs/dev-link.md, section 3.5), host side: ls, stat,
// get, put, rm, mkdir on the board's storage over a BoardLink.
//
// A get is stateless on the board: the host asks for byte ranges (two
// windows in flight) and writes what comes, in order, to `<dest>.part`; an
// interrupted get goes on after the bytes the part file holds once the
// board's SHA-256 of that prefix matches ours, and the finished file is
// checked against the board's SHA-256 of the whole before it is renamed into
// place. A put goes under the board's credit window like an image push; the
// board stages it, goes on from what an earlier cut-off put of the same file
// left, and commits it only when it hashes to what was announced.
import { createHash } from "node:crypto";
import fs from "node:fs";
import { Channel, MAX_PAYLOAD, type Frame } from "./codec.ts";
import { BoardLink, LinkError, STATUS_NAMES, Status, type Reply } from "./link.ts";

export const Files = { data: 1, ack: 2, done: 3, chunk: 4, ls: 16, stat: 17, hash: 18, read: 19, put: 20, rm: 21, mkdir: 22 } as const;

const READ_WINDOW = 64 << 10;
const READ_TIMEOUT_MS = 1000;
const HASH_TIMEOUT_MS = 120000; // hashing a large file on a slow board

export interface Entry {
  name: string;
  type: "file" | "dir" | "link" | "other";
  size: number;
  mtime: number;
}

const KINDS: Record<string, Entry["type"]> = { f: "file", d: "dir", l: "link", o: "other" };

function pathBody(head: Buffer, p: string): Buffer {
  return Buffer.concat([head, Buffer.from(p, "utf8")]);
}

async function req(link: BoardLink, what: string, type: number, body: Buffer, timeoutMs = 10000, ...ok: number[]): Promise<Reply> {
  // Long operations (hashing) answer late: do not resend them every 250 ms.
  const r = await link.request(type, body, timeoutMs, Channel.files, Math.max(250, Math.min(timeoutMs / 4, 2000)));
  return BoardLink.check(what, r, ...ok);
}

export async function stat(link: BoardLink, p: string): Promise<Entry> {
  const r = await req(link, `stat ${p}`, Files.stat, Buffer.from(p, "utf8"));
  const kv = Object.fromEntries(r.body.toString("utf8").split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  return { name: p.split("/").filter(Boolean).pop() ?? "/", type: kv.type as Entry["type"], size: Number(kv.size), mtime: Number(kv.mtime) };
}

export async function ls(link: BoardLink, p: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for (let start = 0; start !== 0xffffffff; ) {
    const head = Buffer.alloc(4);
    head.writeUInt32LE(start, 0);
    const r = await req(link, `ls ${p}`, Files.ls, pathBody(head, p));
    start = r.body.readUInt32LE(0);
    for (const line of r.body.subarray(4).toString("utf8").split("\n")) {
      const m = /^(\S) (\d+) (-?\d+) (.*)$/.exec(line);
      if (m) out.push({ name: m[4], type: KINDS[m[1]] ?? "other", size: Number(m[2]), mtime: Number(m[3]) });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export async function rm(link: BoardLink, p: string): Promise<void> {
  await req(link, `rm ${p}`, Files.rm, Buffer.from(p, "utf8"));
}

export async function mkdir(link: BoardLink, p: string): Promise<void> {
  await req(link, `mkdir ${p}`, Files.mkdir, Buffer.from(p, "utf8"));
}

/** The board's SHA-256 of the first `length` bytes of a file (all of it by default). */
export async function remoteHash(link: BoardLink, p: string, length = 0xffffffff): Promise<{ hash: string; bytes: number }> {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(length, 0);
  const r = await req(link, `hash ${p}`, Files.hash, pathBody(head, p), HASH_TIMEOUT_MS);
  return { hash: r.body.subarray(0, 32).toString("hex"), bytes: r.body.readUInt32LE(32) };
}

function fileHash(file: string, length = Infinity): string {
  const h = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    let at = 0;
    while (at < length) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, length - at), at);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      at += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

export interface TransferResult {
  bytes: number; // the file's size
  sent: number; // bytes that crossed the line this time
  resumedAt: number; // where this transfer started (0: from the beginning)
  skipped: boolean; // put: the board held that file already
  hash: string;
}

/** Put a local file at `remote` on the board. */
export async function put(link: BoardLink, local: string, remote: string, progress?: (done: number, total: number) => void): Promise<TransferResult> {
  const size = fs.statSync(local).size;
  if (size > 0xffffffff) throw new LinkError(`${local}: files of 4 GiB and more cannot be sent`);
  const digest = Buffer.from(fileHash(local), "hex");
  const head = Buffer.alloc(36);
  digest.copy(head, 0);
  head.writeUInt32LE(size, 32);
  const r = await req(link, `put ${remote}`, Files.put, pathBody(head, remote), HASH_TIMEOUT_MS, Status.have);
  const hash = digest.toString("hex");
  if (r.status === Status.have) return { bytes: size, sent: 0, resumedAt: 0, skipped: true, hash };
  const resumedAt = r.body.readUInt32LE(0);
  const fd = fs.openSync(local, "r");
  try {
    const sent = await link.upload(Channel.files, r, size, (off, n) => {
      const b = Buffer.alloc(n);
      fs.readSync(fd, b, 0, n, off);
      return b;
    }, progress);
    return { bytes: size, sent, resumedAt, skipped: false, hash };
  } finally {
    fs.closeSync(fd);
  }
}

/** Get `remote` from the board into the local file `local` (through `local.part`). */
export async function get(link: BoardLink, remote: string, local: string, progress?: (done: number, total: number) => void): Promise<TransferResult> {
  const st = await stat(link, remote);
  if (st.type !== "file") throw new LinkError(`get ${remote}: not a file (${st.type})`, "bad");
  const size = st.size;
  const part = `${local}.part`;
  let have = fs.existsSync(part) ? Math.min(fs.statSync(part).size, size) : 0;
  if (have > 0) {
    // What an earlier get left: keep it only when the board has the same bytes.
    const theirs = await remoteHash(link, remote, have);
    if (theirs.bytes !== have || theirs.hash !== fileHash(part, have)) have = 0;
  }
  const resumedAt = have;
  const fd = fs.openSync(part, have > 0 ? "r+" : "w");
  let sent = 0;
  try {
    fs.ftruncateSync(fd, have);
    await new Promise<void>((resolve, reject) => {
      let asked = have; // bytes asked for so far
      let timer: NodeJS.Timeout | undefined;
      let over = false;
      let off: (() => void) | undefined = undefined;
      const finish = (e?: Error) => {
        if (over) return;
        over = true;
        clearTimeout(timer);
        off?.();
        link.listen(Channel.files, undefined);
        if (e) reject(e);
        else resolve();
      };
      const ask = (from: number) => {
        const head = Buffer.alloc(8);
        const n = Math.min(READ_WINDOW, size - from);
        head.writeUInt32LE(from, 0);
        head.writeUInt32LE(n, 4);
        link.send(Channel.files, Files.read, pathBody(head, remote));
        asked = from + n;
      };
      const arm = () => {
        clearTimeout(timer);
        if (over) return;
        timer = setTimeout(() => {
          // Nothing came for a while (a read or a chunk lost): ask again from what we have.
          ask(have);
          fill();
        }, READ_TIMEOUT_MS);
      };
      const fill = () => {
        while (asked < size && asked < have + 2 * READ_WINDOW) ask(asked);
        arm();
      };
      let lastGap = -1;
      link.listen(Channel.files, (f: Frame) => {
        const type = f.payload[0];
        if (type === Files.chunk && f.payload.length >= 5) {
          const off = f.payload.readUInt32LE(1);
          const data = f.payload.subarray(5);
          if (off !== have) {
            // A chunk before this one was lost: ask again from where we are, once per position.
            if (off > have && lastGap !== have) {
              lastGap = have;
              ask(have);
              fill();
            }
            return;
          }
          fs.writeSync(fd, data, 0, data.length, off);
          have += data.length;
          sent += data.length;
          progress?.(have, size);
          if (have >= size) finish();
          else fill();
        } else if (type === Files.done && f.payload.length >= 3) {
          const status = f.payload.readUInt16LE(1);
          finish(new LinkError(`get ${remote}: ${STATUS_NAMES[status] ?? status}: ${f.payload.subarray(3).toString("utf8")}`, STATUS_NAMES[status]));
        }
      });
      off = link.onEnd(() => finish(new LinkError(`${link.path} closed during the get`)));
      if (size === 0) finish();
      else fill();
    });
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const mine = fileHash(part);
  const theirs = await remoteHash(link, remote);
  if (theirs.hash !== mine) {
    fs.rmSync(part, { force: true });
    throw new LinkError(`get ${remote}: the bytes received do not hash to the board's SHA-256 (the file changed meanwhile?); try again`, "refused");
  }
  fs.renameSync(part, local);
  return { bytes: size, sent, resumedAt, skipped: false, hash: mine };
}

/** The largest body a chunk frame carries. */
export const CHUNK = MAX_PAYLOAD - 5;
