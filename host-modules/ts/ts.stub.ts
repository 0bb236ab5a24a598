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
//
// Not modelled: threads (a link's writes run on virtual time), fsync.
import type * as Api from "qcam:ts";
import type { Frame } from "qcam:video";
import type * as Self from "./ts.stub.ts";
import "qcam:video";
import { open as fsOpen, readFile as fsReadFile, remove as fsRemove, rename as fsRename, type File as FsFile } from "qcam:fs";
import { annexbInit, classify, findParams, parseH264Sps, parseH265Sps, splitAus } from "../../build/testing/annexb.ts";
import { provide, type Packet } from "../../build/testing/media.ts";
import { checkKeys, conforms, throwQcam } from "../../build/testing/stub-kit.ts";
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

