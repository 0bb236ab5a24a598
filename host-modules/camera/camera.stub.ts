// qcam:camera for tests on a PC: the sim camera on the world's fake clock.
// Mirrors mod_camera.c over backend_sim.c: the sensor starts when the Camera
// is made, capture k falls due at t0 + ceil(k * 1e6 / fps) on the monotonic
// clock whether or not anybody reads; read() hands out the newest capture not
// read yet and, when there is none, sleeps (virtual time) until the next one
// falls due, so a slow reader sees seq jump and stats().dropped count the
// frames it missed. Channels are views of the same captures (same seq, same
// timestampUs). Each output has a pool of `buffers` pictures: an open Image
// holds one, and with all of them held read() waits (frames falling due are
// dropped and counted) and then throws ERR_NO_BUFFER, as on the sim. Options,
// errors, codes and messages are the binding's. The pixels are the sim's
// synthetic pattern, drawn the first time an Image's pixels are asked for.
//
// Not modelled: Y4M sources (`source` throws ERR_STUB_UNSUPPORTED), and the
// garbage collector: an Image the app drops without close() keeps its buffer
// (on the board read() collects garbage before giving up on a dry pool).
//
// Faults: world.fault("camera.read", { code: "ENODEV" }) makes the next read of
// any output (read(), each frame of skipFrames(), a link's capture) fail as an
// unplugged sensor does: Error ENODEV "camera read: <message>: No such device";
// a link reports it to onError as "link: camera failed" and stops capturing.
import type * as Api from "qcam:camera";
import type { Image, PixelFormat } from "qcam:image";
import "qcam:image";
import type * as Self from "./camera.stub.ts";
import { provide, type LinkSource, type MintSpec, type SourcePicture } from "../../build/testing/media.ts";
import { checkKeys, conforms, describeValue, errnoError, formatG, throwErrno, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";

conforms<typeof Api, typeof Self>(true);

// ------------------------------------------------------------------ the HAL (backend_sim.c)

const CAPS = { minWidth: 32, maxWidth: 3840, minHeight: 32, maxHeight: 2160, sizeStep: 2, minFps: 1, maxFps: 120, minBuffers: 2, maxBuffers: 16, maxChannels: 4 };
const FORMATS: readonly PixelFormat[] = ["nv21", "nv12", "yuv420p", "rgb888", "gray"];
const DRY_WAIT_US = 500_000;

interface Output {
  width: number;
  height: number;
  format: PixelFormat;
  fps: number;
  buffers: number;
}

interface Sensor {
  t0: number; // monotonic µs of capture 0
  fps: number;
  channels: Chn[];
  refs: number; // the app's Camera + each link reading it
}

interface Chn {
  sensor: Sensor;
  cfg: Output;
  startJ: number;
  nextJ: number;
  dropped: number;
  delivered: number;
  free: number; // pool pictures not handed out
  err: string;
}

const state = () => world.part("camera", () => ({ busy: false }));

/** Capture k falls due at t0 + ceil(k * 1e6 / fps). */
const captureDue = (s: Sensor, k: number) => s.t0 + Math.floor((k * 1_000_000 + s.fps - 1) / s.fps);
/** A channel at f fps takes capture ceil(j * F / f) as its frame j. */
const captureOf = (c: Chn, j: number) => Math.floor((j * c.sensor.fps + c.cfg.fps - 1) / c.cfg.fps);
/** The newest channel frame due at `now` (-1: none yet). */
function latestFrame(c: Chn, now: number): number {
  const s = c.sensor;
  if (now < s.t0) return -1;
  const k = Math.floor(((now - s.t0) * s.fps) / 1_000_000);
  return Math.floor((k * c.cfg.fps) / s.fps);
}

function newChannel(s: Sensor, cfg: Output): Chn {
  return { sensor: s, cfg, startJ: 0, nextJ: 0, dropped: 0, delivered: 0, free: cfg.buffers, err: "" };
}

function sensorClose(s: Sensor): void {
  if (--s.refs === 0) state().busy = false;
}

/** A pool picture: goes back to its channel's pool when the last reference drops. */
class Picture implements SourcePicture {
  #refs = 1;
  constructor(
    readonly chn: Chn,
    readonly seq: number,
    readonly ptsUs: number,
  ) {}
  get width() {
    return this.chn.cfg.width;
  }
  get height() {
    return this.chn.cfg.height;
  }
  get format() {
    return this.chn.cfg.format;
  }
  ref(): void {
    this.#refs++;
  }
  unref(): void {
    if (--this.#refs === 0) this.chn.free++;
  }
  image(): Image {
    this.ref();
    const { width, height, format } = this.chn.cfg;
    const fps = this.chn.sensor.fps;
    const spec: MintSpec = {
      width,
      height,
      format,
      timestampUs: this.ptsUs,
      seq: this.seq,
      render: () => renderPattern(width, height, format, this.seq, fps),
      release: () => this.unref(),
    };
    return world.exposed<(s: MintSpec) => Image>("image.make")!(spec); // holds the reference taken above
  }
}

type ReadResult = Picture | "skipped" | { errno: string };

/** qcam_camera_read: the newest frame not handed out, waiting at most timeoutUs. */
function halRead(c: Chn, timeoutUs: number, want: boolean): ReadResult {
  const fault = world.takeFault("camera.read");
  if (fault) {
    c.err = fault.message ?? "the sensor stopped sending frames";
    return { errno: fault.code ?? "ENODEV" };
  }
  const s = c.sensor;
  const start = world.monotonicUs();
  const deadline = start + timeoutUs;
  let dry = false;
  for (;;) {
    const now = world.monotonicUs();
    const j = latestFrame(c, now);
    if (j >= c.nextJ) {
      const k = captureOf(c, j);
      c.dropped += j - c.nextJ;
      c.nextJ = j + 1;
      if (!want) {
        c.delivered++;
        return "skipped";
      }
      if (c.free > 0) {
        c.free--;
        c.delivered++;
        return new Picture(c, k, captureDue(s, k));
      }
      c.dropped++;
      dry = true;
    }
    let wake = captureDue(s, captureOf(c, c.nextJ));
    if (wake > deadline) {
      if (now >= deadline) return { errno: dry ? "ENOBUFS" : "ETIMEDOUT" };
      wake = deadline;
    }
    world.sleepUs(wake - now); // clock_nanosleep to an absolute time: a signal does not end it
  }
}

function halStats(c: Chn): Api.CameraStats {
  let j = latestFrame(c, world.monotonicUs());
  if (j < c.nextJ - 1) j = c.nextJ - 1;
  // Frames older than the newest due one are already lost (see backend_sim.c).
  return { captured: j + 1 - c.startJ, dropped: c.dropped + Math.max(0, j - c.nextJ), delivered: c.delivered };
}

// ------------------------------------------------------------------ the synthetic pattern (render_pattern)

// 5x7 glyphs, one byte per row, bit 4 = leftmost column: 0-9 ':' '.' ' '
const FONT = [
  [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e], [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f], [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02], [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e], [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e], [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  [0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00], [0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c],
  [0, 0, 0, 0, 0, 0, 0],
];
const K_Y = 1192, K_RV = 1634, K_GU = 401, K_GV = 833, K_BU = 2066;
const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
const idiv = (a: number, b: number) => Math.trunc(a / b);

interface Color { y: number; u: number; v: number; r: number; g: number; b: number }
function rgbColor(r: number, g: number, b: number): Color {
  return {
    r, g, b,
    y: clamp255(16 + ((66 * r + 129 * g + 25 * b + 128) >> 8)),
    u: clamp255(128 + ((-38 * r - 74 * g + 112 * b + 128) >> 8)),
    v: clamp255(128 + ((112 * r - 94 * g - 18 * b + 128) >> 8)),
  };
}

function tri(seq: number, period: number, span: number): number {
  const p = seq % period, half = idiv(period, 2);
  return idiv((p < half ? p : period - p) * span, half);
}

/** The sim's pattern for capture `seq`, drawn into a fresh picture. */
function renderPattern(w: number, h: number, fmt: PixelFormat, seq: number, camFps: number): Uint8Array {
  const cw = w / 2, ch = h / 2, luma = w * h, chroma = cw * ch;
  const size = fmt === "rgb888" ? luma * 3 : fmt === "gray" ? luma : luma + 2 * chroma;
  const d = new Uint8Array(size);
  const shift = (seq % 80) * 2;
  const rx = new Uint8Array(w), ux = new Uint8Array(cw);
  for (let x = 0; x < w; x++) rx[x] = (idiv(x * 160, w) + shift) % 160;
  for (let x = 0; x < cw; x++) ux[x] = 64 + idiv(x * 128, cw);
  if (fmt === "rgb888") {
    const ar = new Int32Array(w), ag = new Int32Array(w), ab = new Int32Array(w);
    for (let x = 0; x < w; x++) {
      const u = ux[idiv(x, 2) < cw ? idiv(x, 2) : cw - 1] - 128;
      const a = K_Y * rx[x];
      ar[x] = a;
      ag[x] = a - K_GU * u;
      ab[x] = a + K_BU * u;
    }
    for (let y = 0; y < h; y++) {
      const ry = 16 + idiv(y * 60, h), v = 192 - idiv(idiv(y, 2) * 128, ch || 1) - 128;
      const base = K_Y * (ry - 16) + 512;
      const rr = base + K_RV * v, gg = base - K_GV * v, bb = base;
      let p = y * w * 3;
      for (let x = 0; x < w; x++, p += 3) {
        d[p] = clamp255((ar[x] + rr) >> 10);
        d[p + 1] = clamp255((ag[x] + gg) >> 10);
        d[p + 2] = clamp255((ab[x] + bb) >> 10);
      }
    }
  } else {
    for (let y = 0; y < h; y++) {
      const ry = 16 + idiv(y * 60, h), row = y * w;
      for (let x = 0; x < w; x++) d[row + x] = rx[x] + ry;
    }
    if (fmt !== "gray")
      for (let cy = 0; cy < ch; cy++) {
        const v = 192 - idiv(cy * 128, ch), off = cy * cw;
        if (fmt === "yuv420p") {
          d.set(ux, luma + off);
          d.fill(v, luma + chroma + off, luma + chroma + off + cw);
        } else {
          const nv12 = fmt === "nv12";
          let p = luma + off * 2;
          for (let x = 0; x < cw; x++, p += 2) {
            d[p + (nv12 ? 0 : 1)] = ux[x];
            d[p + (nv12 ? 1 : 0)] = v;
          }
        }
      }
  }
  const fillRect = (x0: number, y0: number, x1: number, y1: number, col: Color) => {
    x0 = Math.max(0, x0);
    y0 = Math.max(0, y0);
    x1 = Math.min(w, x1);
    y1 = Math.min(h, y1);
    if (x0 >= x1 || y0 >= y1) return;
    if (fmt === "rgb888") {
      for (let y = y0; y < y1; y++)
        for (let x = x0, p = (y * w + x0) * 3; x < x1; x++, p += 3) {
          d[p] = col.r;
          d[p + 1] = col.g;
          d[p + 2] = col.b;
        }
      return;
    }
    for (let y = y0; y < y1; y++) d.fill(col.y, y * w + x0, y * w + x1);
    if (fmt === "gray") return;
    const cx0 = idiv(x0, 2), cx1 = idiv(x1 + 1, 2), cy0 = idiv(y0, 2), cy1 = idiv(y1 + 1, 2);
    for (let cy = cy0; cy < cy1; cy++) {
      const row = cy * cw;
      if (fmt === "yuv420p") {
        d.fill(col.u, luma + row + cx0, luma + row + cx1);
        d.fill(col.v, luma + chroma + row + cx0, luma + chroma + row + cx1);
      } else {
        const first = fmt === "nv12" ? col.u : col.v, second = fmt === "nv12" ? col.v : col.u;
        for (let cx = cx0, p = luma + row * 2 + cx0 * 2; cx < cx1; cx++, p += 2) {
          d[p] = first;
          d[p + 1] = second;
        }
      }
    }
  };
  const isqrt = (n: number) => {
    let r = 0;
    while ((r + 1) * (r + 1) <= n) r++;
    return r;
  };
  const side = idiv(h, 5), r = idiv(h, 8);
  const bx = tri(seq, 90, w - side);
  fillRect(bx, idiv(h * 11, 20), bx + side, idiv(h * 11, 20) + side, rgbColor(255, 140, 0));
  const dcx = idiv(w * 39, 50), dcy = r + tri(seq, 60, h - 2 * r), green = rgbColor(40, 200, 80);
  for (let dy = -r; dy <= r; dy++) {
    const hw = isqrt(r * r - dy * dy);
    fillRect(dcx - hw, dcy + dy, dcx + hw + 1, dcy + dy + 1, green);
  }
  const ms = Math.floor((seq * 1000) / camFps);
  const two = (n: number) => String(n).padStart(2, "0");
  const text = `${String(seq % 1_000_000).padStart(6, "0")} ${two(Math.floor(ms / 60000) % 100)}:${two(Math.floor(ms / 1000) % 60)}.${String(ms % 1000).padStart(3, "0")}`;
  const s = idiv(h, 120) > 1 ? idiv(h, 120) : 1, m = 2 * s;
  fillRect(m, m, m + text.length * 6 * s + s, m + 9 * s, rgbColor(0, 0, 0));
  const white = rgbColor(255, 255, 255);
  let x = m + s;
  for (const chr of text) {
    const g = chr >= "0" && chr <= "9" ? chr.charCodeAt(0) - 48 : chr === ":" ? 10 : chr === "." ? 11 : 12;
    for (let row = 0; row < 7; row++)
      for (let col = 0; col < 5; col++)
        if (FONT[g][row] & (0x10 >> col)) fillRect(x + col * s, m + s + row * s, x + (col + 1) * s, m + s + (row + 1) * s, white);
    x += 6 * s;
  }
  return d;
}

// ------------------------------------------------------------------ the binding (mod_camera.c)

interface LinkHold {
  source: LinkSource;
}

interface CamJs {
  sensor: Sensor | null; // null once closed
  channels: Set<ChnJs>;
  main: Chn;
  link: LinkHold | null;
  handle: Handle;
}

interface ChnJs {
  owner: CamJs;
  chn: Chn | null; // null once its Camera closed
  link: LinkHold | null;
}

const cameras = new WeakMap<object, CamJs | null>();
const channels = new WeakMap<object, ChnJs | null>();
let minting = false;

function camOf(self: unknown): CamJs {
  if ((typeof self !== "object" && typeof self !== "function") || self === null || !cameras.has(self))
    throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Camera");
  const h = cameras.get(self);
  if (!h) throwQcam("TypeError", "ERR_CLOSED", "Camera is closed");
  return h;
}

/** this_channel(): the HAL channel behind a Camera (magic 0) or a Channel (1). */
function thisChannel(self: unknown, magic: 0 | 1): { chn: Chn; owner: CamJs; slot: { link: LinkHold | null } } {
  if (magic === 0) {
    const h = camOf(self);
    return { chn: h.main, owner: h, slot: h };
  }
  if ((typeof self !== "object" && typeof self !== "function") || self === null || !channels.has(self))
    throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Channel");
  const c = channels.get(self);
  if (!c) throwQcam("TypeError", "ERR_CLOSED", "Channel is closed");
  if (!c.chn) throwQcam("TypeError", "ERR_CLOSED", "Channel is closed (its Camera was closed)");
  return { chn: c.chn, owner: c.owner, slot: c };
}

/** reader_channel(): not while the output feeds a link. */
function readerChannel(self: unknown, magic: 0 | 1) {
  const r = thisChannel(self, magic);
  if (r.slot.link)
    throwQcam("Error", "ERR_BUSY", `this ${magic ? "Channel" : "Camera"} feeds a link: its frames go there (close the link first)`);
  return r;
}

function readError(r: { errno: string }, chn: Chn, magic: 0 | 1): never {
  const what = magic ? "channel" : "camera";
  if (r.errno === "ENOBUFS")
    throwQcam(
      "Error",
      "ERR_NO_BUFFER",
      `no free buffer: all ${chn.cfg.buffers} Images of this ${what} are still open; close() the Images you are done with (or declare them with \`using\`), or ask for more buffers`,
    );
  throw errnoError(r.errno, `${what} read: ${chn.err}`);
}

// ---- options

const FMT_LIST = '"nv21", "nv12", "yuv420p", "rgb888", "gray"';

function intOpt(opts: Record<string, unknown>, what: string, name: string, lo: number, hi: number, step: number, note: string, def: number): number {
  const v = opts[name];
  if (v === undefined) return def;
  const kind = step === 2 ? "an even integer" : step > 1 ? `a multiple of ${step}` : "an integer";
  if (typeof v !== "number") throwQcam("TypeError", "ERR_INVALID_ARG", `${what} ${name} must be ${kind} from ${lo} to ${hi}${note}, not ${describeValue(v)}`);
  const d = v as number;
  if (!(d >= lo && d <= hi) || d !== Math.floor(d) || (d - lo) % step)
    throwQcam("RangeError", "ERR_INVALID_ARG", `${what} ${name} must be ${kind} from ${lo} to ${hi}${note}, not ${formatG(d)}`);
  return d;
}

function isOptionsObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function outputOpts(opts: Record<string, unknown>, what: string, base: Output, channel: boolean): Output {
  const note = channel ? " (the camera's fps)" : "";
  const maxFps = channel ? base.fps : CAPS.maxFps;
  const width = intOpt(opts, what, "width", CAPS.minWidth, CAPS.maxWidth, CAPS.sizeStep, "", base.width);
  const height = intOpt(opts, what, "height", CAPS.minHeight, CAPS.maxHeight, CAPS.sizeStep, "", base.height);
  let format = base.format;
  const f = opts.format;
  if (f !== undefined) {
    if (typeof f !== "string" || !FORMATS.includes(f as PixelFormat))
      throwQcam("TypeError", "ERR_INVALID_ARG", `${what} format must be one of ${FMT_LIST}`);
    format = f as PixelFormat;
  }
  const fps = intOpt(opts, what, "fps", CAPS.minFps, maxFps, 1, note, base.fps);
  const buffers = intOpt(opts, what, "buffers", CAPS.minBuffers, CAPS.maxBuffers, 1, "", base.buffers);
  return { width, height, format, fps, buffers };
}

// ---- link() source provider

function linkSource(self: object, magic: 0 | 1): LinkSource {
  const { chn, owner, slot } = readerChannel(self, magic);
  const sensor = owner.sensor!;
  sensor.refs++; // the link's own reference
  const hold: LinkHold = {
    source: {
      nextDueUs: () => captureDue(sensor, captureOf(chn, chn.nextJ)),
      read() {
        const fault = world.takeFault("camera.read");
        if (fault) return { errno: fault.code ?? "ENODEV", message: fault.message ?? "the sensor stopped sending frames" };
        const j = latestFrame(chn, world.monotonicUs());
        if (j < chn.nextJ) return null;
        const k = captureOf(chn, j);
        chn.dropped += j - chn.nextJ;
        chn.nextJ = j + 1;
        if (chn.free === 0) {
          chn.dropped++; // a dry pool: the link's queues hold every picture
          return null;
        }
        chn.free--;
        chn.delivered++;
        return new Picture(chn, k, captureDue(sensor, k));
      },
      dropped: () => halStats(chn).dropped, // as the C side: stats() of the channel, the due frames nobody took included
      release() {
        if (slot.link !== hold) return;
        slot.link = null;
        sensorClose(sensor);
      },
    },
  };
  slot.link = hold;
  return hold.source;
}

// ---- Camera

function defineProto(proto: object, members: Record<string, PropertyDescriptor>): void {
  for (const [k, d] of Object.entries(members)) Object.defineProperty(proto, k, { configurable: true, enumerable: false, ...d });
}

function outputMembers(magic: 0 | 1): Record<string, PropertyDescriptor> {
  const getter = (name: keyof Output) => ({
    get: { [`get ${name}`]: function (this: unknown) { return thisChannel(this, magic).chn.cfg[name]; } }[`get ${name}`],
  });
  return {
    width: getter("width"),
    height: getter("height"),
    format: getter("format"),
    fps: getter("fps"),
    buffers: getter("buffers"),
    read: {
      writable: true,
      value: function read(this: unknown): Image {
        const { chn } = readerChannel(this, magic);
        const period = Math.floor(1_000_000 / chn.cfg.fps) + 1;
        let timeout = 2 * period + 1_000_000;
        if (chn.free === 0) timeout = period + DRY_WAIT_US;
        const r = halRead(chn, timeout, true);
        if (!(r instanceof Picture)) readError(r as { errno: string }, chn, magic);
        const img = (r as Picture).image();
        (r as Picture).unref();
        return img;
      },
    },
    skipFrames: {
      writable: true,
      value: function skipFrames(this: unknown, n: number): void {
        const { chn } = readerChannel(this, magic);
        if (arguments.length < 1 || typeof n !== "number")
          throwQcam("TypeError", "ERR_INVALID_ARG", "skipFrames(n): n must be a number");
        if (!(n >= 0 && n <= 100000) || n !== Math.floor(n))
          throwQcam("RangeError", "ERR_INVALID_ARG", `skipFrames(n): n must be an integer from 0 to 100000, not ${formatG(n)}`);
        for (let i = 0; i < n; i++) {
          const r = halRead(chn, 2 * (Math.floor(1_000_000 / chn.cfg.fps) + 1) + 1_000_000, false);
          if (r !== "skipped") readError(r as { errno: string }, chn, magic);
        }
      },
    },
    stats: {
      writable: true,
      value: function stats(this: unknown): Api.CameraStats {
        return halStats(thisChannel(this, magic).chn);
      },
    },
  };
}

function cameraClose(h: CamJs): void {
  if (!h.sensor) return;
  for (const c of h.channels) c.chn = null;
  h.handle.release();
  sensorClose(h.sensor);
  h.sensor = null;
}

const CameraFn = function Camera(this: object, options?: Api.CameraOptions): object {
  if (!new.target) throwQcam("TypeError", "ERR_CONSTRUCT_CALL_REQUIRED", "Camera must be called with new");
  const opts = arguments.length > 0 ? (options as unknown) : undefined;
  let main: Output = { width: 640, height: 480, format: "nv21", fps: 30, buffers: 4 };
  if (opts !== undefined) {
    if (!isOptionsObject(opts) || typeof opts === "function")
      throwQcam("TypeError", "ERR_INVALID_ARG", "Camera options must be an object");
    checkKeys(opts, "Camera", ["width", "height", "format", "fps", "buffers", "source", "loop"]);
    main = outputOpts(opts, "Camera", main, false);
    const src = opts.source;
    if (src !== undefined) {
      if (typeof src !== "string" || !src || new TextEncoder().encode(src).length >= 256)
        throwQcam("TypeError", "ERR_INVALID_ARG", "Camera source must be the path of a .y4m file (at most 255 bytes)");
    }
    if (opts.loop !== undefined && typeof opts.loop !== "boolean")
      throwQcam("TypeError", "ERR_INVALID_ARG", "Camera loop must be a boolean");
    if (src !== undefined)
      throwQcam(
        "Error",
        "ERR_STUB_UNSUPPORTED",
        `camera source ${src as string}: the qcam:camera stub does not play Y4M files (qcam testing); test with the synthetic pattern, or on the sim runtime`,
      );
  }
  const st = state();
  if (st.busy) throwErrno("EBUSY", "the camera is already open (close() the other Camera first)");
  st.busy = true;
  const sensor: Sensor = { t0: world.monotonicUs(), fps: main.fps, channels: [], refs: 1 };
  const chn = newChannel(sensor, main);
  sensor.channels.push(chn);
  const self = Object.create(new.target.prototype as object) as object;
  const h: CamJs = { sensor, channels: new Set(), main: chn, link: null, handle: world.track("Camera", self) };
  cameras.set(self, h);
  provide(self, { source: () => linkSource(self, 0) });
  return self;
};
Object.defineProperty(CameraFn, "length", { value: 1 });

defineProto(CameraFn.prototype, {
  ...outputMembers(0),
  addChannel: {
    writable: true,
    value: function addChannel(this: unknown, options?: Api.ChannelOptions): Api.Channel {
      const h = camOf(this);
      const opts = arguments.length > 0 ? (options as unknown) : undefined;
      const base: Output = { ...h.main.cfg, buffers: 4 };
      let o = base;
      if (opts !== undefined) {
        if (!isOptionsObject(opts) || typeof opts === "function")
          throwQcam("TypeError", "ERR_INVALID_ARG", "addChannel options must be an object");
        checkKeys(opts, "addChannel", ["width", "height", "format", "fps", "buffers"]);
        o = outputOpts(opts, "channel", base, true);
      }
      const sensor = h.sensor!;
      if (sensor.channels.length >= CAPS.maxChannels)
        throwQcam("Error", "ERR_TOO_MANY_CHANNELS", `a camera has at most ${CAPS.maxChannels} channels (the main one and ${CAPS.maxChannels - 1} more)`);
      const chn = newChannel(sensor, o);
      const j = latestFrame(chn, world.monotonicUs());
      chn.startJ = chn.nextJ = j < 0 ? 0 : j;
      sensor.channels.push(chn);
      minting = true;
      let obj: object;
      try {
        obj = new (ChannelFn as unknown as new () => object)();
      } finally {
        minting = false;
      }
      const c: ChnJs = { owner: h, chn, link: null };
      h.channels.add(c);
      channels.set(obj, c);
      provide(obj, { source: () => linkSource(obj, 1) });
      return obj as Api.Channel;
    },
  },
  close: {
    writable: true,
    value: function close(this: unknown): void {
      if ((typeof this !== "object" && typeof this !== "function") || this === null || !cameras.has(this))
        throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Camera");
      const h = cameras.get(this);
      if (h?.link) throwQcam("Error", "ERR_BUSY", "this Camera feeds a link (close the link first)");
      for (const c of h?.channels ?? [])
        if (c.link) throwQcam("Error", "ERR_BUSY", "a Channel of this Camera feeds a link (close the link first)");
      if (h) {
        cameraClose(h);
        cameras.set(this, null);
      }
    },
  },
});

// ---- Channel

const ChannelFn = function Channel(this: object): object {
  if (!minting) throwQcam("TypeError", "ERR_ILLEGAL_CONSTRUCTOR", "Channels come from camera.addChannel()");
  return Object.create(ChannelFn.prototype as object) as object;
};
Object.defineProperty(ChannelFn, "length", { value: 1 });

defineProto(ChannelFn.prototype, {
  ...outputMembers(1),
  close: {
    writable: true,
    value: function close(this: unknown): void {
      if ((typeof this !== "object" && typeof this !== "function") || this === null || !channels.has(this))
        throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Channel");
      const c = channels.get(this);
      if (c?.link) throwQcam("Error", "ERR_BUSY", "this Channel feeds a link (close the link first)");
      if (c) {
        c.owner.channels.delete(c);
        channels.set(this, null);
      }
    },
  },
});

for (const [fn, tag] of [[CameraFn, "Camera"], [ChannelFn, "Channel"]] as const) {
  const proto = fn.prototype as Record<string | symbol, unknown>;
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
  Object.defineProperty(proto, Symbol.toStringTag, { value: tag, configurable: true });
  Object.defineProperty(fn, "prototype", { writable: false, enumerable: false, configurable: false });
}

export const Camera = CameraFn as unknown as typeof Api.Camera;
export const Channel = ChannelFn as unknown as typeof Api.Channel;
