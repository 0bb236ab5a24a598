// qcam:display for tests on a PC. Mirrors mod_display.c over backend_sim.c:
// the boards' panels (world.board is the runtime's --board, default maixcam 552x368),
// one Display at a time (EBUSY), rotation and backlight, the same argument
// checks and messages, the same damage arithmetic (what flush() returns), and
// the same text metrics: DejaVu Sans measured from the TTF that the runtime's
// atlas is baked from (/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf, with
// the integer formulas of host-modules/display/font.h).
//
// Not modelled: pixels (screenshot() throws ERR_STUB_UNSUPPORTED), the page,
// and a shown camera being busy (show(camera) records it; its read() still works).
// What is drawn is kept as a display list (build/testing/display-list.ts): every
// call that touches the overlay, the region it touches, the frames flush() makes;
// tests read it with displayList() from qcam:testing.
import type * as Api from "qcam:display";
import type * as Self from "./display.stub.ts";
import fs from "node:fs";
import { Image } from "qcam:image";
import { providerOf, type LinkSource } from "../../build/testing/media.ts";
import { conforms, describeValue, checkKeys, throwErrno, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";
import { DisplayList, type DrawOp } from "../../build/testing/display-list.ts";

conforms<typeof Api, typeof Self>(true);

const FONT_SIZES: readonly number[] = [12, 14, 16, 20, 24, 32, 40, 48];
const FONT_FILE = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const COORD_MAX = 32767;

// ------------------------------------------------------------------ the font's metrics (font.h)

interface Font {
  upem: number;
  ascender: number;
  descender: number;
  advance: (gid: number) => number;
  glyph: (cp: number) => number;
}

let font: Font | undefined;
function loadFont(): Font {
  if (font) return font;
  const b = fs.readFileSync(FONT_FILE);
  const tables = new Map<string, number>();
  for (let i = 0, n = b.readUInt16BE(4); i < n; i++) tables.set(b.toString("latin1", 12 + i * 16, 16 + i * 16), b.readUInt32BE(12 + i * 16 + 8));
  const head = tables.get("head")!, hhea = tables.get("hhea")!, hmtx = tables.get("hmtx")!, cmap = tables.get("cmap")!;
  const nLong = b.readUInt16BE(hhea + 34);
  let sub = -1;
  for (let i = 0, n = b.readUInt16BE(cmap + 2); i < n; i++) {
    const at = cmap + 4 + i * 8;
    if (b.readUInt16BE(at) === 3 && b.readUInt16BE(at + 2) === 1) sub = cmap + b.readUInt32BE(at + 4);
  }
  const segs = b.readUInt16BE(sub + 6) / 2;
  const ends = sub + 14, starts = ends + segs * 2 + 2, deltas = starts + segs * 2, ranges = deltas + segs * 2;
  font = {
    upem: b.readUInt16BE(head + 18),
    ascender: b.readInt16BE(hhea + 4),
    descender: b.readInt16BE(hhea + 6),
    advance: (gid) => b.readUInt16BE(hmtx + Math.min(gid, nLong - 1) * 4),
    glyph(cp) {
      for (let s = 0; s < segs; s++) {
        if (cp > b.readUInt16BE(ends + s * 2)) continue;
        const start = b.readUInt16BE(starts + s * 2);
        if (cp < start) return 0;
        const delta = b.readInt16BE(deltas + s * 2), ro = b.readUInt16BE(ranges + s * 2);
        if (ro === 0) return (cp + delta) & 0xffff;
        const g = b.readUInt16BE(ranges + s * 2 + ro + (cp - start) * 2);
        return g ? (g + delta) & 0xffff : 0;
      }
      return 0;
    },
  };
  return font;
}

function measure(text: string, px: number): Api.TextMetrics {
  const f = loadFont();
  const adv = (cp: number) => {
    let g = cp >= 32 && cp <= 255 ? f.glyph(cp) : 0;
    if (!g) g = f.glyph(0x3f);
    return Math.floor((f.advance(g) * px * 65536 + Math.floor(f.upem / 2)) / f.upem);
  };
  let w = 0;
  for (const ch of text) w += adv(ch.codePointAt(0)!);
  const ascent = Math.floor((f.ascender * px + f.upem - 1) / f.upem);
  const descent = Math.floor((-f.descender * px + f.upem - 1) / f.upem);
  return { width: Math.floor((w + 65535) / 65536), height: ascent + descent, ascent, descent };
}

// ------------------------------------------------------------------ damage (draw.c)

interface R { x: number; y: number; w: number; h: number }
const empty = (r: R) => r.w <= 0 || r.h <= 0;
function union(a: R, b: R): R {
  if (empty(b)) return a;
  if (empty(a)) return b;
  const x0 = Math.min(a.x, b.x), y0 = Math.min(a.y, b.y);
  return { x: x0, y: y0, w: Math.max(a.x + a.w, b.x + b.w) - x0, h: Math.max(a.y + a.h, b.y + b.h) - y0 };
}
function clip(a: R, w: number, h: number): R {
  const x0 = Math.max(a.x, 0), y0 = Math.max(a.y, 0), x1 = Math.min(a.x + a.w, w), y1 = Math.min(a.y + a.h, h);
  return { x: x0, y: y0, w: x1 > x0 ? x1 - x0 : 0, h: y1 > y0 ? y1 - y0 : 0 };
}

// ------------------------------------------------------------------ arguments (mod_display.c)

function argInt(fn: string, name: string, v: unknown, lo: number, hi: number, note = ""): number {
  if (typeof v !== "number")
    throwQcam("TypeError", "ERR_INVALID_ARG", `${fn} ${name} must be an integer from ${lo} to ${hi}${note}, not ${describeValue(v)}`);
  if (!(v >= lo && v <= hi) || v !== Math.floor(v))
    throwQcam("RangeError", "ERR_INVALID_ARG", `${fn} ${name} must be an integer from ${lo} to ${hi}${note}, not ${describeValue(v)}`);
  return v;
}
const coord = (fn: string, name: string, v: unknown) => argInt(fn, name, v, -COORD_MAX, COORD_MAX);
const extent = (fn: string, name: string, v: unknown) => argInt(fn, name, v, 0, COORD_MAX);
const color = (fn: string, v: unknown) => argInt(fn, "color", v, 0, 4294967295, " (0xAARRGGBB)");
function optInt(opts: Record<string, unknown>, what: string, name: string, lo: number, hi: number, step: number, def: number): number {
  const v = opts[name];
  if (v === undefined) return def;
  const kind = step === 90 ? "a multiple of 90" : "an integer";
  if (typeof v !== "number") throwQcam("TypeError", "ERR_INVALID_ARG", `${what} ${name} must be ${kind} from ${lo} to ${hi}, not ${describeValue(v)}`);
  if (!(v >= lo && v <= hi) || v !== Math.floor(v) || (v - lo) % step)
    throwQcam("RangeError", "ERR_INVALID_ARG", `${what} ${name} must be ${kind} from ${lo} to ${hi}, not ${describeValue(v)}`);
  return v;
}
function options(v: unknown, what: string, known: readonly string[]): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null || Array.isArray(v)) throwQcam("TypeError", "ERR_INVALID_ARG", `${what} options must be an object`);
  checkKeys(v, what, known);
  return v as Record<string, unknown>;
}
function fontSize(fn: string, v: unknown): number {
  if (v === undefined) return 16;
  if (typeof v !== "number" || !FONT_SIZES.includes(v))
    throwQcam(typeof v === "number" ? "RangeError" : "TypeError", "ERR_INVALID_ARG", `${fn} size must be one of 12, 14, 16, 20, 24, 32, 40, 48, not ${describeValue(v)}`);
  return v;
}
function textArg(fn: string, v: unknown): string {
  if (typeof v !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", `${fn} text must be a string, not ${describeValue(v)}`);
  return v;
}
function imageArg(what: string, v: unknown): Image {
  if (!(v instanceof Image)) throwQcam("TypeError", "ERR_INVALID_ARG", `${what}, not ${describeValue(v)}`);
  void v.width; // a closed Image throws ERR_CLOSED
  return v;
}

// ------------------------------------------------------------------ Display

interface State {
  rotation: number;
  backlight: number;
  damage: R;
  shown: { obj: object; src: LinkSource } | null;
  stats: { flushes: number; flushedPixels: number; videoFrames: number; panelFrames: number; videoCpuUs: number };
  handle: Handle;
  panel: Panel;
  list: DisplayList;
}
interface Panel { board: Api.Board; width: number; height: number; touch: boolean }
// backend_sim.c's panels
const PANELS: readonly Panel[] = [
  { board: "maixcam", width: 552, height: 368, touch: true },
  { board: "maixcam-pro", width: 640, height: 480, touch: true },
  { board: "k230-lcd", width: 800, height: 480, touch: true },
  { board: "k230-hdmi", width: 1280, height: 720, touch: false },
];
const states = new WeakMap<object, State | null>();
const busy = () => world.part("display", () => ({ open: false }));
// the display list of the Display opened last (tests: displayList() in qcam:testing)
const lists = () => world.part("display.list", () => ({ last: null as DisplayList | null }));
world.expose("display.list", () => lists().last);

function stateOf(self: unknown): State {
  if ((typeof self !== "object" && typeof self !== "function") || self === null || !states.has(self))
    throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Display");
  const s = states.get(self);
  if (!s) throwQcam("TypeError", "ERR_CLOSED", "Display is closed");
  return s;
}
const size = (s: State) => (s.rotation % 180 ? { w: s.panel.height, h: s.panel.width } : { w: s.panel.width, h: s.panel.height });
function damage(s: State, r: R): R {
  const { w, h } = size(s);
  const c = clip(r, w, h);
  if (!empty(c)) s.damage = union(s.damage, c);
  return c;
}
const box = (r: R) => ({ x: r.x, y: r.y, width: r.w, height: r.h });
type Distribute<T> = T extends DrawOp ? Omit<T, "rect"> : never;
function record(s: State, r: R, op: Distribute<DrawOp>): void {
  s.list.record({ ...op, rect: box(r) } as DrawOp);
}

export class Display {
  constructor(options_?: Api.DisplayOptions) {
    if (new.target === undefined) throwQcam("TypeError", "ERR_CONSTRUCT_CALL_REQUIRED", "Display must be called with new");
    const o = options(options_, "Display", ["rotation", "backlight"]) ?? {};
    const rotation = optInt(o, "Display", "rotation", 0, 270, 90, 0);
    const backlight = optInt(o, "Display", "backlight", 0, 100, 1, 100);
    if (busy().open) throwErrno("EBUSY", "the display is already open (close() the other Display first)");
    const panel = PANELS.find((p) => p.board === world.board);
    if (!panel) throwQcam("RangeError", "ERR_INVALID_ARG", `Display: unknown board "${world.board}" (known: maixcam, maixcam-pro, k230-lcd, k230-hdmi)`);
    busy().open = true;
    const handle = world.track("Display", this);
    const list = new DisplayList(rotation % 180 ? panel.height : panel.width, rotation % 180 ? panel.width : panel.height);
    lists().last = list;
    states.set(this, { rotation, backlight, damage: { x: 0, y: 0, w: 0, h: 0 }, shown: null, handle, panel, list,
      stats: { flushes: 0, flushedPixels: 0, videoFrames: 0, panelFrames: 1, videoCpuUs: 0 } });
  }
  get width(): number { return size(stateOf(this)).w; }
  get height(): number { return size(stateOf(this)).h; }
  get board(): Api.Board { return stateOf(this).panel.board; }
  get panelWidth(): number { return stateOf(this).panel.width; }
  get panelHeight(): number { return stateOf(this).panel.height; }
  get touch(): boolean { return stateOf(this).panel.touch; }
  get rotation(): number { return stateOf(this).rotation; }
  get backlight(): number { return stateOf(this).backlight; }
  get url(): string { stateOf(this); return "http://127.0.0.1:0/"; }
  setRotation(degrees: number): void {
    const s = stateOf(this);
    const d = argInt("setRotation", "degrees", degrees, 0, 270);
    if (d % 90) throwQcam("RangeError", "ERR_INVALID_ARG", `setRotation degrees must be 0, 90, 180 or 270, not ${d}`);
    if (d !== s.rotation) {
      s.rotation = d;
      s.damage = { x: 0, y: 0, w: 0, h: 0 };
      s.stats.panelFrames++;
      s.list.reset(size(s).w, size(s).h);
    }
  }
  setBacklight(percent: number): void {
    const s = stateOf(this);
    const p = argInt("setBacklight", "percent", percent, 0, 100);
    if (p !== s.backlight) s.stats.panelFrames++;
    s.backlight = p;
  }
  clear(c?: number): void {
    const s = stateOf(this);
    if (c !== undefined) color("clear", c);
    const { w, h } = size(s);
    s.damage = { x: 0, y: 0, w, h };
    record(s, s.damage, { op: "clear", color: c ?? 0 });
  }
  fillRect(x: number, y: number, width: number, height: number, c: number, radius?: number): void {
    const s = stateOf(this);
    const r = { x: coord("fillRect", "x", x), y: coord("fillRect", "y", y), w: extent("fillRect", "width", width), h: extent("fillRect", "height", height) };
    color("fillRect", c);
    if (radius !== undefined) extent("fillRect", "radius", radius);
    if (r.w > 0 && r.h > 0) record(s, damage(s, r), { op: "fill", color: c, box: box(r), radius: radius ?? 0 });
  }
  strokeRect(x: number, y: number, width: number, height: number, c: number, opts?: Api.StrokeOptions): void {
    const s = stateOf(this);
    const r = { x: coord("strokeRect", "x", x), y: coord("strokeRect", "y", y), w: extent("strokeRect", "width", width), h: extent("strokeRect", "height", height) };
    color("strokeRect", c);
    const o = options(opts, "strokeRect", ["radius", "thickness"]);
    let radius = 0, thickness = 1;
    if (o) {
      radius = optInt(o, "strokeRect", "radius", 0, COORD_MAX, 1, 0);
      thickness = optInt(o, "strokeRect", "thickness", 1, 255, 1, 1);
    }
    if (r.w > 0 && r.h > 0) record(s, damage(s, r), { op: "stroke", color: c, box: box(r), radius, thickness });
  }
  line(x0: number, y0: number, x1: number, y1: number, c: number, thickness?: number): void {
    const s = stateOf(this);
    const a = coord("line", "x0", x0), b = coord("line", "y0", y0), cc = coord("line", "x1", x1), d = coord("line", "y1", y1);
    color("line", c);
    const t = thickness === undefined ? 1 : argInt("line", "thickness", thickness, 1, 255);
    const pad = Math.ceil(t / 2) + 1;
    const minx = Math.min(a, cc), maxx = Math.max(a, cc), miny = Math.min(b, d), maxy = Math.max(b, d);
    const lr = damage(s, { x: minx - pad, y: miny - pad, w: maxx - minx + 2 * pad + 1, h: maxy - miny + 2 * pad + 1 });
    record(s, lr, { op: "line", color: c, x0: a, y0: b, x1: cc, y1: d, thickness: t });
  }
  text(text: string, x: number, y: number, c: number, size_?: number): number {
    const s = stateOf(this);
    const str = textArg("text", text);
    const px = coord("text", "x", x), py = coord("text", "y", y);
    color("text", c);
    const px_ = fontSize("text", size_);
    const m = measure(str, px_);
    const tr = damage(s, { x: px - 2, y: py, w: m.width + 4, h: m.height });
    record(s, tr, { op: "text", color: c, text: str, size: px_, box: { x: px, y: py, width: m.width, height: m.height } });
    return m.width;
  }
  measureText(text: string, size_?: number): Api.TextMetrics {
    stateOf(this);
    const str = textArg("measureText", text);
    return measure(str, fontSize("measureText", size_));
  }
  drawImage(image: Image, x: number, y: number, opts?: { width?: number; height?: number }): void {
    const s = stateOf(this);
    const img = imageArg("drawImage image must be an Image", image);
    const px = coord("drawImage", "x", x), py = coord("drawImage", "y", y);
    const o = options(opts, "drawImage", ["width", "height"]) ?? {};
    const w = optInt(o, "drawImage", "width", 1, COORD_MAX, 1, img.width), h = optInt(o, "drawImage", "height", 1, COORD_MAX, 1, img.height);
    const ir = damage(s, { x: px, y: py, w, h });
    record(s, ir, { op: "image", color: 0xff000000, box: { x: px, y: py, width: w, height: h } });
  }
  flush(): Api.Rect | null {
    const s = stateOf(this);
    const r = s.damage;
    s.damage = { x: 0, y: 0, w: 0, h: 0 };
    s.list.flushed(empty(r) ? null : box(r));
    if (empty(r)) return null;
    s.stats.flushes++;
    s.stats.flushedPixels += r.w * r.h;
    s.stats.panelFrames++;
    return { x: r.x, y: r.y, width: r.w, height: r.h };
  }
  show(source: Api.Display extends never ? never : Parameters<Api.Display["show"]>[0], opts?: Api.ShowOptions): void {
    const s = stateOf(this);
    const o = options(opts, "show", ["fit"]);
    if (o && o.fit !== undefined && o.fit !== "fit" && o.fit !== "fill")
      throwQcam("TypeError", "ERR_INVALID_ARG", `show fit must be "fit" or "fill", not ${describeValue(o.fit)}`);
    let old = s.shown;
    if (old && old.obj === source) {
      old.src.release(); // shown again: taken anew
      s.shown = old = null;
    }
    const take = providerOf(source)?.source;
    if (take) {
      const src = take();
      old?.src.release();
      s.shown = { obj: source as object, src };
      return;
    }
    imageArg("show source must be a Camera, a Channel or an Image", source);
    old?.src.release();
    s.shown = null;
    s.stats.videoFrames++;
    s.stats.panelFrames++;
  }
  hide(): void {
    const s = stateOf(this);
    s.shown?.src.release();
    s.shown = null;
    s.stats.panelFrames++;
  }
  screenshot(): ArrayBuffer {
    stateOf(this);
    throwQcam("Error", "ERR_STUB_UNSUPPORTED", "the qcam:display stub has no pixels (screenshot() works on the runtime)");
  }
  stats(): Api.DisplayStats {
    return { ...stateOf(this).stats };
  }
  close(): void {
    if ((typeof this !== "object" && typeof this !== "function") || this === null || !states.has(this))
      throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Display");
    const s = states.get(this);
    states.set(this, null);
    if (!s) return;
    s.shown?.src.release();
    s.handle.release();
    busy().open = false;
  }
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(Display.prototype, Symbol.dispose, { value: Display.prototype.close, writable: true, configurable: true });
Object.defineProperty(Display.prototype, Symbol.toStringTag, { value: "Display", configurable: true });
