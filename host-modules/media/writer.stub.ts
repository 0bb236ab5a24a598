// What the recording writers' stubs (qcam:mp4's Mp4Writer, qcam:ts's
// TsWriter) share, as the runtime shares it: the segmenting core
// (media/segmenter.c: files named from the path pattern, segments, a full
// card, the first error) as a base class the container's writer extends with
// the same ops, and the class binding (media/writer_js.c: options, the event
// queue posted to the app's loop, write/flush/close with the same errors).
// Not a module of its own: the two stubs import it.
import { open as fsOpen, remove as fsRemove, stat as fsStat, type File as FsFile } from "qcam:fs";
import { providerOf, type LinkSink, type Packet } from "../../build/testing/media.ts";
import { checkKeys, errnoError, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";
import { ERRNO } from "../../build/testing/errors.ts";

export const isObject = (v: unknown): v is Record<string, unknown> => (typeof v === "object" || typeof v === "function") && v !== null;
export const codeOf = (e: unknown): string => (isObject(e) && typeof e.code === "string" && ERRNO[e.code] ? e.code : "EIO");
export const errnoOf = (name: string, what: string) => errnoError(ERRNO[name] ? name : "EIO", what);

/** qcam_mp4_expand_path (mp4_write.c), which every writer's segments use. */
export function expandPath(pattern: string, index: number, wallMs: number): string | null {
  const d = new Date(wallMs);
  const two = (n: number) => String(n).padStart(2, "0");
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c !== "%") {
      out += c;
      continue;
    }
    i++;
    const zero = pattern[i] === "0";
    let width = 0;
    while (pattern[i] >= "0" && pattern[i] <= "9") width = width * 10 + Number(pattern[i++]);
    if (width > 20) return null;
    switch (pattern[i]) {
      case "i": out += String(index).padStart(width, zero ? "0" : " "); break;
      case "Y": out += String(d.getUTCFullYear()).padStart(4, "0"); break;
      case "m": out += two(d.getUTCMonth() + 1); break;
      case "d": out += two(d.getUTCDate()); break;
      case "H": out += two(d.getUTCHours()); break;
      case "M": out += two(d.getUTCMinutes()); break;
      case "S": out += two(d.getUTCSeconds()); break;
      case "%": out += "%"; break;
      default: return null;
    }
  }
  return new TextEncoder().encode(out).length >= 512 ? null : out;
}

/** NAL units as Annex B (4-byte start codes); empty and missing ones left out. */
export function annexB(...nals: (Uint8Array | undefined)[]): Uint8Array {
  const parts = nals.filter((n): n is Uint8Array => !!n && n.length > 0);
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set([0, 0, 0, 1], o);
    out.set(p, o + 4);
    o += 4 + p.length;
  }
  return out;
}

// ------------------------------------------------------------------ the segmenting core (segmenter.c)

/** qcam_segment_info as the app sees it. */
export interface SegmentInfo {
  path: string;
  index: number;
  duration: number;
  size: number;
  frames: number;
  full: boolean;
}

export type PendingEvent = { segment?: SegmentInfo; error?: { code: string; path: string }; full?: string };

/** What the core reads of a writer's configuration (qcam_writer_config). */
export interface SegmenterCfg {
  pattern: string;
  segSeconds: number;
  segBytes: number;
  onSegment: ((i: SegmentInfo) => void) | undefined;
  onError: ((e: Error & { code: string }) => void) | undefined;
  onFull: ((path: string) => void) | undefined;
}

/**
 * qcam_segmenter: the files of a writer. The container's part is the
 * abstract methods (qcam_segmenter_ops); a subclass opens the first file
 * (openFile(), which throws the fs error) at the end of its constructor.
 */
export abstract class Segmenter<C extends SegmenterCfg> {
  path = "";
  file: FsFile | null = null;
  started = false;
  originUs = 0;
  fileLen = 0;
  segIndex = 0;
  segments = 0;
  dropped = 0;
  error: string | null = null;
  closed = false;
  full = false; // segments: the card was full; waiting for room
  retryUs = 0; // the pts from which the next file may start
  lastPtsUs = 0;
  sink: LinkSink;

  constructor(kind: string, readonly cfg: C, readonly post: (ev: PendingEvent) => void) {
    this.sink = { kind, busy: 0, write: (p) => this.write(p), flush: () => this.flush() };
  }

  /** 0: no track for the packet, 1: the video track, 2: another (audio). */
  protected abstract track(pkt: Packet): 0 | 1 | 2;
  protected abstract writePacket(pkt: Packet, video: boolean): 0 | string;
  /** Write out all that is buffered. */
  protected abstract emit(): 0 | string;
  /** Forget what is buffered, counting its video frames in `dropped`. */
  protected abstract drop(): void;
  /** A new file is open: its own state from zero. */
  protected abstract resetFile(): void;
  /** The file has its origin: write what a file begins with. */
  protected begin(): 0 | string {
    return 0;
  }
  /** Whether the file has media on the card (a full card removes one that has none). */
  protected abstract hasMedia(): boolean;
  /** Whether the file, its buffer written out, is kept (else removed). */
  protected abstract kept(): boolean;
  /** The file is closed: finish it, fill in `info`; 0 or an error. */
  protected abstract finished(info: SegmentInfo, end: number, kept: boolean): 0 | string;

  get segmented(): boolean {
    return this.cfg.segSeconds > 0 || this.cfg.segBytes > 0;
  }

  /** The first error stops the writer; a full card does not stop a segmented one (cardFull() answers it). */
  fail(code: string): string {
    if (code === "ENOSPC" && this.segmented) return code;
    if (!this.error) {
      this.error = code;
      if (this.cfg.onError) this.post({ error: { code, path: this.path } });
    }
    return this.error;
  }
  stoppedResult(): 0 | string {
    return this.cfg.onError ? 0 : this.error!;
  }

  openFile(): void {
    const p = this.segmented ? expandPath(this.cfg.pattern, this.segIndex, world.wallUs() / 1000) : this.cfg.pattern;
    if (p === null) throw Object.assign(new Error("bad pattern"), { code: "EINVAL" });
    this.path = p;
    // a writer's open makes missing folders; what cannot be made shows in its error
    this.file = fsOpen(p, "w");
    this.started = false;
    this.fileLen = 0;
    this.resetFile();
  }

  fileSize(): number {
    try {
      return fsStat(this.path).size;
    } catch {
      return this.fileLen;
    }
  }

  /** Write the rest and close the file; one not kept is removed. */
  finishFile(end: number): { r: 0 | string; info: SegmentInfo } {
    const info: SegmentInfo = { path: this.path, index: this.segIndex, duration: 0, size: 0, frames: 0, full: false };
    if (!this.file) return { r: 0, info }; // a next segment that could not be created: nothing to finish
    let r: 0 | string = this.error ? 0 : this.emit();
    if (r) end = 0;
    if (r === "ENOSPC" && this.segmented) {
      this.drop(); // what is buffered did not fit: the file ends before it
      r = 0;
      info.full = true;
    }
    this.file.close();
    this.file = null;
    const kept = this.kept();
    if (!kept) {
      try {
        fsRemove(this.path);
      } catch {
        /* nothing there */
      }
    }
    const f = this.finished(info, end, kept);
    if (f) r = f;
    if (kept) this.segments++;
    this.started = false;
    return { r, info };
  }

  startFile(ptsUs: number): 0 | string {
    if (!this.file) {
      try {
        this.openFile();
      } catch (e) {
        return this.fail(codeOf(e));
      }
    }
    this.originUs = ptsUs;
    const r = this.begin();
    if (r) return r;
    this.started = true;
    this.full = false;
    return 0;
  }

  segmentDue(t: number, timescale: number, buffered: number): boolean {
    if (this.cfg.segSeconds > 0 && t >= this.cfg.segSeconds * timescale - 0.5) return true;
    return this.cfg.segBytes > 0 && this.fileLen + buffered >= this.cfg.segBytes;
  }

  nextSegment(ptsUs: number, end: number): 0 | string {
    const { r, info } = this.finishFile(end);
    if (r) return r;
    this.post({ segment: info });
    this.segIndex++;
    try {
      this.openFile();
    } catch (e) {
      return this.fail(codeOf(e));
    }
    return this.startFile(ptsUs);
  }

  /** card_full: tell onFull, end this file at its last complete write and wait for
   * room from `ptsUs` + 1 s on. A file without media on the card is removed, not reported. */
  cardFull(ptsUs: number): 0 {
    this.drop();
    this.full = true;
    this.retryUs = ptsUs + 1_000_000;
    this.post({ full: this.path });
    if (!this.file) return 0;
    if (!this.hasMedia()) {
      this.file.close();
      this.file = null;
      try {
        fsRemove(this.path);
      } catch {
        /* nothing there */
      }
      this.started = false;
      return 0;
    }
    const { info } = this.finishFile(0);
    this.post({ segment: { ...info, full: true } });
    this.segIndex++;
    return 0;
  }

  /** qcam_segmenter_write: 0, "EINVAL" (no track for the codec) or the error. */
  write(pkt: Packet): 0 | string {
    if (this.closed) return "EBADF";
    if (this.error) return this.stoppedResult();
    const track = this.track(pkt);
    if (!track) return "EINVAL";
    const video = track === 1;
    if (this.full && pkt.ptsUs < this.retryUs) {
      if (video) this.dropped++; // waiting for room on a full card
      return 0;
    }
    this.lastPtsUs = pkt.ptsUs;
    let r = this.writePacket(pkt, video);
    if (r === "ENOSPC" && this.segmented) {
      if (video) this.dropped++; // a packet that meets a full card is not kept
      r = this.cardFull(pkt.ptsUs);
    }
    return r ? this.stoppedResult() : 0;
  }

  flush(): 0 | string {
    if (this.closed) return "EBADF";
    let r = this.error ? this.stoppedResult() : this.emit();
    if (r === "ENOSPC" && this.segmented) r = this.cardFull(this.lastPtsUs);
    return r ? this.stoppedResult() : 0;
  }

  close(): { r: 0 | string; info: SegmentInfo } {
    const before = this.error;
    const { r, info } = this.finishFile(0);
    this.closed = true;
    return { r: r && !before && !this.cfg.onError ? r : 0, info };
  }
}

// ------------------------------------------------------------------ options (writer_js.c)

export const bad = (kind: "TypeError" | "RangeError", msg: string): never => throwQcam(kind, "ERR_INVALID_ARG", msg);

export function intProp(o: Record<string, unknown>, name: string, lo: number, hi: number, msg: string): number | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== "number") bad("TypeError", msg);
  const d = v as number;
  if (!(d >= lo && d <= hi) || d !== Math.floor(d)) bad("RangeError", msg);
  return d;
}

export interface VideoOption {
  codec: "h264" | "h265";
  width: number;
  height: number;
  /** An Encoder: parameter sets come from it. */
  encoder: object | null;
  /** Given parameter sets (NAL units), not checked yet. */
  params: { vps?: Uint8Array; sps: Uint8Array; pps: Uint8Array } | null;
}

/** The `video` option: an Encoder or {codec, width, height, parameterSets?}. */
export function parseVideo(v: unknown, cls: string): VideoOption {
  if (!isObject(v)) bad("TypeError", "video must be an Encoder or {codec, width, height, parameterSets?}");
  const vo = v as Record<string, unknown>;
  checkKeys(vo, `${cls} video`, ["codec", "width", "height", "parameterSets"]);
  const isEncoder = !!providerOf(vo)?.encoder; // a class object: the Encoder (closed ones throw on codec)
  const c = vo.codec;
  const codec = c === "h264" || c === "h265" ? c : null;
  if (!codec) bad("TypeError", "video.codec must be \"h264\" or \"h265\"");
  const w = intProp(vo, "width", 16, 8192, "video.width must be an integer 16..8192");
  const h = intProp(vo, "height", 16, 8192, "video.height must be an integer 16..8192");
  if (w === undefined || h === undefined) bad("TypeError", "video needs width and height");
  const out: VideoOption = { codec: codec!, width: w!, height: h!, encoder: null, params: null };
  if (isEncoder) out.encoder = vo;
  else {
    const ps = vo.parameterSets;
    if (ps !== undefined && ps !== null) {
      if (!isObject(ps)) bad("TypeError", "video.parameterSets must be {vps?, sps, pps}");
      checkKeys(ps, "video.parameterSets", ["vps", "sps", "pps"]);
      const got: Record<string, Uint8Array> = {};
      for (const name of ["vps", "sps", "pps"]) {
        const b = (ps as Record<string, unknown>)[name];
        if (b === undefined && (name !== "vps" || codec === "h264")) {
          if (name === "vps") continue;
          bad("TypeError", "video.parameterSets needs sps and pps (and vps for h265)");
        }
        if (!(b instanceof ArrayBuffer) || b.byteLength === 0) bad("TypeError", "video.parameterSets: each one an ArrayBuffer with a NAL unit");
        got[name] = new Uint8Array((b as ArrayBuffer).slice(0));
      }
      out.params = { vps: got.vps, sps: got.sps, pps: got.pps };
    }
  }
  return out;
}

/** `segment` and the callbacks, into `cfg`. */
export function parseSegmentAndCallbacks(opts: Record<string, unknown>, cls: string, cfg: SegmenterCfg): void {
  const seg = opts.segment;
  if (seg !== undefined) {
    if (!isObject(seg)) bad("TypeError", "segment must be {seconds?, bytes?}");
    const so = seg as Record<string, unknown>;
    checkKeys(so, `${cls} segment`, ["seconds", "bytes"]);
    if (so.seconds !== undefined) {
      if (typeof so.seconds !== "number") bad("TypeError", "segment.seconds must be a number > 0");
      const s = so.seconds as number;
      if (!(s > 0 && s <= 86400 * 7)) bad("RangeError", "segment.seconds must be a number > 0");
      cfg.segSeconds = s;
    }
    cfg.segBytes = intProp(so, "bytes", 1, Number.MAX_SAFE_INTEGER, "segment.bytes must be an integer >= 1") ?? 0;
    if (cfg.segSeconds <= 0 && cfg.segBytes === 0) bad("TypeError", "segment needs seconds or bytes");
  }
  for (const name of ["onSegment", "onError", "onFull"] as const) {
    const f = opts[name];
    if (f !== undefined && typeof f !== "function") bad("TypeError", `${name} must be a function`);
  }
  cfg.onSegment = opts.onSegment as SegmenterCfg["onSegment"];
  cfg.onFull = opts.onFull as SegmenterCfg["onFull"];
  cfg.onError = opts.onError as SegmenterCfg["onError"];
}

// ------------------------------------------------------------------ the class (writer_js.c)

interface WriterState<W> {
  w: W | null;
  handle: Handle | null;
  pending: PendingEvent[];
  drain: () => void;
}

/** One writer class's binding: its handles, and the methods every writer has. */
export class WriterClass<W extends Segmenter<SegmenterCfg>> {
  private readonly states = new WeakMap<object, WriterState<W>>();
  constructor(readonly name: string) {}

  /** The constructor's first checks: (path: string, options: object). */
  checkArgs(argc: number, path: unknown, options: unknown, shape: string): void {
    if (argc < 1 || typeof path !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", `new ${this.name}(path: string, options)`);
    if (argc < 2 || !isObject(options)) throwQcam("TypeError", "ERR_INVALID_ARG", `new ${this.name}(path, ${shape})`);
  }

  /** A segment path pattern takes %i, %03i, %Y %m %d %H %M %S and %% only. */
  checkPattern(path: string, cfg: SegmenterCfg): void {
    if ((cfg.segSeconds > 0 || cfg.segBytes > 0) && expandPath(path, 0, 0) === null)
      throwQcam("TypeError", "ERR_INVALID_ARG", "path pattern: %i, %03i, %Y %m %d %H %M %S or %% only");
  }

  /** Open the writer for `self`; `opened` throws what a writer that cannot open throws. */
  open(self: object, cfg: SegmenterCfg, make: (post: (ev: PendingEvent) => void) => W, failed: (e: unknown) => never): void {
    const state: WriterState<W> = { w: null, handle: null, pending: [], drain: () => {} };
    // Reports queue up and a drain is posted to the loop; close() drains what is left itself.
    state.drain = () => {
      for (let ev = state.pending.shift(); ev; ev = state.pending.shift()) {
        try {
          if (ev.segment && typeof cfg.onSegment === "function") cfg.onSegment({ ...ev.segment });
          if (ev.full !== undefined && typeof cfg.onFull === "function") cfg.onFull(ev.full);
          if (ev.error && typeof cfg.onError === "function") cfg.onError(errnoOf(ev.error.code, `cannot write ${ev.error.path}`) as Error & { code: string });
        } catch (e) {
          world.reportUncaught(e);
        }
      }
    };
    const post = (ev: PendingEvent) => {
      state.pending.push(ev);
      world.post(state.drain);
    };
    try {
      state.w = make(post);
    } catch (e) {
      failed(e);
    }
    state.handle = world.track(this.name, self);
    this.states.set(self, state);
  }

  private state(self: unknown): WriterState<W> {
    if (!isObject(self) || !this.states.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", `expected a ${this.name}`);
    return this.states.get(self)!;
  }

  /** The open writer of `self` (ERR_CLOSED after close()). */
  of(self: unknown): W {
    const s = this.state(self);
    if (!s.w) throwQcam("TypeError", "ERR_CLOSED", `${this.name} is closed`);
    return s.w!;
  }

  write(self: unknown, argc: number, frame: unknown): void {
    const w = this.of(self);
    if (w.sink.busy) throwQcam("Error", "ERR_BUSY", "this writer is fed by a link; write() is for pull mode");
    const get = argc > 0 ? providerOf(frame)?.packet : undefined;
    if (!get) throwQcam("TypeError", "ERR_INVALID_ARG", "write(frame: Frame)");
    const pkt = get!();
    const r = w.write(pkt);
    if (r === "EINVAL") throwQcam("TypeError", "ERR_INVALID_ARG", `this writer has no track for ${pkt.codec} frames`);
    if (r) throw errnoOf(r, `cannot write ${w.path}`);
  }

  flush(self: unknown): void {
    const w = this.of(self);
    const r = w.flush();
    if (r) throw errnoOf(r, `cannot write ${w.path}`);
  }

  close(self: unknown): SegmentInfo | undefined {
    const s = this.state(self);
    const w = s.w;
    if (!w) return undefined;
    if (w.sink.busy) throwQcam("Error", "ERR_BUSY", "close the link feeding this writer first");
    s.w = null;
    s.handle?.release();
    const { r, info } = w.close();
    s.drain(); // what the app has not heard yet, before close() returns
    if (r) throw errnoOf(r, `cannot finish ${info.path}`);
    return info;
  }

  /** `kind` and Symbol.dispose (close) on the class's prototype. */
  static finish(cls: { prototype: { close(): unknown } }, kind: string): void {
    Object.defineProperty(cls.prototype, "kind", { value: kind, configurable: true, writable: false, enumerable: false });
    Object.defineProperty(cls.prototype, Symbol.dispose, { value: cls.prototype.close, writable: true, configurable: true });
  }
}
