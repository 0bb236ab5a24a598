// The Ui: a back stack of screens on a Display, a status bar, confirm dialogs and toasts,
// driven by key and touch events and redrawn from the app's loop by update(), which draws
// only what changed and flushes only that region.
import type { Display, Rect } from "qcam:display";
import type { InputEvent, Key, KeyEvent, TouchEvent } from "qcam:input";
import { ticksMs } from "qcam:time";
import { DEFAULT_THEME, clipTo, contains, hit, intersects, isEmpty, metricsFor, rect, union, type Metrics, type Theme } from "./theme.ts";
import { Screen, type RowState, type Target, type Widget } from "./widgets.ts";

// ------------------------------------------------------------------ Painter

/** Drawing helpers the widgets use: text fitted to a box (ellipsized, never overflowing). */
export class Painter {
  constructor(readonly display: Display, public metrics: Metrics, public theme: Theme) {}
  textWidth(s: string, size: number): number {
    return this.display.measureText(s, size).width;
  }
  /** `s` cut with "..." so that it is at most `maxWidth` wide ("" when not even "..." fits). */
  fit(s: string, size: number, maxWidth: number): string {
    if (this.textWidth(s, size) <= maxWidth) return s;
    if (this.textWidth("...", size) > maxWidth) return "";
    let lo = 0, hi = s.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (this.textWidth(s.slice(0, mid) + "...", size) <= maxWidth) lo = mid;
      else hi = mid - 1;
    }
    return s.slice(0, lo).trimEnd() + "...";
  }
  /** Text fitted into `r`, centered vertically; returns the drawn width. */
  textIn(s: string, r: Rect, size: number, color: number, align: "left" | "center" | "right" = "left"): number {
    if (r.width <= 0) return 0;
    const t = this.fit(s, size, r.width);
    if (!t) return 0;
    const m = this.display.measureText(t, size);
    const x = align === "left" ? r.x : align === "right" ? r.x + r.width - m.width : r.x + Math.floor((r.width - m.width) / 2);
    return this.display.text(t, x, r.y + Math.floor((r.height - m.height) / 2), color, size);
  }
  /** How wide a label may be next to something `reserve` wide in `avail` pixels. */
  labelWidth(label: string, size: number, avail: number, reserve = 0): number {
    return Math.max(0, Math.min(this.textWidth(label, size), Math.max(avail - reserve, Math.round(avail * 0.55))));
  }
  /** A row's visible part: inset by the margin on both sides. */
  rowInner(r: Rect): Rect {
    return rect(r.x + this.metrics.pad, r.y, r.width - 2 * this.metrics.pad, r.height);
  }
  /** A chevron centered on (cx, cy), arms `k` long, pointing `dir`. */
  chevron(cx: number, cy: number, k: number, dir: "left" | "right" | "up" | "down", color: number): void {
    const x = Math.round(cx), y = Math.round(cy), a = Math.max(3, Math.round(k)), t = Math.max(2, Math.round(this.metrics.ring));
    const d = this.display;
    if (dir === "left" || dir === "right") {
      const s = dir === "right" ? 1 : -1;
      d.line(x - s * Math.round(a / 2), y - a, x + s * Math.round(a / 2), y, color, t);
      d.line(x + s * Math.round(a / 2), y, x - s * Math.round(a / 2), y + a, color, t);
    } else {
      const s = dir === "down" ? 1 : -1;
      d.line(x - a, y - s * Math.round(a / 2), x, y + s * Math.round(a / 2), color, t);
      d.line(x, y + s * Math.round(a / 2), x + a, y - s * Math.round(a / 2), color, t);
    }
  }
}

// ------------------------------------------------------------------ StatusBar

export interface StatusField {
  text: string;
  /** Default the theme's statusText. */
  color?: number;
  /** Default "left". Left fields go left to right, right fields right to left, in the order first set. */
  align?: "left" | "right";
}

/** The strip along the top of every screen: named text fields (REC 00:12, 1080p H.265, 42 min left). */
export class StatusBar {
  #fields = new Map<string, StatusField>();
  constructor(private readonly onChange: () => void) {}
  /** Set (or add) a field; redrawn at the next update only when it changed. */
  set(id: string, text: string, options: { color?: number; align?: "left" | "right" } = {}): void {
    const old = this.#fields.get(id);
    const f: StatusField = { text, color: options.color ?? old?.color, align: options.align ?? old?.align ?? "left" };
    if (old && old.text === f.text && old.color === f.color && old.align === f.align) return;
    this.#fields.set(id, f);
    this.onChange();
  }
  get(id: string): string | undefined {
    return this.#fields.get(id)?.text;
  }
  remove(id: string): void {
    if (this.#fields.delete(id)) this.onChange();
  }
  clear(): void {
    if (this.#fields.size === 0) return;
    this.#fields.clear();
    this.onChange();
  }
  get fields(): ReadonlyMap<string, StatusField> {
    return this.#fields;
  }
}

// ------------------------------------------------------------------ dialogs and toasts

export interface ConfirmOptions {
  title: string;
  message?: string;
  /** The confirming button's label (default "OK"). */
  confirm?: string;
  /** The cancelling button's label (default "Cancel"). */
  cancel?: string;
  /** The confirming button in the theme's danger color (a delete). */
  danger?: boolean;
  onConfirm?: (ui: Ui) => void;
  onCancel?: (ui: Ui) => void;
}

export interface AlertOptions {
  title: string;
  message?: string;
  /** The button's label (default "OK"). */
  button?: string;
  /** When the button is pressed (ok, option or a tap). */
  onClose?: (ui: Ui) => void;
}

interface Dialog {
  opts: ConfirmOptions;
  /** An alert: one button. */
  single: boolean;
  /** 0: cancel (focused first, the safe choice), 1: confirm. */
  focus: number;
}

interface Toast {
  text: string;
  until: number;
}

interface Layer {
  name: string;
  rect: Rect;
  /** Drawn over what is below (a scrim): partial redraws under it become full ones. */
  translucent?: boolean;
  draw(): void;
}

export interface UiOptions {
  /** Colors (merged over DEFAULT_THEME). */
  theme?: Partial<Theme>;
  /** A status bar on top of every screen (default true). */
  statusBar?: boolean;
}

/** What the Ui did so far (tests and benchmarks). */
export interface UiStats {
  /** update() calls that flushed something. */
  flushes: number;
  /** Of those, clear-and-redraw-everything ones. */
  fullRedraws: number;
  /** The region the last flush carried. */
  lastFlush: Rect | null;
}

// ------------------------------------------------------------------ Ui

/**
 * A back stack of screens on a Display. Feed it input with handleKey/handleTouch (from an
 * Input's onKey/onTouch) and call update() on every turn of the app's loop: it redraws only
 * what changed since the last call and flushes only that region (nothing when nothing changed).
 */
export class Ui {
  readonly display: Display;
  readonly theme: Theme;
  readonly status: StatusBar;
  readonly painter: Painter;
  readonly stats: UiStats = { flushes: 0, fullRedraws: 0, lastFlush: null };
  #metrics: Metrics;
  #statusBar: boolean;
  #stack: Screen[] = [];
  #dialog: Dialog | null = null;
  #toast: Toast | null = null;
  #editing: Widget | null = null;
  #dirty: Rect | null = null;
  #full = true;
  #touch: { x: number; y: number; scroll: number; dragging: boolean; target: string | null } | null = null;

  constructor(display: Display, root: Screen, options: UiOptions = {}) {
    this.display = display;
    this.theme = { ...DEFAULT_THEME, ...options.theme };
    this.#statusBar = options.statusBar ?? true;
    this.#metrics = metricsFor(display, this.#statusBar);
    this.painter = new Painter(display, this.#metrics, this.theme);
    this.status = new StatusBar(() => this.#invalidate(this.#statusRect()));
    this.push(root);
  }

  /** The current layout's sizes (recomputed when the display's size changes). */
  get metrics(): Metrics {
    return this.#metrics;
  }
  /** The screen on top. */
  get top(): Screen {
    return this.#stack[this.#stack.length - 1];
  }
  /** Screens on the stack (1: only the root). */
  get depth(): number {
    return this.#stack.length;
  }
  get dialogOpen(): boolean {
    return this.#dialog !== null;
  }
  /** The toast's text while one shows. */
  get toastText(): string | null {
    return this.#toast?.text ?? null;
  }
  /** The stepper whose value the keys are changing, if any. */
  get editing(): Widget | null {
    return this.#editing;
  }

  // ---------------------------------------------------------------- the stack

  /** Show `screen` on top; option or the back button comes back. */
  push(screen: Screen): void {
    this.#enter(screen, false);
  }
  #enter(screen: Screen, replacing: boolean): void {
    if (this.#stack.includes(screen)) throw new Error(`screen "${screen.title}" is already on the stack`);
    const old = replacing ? this.#stack.pop() : this.#stack[this.#stack.length - 1];
    this.#editing = null;
    old?.onHide?.(this);
    if (replacing && old) old.ui = null;
    this.#stack.push(screen);
    screen.ui = this;
    if (screen.focus < 0 || !screen.items[screen.focus]?.focusable) screen.focus = screen.items.findIndex((w) => w.focusable);
    this.#ensureVisible(screen);
    screen.onShow?.(this);
    this.#full = true;
  }
  /** Back to the screen below (false on the root, which stays). */
  pop(): boolean {
    if (this.#stack.length <= 1) return false;
    const s = this.#stack.pop()!;
    this.#editing = null;
    s.onBack?.(this);
    s.onHide?.(this);
    s.ui = null;
    this.top.onShow?.(this);
    this.#full = true;
    return true;
  }
  /** Back to the root screen. */
  home(): void {
    while (this.pop());
  }
  /** The top screen replaced by `screen` (the root too). */
  replace(screen: Screen): void {
    this.#enter(screen, true);
  }
  /** A modal question with a cancel and a confirm button; cancel is focused first. */
  confirm(options: ConfirmOptions): void {
    this.#editing = null;
    this.#dialog = { opts: options, focus: 0, single: false };
    this.#full = true;
  }
  /** A modal message with one button (an error, a warning): ok, option or a tap closes it. */
  alert(options: AlertOptions): void {
    this.#editing = null;
    const close = options.onClose;
    this.#dialog = { opts: { title: options.title, message: options.message, confirm: options.button ?? "OK", onConfirm: close, onCancel: close }, focus: 1, single: true };
    this.#full = true;
  }
  /** A message at the bottom for `ms` milliseconds of the app's clock (default 2500). */
  toast(text: string, ms = 2500): void {
    const old = this.#toast ? this.#toastRect(this.#toast.text) : null;
    this.#toast = { text, until: ticksMs() + ms };
    if (old) this.#invalidate(old);
    this.#invalidate(this.#toastRect(text));
  }
  /** Milliseconds until update() has timed work to do (a toast to take down), or null. */
  nextDeadlineMs(): number | null {
    return this.#toast ? Math.max(0, this.#toast.until - ticksMs()) : null;
  }

  // ---------------------------------------------------------------- focus and changes

  /** Focus item `index` of `screen` (scrolled into view). */
  setFocus(screen: Screen, index: number): void {
    if (index === screen.focus) return;
    const visible = this.top === screen;
    if (visible) this.#invalidateItem(screen, screen.focus);
    if (this.#editing && screen.items[screen.focus] === this.#editing) this.#editing = null;
    screen.focus = index;
    const scrolled = this.#ensureVisible(screen);
    if (visible) scrolled ? this.#invalidate(this.#bodyRect()) : this.#invalidateItem(screen, index);
  }
  /** Let a stepper take the keys (ok on it), or stop (null). */
  setEditing(w: Widget | null): void {
    const s = this.top;
    if (this.#editing) this.#invalidateWidget(s, this.#editing);
    this.#editing = w;
    if (w) this.#invalidateWidget(s, w);
  }
  /** A widget changed: redraw its row if it shows. */
  widgetChanged(screen: Screen, w: Widget): void {
    if (this.top === screen) this.#invalidateWidget(screen, w);
  }
  /** A screen's title ("header") or everything ("all") changed. */
  screenChanged(screen: Screen, what: "header" | "all"): void {
    if (this.top !== screen) return;
    if (what === "all") {
      if (screen.focus >= 0 && !screen.items[screen.focus]?.focusable) screen.focus = screen.items.findIndex((w) => w.focusable);
      this.#ensureVisible(screen);
      this.#full = true;
    } else if (screen.header) this.#invalidate(this.#headerRect());
  }
  /** Redraw everything at the next update. */
  invalidate(): void {
    this.#full = true;
  }

  // ---------------------------------------------------------------- input

  /** Any input event (for an Input read with poll()): handleKey or handleTouch. */
  handle(e: InputEvent): boolean {
    return e.type === "key" ? this.handleKey(e) : this.handleTouch(e);
  }

  /**
   * A key event (pass Input's onKey events; return its result from onKey so a long press
   * of ok that a screen takes does not exit). next/prev move the focus, ok activates,
   * left/right change values, option goes back (cancels a dialog, ends editing), a long
   * press of option goes to the root screen. Returns whether the kit took the key.
   */
  handleKey(e: KeyEvent): boolean {
    const s = this.top;
    if (this.#dialog) {
      if (e.action !== "press") return e.action === "release";
      if (e.key === "ok") this.#closeDialog(this.#dialog.focus === 1);
      else if (e.key === "option") this.#closeDialog(this.#dialog.single);
      else if (!this.#dialog.single) this.#dialogFocus(e.key === "left" || e.key === "prev" ? 0 : 1);
      return true;
    }
    if (s.onKey?.(e, this) === true) return true;
    if (e.action === "longpress") {
      if (e.key !== "option") return false;
      this.home();
      return true;
    }
    if (e.action !== "press") return false;
    const w = s.focused;
    if (this.#editing && w === this.#editing) {
      if (e.key === "option") this.setEditing(null);
      else w.key(this, e.key);
      return true;
    }
    if (e.key === "next" || e.key === "prev") {
      this.#moveFocus(s, e.key === "next" ? 1 : -1);
      return true;
    }
    if (e.key === "option") return this.pop();
    if (w && (e.key === "ok" || e.key === "left" || e.key === "right")) return w.key(this, e.key as Key);
    return false;
  }

  /**
   * A touch event (pass Input's onTouch events). A tap (down and up on the same target
   * without dragging) activates what it hits: a row, the back button, a page button, a
   * stepper's − or +, a dialog's button. Dragging a list scrolls it by whole rows.
   */
  handleTouch(e: TouchEvent): boolean {
    const s = this.top;
    if (!this.#dialog && s.onTouch?.(e, this) === true) return true;
    if (e.action === "down") {
      this.#touch = { x: e.x, y: e.y, scroll: s.scroll, dragging: false, target: this.#targetAt(e.x, e.y)?.name ?? null };
      return true;
    }
    const t = this.#touch;
    if (!t) return false;
    const m = this.#metrics;
    if (e.action === "move") {
      if (this.#dialog || s.transparent) return true;
      const dy = e.y - t.y;
      if (!t.dragging && Math.abs(dy) >= m.row / 3) t.dragging = true;
      if (t.dragging) this.#scrollTo(s, t.scroll - Math.round(dy / m.row));
      return true;
    }
    this.#touch = null;
    if (t.dragging || t.target === null) return true;
    const target = this.#targetAt(e.x, e.y);
    if (!target || target.name !== t.target) return true;
    this.#activate(target.name, e.x, e.y);
    return true;
  }

  // ---------------------------------------------------------------- drawing

  /** Redraw what changed and flush it; returns the flushed region (null: nothing changed). */
  update(): Rect | null {
    const d = this.display;
    if (d.width !== this.#metrics.width || d.height !== this.#metrics.height) {
      this.#metrics = metricsFor(d, this.#statusBar);
      this.painter.metrics = this.#metrics;
      for (const s of this.#stack) this.#ensureVisible(s);
      this.#full = true;
    }
    if (this.#toast && ticksMs() >= this.#toast.until) {
      this.#invalidate(this.#toastRect(this.#toast.text));
      this.#toast = null;
    }
    if (this.#full) this.#redrawAll();
    else if (this.#dirty) this.#redraw(this.#dirty);
    else return null;
    this.#full = false;
    this.#dirty = null;
    const r = d.flush();
    if (r) {
      this.stats.flushes++;
      this.stats.lastFlush = r;
    }
    return r;
  }

  /** Every touch target on the screen now (each at least 48x48 px). */
  targets(): Target[] {
    const out: Target[] = [];
    const m = this.#metrics, s = this.top;
    if (this.#dialog) {
      const { cancel, confirm } = this.#dialogButtons();
      if (this.#dialog.single) return [{ name: "dialog:confirm", rect: confirm }];
      return [{ name: "dialog:cancel", rect: cancel }, { name: "dialog:confirm", rect: confirm }];
    }
    if (s.header) {
      if (this.depth > 1) out.push({ name: "back", rect: rect(0, m.status, m.header, m.header) });
      if (this.#overflows(s)) {
        const { up, down } = this.#pageButtons();
        out.push({ name: "page:up", rect: up }, { name: "page:down", rect: down });
      }
    }
    for (const [i, r] of this.#itemRects(s)) {
      const w = s.items[i];
      if (!w.focusable) continue;
      out.push(...w.subTargets(this.painter, r), { name: `item:${i}`, rect: r });
    }
    return out;
  }
  /** Where the focused item is drawn (null: nothing focused). The dialog's focused button while one is open. */
  focusRect(): Rect | null {
    if (this.#dialog) {
      const b = this.#dialogButtons();
      return this.#dialog.focus ? b.confirm : b.cancel;
    }
    const s = this.top;
    for (const [i, r] of this.#itemRects(s)) if (i === s.focus) return r;
    return null;
  }
  /** The regions the screen is drawn in (status, header, one per row or button, dialog, toast):
   * every text the kit draws lies inside the region it belongs to. */
  regions(): { name: string; rect: Rect }[] {
    return this.#layers().filter((l) => !l.translucent).map((l) => ({ name: l.name, rect: l.rect }));
  }

  // ---------------------------------------------------------------- layout

  #statusRect(): Rect {
    return rect(0, 0, this.#metrics.width, this.#metrics.status);
  }
  #headerRect(): Rect {
    return rect(0, this.#metrics.status, this.#metrics.width, this.#metrics.header);
  }
  #bodyTop(s: Screen): number {
    return this.#metrics.status + (s.header ? this.#metrics.header : 0);
  }
  #bodyRect(): Rect {
    const y = this.#bodyTop(this.top);
    return rect(0, y, this.#metrics.width, this.#metrics.height - y);
  }
  /** Rows that fit under the header (lists scroll by whole rows: no row is ever cut). */
  #visibleRows(s: Screen): number {
    return Math.max(1, Math.floor((this.#metrics.height - this.#bodyTop(s)) / this.#metrics.row));
  }
  #overflows(s: Screen): boolean {
    return !s.transparent && s.items.length > this.#visibleRows(s);
  }
  #barRect(): Rect {
    const m = this.#metrics;
    return rect(0, m.height - m.row - 2 * m.pad, m.width, m.row + 2 * m.pad);
  }
  /** [index, rect] of each item on screen. */
  #itemRects(s: Screen): [number, Rect][] {
    const m = this.#metrics, out: [number, Rect][] = [];
    if (s.transparent) {
      const n = s.items.length;
      if (!n) return out;
      const bar = this.#barRect(), w = Math.floor((m.width - m.pad * (n + 1)) / n);
      for (let i = 0; i < n; i++) out.push([i, rect(m.pad + i * (w + m.pad), bar.y + m.pad, w, m.row)]);
      return out;
    }
    const top = this.#bodyTop(s), n = this.#visibleRows(s);
    const w = m.width - (this.#overflows(s) ? this.#scrollbarWidth() : 0); // rows and the scroll bar do not overlap
    for (let k = 0; k < n && s.scroll + k < s.items.length; k++) out.push([s.scroll + k, rect(0, top + k * m.row, w, m.row)]);
    return out;
  }
  #scrollbarWidth(): number {
    return Math.max(3, Math.round(this.#metrics.pad / 2));
  }
  #pageButtons(): { up: Rect; down: Rect } {
    const m = this.#metrics;
    return { up: rect(m.width - 2 * m.header, m.status, m.header, m.header), down: rect(m.width - m.header, m.status, m.header, m.header) };
  }
  #dialogRects(): { box: Rect; title: Rect; lines: string[]; lineY: number } {
    const m = this.#metrics, o = this.#dialog!.opts;
    const w = Math.min(m.width - 4 * m.pad, Math.max(m.row * 7, Math.round(m.width * 0.6)));
    const textW = w - 4 * m.pad;
    const maxH = m.height - m.status - 2 * m.pad;
    const fixed = m.pad * 5 + m.fontHeight + m.row;
    const maxLines = Math.max(0, Math.floor((maxH - fixed) / m.fontHeight));
    const lines = this.#wrap(o.message ?? "", m.font, textW, maxLines);
    const h = fixed + lines.length * m.fontHeight;
    const x = Math.floor((m.width - w) / 2), y = m.status + Math.max(m.pad, Math.floor((m.height - m.status - h) / 2));
    return { box: rect(x, y, w, h), title: rect(x + 2 * m.pad, y + m.pad, textW, m.fontHeight), lines, lineY: y + 2 * m.pad + m.fontHeight };
  }
  #dialogButtons(): { cancel: Rect; confirm: Rect } {
    const m = this.#metrics, { box } = this.#dialogRects();
    const bw = Math.floor((box.width - 3 * m.pad) / 2), y = box.y + box.height - m.pad - m.row;
    if (this.#dialog!.single) {
      const one = rect(box.x + Math.floor((box.width - bw) / 2), y, bw, m.row);
      return { cancel: one, confirm: one };
    }
    return { cancel: rect(box.x + m.pad, y, bw, m.row), confirm: rect(box.x + box.width - m.pad - bw, y, bw, m.row) };
  }
  #toastRect(text: string): Rect {
    const m = this.#metrics;
    const w = Math.min(m.width - 4 * m.pad, this.painter.textWidth(text, m.small) + 4 * m.pad);
    const h = m.smallHeight + 2 * m.pad;
    const bottom = this.top.transparent && this.top.items.length ? this.#barRect().y : m.height;
    return rect(Math.floor((m.width - w) / 2), bottom - h - 2 * m.pad, w, h);
  }
  #wrap(text: string, size: number, width: number, maxLines: number): string[] {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(/\s+/).filter(Boolean)) {
      const next = line ? `${line} ${word}` : word;
      if (this.painter.textWidth(next, size) <= width || !line) line = next;
      else {
        lines.push(line);
        line = word;
      }
    }
    if (line) lines.push(line);
    if (lines.length > maxLines) {
      const cut = lines.slice(0, maxLines);
      if (maxLines > 0) cut[maxLines - 1] = this.painter.fit(`${cut[maxLines - 1]} ${lines[maxLines]}...`, size, width);
      return cut;
    }
    return lines.map((l) => this.painter.fit(l, size, width));
  }

  // ---------------------------------------------------------------- focus, scroll, targets

  #ensureVisible(s: Screen): boolean {
    if (s.transparent) return false;
    const n = this.#visibleRows(s), before = s.scroll;
    const maxScroll = Math.max(0, s.items.length - n);
    if (s.focus >= 0) {
      if (s.focus < s.scroll) s.scroll = s.focus;
      else if (s.focus >= s.scroll + n) s.scroll = s.focus - n + 1;
    }
    s.scroll = Math.max(0, Math.min(maxScroll, s.scroll));
    return s.scroll !== before;
  }
  #moveFocus(s: Screen, dir: number): void {
    const n = s.items.length;
    if (!n) return;
    let i = s.focus < 0 ? (dir > 0 ? -1 : 0) : s.focus;
    for (let k = 0; k < n; k++) {
      i = (i + dir + n) % n;
      if (s.items[i].focusable) break;
    }
    if (s.items[i].focusable) this.setFocus(s, i);
  }
  #scrollTo(s: Screen, first: number): void {
    const n = this.#visibleRows(s);
    const v = Math.max(0, Math.min(Math.max(0, s.items.length - n), first));
    if (v === s.scroll) return;
    s.scroll = v;
    if (this.#editing) this.#editing = null;
    // focus stays visible: onto the nearest focusable row on screen
    if (s.focus < v || s.focus >= v + n) {
      const order = s.focus < v ? range(v, Math.min(s.items.length, v + n)) : range(Math.min(s.items.length, v + n) - 1, v - 1);
      const i = order.find((k) => s.items[k].focusable);
      if (i !== undefined) s.focus = i;
    }
    this.#invalidate(this.#bodyRect());
  }
  #targetAt(x: number, y: number): Target | null {
    for (const t of this.targets()) if (hit(t.rect, x, y)) return t;
    return null;
  }
  #activate(name: string, x: number, y: number): void {
    const s = this.top;
    if (name === "dialog:cancel" || name === "dialog:confirm") return this.#closeDialog(name === "dialog:confirm");
    if (name === "back") {
      this.pop();
      return;
    }
    if (name === "page:up" || name === "page:down") {
      const n = this.#visibleRows(s);
      this.#scrollTo(s, s.scroll + (name === "page:up" ? -n : n));
      return;
    }
    const m = /^(?:[-+]:.*|item:(\d+))$/.exec(name);
    if (!m) return;
    const entry = this.#itemRects(s).find(([, r]) => hit(r, x, y));
    if (!entry) return;
    const [i, r] = entry;
    this.setFocus(s, i);
    if (this.#editing && this.#editing !== s.items[i]) this.setEditing(null);
    s.items[i].tap(this, r, x, y);
  }
  #dialogFocus(i: number): void {
    const dlg = this.#dialog!;
    if (i === dlg.focus) return;
    dlg.focus = i;
    const b = this.#dialogButtons();
    this.#invalidate(union(b.cancel, b.confirm));
  }
  #closeDialog(confirmed: boolean): void {
    const o = this.#dialog!.opts;
    this.#dialog = null;
    this.#full = true;
    (confirmed ? o.onConfirm : o.onCancel)?.(this);
  }

  // ---------------------------------------------------------------- damage and painting

  #invalidate(r: Rect): void {
    const c = clipTo(r, this.#metrics.width, this.#metrics.height);
    if (!isEmpty(c)) this.#dirty = union(this.#dirty, c);
  }
  #invalidateItem(s: Screen, i: number): void {
    if (s.transparent) return this.#invalidate(this.#barRect());
    for (const [k, r] of this.#itemRects(s)) if (k === i) this.#invalidate(r);
  }
  #invalidateWidget(s: Screen, w: Widget): void {
    this.#invalidateItem(s, s.items.indexOf(w));
  }

  /** What the screen is made of, bottom to top; every layer paints its whole rect opaquely
   * (a partial redraw repaints whole layers: nothing blends twice) except the scrim. */
  #layers(): Layer[] {
    const m = this.#metrics, t = this.theme, d = this.display, p = this.painter, s = this.top;
    const out: Layer[] = [];
    if (s.transparent) {
      if (s.items.length) {
        const bar = this.#barRect();
        out.push({ name: "bar", rect: bar, draw: () => {
          d.fillRect(bar.x, bar.y, bar.width, bar.height, t.statusBackground);
          for (const [i, r] of this.#itemRects(s)) this.#drawButton(s.items[i], r, i === s.focus);
        } });
      }
    } else {
      const rows = this.#itemRects(s);
      for (const [i, r] of rows) {
        out.push({ name: `item:${i}`, rect: r, draw: () => {
          d.fillRect(r.x, r.y, r.width, r.height, t.background);
          const w = s.items[i];
          const state: RowState = { focused: i === s.focus, editing: this.#editing === w };
          if (state.focused) {
            const inner = p.rowInner(r), g = Math.max(2, Math.round(m.pad / 2));
            d.fillRect(inner.x, r.y + g, inner.width, r.height - 2 * g, t.focusFill, m.radius);
            d.strokeRect(inner.x, r.y + g, inner.width, r.height - 2 * g, t.focus, { radius: m.radius, thickness: m.ring });
          }
          w.draw(p, r, state);
        } });
      }
      if (this.#overflows(s)) {
        const top = this.#bodyTop(s), n = this.#visibleRows(s), h = n * m.row;
        const bar = rect(m.width - this.#scrollbarWidth(), top, this.#scrollbarWidth(), h);
        out.push({ name: "scrollbar", rect: bar, draw: () => {
          d.fillRect(bar.x, bar.y, bar.width, bar.height, t.off);
          const th = Math.max(m.pad, Math.round((h * n) / s.items.length));
          const ty = top + Math.round(((h - th) * s.scroll) / Math.max(1, s.items.length - n));
          d.fillRect(bar.x, ty, bar.width, th, t.dim);
        } });
      }
      if (s.header) {
        const hr = this.#headerRect();
        out.push({ name: "header", rect: hr, draw: () => this.#drawHeader(s, hr) });
      }
    }
    if (this.#statusBar) {
      const sr = this.#statusRect();
      out.push({ name: "status", rect: sr, draw: () => this.#drawStatus(sr) });
    }
    if (this.#dialog) {
      out.push({ name: "scrim", rect: rect(0, m.status, m.width, m.height - m.status), translucent: true,
        draw: () => d.fillRect(0, m.status, m.width, m.height - m.status, t.scrim) });
      const { box } = this.#dialogRects();
      out.push({ name: "dialog", rect: box, draw: () => this.#drawDialog() });
    }
    if (this.#toast) {
      const text = this.#toast.text, r = this.#toastRect(text);
      out.push({ name: "toast", rect: r, draw: () => {
        d.fillRect(r.x, r.y, r.width, r.height, t.toastBackground);
        p.textIn(text, rect(r.x + 2 * m.pad, r.y, r.width - 4 * m.pad, r.height), m.small, t.toastText, "center");
      } });
    }
    return out;
  }

  #redrawAll(): void {
    this.stats.fullRedraws++;
    const s = this.top;
    this.display.clear(s.transparent ? 0 : this.theme.background);
    for (const l of this.#layers()) l.draw();
  }

  /** Repaint `dirty`: from the topmost layer that covers it all (or the background) upward,
   * every layer that meets the growing damaged region. */
  #redraw(dirty: Rect): void {
    const layers = this.#layers();
    let start = -1;
    for (let i = layers.length - 1; i >= 0; i--)
      if (!layers[i].translucent && contains(layers[i].rect, dirty)) {
        start = i;
        break;
      }
    if (start < 0) {
      if (this.top.transparent) return this.#redrawAll(); // only clear() makes pixels transparent again
      this.display.fillRect(dirty.x, dirty.y, dirty.width, dirty.height, this.theme.background);
      start = 0;
    }
    let d = dirty;
    for (let i = start; i < layers.length; i++) {
      const l = layers[i];
      if (!intersects(l.rect, d)) continue;
      if (l.translucent) return this.#redrawAll();
      l.draw();
      d = union(d, l.rect);
    }
  }

  #drawHeader(s: Screen, hr: Rect): void {
    const m = this.#metrics, t = this.theme, d = this.display, p = this.painter;
    d.fillRect(hr.x, hr.y, hr.width, hr.height, t.headerBackground);
    let x0 = m.pad * 2;
    if (this.depth > 1) {
      p.chevron(hr.x + m.header / 2, hr.y + m.header / 2, m.fontHeight / 3, "left", t.text);
      x0 = m.header;
    }
    let x1 = hr.width - m.pad * 2;
    if (this.#overflows(s)) {
      const { up, down } = this.#pageButtons();
      p.chevron(up.x + up.width / 2, up.y + up.height / 2, m.fontHeight / 3, "up", t.text);
      p.chevron(down.x + down.width / 2, down.y + down.height / 2, m.fontHeight / 3, "down", t.text);
      x1 = up.x - m.pad;
    }
    p.textIn(s.title, rect(x0, hr.y, x1 - x0, hr.height), m.font, t.text);
  }

  #drawStatus(sr: Rect): void {
    const m = this.#metrics, t = this.theme, p = this.painter;
    this.display.fillRect(sr.x, sr.y, sr.width, sr.height, t.statusBackground);
    const gap = 2 * m.pad;
    let right = sr.width - m.pad;
    const fields = [...this.status.fields.values()];
    for (const f of fields.filter((f) => f.align === "right")) {
      const w = Math.min(p.textWidth(f.text, m.small), Math.floor(sr.width / 2));
      if (right - w < m.pad) break;
      p.textIn(f.text, rect(right - w, sr.y, w, sr.height), m.small, f.color ?? t.statusText, "right");
      right -= w + gap;
    }
    let left = m.pad;
    for (const f of fields.filter((f) => f.align !== "right")) {
      const avail = right + gap - left - gap;
      if (avail <= 0) break;
      const w = Math.min(p.textWidth(f.text, m.small), avail);
      p.textIn(f.text, rect(left, sr.y, w, sr.height), m.small, f.color ?? t.statusText);
      left += w + gap;
    }
  }

  #drawButton(w: Widget, r: Rect, focused: boolean): void {
    const m = this.#metrics, t = this.theme, d = this.display;
    d.fillRect(r.x, r.y, r.width, r.height, focused ? t.focusFill : t.surface, m.radius);
    if (focused) d.strokeRect(r.x, r.y, r.width, r.height, t.focus, { radius: m.radius, thickness: m.ring });
    this.painter.textIn(w.label, rect(r.x + m.pad, r.y, r.width - 2 * m.pad, r.height), m.font, t.text, "center");
  }

  #drawDialog(): void {
    const m = this.#metrics, t = this.theme, d = this.display, p = this.painter, dlg = this.#dialog!;
    const { box, title, lines, lineY } = this.#dialogRects();
    d.fillRect(box.x, box.y, box.width, box.height, t.surface);
    d.strokeRect(box.x, box.y, box.width, box.height, t.dim, { thickness: 1 });
    p.textIn(dlg.opts.title, title, m.font, t.text);
    lines.forEach((l, i) => p.textIn(l, rect(title.x, lineY + i * m.fontHeight, title.width, m.fontHeight), m.font, t.dim));
    const { cancel, confirm } = this.#dialogButtons();
    const buttons = [[cancel, dlg.opts.cancel ?? "Cancel", 0], [confirm, dlg.opts.confirm ?? "OK", 1]] as const;
    for (const [r, label, i] of dlg.single ? buttons.slice(1) : buttons) {
      const focused = dlg.focus === i;
      const fill = i === 1 && dlg.opts.danger ? t.danger : focused ? t.focusFill : t.background;
      d.fillRect(r.x, r.y, r.width, r.height, t.surface);
      d.fillRect(r.x, r.y, r.width, r.height, fill, m.radius);
      if (focused) d.strokeRect(r.x, r.y, r.width, r.height, t.focus, { radius: m.radius, thickness: m.ring });
      p.textIn(label, rect(r.x + m.pad, r.y, r.width - 2 * m.pad, r.height), m.font, t.text, "center");
    }
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  if (from <= to) for (let i = from; i < to; i++) out.push(i);
  else for (let i = from; i > to; i--) out.push(i);
  return out;
}
