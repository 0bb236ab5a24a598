// The UI kit's colors and its layout metrics, computed from the screen's size.
import type { Display, Rect } from "qcam:display";

/** Colors, 0xAARRGGBB. Everything the kit draws is opaque except `scrim`. */
export interface Theme {
  /** Background of opaque screens (menus). */
  background: number;
  /** Row, button and dialog surfaces. */
  surface: number;
  text: number;
  /** Details, values, hints. */
  dim: number;
  /** The focus ring and active parts (a toggle that is on, a stepper being edited). */
  focus: number;
  /** The focused row's fill. */
  focusFill: number;
  statusBackground: number;
  statusText: number;
  headerBackground: number;
  /** A toggle that is off, a scroll track. */
  off: number;
  /** The confirm button of a dialog marked `danger`. */
  danger: number;
  toastBackground: number;
  toastText: number;
  /** Laid over the screen under a dialog (translucent). */
  scrim: number;
}

export const DEFAULT_THEME: Theme = {
  background: 0xff10161e,
  surface: 0xff1c2530,
  text: 0xffeef2f6,
  dim: 0xff9aa8b8,
  focus: 0xff3d8bff,
  focusFill: 0xff1f3a60,
  statusBackground: 0xff000000,
  statusText: 0xffe0e6ec,
  headerBackground: 0xff18202a,
  off: 0xff4a5664,
  danger: 0xffd83a3a,
  toastBackground: 0xff2c3a48,
  toastText: 0xffffffff,
  scrim: 0x99000000,
};

/** Sizes in pixels, all derived from the screen's width and height (see metricsFor). */
export interface Metrics {
  width: number;
  height: number;
  /** Text size of rows, titles and buttons (one of the display's sizes). */
  font: number;
  /** Text size of the status bar, details and toasts. */
  small: number;
  /** Line box heights of `font` and `small` (measureText). */
  fontHeight: number;
  smallHeight: number;
  /** A list row's height and every touch target's smaller side: at least 48. */
  row: number;
  /** Margins and gaps. */
  pad: number;
  /** The status bar's height (0 when the Ui has none). */
  status: number;
  /** A screen header's height (= row: its back and page buttons are touch targets). */
  header: number;
  /** Focus ring thickness. */
  ring: number;
  /** Corner radius of rows and buttons. */
  radius: number;
}

const SIZES = [12, 14, 16, 20, 24, 32, 40, 48];

/** The largest text size not above `px` (12 at least). */
export function fontSizeFor(px: number): number {
  let s = SIZES[0];
  for (const z of SIZES) if (z <= px) s = z;
  return s;
}

/** The minimum side of every touch target, in pixels. */
export const MIN_TARGET = 48;

/**
 * Metrics for a screen of the display's current size. Text sizes come from the shorter
 * side (20 px rows at 552x368, 40 px at 1280x720), rows are 2.25 line boxes high and never
 * under 48 px, so about five rows fit under the status bar and header in landscape.
 */
export function metricsFor(display: Display, statusBar = true): Metrics {
  const width = display.width, height = display.height;
  const short = Math.min(width, height);
  const font = fontSizeFor(short / 18);
  const small = fontSizeFor(short / 22);
  const fontHeight = display.measureText("Ag", font).height;
  const smallHeight = display.measureText("Ag", small).height;
  const row = Math.max(MIN_TARGET, Math.round(fontHeight * 2.25));
  const pad = Math.max(4, Math.round(row / 8));
  return {
    width, height, font, small, fontHeight, smallHeight, row, pad,
    status: statusBar ? smallHeight + 2 * Math.max(3, Math.round(pad / 2)) : 0,
    header: row,
    ring: Math.max(2, Math.round(row / 20)),
    radius: Math.max(4, Math.round(row / 6)),
  };
}

// ------------------------------------------------------------------ geometry helpers

export const rect = (x: number, y: number, width: number, height: number): Rect => ({ x, y, width, height });
export const isEmpty = (r: Rect): boolean => r.width <= 0 || r.height <= 0;
export function union(a: Rect | null, b: Rect): Rect {
  if (!a || isEmpty(a)) return { ...b };
  if (isEmpty(b)) return a;
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}
export const intersects = (a: Rect, b: Rect): boolean =>
  !isEmpty(a) && !isEmpty(b) && a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
export const contains = (outer: Rect, inner: Rect): boolean =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;
export const hit = (r: Rect, x: number, y: number): boolean => x >= r.x && y >= r.y && x < r.x + r.width && y < r.y + r.height;
export function clipTo(r: Rect, w: number, h: number): Rect {
  const x0 = Math.max(r.x, 0), y0 = Math.max(r.y, 0), x1 = Math.min(r.x + r.width, w), y1 = Math.min(r.y + r.height, h);
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}
