// qcam:overlay for tests on a PC. Mirrors mod_overlay.c and overlay.c: the
// same option checks and messages, the same text expansion ({frame}, {fps}
// over whole seconds of capture time, {seq}, %Y..%S in UTC), the same frame
// counting. Stub images carry no font rendering, so draw() changes no
// pixels; it checks its image and counts as the C module does. A link
// drawing with an Overlay reaches it through world.exposed("overlay.of").
import type * as Api from "qcam:overlay";
import type * as Self from "./overlay.stub.ts";
import type { Image } from "qcam:image";
import type { PictureView } from "../../build/testing/media.ts";
import { checkKeys, conforms, describeValue, formatG, throwQcam, world } from "../../build/testing/stub-kit.ts";

conforms<typeof Api, typeof Self>(true);

const TEXT_MAX = 255;
const POSITIONS: readonly Api.OverlayPosition[] = ["top-left", "top-right", "bottom-left", "bottom-right"];
const SIZES = [12, 14, 16, 20, 24, 32, 40, 48];
const utf8 = new TextEncoder();

interface State {
  text: string;
  frames: number;
  haveWindow: boolean;
  windowStartUs: number;
  windowCount: number;
  fps: number;
}

const states = new WeakMap<object, State | null>();

/** qcam_handle(ctx, this, overlay_class, "Overlay"). */
function stateOf(self: unknown): State {
  if ((typeof self !== "object" && typeof self !== "function") || self === null || !states.has(self))
    throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Overlay");
  const s = states.get(self);
  if (!s) throwQcam("TypeError", "ERR_CLOSED", "Overlay is closed");
  return s;
}

/** field_len in overlay.c: [length, known]. */
function fieldLen(t: string, i: number): [number, boolean] {
  if (t[i] === "%") return i + 1 < t.length && "YmdHMS%".includes(t[i + 1]) ? [2, true] : [1, false];
  if (t[i] === "{") {
    if (t[i + 1] === "{") return [2, true];
    for (const tok of ["{frame}", "{fps}", "{seq}"]) if (t.startsWith(tok, i)) return [tok.length, true];
    return [1, false];
  }
  return [1, true];
}

function checkTemplate(t: string): boolean {
  for (let i = 0; i < t.length; ) {
    const [len, ok] = fieldLen(t, i);
    if (!ok) return false;
    i += len;
  }
  return true;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** qcam_overlay_expand. */
function expand(t: string, timeMs: number, frame: number, fps: number, seq: number): string {
  const d = new Date(Math.floor(timeMs / 1000) * 1000);
  let out = "";
  for (let i = 0; i < t.length; ) {
    const [len] = fieldLen(t, i);
    if (len === 1) out += t[i];
    else if (t[i] === "%") {
      const c = t[i + 1];
      out +=
        c === "Y" ? String(d.getUTCFullYear()).padStart(4, "0")
        : c === "m" ? pad2(d.getUTCMonth() + 1)
        : c === "d" ? pad2(d.getUTCDate())
        : c === "H" ? pad2(d.getUTCHours())
        : c === "M" ? pad2(d.getUTCMinutes())
        : c === "S" ? pad2(d.getUTCSeconds())
        : "%";
    } else if (t[i + 1] === "{") out += "{";
    else if (t.startsWith("{frame}", i)) out += String(frame);
    else if (t.startsWith("{fps}", i)) {
      const tenths = Math.trunc(fps * 10 + 0.5);
      out += `${Math.trunc(tenths / 10)}.${tenths % 10}`;
    } else out += String(seq);
    i += len;
  }
  const bytes = utf8.encode(out);
  if (bytes.length <= TEXT_MAX) return out;
  let cut = TEXT_MAX;
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--;
  return new TextDecoder().decode(bytes.subarray(0, cut));
}

/** The {fps} window and frame count of qcam_overlay_draw_at; returns the text it would draw. */
function advance(s: State, ptsUs: number, seq: number, timeMs: number): string {
  if (!s.haveWindow) {
    s.haveWindow = true;
    s.windowStartUs = ptsUs;
    s.windowCount = 0;
  } else {
    s.windowCount++;
    const dt = ptsUs - s.windowStartUs;
    if (dt >= 1000000) {
      s.fps = (s.windowCount * 1e6) / dt;
      s.windowStartUs = ptsUs;
      s.windowCount = 0;
    }
  }
  const text = expand(s.text, timeMs, s.frames, s.fps, seq);
  s.frames++;
  return text;
}

function optInt(o: Record<string, unknown>, name: string, lo: number, hi: number, note: string, def: number): number {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== "number")
    throwQcam("TypeError", "ERR_INVALID_ARG", `Overlay ${name} must be an integer from ${lo} to ${hi}${note}, not ${describeValue(v)}`);
  if (!(v >= lo && v <= hi) || v !== Math.floor(v))
    throwQcam("RangeError", "ERR_INVALID_ARG", `Overlay ${name} must be an integer from ${lo} to ${hi}${note}, not ${formatG(v)}`);
  return v;
}

/** qcam_opt_string: 1..size-1 bytes, else the TypeError; undefined when absent. */
function optString(o: Record<string, unknown>, name: string, expected: string, size: number): string | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v.length === 0 || utf8.encode(v).length >= size)
    throwQcam("TypeError", "ERR_INVALID_ARG", `Overlay ${name} must be ${expected} (at most ${size - 1} bytes)`);
  return v;
}

function optColor(o: Record<string, unknown>, name: string, nullable: boolean): void {
  const v = o[name];
  if (v === undefined || (nullable && v === null)) return;
  if (typeof v !== "string" || !/^#[0-9a-fA-F]{6}$/.test(v))
    throwQcam("TypeError", "ERR_INVALID_ARG", `Overlay ${name} must be a colour "#rrggbb"${nullable ? " or null" : ""}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export class Overlay {
  constructor(options: Api.OverlayOptions) {
    const o = options as unknown;
    if (!isObject(o)) throwQcam("TypeError", "ERR_INVALID_ARG", "new Overlay(options): options must be an object");
    checkKeys(o, "Overlay", ["text", "position", "x", "y", "margin", "size", "scale", "color", "background", "opacity", "padding"]);
    const text = optString(o, "text", "a non-empty string", TEXT_MAX + 1);
    if (text === undefined) throwQcam("TypeError", "ERR_INVALID_ARG", `Overlay text must be a non-empty string (at most ${TEXT_MAX} bytes)`);
    if (!checkTemplate(text))
      throwQcam("RangeError", "ERR_INVALID_ARG", "Overlay text: unknown field (fields: %Y %m %d %H %M %S %%, {frame} {fps} {seq} {{)");
    const posMsg = `"top-left", "top-right", "bottom-left" or "bottom-right"`;
    const pos = optString(o, "position", posMsg, 16);
    if (pos !== undefined && !POSITIONS.includes(pos as Api.OverlayPosition))
      throwQcam("TypeError", "ERR_INVALID_ARG", `Overlay position must be ${posMsg} (at most 15 bytes)`);
    if ((o.x !== undefined || o.y !== undefined) && pos !== undefined)
      throwQcam("TypeError", "ERR_INVALID_ARG", "Overlay takes a position or x and y, not both");
    optInt(o, "x", 0, 16383, "", 0);
    optInt(o, "y", 0, 16383, "", 0);
    optInt(o, "margin", 0, 1024, "", 8);
    const sizeNote = " (12, 14, 16, 20, 24, 32, 40 or 48)";
    const size = optInt(o, "size", 12, 48, sizeNote, 24);
    if (!SIZES.includes(size)) throwQcam("RangeError", "ERR_INVALID_ARG", `Overlay size must be an integer from 12 to 48${sizeNote}, not ${size}`);
    optInt(o, "scale", 1, 8, "", 1);
    optColor(o, "color", false);
    optColor(o, "background", true);
    optInt(o, "opacity", 0, 100, " (percent)", 50);
    optInt(o, "padding", 0, 64, "", 4);
    states.set(this, { text: text!, frames: 0, haveWindow: false, windowStartUs: 0, windowCount: 0, fps: 0 });
  }
  get text(): string {
    return stateOf(this).text;
  }
  get frames(): number {
    return stateOf(this).frames;
  }
  draw(image: Image): void {
    const s = stateOf(this);
    const pic = world.exposed<(v: unknown) => PictureView>("image.picture")!(image);
    if (!["nv21", "nv12", "yuv420p", "gray"].includes(pic.format))
      throwQcam("TypeError", "ERR_INVALID_ARG", `Overlay draw: the image must be nv21, nv12, yuv420p or gray, not ${pic.format}`);
    advance(s, pic.timestampUs, pic.seq, Date.now());
  }
  expand(timeMs: number, ...more: [frame?: number, fps?: number, seq?: number]): string {
    const [frame, fps, seq] = more;
    const s = stateOf(this);
    const whole = (v: unknown, name: string, max: number): number => {
      if (typeof v !== "number") throwQcam("TypeError", "ERR_INVALID_ARG", `Overlay expand: ${name} must be a number`);
      if (!(v >= 0 && v <= max) || v !== Math.floor(v))
        throwQcam("RangeError", "ERR_INVALID_ARG", `Overlay expand: ${name} must be a whole number from 0 to ${max}`);
      return v;
    };
    const ms = whole(timeMs, "timeMs", 253402300799999);
    const f = frame === undefined ? 0 : whole(frame, "frame", 9007199254740991);
    let r = 0;
    if (fps !== undefined) {
      if (typeof fps !== "number") throwQcam("TypeError", "ERR_INVALID_ARG", "Overlay expand: fps must be a number");
      if (!(fps >= 0 && fps <= 1e6)) throwQcam("RangeError", "ERR_INVALID_ARG", "Overlay expand: fps must be from 0 to 1000000");
      r = fps;
    }
    const q = seq === undefined ? 0 : whole(seq, "seq", 9007199254740991);
    return expand(s.text, ms, f, r, q);
  }
  close(): void {
    if ((typeof this !== "object" && typeof this !== "function") || this === null || !states.has(this))
      throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Overlay");
    states.set(this, null);
  }
  declare [Symbol.dispose]: () => void;
}

/** What a link draws with: a handle that counts frames as the C link's encode thread does. */
export interface LinkOverlay {
  draw(ptsUs: number, seq: number): void;
}

/** qcam_js_overlay_of: "no" for something else, "closed", or the overlay's link handle. */
function overlayOf(v: unknown): "no" | "closed" | LinkOverlay {
  if ((typeof v !== "object" && typeof v !== "function") || v === null || !states.has(v)) return "no";
  const s = states.get(v);
  if (!s) return "closed";
  return { draw: (ptsUs: number, seq: number) => void advance(s, ptsUs, seq, Date.now()) };
}
world.expose("overlay.of", overlayOf);

// As the C class: methods not enumerable, close as [Symbol.dispose], the toStringTag.
for (const name of ["draw", "expand", "close"])
  Object.defineProperty(Overlay.prototype, name, { enumerable: false });
Object.defineProperty(Overlay.prototype, Symbol.dispose, { value: Overlay.prototype.close, writable: true, configurable: true });
Object.defineProperty(Overlay.prototype, Symbol.toStringTag, { value: "Overlay", configurable: true });
