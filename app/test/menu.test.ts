// The menu-driven recorder (src/menu.ts) against the qcam:* stubs on the fake
// clock: keys and touches go in through the input stub, time moves on by hand,
// what the screen shows is read from the display stub's display list, what was
// recorded from the in-memory SD card (read back with the Mp4Reader and TsReader stubs).
import assert from "node:assert/strict";
import { Display } from "qcam:display";
import { Input, type Key } from "qcam:input";
import { Mp4Reader } from "qcam:mp4";
import { RtspServer } from "qcam:rtsp";
import { TsReader } from "qcam:ts";
import { displayList, runApp, sdcard, world } from "qcam:testing";
import type { Item, Toggle, Widget } from "qcam/ui";
import type { Frame } from "qcam:video";
import { MenuRecorder } from "../src/menu.ts";
import { parseCommandLine, rtspServerOptions } from "../src/options.ts";
import { DEFAULT_SETTINGS } from "../src/settings.ts";

const APP = new URL("..", import.meta.url);
const SETTINGS = "/sdcard/apps/recorder/data/settings.json";
type KeyFn = (key: Key, action: "press" | "release" | "longpress") => void;
type TouchFn = (action: "down" | "move" | "up", x: number, y: number) => void;

function rig(args: string[] = []) {
  world.install();
  const disp = new Display();
  const rec = new MenuRecorder(disp, parseCommandLine(args));
  const input = new Input({ onKey: (e) => rec.ui.handleKey(e), onTouch: (e) => void rec.ui.handleTouch(e) });
  const ui = rec.ui;
  /** `ms` of the app's loop: 10 ms turns, as main's loop sleeps. */
  const run = (ms: number) => {
    for (let t = 0; t < ms; t += 10) {
      world.advance(10);
      world.turn();
      rec.tick();
    }
  };
  run(10);
  const injectKey = world.exposed<KeyFn>("input.key")!;
  const injectTouch = world.exposed<TouchFn>("input.touch")!;
  const key = (k: Key) => {
    injectKey(k, "press");
    run(20);
    injectKey(k, "release");
    run(20);
  };
  const tapAt = (x: number, y: number) => {
    injectTouch("down", x, y);
    run(20);
    injectTouch("up", x, y);
    run(20);
  };
  const target = (name: string) => {
    const t = ui.targets().find((t) => t.name === name);
    assert.ok(t, `no target ${name} in ${ui.targets().map((t) => t.name).join(", ")}`);
    return t.rect;
  };
  const tap = (name: string) => {
    const r = target(name);
    tapAt(r.x + (r.width >> 1), r.y + (r.height >> 1));
  };
  /** Tap the row (or bar button) labelled `label` on the top screen, scrolling it into view by dragging. */
  const tapItem = (label: string | RegExp) => {
    const i = ui.top.items.findIndex((w) => (typeof label === "string" ? w.label === label : label.test(w.label)));
    assert.ok(i >= 0, `no ${label} in ${ui.top.items.map((w) => w.label).join(", ")}`);
    for (let n = 0; n < 20 && !ui.targets().some((t) => t.name === `item:${i}`); n++) tap("page:down");
    tap(`item:${i}`);
  };
  /** Focus the row labelled `label` with next, then press `k` (ok by default). */
  const keyItem = (label: string | RegExp, k: Key = "ok") => {
    const match = (w: Widget | null) => !!w && (typeof label === "string" ? w.label === label : label.test(w.label));
    for (let n = 0; n < 40 && !match(ui.top.focused); n++) key("next");
    assert.ok(match(ui.top.focused), `${label} not focused: ${ui.top.focused?.label}`);
    key(k);
  };
  const texts = () => displayList().texts().map((t) => t.text);
  const widget = <T extends Widget>(label: string) => rec.menu.items.find((w) => w.label === label) as T;
  const saved = () => JSON.parse(sdcard.readText(SETTINGS)) as Record<string, unknown>;
  const videos = () => Object.keys(sdcard.tree()).filter((p) => p.startsWith("/sdcard/video/rec_"));
  const close = () => {
    rec.close();
    input.close();
    disp.close();
  };
  return { disp, rec, ui, run, key, tap, tapAt, tapItem, keyItem, texts, widget, saved, videos, close, target };
}

/** A 3 s recording on the playback screen (`p`, its player, read with `reader`): it plays at its
 * own rate, pauses, seeks ±10 s to its ends, plays to the end, and leaving lets go of the reader
 * and the decoder. */
function playThrough(t: ReturnType<typeof rig>, p: NonNullable<MenuRecorder["player"]>, reader: "Mp4Reader" | "TsReader"): void {
  t.run(1000);
  assert.ok(p.position >= 0.9 && p.position <= 1.1, `${p.position}`);
  assert.ok(t.texts().some((s) => /^PLAY 0:01 \/ 0:03$/.test(s)), t.texts().join(" | "));
  t.key("ok"); // pause
  const at = p.position;
  t.run(500);
  assert.equal(p.position, at, "paused");
  t.key("right"); // +10 s: to the end
  assert.ok(p.position >= 2.8, `${p.position}`);
  t.key("left"); // -10 s: to the start
  assert.equal(p.position, 0);
  t.key("ok"); // play on
  t.run(3500);
  assert.ok(p.ended);
  assert.ok(p.shown >= 85, `${p.shown} pictures shown`);
  t.key("option");
  assert.equal(t.rec.player, null);
  assert.equal(world.openHandles(reader).length, 0);
  assert.equal(world.openHandles("Decoder").length, 0);
}

/** A fresh world with the recorder's app.json, as `qcam test app` gives it. */
function fresh(opts: { sdcardSizeMb?: number; board?: string } = {}) {
  world.reset({ ...opts, manifest: { id: "recorder", name: "qcam recorder", version: "0.1.0" } });
}

function probe(path: string) {
  const r = new Mp4Reader(path);
  const v = r.tracks.find((t) => t.kind === "video")!;
  const out = { duration: r.duration, codec: v.codec, width: v.width, height: v.height, samples: v.samples };
  r.close();
  return out;
}

describe("the menu-driven recorder", function () {
  beforeEach(() => fresh());
  afterEach(() => world.restore());

  it("home: the live preview under a status bar (READY, resolution and codec, minutes left) and a Record / Menu bar", function () {
    const t = rig();
    assert.equal(world.openHandles("Camera").length, 1, "the camera runs for the preview");
    const shown = t.texts();
    for (const s of ["READY", "720p 30 H.265", "Record", "Menu"]) assert.ok(shown.includes(s), `${s} in ${shown.join(" | ")}`);
    assert.ok(shown.some((s) => /^\d+ min left$/.test(s)), shown.join(" | "));
    assert.equal(t.disp.stats().flushes > 0, true);
    t.close();
    assert.equal(world.openHandles("Camera").length, 0);
  });

  for (const board of ["maixcam", "maixcam-pro", "k230-lcd", "k230-hdmi"]) {
    it(`${board}: home and menu laid out from the panel's size, every touch target at least 48 px and on the screen`, function () {
      fresh({ board });
      const t = rig();
      const check = () => {
        for (const x of t.ui.targets()) {
          assert.ok(x.rect.width >= 48 && x.rect.height >= 48, `${x.name}: ${x.rect.width}x${x.rect.height}`);
          assert.ok(x.rect.x >= 0 && x.rect.y >= 0 && x.rect.x + x.rect.width <= t.disp.width && x.rect.y + x.rect.height <= t.disp.height, x.name);
        }
      };
      check();
      t.key("option");
      check();
      assert.ok(t.texts().includes("Resolution"));
      t.close();
    });
  }

  it("keys only: ok records, the status bar counts, ok stops; the file holds the recording", function () {
    const t = rig();
    t.key("ok");
    assert.ok(t.rec.session, "recording");
    t.run(2000);
    assert.ok(t.texts().includes("\u25cf REC 0:02"), t.texts().join(" | "));
    assert.ok(t.texts().includes("Stop"));
    t.key("ok");
    assert.equal(t.rec.session, null);
    assert.ok(t.texts().includes("READY"));
    assert.ok(t.texts().some((s) => /^Saved 1 file, 0:02$/.test(s)), t.texts().join(" | "));
    const files = t.videos();
    assert.equal(files.length, 1);
    const p = probe(files[0]);
    assert.equal(p.codec, "h265");
    assert.deepEqual([p.width, p.height], [1280, 720]);
    assert.ok(p.duration >= 1.9 && p.duration <= 2.1, `${p.duration} s`);
    t.close();
  });

  it("touch only: tap Record, tap Stop; tap Menu opens the settings, the back chevron comes home", function () {
    const t = rig();
    t.tapItem("Record");
    assert.ok(t.rec.session);
    t.run(1000);
    t.tapItem("Stop");
    assert.equal(t.rec.session, null);
    assert.equal(t.videos().length, 1);
    t.tapItem("Menu");
    assert.equal(t.ui.top, t.rec.menu);
    t.tap("back");
    assert.equal(t.ui.top, t.rec.home);
    t.close();
  });

  it("every setting in the menu, by keys: each is saved on the card at once and shows in the status bar", function () {
    const t = rig();
    t.key("option");
    assert.equal(t.ui.top, t.rec.menu);
    t.keyItem("Resolution", "right"); // 720p -> 480p
    assert.equal(t.saved().resolution, "480p");
    assert.ok(t.texts().includes("480p"));
    t.keyItem("Frame rate", "left"); // 30 -> 25
    assert.equal(t.saved().fps, 25);
    t.keyItem("Codec", "left"); // H.265 -> H.264
    assert.equal(t.saved().codec, "h264");
    t.keyItem("Bitrate", "right");
    assert.equal(t.saved().bitrate, 4_000_000);
    t.keyItem("Audio");
    assert.equal(t.saved().audio, true);
    t.keyItem("Segment length", "left"); // 1 min -> 30 s
    assert.equal(t.saved().segmentSeconds, 30);
    t.keyItem("Loop recording");
    assert.equal(t.saved().loop, false);
    t.keyItem("Time stamp");
    assert.equal(t.saved().timestamp, true);
    t.keyItem("Container", "right"); // MP4 -> TS turns audio off
    assert.deepEqual([t.saved().container, t.saved().audio], ["ts", false]);
    assert.equal(t.widget<Toggle>("Audio").value, false);
    t.keyItem("Container", "left");
    t.keyItem("RTSP live view");
    assert.equal(t.saved().rtsp, true);
    assert.ok(t.rec.menu.items.some((w) => w.label === "RTSP address"), "the address shows while RTSP is on");
    assert.match((t.rec.menu.items.find((w) => w.label === "RTSP address") as Item).detail, /^rtsp:\/\/.*:8554\/live$/);
    // Recordings, Storage, About open their screens; option comes back
    for (const [label, title] of [["Recordings", /^Recordings \(0\)$/], ["Storage", /^Storage$/], ["About", /^About$/]] as const) {
      t.keyItem(label);
      assert.match(t.ui.top.title, title);
      t.key("option");
      assert.equal(t.ui.top, t.rec.menu);
    }
    t.key("option");
    assert.equal(t.ui.top, t.rec.home);
    assert.ok(t.texts().includes("480p 25 H.264"), t.texts().join(" | "));
    // the next recording has those settings
    t.key("ok");
    t.run(1500);
    assert.ok(t.texts().some((s) => /^\d+ live$/.test(s)), "live viewers while RTSP is on");
    t.key("ok");
    const p = probe(t.videos()[0]);
    assert.deepEqual([p.codec, p.width, p.height], ["h264", 854, 480]);
    t.close();
  });

  it("a setting changed while recording is saved and applies to the next recording; the running one keeps its own", function () {
    const t = rig();
    t.key("ok");
    t.run(500);
    t.key("option");
    t.keyItem("Resolution", "right"); // 720p -> 480p, while recording
    assert.equal(t.saved().resolution, "480p");
    assert.ok(t.texts().includes("Saved: applies to the next recording"), t.texts().join(" | "));
    t.key("option");
    t.run(1000);
    t.key("ok"); // stop: the camera is reopened at 480p for the preview
    t.run(1000);
    t.key("ok");
    t.run(1000);
    t.key("ok");
    const sizes = t.videos().sort().map((f) => `${probe(f).width}x${probe(f).height}`);
    assert.deepEqual(sizes, ["1280x720", "854x480"]);
    assert.equal(world.openHandles("Camera").length, 1);
    t.close();
  });

  it("RTSP on: the live view runs between recordings too (a link of its own), one server throughout; off: nothing left", function () {
    const t = rig();
    t.key("option");
    t.keyItem("RTSP live view");
    assert.equal(world.openHandles("RtspServer").length, 1);
    assert.equal(world.openHandles("Pipe").length, 1, "the live view's link, not recording");
    assert.equal(t.videos().length, 0);
    t.key("option");
    assert.ok(t.texts().includes("0 live"), t.texts().join(" | "));
    t.key("ok");
    t.run(1000);
    assert.equal(world.openHandles("Pipe").length, 1, "the recording's link feeds the live view now");
    assert.equal(world.openHandles("RtspServer").length, 1);
    t.key("ok");
    assert.equal(world.openHandles("Pipe").length, 1, "back to the live view's own");
    assert.equal(t.videos().length, 1);
    t.key("option");
    t.keyItem("RTSP live view");
    assert.equal(world.openHandles("RtspServer").length, 0);
    assert.equal(world.openHandles("Pipe").length, 0);
    assert.equal(world.openHandles("Encoder").length, 0);
    t.close();
  });

  it("a recording that cannot start (the RTSP port is taken): a message, nothing left open, the preview goes on", function () {
    world.install();
    const other = new RtspServer({ port: 8554 });
    const t = rig(["--menu", "--rtsp"]);
    t.key("ok");
    assert.equal(t.rec.session, null);
    assert.match(world.stdout, /problem: EADDRINUSE/);
    assert.ok(t.texts().includes("ERROR"), t.texts().join(" | "));
    assert.equal(world.openHandles("Encoder").length, 0);
    assert.equal(world.openHandles("Pipe").length, 0);
    assert.equal(world.openHandles("Mp4Writer").length, 0);
    assert.equal(world.openHandles("Camera").length, 1, "the preview's");
    other.close();
    t.key("ok"); // the alert's OK
    t.key("ok"); // the port is free now: it records
    assert.ok(t.rec.session);
    t.key("ok");
    assert.equal(t.videos().length, 1);
    t.close();
  });

  it("a card that refuses its folders: defaults, the reason on the screen, no crash; recording says it cannot", function () {
    world.install();
    world.fault("app.path", { code: "EACCES", times: Infinity });
    const t = rig();
    assert.ok(t.ui.dialogOpen);
    assert.ok(t.texts().includes("The SD card cannot be used"), t.texts().join(" | "));
    assert.ok(t.texts().includes("CARD ERROR"));
    t.key("ok"); // OK
    t.key("option");
    t.keyItem("Codec", "left");
    assert.ok(t.texts().includes("Not saved: ECARD"), t.texts().join(" | "));
    t.key("option");
    t.key("ok"); // record: the folder is not there
    assert.equal(t.rec.session, null);
    assert.ok(t.ui.dialogOpen);
    t.close();
  });

  it("About names the app, runtime and engine versions; Storage shows free and total", function () {
    const t = rig();
    t.key("option");
    t.keyItem("About");
    const about = t.texts();
    assert.ok(about.includes("qcam recorder 0.1.0"), about.join(" | "));
    assert.ok(about.some((s) => /^qcam \(stub\) \(sim\)$/.test(s)), "Node tests: no runtime (recorder-page.test.ts reads the real one)");
    assert.ok(about.some((s) => /^quickjs-ng /.test(s)));
    t.key("option");
    t.keyItem("Storage");
    const st = t.texts();
    assert.ok(st.includes("Free") && st.includes("Total"));
    assert.ok(st.some((s) => /^\d+\.\d GB \(\d+ min\)$/.test(s)), st.join(" | "));
    t.close();
  });

  it("settings round trip: what the menu saved is what the next start uses; the command line overrides it without saving", function () {
    let t = rig();
    t.key("option");
    t.keyItem("Resolution", "left"); // 720p -> 1080p
    t.keyItem("Codec", "left");
    t.close();
    t = rig();
    assert.equal(t.rec.effective.resolution, "1080p");
    assert.equal(t.rec.effective.codec, "h264");
    assert.ok(t.texts().includes("1080p 30 H.264"));
    t.close();
    t = rig(["--menu", "--codec", "h265"]);
    assert.equal(t.rec.effective.codec, "h265", "the command line wins for this run");
    assert.equal(t.saved().codec, "h264", "and is not saved");
    t.close();
  });

  for (const [what, text] of [
    ["not JSON", "{\"version\": 1, \"resolution\": "],
    ["a bad value", JSON.stringify({ ...DEFAULT_SETTINGS, version: 1, fps: "fast" })],
    ["a missing field", JSON.stringify({ version: 1, codec: "h264" })],
    ["binary junk", "\u0000\u0001\u00ff"],
  ] as const) {
    it(`corrupt settings (${what}): defaults and a message on the screen, no crash; the next change saves a good file`, function () {
      sdcard.write(SETTINGS, text);
      const t = rig();
      const { rtspPassword, ...rest } = t.rec.effective;
      const { rtspPassword: _none, ...defaults } = DEFAULT_SETTINGS;
      assert.deepEqual(rest, defaults);
      assert.equal(t.saved().rtspPassword, rtspPassword, "a new password, saved at once");
      assert.equal(sdcard.readText(`${SETTINGS}.damaged`), text, "the damaged file kept beside");
      assert.ok(t.texts().includes("SETTINGS RESET"), t.texts().join(" | "));
      assert.ok(t.texts().some((s) => /settings file is damaged/.test(s)), t.texts().join(" | "));
      t.key("option");
      t.keyItem("Audio");
      assert.equal(t.saved().audio, true);
      assert.equal(t.saved().resolution, "720p");
      t.close();
    });
  }

  // ------------------------------------------------------------ secure by default: the RTSP password

  const PASSWORD = /^[abcdefhijkmnprstwxyzACDEFGHJKLMNPRTUVWXY3467]{12}$/;

  it("the first start makes a 12-character password and saves it (settings version 2); the next start keeps it", function () {
    let t = rig();
    const pw = t.saved().rtspPassword as string;
    assert.match(pw, PASSWORD);
    assert.equal(t.saved().version, 2);
    assert.equal(t.saved().rtspOpen, false, "open access is off");
    assert.equal(t.rec.effective.rtspPassword, pw);
    t.close();
    t = rig();
    assert.equal(t.rec.effective.rtspPassword, pw, "the same password at the next start");
    assert.equal(t.saved().rtspPassword, pw);
    t.close();
    assert.ok(!world.stdout.includes(pw) && !world.stderr.includes(pw), "never on the console");
  });

  it("another board (a fresh card) gets another password; a seeded world gives the same one (tests only)", function () {
    const make = (seed: number | null) => {
      fresh();
      world.seedRandom(seed);
      const t = rig();
      const pw = t.rec.effective.rtspPassword;
      t.close();
      return pw;
    };
    assert.notEqual(make(null), make(null));
    assert.equal(make(7), make(7));
    assert.notEqual(make(7), make(8));
  });

  it("a version 1 settings file keeps its settings and gets a password, saved at once; no SETTINGS RESET", function () {
    const { rtspOpen: _o, rtspPassword: _p, ...v1 } = { ...DEFAULT_SETTINGS, resolution: "1080p", rtsp: true };
    sdcard.write(SETTINGS, JSON.stringify({ version: 1, ...v1 }));
    const t = rig();
    assert.equal(t.rec.effective.resolution, "1080p");
    assert.equal(t.rec.effective.rtsp, true);
    assert.equal(t.rec.effective.rtspOpen, false);
    assert.match(t.saved().rtspPassword as string, PASSWORD);
    assert.equal(t.saved().version, 2);
    assert.equal(t.saved().resolution, "1080p");
    assert.ok(!t.texts().includes("SETTINGS RESET"), t.texts().join(" | "));
    t.close();
  });

  it("a saved password that is not usable (too short, quotes) is a damaged file: a new one, and the console does not show the bad one", function () {
    sdcard.write(SETTINGS, JSON.stringify({ ...DEFAULT_SETTINGS, version: 2, rtspPassword: 'se"cret1' }));
    const t = rig();
    assert.match(t.rec.effective.rtspPassword, PASSWORD);
    assert.match(world.stdout, /settings file is damaged \(rtspPassword is not 8 to 64 printable characters without quotes\)/);
    assert.ok(!world.stdout.includes("se\"cret1") && !world.stdout.includes('se"cret1'));
    t.close();
  });

  it("a card that refuses the new password: it holds for this run, the console says so", function () {
    world.fault("fs.write", { code: "EROFS" });
    const t = rig();
    assert.match(t.rec.effective.rtspPassword, PASSWORD);
    assert.match(world.stdout, /a new RTSP password, for this run only: not saved \(EROFS/);
    t.close();
  });

  it("RTSP on: the menu shows the address, user admin and the password; the console shows the address only", function () {
    const t = rig();
    const pw = t.rec.effective.rtspPassword;
    t.key("option");
    assert.ok(!t.rec.menu.items.some((w) => w.label === "RTSP password"), "no password row while RTSP is off");
    t.keyItem("RTSP live view");
    assert.equal(t.widget<Item>("RTSP user").detail, "admin");
    assert.equal(t.widget<Item>("RTSP password").detail, pw);
    for (let n = 0; n < 20 && !t.texts().includes(pw); n++) t.tap("page:down"); // scrolled into view
    assert.ok(t.texts().includes(pw), t.texts().join(" | "));
    assert.ok(t.texts().includes("admin"), t.texts().join(" | "));
    assert.match(world.stdout, /live at rtsp:\/\/[\w.]+:8554\/live \(user admin, password: see the board's screen or settings\)\n/);
    assert.ok(!world.stdout.includes(pw) && !world.stderr.includes(pw), "never on the console");
    assert.deepEqual(rtspServerOptions(t.rec.effective), { port: 8554, auth: { user: "admin", password: pw } });
    t.close();
  });

  it("Open access: a toggle, saved; a warning on the screen and the console; the server is reopened without auth; off again: the password is back", function () {
    const t = rig();
    const pw = t.rec.effective.rtspPassword;
    t.key("option");
    t.keyItem("RTSP live view");
    const before = world.openHandles("RtspServer")[0];
    t.keyItem("Open access");
    assert.equal(t.saved().rtspOpen, true);
    assert.equal(t.saved().rtspPassword, pw, "the password is kept");
    assert.deepEqual(rtspServerOptions(t.rec.effective), { port: 8554 });
    assert.equal(world.openHandles("RtspServer").length, 1);
    assert.notEqual(world.openHandles("RtspServer")[0], before, "a new server");
    assert.ok(t.texts().includes("Open access: anyone on the network can watch"), t.texts().join(" | "));
    assert.ok(!t.rec.menu.items.some((w) => w.label === "RTSP password"), "no password row with open access");
    assert.match(world.stdout, /live at rtsp:\S+ \(OPEN ACCESS: no password, anyone on the network can watch\)/);
    assert.match(world.stderr, /warning: RTSP open access/);
    t.tap("back");
    t.run(6000);
    assert.ok(t.texts().includes("OPEN 0 live"), t.texts().join(" | "));
    t.key("option");
    t.keyItem("Open access");
    assert.equal(t.saved().rtspOpen, false);
    assert.deepEqual(rtspServerOptions(t.rec.effective), { port: 8554, auth: { user: "admin", password: pw } });
    assert.equal(t.widget<Item>("RTSP password").detail, pw);
    assert.ok(!world.stdout.includes(pw) && !world.stderr.includes(pw), "never on the console");
    t.close();
  });

  it("New RTSP password (with confirm): another password, saved, shown, on a new server; the console does not show either", function () {
    const t = rig();
    const old = t.rec.effective.rtspPassword;
    t.key("option");
    t.keyItem("RTSP live view");
    const server = world.openHandles("RtspServer")[0];
    t.keyItem("New RTSP password");
    t.tap("dialog:cancel");
    assert.equal(t.saved().rtspPassword, old, "cancelled: the same");
    t.keyItem("New RTSP password");
    t.tap("dialog:confirm");
    const pw = t.saved().rtspPassword as string;
    assert.match(pw, PASSWORD);
    assert.notEqual(pw, old);
    assert.equal(t.widget<Item>("RTSP password").detail, pw);
    assert.equal(world.openHandles("RtspServer").length, 1);
    assert.notEqual(world.openHandles("RtspServer")[0], server, "a server with the new password");
    assert.deepEqual(rtspServerOptions(t.rec.effective), { port: 8554, auth: { user: "admin", password: pw } });
    assert.match(world.stdout, /setting rtspPassword = \(secret\) saved/);
    for (const p of [old, pw]) assert.ok(!world.stdout.includes(p) && !world.stderr.includes(p), "never on the console");
    t.close();
  });

  it("--rtsp-open: RTSP with open access for this run, not saved", function () {
    const t = rig(["--menu", "--rtsp-open"]);
    assert.equal(t.rec.effective.rtsp, true);
    assert.equal(t.rec.effective.rtspOpen, true);
    assert.equal(t.saved().rtspOpen, false, "not saved");
    assert.match(world.stderr, /warning: RTSP open access/);
    t.close();
  });

  it("a setting the card cannot take: a message, the saved file as it was, nothing left beside it", function () {
    const t = rig();
    t.key("option");
    t.keyItem("Audio");
    const before = sdcard.readText(SETTINGS);
    world.fault("fs.write", { code: "ENOSPC" });
    t.keyItem("Codec", "left");
    assert.ok(t.texts().includes("Not saved: ENOSPC"), t.texts().join(" | "));
    assert.equal(sdcard.readText(SETTINGS), before);
    assert.deepEqual(Object.keys(sdcard.tree()).filter((p) => p.startsWith("/sdcard/apps/")), [SETTINGS]);
    t.close();
  });

  it("a full card without loop recording: recording stops, the message shows, the file is kept", function () {
    fresh({ sdcardSizeMb: 2 });
    const t = rig();
    t.key("option");
    t.keyItem("Loop recording");
    t.key("option");
    t.key("ok");
    for (let ms = 0; ms < 10_000 && t.rec.session; ms += 100) t.run(100); // 3 Mbit/s: 2 MiB last about 5 s
    assert.equal(t.rec.session, null, "stopped by itself");
    assert.match(world.stdout, /problem: ENOSPC/);
    assert.ok(t.texts().includes("CARD FULL"), t.texts().join(" | "));
    assert.ok(t.texts().includes("Card full: recording stopped"), t.texts().join(" | "));
    const files = t.videos();
    assert.ok(files.length >= 1, world.stdout);
    for (const f of files) assert.ok(probe(f).samples > 0, `${f} plays`);
    assert.ok(t.ui.dialogOpen, "an alert until it is read");
    t.key("ok"); // OK
    assert.ok(!t.ui.dialogOpen);
    // the next try is refused with the same message, not a crash
    t.key("ok");
    assert.equal(t.rec.session, null);
    assert.ok(t.ui.dialogOpen);
    t.key("ok");
    t.close();
  });

  it("a full card with loop recording: the oldest recordings make room and recording goes on", function () {
    fresh({ sdcardSizeMb: 8 }); // two 10 s segments at 3 Mbit/s
    const t = rig();
    t.key("option");
    t.keyItem("Segment length", "left"); // 30 s
    t.keyItem("Segment length", "left"); // 10 s
    assert.equal(t.saved().segmentSeconds, 10);
    t.key("option");
    t.key("ok");
    t.run(45_000);
    assert.ok(t.rec.session, "still recording");
    t.key("ok");
    assert.match(world.stdout, /deleted \S+_000\.mp4 to make room/);
    assert.ok(!t.texts().includes("CARD FULL"), world.stdout);
    assert.ok(sdcard.used <= 8 * 1024 * 1024);
    assert.ok(t.videos().length >= 1);
    t.close();
  });

  it("an encoder error: shown on the screen, recording stopped cleanly, the file kept", function () {
    const t = rig();
    t.key("ok");
    t.run(1500);
    world.fault("video.encode", { code: "EIO" });
    t.run(500);
    assert.equal(t.rec.session, null);
    assert.ok(t.texts().includes("ENCODER ERROR"), t.texts().join(" | "));
    assert.equal(t.videos().length, 1);
    assert.ok(probe(t.videos()[0]).samples > 0);
    t.close();
  });

  it("a card error: shown on the screen, recording stopped cleanly, what was written kept", function () {
    const t = rig();
    t.key("ok");
    t.run(2500);
    world.fault("fs.write", { code: "EIO", times: Infinity });
    t.run(1500);
    assert.equal(t.rec.session, null);
    assert.ok(t.texts().includes("CARD ERROR"), t.texts().join(" | "));
    assert.ok(t.texts().includes("Card error: recording stopped"), t.texts().join(" | "));
    assert.equal(t.videos().length, 1);
    assert.ok(probe(t.videos()[0]).samples >= 30, "the fragments written before the error play");
    t.close();
  });

  it("Ctrl-C while recording in the menu: the recording is finished and kept, exit 0", async function () {
    world.at(300, () => world.exposed<KeyFn>("input.key")!("ok", "press"));
    world.exitAt(2500);
    const r = await runApp(APP, { args: [] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /recording started: 720p 30 fps h265 mp4\n/);
    assert.match(r.stdout, /saved \/sdcard\/video\/rec_\d{8}_\d{6}_000\.mp4: \d+ frames, 2\.\d s/);
    assert.match(r.stdout, /recording stopped after 2\.\d s: 1 files, \d+ pictures taken, \d+ frames stored, 0 dropped/);
    assert.match(r.stdout, /bye\n$/);
  });

  for (const codec of ["h264", "h265"] as const) {
    it(`Recordings: newest first with date, duration and size; play a short ${codec} file, pause, seek, back to the preview`, function () {
      const t = rig([`--menu`, "--codec", codec]);
      for (const ms of [1000, 3000]) {
        t.key("ok");
        t.run(ms);
        t.key("ok");
        t.run(1000);
      }
      t.key("option");
      t.keyItem("Recordings");
      assert.equal(t.ui.top.title, "Recordings (2)");
      const rows = t.ui.top.items.map((w) => `${w.label} ${(w as Item).detail}`);
      assert.match(rows[0], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d 0:03 {2}\d+(\.\d)? [kM]B$/);
      assert.match(rows[1], / 0:01 {2}\d+(\.\d)? [kM]B$/);
      assert.ok(rows[0] > rows[1], "newest first");
      t.key("ok"); // the newest
      t.keyItem("Play");
      assert.equal(t.ui.top, t.rec.playbackScreen);
      const p = t.rec.player!;
      assert.equal(p.codec, codec);
      playThrough(t, p, "Mp4Reader");
      t.close();
    });
  }

  for (const codec of ["h264", "h265"] as const) {
    it(`TS container, ${codec}: Recordings show each file's duration; play it back with TsReader, pause, seek`, function () {
      const t = rig([`--menu`, "--codec", codec, "--container", "ts"]);
      for (const ms of [1000, 3000]) {
        t.key("ok");
        t.run(ms);
        t.key("ok");
        t.run(1000);
      }
      const files = t.videos().sort();
      assert.equal(files.length, 2);
      for (const f of files) assert.match(f, /\.ts$/);
      const r = new TsReader(files[1]);
      const frames: Frame[] = [];
      for (let f = r.read(); f; f = r.read()) frames.push(f);
      assert.ok(frames.length >= 85, `${frames.length} frames in the newest`);
      assert.equal(frames[0].keyframe, true);
      assert.ok(frames.every((f, i) => !i || f.ptsUs > frames[i - 1].ptsUs), "pts order");
      assert.deepEqual([r.tracks[0].codec, r.tracks[0].width, r.tracks[0].height], [codec, 1280, 720]);
      for (const f of frames) f.close();
      r.close();
      t.key("option");
      t.keyItem("Recordings");
      assert.equal(t.ui.top.title, "Recordings (2)");
      const rows = t.ui.top.items.map((w) => `${w.label} ${(w as Item).detail}`);
      assert.match(rows[0], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d 0:03 {2}\d+(\.\d)? [kM]B$/, "the TS file's duration, from its packets");
      assert.match(rows[1], / 0:01 {2}\d+(\.\d)? [kM]B$/);
      t.key("ok"); // the newest
      assert.ok(t.texts().some((s) => /^0:03$/.test(s)), `Duration on the details screen: ${t.texts().join(" | ")}`);
      t.keyItem("Play");
      assert.equal(t.ui.top, t.rec.playbackScreen);
      const p = t.rec.player!;
      assert.equal(p.codec, codec);
      assert.equal(p.width, 1280);
      assert.equal(world.openHandles("TsReader").length, 1, "read by TsReader");
      assert.equal(world.openHandles("Mp4Reader").length, 0);
      playThrough(t, p, "TsReader");
      t.close();
    });
  }

  it("delete a recording with confirm: Cancel is focused first, Delete removes it", function () {
    const t = rig();
    t.key("ok");
    t.run(1000);
    t.key("ok");
    t.key("option");
    t.keyItem("Recordings");
    t.key("ok");
    t.keyItem("Delete");
    assert.ok(t.ui.dialogOpen);
    t.key("ok"); // Cancel
    assert.equal(t.videos().length, 1);
    t.keyItem("Delete");
    t.key("right");
    t.key("ok");
    assert.equal(t.videos().length, 0);
    assert.equal(t.ui.top.title, "Recordings (0)");
    assert.ok(t.texts().includes("No recordings yet"));
    t.close();
  });

  it("delete a recording by touch, and Storage's delete all with confirm", function () {
    const t = rig();
    for (let i = 0; i < 3; i++) {
      t.tapItem(/^(Record|Stop)$/);
      t.run(1000);
      t.tapItem(/^(Record|Stop)$/);
      t.run(1000);
    }
    assert.equal(t.videos().length, 3);
    t.tapItem("Menu");
    t.tapItem("Recordings");
    t.tapItem(/^\d{4}-/);
    t.tapItem("Delete");
    t.tap("dialog:confirm");
    assert.equal(t.videos().length, 2);
    t.tap("back");
    t.tapItem("Storage");
    assert.ok(t.texts().includes("2 files, " + t.texts().find((s) => /^2 files, /.test(s))!.slice(9)));
    t.tapItem("Delete all recordings");
    t.tap("dialog:cancel");
    assert.equal(t.videos().length, 2);
    t.tapItem("Delete all recordings");
    t.tap("dialog:confirm");
    assert.equal(t.videos().length, 0);
    assert.ok(t.texts().includes("0 files, 0 kB"));
    t.close();
  });

  it("npm start with no options runs the menu; a long press of ok ends it; any option runs headless", async function () {
    world.at(500, () => world.exposed<KeyFn>("input.key")!("ok", "longpress"));
    const r = await runApp(APP, { args: [] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^qcam recorder 0\.1\.0 on sim\n {2}menu ready on maixcam 552x368/);
    assert.match(r.stdout, /bye\n$/);
    fresh();
    const bad = await runApp(APP, { args: ["--menu", "--text", "%Q"] });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^app exit \(2\): --text: /);
    fresh();
    const h = await runApp(APP, { args: ["--headless", "--record", "1"] });
    assert.equal(h.code, 0, h.stderr);
    assert.doesNotMatch(h.stdout, /menu ready/);
    assert.match(h.stdout, /stopped after 1\.0 s/);
  });
});
