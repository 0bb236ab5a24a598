// Annex B elementary streams for the qcam:video stub: a port of
// host-modules/video/annexb.c (NAL units, access units as H.264 7.4.1.2.3 /
// H.265 7.4.2.4.4 split them, frame types, parameter sets), plus what the
// stub's decoder needs from a sequence parameter set (the picture size, chroma
// format, bit depth) and the bit writer its encoder makes streams with.
import type { Codec, PacketType } from "./media.ts";

export interface AnnexbState {
  codec: Codec;
  ppsKnown: Uint8Array; // H.265: 1 when pps_pic_parameter_set_id i was seen
  ppsExtraBits: Uint8Array; // H.265 num_extra_slice_header_bits
}

export function annexbInit(codec: Codec): AnnexbState {
  return { codec, ppsKnown: new Uint8Array(64), ppsExtraBits: new Uint8Array(64) };
}

/** Index of the next 00 00 01 at or after `from`, or len. */
function findStartCode(b: Uint8Array, len: number, from: number): number {
  let k = from;
  while (len >= 3 && k + 2 < len) {
    if (b[k + 2] > 1) k += 3;
    else if (b[k + 2] === 0) k++;
    else {
      if (b[k] === 0 && b[k + 1] === 0) return k;
      k += 3;
    }
  }
  return len;
}

export interface Nal {
  /** Offset of its start code (with the zero_byte of a 4-byte code). */
  start: number;
  /** Its bytes after the start code, trailing zeros removed. */
  begin: number;
  end: number;
  /** No start code follows. */
  last: boolean;
}

/** The next NAL at or after pos.at; pos.at moves past it. */
export function scanNal(b: Uint8Array, len: number, pos: { at: number }): Nal | null {
  if (pos.at >= len) return null;
  const i = findStartCode(b, len, pos.at);
  if (i >= len) {
    pos.at = len;
    return null;
  }
  const begin = i + 3;
  const next = findStartCode(b, len, begin);
  let end = next;
  while (end > begin && b[end - 1] === 0) end--;
  const start = i > pos.at && b[i - 1] === 0 ? i - 1 : i;
  pos.at = next >= len ? len : end;
  return { start, begin, end, last: next >= len };
}

export function nalType(codec: Codec, nal: Uint8Array): number {
  if (codec === "h264") return nal.length >= 1 ? nal[0] & 0x1f : -1;
  return nal.length >= 2 ? (nal[0] >> 1) & 0x3f : -1;
}

// ---- bits of an RBSP (emulation prevention removed)

export class BitReader {
  #b: number[] = [];
  #bit = 0;
  /** `limit`: how many RBSP bytes to keep (annexb.c looks at 48). */
  constructor(p: Uint8Array, limit = Infinity) {
    let zeros = 0;
    for (let i = 0; i < p.length && this.#b.length < limit; i++) {
      if (zeros >= 2 && p[i] === 3) {
        zeros = 0;
        continue;
      }
      zeros = p[i] === 0 ? zeros + 1 : 0;
      this.#b.push(p[i]);
    }
  }
  bit(): number {
    if (this.#bit >= this.#b.length * 8) return -1;
    const v = (this.#b[this.#bit >> 3] >> (7 - (this.#bit & 7))) & 1;
    this.#bit++;
    return v;
  }
  /** u(n), n <= 31; -1 when the bits run out. */
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const b = this.bit();
      if (b < 0) return -1;
      v = v * 2 + b;
    }
    return v;
  }
  /** ue(v); -1 when malformed or out of bits. */
  ue(): number {
    let zeros = 0;
    for (;;) {
      const b = this.bit();
      if (b < 0) return -1;
      if (b) break;
      if (++zeros > 30) return -1;
    }
    const rest = this.u(zeros);
    if (rest < 0) return -1;
    return 2 ** zeros - 1 + rest;
  }
  se(): number {
    const k = this.ue();
    if (k < 0) return NaN;
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}

// ---- access units

const NEUTRAL = 0, VCL_FIRST = 1, VCL_MORE = 2, STARTS_AU = 3;

function nalRole(codec: Codec, b: Uint8Array, begin: number, end: number): number {
  const len = end - begin;
  if (codec === "h264") {
    if (len < 1) return -1;
    const t = b[begin] & 0x1f;
    if (t === 1 || t === 2 || t === 5) {
      if (len < 2) return -1;
      return b[begin + 1] & 0x80 ? VCL_FIRST : VCL_MORE;
    }
    if (t === 3 || t === 4) return VCL_MORE;
    if ((t >= 6 && t <= 9) || (t >= 14 && t <= 18)) return STARTS_AU;
    return NEUTRAL;
  }
  if (len < 2) return -1;
  const t = (b[begin] >> 1) & 0x3f;
  const layer = ((b[begin] & 1) << 5) | (b[begin + 1] >> 3);
  if (layer > 0) return NEUTRAL;
  if (t <= 31) {
    if (len < 3) return -1;
    return b[begin + 2] & 0x80 ? VCL_FIRST : VCL_MORE;
  }
  if ((t >= 32 && t <= 35) || t === 39 || (t >= 41 && t <= 44) || (t >= 48 && t <= 55)) return STARTS_AU;
  return NEUTRAL;
}

/** qcam_annexb_next_au over b[from..len): 1 with [skip, skip + auLen) one AU
 * (offsets relative to `from`), 0 when its end is not in sight (never with
 * eof), -1 when there is no NAL unit (with eof: skip = the rest). */
export function nextAu(st: AnnexbState, b: Uint8Array, from: number, len: number, eof: boolean): { found: 1 | 0 | -1; skip: number; auLen: number } {
  const view = b.subarray(from, len);
  const n = view.length;
  const pos = { at: 0 };
  let first = true, seenVcl = false, skip = 0;
  for (let nal = scanNal(view, n, pos); nal; nal = scanNal(view, n, pos)) {
    let role = nalRole(st.codec, view, nal.begin, nal.end);
    if (role < 0) {
      if (nal.last && !eof) return { found: 0, skip, auLen: 0 };
      if (first) continue;
      role = NEUTRAL;
    }
    if (first) {
      skip = nal.start;
      first = false;
    } else if (seenVcl && (role === VCL_FIRST || role === STARTS_AU)) return { found: 1, skip, auLen: nal.start - skip };
    if (role === VCL_FIRST || role === VCL_MORE) seenVcl = true;
  }
  if (first) return { found: -1, skip: eof ? n : n > 3 ? n - 3 : 0, auLen: 0 };
  if (!eof) return { found: 0, skip, auLen: 0 };
  return { found: 1, skip, auLen: n - skip };
}

/** Every access unit of a whole buffer (splitAccessUnits, a whole file). */
export function splitAus(codec: Codec, b: Uint8Array): Uint8Array[] {
  const st = annexbInit(codec);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < b.length) {
    const r = nextAu(st, b, at, b.length, true);
    if (r.found !== 1) break;
    out.push(b.slice(at + r.skip, at + r.skip + r.auLen));
    at += r.skip + r.auLen;
  }
  return out;
}

/** Each NAL of an AU: its type and bytes (header first). */
export function nals(codec: Codec, au: Uint8Array): { type: number; bytes: Uint8Array }[] {
  const out: { type: number; bytes: Uint8Array }[] = [];
  const pos = { at: 0 };
  for (let n = scanNal(au, au.length, pos); n; n = scanNal(au, au.length, pos)) {
    const bytes = au.subarray(n.begin, n.end);
    const t = nalType(codec, bytes);
    if (t >= 0) out.push({ type: t, bytes });
  }
  return out;
}

function h264SliceType(nal: Uint8Array): PacketType {
  const r = new BitReader(nal.subarray(1), 48);
  if (r.ue() < 0) return "P";
  const t = r.ue();
  if (t < 0) return "P";
  switch (t % 5) {
    case 2:
    case 4:
      return "I";
    case 1:
      return "B";
    default:
      return "P";
  }
}

function h265Pps(st: AnnexbState, nal: Uint8Array): void {
  const r = new BitReader(nal.subarray(2), 48);
  const id = r.ue();
  if (id < 0 || id > 63) return;
  if (r.ue() < 0) return;
  if (r.u(2) < 0) return;
  const extra = r.u(3);
  if (extra < 0) return;
  st.ppsKnown[id] = 1;
  st.ppsExtraBits[id] = extra;
}

function h265SliceType(st: AnnexbState, t: number, nal: Uint8Array): PacketType {
  const r = new BitReader(nal.subarray(2), 48);
  if (r.bit() !== 1) return "P";
  if (t >= 16 && t <= 23 && r.bit() < 0) return "P";
  const pps = r.ue();
  if (pps < 0 || pps > 63) return "P";
  if (st.ppsKnown[pps] && r.u(st.ppsExtraBits[pps]) < 0) return "P";
  switch (r.ue()) {
    case 0:
      return "B";
    case 2:
      return "I";
    default:
      return "P";
  }
}

export interface AuInfo {
  type: PacketType;
  keyframe: boolean;
  hasParams: boolean;
}

/** qcam_annexb_classify (updates the PPS table in st). */
export function classify(st: AnnexbState, au: Uint8Array): AuInfo {
  const info: AuInfo = { type: "header", keyframe: false, hasParams: false };
  let seenVcl = false;
  for (const { type: t, bytes } of nals(st.codec, au)) {
    if (st.codec === "h264") {
      if (t === 7) info.hasParams = true;
      if (t === 5) info.keyframe = true;
      if (t >= 1 && t <= 5 && !seenVcl) {
        seenVcl = true;
        info.type = t === 5 ? "I" : h264SliceType(bytes);
      }
    } else {
      if (t === 33) info.hasParams = true;
      if (t === 34) h265Pps(st, bytes);
      if (t <= 31) {
        const irap = t >= 16 && t <= 23;
        if (irap) info.keyframe = true;
        if (!seenVcl) {
          seenVcl = true;
          info.type = irap ? "I" : h265SliceType(st, t, bytes);
        }
      }
    }
  }
  return info;
}

/** qcam_annexb_find_params: the first VPS, SPS and PPS of an AU (NAL bytes, no start code). */
export function findParams(codec: Codec, au: Uint8Array): { vps?: Uint8Array; sps?: Uint8Array; pps?: Uint8Array } {
  const [vps, sps, pps] = codec === "h264" ? [-1, 7, 8] : [32, 33, 34];
  const out: { vps?: Uint8Array; sps?: Uint8Array; pps?: Uint8Array } = {};
  for (const { type: t, bytes } of nals(codec, au)) {
    if (t === vps && !out.vps) out.vps = bytes;
    if (t === sps && !out.sps) out.sps = bytes;
    if (t === pps && !out.pps) out.pps = bytes;
  }
  return out;
}

// ---- sequence parameter sets (what a decoder learns from them)

export interface SpsInfo {
  width: number;
  height: number;
  chromaFormat: number;
  bitDepth: number;
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8, next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** H.264 7.3.2.1.1 up to the frame size and cropping; null when malformed. */
export function parseH264Sps(nal: Uint8Array): SpsInfo | null {
  const r = new BitReader(nal.subarray(1));
  const profile = r.u(8);
  r.u(16); // constraint flags, level
  if (r.ue() < 0) return null;
  let chroma = 1, depth = 8, separate = 0;
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
    chroma = r.ue();
    if (chroma === 3) separate = r.bit();
    depth = r.ue() + 8;
    r.ue();
    r.bit();
    if (r.bit() === 1) for (let i = 0; i < (chroma !== 3 ? 8 : 12); i++) if (r.bit() === 1) skipScalingList(r, i < 6 ? 16 : 64);
  }
  r.ue(); // log2_max_frame_num_minus4
  const poc = r.ue();
  if (poc === 0) r.ue();
  else if (poc === 1) {
    r.bit();
    r.se();
    r.se();
    const n = r.ue();
    for (let i = 0; i < n && i < 256; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.bit();
  const wMbs = r.ue() + 1, hMaps = r.ue() + 1;
  const frameMbsOnly = r.bit();
  if (frameMbsOnly === 0) r.bit();
  r.bit(); // direct_8x8_inference
  let cl = 0, cr = 0, ct = 0, cb = 0;
  if (r.bit() === 1) {
    cl = r.ue();
    cr = r.ue();
    ct = r.ue();
    cb = r.ue();
  }
  if (wMbs <= 0 || hMaps <= 0 || cb < 0 || frameMbsOnly < 0) return null;
  const arrayType = separate ? 0 : chroma;
  const cropX = arrayType === 0 ? 1 : arrayType === 3 ? 1 : 2;
  const cropY = (arrayType === 1 ? 2 : 1) * (2 - frameMbsOnly);
  return {
    width: wMbs * 16 - cropX * (cl + cr),
    height: (2 - frameMbsOnly) * hMaps * 16 - cropY * (ct + cb),
    chromaFormat: chroma,
    bitDepth: depth,
  };
}

/** H.265 7.3.2.2 up to the picture size and conformance window; null when malformed. */
export function parseH265Sps(nal: Uint8Array): SpsInfo | null {
  const r = new BitReader(nal.subarray(2));
  r.u(4);
  const maxSub = r.u(3);
  r.bit();
  // profile_tier_level(1, maxSub)
  r.u(8);
  r.u(32);
  r.u(4);
  r.u(22);
  r.u(22);
  r.u(8); // general_level_idc
  const prof: number[] = [], lev: number[] = [];
  for (let i = 0; i < maxSub; i++) {
    prof.push(r.bit());
    lev.push(r.bit());
  }
  if (maxSub > 0) for (let i = maxSub; i < 8; i++) r.u(2);
  for (let i = 0; i < maxSub; i++) {
    if (prof[i]) for (let k = 0; k < 4; k++) r.u(22);
    if (lev[i]) r.u(8);
  }
  if (r.ue() < 0) return null;
  const chroma = r.ue();
  if (chroma === 3) r.bit();
  const w = r.ue(), h = r.ue();
  let cl = 0, cr = 0, ct = 0, cb = 0;
  if (r.bit() === 1) {
    cl = r.ue();
    cr = r.ue();
    ct = r.ue();
    cb = r.ue();
  }
  const depth = r.ue() + 8;
  if (w <= 0 || h <= 0 || cb < 0 || depth < 8) return null;
  const sw = chroma === 1 || chroma === 2 ? 2 : 1, sh = chroma === 1 ? 2 : 1;
  return { width: w - sw * (cl + cr), height: h - sh * (ct + cb), chromaFormat: chroma, bitDepth: depth };
}

// ---- writing NAL units (the stub encoder's streams)

export class BitWriter {
  #bytes: number[] = [];
  #cur = 0;
  #n = 0;
  u(n: number, v: number): this {
    for (let i = n - 1; i >= 0; i--) this.bit(Math.floor(v / 2 ** i) & 1);
    return this;
  }
  bit(b: number): this {
    this.#cur = (this.#cur << 1) | (b & 1);
    if (++this.#n === 8) {
      this.#bytes.push(this.#cur);
      this.#cur = 0;
      this.#n = 0;
    }
    return this;
  }
  ue(v: number): this {
    const x = v + 1;
    const len = Math.floor(Math.log2(x));
    this.u(len, 0);
    return this.u(len + 1, x);
  }
  se(v: number): this {
    return this.ue(v > 0 ? 2 * v - 1 : -2 * v);
  }
  /** rbsp_trailing_bits, then emulation prevention: the NAL's payload bytes. */
  finish(): Uint8Array {
    this.bit(1);
    while (this.#n) this.bit(0);
    const out: number[] = [];
    let zeros = 0;
    for (const b of this.#bytes) {
      if (zeros >= 2 && b <= 3) {
        out.push(3);
        zeros = 0;
      }
      out.push(b);
      zeros = b === 0 ? zeros + 1 : 0;
    }
    return Uint8Array.from(out);
  }
  /** The bits so far, padded with zeros to a byte (a slice header before its data). */
  bytes(): Uint8Array {
    const w = new BitWriter();
    w.#bytes = [...this.#bytes];
    w.#cur = this.#cur;
    w.#n = this.#n;
    while (w.#n) w.bit(0);
    return Uint8Array.from(w.#bytes);
  }
}

/** Emulation prevention over RBSP bytes (no 00 00 0x with x <= 3 left). */
export function escapeRbsp(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of bytes) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}
