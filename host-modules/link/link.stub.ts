// qcam:link for tests on a PC. Mirrors mod_link.c and backend_posix.c on the
// world's fake clock: a link's "threads" run as virtual time passes — at each
// moment a frame of the source falls due (while the app sleeps, waits in
// needExit(), or a test advances the clock) the link takes it from the camera,
// encodes it and hands it to every sink, as the capture, encode and sink
// threads would. Counts add up as on the board (framesIn = framesEncoded +
// drops.queue + drops.encoder; per sink framesEncoded = sinkFrames[i] +
// drops.sinks[i]); errors (a full card: ENOSPC; the camera or the encoder
// failing) are posted to the app's loop and reach onError at the next
// needExit() turn, or are fatal without it; the camera, encoder and sinks
// refuse read/encode/write/close with ERR_BUSY while linked; `frames`,
// `capture` and `finished` behave as documented. EsFileSink writes the raw
// stream to the qcam:fs stub's card (read it back with `sdcard` from
// "qcam:testing"), starting at the first keyframe.
//
// link(source, sinks) — the form for sources of encoded frames (an
// RtspSource) — checks its arguments as mod_link.c does, but no such source
// exists in the stub's world (no network), so every source there needs an
// encoder and the form ends in that error.
//
// Not modelled: encoding and writing take no virtual time, so the queues
// never fill (drops.queue and drops.sinks stay 0 unless a sink fails, and
// queues.* are 0); encodeUs and latencyUs come from a cost model (about
// 6.9 ns per pixel for h264, 20.6 for h265, as measured on the sim), not
// from a clock, and so does cpuUs: its encode figure is the sum of that
// model's cost over the pictures encoded, while capture and the sinks,
// which cost no modelled time, stay 0.
//
// Audio links (an AudioIn and an AudioEncoder, see the qcam:audio stub) run the
// same way, one block per frameMs; a sink is claimed per kind (busy bits
// LINK_VIDEO / LINK_AUDIO), so one video link and one audio link may feed it
// at once and a second link of a kind is ERR_BUSY.
//
// Faults: those of the parts — camera.read (the link stops capturing and
// reports "link: camera failed"), audio.read (the same, "link: microphone
// failed"), video.encode (counted in drops.encoder, "link: encoder failed"),
// fs.write (the sink fails: "link: es failed").
import type * as Api from "qcam:link";
import type { Image } from "qcam:image";
import type { Frame } from "qcam:video";
import type * as Self from "./link.stub.ts";
import type { LinkOverlay } from "../overlay/overlay.stub.ts";
import "qcam:fs";
import {
  LINK_AUDIO,
  LINK_VIDEO,
  copyCount,
  fsHal,
  provide,
  providerOf,
  type FsFd,
  type LinkEncoder,
  type LinkPicture,
  type LinkSink,
  type LinkSource,
  type Packet,
  type SourcePicture,
} from "../../build/testing/media.ts";
import { checkKeys, conforms, errnoError, throwQcam, toNumber, world, type Handle } from "../../build/testing/stub-kit.ts";
import { ERRNO } from "../../build/testing/errors.ts";

conforms<typeof Api, typeof Self>(true);

const MAX_SINKS = 8;
const isObject = (v: unknown): v is Record<string, unknown> => (typeof v === "object" || typeof v === "function") && v !== null;
const errnoOf = (name: string, what: string) => errnoError(ERRNO[name] ? name : "EIO", what);
const strerror = (name: string) => (ERRNO[name] ?? ERRNO.EIO)[1];

// ------------------------------------------------------------------ EsFileSink (es_sink.c + the binding)

interface EsState {
  fd: FsFd;
  path: string;
  frames: number;
  bytes: number;
  started: boolean;
  sink: LinkSink;
  handle: Handle;
}
const sinks = new WeakMap<object, EsState | null>();

function esOf(self: unknown): EsState {
  if (!isObject(self) || !sinks.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a EsFileSink");
  const h = sinks.get(self);
  if (!h) throwQcam("TypeError", "ERR_CLOSED", "EsFileSink is closed");
  return h;
}

export class EsFileSink {
  constructor(path: string) {
    if (arguments.length < 1 || typeof path !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", "new EsFileSink(path: string)");
    const fd = fsHal().open(path, "w");
    if (typeof fd === "string") throw errnoOf(fd, `cannot open ${path}`);
    const h: EsState = {
      fd,
      path,
      frames: 0,
      bytes: 0,
      started: false,
      handle: world.track("EsFileSink", this),
      sink: {
        kind: "es",
        busy: 0,
        write(pkt: Packet) {
          // A stream starts at a keyframe (with its parameter sets): what comes before is skipped.
          if (!h.started && !pkt.keyframe && pkt.type !== "header") return 0;
          h.started = true;
          const r = h.fd.write(pkt.data);
          h.bytes += r.written;
          if (r.errno) return r.errno;
          h.frames++;
          return 0;
        },
        flush: () => 0,
      },
    };
    sinks.set(this, h);
    provide(this, { sink: () => esOf(this).sink });
  }
  write(frame: Frame): void {
    const h = esOf(this);
    if (h.sink.busy) throwQcam("Error", "ERR_BUSY", "this sink is fed by a link; write() is for pull mode");
    const get = arguments.length > 0 ? providerOf(frame)?.packet : undefined;
    if (!get) throwQcam("TypeError", "ERR_INVALID_ARG", "write(frame: Frame)");
    const r = h.sink.write(get!());
    if (r) throw errnoOf(r, `cannot write ${h.path}`);
  }
  close(): void {
    if (!isObject(this) || !sinks.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a EsFileSink");
    const h = sinks.get(this);
    if (!h) return;
    if (h.sink.busy) throwQcam("Error", "ERR_BUSY", "close the link feeding this sink first");
    sinks.set(this, null);
    h.fd.close();
    h.handle.release();
  }
  get frames(): number {
    return esOf(this).frames;
  }
  get bytes(): number {
    return esOf(this).bytes;
  }
  get path(): string {
    return esOf(this).path;
  }
  declare readonly kind: "es";
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(EsFileSink.prototype, "kind", { value: "es", configurable: true, writable: false, enumerable: false });
Object.defineProperty(EsFileSink.prototype, Symbol.dispose, { value: EsFileSink.prototype.close, writable: true, configurable: true });

// ------------------------------------------------------------------ the link (backend_posix.c)

const SAMPLES = 1024;

class Samples {
  #v: number[] = [];
  #next = 0;
  add(x: number): void {
    if (this.#v.length < SAMPLES) this.#v.push(x);
    else this.#v[this.#next] = x;
    this.#next = (this.#next + 1) % SAMPLES;
  }
  percentiles(): { p50: number; p99: number } {
    const n = this.#v.length;
    if (!n) return { p50: 0, p99: 0 };
    const s = [...this.#v].sort((a, b) => a - b);
    return { p50: s[Math.floor((n - 1) / 2)], p99: s[Math.floor(((n - 1) * 99) / 100)] };
  }
}

interface SinkSlot {
  sink: LinkSink;
  written: number;
  dropped: number;
  failed: boolean;
}

interface Link {
  src: LinkSource;
  /** The source's drop count when the link started, and (null until then) when it stopped reading: drops before or after are not the link's. */
  srcDropped0: number;
  srcDropped1: number | null;
  enc: LinkEncoder;
  slots: SinkSlot[];
  maxFrames: number;
  keepLast: boolean;
  overlay: LinkOverlay | null;
  onError: ((e: Error & { code: string }) => void) | undefined;
  taken: number;
  framesIn: number;
  framesEncoded: number;
  dropsEncoder: number;
  encodeUs: Samples;
  latencyUs: Samples;
  encodeCpuUs: number; // the cost model's time over every encode() call
  windowStart: number;
  windowCount: number;
  fps: number;
  error: string | null;
  finished: boolean;
  stopped: boolean;
  last: LinkPicture | null;
  media: number; // LINK_VIDEO or LINK_AUDIO: the bit it holds in each sink's busy
  world: number; // the world generation the link runs in
  handle: Handle;
}

/** report(): the first error of a link goes to the app's loop. */
function report(l: Link, errno: string, what: string): void {
  if (l.error) return;
  l.error = errno;
  const onError = l.onError;
  world.post(() => {
    if (typeof onError === "function") onError(errnoOf(errno, `link: ${what} failed`) as Error & { code: string });
    else world.failFatal(`link: ${what} failed: ${strerror(errno)}`);
  });
}

/** Capturing ends (end_reading in C): what the source drops from now on is not the link's. */
function endReading(l: Link): void {
  if (l.srcDropped1 === null) l.srcDropped1 = l.src.dropped();
  l.finished = true;
}

/** The work of the capture, encode and sink threads for the frame due now. */
function step(l: Link): void {
  if (l.stopped || l.finished) return;
  const r = l.src.read();
  if (r === "end") endReading(l);
  else if (r && "errno" in r) {
    report(l, r.errno, l.media === LINK_AUDIO ? "microphone" : "camera");
    endReading(l);
  } else if (r) {
    l.taken++;
    l.framesIn++;
    encodeOne(l, r);
    if (l.maxFrames && l.taken >= l.maxFrames) endReading(l);
  }
  if (!l.finished) schedule(l);
}

function encodeOne(l: Link, pic: LinkPicture): void {
  l.overlay?.draw(pic.ptsUs, pic.seq); // stub pictures are not drawn into: the overlay counts and expands
  const res = l.enc.encode(pic);
  const cost = l.enc.costUs(pic);
  l.encodeCpuUs += cost;
  let drop: LinkPicture | null = pic;
  if (!("errno" in res) && l.keepLast) {
    drop = l.last;
    l.last = pic;
  }
  drop?.unref();
  if ("errno" in res) {
    l.dropsEncoder++;
    report(l, res.errno, "encoder");
    return;
  }
  l.framesEncoded++;
  l.encodeUs.add(cost);
  if (res.type === "audio" && !res.sampleRate) res.sampleRate = l.src.sampleRate;
  for (const [i, s] of l.slots.entries()) {
    const err = s.failed ? "EIO" : s.sink.write(res);
    if (err) {
      if (!s.failed) report(l, err, s.sink.kind);
      s.failed = true;
      s.dropped++;
      continue;
    }
    s.written++;
    if (i === l.slots.length - 1) {
      const latency = cost + 100;
      l.latencyUs.add(latency);
      const done = world.monotonicUs() + latency;
      if (done - l.windowStart >= 1_000_000) {
        l.fps = (l.windowCount * 1e6) / (done - l.windowStart);
        l.windowStart = done;
        l.windowCount = 0;
      }
      l.windowCount++;
    }
  }
}

function schedule(l: Link): void {
  const bootUs = world.monotonicUs() - world.ticksUs();
  const atUs = Math.max(l.src.nextDueUs() - bootUs, world.ticksUs());
  const gen = l.world;
  world.at(atUs / 1000, () => {
    if (gen === generation()) step(l);
  });
}

/** Which world a link belongs to: world.reset() starts a new one, and a link
 * of an earlier world (its parts gone) never runs again. */
function generation(): number {
  return world.part("link", () => ({ gen: ++generations })).gen;
}
let generations = 0;

function statsOf(l: Link): Api.LinkStats {
  const sinkDrops = l.slots.map((s) => s.dropped);
  const sinkFrames = l.slots.map((s) => s.written);
  return {
    fps: l.fps,
    framesIn: l.framesIn,
    framesEncoded: l.framesEncoded,
    framesOut: Math.min(...sinkFrames),
    drops: { source: (l.srcDropped1 ?? l.src.dropped()) - l.srcDropped0, queue: 0, encoder: l.dropsEncoder, sinks: sinkDrops },
    queues: { encode: 0, sinks: l.slots.map(() => 0) },
    sinkFrames,
    encodeUs: l.encodeUs.percentiles(),
    latencyUs: l.latencyUs.percentiles(),
    cpuUs: { capture: 0, encode: Math.round(l.encodeCpuUs), sinks: l.slots.map(() => 0) },
    pixelCopies: copyCount(),
    finished: l.finished,
  };
}

// ------------------------------------------------------------------ Pipe

const pipes = new WeakMap<object, { link: Link | null }>();

function pipeOf(self: unknown): Link {
  if (!isObject(self) || !pipes.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Pipe");
  const p = pipes.get(self)!;
  if (!p.link) throwQcam("TypeError", "ERR_CLOSED", "Pipe is closed");
  return p.link;
}

const PipeProto: object = Object.create(Object.prototype);
Object.defineProperties(PipeProto, {
  stats: {
    writable: true,
    configurable: true,
    value: function stats(this: unknown): Api.LinkStats {
      return statsOf(pipeOf(this));
    },
  },
  capture: {
    writable: true,
    configurable: true,
    value: function capture(this: unknown): Image | null {
      const l = pipeOf(this);
      if (!l.keepLast) throwQcam("Error", "ERR_NO_CAPTURE", "start the link with { capture: true } to use capture()");
      return l.last ? (l.last as SourcePicture).image() : null;
    },
  },
  close: {
    writable: true,
    configurable: true,
    value: function close(this: unknown): Api.LinkStats | undefined {
      if (!isObject(this) || !pipes.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Pipe");
      const p = pipes.get(this)!;
      const l = p.link;
      if (!l) return undefined;
      // qcam_link_stop: capturing stops (so `finished`), the queues drain (empty here), the sinks flush.
      l.stopped = true;
      endReading(l);
      for (const s of l.slots)
        if (!s.failed) {
          const err = s.sink.flush();
          if (err) report(l, err, s.sink.kind);
        }
      const final = statsOf(l);
      for (const s of l.slots) s.sink.busy &= ~l.media;
      l.last?.unref();
      l.last = null;
      l.src.release();
      l.enc.release();
      l.handle.release();
      p.link = null;
      return final;
    },
  },
});
Object.defineProperty(PipeProto, Symbol.dispose, { value: (PipeProto as Record<string, unknown>).close, writable: true, configurable: true });
Object.defineProperty(PipeProto, Symbol.toStringTag, { value: "Pipe", configurable: true });

// ------------------------------------------------------------------ link()

function uintOpt(o: Record<string, unknown>, name: string, lo: number, hi: number): number | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  const d = toNumber(v);
  if (!(d >= lo && d <= hi) || d !== Math.floor(d)) throwQcam("RangeError", "ERR_INVALID_ARG", `${name} must be an integer ${lo}..${hi}`);
  return d;
}

export const link = function link(source: unknown, encoder: unknown, sinkArg?: unknown): Api.Pipe {
  if (arguments.length < 2)
    throwQcam("TypeError", "ERR_INVALID_ARG", "link(source, encoder, sinks, options?) or link(encodedSource, sinks, options?)");
  const ps = providerOf(source)?.source;
  if (!ps) throwQcam("TypeError", "ERR_INVALID_ARG", "link: the source must be a Camera, a Channel, an AudioIn or an RtspSource");
  // link(source, sinks, options?): the form for sources of encoded frames (mod_link.c).
  const encodedForm = Array.isArray(encoder) || providerOf(encoder)?.sink !== undefined;
  if (encodedForm) sinkArg = encoder;
  else if (arguments.length < 3) throwQcam("TypeError", "ERR_INVALID_ARG", "link(source, encoder, sinks, options?)");
  const pe = encodedForm ? undefined : providerOf(encoder)?.encoder;
  if (!encodedForm && !pe) throwQcam("TypeError", "ERR_INVALID_ARG", "link: the encoder must be an Encoder or an AudioEncoder");
  let vals: unknown[];
  if (Array.isArray(sinkArg)) {
    if (sinkArg.length < 1 || sinkArg.length > MAX_SINKS) throwQcam("RangeError", "ERR_INVALID_ARG", `link: 1..${MAX_SINKS} sinks`);
    vals = [...(sinkArg as unknown[])];
  } else vals = [sinkArg];
  const linkSinks: LinkSink[] = vals.map((v, i) => {
    const get = providerOf(v)?.sink;
    if (!get) throwQcam("TypeError", "ERR_INVALID_ARG", `link: sink ${i} is not a sink`);
    return get!();
  });
  let encodeQueue = 4, sinkQueue = 64, maxFrames = 0, keepLast = false;
  let overlay: LinkOverlay | null = null;
  let onError: Link["onError"];
  const options = arguments[encodedForm ? 2 : 3] as unknown;
  if (isObject(options)) {
    // The first bad option is the one thrown, as in mod_link.c.
    checkKeys(options, "link", ["encodeQueue", "sinkQueue", "frames", "capture", "overlay", "onError"]);
    encodeQueue = uintOpt(options, "encodeQueue", 1, 64) ?? encodeQueue;
    sinkQueue = uintOpt(options, "sinkQueue", 1, 4096) ?? sinkQueue;
    const mf = options.frames;
    if (mf !== undefined) {
      const d = toNumber(mf);
      if (!(d >= 1) || d > 1e15 || d !== Math.floor(d)) throwQcam("RangeError", "ERR_INVALID_ARG", "frames must be an integer >= 1");
      maxFrames = d;
    }
    keepLast = Boolean(options.capture);
    if (options.overlay !== undefined) {
      const ov = world.exposed<(v: unknown) => "no" | "closed" | LinkOverlay>("overlay.of")?.(options.overlay) ?? "no";
      if (ov === "no") throwQcam("TypeError", "ERR_INVALID_ARG", "link: overlay must be an Overlay (qcam:overlay)");
      if (ov === "closed") throwQcam("TypeError", "ERR_CLOSED", "Overlay is closed");
      overlay = ov as LinkOverlay;
    }
    const f = options.onError;
    if (f !== undefined && typeof f !== "function") throwQcam("TypeError", "ERR_INVALID_ARG", "onError must be a function");
    onError = f as Link["onError"];
  }
  void encodeQueue; // the queues never fill on virtual time (see the top of this file)
  void sinkQueue;
  const src = ps!();
  if (encodedForm) {
    // Every source of the stub's world gives pictures: an RtspSource cannot be
    // made without a network (see the qcam:rtsp stub).
    src.release();
    throwQcam("TypeError", "ERR_INVALID_ARG", "link: this source needs an encoder: link(source, encoder, sinks, options?)");
  }
  let enc: LinkEncoder;
  try {
    enc = pe!();
  } catch (e) {
    src.release();
    throw e;
  }
  const audio = src.media === LINK_AUDIO;
  if (audio !== (enc.media === LINK_AUDIO) || (audio && (keepLast || overlay))) {
    src.release();
    enc.release();
    if (audio && enc.media === LINK_AUDIO)
      throwQcam("TypeError", "ERR_INVALID_ARG", `link: ${keepLast ? "capture" : "overlay"} is for video links`);
    throwQcam("TypeError", "ERR_INVALID_ARG", `link: ${audio ? "an audio source needs an AudioEncoder" : "a video source needs an Encoder"}`);
  }
  const media = audio ? LINK_AUDIO : LINK_VIDEO;
  // qcam_link_start claims each sink in turn for its media (the same one twice is busy the second time).
  for (const [i, s] of linkSinks.entries()) {
    if (s.busy & media) {
      for (const t of linkSinks.slice(0, i)) t.busy &= ~media;
      src.release();
      enc.release();
      throwQcam("Error", "ERR_BUSY", `link: a sink is already fed by another ${audio ? "audio" : "video"} link`);
    }
    s.busy |= media;
  }
  const pipe = Object.create(PipeProto) as Api.Pipe;
  const l: Link = {
    src,
    srcDropped0: src.dropped(),
    srcDropped1: null,
    enc,
    slots: linkSinks.map((sink) => ({ sink, written: 0, dropped: 0, failed: false })),
    maxFrames,
    keepLast,
    overlay,
    onError,
    taken: 0,
    framesIn: 0,
    framesEncoded: 0,
    dropsEncoder: 0,
    encodeUs: new Samples(),
    latencyUs: new Samples(),
    encodeCpuUs: 0,
    windowStart: world.monotonicUs(),
    windowCount: 0,
    fps: 0,
    error: null,
    finished: false,
    stopped: false,
    last: null,
    media,
    world: generation(),
    handle: world.track("Pipe", pipe, true),
  };
  pipes.set(pipe, { link: l });
  schedule(l);
  return pipe;
} as typeof Api.link;
