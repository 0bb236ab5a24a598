// qcam:fs for tests on a PC: an SD card in memory, with the sim's size cap.
// Mirrors mod_fs.c over backend_sim.c: board paths only (/sdcard/..., /tmp/...
// which lives in the card's .tmp/ folder and counts against it), the same
// argument checks, POSIX error codes with errno and messages naming the board
// path, and a card of world.sdcardSizeMb MiB (the runtime's --sdcard-size,
// default 32 GiB) on which a write that does not fit writes what fits, then
// throws ENOSPC with `bytesWritten` — exactly like the capped sim card.
//
// The card HAL below (fs.h) is also what EsFileSink (qcam:link) writes through
// and what EsReader and the replay encoder (qcam:video) read, offered to them
// as world.exposed("fs.hal"); tests read and seed the card with `sdcard` from
// "qcam:testing".
//
// Faults: world.fault("fs.write", { code: "ENOSPC" }) makes the next write to
// the card (File.write, writeFile, appendFile, an EsFileSink's frame) fail with
// that code after writing `bytesWritten` bytes of it (default 0): a card that
// fills up, or dies (code: "EIO"), at a chosen moment.
import type * as Api from "qcam:fs";
import type * as Self from "./fs.stub.ts";
import type { FsFd, FsHal } from "../../build/testing/media.ts";
import { ERRNO } from "../../build/testing/errors.ts";
import { checkKeys, conforms, errnoError, throwErrno, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";

conforms<typeof Api, typeof Self>(true);

// ------------------------------------------------------------------ the card

interface FileNode {
  kind: "file";
  data: Uint8Array; // capacity >= size
  size: number;
  mtimeMs: number;
}
interface DirNode {
  kind: "dir";
  entries: Map<string, Node>;
  mtimeMs: number;
}
type Node = FileNode | DirNode;

interface Card {
  root: DirNode; // the card folder: /sdcard; /tmp is its .tmp/
  used: number; // bytes in files on the card
}

type Errno = string;
class FsFail {
  constructor(readonly errno: Errno) {}
}
const fail = (errno: Errno): never => {
  throw new FsFail(errno);
};

const nowMs = () => world.wallUs() / 1000;
const dir = (): DirNode => ({ kind: "dir", entries: new Map(), mtimeMs: nowMs() });

function card(): Card {
  const c = world.part("fs", (): Card => {
    const root = dir();
    root.entries.set(".tmp", dir()); // qcam_fs_card_open makes the folders standing in for the mounts
    return { root, used: 0 };
  });
  // app.videoPath() & co. create their folders on the board (qcam:app).
  const asked = world.part("app.paths", () => new Set<string>());
  const made = world.part("fs.app-paths", () => new Set<string>());
  for (const p of asked)
    if (!made.has(p)) {
      made.add(p);
      try {
        mkdirAt(c, p, true);
      } catch {
        /* best effort, as qcam_board_mkdirs */
      }
    }
  return c;
}

const capBytes = () => Math.floor(world.sdcardSizeMb * 1024 * 1024);

/** qcam_fs_reserve: grants up to `bytes`, fewer when the card is nearly full. */
function reserve(c: Card, bytes: number): number {
  const avail = Math.max(0, capBytes() - c.used);
  const grant = Math.min(bytes, avail);
  c.used += grant;
  return grant;
}
function release(c: Card, bytes: number): void {
  c.used = Math.max(0, c.used - bytes);
}

// ------------------------------------------------------------------ board paths

/** canon(): "/sdcard//a/./b/" -> ["sdcard", "a", "b"]; EINVAL for relative paths and "..". */
function canon(path: string): string[] {
  if (!path.startsWith("/")) fail("EINVAL");
  const out: string[] = [];
  for (const s of path.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") fail("EINVAL");
    out.push(s);
  }
  if (path.length >= 4096) fail("ENAMETOOLONG");
  return out;
}

/** qcam_fs_map: the components under the card folder (/tmp -> .tmp/...). */
function mapPath(path: string): string[] {
  const c = canon(path);
  if (c[0] === "sdcard") return c.slice(1);
  if (c[0] === "tmp") return [".tmp", ...c.slice(1)];
  return fail("EINVAL");
}

function isMountRoot(path: string): boolean {
  let c: string[];
  try {
    c = canon(path);
  } catch {
    return false;
  }
  const s = "/" + c.join("/");
  return s === "/sdcard" || s === "/tmp" || s === "/sdcard/.tmp";
}

/** The node at `comps`: ENOENT, or ENOTDIR when a folder on the way is a file. */
function lookup(c: Card, comps: string[]): Node {
  let n: Node = c.root;
  for (const name of comps) {
    if (n.kind !== "dir") fail("ENOTDIR");
    const next: Node | undefined = (n as DirNode).entries.get(name);
    if (!next) fail("ENOENT");
    n = next!;
  }
  return n;
}

/** The folder holding the last component: ENOENT / ENOTDIR as open(O_CREAT) says them. */
function parentOf(c: Card, comps: string[]): DirNode {
  const p = lookup(c, comps.slice(0, -1));
  if (p.kind !== "dir") fail("ENOTDIR");
  return p as DirNode;
}

/** The folder a writer's new file goes in (qcam_fs_open's rule: writers make
 * their missing folders, readers do not); ENOTDIR when one on the way is a file. */
function parentMade(c: Card, comps: string[]): DirNode {
  let n: Node = c.root;
  for (const name of comps.slice(0, -1)) {
    if (n.kind !== "dir") fail("ENOTDIR");
    let next: Node | undefined = (n as DirNode).entries.get(name);
    if (!next) {
      next = dir();
      (n as DirNode).entries.set(name, next);
      (n as DirNode).mtimeMs = nowMs();
    }
    n = next;
  }
  if (n.kind !== "dir") fail("ENOTDIR");
  return n as DirNode;
}

function newFile(): FileNode {
  return { kind: "file", data: new Uint8Array(0), size: 0, mtimeMs: nowMs() };
}

function setSize(f: FileNode, size: number): void {
  if (size > f.data.length) {
    const grown = new Uint8Array(Math.max(size, Math.min(f.data.length * 2, size + (64 << 20)), 64));
    grown.set(f.data.subarray(0, f.size));
    f.data = grown;
  } else if (size < f.size) f.data.fill(0, size, f.size);
  f.size = size;
  f.mtimeMs = nowMs();
}

function sizeOfTree(n: Node): number {
  if (n.kind === "file") return n.size;
  let s = 0;
  for (const m of n.entries.values()) s += sizeOfTree(m);
  return s;
}

// ------------------------------------------------------------------ open files

type Mode = Api.OpenFlags;
const MODES: readonly Mode[] = ["r", "r+", "w", "a", "wx"];

interface Fd {
  node: FileNode;
  mode: Mode;
  pos: number;
  closed: boolean;
}

/** qcam_fs_open: a descriptor, or an errno. */
function openAt(c: Card, path: string, mode: Mode): Fd {
  const comps = mapPath(path);
  let node: Node;
  if (mode === "r" || mode === "r+") {
    node = lookup(c, comps);
    if (node.kind === "dir") fail("EISDIR");
  } else {
    const parent = comps.length ? parentMade(c, comps) : null;
    const existing = comps.length ? parent!.entries.get(comps[comps.length - 1]) : c.root;
    if (existing && mode === "wx") fail("EEXIST");
    if (existing?.kind === "dir") fail("EISDIR");
    if (existing) node = existing;
    else {
      node = newFile();
      parent!.entries.set(comps[comps.length - 1], node);
      parent!.mtimeMs = nowMs();
    }
    if (mode === "w" && (node as FileNode).size > 0) truncateFd(c, { node: node as FileNode, mode, pos: 0, closed: false }, 0);
  }
  return { node: node as FileNode, mode, pos: 0, closed: false };
}

function readFd(fd: Fd, buf: Uint8Array, pos: number): number {
  if (fd.mode !== "r" && fd.mode !== "r+") fail("EBADF");
  const f = fd.node;
  const at = pos < 0 ? fd.pos : pos;
  const n = Math.max(0, Math.min(buf.length, f.size - at));
  if (n > 0) buf.set(f.data.subarray(at, at + n));
  if (pos < 0) fd.pos += n;
  return n;
}

/** qcam_fs_write_all: all of data at pos (-1: the file position; "a": the end). */
function writeFd(c: Card, fd: Fd, data: Uint8Array, pos: number): { written: number; errno?: Errno } {
  const len = data.length;
  if (len === 0) return { written: 0 };
  const f = fd.node;
  const append = fd.mode === "a";
  if (append) pos = -1;
  const size0 = f.size;
  const start = pos >= 0 ? pos : append ? size0 : fd.pos;
  const growth = Math.max(0, start + len - size0);
  const reserved = reserve(c, growth);
  let fit = len;
  if (reserved < growth) fit = Math.min(len, Math.max(0, size0 + reserved - start));
  const fault = world.takeFault("fs.write");
  let errno: Errno | undefined;
  if (fault) {
    errno = fault.code ?? "ENOSPC";
    fit = Math.min(fit, Math.max(0, Math.trunc(Number(fault.bytesWritten ?? 0))));
  }
  let done = 0;
  if (fd.mode === "r") errno ??= "EBADF";
  else {
    if (fit > 0) {
      if (start + fit > f.size) setSize(f, start + fit);
      f.data.set(data.subarray(0, fit), start);
      f.mtimeMs = nowMs();
    }
    done = fit;
    if (pos < 0) fd.pos = append ? f.size : fd.pos + done;
  }
  const grew = Math.max(0, start + done - size0);
  if (grew < reserved) release(c, reserved - grew);
  if (errno) return { written: done, errno };
  return done < len ? { written: done, errno: "ENOSPC" } : { written: done };
}

/** qcam_fs_truncate: growing past the card fails with ENOSPC and changes nothing. */
function truncateFd(c: Card, fd: Fd, len: number): void {
  const f = fd.node;
  const size0 = f.size;
  let reserved = 0;
  if (len > size0) {
    reserved = reserve(c, len - size0);
    if (reserved < len - size0) {
      release(c, reserved);
      fail("ENOSPC");
    }
  }
  if (fd.mode === "r") {
    release(c, reserved);
    fail("EINVAL"); // ftruncate on a descriptor not open for writing
  }
  setSize(f, len);
  if (len < size0) release(c, size0 - len);
}

// ------------------------------------------------------------------ path operations

function statOf(n: Node): Api.Stats {
  return { size: n.kind === "file" ? n.size : 4096, isFile: n.kind === "file", isDirectory: n.kind === "dir", mtimeMs: n.mtimeMs };
}

function listAt(c: Card, path: string): string[] {
  const comps = mapPath(path);
  const n = lookup(c, comps);
  if (n.kind !== "dir") fail("ENOTDIR");
  const names = [...(n as DirNode).entries.keys()].filter((k) => !(comps.length === 0 && k === ".tmp"));
  return names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function removeAt(c: Card, path: string, tree: boolean): void {
  const comps = mapPath(path);
  if (isMountRoot(path)) fail("EBUSY");
  const n = lookup(c, comps);
  const parent = parentOf(c, comps);
  if (n.kind === "dir" && !tree && n.entries.size) fail("ENOTEMPTY");
  release(c, sizeOfTree(n));
  parent.entries.delete(comps[comps.length - 1]);
  parent.mtimeMs = nowMs();
}

function renameAt(c: Card, from: string, to: string): void {
  const cf = mapPath(from);
  const ct = mapPath(to);
  if (isMountRoot(from) || isMountRoot(to)) fail("EBUSY");
  const src = lookup(c, cf);
  const pf = parentOf(c, cf);
  const pt = parentOf(c, ct);
  const dst = pt.entries.get(ct[ct.length - 1]);
  if (dst === src) return;
  const prefix = (a: string[], b: string[]) => a.length < b.length && a.every((x, i) => x === b[i]);
  if (prefix(cf, ct)) fail("EINVAL"); // into itself
  if (prefix(ct, cf)) fail("ENOTEMPTY");
  if (dst) {
    if (src.kind === "dir" && dst.kind !== "dir") fail("ENOTDIR");
    if (src.kind !== "dir" && dst.kind === "dir") fail("EISDIR");
    if (dst.kind === "dir" && dst.entries.size) fail("ENOTEMPTY");
  }
  const freed = dst?.kind === "file" ? dst.size : 0;
  pf.entries.delete(cf[cf.length - 1]);
  pt.entries.set(ct[ct.length - 1], src);
  pf.mtimeMs = pt.mtimeMs = nowMs();
  release(c, freed);
}

function mkdirAt(c: Card, path: string, recursive: boolean): void {
  const comps = mapPath(path);
  if (!recursive) {
    if (!comps.length) fail("EEXIST");
    const parent = parentOf(c, comps);
    if (parent.entries.has(comps[comps.length - 1])) fail("EEXIST");
    parent.entries.set(comps[comps.length - 1], dir());
    parent.mtimeMs = nowMs();
    return;
  }
  // mkdir every prefix, an existing one is fine; then the path must be a folder.
  let n: Node = c.root;
  for (const name of comps) {
    if (n.kind !== "dir") fail("ENOTDIR");
    let next: Node | undefined = (n as DirNode).entries.get(name);
    if (!next) {
      next = dir();
      (n as DirNode).entries.set(name, next);
      (n as DirNode).mtimeMs = nowMs();
    }
    n = next;
  }
  if (n.kind !== "dir") fail("EEXIST");
}

/** qcam_fs_write_file: a temporary file beside the target, renamed over it. */
function writeFileAt(c: Card, path: string, data: Uint8Array): void {
  const comps = mapPath(path);
  if (isMountRoot(path)) fail("EISDIR");
  const parent = parentMade(c, comps);
  const old = parent.entries.get(comps[comps.length - 1]);
  if (old?.kind === "dir") fail("EISDIR");
  const tmp: Fd = { node: newFile(), mode: "wx", pos: 0, closed: false };
  const r = writeFd(c, tmp, data, 0);
  if (r.errno) {
    release(c, r.written);
    fail(r.errno);
  }
  parent.entries.set(comps[comps.length - 1], tmp.node);
  parent.mtimeMs = nowMs();
  if (old) release(c, (old as FileNode).size);
}

function spaceAt(c: Card, path: string): Api.Space {
  lookup(c, mapPath(path)); // statvfs needs the path to exist
  const avail = Math.max(0, capBytes() - c.used);
  return { total: capBytes(), free: avail, available: avail };
}

// ------------------------------------------------------------------ errors

/** fs_error(): the explanation for paths that are not on the card, strerror otherwise. */
function fsError(err: Errno, op: string, path: string): Error {
  if (err === "EINVAL") {
    let dots = false;
    for (let i = path.indexOf(".."); i >= 0; i = path.indexOf("..", i + 2))
      if ((i === 0 || path[i - 1] === "/") && (i + 2 === path.length || path[i + 2] === "/")) dots = true;
    if (dots) return errnoError("EINVAL", `${op} ${path}: '..' is not allowed in board paths`);
    const under = (p: string) => path.startsWith(p) && (path.length === p.length || path[p.length] === "/");
    if (!path.startsWith("/") || !(under("/sdcard") || under("/tmp")))
      return errnoError("EINVAL", `${op} ${path}: not a board path (use /sdcard/... or /tmp/...)`);
  }
  if (err === "EBUSY" && isMountRoot(path)) return errnoError("EBUSY", `${op} ${path}: a mount point cannot be removed or renamed`);
  return errnoLike(err, `${op} ${path}`);
}

/** qcam_throw_errno for any errno name (ones app.c does not name come out as EIO). */
function errnoLike(err: Errno, what: string): Error {
  return errnoError(ERRNO[err] ? err : "EIO", what);
}

/** Run a HAL call for `op` on `path`, turning its errno into the module's error. */
function hal<T>(op: string, path: string, fn: (c: Card) => T): T {
  try {
    return fn(card());
  } catch (e) {
    if (e instanceof FsFail) throw fsError(e.errno, op, path);
    throw e;
  }
}

function writeError(err: Errno, op: string, path: string, written: number): never {
  const e = fsError(err, op, path);
  Object.defineProperty(e, "bytesWritten", { value: written, configurable: true, enumerable: true, writable: false });
  throw e;
}

// ------------------------------------------------------------------ arguments

function getPath(argc: number, v: unknown, op: string): string {
  if (argc < 1 || typeof v !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", `${op}: path must be a string`);
  if ((v as string).includes("\0")) throwErrno("EINVAL", `${op}: path contains a NUL byte`);
  return v as string;
}

function isTypedArray(v: unknown): v is ArrayBufferView {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/** get_bytes: a string (UTF-8), a typed array or an ArrayBuffer. `writable`: read() fills it. */
function getBytes(v: unknown, writable: boolean, op: string): Uint8Array {
  if (!writable && typeof v === "string") return new TextEncoder().encode(v);
  if (isTypedArray(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  return throwQcam(
    "TypeError",
    "ERR_INVALID_ARG",
    `${op}: expected ${writable ? "a Uint8Array or an ArrayBuffer" : "a string, a Uint8Array or an ArrayBuffer"}`,
  );
}

/** get_position: undefined/null -> -1, else an integer >= 0. */
function getPosition(argc: number, v: unknown, i: number, what: string): number {
  if (i >= argc || v === undefined || v === null) return -1;
  const d = typeof v === "number" ? v : NaN;
  if (!(d >= 0) || d > Number.MAX_SAFE_INTEGER || d !== Math.floor(d))
    throwQcam("RangeError", "ERR_INVALID_ARG", `${what} must be an integer >= 0`);
  return d;
}

// ------------------------------------------------------------------ File

interface FileState {
  fd: Fd;
  path: string;
  handle: Handle;
}

const files = new WeakMap<object, FileState | null>();
let minting = false;

function thisFile(self: unknown): FileState {
  if ((typeof self !== "object" && typeof self !== "function") || self === null || !files.has(self))
    throwQcam("TypeError", "ERR_WRONG_THIS", "expected a File");
  const f = files.get(self);
  if (!f) throwQcam("TypeError", "ERR_CLOSED", "File is closed");
  return f;
}

export class File {
  constructor() {
    if (!minting) throwQcam("TypeError", "ERR_ILLEGAL_CONSTRUCTOR", "use open(path, flags) to get a File");
  }
  read(buffer: Uint8Array | ArrayBuffer, position?: number | null): number {
    const f = thisFile(this);
    const pos = getPosition(arguments.length, position, 1, "position");
    const b = getBytes(arguments.length > 0 ? buffer : undefined, true, "read");
    return hal("read", f.path, () => readFd(f.fd, b, pos));
  }
  write(data: Api.Data, position?: number | null): number {
    const f = thisFile(this);
    const pos = getPosition(arguments.length, position, 1, "position");
    const b = getBytes(arguments.length > 0 ? data : undefined, false, "write");
    const r = hal("write", f.path, (c) => writeFd(c, f.fd, b, pos));
    if (r.errno) writeError(r.errno, "write", f.path, r.written);
    return r.written;
  }
  sync(): void {
    thisFile(this);
  }
  truncate(length?: number): void {
    const f = thisFile(this);
    let len = 0;
    if (arguments.length > 0 && length !== undefined) len = Math.max(0, getPosition(arguments.length, length, 0, "length"));
    hal("truncate", f.path, (c) => truncateFd(c, f.fd, len));
  }
  stat(): Api.Stats {
    return statOf(thisFile(this).fd.node);
  }
  get path(): string {
    return thisFile(this).path;
  }
  get flags(): Api.OpenFlags {
    return thisFile(this).fd.mode;
  }
  close(): void {
    if ((typeof this !== "object" && typeof this !== "function") || this === null || !files.has(this))
      throwQcam("TypeError", "ERR_WRONG_THIS", "expected a File");
    const f = files.get(this);
    if (!f) return;
    files.set(this, null);
    f.fd.closed = true;
    f.handle.release();
  }
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(File.prototype, Symbol.dispose, { value: File.prototype.close, writable: true, configurable: true });
Object.defineProperty(File.prototype, Symbol.toStringTag, { value: "File", configurable: true });

// ------------------------------------------------------------------ functions

export const open: typeof Api.open = function open(path: string, flags?: Api.OpenFlags) {
  let mode: Mode = "r";
  if (arguments.length > 1 && flags !== undefined) {
    if (typeof flags !== "string" || !MODES.includes(flags))
      throwQcam("TypeError", "ERR_INVALID_ARG", 'open: flags must be one of "r", "r+", "w", "a", "wx"');
    mode = flags;
  }
  const p = getPath(arguments.length, path, "open");
  const fd = hal("open", p, (c) => openAt(c, p, mode));
  minting = true;
  let f: File;
  try {
    f = new File();
  } finally {
    minting = false;
  }
  files.set(f, { fd, path: p, handle: world.track("File", f) });
  return f as Api.File;
};

function readWhole(argc: number, path: unknown, op: string): Uint8Array {
  const p = getPath(argc, path, op);
  return hal(op, p, (c) => {
    const fd = openAt(c, p, "r");
    if (fd.node.size > 0x7fffffff) fail("EFBIG");
    return fd.node.data.slice(0, fd.node.size);
  });
}

export const readFile: typeof Api.readFile = function readFile(path: string) {
  const b = readWhole(arguments.length, path, "readFile");
  return (b.buffer.byteLength === b.length ? b.buffer : b.slice().buffer) as ArrayBuffer;
};

export const readText: typeof Api.readText = function readText(path: string) {
  return new TextDecoder().decode(readWhole(arguments.length, path, "readText"));
};

export const writeFile: typeof Api.writeFile = function writeFile(path: string, data: Api.Data) {
  const p = getPath(arguments.length, path, "writeFile");
  const b = getBytes(arguments.length > 1 ? data : undefined, false, "writeFile");
  hal("writeFile", p, (c) => writeFileAt(c, p, b));
};

export const appendFile: typeof Api.appendFile = function appendFile(path: string, data: Api.Data) {
  const p = getPath(arguments.length, path, "appendFile");
  const b = getBytes(arguments.length > 1 ? data : undefined, false, "appendFile");
  const r = hal("appendFile", p, (c) => writeFd(c, openAt(c, p, "a"), b, -1));
  if (r.errno) writeError(r.errno, "appendFile", p, r.written);
};

export const list: typeof Api.list = function list(path: string) {
  const p = getPath(arguments.length, path, "list");
  return hal("list", p, (c) => listAt(c, p));
};

export const stat: typeof Api.stat = function stat(path: string) {
  const p = getPath(arguments.length, path, "stat");
  return hal("stat", p, (c) => statOf(lookup(c, mapPath(p))));
};

export const exists: typeof Api.exists = function exists(path: string) {
  const p = getPath(arguments.length, path, "exists");
  try {
    lookup(card(), mapPath(p));
    return true;
  } catch (e) {
    if (e instanceof FsFail && (e.errno === "ENOENT" || e.errno === "ENOTDIR")) return false;
    if (e instanceof FsFail) throw fsError(e.errno, "exists", p);
    throw e;
  }
};

export const remove: typeof Api.remove = function remove(path: string) {
  const p = getPath(arguments.length, path, "remove");
  hal("remove", p, (c) => removeAt(c, p, false));
};

export const removeTree: typeof Api.removeTree = function removeTree(path: string) {
  const p = getPath(arguments.length, path, "removeTree");
  hal("removeTree", p, (c) => removeAt(c, p, true));
};

export const rename: typeof Api.rename = function rename(from: string, to: string) {
  const f = getPath(arguments.length, from, "rename");
  const t = getPath(arguments.length - 1, to, "rename");
  try {
    renameAt(card(), f, t);
  } catch (e) {
    if (!(e instanceof FsFail)) throw e;
    const maps = (p: string) => {
      try {
        mapPath(p);
        return true;
      } catch {
        return false;
      }
    };
    if (e.errno === "EINVAL" && !maps(f)) throw fsError("EINVAL", "rename", f);
    if (e.errno === "EINVAL" && !maps(t)) throw fsError("EINVAL", "rename", t);
    if (e.errno === "EBUSY" && (isMountRoot(f) || isMountRoot(t))) throw fsError("EBUSY", "rename", isMountRoot(f) ? f : t);
    throw errnoLike(e.errno, `rename ${f} -> ${t}`);
  }
};

export const mkdir: typeof Api.mkdir = function mkdir(path: string, options?: { recursive?: boolean }) {
  let recursive = false;
  if (arguments.length > 1 && options !== undefined) {
    if ((typeof options !== "object" && typeof options !== "function") || options === null)
      throwQcam("TypeError", "ERR_INVALID_ARG", "mkdir: options must be an object ({ recursive?: boolean })");
    checkKeys(options, "mkdir", ["recursive"]);
    recursive = Boolean(options.recursive);
  }
  const p = getPath(arguments.length, path, "mkdir");
  hal("mkdir", p, (c) => mkdirAt(c, p, recursive));
};

export const space: typeof Api.space = function space(path?: string) {
  const given = arguments.length > 0 && path !== undefined;
  const p = given ? getPath(arguments.length, path, "space") : "/sdcard";
  return hal("space", p, (c) => spaceAt(c, p));
};

// ------------------------------------------------------------------ the HAL for other stubs and tests

/** fs.h for the other stubs (EsFileSink, EsReader, replay) and for `sdcard` in qcam:testing. */
const fsHal: FsHal & Record<string, unknown> = {
  open(path, mode) {
    try {
      const c = card();
      const fd = openAt(c, path, mode);
      const halFd: FsFd = {
        read: (buf, pos) => {
          try {
            return readFd(fd, buf, pos);
          } catch (e) {
            if (e instanceof FsFail) return e.errno;
            throw e;
          }
        },
        write: (data) => writeFd(c, fd, data, -1),
        bytes: () => fd.node.data.subarray(0, fd.node.size),
        close: () => {
          fd.closed = true;
        },
      };
      return halFd;
    } catch (e) {
      if (e instanceof FsFail) return e.errno;
      throw e;
    }
  },
  readFile(path) {
    try {
      const fd = openAt(card(), path, "r");
      return fd.node.data.slice(0, fd.node.size);
    } catch (e) {
      if (e instanceof FsFail) return e.errno;
      throw e;
    }
  },
  /** Test side: put a file on the card (parents made), counted but never refused for space. */
  seed(path: string, data: Uint8Array): void {
    const c = card();
    const comps = mapPath(path);
    mkdirAt(c, "/" + ["sdcard", ...comps.slice(0, -1)].join("/"), true);
    const parent = parentOf(c, comps);
    const old = parent.entries.get(comps[comps.length - 1]);
    if (old) release(c, sizeOfTree(old));
    const f = newFile();
    setSize(f, data.length);
    f.data.set(data);
    parent.entries.set(comps[comps.length - 1], f);
    c.used += data.length;
  },
  /** Test side: every file on the card (/tmp's under /tmp), with its size. */
  tree(): Record<string, number> {
    const out: Record<string, number> = {};
    const walk = (n: Node, at: string) => {
      if (n.kind === "file") out[at] = n.size;
      else for (const [k, m] of [...n.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) walk(m, at === "/sdcard" && k === ".tmp" ? "/tmp" : `${at}/${k}`);
    };
    walk(card().root, "/sdcard");
    return out;
  },
  used(): number {
    return card().used;
  },
};
world.expose("fs.hal", fsHal);
