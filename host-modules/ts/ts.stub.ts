// qcam:ts for tests on a PC. Mirrors mod_ts.c, ts_write.c and ts_mux.c over
// the qcam:fs stub's card: the TsWriter writes the same bytes as the runtime
// (same packets, same buffering: one write per second of video, at a
// segment's end, on flush() and close()), so sizes and what a full card
// cuts off match byte for byte. Segments, `%i`/`%03i`/`%Y %m %d %H %M %S`
// patterns (the world's wall clock, UTC), onSegment/onFull/onError posted
// to the app's loop (close() delivers what is still queued), a full card
// (world.sdcardSizeMb, or the fs.write fault) as in ts_write.h.
//
// Files, segments, a full card, errors and the class shell are the writers'
// shared part (media/writer.stub.ts, as media/segmenter.c and writer_js.c).
// TsReader mirrors ts_read.c and ts_reader_js.c over the whole file read at
// once (memory is not modelled); probe() reads the whole file too (the C side
// reads its first frame and a window at its end: the same result for a file
// not damaged in the middle).
//
// Not modelled: threads (a link's writes run on virtual time), fsync.
import type * as Api from "qcam:ts";
import type { Frame } from "qcam:video";
import type * as Self from "./ts.stub.ts";
import "qcam:video";
import { open as fsOpen, readFile as fsReadFile, remove as fsRemove, rename as fsRename, type File as FsFile } from "qcam:fs";
import { annexbInit, classify, findParams, parseH264Sps, parseH265Sps, scanNal, splitAus } from "../../build/testing/annexb.ts";
import { provide, type Packet } from "../../build/testing/media.ts";
import { checkKeys, conforms, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";
import { annexB, bad, codeOf, errnoOf, isObject, parseSegmentAndCallbacks, parseVideo, Segmenter, WriterClass, type PendingEvent, type SegmenterCfg } from "../media/writer.stub.ts";

conforms<typeof Api, typeof Self>(true);

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

interface Cfg extends SegmenterCfg {
  codec: "h264" | "h265";
  params: Uint8Array | null; // Annex B
  encoder: { parameterSets(): { vps?: ArrayBuffer; sps: ArrayBuffer; pps: ArrayBuffer } | null } | null;
}

/** The MPEG-TS part of the segmenting core (media/writer.stub.ts). */
class Writer extends Segmenter<Cfg> {
  ps: Uint8Array | null;
  mux: Mux;
  buf = new Uint8Array(0);
  bufLen = 0;
  bufFrames = 0;
  bufDts = 0;
  lastDts = 0;
  lastDur = 0;
  fileFrames = 0;
  writtenDts = 0;
  writtenDur = 0;
  videoFrames = 0;

  constructor(cfg: Cfg, post: (ev: PendingEvent) => void) {
    super("ts", cfg, post);
    this.ps = cfg.params;
    this.mux = new Mux(cfg.codec);
    this.openFile(); // throws the fs error
  }

  protected resetFile(): void {
    Object.assign(this, { bufLen: 0, bufFrames: 0, fileFrames: 0, writtenDts: 0, writtenDur: 0, lastDur: 0 });
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
  protected emit(): 0 | string {
    return this.writeBuffer();
  }

  protected drop(): void {
    this.dropped += this.bufFrames;
    this.bufLen = 0;
    this.bufFrames = 0;
  }

  protected hasMedia(): boolean {
    return this.fileLen > 0;
  }
  protected kept(): boolean {
    return this.fileLen > 0;
  }

  protected finished(info: Api.TsSegmentInfo, end: number, kept: boolean): 0 {
    if (kept) {
      info.size = this.fileSize();
      info.frames = this.fileFrames;
      info.duration = (end ? end : this.writtenDts + (this.writtenDur || 3000)) / CLOCK;
    }
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

  protected track(pkt: Packet): 0 | 1 {
    return pkt.codec === this.cfg.codec ? 1 : 0;
  }

  protected writePacket(pkt: Packet): 0 | string {
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
    if (!first && pkt.keyframe && this.segmented && this.segmentDue(dts, CLOCK, this.bufLen)) {
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
}

// ------------------------------------------------------------------ TsWriter (mod_ts.c, media/writer_js.c)

function parseOptions(opts: Record<string, unknown>, path: string): Cfg & { given: boolean } {
  const cfg: Cfg & { given: boolean } = { pattern: path, codec: "h264", params: null, encoder: null, segSeconds: 0, segBytes: 0, onSegment: undefined, onError: undefined, onFull: undefined, given: false };
  checkKeys(opts, "TsWriter", ["video", "audio", "segment", "onSegment", "onFull", "onError"]);
  let codec: "h264" | "h265" | null = null;
  if (opts.video !== undefined) {
    const v = parseVideo(opts.video, "TsWriter");
    codec = v.codec;
    if (v.encoder) cfg.encoder = v.encoder as Cfg["encoder"];
    else if (v.params) {
      const got = v.params;
      cfg.given = true;
      const info = codec === "h264" ? parseH264Sps(got.sps) : parseH265Sps(got.sps);
      cfg.params = info && (codec === "h264" || got.vps) ? annexB(got.vps, got.sps, got.pps) : null;
    }
  }
  if (opts.audio !== undefined) bad("TypeError", "TsWriter has no audio: G.711 has no standard MPEG-TS mapping (record audio with Mp4Writer)");
  if (!codec) bad("TypeError", "TsWriter needs a video track");
  cfg.codec = codec!;
  parseSegmentAndCallbacks(opts, "TsWriter", cfg);
  return cfg;
}

const cls = new WriterClass<Writer>("TsWriter");

export class TsWriter {
  constructor(path: string, options: Api.TsWriterOptions) {
    cls.checkArgs(arguments.length, path, options, "{video, segment?, ...}");
    const cfg = parseOptions(options as unknown as Record<string, unknown>, path);
    cls.checkPattern(path, cfg);
    if (cfg.given && !cfg.params) throwQcam("TypeError", "ERR_INVALID_ARG", "video.parameterSets: not a usable SPS/PPS");
    cls.open(this, cfg, (post) => new Writer(cfg, post), (e) => {
      throw errnoOf(codeOf(e), `cannot open ${path}`);
    });
    provide(this, { sink: () => cls.of(this).sink });
  }
  get path(): string {
    return cls.of(this).path;
  }
  stats(): Api.TsWriterStats {
    const w = cls.of(this);
    return { videoFrames: w.videoFrames, bytes: w.fileLen, segments: w.segments, dropped: w.dropped };
  }
  write(frame: Frame): void {
    cls.write(this, arguments.length, frame);
  }
  flush(): void {
    cls.flush(this);
  }
  close(): Api.TsSegmentInfo | undefined {
    return cls.close(this);
  }
  declare readonly kind: "ts";
  declare [Symbol.dispose]: () => void;
}
WriterClass.finish(TsWriter, "ts");

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


// ------------------------------------------------------------------ TsReader (ts_read.c, ts_reader_js.c)

interface TsFrame {
  offset: number;
  end: number;
  pts: number;
  dts: number;
  size: number;
  key: boolean;
}

interface TsIndex {
  codec: "h264" | "h265";
  pid: number;
  width: number;
  height: number;
  frames: TsFrame[];
  keyframes: number;
  duration: number;
}

class BadTs extends Error {}

const TS_PREFIX = 4096;

/** One TS packet (ts_read.c view_packet). */
function viewPacket(b: Uint8Array, o: number): { pid: number; pusi: boolean; rai: boolean; padded: boolean; pl: number; plLen: number } {
  const v = { pid: ((b[o + 1] & 0x1f) << 8) | b[o + 2], pusi: (b[o + 1] & 0x40) !== 0, rai: false, padded: false, pl: -1, plLen: 0 };
  const afc = (b[o + 3] >> 4) & 3;
  let at = 4;
  if (afc & 2) {
    const af = b[o + 4];
    if (5 + af > PACKET) return v;
    if (af > 0) v.rai = (b[o + 5] & 0x40) !== 0;
    v.padded = af === 0 || b[o + 4 + af] === 0xff;
    at = 5 + af;
  }
  if (afc & 1 && at < PACKET) {
    v.pl = o + at;
    v.plLen = PACKET - at;
  }
  return v;
}

/** A PSI section whole in this packet with a good CRC (ts_read.c psi_section). */
function psiSection(b: Uint8Array, v: ReturnType<typeof viewPacket>, tableId: number): Uint8Array | null {
  if (!v.pusi || v.pl < 0 || v.plLen < 1) return null;
  const at = 1 + b[v.pl];
  if (at + 3 > v.plLen) return null;
  const s = b.subarray(v.pl + at, v.pl + v.plLen);
  const n = 3 + (((s[1] & 0x0f) << 8) | s[2]);
  if (s[0] !== tableId || n < 12 || at + n > v.plLen) return null;
  const crc = ((s[n - 4] << 24) | (s[n - 3] << 16) | (s[n - 2] << 8) | s[n - 1]) >>> 0;
  return crc32(s.subarray(0, n - 4)) === crc ? s.subarray(0, n) : null;
}

const readTs = (p: Uint8Array, o: number) => ((p[o] >> 1) & 7) * 2 ** 30 + p[o + 1] * 2 ** 22 + (p[o + 2] >> 1) * 2 ** 15 + p[o + 3] * 2 ** 7 + (p[o + 4] >> 1);
/** a - b modulo 2^33 as a signed step. */
const step33 = (a: number, b: number) => {
  const d = (((a - b) % MOD33) + MOD33) % MOD33;
  return d >= MOD33 / 2 ? d - MOD33 : d;
};

function parsePes(b: Uint8Array, v: ReturnType<typeof viewPacket>): { head: number; pts: number; dts: number; expect: number } | null {
  const p = v.pl;
  if (p < 0 || v.plLen < 9 || b[p] || b[p + 1] || b[p + 2] !== 1) return null;
  const head = 9 + b[p + 8];
  if (head > v.plLen) return null;
  const flags = b[p + 7] >> 6;
  if (!(flags & 2) || b[p + 8] < 5) return null;
  const pts = readTs(b, p + 9);
  const dts = flags === 3 && b[p + 8] >= 10 ? readTs(b, p + 14) : pts;
  const len = (b[p + 4] << 8) | b[p + 5];
  if (len && len < 3 + b[p + 8]) return null;
  return { head, pts, dts, expect: len ? len - 3 - b[p + 8] : 0 };
}

/** qcam_ts_read over the whole file in memory. */
function readTsIndex(b: Uint8Array): TsIndex {
  const idx: TsIndex = { codec: "h264", pid: 0, width: 0, height: 0, frames: [], keyframes: 0, duration: 0 };
  let pmtPid = -1, videoPid = -1;
  let haveOrigin = false, lastRaw = 0, lastPts = 0;
  type Cur = { offset: number; end: number; pts: number; dts: number; size: number; expect: number; rai: boolean; padded: boolean; prefix: Uint8Array[]; prefixLen: number };
  let c: Cur | null = null;
  const push = (cur: Cur) => {
    c = null;
    if (!cur.size || cur.size > 0xffffffff) return;
    const prefix = new Uint8Array(cur.prefixLen);
    let at = 0;
    for (const part of cur.prefix) {
      prefix.set(part, at);
      at += part.length;
    }
    let key = false;
    const pos = { at: 0 };
    for (let nal = scanNal(prefix, prefix.length, pos); nal; nal = scanNal(prefix, prefix.length, pos)) {
      const bytes = prefix.subarray(nal.begin, nal.end);
      const t = bytes.length >= (idx.codec === "h264" ? 1 : 2) ? (idx.codec === "h264" ? bytes[0] & 0x1f : (bytes[0] >> 1) & 0x3f) : -1;
      if (idx.codec === "h264" ? t === 5 : t >= 16 && t <= 23) key = true;
      if (!idx.width && t === (idx.codec === "h264" ? 7 : 33)) {
        const si = idx.codec === "h264" ? parseH264Sps(bytes) : parseH265Sps(bytes);
        if (si && si.width > 0 && si.height > 0) {
          idx.width = si.width;
          idx.height = si.height;
        }
      }
    }
    key ||= cur.rai;
    idx.frames.push({ offset: cur.offset, end: cur.end, pts: cur.pts, dts: cur.dts, size: cur.size, key });
    if (key) idx.keyframes++;
  };
  const addBytes = (cur: Cur, from: number, n: number) => {
    if (cur.expect && cur.size + n > cur.expect) n = cur.expect - cur.size;
    const k = Math.min(n, TS_PREFIX - cur.prefixLen);
    if (k > 0) {
      cur.prefix.push(b.subarray(from, from + k));
      cur.prefixLen += k;
    }
    cur.size += n;
  };
  const whole = b.length - (b.length % PACKET);
  let pos = 0;
  for (; pos < whole; pos += PACKET) {
    if (b[pos] !== 0x47) break;
    const v = viewPacket(b, pos);
    if (videoPid < 0) {
      let s: Uint8Array | null;
      if (v.pid === 0 && (s = psiSection(b, v, 0x00))) {
        for (let k = 8; k + 4 <= s.length - 4; k += 4) {
          if ((s[k] << 8) | s[k + 1]) {
            pmtPid = ((s[k + 2] & 0x1f) << 8) | s[k + 3];
            break;
          }
        }
      } else if (pmtPid > 0 && v.pid === pmtPid && (s = psiSection(b, v, 0x02))) {
        for (let k = 12 + (((s[10] & 0x0f) << 8) | s[11]); k + 5 <= s.length - 4; k += 5 + (((s[k + 3] & 0x0f) << 8) | s[k + 4])) {
          const pid = ((s[k + 1] & 0x1f) << 8) | s[k + 2];
          if ((s[k] === 0x1b || s[k] === 0x24) && pid !== 0 && pid !== pmtPid && pid !== 0x1fff) {
            videoPid = pid;
            idx.pid = pid;
            idx.codec = s[k] === 0x1b ? "h264" : "h265";
            break;
          }
        }
      }
      continue;
    }
    if (v.pid !== videoPid) continue;
    let cur: Cur | null = c;
    if (v.pusi) {
      if (cur && !cur.expect) push(cur); // unbounded: ends here
      c = cur = null; // bounded and short: dropped
      const h = parsePes(b, v);
      if (!h) continue;
      let pts: number;
      if (!haveOrigin) {
        pts = 0;
        haveOrigin = true;
      } else pts = lastPts + step33(h.pts, lastRaw);
      lastRaw = h.pts;
      lastPts = pts;
      c = cur = { offset: pos, end: 0, pts, dts: pts - step33(h.pts, h.dts), size: 0, expect: h.expect, rai: v.rai, padded: false, prefix: [], prefixLen: 0 };
      addBytes(cur, v.pl + h.head, v.plLen - h.head);
    } else if (cur && v.pl >= 0) {
      addBytes(cur, v.pl, v.plLen);
    } else continue;
    cur.end = pos + PACKET;
    cur.padded = v.padded;
    if (cur.expect && cur.size === cur.expect) push(cur);
  }
  const last = c as Cur | null;
  if (last && !last.expect && last.padded) push(last);
  if (pos === 0 && videoPid < 0 && pmtPid < 0)
    throw new BadTs(b.length < PACKET ? "ts: not an MPEG transport stream (shorter than one packet)" : "ts: not an MPEG transport stream (no sync byte at offset 0)");
  if (pmtPid < 0) throw new BadTs("ts: no program (no PAT naming a PMT)");
  if (videoPid < 0) throw new BadTs("ts: no H.264 or H.265 video stream (the PMT names none)");
  const f = idx.frames;
  if (!f.length) throw new BadTs("ts: no complete video frame");
  const origin = f[0].pts;
  for (const x of f) {
    x.pts -= origin;
    x.dts -= origin;
  }
  const max = Math.max(...f.map((x) => x.pts));
  const step = f.length > 1 ? f[f.length - 1].dts - f[f.length - 2].dts : 0;
  idx.duration = max - f[0].pts + (step > 0 ? step : 3000);
  return idx;
}

/** qcam_ts_read_frame: the frame's ES bytes from its packets. */
function readTsFrame(b: Uint8Array, idx: TsIndex, f: TsFrame): Uint8Array | null {
  const out = new Uint8Array(f.size);
  let done = 0, first = true;
  for (let o = f.offset; o < f.end && done < f.size; o += PACKET) {
    if (o + PACKET > b.length || b[o] !== 0x47) return null;
    const v = viewPacket(b, o);
    if (v.pid !== idx.pid || v.pl < 0) continue;
    let d = v.pl, n = v.plLen;
    if (first) {
      const h = v.pusi ? parsePes(b, v) : null;
      if (!h) return null;
      d += h.head;
      n -= h.head;
      first = false;
    } else if (v.pusi) return null;
    n = Math.min(n, f.size - done);
    out.set(b.subarray(d, d + n), done);
    done += n;
  }
  return done === f.size ? out : null;
}

interface TsReaderState {
  path: string;
  bytes: Uint8Array;
  idx: TsIndex;
  cursor: number;
  st: ReturnType<typeof annexbInit>;
  handle: Handle;
}

const tsReaders = new WeakMap<object, TsReaderState | null>();

function tsReaderOf(self: unknown): TsReaderState {
  if (!isObject(self) || !tsReaders.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a TsReader");
  const s = tsReaders.get(self);
  if (!s) throwQcam("TypeError", "ERR_CLOSED", "TsReader is closed");
  return s;
}

/** 90 kHz → µs, floor (ts_reader_js.c to_us). */
const ticksToUs = (v: number) => Math.floor((v * 100) / 9);

function trackOk(s: TsReaderState, track: unknown, fn: string): void {
  if (track === undefined) return;
  if (typeof track !== "number") throwQcam("TypeError", "ERR_INVALID_ARG", `${fn}: track must be a track id (a number)`);
  if (track !== s.idx.pid) throwQcam("RangeError", "ERR_INVALID_ARG", `${fn}: ${s.path} has no track ${track}`);
}

export class TsReader {
  constructor(path: string) {
    if (arguments.length < 1 || typeof path !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", "new TsReader(path: string)");
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(fsReadFile(path));
    } catch (e) {
      throw errnoOf(codeOf(e), `open ${path}`);
    }
    let idx: TsIndex;
    try {
      idx = readTsIndex(bytes);
    } catch (e) {
      if (e instanceof BadTs) throwQcam("Error", "EBADMSG", `${e.message}, in ${path}`);
      throw e;
    }
    tsReaders.set(this, { path, bytes, idx, cursor: 0, st: annexbInit(idx.codec), handle: world.track("TsReader", this) });
  }
  get path(): string {
    return tsReaderOf(this).path;
  }
  get duration(): number {
    return tsReaderOf(this).idx.duration / CLOCK;
  }
  get tracks(): Api.TsTrackInfo[] {
    const x = tsReaderOf(this).idx;
    return [{ id: x.pid, kind: "video", codec: x.codec, width: x.width, height: x.height, timescale: CLOCK, duration: x.duration / CLOCK, samples: x.frames.length, keyframes: x.keyframes }];
  }
  read(track?: number): Frame | null {
    const s = tsReaderOf(this);
    trackOk(s, track, "read");
    const k = s.cursor;
    if (k >= s.idx.frames.length) return null;
    const f = s.idx.frames[k];
    const data = readTsFrame(s.bytes, s.idx, f);
    if (!data) throwQcam("Error", "EBADMSG", `ts: frame ${k} is no longer where the file had it, in ${s.path}`);
    const ai = classify(s.st, data);
    const pkt: Packet = { codec: s.idx.codec, type: ai.type === "header" && f.key ? "I" : ai.type, keyframe: f.key, data, ptsUs: ticksToUs(f.pts), dtsUs: ticksToUs(f.dts), seq: k };
    s.cursor = k + 1;
    return world.exposed<(p: Packet) => Frame>("video.frame")!(pkt);
  }
  seek(seconds: number, track?: number): number {
    const s = tsReaderOf(this);
    if (arguments.length < 1 || typeof seconds !== "number" || !Number.isFinite(seconds)) throwQcam("TypeError", "ERR_INVALID_ARG", "seek(seconds: number, track?: number)");
    trackOk(s, track, "seek");
    let best = 0, found = false;
    s.idx.frames.forEach((f, k) => {
      if (!f.key) return;
      if (!found || ticksToUs(f.pts) <= seconds * 1e6) best = k;
      found = true;
    });
    s.cursor = best;
    return ticksToUs(s.idx.frames[best].pts) / 1e6;
  }
  close(): void {
    if (!isObject(this) || !tsReaders.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a TsReader");
    const s = tsReaders.get(this);
    if (!s) return;
    tsReaders.set(this, null);
    s.handle.release();
  }
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(TsReader.prototype, Symbol.dispose, { value: TsReader.prototype.close, writable: true, configurable: true });
Object.defineProperty(TsReader.prototype, Symbol.toStringTag, { value: "TsReader", configurable: true });

/** probe(): the C side reads the first frame and a window at the end of a file over 1 MiB; here the whole file is read (memory is not modelled): the same result for a file not damaged in the middle. */
export function probe(path: string): Api.TsProbe {
  if (arguments.length < 1 || typeof path !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", "probe(path: string)");
  if (path.includes("\0")) throw errnoOf("EINVAL", "probe: path contains a NUL byte");
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fsReadFile(path));
  } catch (e) {
    throw errnoOf(codeOf(e), `open ${path}`);
  }
  try {
    const x = readTsIndex(bytes);
    return { codec: x.codec, width: x.width, height: x.height, duration: x.duration / CLOCK };
  } catch (e) {
    if (e instanceof BadTs) throwQcam("Error", "EBADMSG", `${e.message}, in ${path}`);
    throw e;
  }
}
