// What the qcam:display stub has drawn: a display list per Display, kept the way the
// C module's overlay canvas is changed (draw.c), without pixels. Every drawing call that
// touches the screen becomes an operation with the region it touches (clipped as
// draw.c clips it); flush() moves the pending operations onto the panel and records a
// frame (the region flush() returned and the operations it carried). clear() starts the
// list again; an opaque square fill hides — and drops — every earlier operation wholly
// inside it, as it overwrites their pixels. setRotation() empties it (the overlay is cleared).
//
// Tests read it through `displayList()` (build/testing/display.ts, in qcam:testing); the
// stub records into it. Not part of qcam:display's declared surface.

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface OpBase {
  /** The region of the overlay the call touched (clipped to the screen). */
  rect: Box;
  color: number;
}
export interface ClearOp extends OpBase {
  op: "clear";
}
export interface FillOp extends OpBase {
  op: "fill";
  /** What was asked (unclipped). */
  box: Box;
  radius: number;
}
export interface StrokeOp extends OpBase {
  op: "stroke";
  box: Box;
  radius: number;
  thickness: number;
}
export interface LineOp extends OpBase {
  op: "line";
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  thickness: number;
}
export interface TextOp extends OpBase {
  op: "text";
  text: string;
  size: number;
  /** The line box text() fills: (x, y) its top-left, measureText's width and height. */
  box: Box;
}
export interface ImageOp extends OpBase {
  op: "image";
  box: Box;
}
export type DrawOp = ClearOp | FillOp | StrokeOp | LineOp | TextOp | ImageOp;

export interface Frame {
  /** 1, 2, ...: the flushes of this Display that carried something. */
  seq: number;
  /** What flush() returned. */
  rect: Box;
  /** The operations drawn since the previous flush. */
  ops: DrawOp[];
}

const FRAMES_KEPT = 256;

const isEmpty = (r: Box) => r.width <= 0 || r.height <= 0;
export const within = (outer: Box, inner: Box): boolean =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;

/** The part of a fill that is wholly opaque: all of it for a square opaque fill; for a
 * rounded one the rectangle inside its corners' arcs; nothing for a translucent one. */
export function opaqueCore(op: DrawOp): Box | null {
  if (op.op === "clear") return (op.color >>> 24) === 255 ? op.rect : null;
  if (op.op !== "fill" || (op.color >>> 24) !== 255) return null;
  const r = Math.min(op.radius, Math.floor(Math.min(op.box.width, op.box.height) / 2));
  const k = Math.ceil(r * (1 - Math.SQRT1_2)) + (r ? 1 : 0);
  const b = { x: op.box.x + k, y: op.box.y + k, width: op.box.width - 2 * k, height: op.box.height - 2 * k };
  return isEmpty(b) ? null : b;
}

export class DisplayList {
  width: number;
  height: number;
  /** On the panel: what the last flush showed, oldest first (clear first when there was one). */
  panel: DrawOp[] = [];
  /** Drawn, not flushed yet. */
  pending: DrawOp[] = [];
  /** The newest frames (up to 256) and how many there were. */
  frames: Frame[] = [];
  frameCount = 0;

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
  }

  /** The stub: a drawing call touched `rect` (already clipped; empty: nothing drawn). */
  record(op: DrawOp): void {
    if (isEmpty(op.rect)) return;
    this.pending.push(op);
  }
  /** The stub: flush() returned `rect` (null: nothing pending on screen). */
  flushed(rect: Box | null): void {
    const ops = this.pending;
    this.pending = [];
    if (!rect) return;
    for (const op of ops) {
      if (op.op === "clear") {
        this.panel = [op];
        continue;
      }
      if (op.op === "fill" && op.radius === 0 && (op.color >>> 24) === 255)
        this.panel = this.panel.filter((o) => o.op === "clear" || !within(op.rect, o.rect));
      this.panel.push(op);
    }
    this.frameCount++;
    this.frames.push({ seq: this.frameCount, rect: { ...rect }, ops });
    if (this.frames.length > FRAMES_KEPT) this.frames.shift();
  }
  /** The stub: the overlay was cleared by turning the screen (width and height may swap). */
  reset(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.panel = [];
    this.pending = [];
  }

  /** Texts on the panel that no later opaque fill hides (a fill hides a text whose line
   * box lies inside the fill's opaque part). */
  texts(): TextOp[] {
    return this.visible().filter((o): o is TextOp => o.op === "text");
  }
  /** Operations on the panel not wholly hidden by a later opaque fill. */
  visible(): DrawOp[] {
    const out: DrawOp[] = [];
    const ops = this.panel;
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i];
      const box = o.op === "text" ? o.box : o.rect;
      let hidden = false;
      for (let j = i + 1; j < ops.length && !hidden; j++) {
        const core = opaqueCore(ops[j]);
        if (core && within(core, box)) hidden = true;
      }
      if (!hidden) out.push(o);
    }
    return out;
  }
  /** The newest frame, if any flush carried something. */
  get lastFrame(): Frame | null {
    return this.frames[this.frames.length - 1] ?? null;
  }
}
