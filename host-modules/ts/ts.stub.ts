// qcam:ts for tests on a PC. Mirrors mod_ts.c, ts_write.c and ts_mux.c over
// the qcam:fs stub's card: the TsWriter writes the same bytes as the runtime
// (same packets, same buffering: one write per second of video, at a
// segment's end, on flush() and close()), so sizes and what a full card
// cuts off match byte for byte. Segments, `%i`/`%03i`/`%Y %m %d %H %M %S`
// patterns (the world's wall clock, UTC), onSegment/onFull/onError posted
// to the app's loop (close() delivers what is still queued), a full card
// (world.sdcardSizeMb, or the fs.write fault) as in ts_write.h.
//
// Not modelled: threads (a link's writes run on virtual time), fsync.
import type * as Api from "qcam:ts";
import type { Frame } from "qcam:video";
import type * as Self from "./ts.stub.ts";
import "qcam:video";
import { open as fsOpen, readFile as fsReadFile, remove as fsRemove, rename as fsRename, stat as fsStat, type File as FsFile } from "qcam:fs";
import { annexbInit, classify, findParams, parseH264Sps, parseH265Sps, splitAus } from "../../build/testing/annexb.ts";
import { provide, providerOf, type LinkSink, type Packet } from "../../build/testing/media.ts";
import { checkKeys, conforms, errnoError, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";
import { ERRNO } from "../../build/testing/errors.ts";

conforms<typeof Api, typeof Self>(true);

const isObject = (v: unknown): v is Record<string, unknown> => (typeof v === "object" || typeof v === "function") && v !== null;
const codeOf = (e: unknown): string => (isObject(e) && typeof e.code === "string" && ERRNO[e.code] ? e.code : "EIO");
const errnoOf = (name: string, what: string) => errnoError(ERRNO[name] ? name : "EIO", what);

// ------------------------------------------------------------------ the muxer (ts_mux.c)

const PACKET = 188;
const PMT_PID = 0x1000;
const VIDEO_PID = 0x100;
const PTS_OFFSET = 126000;
const PCR_LEAD = 63000;
const MOD33 = 2 ** 33;
const CLOCK = 90000;

function crc32(p: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of p) {
    crc = (crc ^ (byte << 24)) >>> 0;
    for (let b = 0; b < 8; b++) crc = crc & 0x80000000 ? ((crc << 1) ^ 0x04c11db7) >>> 0 : (crc << 1) >>> 0;
  }
  return crc;
}

class Mux {
  ccPat = 0;
  ccPmt = 0;
  ccVideo = 0;
  constructor(readonly codec: "h264" | "h265") {}

  private psi(out: Uint8Array, at: number, pid: number, cc: number, section: number[]): void {
    out.fill(0xff, at, at + PACKET);
    out.set([0x47, 0x40 | (pid >> 8), pid & 0xff, 0x10 | cc, 0], at);
    out.set(section, at + 5);
    const crc = crc32(Uint8Array.from(section));
    out.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], at + 5 + section.length);
  }

  psiPackets(out: Uint8Array, at: number): number {
    this.psi(out, at, 0, this.ccPat, [0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff]);
    this.ccPat = (this.ccPat + 1) & 15;
    this.psi(out, at + PACKET, PMT_PID, this.ccPmt, [0x02, 0xb0, 0x12, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
      this.codec === "h264" ? 0x1b : 0x24, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00]);
    this.ccPmt = (this.ccPmt + 1) & 15;
    return 2 * PACKET;
  }

  static bound(auLen: number, psLen: number): number {
    return (2 + 1 + Math.floor((14 + 7 + psLen + auLen) / 176)) * PACKET;
  }

  /** The AUD at the front of au (start code included): its length, or 0. */
  private leadingAud(au: Uint8Array): number {
    const len = au.length;
    const sc = len >= 4 && !au[0] && !au[1] && !au[2] && au[3] === 1 ? 4 : len >= 3 && !au[0] && !au[1] && au[2] === 1 ? 3 : 0;
    if (!sc || sc >= len) return 0;
    const t = this.codec === "h264" ? au[sc] & 0x1f : (au[sc] >> 1) & 0x3f;
    if (t !== (this.codec === "h264" ? 9 : 35)) return 0;
    for (let i = sc + 1; i + 2 < len; i++)
      if (!au[i] && !au[i + 1] && (au[i + 2] === 1 || (au[i + 2] === 0 && i + 3 < len && au[i + 3] === 1))) return i;
    return len;
  }

  au(au: Uint8Array, ps: Uint8Array | null, pts90: number, key: boolean, out: Uint8Array, at: number): number {
    let o = at;
    if (key) o += this.psiPackets(out, o);
    const pts = (pts90 + PTS_OFFSET) % MOD33;
    const pcr = (pts - PCR_LEAD + MOD33) % MOD33;
    const aud = this.leadingAud(au);
    const head = new Uint8Array(14);
    const audBytes = aud ? au.subarray(0, aud) : Uint8Array.from(this.codec === "h264" ? [0, 0, 0, 1, 0x09, 0xf0] : [0, 0, 0, 1, 0x46, 0x01, 0x50]);
    const parts = [head, audBytes, ps ?? new Uint8Array(0), au.subarray(aud)];
    const es = parts[1].length + parts[2].length + parts[3].length;
    const pesLen = 8 + es <= 0xffff ? 8 + es : 0;
    const hi = Math.floor(pts / 2 ** 30); // bits 32..30
    head.set([0, 0, 1, 0xe0, pesLen >> 8, pesLen & 0xff, 0x84, 0x80, 5,
      0x21 | ((hi & 7) << 1), Math.floor(pts / 2 ** 22) & 0xff, ((Math.floor(pts / 2 ** 15) & 0x7f) << 1) | 1,
      Math.floor(pts / 2 ** 7) & 0xff, ((pts & 0x7f) << 1) | 1]);
    const payload = new Uint8Array(14 + es);
    let p = 0;
    for (const part of parts) {
      payload.set(part, p);
      p += part.length;
    }
    let left = payload.length;
    let from = 0;
    let first = true;
    while (left) {
      let af = first ? 8 : 0;
      let n = PACKET - 4 - af;
      if (n > left) {
        af += n - left;
        n = left;
      }
      out[o] = 0x47;
      out[o + 1] = (first ? 0x40 : 0) | (VIDEO_PID >> 8);
      out[o + 2] = VIDEO_PID & 0xff;
      out[o + 3] = (af ? 0x30 : 0x10) | this.ccVideo;
      this.ccVideo = (this.ccVideo + 1) & 15;
      if (af) {
        out[o + 4] = af - 1;
        if (af > 1) {
          out[o + 5] = first ? 0x10 | (key ? 0x40 : 0) : 0;
          let q = 6;
          if (first) {
            out.set([Math.floor(pcr / 2 ** 25) & 0xff, Math.floor(pcr / 2 ** 17) & 0xff, Math.floor(pcr / 2 ** 9) & 0xff, Math.floor(pcr / 2) & 0xff, ((pcr % 2) << 7) | 0x7e, 0], o + 6);
            q = 12;
          }
          out.fill(0xff, o + q, o + 4 + af);
        }
      }
      out.set(payload.subarray(from, from + n), o + 4 + af);
      from += n;
      left -= n;
      o += PACKET;
      first = false;
    }
    return o - at;
  }
}

// ------------------------------------------------------------------ the writer (ts_write.c)

interface Cfg {
  pattern: string;
  codec: "h264" | "h265";
  params: Uint8Array | null; // Annex B
  encoder: { parameterSets(): { vps?: ArrayBuffer; sps: ArrayBuffer; pps: ArrayBuffer } | null } | null;
  segSeconds: number;
  segBytes: number;
  onSegment: ((i: Api.TsSegmentInfo) => void) | undefined;
  onError: ((e: Error & { code: string }) => void) | undefined;
  onFull: ((path: string) => void) | undefined;
}

/** qcam_mp4_expand_path (mp4_write.c), which the runtime's TsWriter shares with Mp4Writer. */
function expandPath(pattern: string, index: number, wallMs: number): string | null {
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

function annexB(...nals: (Uint8Array | undefined)[]): Uint8Array {
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

type PendingEvent = { segment?: Api.TsSegmentInfo; error?: { code: string; path: string }; full?: string };

class Writer {
  path = "";
  file: FsFile | null = null;
  ps: Uint8Array | null;
  mux: Mux;
  started = false;
  originUs = 0;
  fileLen = 0;
  buf = new Uint8Array(0);
  bufLen = 0;
  bufFrames = 0;
  bufDts = 0;
  lastDts = 0;
  lastDur = 0;
  fileFrames = 0;
  writtenDts = 0;
  writtenDur = 0;
  segIndex = 0;
  videoFrames = 0;
  segments = 0;
  dropped = 0;
  error: string | null = null;
  closed = false;
  full = false;
  retryUs = 0;
  lastPtsUs = 0;
  sink: LinkSink;

  constructor(readonly cfg: Cfg, readonly post: (ev: PendingEvent) => void) {
    this.ps = cfg.params;
    this.mux = new Mux(cfg.codec);
    this.sink = { kind: "ts", busy: 0, write: (p) => this.write(p), flush: () => this.flush() };
    this.openFile(); // throws the fs error
  }

  get segmented(): boolean {
    return this.cfg.segSeconds > 0 || this.cfg.segBytes > 0;
  }

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
    this.file = fsOpen(p, "w"); // makes missing folders
    Object.assign(this, { started: false, fileLen: 0, bufLen: 0, bufFrames: 0, fileFrames: 0, writtenDts: 0, writtenDur: 0, lastDur: 0 });
    this.mux = new Mux(this.cfg.codec);
  }

  writeBuffer(): 0 | string {
    if (this.error) return this.error;
    if (!this.file || !this.bufLen) return 0;
    try {
      this.file.write(this.buf.subarray(0, this.bufLen), this.fileLen);
    } catch (e) {
      try {
        this.file.truncate(this.fileLen);
      } catch {
        /* as in C: best effort */
      }
      return this.fail(codeOf(e));
    }
    this.fileLen += this.bufLen;
    this.fileFrames += this.bufFrames;
    this.videoFrames += this.bufFrames;
    this.writtenDts = this.lastDts;
    this.writtenDur = this.lastDur;
    this.bufLen = 0;
    this.bufFrames = 0;
    return 0;
  }

  dropBuffer(): void {
    this.dropped += this.bufFrames;
    this.bufLen = 0;
    this.bufFrames = 0;
  }

  finishFile(end: number): { r: 0 | string; info: Api.TsSegmentInfo } {
    const info: Api.TsSegmentInfo = { path: this.path, index: this.segIndex, duration: 0, size: 0, frames: 0, full: false };
    if (!this.file) return { r: 0, info };
    let r: 0 | string = this.error ? 0 : this.writeBuffer();
    if (r || this.bufFrames) end = 0;
    if (r === "ENOSPC" && this.segmented) {
      this.dropBuffer();
      r = 0;
      info.full = true;
    }
    this.file.close();
    this.file = null;
    const kept = this.fileLen > 0;
    if (!kept) {
      try {
        fsRemove(this.path);
      } catch {
        /* nothing there */
      }
    } else {
      try {
        info.size = fsStat(this.path).size;
      } catch {
        info.size = this.fileLen;
      }
      info.frames = this.fileFrames;
      info.duration = (end ? end : this.writtenDts + (this.writtenDur || 3000)) / CLOCK;
      this.segments++;
    }
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
    this.started = true;
    this.full = false;
    return 0;
  }

  segmentDue(dts: number): boolean {
    if (this.cfg.segSeconds > 0 && dts >= this.cfg.segSeconds * CLOCK - 0.5) return true;
    return this.cfg.segBytes > 0 && this.fileLen + this.bufLen >= this.cfg.segBytes;
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

  cardFull(ptsUs: number): 0 {
    this.dropBuffer();
    this.full = true;
    this.retryUs = ptsUs + 1_000_000;
    this.post({ full: this.path });
    if (!this.file) return 0;
    if (this.fileLen === 0) {
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

  /** keyframe_params: in-band sets are kept (nothing to add); else the known ones; null when there are none. */
  keyframeParams(pkt: Packet): { add: boolean } | null {
    const p = findParams(this.cfg.codec, pkt.data);
    if (p.sps && p.pps && (this.cfg.codec === "h264" || p.vps)) {
      this.ps = annexB(p.vps, p.sps, p.pps);
      return { add: false };
    }
    if (!this.ps && this.cfg.encoder) {
      const e = this.cfg.encoder.parameterSets();
      if (e) this.ps = annexB(e.vps ? new Uint8Array(e.vps) : undefined, new Uint8Array(e.sps), new Uint8Array(e.pps));
    }
    return this.ps ? { add: true } : null;
  }

  writeVideo(pkt: Packet): 0 | string {
    let add = false;
    if (!this.started) {
      const k = pkt.keyframe ? this.keyframeParams(pkt) : null;
      if (!k) {
        this.dropped++;
        return 0;
      }
      add = k.add;
      const r = this.startFile(pkt.ptsUs);
      if (r) return r;
    } else if (pkt.keyframe) add = this.keyframeParams(pkt)?.add ?? false;
    let first = this.fileLen === 0 && this.bufFrames === 0;
    const rel = pkt.ptsUs - this.originUs;
    let dts = rel <= 0 ? 0 : Math.floor((rel * CLOCK + 500000) / 1000000);
    if (!first && dts <= this.lastDts) dts = this.lastDts + 1;
    if (!first && pkt.keyframe && this.segmented && this.segmentDue(dts)) {
      const r = this.nextSegment(pkt.ptsUs, dts);
      if (r) return r;
      dts = 0;
      first = true;
    } else if (this.bufFrames && dts - this.bufDts >= CLOCK) {
      const r = this.writeBuffer();
      if (r) return r;
    }
    const ps = add ? this.ps : null;
    const need = Mux.bound(pkt.data.length, ps ? ps.length : 0);
    if (this.bufLen + need > this.buf.length) {
      let cap = this.buf.length || 65536;
      while (cap < this.bufLen + need) cap *= 2;
      const b = new Uint8Array(cap);
      b.set(this.buf.subarray(0, this.bufLen));
      this.buf = b;
    }
    this.bufLen += this.mux.au(pkt.data, ps, dts, pkt.keyframe, this.buf, this.bufLen);
    if (this.bufFrames === 0) this.bufDts = dts;
    this.bufFrames++;
    this.lastDur = first ? 0 : dts - this.lastDts;
    this.lastDts = dts;
    return 0;
  }

  write(pkt: Packet): 0 | string {
    if (this.closed) return "EBADF";
    if (this.error) return this.stoppedResult();
    if (pkt.codec !== this.cfg.codec) return "EINVAL";
    if (this.full && pkt.ptsUs < this.retryUs) {
      this.dropped++;
      return 0;
    }
    this.lastPtsUs = pkt.ptsUs;
    let r = this.writeVideo(pkt);
    if (r === "ENOSPC" && this.segmented) {
      this.dropped++;
      r = this.cardFull(pkt.ptsUs);
    }
    return r ? this.stoppedResult() : 0;
  }

  flush(): 0 | string {
    if (this.closed) return "EBADF";
    let r = this.error ? this.stoppedResult() : this.writeBuffer();
    if (r === "ENOSPC" && this.segmented) r = this.cardFull(this.lastPtsUs);
    return r ? this.stoppedResult() : 0;
  }

  close(): { r: 0 | string; info: Api.TsSegmentInfo } {
    const before = this.error;
    const { r, info } = this.finishFile(0);
    this.closed = true;
    return { r: r && !before && !this.cfg.onError ? r : 0, info };
  }
}

// ------------------------------------------------------------------ TsWriter (mod_ts.c)

interface WriterState {
  w: Writer | null;
  handle: Handle | null;
  pending: PendingEvent[];
  drain: () => void;
}
const writers = new WeakMap<object, WriterState>();

function writerOf(self: unknown): Writer {
  if (!isObject(self) || !writers.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a TsWriter");
  const s = writers.get(self)!;
  if (!s.w) throwQcam("TypeError", "ERR_CLOSED", "TsWriter is closed");
  return s.w;
}

const bad = (kind: "TypeError" | "RangeError", msg: string): never => throwQcam(kind, "ERR_INVALID_ARG", msg);

function intProp(o: Record<string, unknown>, name: string, lo: number, hi: number, msg: string): number | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== "number") bad("TypeError", msg);
  const d = v as number;
  if (!(d >= lo && d <= hi) || d !== Math.floor(d)) bad("RangeError", msg);
  return d;
}

function parseOptions(opts: Record<string, unknown>, path: string): Cfg & { given: boolean } {
  const cfg: Cfg & { given: boolean } = { pattern: path, codec: "h264", params: null, encoder: null, segSeconds: 0, segBytes: 0, onSegment: undefined, onError: undefined, onFull: undefined, given: false };
  checkKeys(opts, "TsWriter", ["video", "audio", "segment", "onSegment", "onFull", "onError"]);
  const v = opts.video;
  let codec: "h264" | "h265" | null = null;
  if (v !== undefined) {
    if (!isObject(v)) bad("TypeError", "video must be an Encoder or {codec, width, height, parameterSets?}");
    const vo = v as Record<string, unknown>;
    checkKeys(vo, "TsWriter video", ["codec", "width", "height", "parameterSets"]);
    const isEncoder = !!providerOf(vo)?.encoder;
    const c = vo.codec;
    codec = c === "h264" || c === "h265" ? c : null;
    if (!codec) bad("TypeError", "video.codec must be \"h264\" or \"h265\"");
    const w = intProp(vo, "width", 16, 8192, "video.width must be an integer 16..8192");
    const h = intProp(vo, "height", 16, 8192, "video.height must be an integer 16..8192");
    if (w === undefined || h === undefined) bad("TypeError", "video needs width and height");
    if (isEncoder) cfg.encoder = vo as unknown as Cfg["encoder"];
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
        cfg.given = true;
        const info = codec === "h264" ? parseH264Sps(got.sps) : parseH265Sps(got.sps);
        cfg.params = info && (codec === "h264" || got.vps) ? annexB(got.vps, got.sps, got.pps) : null;
      }
    }
  }
  if (opts.audio !== undefined) bad("TypeError", "TsWriter has no audio: G.711 has no standard MPEG-TS mapping (record audio with Mp4Writer)");
  if (!codec) bad("TypeError", "TsWriter needs a video track");
  cfg.codec = codec!;
  const seg = opts.segment;
  if (seg !== undefined) {
    if (!isObject(seg)) bad("TypeError", "segment must be {seconds?, bytes?}");
    const so = seg as Record<string, unknown>;
    checkKeys(so, "TsWriter segment", ["seconds", "bytes"]);
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
  cfg.onSegment = opts.onSegment as Cfg["onSegment"];
  cfg.onFull = opts.onFull as Cfg["onFull"];
  cfg.onError = opts.onError as Cfg["onError"];
  return cfg;
}

export class TsWriter {
  constructor(path: string, options: Api.TsWriterOptions) {
    if (arguments.length < 1 || typeof path !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", "new TsWriter(path: string, options)");
    if (arguments.length < 2 || !isObject(options)) throwQcam("TypeError", "ERR_INVALID_ARG", "new TsWriter(path, {video, segment?, ...})");
    const cfg = parseOptions(options as unknown as Record<string, unknown>, path);
    if ((cfg.segSeconds > 0 || cfg.segBytes > 0) && expandPath(path, 0, 0) === null)
      throwQcam("TypeError", "ERR_INVALID_ARG", "path pattern: %i, %03i, %Y %m %d %H %M %S or %% only");
    if (cfg.given && !cfg.params) throwQcam("TypeError", "ERR_INVALID_ARG", "video.parameterSets: not a usable SPS/PPS");
    const state: WriterState = { w: null, handle: null, pending: [], drain: () => {} };
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
      state.w = new Writer(cfg, post);
    } catch (e) {
      throw errnoOf(codeOf(e), `cannot open ${path}`);
    }
    state.handle = world.track("TsWriter", this);
    writers.set(this, state);
    provide(this, { sink: () => writerOf(this).sink });
  }
  get path(): string {
    return writerOf(this).path;
  }
  stats(): Api.TsWriterStats {
    const w = writerOf(this);
    return { videoFrames: w.videoFrames, bytes: w.fileLen, segments: w.segments, dropped: w.dropped };
  }
  write(frame: Frame): void {
    const w = writerOf(this);
    if (w.sink.busy) throwQcam("Error", "ERR_BUSY", "this writer is fed by a link; write() is for pull mode");
    const get = arguments.length > 0 ? providerOf(frame)?.packet : undefined;
    if (!get) throwQcam("TypeError", "ERR_INVALID_ARG", "write(frame: Frame)");
    const pkt = get!();
    const r = w.write(pkt);
    if (r === "EINVAL") throwQcam("TypeError", "ERR_INVALID_ARG", `this writer has no track for ${pkt.codec} frames`);
    if (r) throw errnoOf(r, `cannot write ${w.path}`);
  }
  flush(): void {
    const w = writerOf(this);
    const r = w.flush();
    if (r) throw errnoOf(r, `cannot write ${w.path}`);
  }
  close(): Api.TsSegmentInfo | undefined {
    if (!isObject(this) || !writers.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a TsWriter");
    const s = writers.get(this)!;
    const w = s.w;
    if (!w) return undefined;
    if (w.sink.busy) throwQcam("Error", "ERR_BUSY", "close the link feeding this writer first");
    s.w = null;
    s.handle?.release();
    const { r, info } = w.close();
    s.drain();
    if (r) throw errnoOf(r, `cannot finish ${info.path}`);
    return info;
  }
  declare readonly kind: "ts";
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(TsWriter.prototype, "kind", { value: "ts", configurable: true, writable: false, enumerable: false });
Object.defineProperty(TsWriter.prototype, Symbol.dispose, { value: TsWriter.prototype.close, writable: true, configurable: true });

// ------------------------------------------------------------------ remux (ts_remux.c)

/** remux(): the same packets as qcam_ts_remux (the whole input read at once: memory is not modelled), written beside the output and renamed over it. */
export function remux(input: string, output: string, ...rest: [options?: Api.TsRemuxOptions]): Api.TsRemuxResult {
  const options = rest[0];
  const usage = 'remux(input: string, output: string, options?: {fps?: number, codec?: "h264" | "h265"})';
  if (arguments.length < 2) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
  let fps = 30;
  let codec: "h264" | "h265" | undefined;
  if (options !== undefined) {
    if (!isObject(options)) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
    const o = options as Record<string, unknown>;
    checkKeys(o, "remux", ["fps", "codec"]);
    if (o.fps !== undefined) {
      const num = typeof o.fps === "number";
      if (!num || !((o.fps as number) > 0 && (o.fps as number) <= 240))
        throwQcam(num ? "RangeError" : "TypeError", "ERR_INVALID_ARG", "remux: fps must be a number (0 < fps <= 240)");
      fps = o.fps as number;
    }
    if (o.codec !== undefined) {
      if (o.codec !== "h264" && o.codec !== "h265") throwQcam("TypeError", "ERR_INVALID_ARG", 'remux: codec must be "h264" or "h265"');
      codec = o.codec as "h264" | "h265";
    }
  }
  for (const p of [input, output]) {
    if (typeof p !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", usage);
    if (p.includes("\0")) throwQcam("TypeError", "ERR_INVALID_ARG", "remux: a path contains a NUL byte");
  }
  if (!codec) {
    const dot = input.lastIndexOf(".");
    const ext = dot >= 0 && !input.slice(dot).includes("/") ? input.slice(dot) : "";
    codec = [".h264", ".264", ".avc"].includes(ext) ? "h264" : [".h265", ".265", ".hevc"].includes(ext) ? "h265" : undefined;
  }
  if (!codec) throwQcam("TypeError", "ERR_INVALID_ARG", 'remux: cannot tell the codec from the file name: pass {codec: "h264" | "h265"}');
  const c = codec!;
  const failed = (e: unknown): never => {
    throw errnoOf(codeOf(e), `cannot remux ${input} to ${output}`);
  };
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fsReadFile(input));
  } catch (e) {
    return failed(e);
  }
  const mux = new Mux(c);
  const st = annexbInit(c);
  const chunks: Uint8Array[] = [];
  let size = 0, frames = 0, keyframes = 0, dropped = 0, width = 0, height = 0;
  let ps: Uint8Array | null = null;
  for (const au of splitAus(c, bytes)) {
    const ai = classify(st, au);
    if (ai.keyframe && ai.hasParams) {
      const p = findParams(c, au);
      const sps = p.sps && p.pps && (c === "h264" || p.vps) ? (c === "h264" ? parseH264Sps(p.sps) : parseH265Sps(p.sps)) : null;
      if (sps && sps.width > 0) {
        ps = annexB(p.vps, p.sps, p.pps);
        width = sps.width;
        height = sps.height;
      }
    }
    if (ai.type === "header") continue;
    if (!ps) {
      dropped++;
      continue;
    }
    const extra = ai.keyframe && !ai.hasParams ? ps : null;
    const out = new Uint8Array(Mux.bound(au.length, extra ? extra.length : 0));
    const n = mux.au(au, extra, Math.round((frames * 90000) / fps), ai.keyframe, out, 0);
    chunks.push(out.subarray(0, n));
    size += n;
    frames++;
    if (ai.keyframe) keyframes++;
  }
  if (!frames)
    throwQcam("Error", "EBADMSG", `no keyframe with usable parameter sets in ${input} (not an ${c === "h264" ? "H.264" : "H.265"} elementary stream, or cut before its first picture)`);
  const slash = output.lastIndexOf("/");
  const dir = slash > 0 ? output.slice(0, slash) : "/";
  const base = output.slice(slash + 1);
  if (!base) failed(Object.assign(new Error("a folder"), { code: "EISDIR" }));
  const tmp = `${dir === "/" ? "" : dir}/.${base}.remux`;
  let f: FsFile | null = null; // (a writer's open makes missing folders)
  try {
    f = fsOpen(tmp, "w");
    let at = 0;
    for (const ch of chunks) {
      f.write(ch, at);
      at += ch.length;
    }
    f.close();
    f = null;
    fsRename(tmp, output);
  } catch (e) {
    try {
      f?.close();
      fsRemove(tmp);
    } catch {
      /* not made, or gone already */
    }
    failed(e);
  }
  return { frames, keyframes, dropped, duration: frames / fps, size, codec: c, width, height };
}

