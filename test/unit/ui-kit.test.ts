// The UI kit (app/ui, `qcam/ui`) against the qcam:display and qcam:input stubs on the
// fake clock, the way LVGL tests itself: keys and touches go in through the input stub
// (delivered at the loop's next turn), time is moved on by hand, and what was drawn is
// read back from the display stub's display list (displayList(): the operations on the
// panel, the region and operations of every flushed frame).
import assert from "node:assert/strict";
import { Display } from "qcam:display";
import { Input, type Key } from "qcam:input";
import { displayList, world, type DrawOp, type TextOp } from "qcam:testing";
import { Choice, Item, MIN_TARGET, Screen, Stepper, Text, Toggle, Ui, type Widget } from "qcam/ui";
import type { Rect } from "qcam:display";

type KeyFn = (key: Key, action: "press" | "release" | "longpress") => void;
type TouchFn = (action: "down" | "move" | "up", x: number, y: number) => void;

const within = (o: Rect, i: Rect) => i.x >= o.x && i.y >= o.y && i.x + i.width <= o.x + o.width && i.y + i.height <= o.y + o.height;
const overlap = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const center = (r: Rect) => [r.x + Math.floor(r.width / 2), r.y + Math.floor(r.height / 2)] as const;
const texts = () => displayList().texts().map((t) => t.text);
const boxOf = (o: DrawOp): Rect => (o.op === "text" || o.op === "fill" || o.op === "stroke" ? o.box : o.rect);

/** The demo's screens: every widget, a long list, a transparent home with a button bar. */
function screens() {
  const log: string[] = [];
  const toggle = new Toggle("Audio", true, (v) => log.push(`audio ${v}`));
  const choice = new Choice("Resolution", ["1080p", "720p", "480p"], 0, (i, v) => log.push(`resolution ${v}`));
  const stepper = new Stepper("Bitrate", { min: 1, max: 20, step: 1, value: 8, format: (v) => `${v} Mb/s`, onChange: (v) => log.push(`bitrate ${v}`) });
  const del = new Item("Delete all recordings", {
    onSelect: (ui) => ui.confirm({ title: "Delete all?", message: "Every recording on the card is deleted. This cannot be undone.", confirm: "Delete", danger: true,
      onConfirm: (u) => { log.push("deleted"); u.toast("Deleted 3 recordings"); }, onCancel: () => log.push("kept") }),
  });
  const settings = new Screen({ title: "Settings", items: [toggle, choice, stepper, new Text("Free space", "12.3 GB"), del] });
  const long = new Screen({ title: "Recordings", items: Array.from({ length: 23 }, (_, i) => new Item(`rec_2026010${i % 10}_12${String(i).padStart(2, "0")}00.mp4`, { detail: `${i + 1} MB` })) });
  const menu = new Screen({ title: "Menu", items: [new Item("Settings", { opens: settings }), new Item("Recordings", { opens: long }), new Item("About", { detail: "0.1.0" })] });
  const home = new Screen({ transparent: true, items: [new Item("Record", { onSelect: () => log.push("record") }), new Item("Menu", { opens: menu })] });
  return { log, toggle, choice, stepper, del, settings, long, menu, home };
}

function rig(board = "maixcam", root?: (s: ReturnType<typeof screens>) => Screen) {
  world.reset({ board });
  const s = screens();
  const disp = new Display();
  const ui = new Ui(disp, root ? root(s) : s.home);
  const input = new Input({ onKey: (e) => ui.handleKey(e), onTouch: (e) => ui.handleTouch(e) });
  ui.status.set("rec", "REC 00:00", { color: 0xffff4040 });
  ui.status.set("free", "42 min left", { align: "right" });
  ui.update();
  const injectKey = world.exposed<KeyFn>("input.key")!;
  const injectTouch = world.exposed<TouchFn>("input.touch")!;
  /** Events reach the app at the loop's next turn; the app's loop then calls update(). */
  const turn = () => {
    world.turn();
    return ui.update();
  };
  const key = (k: Key, action: "press" | "longpress" = "press") => {
    injectKey(k, action);
    const r = turn();
    if (action === "press") {
      injectKey(k, "release");
      turn();
    }
    checkAll(ui);
    return r;
  };
  const touch = (action: "down" | "move" | "up", x: number, y: number) => {
    injectTouch(action, x, y);
    return turn();
  };
  const tap = (r: Rect) => {
    const [x, y] = center(r);
    touch("down", x, y);
    const f = touch("up", x, y);
    checkAll(ui);
    return f;
  };
  const target = (name: string) => {
    const t = ui.targets().find((t) => t.name === name);
    assert.ok(t, `no target ${name} in ${ui.targets().map((t) => t.name).join(", ")}`);
    return t.rect;
  };
  const row = (w: Widget) => {
    const i = ui.top.items.indexOf(w);
    return target(`item:${i}`);
  };
  return { ...s, disp, ui, input, key, touch, tap, target, row, turn };
}

/** The focused item's ring is on the panel, not hidden, inside the screen and under the header. */
function assertFocusVisible(ui: Ui): void {
  const f = ui.focusRect();
  const focusable = ui.dialogOpen || ui.top.items.some((w) => w.focusable);
  if (!focusable) return assert.equal(f, null);
  assert.ok(f, "something is focused");
  const m = ui.metrics;
  assert.ok(within({ x: 0, y: 0, width: m.width, height: m.height }, f), `focus ${JSON.stringify(f)} on the screen`);
  if (!ui.top.transparent && !ui.dialogOpen) assert.ok(f.y >= m.status + (ui.top.header ? m.header : 0), "focus below the header");
  const ring = displayList().visible().filter((o) => o.op === "stroke" && o.color === ui.theme.focus && within(f, o.box));
  assert.equal(ring.length, 1, `one focus ring inside ${JSON.stringify(f)}`);
  const r = ring[0] as Extract<DrawOp, { op: "stroke" }>;
  assert.ok(r.box.width >= f.width * 0.8 && r.box.height >= f.height * 0.6, "the ring goes round the focused item");
  assert.ok(r.thickness >= 2);
}

/** Every text inside one of the regions the kit draws in; texts of a region do not overlap. */
function assertTextsFit(ui: Ui): void {
  const m = ui.metrics, regions = ui.regions();
  const runs = displayList().texts();
  assert.ok(runs.length > 0);
  const home = new Map<TextOp, string>();
  for (const t of runs) {
    assert.equal(t.box.width, ui.display.measureText(t.text, t.size).width);
    assert.ok(within({ x: 0, y: 0, width: m.width, height: m.height }, t.box), `"${t.text}" on the screen`);
    // the topmost region it lies in (a dialog over rows)
    const inside = regions.filter((r) => within(r.rect, t.box));
    assert.ok(inside.length > 0, `"${t.text}" at ${JSON.stringify(t.box)} inside a region of ${regions.map((r) => `${r.name} ${JSON.stringify(r.rect)}`).join("; ")}`);
    home.set(t, inside[inside.length - 1].name);
  }
  for (const a of runs)
    for (const b of runs)
      if (a !== b && home.get(a) === home.get(b)) assert.ok(!overlap(a.box, b.box), `"${a.text}" and "${b.text}" overlap in ${home.get(a)}`);
}

/** Every touch target at least 48x48 and on the screen; only a row's own − and + lie inside it. */
function assertTargets(ui: Ui): void {
  const m = ui.metrics, ts = ui.targets();
  for (const t of ts) {
    assert.ok(t.rect.width >= MIN_TARGET && t.rect.height >= MIN_TARGET, `${t.name} is ${t.rect.width}x${t.rect.height}`);
    assert.ok(within({ x: 0, y: 0, width: m.width, height: m.height }, t.rect), `${t.name} on the screen`);
  }
  for (const a of ts)
    for (const b of ts)
      if (a !== b && overlap(a.rect, b.rect)) assert.ok(/^[-+]:/.test(a.name) ? b.name.startsWith("item:") : /^[-+]:/.test(b.name), `${a.name} and ${b.name} overlap`);
}

function checkAll(ui: Ui): void {
  assertFocusVisible(ui);
  assertTextsFit(ui);
  assertTargets(ui);
}

describe("UI kit (app/ui) on the display and input stubs", function () {
  afterEach(() => world.restore());

  it("draws only on update(), and nothing when nothing changed", function () {
    const r = rig("maixcam", (s) => s.menu);
    const list = displayList();
    const frames = list.frameCount;
    assert.equal(r.ui.update(), null);
    assert.equal(r.ui.update(), null);
    assert.equal(list.frameCount, frames, "no frame");
    assert.equal(list.pending.length, 0, "nothing drawn");
  });

  it("keys alone: every widget, the back stack, a confirm dialog", function () {
    const r = rig();
    const { ui, key, log } = r;
    assert.equal(ui.top, r.home);
    key("next"); // Record → Menu
    assert.equal(ui.top.focused?.label, "Menu");
    key("ok");
    assert.equal(ui.top, r.menu);
    assert.ok(texts().includes("Menu") && texts().includes("Settings"));
    key("ok"); // Settings
    assert.equal(ui.top, r.settings);
    assert.equal(ui.depth, 3);
    // toggle: ok flips, left off, right on; only its row is flushed
    const tr = r.row(r.toggle);
    let f = key("ok");
    assert.equal(r.toggle.value, false);
    assert.ok(f && within(tr, f), `flushed ${JSON.stringify(f)} within the row ${JSON.stringify(tr)}`);
    assert.ok(texts().includes("Off"));
    key("right");
    assert.ok(texts().includes("On") && r.toggle.value);
    key("left");
    assert.equal(r.toggle.value, false);
    // choice: right steps; ok opens the picker, next + ok picks, and comes back
    key("next");
    assert.equal(ui.top.focused, r.choice);
    key("right");
    assert.equal(r.choice.value, "720p");
    assert.ok(texts().includes("720p"));
    key("ok");
    assert.equal(ui.top.title, "Resolution");
    assert.equal(ui.top.focused?.label, "720p", "the current option is focused");
    key("next");
    key("ok");
    assert.equal(ui.top, r.settings);
    assert.equal(r.choice.value, "480p");
    assert.ok(texts().includes("480p"));
    // stepper: left/right; ok edits with next/prev; option ends editing without leaving
    key("next");
    key("right");
    assert.equal(r.stepper.value, 9);
    key("left");
    key("left");
    assert.equal(r.stepper.value, 7);
    key("ok");
    assert.equal(ui.editing, r.stepper);
    key("prev");
    key("prev");
    assert.equal(r.stepper.value, 9, "prev raises it while editing");
    key("next");
    assert.equal(r.stepper.value, 8);
    key("option");
    assert.equal(ui.editing, null);
    assert.equal(ui.top, r.settings, "option ended editing, no pop");
    assert.ok(texts().includes("8 Mb/s"));
    // the Text row is skipped: next goes to Delete
    key("next");
    assert.equal(ui.top.focused, r.del);
    // confirm: Cancel focused first; option cancels
    key("ok");
    assert.ok(ui.dialogOpen);
    assert.ok(texts().includes("Delete all?") && texts().includes("Cancel") && texts().includes("Delete"));
    key("option");
    assert.ok(!ui.dialogOpen);
    key("ok");
    key("right");
    key("ok");
    assert.ok(!ui.dialogOpen);
    assert.equal(ui.toastText, "Deleted 3 recordings");
    // back stack: option pops; a long option goes home
    key("option");
    assert.equal(ui.top, r.menu);
    key("ok");
    assert.equal(ui.top, r.settings);
    key("option", "longpress");
    assert.equal(ui.top, r.home);
    assert.deepEqual(log, ["audio false", "audio true", "audio false", "resolution 720p", "resolution 480p", "bitrate 9", "bitrate 8", "bitrate 7",
      "bitrate 8", "bitrate 9", "bitrate 8", "kept", "deleted"]);
  });

  it("keys: focus wraps, long lists scroll by whole rows, and the focus stays on screen", function () {
    const r = rig("maixcam", (s) => s.long);
    const { ui, key } = r;
    for (let i = 0; i < 30; i++) key("next");
    assert.equal(ui.top.focus, 30 % 23);
    key("prev");
    key("prev");
    key("prev");
    key("prev");
    key("prev");
    key("prev");
    key("prev");
    key("prev");
    assert.equal(ui.top.focus, 22, "wrapped backwards to the last");
    assert.ok(texts().includes("23 MB"), "the last row is shown");
  });

  it("a long press of ok is left to the app (exit by default); the root ignores option", function () {
    const r = rig("maixcam", (s) => s.menu);
    r.key("option");
    assert.equal(r.ui.top, r.menu);
    assert.equal(world.exitFlag, false);
    r.key("ok", "longpress");
    assert.equal(world.exitFlag, true);
  });

  it("touch alone: rows, toggles, − and +, choices, the back button, dialogs, the home bar", function () {
    const r = rig();
    const { ui, tap, target, log } = r;
    tap(target("item:1")); // Menu in the home bar
    assert.equal(ui.top, r.menu);
    tap(target("item:0"));
    assert.equal(ui.top, r.settings);
    tap(r.row(r.toggle));
    assert.equal(r.toggle.value, false);
    assert.equal(ui.top.focused, r.toggle);
    tap(target("+:Bitrate"));
    tap(target("+:Bitrate"));
    tap(target("-:Bitrate"));
    assert.equal(r.stepper.value, 9);
    assert.equal(ui.top.focused, r.stepper);
    tap(r.row(r.choice));
    assert.equal(ui.top.title, "Resolution");
    tap(target("item:2"));
    assert.equal(r.choice.value, "480p");
    assert.equal(ui.top, r.settings);
    tap(r.row(r.del));
    assert.ok(ui.dialogOpen);
    assert.deepEqual(ui.targets().map((t) => t.name), ["dialog:cancel", "dialog:confirm"], "modal: only its buttons");
    tap(target("dialog:cancel"));
    tap(r.row(r.del));
    tap(target("dialog:confirm"));
    assert.ok(!ui.dialogOpen);
    tap(target("back"));
    assert.equal(ui.top, r.menu);
    tap(target("back"));
    assert.equal(ui.top, r.home);
    tap(target("item:0"));
    assert.deepEqual(log, ["audio false", "bitrate 9", "bitrate 10", "bitrate 9", "resolution 480p", "kept", "deleted", "record"]);
  });

  it("touch: a drag scrolls a long list by whole rows, page buttons page it, the focus follows", function () {
    const r = rig("maixcam", (s) => s.long);
    const { ui, touch, tap, target } = r;
    const m = ui.metrics;
    const [x, y] = center(target("item:3"));
    touch("down", x, y);
    touch("move", x, y - m.row);
    touch("move", x, y - 3 * m.row);
    touch("up", x, y - 3 * m.row);
    assert.equal(ui.top.scroll, 3);
    assert.equal(ui.top.focus, 3, "the focus moved onto the first row that shows");
    checkAll(ui);
    assert.equal(ui.top, r.long, "a drag is not a tap");
    tap(target("page:down"));
    const n = Math.floor((m.height - m.status - m.header) / m.row);
    assert.equal(ui.top.scroll, 3 + n);
    tap(target("page:up"));
    tap(target("page:up"));
    assert.equal(ui.top.scroll, 0);
    for (let i = 0; i < 10; i++) tap(target("page:down"));
    assert.equal(ui.top.scroll, 23 - n, "clamped at the end");
    assert.ok(texts().includes("23 MB"));
    // a tap that slides off its target does nothing
    const before = ui.top.focus;
    const a = target(`item:${ui.top.scroll}`), b = target(`item:${ui.top.scroll + 1}`);
    touch("down", ...center(a));
    touch("up", center(a)[0], b.y + 2);
    assert.equal(ui.top.focus, before);
  });

  it("toasts go away after their time on the app's clock, and only their region is redrawn", function () {
    const r = rig("maixcam", (s) => s.menu);
    const { ui } = r;
    ui.toast("Saved", 2000);
    const shown = ui.update()!;
    assert.ok(texts().includes("Saved"));
    world.advance(1999);
    assert.equal(ui.update(), null, "still up, nothing redrawn");
    assert.equal(ui.nextDeadlineMs(), 1);
    world.advance(1);
    const gone = ui.update()!;
    assert.ok(!texts().includes("Saved"));
    assert.equal(ui.toastText, null);
    assert.ok(within(union(shown, { x: 0, y: gone.y, width: ui.metrics.width, height: gone.height }), gone), "the rows under it, not the screen");
    assert.ok(gone.height < ui.metrics.height / 2, JSON.stringify(gone));
    checkAll(ui);
  });

  it("a transparent home: only the status bar (and its button bar) drawn over the video layer; a toast there clears once", function () {
    const r = rig("maixcam", (s) => new Screen({ transparent: true, onKey: (e) => e.key === "ok" && e.action === "press" && !!s.log.push("rec") }));
    const { ui, disp } = r;
    const list = displayList();
    assert.deepEqual(list.panel[0], { op: "clear", color: 0, rect: { x: 0, y: 0, width: 552, height: 368 } }, "cleared to transparent");
    for (const o of list.visible().slice(1)) assert.ok(within({ x: 0, y: 0, width: 552, height: ui.metrics.status }, o.rect), `${o.op} in the status bar`);
    assert.equal(ui.focusRect(), null);
    // the status bar alone is redrawn when a field changes
    ui.status.set("rec", "REC 00:01");
    assert.deepEqual(ui.update(), { x: 0, y: 0, width: 552, height: ui.metrics.status });
    assert.ok(texts().includes("REC 00:01"));
    // the screen's onKey takes ok
    r.key("ok");
    assert.deepEqual(r.log, ["rec"]);
    ui.toast("Recording");
    ui.update();
    world.advance(2500);
    const f = ui.update()!;
    assert.deepEqual(f, { x: 0, y: 0, width: 552, height: 368 });
    assert.equal(list.lastFrame!.ops[0].op, "clear");
    assert.ok(!texts().includes("Recording"));
    disp.close();
  });

  it("a status field that does not change draws nothing; fields that do not fit are cut", function () {
    const r = rig("maixcam", (s) => s.menu);
    const { ui } = r;
    ui.status.set("rec", "REC 00:00", { color: 0xffff4040 });
    assert.equal(ui.update(), null);
    ui.status.set("res", "1920x1080 H.265 30 fps 8 Mb/s audio on, segment 5 min, loop on, RTSP rtsp://192.168.1.100:8554/live");
    ui.update();
    assertTextsFit(ui);
    assert.ok(texts().some((t) => t.endsWith("...")), texts().join(" | "));
  });

  for (const [board, w, h, font] of [["maixcam", 552, 368, 20], ["maixcam-pro", 640, 480, 24], ["k230-lcd", 800, 480, 24], ["k230-hdmi", 1280, 720, 40]] as const) {
    it(`layout at ${w}x${h} (${board}): targets >= 48 px, texts inside their boxes, focus visible, on every screen`, function () {
      const r = rig(board, (s) => s.menu);
      const { ui, key, tap, target } = r;
      assert.deepEqual([ui.metrics.width, ui.metrics.height, ui.metrics.font], [w, h, font]);
      assert.ok(ui.metrics.row >= 48);
      checkAll(ui);
      key("ok"); // settings
      key("next");
      key("ok"); // the picker
      key("option");
      key("next");
      key("ok"); // editing
      checkAll(ui);
      key("option");
      key("next"); // past the Text row to Delete
      key("ok"); // the dialog
      assert.ok(ui.dialogOpen);
      key("option");
      r.ui.toast("A message that is much too long to fit on one line of the smallest screen we have, by far");
      r.turn();
      checkAll(ui);
      key("option");
      tap(target("item:1")); // recordings
      checkAll(ui);
      key("option", "longpress");
      ui.replace(r.home);
      r.turn();
      checkAll(ui);
    });
  }

  it("rotation: turning the display lays everything out again for the new size", function () {
    const r = rig("maixcam", (s) => s.settings);
    const { ui, disp, key, tap, target } = r;
    key("next");
    disp.setRotation(90);
    const f = ui.update();
    assert.deepEqual(f, { x: 0, y: 0, width: 368, height: 552 });
    assert.deepEqual([ui.metrics.width, ui.metrics.height], [368, 552]);
    checkAll(ui);
    tap(target("+:Bitrate"));
    assert.equal(r.stepper.value, 9);
    disp.setRotation(0);
    ui.update();
    assert.deepEqual([ui.metrics.width, ui.metrics.height], [552, 368]);
    checkAll(ui);
    assert.equal(ui.top.focused, r.stepper, "focus kept");
  });

  it("a focus move repaints the two rows only; a value change its row only", function () {
    const r = rig("k230-hdmi", (s) => s.settings);
    const { ui, key } = r;
    const a = r.row(r.toggle), b = r.row(r.choice);
    const f = key("next")!;
    assert.deepEqual(f, { x: a.x, y: a.y, width: a.width, height: b.y + b.height - a.y });
    const ops = displayList().lastFrame!.ops;
    for (const o of ops) assert.ok(within(f, boxOf(o)) || o.op === "line", `${o.op} inside the two rows`);
    const g = key("right")!;
    assert.deepEqual(g, b);
  });

  for (const board of ["maixcam", "k230-hdmi"])
    it(`partial redraws leave the panel as a full redraw would: 400 random keys, taps, drags, toasts and status changes (${board})`, function () {
      const r = rig(board);
      const { ui } = r;
      let seed = 12345;
      const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      // each operation with whether a translucent fill (the scrim) lies over it
      const shown = () => displayList().visible()
        .map((o, i, all) => ({ ...o, dimmed: all.slice(i + 1).some((u) => u.op === "fill" && u.color >>> 24 < 255 && within(u.rect, o.rect)) }))
        .filter((o) => o.op === "text" || o.op === "stroke" || o.op === "line" || (o.op === "fill" && o.color !== ui.theme.background)) // background fills over the background change nothing
        .map((o) => `${o.op} ${o.op === "text" ? o.text : ""} ${JSON.stringify(o.op === "line" ? [o.x0, o.y0, o.x1, o.y1] : boxOf(o))} ${o.color.toString(16)}${o.dimmed ? " dimmed" : ""}`).sort();
      const keys: Key[] = ["ok", "option", "next", "prev", "left", "right"];
      for (let step = 0; step < 400; step++) {
        const what = rnd(10);
        if (what < 5) r.key(keys[rnd(keys.length)]);
        else if (what < 8) {
          const ts = ui.targets();
          if (ts.length) r.tap(ts[rnd(ts.length)].rect);
        } else if (what === 8) {
          if (rnd(2)) ui.toast(`toast ${step}`, 500 + rnd(3000));
          else ui.status.set(rnd(2) ? "rec" : "free", `${step} s`);
          r.turn();
        } else {
          world.advance(rnd(1500));
          r.turn();
        }
        if (ui.top === r.home && rnd(4) === 0) r.key("option"); // spend time in the menus too
        const partial = shown();
        ui.invalidate();
        ui.update();
        assert.deepEqual(partial, shown(), `step ${step}: the panel after partial redraws differs from a full redraw`);
      }
      assert.ok(ui.stats.flushes > 400);
    });

  it("a toast going away under an open dialog: what it uncovers is dimmed again by the scrim", function () {
    const r = rig("maixcam", (s) => s.settings);
    const { ui } = r;
    ui.toast("Saved", 1000);
    r.turn();
    r.tap(r.row(r.del));
    assert.ok(ui.dialogOpen);
    world.advance(1000);
    r.turn();
    assert.equal(ui.toastText, null);
    const ops = displayList().visible();
    const scrim = ops.findIndex((o) => o.op === "fill" && o.color === ui.theme.scrim);
    assert.ok(scrim >= 0);
    const rows = ops.filter((o, i) => o.op === "text" && i > scrim && !within(ui.regions().find((g) => g.name === "dialog")!.rect, o.box) && o.box.y > ui.metrics.status);
    assert.deepEqual(rows.map((o) => (o as TextOp).text), [], "no text above the scrim outside the dialog");
  });

  it("events from poll(): handle() takes keys and touches alike", function () {
    world.reset();
    const s = screens();
    const disp = new Display();
    const ui = new Ui(disp, s.menu);
    const input = new Input(); // no callbacks: events queue for poll()
    const inject = world.exposed<KeyFn>("input.key")!;
    inject("next", "press");
    inject("next", "release");
    inject("ok", "press");
    world.turn();
    for (const e of input.poll()) ui.handle(e);
    ui.update();
    assert.equal(ui.top, s.long, "next, then ok on Recordings");
    const back = ui.targets().find((t) => t.name === "back")!.rect;
    world.exposed<TouchFn>("input.touch")!("down", back.x + 5, back.y + 5);
    world.exposed<TouchFn>("input.touch")!("up", back.x + 5, back.y + 5);
    world.turn();
    for (const e of input.poll()) ui.handle(e);
    ui.update();
    assert.equal(ui.top, s.menu);
    checkAll(ui);
  });

  it("an alert: one button, closed by ok, option or a tap", function () {
    const r = rig("maixcam", (s) => s.menu);
    const { ui, key, tap, target } = r;
    let closed = 0;
    for (const close of [() => key("ok"), () => key("option"), () => tap(target("dialog:confirm"))]) {
      ui.alert({ title: "Card full", message: "The recording was stopped and kept.", onClose: () => closed++ });
      r.turn();
      checkAll(ui);
      assert.deepEqual(ui.targets().map((t) => t.name), ["dialog:confirm"]);
      assert.ok(texts().includes("Card full") && texts().includes("OK") && !texts().includes("Cancel"));
      key("next"); // nothing else to focus
      assert.ok(ui.dialogOpen);
      close();
      assert.ok(!ui.dialogOpen);
    }
    assert.equal(closed, 3);
    assert.equal(ui.top, r.menu, "option closed the alert, it did not pop");
  });

  it("bad widget options throw at once with the reason", function () {
    assert.throws(() => new Choice("Codec", []), /Choice Codec: no options/);
    assert.throws(() => new Stepper("Bitrate", { min: 5, max: 1 }), /Stepper Bitrate: needs min <= max/);
    const r = rig("maixcam", (s) => s.menu);
    assert.throws(() => r.ui.push(r.menu), /already on the stack/);
  });
});

function union(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}
