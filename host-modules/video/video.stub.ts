// qcam:video for tests on a PC. Mirrors mod_video.c and the sim build it runs
// on (libx264/libx265 and FFmpeg's decoders, plus the replay encoder): the same
// option checks, classes, errors, codes and messages, one access unit per
// image (zero latency), keyframes (IDR, "I") on the first image, then every
// `gop` images and after requestIdr() (the GOP restarts there), "P" otherwise,
// parameter sets in-band on every keyframe and from parameterSets() once the
// first one was encoded, ptsUs = dtsUs = the image's timestampUs, seq counting
// per encoder. EsReader and splitAccessUnits are a port of annexb.c, so they
// split real streams (put on the card with `sdcard` from "qcam:testing") as the
// runtime does, and the stub's own streams the same way.
//
// What an encoder makes is a well-formed Annex B stream — real SPS/PPS (and
// VPS) for the size and profile, slice headers with the right NAL and slice
// types — whose slice data is filler: frame sizes follow a rate model, not the
// picture. With B = bitrate / 8 / fps bytes per frame, a P frame is
// gop * B / (gop + 7) bytes and an IDR eight times that (so a GOP averages B)
// plus its parameter sets, an IDR at most 3/8 byte per pixel (P at least 16
// bytes, IDR 128). The Decoder reads the SPS to learn the size and hands out
// yuv420p Images of it, mid-grey, one per access unit with a picture in it; an
// access unit with slices but no SPS seen yet is rejected (EBADMSG).
//
// Faults: world.fault("video.encode", { code: "EIO" }) makes the next encode
// (by encode() or inside a link) fail: encode() throws Error EIO "encode
// failed: Input/output error"; a link counts it in drops.encoder and reports
// "link: encoder failed" to onError.
import type * as Api from "qcam:video";
import type { Image, PixelFormat } from "qcam:image";
import "qcam:image";
import "qcam:fs";
import type * as Self from "./video.stub.ts";
import {
  BitWriter,
  annexbInit,
  classify,
  escapeRbsp,
  findParams,
  nals,
  nextAu,
  parseH264Sps,
  parseH265Sps,
  splitAus,
  type AnnexbState,
  type SpsInfo,
} from "../../build/testing/annexb.ts";
import {
  countCopy,
  fsHal,
  provide,
  type FsFd,
  type LinkEncoder,
  type MintSpec,
  type Packet,
  type PictureView,
  type SourcePicture,
} from "../../build/testing/media.ts";
import { checkKeys, conforms, errnoError, throwErrno, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";

conforms<typeof Api, typeof Self>(true);

type Codec = Api.Codec;
const MIN_SIZE = 16, MAX_SIZE = 8192;

// ------------------------------------------------------------------ options (mod_video.c)

function optInt(o: Record<string, unknown>, name: string, required: boolean, def: number, min: number, max: number): number {
  const v = o[name];
  if (v === undefined) {
    if (required) throwQcam("TypeError", "ERR_INVALID_ARG", `option \`${name}\` is required`);
    return def;
  }
  const d = v as number;
  if (typeof v !== "number" || !Number.isInteger(d) || Math.abs(d) >= 2 ** 63)
    throwQcam("TypeError", "ERR_INVALID_ARG", `option \`${name}\` must be an integer`);
  if (d < min || d > max) throwQcam("RangeError", "ERR_INVALID_ARG", `option \`${name}\` must be ${min}..${max}, got ${d.toFixed(0)}`);
  return d;
}

function optStr(o: Record<string, unknown>, name: string): string | null {
  const v = o[name];
  if (v === undefined) return null;
  if (typeof v !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", `option \`${name}\` must be a string`);
  return v as string;
}

function optEnum<T extends string>(o: Record<string, unknown>, name: string, names: readonly T[], def: T | null, allowed: string): T {
  const s = optStr(o, name);
  if (s === null) {
    if (def === null) throwQcam("TypeError", "ERR_INVALID_ARG", `option \`${name}\` is required (${allowed})`);
    return def!;
  }
  if (!names.includes(s as T)) throwQcam("TypeError", "ERR_INVALID_ARG", `option \`${name}\` must be ${allowed}, got "${s}"`);
  return s as T;
}

const optCodec = (o: Record<string, unknown>) => optEnum<Codec>(o, "codec", ["h264", "h265"], null, '"h264" or "h265"');

const isObject = (v: unknown): v is Record<string, unknown> => (typeof v === "object" || typeof v === "function") && v !== null;

/** host_path(): a board path (/sdcard/..., /tmp/...) or EINVAL. */
function boardPath(board: string): void {
  let ok = false;
  for (const root of ["/sdcard", "/tmp"]) if (board.startsWith(root) && (board.length === root.length || board[root.length] === "/")) ok = true;
  for (let i = board.indexOf(".."); i >= 0; i = board.indexOf("..", i + 2))
    if ((i === 0 || board[i - 1] === "/") && (i + 2 === board.length || board[i + 2] === "/")) ok = false;
  if (!ok) throwErrno("EINVAL", `${board} is not on the SD card or in /tmp`);
}

/** qcam_throw_errno for any errno name (ones app.c does not name come out as EIO). */
function errnoOf(name: string, what: string): Error {
  try {
    return errnoError(name, what);
  } catch {
    return errnoError("EIO", what);
  }
}

// ------------------------------------------------------------------ Frame

interface FrameState {
  pkt: Packet;
  handle: Handle;
}
const frames = new WeakMap<object, FrameState | null>();
let minting = false;

function frameOf(self: unknown): FrameState {
  if (!isObject(self) || !frames.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Frame");
  const f = frames.get(self);
  if (!f) throwQcam("TypeError", "ERR_CLOSED", "Frame is closed");
  return f;
}

export class Frame {
  constructor() {
    if (!minting) throwQcam("TypeError", "ERR_ILLEGAL_CONSTRUCTOR", "Frames come from an Encoder or an EsReader");
  }
  get type(): Api.FrameType {
    return frameOf(this).pkt.type;
  }
  get keyframe(): boolean {
    return frameOf(this).pkt.keyframe;
  }
  get ptsUs(): number {
    return frameOf(this).pkt.ptsUs;
  }
  get dtsUs(): number {
    return frameOf(this).pkt.dtsUs;
  }
  get size(): number {
    return frameOf(this).pkt.data.length;
  }
  get seq(): number {
    return frameOf(this).pkt.seq;
  }
  get codec(): Api.FrameCodec {
    return frameOf(this).pkt.codec;
  }
  /** A copy (the board gives a read-only view without copying). */
  toArrayBuffer(): ArrayBuffer {
    return frameOf(this).pkt.data.slice().buffer;
  }
  close(): void {
    if (!isObject(this) || !frames.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Frame");
    const f = frames.get(this);
    frames.set(this, null);
    f?.handle.release();
  }
  declare [Symbol.dispose]: () => void;
}

function newFrame(pkt: Packet): Frame {
  minting = true;
  let f: Frame;
  try {
    f = new Frame();
  } finally {
    minting = false;
  }
  frames.set(f, { pkt, handle: world.track("Frame", f) });
  provide(f, { packet: () => frameOf(f).pkt });
  return f;
}
// Other stubs make Frames too (qcam:audio's G.711 frames), as qcam_js_frame_new lets other bindings.
world.expose("video.frame", newFrame);

// ------------------------------------------------------------------ the stub encoder's stream

function filler(seq: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = Math.imul(seq + 1, 0x9e3779b1) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = 0x10 + ((s >>> 24) % 0xf0);
  }
  return out;
}

const START = [0, 0, 0, 1];

function nal(header: number[], payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(START.length + header.length + payload.length);
  out.set(START);
  out.set(header, START.length);
  out.set(payload, START.length + header.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface EncCfg {
  codec: Codec;
  width: number;
  height: number;
  fps: number;
  bitrate: number;
  rateControl: "cbr" | "vbr";
  gop: number;
  profile: "auto" | "baseline" | "main" | "high";
  format: "nv21" | "nv12" | "yuv420p";
}

function ptl(w: BitWriter, level: number): void {
  w.u(2, 0).u(1, 0).u(5, 1); // Main
  w.u(32, 0x60000000); // compatible with Main and Main 10
  w.u(1, 1).u(1, 0).u(1, 0).u(1, 1); // progressive, frame only
  w.u(22, 0).u(22, 0); // 43 reserved bits + inbld
  w.u(8, level);
}

/** The parameter sets of the stub's stream: NAL units with start codes. */
function parameterSetNals(c: EncCfg): Uint8Array[] {
  if (c.codec === "h264") {
    const profile = c.profile === "baseline" ? 66 : c.profile === "main" ? 77 : 100;
    const mbW = Math.ceil(c.width / 16), mbH = Math.ceil(c.height / 16);
    const level = mbW * mbH <= 1620 ? 31 : mbW * mbH <= 8192 ? 40 : 51;
    const sps = new BitWriter().u(8, profile).u(8, profile === 66 ? 0xc0 : 0).u(8, level).ue(0);
    if (profile === 100) sps.ue(1).ue(0).ue(0).bit(0).bit(0);
    sps.ue(0).ue(2).ue(1).bit(0).ue(mbW - 1).ue(mbH - 1).bit(1).bit(1);
    const cropR = (mbW * 16 - c.width) / 2, cropB = (mbH * 16 - c.height) / 2;
    if (cropR || cropB) sps.bit(1).ue(0).ue(cropR).ue(0).ue(cropB);
    else sps.bit(0);
    sps.bit(0); // no VUI
    const pps = new BitWriter().ue(0).ue(0).bit(profile === 66 ? 0 : 1).bit(0).ue(0).ue(0).ue(0).bit(0).u(2, 0).se(0).se(0).se(0).bit(1).bit(0).bit(0);
    return [nal([0x67], sps.finish()), nal([0x68], pps.finish())];
  }
  const w8 = Math.ceil(c.width / 8) * 8, h8 = Math.ceil(c.height / 8) * 8;
  const level = c.width * c.height <= 983040 ? 93 : c.width * c.height <= 2228224 ? 120 : 153;
  const vps = new BitWriter().u(4, 0).bit(1).bit(1).u(6, 0).u(3, 0).bit(1).u(16, 0xffff);
  ptl(vps, level);
  vps.bit(1).ue(1).ue(0).ue(0).u(6, 0).ue(0).bit(0).bit(0);
  const sps = new BitWriter().u(4, 0).u(3, 0).bit(1);
  ptl(sps, level);
  sps.ue(0).ue(1).ue(w8).ue(h8);
  if (w8 !== c.width || h8 !== c.height) sps.bit(1).ue(0).ue((w8 - c.width) / 2).ue(0).ue((h8 - c.height) / 2);
  else sps.bit(0);
  sps.ue(0).ue(0).ue(4).bit(1).ue(1).ue(0).ue(0).ue(0).ue(3).ue(0).ue(3).ue(0).ue(0);
  sps.bit(0).bit(0).bit(0).bit(0).ue(0).bit(0).bit(0).bit(0).bit(0).bit(0);
  const pps = new BitWriter().ue(0).ue(0).bit(0).bit(0).u(3, 0).bit(0).bit(0).ue(0).ue(0).se(0);
  pps.bit(0).bit(0).bit(0).se(0).se(0).bit(0).bit(0).bit(0).bit(0).bit(0).bit(0).bit(0).bit(0).bit(0).bit(0).ue(0).bit(0).bit(0);
  return [nal([0x40, 0x01], vps.finish()), nal([0x42, 0x01], sps.finish()), nal([0x44, 0x01], pps.finish())];
}

/** The rate model: bytes of a P frame and of an IDR's picture. */
function frameBudget(c: EncCfg): { p: number; i: number } {
  const b = c.bitrate / 8 / c.fps;
  let p = Math.max(16, Math.floor((c.gop * b) / (c.gop + 7)));
  let i = 8 * p;
  const cap = Math.floor((c.width * c.height * 3) / 8);
  if (i > cap) {
    i = Math.max(128, cap);
    p = Math.max(16, Math.floor(i / 8));
  }
  return { p, i };
}

/** One access unit of the stub's stream. */
function stubAccessUnit(c: EncCfg, key: boolean, n: number, seq: number): Uint8Array {
  const { p, i } = frameBudget(c);
  const parts: Uint8Array[] = key ? parameterSetNals(c) : [];
  const target = key ? i : p;
  const head = new BitWriter();
  let header: number[];
  if (c.codec === "h264") {
    header = [key ? 0x65 : 0x41];
    head.ue(0).ue(key ? 7 : 5).ue(0).u(4, n % 16);
    if (key) head.ue(seq % 2);
  } else {
    header = key ? [0x26, 0x01] : [0x02, 0x01];
    head.bit(1);
    if (key) head.bit(0);
    head.ue(0).ue(key ? 2 : 1);
  }
  const sliceHead = escapeRbsp(head.bytes());
  const fill = Math.max(1, target - START.length - header.length - sliceHead.length);
  parts.push(nal(header, concat([sliceHead, filler(seq, fill)])));
  return concat(parts);
}

// ------------------------------------------------------------------ EsReader core (es_reader.c)

interface Reader {
  fd: FsFd;
  codec: Codec;
  st: AnnexbState;
  start: number;
  index: number;
}

function readerOpen(board: string, codec: Codec): Reader | string {
  const fd = fsHal().open(board, "r");
  if (typeof fd === "string") return fd;
  return { fd, codec, st: annexbInit(codec), start: 0, index: 0 };
}

/** qcam_es_read: the next access unit, null at the end. */
function readerRead(r: Reader): Packet | null {
  const bytes = r.fd.bytes();
  const got = nextAu(r.st, bytes, r.start, bytes.length, true);
  if (got.found !== 1) {
    r.start = bytes.length;
    return null;
  }
  const au = bytes.slice(r.start + got.skip, r.start + got.skip + got.auLen);
  r.start += got.skip + got.auLen;
  const info = classify(r.st, au);
  return { codec: r.codec, type: info.type, keyframe: info.keyframe, data: au, ptsUs: 0, dtsUs: 0, seq: r.index++ };
}

function readerRewind(r: Reader): void {
  r.start = 0;
  r.index = 0;
  r.st = annexbInit(r.codec);
}

// ------------------------------------------------------------------ Encoder

interface EncState {
  cfg: EncCfg;
  replay: Reader | null;
  seq: number;
  sinceKey: number; // pictures since the last keyframe; -1 before the first
  idr: boolean;
  st: AnnexbState;
  ps: { vps?: Uint8Array; sps: Uint8Array; pps: Uint8Array } | null;
  linked: boolean;
  handle: Handle;
}

const encoders = new WeakMap<object, EncState | null>();

function encoderOf(self: unknown): EncState {
  if (!isObject(self) || !encoders.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Encoder");
  const e = encoders.get(self);
  if (!e) throwQcam("TypeError", "ERR_CLOSED", "Encoder is closed");
  return e;
}

function replayNext(r: Reader): Packet | string {
  let p = readerRead(r);
  if (p) return p;
  readerRewind(r);
  p = readerRead(r);
  return p ?? "EIO"; // not one access unit in the whole file
}

/** qcam_encoder_encode for a picture of the right size: 0 or an errno name. */
function encodePicture(e: EncState, ptsUs: number, format: PixelFormat): Packet | { errno: string } {
  const fault = world.takeFault("video.encode");
  if (fault) return { errno: fault.code ?? "EIO" };
  let data: Uint8Array;
  if (e.replay) {
    let p = replayNext(e.replay);
    if (typeof p !== "string" && e.idr) {
      e.idr = false;
      const first = p.seq;
      let wrapped = false;
      while (typeof p !== "string" && !p.keyframe) {
        const prev: number = p.seq;
        p = replayNext(e.replay);
        if (typeof p !== "string" && p.seq <= prev) wrapped = true;
        if (typeof p !== "string" && wrapped && p.seq >= first) break;
      }
    }
    if (typeof p === "string") return { errno: p };
    data = p.data;
  } else {
    const key = e.idr || e.sinceKey < 0 || e.sinceKey >= e.cfg.gop;
    e.idr = false;
    e.sinceKey = key ? 1 : e.sinceKey + 1;
    if (e.cfg.codec === "h265" && format !== "yuv420p") countCopy(); // libx265 takes planar only: the chroma is rearranged
    data = stubAccessUnit(e.cfg, key, e.sinceKey - 1, e.seq);
  }
  // finish_packet: classify the bytes, stamp, keep a keyframe's parameter sets.
  const info = classify(e.st, data);
  const pkt: Packet = { codec: e.cfg.codec, type: info.type, keyframe: info.keyframe, data, ptsUs, dtsUs: ptsUs, seq: e.seq++ };
  if (info.keyframe && info.hasParams) {
    const f = findParams(e.cfg.codec, data);
    if (f.sps && f.pps && (e.cfg.codec === "h264" || f.vps)) e.ps = { vps: f.vps?.slice(), sps: f.sps.slice(), pps: f.pps.slice() };
  }
  return pkt;
}

/** What the rate model says one picture costs inside the encoder, µs (stats only). */
function costUs(c: EncCfg, pixels: number): number {
  return Math.round(pixels * (c.codec === "h264" ? 0.0069 : 0.0206)) + 50;
}

export class Encoder {
  constructor(options: Api.EncoderOptions) {
    if (arguments.length < 1 || !isObject(options))
      throwQcam("TypeError", "ERR_INVALID_ARG", "new Encoder(options: {codec, width, height, fps?, bitrate?, ...})");
    const o = options as unknown as Record<string, unknown>;
    checkKeys(o, "Encoder", ["codec", "width", "height", "fps", "bitrate", "rateControl", "gop", "profile", "format", "replay"]);
    const codec = optCodec(o);
    const width = optInt(o, "width", true, 0, MIN_SIZE, MAX_SIZE);
    const height = optInt(o, "height", true, 0, MIN_SIZE, MAX_SIZE);
    const fps = optInt(o, "fps", false, 30, 1, 240);
    const bitrate = optInt(o, "bitrate", false, 2_000_000, 10_000, 200_000_000);
    const rateControl = optEnum(o, "rateControl", ["cbr", "vbr"] as const, "cbr", '"cbr" or "vbr"');
    const gop = optInt(o, "gop", false, fps, 1, 100_000);
    const profile = optEnum<EncCfg["profile"]>(
      o,
      "profile",
      ["baseline", "main", "high"],
      "auto",
      codec === "h264" ? '"baseline", "main" or "high"' : '"main"',
    );
    const format = optEnum(o, "format", ["nv21", "nv12", "yuv420p"] as const, "nv21", '"nv21", "nv12" or "yuv420p"');
    const replay = optStr(o, "replay");
    if (width % 2 || height % 2)
      throwQcam("RangeError", "ERR_INVALID_ARG", `width and height must be even, got ${width}x${height}`);
    if (codec === "h265" && profile !== "auto" && profile !== "main")
      throwQcam("TypeError", "ERR_INVALID_ARG", 'option `profile` must be "main" for h265');
    let reader: Reader | null = null;
    if (replay !== null) {
      boardPath(replay);
      const r = readerOpen(replay, codec);
      if (typeof r === "string") throw errnoOf(r, `cannot replay ${replay}`);
      reader = r;
    }
    const cfg: EncCfg = { codec, width, height, fps, bitrate, rateControl, gop, profile, format };
    const e: EncState = { cfg, replay: reader, seq: 0, sinceKey: -1, idr: false, st: annexbInit(codec), ps: null, linked: false, handle: world.track("Encoder", this) };
    encoders.set(this, e);
    provide(this, {
      encoder: (): LinkEncoder => {
        const st = encoderOf(this);
        if (st.linked) throwQcam("Error", "ERR_BUSY", "this encoder already feeds a link");
        st.linked = true;
        return {
          encode: (pic: SourcePicture) => encodePicture(st, pic.ptsUs, pic.format),
          costUs: (pic: SourcePicture) => costUs(st.cfg, pic.width * pic.height),
          release: () => {
            st.linked = false;
          },
        };
      },
    });
  }
  encode(image: Image): Frame {
    const e = encoderOf(this);
    if (e.linked) throwQcam("Error", "ERR_BUSY", "this encoder is fed by a link; close the link first");
    if (arguments.length < 1 || !isObject(image)) throwQcam("TypeError", "ERR_INVALID_ARG", "encode(image: Image)");
    let pic: PictureView;
    try {
      pic = world.exposed<(v: unknown) => PictureView>("image.picture")!(image);
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_WRONG_THIS") throwQcam("TypeError", "ERR_INVALID_ARG", "encode(image: Image)");
      throw err;
    }
    const c = e.cfg;
    if (pic.width !== c.width || pic.height !== c.height || !["nv21", "nv12", "yuv420p"].includes(pic.format))
      throwQcam(
        "TypeError",
        "ERR_INVALID_ARG",
        `this encoder takes ${c.width}x${c.height} images in nv21, nv12 or yuv420p, got ${pic.width}x${pic.height} ${pic.format}`,
      );
    const r = encodePicture(e, pic.timestampUs, pic.format);
    if ("errno" in r) throw errnoOf(r.errno, "encode failed");
    return newFrame(r);
  }
  requestIdr(): void {
    encoderOf(this).idr = true;
  }
  parameterSets(): Api.ParameterSets | null {
    const e = encoderOf(this);
    if (!e.ps) return null;
    const o: Record<string, ArrayBuffer> = {};
    if (e.ps.vps) o.vps = e.ps.vps.slice().buffer;
    o.sps = e.ps.sps.slice().buffer;
    o.pps = e.ps.pps.slice().buffer;
    return o as unknown as Api.ParameterSets;
  }
  close(): void {
    if (!isObject(this) || !encoders.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Encoder");
    const e = encoders.get(this);
    if (!e) return;
    if (e.linked) throwQcam("Error", "ERR_BUSY", "close the link this encoder feeds first");
    encoders.set(this, null);
    e.replay?.fd.close();
    e.handle.release();
  }
  get codec(): Codec {
    return encoderOf(this).cfg.codec;
  }
  get width(): number {
    return encoderOf(this).cfg.width;
  }
  get height(): number {
    return encoderOf(this).cfg.height;
  }
  get fps(): number {
    return encoderOf(this).cfg.fps;
  }
  get gop(): number {
    return encoderOf(this).cfg.gop;
  }
  get bitrate(): number {
    return encoderOf(this).cfg.bitrate;
  }
  get replay(): boolean {
    return encoderOf(this).replay !== null;
  }
  declare [Symbol.dispose]: () => void;
}

// ------------------------------------------------------------------ Decoder

interface DecState {
  codec: Codec;
  sps: SpsInfo | null;
  seq: number;
  handle: Handle;
}
const decoders = new WeakMap<object, DecState | null>();

function decoderOf(self: unknown): DecState {
  if (!isObject(self) || !decoders.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Decoder");
  const d = decoders.get(self);
  if (!d) throwQcam("TypeError", "ERR_CLOSED", "Decoder is closed");
  return d;
}

/** input_bytes(): a Frame (of `codec`), an ArrayBuffer or a Uint8Array. */
function inputBytes(v: unknown, codec: Codec, usage: string): { data: Uint8Array; pts: number } {
  if (isObject(v) && frames.has(v)) {
    const f = frames.get(v);
    if (!f) throwQcam("TypeError", "ERR_CLOSED", "Frame is closed");
    if (f.pkt.codec !== codec) throwQcam("TypeError", "ERR_INVALID_ARG", `expected a ${codec} frame, got a ${f.pkt.codec} one`);
    return { data: f.pkt.data, pts: f.pkt.ptsUs };
  }
  if (v instanceof ArrayBuffer) return { data: new Uint8Array(v), pts: 0 };
  if (v instanceof Uint8Array || v instanceof Uint8ClampedArray) return { data: new Uint8Array(v.buffer, v.byteOffset, v.byteLength), pts: 0 };
  return throwQcam("TypeError", "ERR_INVALID_ARG", usage);
}

function decodeAu(d: DecState, data: Uint8Array, pts: number): Image[] {
  let picture = false;
  for (const { type: t, bytes } of nals(d.codec, data)) {
    if (d.codec === "h264" ? t === 7 : t === 33) {
      const sps = d.codec === "h264" ? parseH264Sps(bytes) : parseH265Sps(bytes);
      if (!sps) throwQcam("Error", "EBADMSG", `the ${d.codec} decoder rejects this access unit`);
      d.sps = sps;
    }
    if (d.codec === "h264" ? t >= 1 && t <= 5 : t <= 31) picture = true;
  }
  if (!picture) return [];
  const sps = d.sps;
  if (!sps) return throwQcam("Error", "EBADMSG", `the ${d.codec} decoder rejects this access unit`);
  if (sps.chromaFormat !== 1 || sps.bitDepth !== 8 || sps.width % 2 || sps.height % 2 || sps.width < 2 || sps.height < 2)
    throwQcam("Error", "ENOTSUP", "decoded pictures are not 8-bit 4:2:0 with an even size");
  const { width, height } = sps;
  countCopy(); // the decoder's planes are unpadded into the Image
  const spec: MintSpec = { width, height, format: "yuv420p", timestampUs: pts, seq: d.seq++, render: () => new Uint8Array((width * height * 3) / 2).fill(128) };
  return [world.exposed<(s: MintSpec) => Image>("image.make")!(spec)];
}

export class Decoder {
  constructor(options: Api.DecoderOptions) {
    if (arguments.length < 1 || !isObject(options)) throwQcam("TypeError", "ERR_INVALID_ARG", "new Decoder(options: {codec})");
    checkKeys(options, "Decoder", ["codec"]);
    const codec = optCodec(options as unknown as Record<string, unknown>);
    decoders.set(this, { codec, sps: null, seq: 0, handle: world.track("Decoder", this) });
  }
  decode(frame: Api.Frame | ArrayBuffer | Uint8Array): Image[] {
    const d = decoderOf(this);
    const usage = "decode(frame: Frame | ArrayBuffer | Uint8Array, ptsUs?: number)";
    if (arguments.length < 1) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
    const input = inputBytes(frame, d.codec, usage);
    let pts = input.pts;
    const p = arguments[1] as unknown;
    if (arguments.length > 1 && p !== undefined) {
      if (typeof p !== "number") throwQcam("TypeError", "ERR_INVALID_ARG", "ptsUs must be a number");
      pts = Number.isFinite(p) ? Math.trunc(p as number) : Number.isNaN(p) ? 0 : (p as number) > 0 ? 2 ** 63 - 1 : -(2 ** 63);
    }
    if (input.data.length === 0) return [];
    return decodeAu(d, input.data, pts);
  }
  flush(): Image[] {
    decoderOf(this);
    return []; // zero latency: nothing is ever held back
  }
  close(): void {
    if (!isObject(this) || !decoders.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Decoder");
    const d = decoders.get(this);
    if (!d) return;
    decoders.set(this, null);
    d.handle.release();
  }
  get codec(): Codec {
    return decoderOf(this).codec;
  }
  declare [Symbol.dispose]: () => void;
}

// ------------------------------------------------------------------ EsReader

interface ReaderState {
  r: Reader;
  fps: number;
  path: string;
  handle: Handle;
}
const readers = new WeakMap<object, ReaderState | null>();

function readerOf(self: unknown): ReaderState {
  if (!isObject(self) || !readers.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a EsReader");
  const h = readers.get(self);
  if (!h) throwQcam("TypeError", "ERR_CLOSED", "EsReader is closed");
  return h;
}

function codecOfPath(path: string): Codec | null {
  const dot = path.lastIndexOf(".");
  if (dot < 0) return null;
  const ext = path.slice(dot);
  if ([".h264", ".264", ".avc"].includes(ext)) return "h264";
  if ([".h265", ".265", ".hevc"].includes(ext)) return "h265";
  return null;
}

export class EsReader {
  constructor(path: string, ...rest: [options?: Api.EsReaderOptions]) {
    if (arguments.length < 1 || typeof path !== "string")
      throwQcam("TypeError", "ERR_INVALID_ARG", "new EsReader(path: string, options?: {codec?, fps?})");
    let codec = codecOfPath(path);
    let fps = 30;
    const o = rest[0] as unknown;
    if (isObject(o)) {
      checkKeys(o, "EsReader", ["codec", "fps"]);
      if (o.codec !== undefined) codec = optCodec(o);
      fps = optInt(o, "fps", false, 30, 1, 240);
    }
    if (!codec)
      throwQcam("TypeError", "ERR_INVALID_ARG", 'cannot tell the codec from the file name: pass {codec: "h264" | "h265"}');
    boardPath(path);
    const r = readerOpen(path, codec!);
    if (typeof r === "string") throw errnoOf(r, `cannot open ${path}`);
    readers.set(this, { r, fps, path, handle: world.track("EsReader", this) });
  }
  read(): Frame | null {
    const h = readerOf(this);
    const pkt = readerRead(h.r);
    if (!pkt) return null;
    pkt.ptsUs = pkt.dtsUs = Math.floor((pkt.seq * 1_000_000) / h.fps);
    return newFrame(pkt);
  }
  rewind(): void {
    readerRewind(readerOf(this).r);
  }
  close(): void {
    if (!isObject(this) || !readers.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a EsReader");
    const h = readers.get(this);
    if (!h) return;
    readers.set(this, null);
    h.r.fd.close();
    h.handle.release();
  }
  get codec(): Codec {
    return readerOf(this).r.codec;
  }
  get path(): string {
    return readerOf(this).path;
  }
  declare [Symbol.dispose]: () => void;
}

// ------------------------------------------------------------------ splitAccessUnits

export const splitAccessUnits: typeof Api.splitAccessUnits = function splitAccessUnits(bytes: ArrayBuffer | Uint8Array, codec: Codec) {
  const usage = 'splitAccessUnits(bytes: ArrayBuffer | Uint8Array, codec: "h264" | "h265")';
  if (arguments.length < 2 || typeof codec !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", usage);
  if (codec !== "h264" && codec !== "h265") throwQcam("TypeError", "ERR_INVALID_ARG", usage);
  const { data } = inputBytes(bytes, codec, usage);
  return splitAus(codec, data).map((au) => au.buffer as ArrayBuffer);
};

// ------------------------------------------------------------------ class shapes

for (const [cls, tag] of [[Frame, "Frame"], [Encoder, "Encoder"], [Decoder, "Decoder"], [EsReader, "EsReader"]] as const) {
  const proto = cls.prototype as unknown as Record<string | symbol, unknown>;
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
  Object.defineProperty(proto, Symbol.toStringTag, { value: tag, configurable: true });
}
