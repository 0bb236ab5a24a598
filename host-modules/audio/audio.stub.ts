// qcam:audio for tests on a PC: the sim microphone on the world's fake clock.
// Mirrors mod_audio.c over backend_sim.c, g711.c and wav.c: capturing starts
// when the AudioIn is made; block k (N = sampleRate * frameMs / 1000 samples)
// has timestampUs t0 + k*frameMs and falls due at t0 + (k+1)*frameMs on the
// monotonic clock; read() hands out the oldest block not read yet and, when
// there is none, sleeps (virtual time) until the next one is due; the input
// keeps the `buffers` newest unread blocks and drops (counts) older ones; with
// all `buffers` blocks held open read() waits, then throws ERR_NO_BUFFER. The
// samples are the sim's, sample for sample: the same tone formula, or a WAV
// file on the qcam:fs stub's card (put one there with `sdcard.write`), read
// with the same checks and messages. G.711 is the same quantiser as g711.c, so
// g711Encode/g711Decode give the runtime's bytes. AudioIn and AudioEncoder are
// a link() source and encoder (see the qcam:link stub).
//
// Not modelled: the file changing while it plays (the stub reads it whole at
// the start), and the garbage collector (a Pcm dropped without close() keeps
// its buffer). `Pcm.toInt16Array()` returns a copy (on the board: a read-only
// view).
//
// Faults: world.fault("audio.read", { code: "EIO" }) makes the next read of an
// AudioIn (read(), or a link's capture) fail: Error EIO "audio read: <message>"
// (`message` in the spec, default "the microphone stopped"); a link reports it
// to onError as "link: microphone failed" and stops capturing.
import type * as Api from "qcam:audio";
import type { Frame } from "qcam:video";
import "qcam:video";
import "qcam:fs";
import type * as Self from "./audio.stub.ts";
import {
  LINK_AUDIO,
  fsHal,
  provide,
  providerOf,
  type AudioPicture,
  type LinkEncoder,
  type LinkPicture,
  type LinkSource,
  type Packet,
} from "../../build/testing/media.ts";
import { checkKeys, conforms, describeValue, errnoError, formatG, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";
import { ERRNO } from "../../build/testing/errors.ts";

conforms<typeof Api, typeof Self>(true);

const MIN_FRAME_MS = 10, MAX_FRAME_MS = 100, MIN_BUFFERS = 2, MAX_BUFFERS = 64, AMPLITUDE = 16384;
const DRY_POLL_US = 2000, DRY_WAIT_US = 500_000;
const isObject = (v: unknown): v is Record<string, unknown> => (typeof v === "object" || typeof v === "function") && v !== null;
const errnoOf = (name: string, what: string) => errnoError(ERRNO[name] ? name : "EIO", what);

// ------------------------------------------------------------------ G.711 (g711.c)

type Law = Api.G711Law;
const alawLevel = (i: number) => ((i >> 4) === 0 ? ((i & 15) << 4) + 8 : (((i & 15) << 4) + 0x108) << ((i >> 4) - 1));
const ulawLevel = (i: number) => ((((i & 15) << 3) + 0x84) << (i >> 4)) - 0x84;
const levelOf: Record<Law, Uint8Array> = { alaw: levels(alawLevel), ulaw: levels(ulawLevel) };

/** The level for each 14-bit magnitude 0..8192: nearest output, ties as rounded midpoints. */
function levels(level: (i: number) => number): Uint8Array {
  const t = new Uint8Array(8193);
  let i = 0;
  let bound = (level(0) + level(1) + 4) >> 3;
  for (let m = 0; m <= 8192; m++) {
    while (i < 127 && m >= bound) {
      i++;
      bound = i < 127 ? (level(i) + level(i + 1) + 4) >> 3 : 1 << 30;
    }
    t[m] = i;
  }
  return t;
}

function encodeSamples(law: Law, pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  const table = levelOf[law];
  for (let k = 0; k < pcm.length; k++) {
    const d = pcm[k] >> 2;
    const neg = d < 0;
    const i = table[neg ? -d : d];
    out[k] = law === "alaw" ? (neg ? i : i | 0x80) ^ 0x55 : (neg ? i | 0x80 : i) ^ 0xff;
  }
  return out;
}

function decodeBytes(law: Law, bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let k = 0; k < bytes.length; k++) {
    if (law === "alaw") {
      const c = bytes[k] ^ 0x55, m = alawLevel(c & 0x7f);
      out[k] = c & 0x80 ? m : -m;
    } else {
      const c = bytes[k] ^ 0xff, m = ulawLevel(c & 0x7f);
      out[k] = c & 0x80 ? -m : m;
    }
  }
  return out;
}

function lawArg(v: unknown, usage: string): Law {
  if (v !== "alaw" && v !== "ulaw") throwQcam("TypeError", "ERR_INVALID_ARG", usage);
  return v as Law;
}

function int16Arg(v: unknown, usage: string): Int16Array {
  if (!(v instanceof Int16Array)) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
  return v as Int16Array;
}

export const g711Encode: typeof Api.g711Encode = function g711Encode(samples, law) {
  const usage = 'g711Encode(samples: Int16Array, law: "alaw" | "ulaw")';
  if (arguments.length < 2) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
  const pcm = int16Arg(samples, usage);
  return encodeSamples(lawArg(law, usage), pcm);
};

export const g711Decode: typeof Api.g711Decode = function g711Decode(bytes, law) {
  const usage = 'g711Decode(bytes: Uint8Array | ArrayBuffer, law: "alaw" | "ulaw")';
  if (arguments.length < 2) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
  let data: Uint8Array;
  if (bytes instanceof ArrayBuffer) data = new Uint8Array(bytes);
  else if (bytes instanceof Uint8Array) data = bytes;
  else throwQcam("TypeError", "ERR_INVALID_ARG", usage);
  return decodeBytes(lawArg(law, usage), data!);
};

export const decodeFrame: typeof Api.decodeFrame = function decodeFrame(frame) {
  const usage = "decodeFrame(frame: Frame)";
  if (arguments.length < 1 || !isObject(frame)) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
  const get = providerOf(frame)?.packet;
  if (!get) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
  const pkt = get!();
  if (pkt.codec !== "alaw" && pkt.codec !== "ulaw")
    throwQcam("TypeError", "ERR_INVALID_ARG", `decodeFrame: an alaw or ulaw Frame, got a ${pkt.codec} one`);
  return decodeBytes(pkt.codec as Law, pkt.data);
};

// ------------------------------------------------------------------ WAV (wav.c)

interface WavInfo {
  sampleRate: number;
  channels: number;
  dataOffset: number;
  frames: number;
}

class WavError extends Error {
  constructor(
    readonly errno: "EILSEQ" | "ENOTSUP",
    message: string,
  ) {
    super(message);
  }
}

const FORMAT_NAMES: Record<number, string> = { 3: "32-bit float", 6: "A-law", 7: "mu-law", 2: "ADPCM", 0x11: "IMA ADPCM", 0x55: "MP3" };
const hex4 = (n: number) => n.toString(16).padStart(4, "0");

function parseWav(b: Uint8Array): WavInfo {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le32 = (o: number) => dv.getUint32(o, true);
  const tag4 = (o: number) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
  const bad = (m: string): never => {
    throw new WavError("EILSEQ", m);
  };
  const unsupported = (m: string): never => {
    throw new WavError("ENOTSUP", m);
  };
  if (b.length < 12) bad(`not a WAV file (${b.length} bytes)`);
  if (tag4(0) !== "RIFF" || tag4(8) !== "WAVE") bad("not a WAV file (no RIFF/WAVE header)");
  const end = b.length; // the RIFF size is often wrong: the file's size rules
  let fmt: WavInfo | null = null;
  let off = 12;
  while (off + 8 <= end) {
    const id = tag4(off);
    let size = le32(off + 4);
    const body = off + 8;
    if (id === "fmt ") {
      if (fmt) bad("two fmt chunks");
      if (size < 16 || size > 1024 || body + size > end) bad(`bad fmt chunk (${size} bytes)`);
      const f = new Uint8Array(40);
      f.set(b.subarray(body, body + Math.min(size, 40)));
      const fv = new DataView(f.buffer);
      let tag = fv.getUint16(0, true);
      const channels = fv.getUint16(2, true), rate = fv.getUint32(4, true), align = fv.getUint16(12, true), bits = fv.getUint16(14, true);
      if (tag === 0xfffe) {
        if (size < 40) bad(`WAVE_FORMAT_EXTENSIBLE fmt chunk too short (${size} bytes)`);
        tag = fv.getUint16(24, true);
        if (tag === 1 && fv.getUint16(18, true) !== bits)
          unsupported(`${fv.getUint16(18, true)} valid bits in ${bits}-bit samples: only 16-bit PCM is supported`);
      }
      if (tag !== 1) {
        const name = FORMAT_NAMES[tag];
        unsupported(name ? `${name} WAV: only 16-bit PCM is supported` : `WAV format tag 0x${hex4(tag)}: only 16-bit PCM is supported`);
      }
      if (bits !== 16) unsupported(`${bits}-bit WAV: only 16-bit PCM is supported`);
      if (channels < 1 || channels > 2) unsupported(`${channels} channels: only mono and stereo WAV files are supported`);
      if (rate < 1000 || rate > 192000) bad(`bad sample rate ${rate}`);
      if (align !== channels * 2) bad(`block align ${align} for ${channels} 16-bit channels`);
      fmt = { sampleRate: rate, channels, dataOffset: 0, frames: 0 };
    } else if (id === "data") {
      if (!fmt) bad("data chunk before the fmt chunk");
      size = Math.min(size, end - body);
      fmt!.dataOffset = body;
      fmt!.frames = Math.floor(size / (fmt!.channels * 2));
      return fmt!;
    }
    const next = body + size + (size & 1);
    if (next <= off) break;
    off = next;
  }
  if (!fmt) bad("no fmt chunk");
  return bad("no data chunk");
}

// ------------------------------------------------------------------ the HAL (backend_sim.c)

interface Cfg {
  sampleRate: number;
  channels: number;
  frameMs: number;
  buffers: number;
  toneHz: number;
  loop: boolean;
}

interface Input {
  cfg: Cfg;
  block: number;
  t0: number;
  frameUs: number;
  next: number;
  dropped: number;
  delivered: number;
  free: number; // pool buffers not handed out
  refs: number; // the app's AudioIn + a link reading it
  wav: { info: WavInfo; samples: Int16Array; blocks: number } | null;
  err: string;
}

function toneSample(hz: number, rate: number, n: number): number {
  const m = Number(((BigInt(n) % BigInt(rate)) * BigInt(hz)) % BigInt(rate));
  const v = AMPLITUDE * Math.sin((2.0 * Math.PI * m) / rate);
  return Math.sign(v) * Math.round(Math.abs(v)); // lround: halves away from zero
}

/** A pool buffer holding block k. */
class Block implements AudioPicture {
  #refs = 1;
  constructor(
    readonly input: Input,
    readonly seq: number,
    readonly ptsUs: number,
    readonly pcm: Int16Array,
  ) {}
  get sampleRate() {
    return this.input.cfg.sampleRate;
  }
  get channels() {
    return this.input.cfg.channels;
  }
  ref(): void {
    this.#refs++;
  }
  unref(): void {
    if (--this.#refs === 0) this.input.free++;
  }
}

function makeBlock(a: Input, k: number): Block {
  const ch = a.cfg.channels;
  let pcm: Int16Array;
  if (a.wav) {
    const b = a.cfg.loop ? k % a.wav.blocks : k;
    const first = b * a.block;
    const n = Math.min(a.block, a.wav.info.frames - first);
    pcm = a.wav.samples.slice(first * ch, (first + n) * ch);
  } else {
    pcm = new Int16Array(a.block * ch);
    for (let i = 0; i < a.block; i++) {
      const v = toneSample(a.cfg.toneHz, a.cfg.sampleRate, k * a.block + i);
      for (let c = 0; c < ch; c++) pcm[i * ch + c] = v;
    }
  }
  return new Block(a, k, a.t0 + k * a.frameUs, pcm);
}

function dueBlocks(a: Input, now: number): number {
  let n = now < a.t0 ? 0 : Math.floor((now - a.t0) / a.frameUs);
  if (a.wav && !a.cfg.loop && n > a.wav.blocks) n = a.wav.blocks;
  return n;
}

function overrun(a: Input, due: number): void {
  if (due - a.next > a.cfg.buffers) {
    a.dropped += due - a.next - a.cfg.buffers;
    a.next = due - a.cfg.buffers;
  }
}

const ended = (a: Input) => a.wav !== null && !a.cfg.loop && a.next >= a.wav.blocks;

type ReadResult = Block | { errno: string };

/** qcam_audio_in_read: the oldest block in the ring, waiting at most timeoutUs. */
function halRead(a: Input, timeoutUs: number): ReadResult {
  const fault = world.takeFault("audio.read");
  if (fault) {
    a.err = fault.message ?? "the microphone stopped";
    return { errno: fault.code ?? "EIO" };
  }
  const deadline = world.monotonicUs() + timeoutUs;
  let dry = false;
  for (;;) {
    const now = world.monotonicUs();
    const due = dueBlocks(a, now);
    overrun(a, due);
    if (a.next < due) {
      if (a.free > 0) {
        a.free--;
        a.delivered++;
        return makeBlock(a, a.next++);
      }
      dry = true;
    }
    if (ended(a)) return { errno: "ENODATA" };
    let wake = dry ? now + DRY_POLL_US : a.t0 + (a.next + 1) * a.frameUs;
    if (wake > deadline) {
      if (now >= deadline) return { errno: dry ? "ENOBUFS" : "ETIMEDOUT" };
      wake = deadline;
    }
    world.sleepUs(Math.max(1, wake - now)); // clock_nanosleep to an absolute time: a signal does not end it
  }
}

function halStats(a: Input): Api.AudioInStats {
  const due = dueBlocks(a, world.monotonicUs());
  const lost = due - a.next - a.cfg.buffers;
  return { captured: due, dropped: a.dropped + Math.max(0, lost), delivered: a.delivered };
}

// ------------------------------------------------------------------ Pcm

interface PcmState {
  block: Block;
  handle: Handle;
}
const pcms = new WeakMap<object, PcmState | null>();
let minting = false;

function pcmOf(self: unknown): PcmState {
  if (!isObject(self) || !pcms.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Pcm");
  const p = pcms.get(self);
  if (!p) throwQcam("TypeError", "ERR_CLOSED", "Pcm is closed");
  return p;
}

export class Pcm {
  constructor() {
    if (!minting) throwQcam("TypeError", "ERR_ILLEGAL_CONSTRUCTOR", "Pcm blocks come from an AudioIn");
  }
  get sampleRate(): number {
    return pcmOf(this).block.sampleRate;
  }
  get channels(): number {
    return pcmOf(this).block.channels;
  }
  get samples(): number {
    const b = pcmOf(this).block;
    return b.pcm.length / b.channels;
  }
  get timestampUs(): number {
    return pcmOf(this).block.ptsUs;
  }
  get seq(): number {
    return pcmOf(this).block.seq;
  }
  /** A copy (the board gives a read-only view without copying). */
  toInt16Array(): Int16Array {
    return pcmOf(this).block.pcm.slice();
  }
  close(): void {
    if (!isObject(this) || !pcms.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Pcm");
    const p = pcms.get(this);
    pcms.set(this, null);
    if (p) {
      p.block.unref();
      p.handle.release();
    }
  }
  declare [Symbol.dispose]: () => void;
}

function newPcm(block: Block): Pcm {
  minting = true;
  let p: Pcm;
  try {
    p = new Pcm();
  } finally {
    minting = false;
  }
  pcms.set(p, { block, handle: world.track("Pcm", p) });
  return p;
}

// ------------------------------------------------------------------ AudioIn

interface InState {
  input: Input | null; // null once closed
  source: string;
  link: LinkSource | null;
  handle: Handle;
}
const inputs = new WeakMap<object, InState | null>();

function inOf(self: unknown): InState & { input: Input } {
  if (!isObject(self) || !inputs.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a AudioIn");
  const h = inputs.get(self);
  if (!h || !h.input) throwQcam("TypeError", "ERR_CLOSED", "AudioIn is closed");
  return h as InState & { input: Input };
}

function inReader(self: unknown): InState & { input: Input } {
  const h = inOf(self);
  if (h.link) throwQcam("Error", "ERR_BUSY", "this AudioIn feeds a link: its blocks go there (close the link first)");
  return h;
}

function inputClose(a: Input): void {
  a.refs--;
}

function intOpt(o: Record<string, unknown>, name: string, lo: number, hi: number, def: number): number {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== "number") throwQcam("TypeError", "ERR_INVALID_ARG", `AudioIn ${name} must be an integer from ${lo} to ${hi}, not ${describeValue(v)}`);
  const d = v as number;
  if (!(d >= lo && d <= hi) || d !== Math.floor(d))
    throwQcam("RangeError", "ERR_INVALID_ARG", `AudioIn ${name} must be an integer from ${lo} to ${hi}, not ${formatG(d)}`);
  return d;
}

function rateOpt(o: Record<string, unknown>, what: string): number {
  const v = o.sampleRate;
  if (v === undefined) return 8000;
  if (typeof v !== "number") throwQcam("TypeError", "ERR_INVALID_ARG", `${what} sampleRate must be 8000 or 16000, not ${describeValue(v)}`);
  if (v !== 8000 && v !== 16000) throwQcam("RangeError", "ERR_INVALID_ARG", `${what} sampleRate must be 8000 or 16000, not ${formatG(v as number)}`);
  return v as number;
}

const isOptions = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function openWav(path: string, cfg: Cfg, block: number): NonNullable<Input["wav"]> {
  const bytes = fsHal().readFile(path);
  if (typeof bytes === "string") throw errnoOf(bytes, `audio source ${path}`);
  let info: WavInfo;
  try {
    info = parseWav(bytes);
  } catch (e) {
    if (e instanceof WavError) throwQcam("Error", "ERR_INVALID_SOURCE", `audio source ${path}: ${e.message}`);
    throw e;
  }
  const mono = (c: number) => (c === 1 ? "mono" : "stereo");
  if (info.sampleRate !== cfg.sampleRate || info.channels !== cfg.channels)
    throwQcam(
      "RangeError",
      "ERR_INVALID_ARG",
      `audio source ${path}: the file is ${info.sampleRate} Hz ${mono(info.channels)}, the input was asked for ${cfg.sampleRate} Hz ${mono(cfg.channels)} (no resampling)`,
    );
  if (info.frames === 0) throwQcam("Error", "ERR_INVALID_SOURCE", `audio source ${path}: the WAV file has no samples`);
  const n = info.frames * info.channels;
  const samples = new Int16Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + info.dataOffset, n * 2);
  for (let i = 0; i < n; i++) samples[i] = dv.getInt16(i * 2, true);
  return { info, samples, blocks: Math.ceil(info.frames / block) };
}

// ---- link() source provider

function linkSource(self: object): LinkSource {
  const h = inReader(self);
  const a = h.input;
  a.refs++;
  const src: LinkSource = {
    media: LINK_AUDIO,
    sampleRate: a.cfg.sampleRate,
    nextDueUs() {
      const now = world.monotonicUs();
      if (a.next < dueBlocks(a, now) && a.free === 0) return now + DRY_POLL_US;
      return a.t0 + (a.next + 1) * a.frameUs;
    },
    read() {
      const fault = world.takeFault("audio.read");
      if (fault) return { errno: fault.code ?? "EIO", message: fault.message ?? "the microphone stopped" };
      const due = dueBlocks(a, world.monotonicUs());
      overrun(a, due);
      if (a.next < due) {
        if (a.free === 0) return null; // the ring keeps it
        a.free--;
        a.delivered++;
        return makeBlock(a, a.next++);
      }
      return ended(a) ? "end" : null;
    },
    dropped: () => halStats(a).dropped,
    release() {
      if (h.link !== src) return;
      h.link = null;
      inputClose(a);
    },
  };
  h.link = src;
  return src;
}

const AudioInFn = function AudioIn(this: object, options?: Api.AudioInOptions): object {
  if (!new.target) throwQcam("TypeError", "ERR_CONSTRUCT_CALL_REQUIRED", "AudioIn must be called with new");
  const opts = arguments.length > 0 ? (options as unknown) : undefined;
  const cfg: Cfg = { sampleRate: 8000, channels: 1, frameMs: 20, buffers: 8, toneHz: 440, loop: true };
  let source = "tone";
  if (opts !== undefined) {
    if (!isOptions(opts) || typeof opts === "function") throwQcam("TypeError", "ERR_INVALID_ARG", "AudioIn options must be an object");
    checkKeys(opts, "AudioIn", ["sampleRate", "channels", "source", "toneHz", "frameMs", "buffers", "loop"]);
    cfg.sampleRate = rateOpt(opts, "AudioIn");
    cfg.channels = intOpt(opts, "channels", 1, 1, 1);
    cfg.frameMs = intOpt(opts, "frameMs", MIN_FRAME_MS, MAX_FRAME_MS, 20);
    cfg.buffers = intOpt(opts, "buffers", MIN_BUFFERS, MAX_BUFFERS, 8);
    cfg.toneHz = intOpt(opts, "toneHz", 1, cfg.sampleRate / 2, 440);
    const src = opts.source;
    if (src !== undefined) {
      if (typeof src !== "string" || !src || new TextEncoder().encode(src).length >= 256)
        throwQcam("TypeError", "ERR_INVALID_ARG", 'AudioIn source must be "tone" or the board path of a .wav file (at most 255 bytes)');
      source = src as string;
    }
    if (opts.loop !== undefined && typeof opts.loop !== "boolean") throwQcam("TypeError", "ERR_INVALID_ARG", "AudioIn loop must be a boolean");
    if (opts.loop !== undefined) cfg.loop = opts.loop as boolean;
  }
  const block = (cfg.sampleRate / 1000) * cfg.frameMs;
  const wav = source === "tone" ? null : openWav(source, cfg, block);
  const input: Input = {
    cfg,
    block,
    t0: world.monotonicUs(),
    frameUs: cfg.frameMs * 1000,
    next: 0,
    dropped: 0,
    delivered: 0,
    free: cfg.buffers,
    refs: 1,
    wav,
    err: "",
  };
  const self = Object.create(new.target.prototype as object) as object;
  inputs.set(self, { input, source, link: null, handle: world.track("AudioIn", self) });
  provide(self, { source: () => linkSource(self) });
  return self;
};
Object.defineProperty(AudioInFn, "length", { value: 1 });

function defineProto(proto: object, members: Record<string, PropertyDescriptor>): void {
  for (const [k, d] of Object.entries(members)) Object.defineProperty(proto, k, { configurable: true, enumerable: false, ...d });
}

const inGetter = (name: string, get: (h: InState & { input: Input }) => number | string) => ({
  get: { [`get ${name}`]: function (this: unknown) { return get(inOf(this)); } }[`get ${name}`],
});

defineProto(AudioInFn.prototype, {
  sampleRate: inGetter("sampleRate", (h) => h.input.cfg.sampleRate),
  channels: inGetter("channels", (h) => h.input.cfg.channels),
  frameMs: inGetter("frameMs", (h) => h.input.cfg.frameMs),
  samples: inGetter("samples", (h) => h.input.block),
  buffers: inGetter("buffers", (h) => h.input.cfg.buffers),
  source: inGetter("source", (h) => h.source),
  read: {
    writable: true,
    value: function read(this: unknown): Api.Pcm | null {
      const { input: a } = inReader(this);
      const period = a.frameUs;
      let timeout = 2 * period + 1_000_000;
      if (a.free === 0) timeout = period + DRY_WAIT_US;
      const r = halRead(a, timeout);
      if (r instanceof Block) return newPcm(r) as unknown as Api.Pcm;
      const e = (r as { errno: string }).errno;
      if (e === "ENODATA") return null;
      if (e === "ENOBUFS")
        throwQcam(
          "Error",
          "ERR_NO_BUFFER",
          `no free buffer: all ${a.cfg.buffers} blocks of this AudioIn are still open; close() the ones you are done with (or declare them with \`using\`), or ask for more buffers`,
        );
      throw errnoOf(e, `audio read: ${a.err}`);
    },
  },
  stats: {
    writable: true,
    value: function stats(this: unknown): Api.AudioInStats {
      return halStats(inOf(this).input);
    },
  },
  close: {
    writable: true,
    value: function close(this: unknown): void {
      if (!isObject(this) || !inputs.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a AudioIn");
      const h = inputs.get(this);
      if (!h || !h.input) return;
      if (h.link) throwQcam("Error", "ERR_BUSY", "this AudioIn feeds a link (close the link first)");
      inputClose(h.input);
      h.input = null;
      h.handle.release();
      inputs.set(this, null);
    },
  },
});

// ------------------------------------------------------------------ AudioEncoder

interface EncState {
  law: Law;
  sampleRate: number;
  seq: number;
  linked: boolean;
  handle: Handle;
}
const encoders = new WeakMap<object, EncState | null>();

function encOf(self: unknown): EncState {
  if (!isObject(self) || !encoders.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a AudioEncoder");
  const e = encoders.get(self);
  if (!e) throwQcam("TypeError", "ERR_CLOSED", "AudioEncoder is closed");
  return e;
}

const mintFrame = (pkt: Packet): Frame => world.exposed<(p: Packet) => Frame>("video.frame")!(pkt);

function packetOf(e: EncState, pcm: Int16Array, ptsUs: number, sampleRate: number, channels: number): Packet {
  return {
    codec: e.law,
    type: "audio",
    keyframe: true,
    data: encodeSamples(e.law, pcm),
    ptsUs,
    dtsUs: ptsUs,
    seq: e.seq++,
    sampleRate,
    samples: pcm.length / channels,
  };
}

export class AudioEncoder {
  constructor(options: Api.AudioEncoderOptions) {
    const usage = 'new AudioEncoder(options: {codec: "alaw" | "ulaw", sampleRate?})';
    if (arguments.length < 1 || !isOptions(options) || typeof options === "function") throwQcam("TypeError", "ERR_INVALID_ARG", usage);
    const o = options as unknown as Record<string, unknown>;
    checkKeys(o, "AudioEncoder", ["codec", "sampleRate"]);
    if (o.codec !== "alaw" && o.codec !== "ulaw") throwQcam("TypeError", "ERR_INVALID_ARG", 'AudioEncoder codec must be "alaw" or "ulaw"');
    const sampleRate = rateOpt(o, "AudioEncoder");
    const st: EncState = { law: o.codec as Law, sampleRate, seq: 0, linked: false, handle: world.track("AudioEncoder", this) };
    encoders.set(this, st);
    provide(this, {
      encoder: (): LinkEncoder => {
        const e = encOf(this);
        if (e.linked) throwQcam("Error", "ERR_BUSY", "this encoder already feeds a link");
        e.linked = true;
        return {
          media: LINK_AUDIO,
          encode: (pic: LinkPicture) => {
            const b = pic as AudioPicture;
            return packetOf(e, b.pcm, b.ptsUs, 0, b.channels);
          },
          costUs: (pic: LinkPicture) => 1 + (pic as AudioPicture).pcm.length / 500,
          release: () => {
            e.linked = false;
          },
        };
      },
    });
  }
  get codec(): Law {
    return encOf(this).law;
  }
  get sampleRate(): number {
    return encOf(this).sampleRate;
  }
  encode(samples: Api.Pcm | Int16Array, timestampUs?: number): Frame {
    const e = encOf(this);
    if (e.linked) throwQcam("Error", "ERR_BUSY", "this encoder is fed by a link; close the link first");
    const usage = "encode(samples: Pcm | Int16Array, timestampUs?: number)";
    if (arguments.length < 1 || !isObject(samples)) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
    let pts = 0;
    const havePts = arguments.length > 1 && timestampUs !== undefined;
    if (havePts) {
      if (typeof timestampUs !== "number") throwQcam("TypeError", "ERR_INVALID_ARG", "timestampUs must be a number");
      if (!(Math.abs(timestampUs!) <= Number.MAX_SAFE_INTEGER) || timestampUs !== Math.floor(timestampUs!))
        throwQcam("RangeError", "ERR_INVALID_ARG", "timestampUs must be an integer");
      pts = timestampUs!;
    }
    if (pcms.has(samples)) {
      const p = pcms.get(samples);
      if (!p) throwQcam("TypeError", "ERR_CLOSED", "Pcm is closed");
      const b = p!.block;
      return mintFrame(packetOf(e, b.pcm, havePts ? pts : b.ptsUs, b.sampleRate, b.channels));
    }
    const pcm = int16Arg(samples, usage);
    return mintFrame(packetOf(e, pcm, pts, e.sampleRate, 1));
  }
  close(): void {
    if (!isObject(this) || !encoders.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a AudioEncoder");
    const e = encoders.get(this);
    if (!e) return;
    if (e.linked) throwQcam("Error", "ERR_BUSY", "close the link this encoder feeds first");
    encoders.set(this, null);
    e.handle.release();
  }
  declare [Symbol.dispose]: () => void;
}

for (const [fn, tag] of [[AudioInFn, "AudioIn"], [Pcm, "Pcm"], [AudioEncoder, "AudioEncoder"]] as const) {
  const proto = fn.prototype as Record<string | symbol, unknown>;
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
  Object.defineProperty(proto, Symbol.toStringTag, { value: tag, configurable: true });
}
Object.defineProperty(AudioInFn, "prototype", { writable: false, enumerable: false, configurable: false });

export const AudioIn = AudioInFn as unknown as typeof Api.AudioIn;
