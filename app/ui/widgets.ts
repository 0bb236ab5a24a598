// Screens and the widgets that go in their lists: Item, Toggle, Choice, Stepper, Text.
// A widget draws itself into the row the Ui gives it and reacts to keys and taps;
// any change it makes to itself marks only its own row for redrawing.
import type { KeyEvent, TouchEvent, Key } from "qcam:input";
import type { Rect } from "qcam:display";
import type { Painter, Ui } from "./ui.ts";
import { rect } from "./theme.ts";

/** A touch target: `rect` in screen pixels, `name` says what it is ("back", "row:Audio", "+:Bitrate"). */
export interface Target {
  name: string;
  rect: Rect;
}

/** How a row is being shown. */
export interface RowState {
  focused: boolean;
  /** A stepper whose value the keys are changing (after ok). */
  editing: boolean;
}

/**
 * A row in a screen's list (or a button in a bar screen's bottom bar). Subclass it for a
 * widget of your own: draw() paints the row (the Ui has painted its background),
 * key() and tap() react; call changed() when something shown has changed.
 */
export abstract class Widget {
  #label: string;
  /** Set by the Screen the widget is in. */
  screen: Screen | null = null;
  constructor(label: string) {
    this.#label = label;
  }
  get label(): string {
    return this.#label;
  }
  set label(v: string) {
    if (v === this.#label) return;
    this.#label = v;
    this.changed();
  }
  /** Whether keys can focus it and taps reach it (Text rows: no). */
  get focusable(): boolean {
    return true;
  }
  /** Mark this widget's row for redrawing at the next ui.update(). */
  changed(): void {
    this.screen?.widgetChanged(this);
  }
  /** Paint the row `r` (its background is already painted). */
  abstract draw(p: Painter, r: Rect, state: RowState): void;
  /** ok, left, right (and next/prev while editing) when focused; true when taken. */
  key(_ui: Ui, _key: Key): boolean {
    return false;
  }
  /** A tap inside the row (the row is focused first). */
  tap(_ui: Ui, _r: Rect, _x: number, _y: number): void {}
  /** Touch targets inside the row beyond the row itself (a stepper's − and +). */
  subTargets(_p: Painter, _r: Rect): Target[] {
    return [];
  }
  /** Whether ok makes this widget take next/prev/left/right until ok or option (a stepper). */
  get editable(): boolean {
    return false;
  }
}

// ------------------------------------------------------------------ Item

export interface ItemOptions {
  /** Small text on the right (a current value, a size, a date). */
  detail?: string;
  /** ok or a tap. */
  onSelect?: (ui: Ui) => void;
  /** A screen to push on ok or a tap (or a function making it); shows a chevron. */
  opens?: Screen | (() => Screen);
}

/** A row that does something: runs onSelect and/or pushes a screen. */
export class Item extends Widget {
  #detail: string;
  onSelect?: (ui: Ui) => void;
  opens?: Screen | (() => Screen);
  constructor(label: string, options: ItemOptions = {}) {
    super(label);
    this.#detail = options.detail ?? "";
    this.onSelect = options.onSelect;
    this.opens = options.opens;
  }
  get detail(): string {
    return this.#detail;
  }
  set detail(v: string) {
    if (v === this.#detail) return;
    this.#detail = v;
    this.changed();
  }
  draw(p: Painter, r: Rect, s: RowState): void {
    const m = p.metrics, inner = p.rowInner(r);
    let right = inner.x + inner.width - m.pad;
    if (this.opens) {
      p.chevron(right - m.fontHeight / 2, r.y + r.height / 2, m.fontHeight / 4, "right", p.theme.dim);
      right -= m.fontHeight;
    }
    const reserve = this.#detail ? p.textWidth(this.#detail, m.small) + m.pad : 0;
    const labelW = p.labelWidth(this.label, m.font, right - inner.x - 2 * m.pad, reserve);
    const dx = inner.x + m.pad + labelW + m.pad;
    if (this.#detail) p.textIn(this.#detail, rect(dx, r.y, right - dx, r.height), m.small, s.focused ? p.theme.text : p.theme.dim, "right");
    p.textIn(this.label, rect(inner.x + m.pad, r.y, labelW, r.height), m.font, p.theme.text);
  }
  key(ui: Ui, key: Key): boolean {
    if (key !== "ok") return false;
    this.activate(ui);
    return true;
  }
  tap(ui: Ui): void {
    this.activate(ui);
  }
  activate(ui: Ui): void {
    this.onSelect?.(ui);
    if (this.opens) ui.push(typeof this.opens === "function" ? this.opens() : this.opens);
  }
}

// ------------------------------------------------------------------ Text

/** A row that only shows a label and a detail (About, Storage): keys and taps skip it. */
export class Text extends Item {
  constructor(label: string, detail = "") {
    super(label, { detail });
  }
  get focusable(): boolean {
    return false;
  }
  key(): boolean {
    return false;
  }
  tap(): void {}
}

// ------------------------------------------------------------------ Toggle

/** On or off: ok or a tap flips it, left turns it off, right on. */
export class Toggle extends Widget {
  #value: boolean;
  onChange?: (value: boolean, ui: Ui) => void;
  constructor(label: string, value = false, onChange?: (value: boolean, ui: Ui) => void) {
    super(label);
    this.#value = value;
    this.onChange = onChange;
  }
  get value(): boolean {
    return this.#value;
  }
  /** Setting it shows it; onChange is for the user's changes only. */
  set value(v: boolean) {
    if (v === this.#value) return;
    this.#value = v;
    this.changed();
  }
  #set(ui: Ui, v: boolean): void {
    if (v === this.#value) return;
    this.value = v;
    this.onChange?.(v, ui);
  }
  draw(p: Painter, r: Rect, _s: RowState): void {
    const m = p.metrics, inner = p.rowInner(r);
    const h = Math.round(m.fontHeight * 0.9), w = Math.round(h * 1.8);
    const x = inner.x + inner.width - m.pad - w, y = Math.round(r.y + (r.height - h) / 2);
    const d = p.display;
    d.fillRect(x, y, w, h, this.#value ? p.theme.focus : p.theme.off, Math.floor(h / 2));
    const k = h - 6;
    d.fillRect(this.#value ? x + w - 3 - k : x + 3, y + 3, k, k, 0xffffffff, Math.floor(k / 2));
    const words = p.textWidth(this.#value ? "On" : "Off", m.small);
    const tx = x - m.pad - words;
    p.textIn(this.#value ? "On" : "Off", rect(tx, r.y, words, r.height), m.small, p.theme.dim);
    p.textIn(this.label, rect(inner.x + m.pad, r.y, tx - m.pad - inner.x - m.pad, r.height), m.font, p.theme.text);
  }
  key(ui: Ui, key: Key): boolean {
    if (key === "ok") this.#set(ui, !this.#value);
    else if (key === "left") this.#set(ui, false);
    else if (key === "right") this.#set(ui, true);
    else return false;
    return true;
  }
  tap(ui: Ui): void {
    this.#set(ui, !this.#value);
  }
}

// ------------------------------------------------------------------ Choice

/** One of N: left/right step through the options; ok or a tap opens a list to pick from. */
export class Choice extends Widget {
  readonly options: readonly string[];
  #index: number;
  onChange?: (index: number, value: string, ui: Ui) => void;
  constructor(label: string, options: readonly string[], index = 0, onChange?: (index: number, value: string, ui: Ui) => void) {
    super(label);
    if (options.length === 0) throw new RangeError(`Choice ${label}: no options`);
    this.options = [...options];
    this.#index = Math.max(0, Math.min(options.length - 1, Math.trunc(index)));
    this.onChange = onChange;
  }
  get index(): number {
    return this.#index;
  }
  set index(i: number) {
    const v = Math.max(0, Math.min(this.options.length - 1, Math.trunc(i)));
    if (v === this.#index) return;
    this.#index = v;
    this.changed();
  }
  get value(): string {
    return this.options[this.#index];
  }
  pick(ui: Ui, i: number): void {
    if (i === this.#index) return;
    this.index = i;
    this.onChange?.(this.#index, this.value, ui);
  }
  draw(p: Painter, r: Rect, s: RowState): void {
    const m = p.metrics, inner = p.rowInner(r);
    const right = inner.x + inner.width - m.pad;
    p.chevron(right - m.fontHeight / 2, r.y + r.height / 2, m.fontHeight / 4, "right", p.theme.dim);
    const vr = right - m.fontHeight;
    const labelW = p.labelWidth(this.label, m.font, vr - inner.x - 2 * m.pad, p.textWidth(this.value, m.font) + m.pad);
    const vx = inner.x + m.pad + labelW + m.pad;
    p.textIn(this.value, rect(vx, r.y, vr - vx, r.height), m.font, s.focused ? p.theme.text : p.theme.dim, "right");
    p.textIn(this.label, rect(inner.x + m.pad, r.y, labelW, r.height), m.font, p.theme.text);
  }
  key(ui: Ui, key: Key): boolean {
    const n = this.options.length;
    if (key === "left") this.pick(ui, (this.#index + n - 1) % n);
    else if (key === "right") this.pick(ui, (this.#index + 1) % n);
    else if (key === "ok") this.openPicker(ui);
    else return false;
    return true;
  }
  tap(ui: Ui): void {
    this.openPicker(ui);
  }
  /** The pick-one screen: one row per option, the current one marked and focused. */
  openPicker(ui: Ui): void {
    const items = this.options.map((o, i) => new Item(o, { detail: i === this.#index ? "current" : "", onSelect: (u) => { this.pick(u, i); u.pop(); } }));
    const screen = new Screen({ title: this.label, items });
    screen.focusOn(items[this.#index]);
    ui.push(screen);
  }
}

// ------------------------------------------------------------------ Stepper

export interface StepperOptions {
  min: number;
  max: number;
  /** Default 1. */
  step?: number;
  value?: number;
  /** How a value is shown (default String(v)). */
  format?: (value: number) => string;
  onChange?: (value: number, ui: Ui) => void;
}

/** A number from min to max in steps: left/right or a tap on − / + change it; ok starts
 * editing, where next/prev change it too, until ok or option. */
export class Stepper extends Widget {
  readonly min: number;
  readonly max: number;
  readonly step: number;
  #value: number;
  format: (value: number) => string;
  onChange?: (value: number, ui: Ui) => void;
  constructor(label: string, options: StepperOptions) {
    super(label);
    const step = options.step ?? 1;
    if (!(options.max >= options.min) || !(step > 0)) throw new RangeError(`Stepper ${label}: needs min <= max and step > 0`);
    this.min = options.min;
    this.max = options.max;
    this.step = step;
    this.format = options.format ?? ((v) => String(v));
    this.onChange = options.onChange;
    this.#value = this.#snap(options.value ?? options.min);
  }
  #snap(v: number): number {
    const k = Math.round((Math.min(this.max, Math.max(this.min, v)) - this.min) / this.step);
    const decimals = (String(this.step).split(".")[1] ?? "").length + (String(this.min).split(".")[1] ?? "").length;
    const out = Number((this.min + k * this.step).toFixed(decimals));
    return out > this.max ? Number((out - this.step).toFixed(decimals)) : out;
  }
  get value(): number {
    return this.#value;
  }
  set value(v: number) {
    const s = this.#snap(v);
    if (s === this.#value) return;
    this.#value = s;
    this.changed();
  }
  /** Change by `steps` steps (clamped); onChange when it moved. */
  nudge(ui: Ui, steps: number): void {
    const before = this.#value;
    this.value = before + steps * this.step;
    if (this.#value !== before) this.onChange?.(this.#value, ui);
  }
  get editable(): boolean {
    return true;
  }
  #parts(p: Painter, r: Rect): { minus: Rect; plus: Rect; value: Rect; label: Rect } {
    const m = p.metrics, inner = p.rowInner(r);
    const b = r.height; // the − and + targets are as high as the row and as wide: >= 48 px
    const vw = Math.max(p.textWidth(this.format(this.min), m.font), p.textWidth(this.format(this.max), m.font)) + m.pad;
    const plus = rect(inner.x + inner.width - b, r.y, b, r.height);
    const value = rect(plus.x - vw, r.y, vw, r.height);
    const minus = rect(value.x - b, r.y, b, r.height);
    const label = rect(inner.x + m.pad, r.y, Math.max(0, minus.x - m.pad - inner.x - m.pad), r.height);
    return { minus, plus, value, label };
  }
  draw(p: Painter, r: Rect, s: RowState): void {
    const m = p.metrics, t = p.theme, d = p.display;
    const { minus, plus, value, label } = this.#parts(p, r);
    const inset = Math.max(3, Math.round(m.pad / 2) + 1);
    for (const [b, sign] of [[minus, -1], [plus, 1]] as const) {
      const can = sign < 0 ? this.#value > this.min : this.#value < this.max;
      d.fillRect(b.x + inset, b.y + inset, b.width - 2 * inset, b.height - 2 * inset, t.surface, m.radius);
      d.strokeRect(b.x + inset, b.y + inset, b.width - 2 * inset, b.height - 2 * inset, can ? t.dim : t.off, { radius: m.radius, thickness: 1 });
      const cx = b.x + Math.floor(b.width / 2), cy = b.y + Math.floor(b.height / 2), k = Math.max(4, Math.round(m.fontHeight / 3));
      const c = can ? t.text : t.off;
      d.line(cx - k, cy, cx + k, cy, c, 2);
      if (sign > 0) d.line(cx, cy - k, cx, cy + k, c, 2);
    }
    if (s.editing) d.fillRect(value.x + 2, value.y + inset, value.width - 4, value.height - 2 * inset, t.focus, m.radius);
    p.textIn(this.format(this.#value), value, m.font, s.editing ? 0xffffffff : s.focused ? t.text : t.dim, "center");
    p.textIn(this.label, label, m.font, t.text);
  }
  key(ui: Ui, key: Key): boolean {
    if (key === "left") this.nudge(ui, -1);
    else if (key === "right") this.nudge(ui, 1);
    else if (key === "ok") ui.setEditing(ui.editing === this ? null : this);
    else if (ui.editing === this && (key === "prev" || key === "next")) this.nudge(ui, key === "prev" ? 1 : -1);
    else return false;
    return true;
  }
  tap(ui: Ui, r: Rect, x: number, _y: number): void {
    const { minus, plus } = this.#parts(ui.painter, r);
    if (x >= minus.x && x < minus.x + minus.width) this.nudge(ui, -1);
    else if (x >= plus.x && x < plus.x + plus.width) this.nudge(ui, 1);
  }
  subTargets(p: Painter, r: Rect): Target[] {
    const { minus, plus } = this.#parts(p, r);
    return [{ name: `-:${this.label}`, rect: minus }, { name: `+:${this.label}`, rect: plus }];
  }
}

// ------------------------------------------------------------------ Screen

export interface ScreenOptions {
  /** Shown in the header (and used as the screen's name). */
  title?: string;
  items?: Widget[];
  /**
   * Nothing is drawn on the body: the video layer (a live preview) shows through. Its items,
   * if any, become buttons in a bar along the bottom. Default false.
   */
  transparent?: boolean;
  /** A header with the title, a back button (when there is a screen to go back to) and
   * page buttons (when the list is longer than the screen). Default: !transparent. */
  header?: boolean;
  /** Keys before the kit's own handling; return true to take one. */
  onKey?: (event: KeyEvent, ui: Ui) => boolean | void;
  /** Touches before the kit's own handling; return true to take one. */
  onTouch?: (event: TouchEvent, ui: Ui) => boolean | void;
  /** Called when the screen becomes the top one (pushed, or uncovered by a pop). */
  onShow?: (ui: Ui) => void;
  /** Called when it stops being the top one (popped or covered). */
  onHide?: (ui: Ui) => void;
  /** Called when it is popped (option, the back button, ui.pop()). */
  onBack?: (ui: Ui) => void;
}

/** A screen: a title and a list of widgets (or a transparent screen over the video layer). */
export class Screen {
  #title: string;
  #items: Widget[] = [];
  readonly transparent: boolean;
  readonly header: boolean;
  onKey?: ScreenOptions["onKey"];
  onTouch?: ScreenOptions["onTouch"];
  onShow?: ScreenOptions["onShow"];
  onHide?: ScreenOptions["onHide"];
  onBack?: ScreenOptions["onBack"];
  /** Index of the focused item (-1: none focusable). */
  focus = -1;
  /** Index of the first item shown (lists longer than the screen scroll by whole rows). */
  scroll = 0;
  /** Set while the screen is on a Ui's stack. */
  ui: Ui | null = null;

  constructor(options: ScreenOptions = {}) {
    this.#title = options.title ?? "";
    this.transparent = options.transparent ?? false;
    this.header = options.header ?? !this.transparent;
    this.onKey = options.onKey;
    this.onTouch = options.onTouch;
    this.onShow = options.onShow;
    this.onHide = options.onHide;
    this.onBack = options.onBack;
    this.setItems(options.items ?? []);
  }
  get title(): string {
    return this.#title;
  }
  set title(v: string) {
    if (v === this.#title) return;
    this.#title = v;
    this.ui?.screenChanged(this, "header");
  }
  get items(): readonly Widget[] {
    return this.#items;
  }
  /** Replace the list (focus kept on the same widget when it is still there). */
  setItems(items: readonly Widget[]): void {
    const focused = this.focused;
    for (const w of this.#items) w.screen = null;
    this.#items = [...items];
    for (const w of this.#items) w.screen = this;
    const i = focused ? this.#items.indexOf(focused) : -1;
    this.focus = i >= 0 ? i : this.#items.findIndex((w) => w.focusable);
    this.scroll = Math.min(this.scroll, Math.max(0, this.#items.length - 1));
    this.ui?.screenChanged(this, "all");
  }
  /** The focused widget, if any. */
  get focused(): Widget | null {
    return this.#items[this.focus] ?? null;
  }
  /** Focus this widget (scrolling it into view). */
  focusOn(w: Widget): void {
    const i = this.#items.indexOf(w);
    if (i < 0 || !w.focusable) return;
    if (this.ui) this.ui.setFocus(this, i);
    else this.focus = i;
  }
  /** Redraw the whole screen at the next update. */
  invalidate(): void {
    this.ui?.screenChanged(this, "all");
  }
  /** Called by a widget of this screen that changed. */
  widgetChanged(w: Widget): void {
    this.ui?.widgetChanged(this, w);
  }
}
