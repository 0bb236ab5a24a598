// The menu-driven recorder (app/) on the sim board, used from a real browser:
// Debian's chromium, driven by playwright-core, on the page the runtime serves.
// Keys and clicks navigate the menu; a recording made there is found in
// Recordings, played and deleted; a resolution chosen there survives a restart
// of the board and sizes the next recording (ffprobe). The home and menu
// screens are compared with committed reference PNGs at 552x368 (maixcam) and
// 800x480 (k230-lcd), decoded by ffmpeg, with the live preview masked (the
// camera pattern moves). QCAM_UPDATE_REFS=1 writes the references anew.
//
// The app logs, at log level debug, each screen it shows with its touch
// targets' centres (`screen "Settings" [{"name":"Resolution","x":..,"y":..}]`):
// clicks go there.
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "../../build/paths.ts";
import { assertDecodesClean, fixture, probeStream, run, spawnChild, spawnSyncChild, start, tmpDir, type Started } from "../helpers.ts";
import { startNginx } from "../servers.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];
const REFS = path.join(ROOT, "test", "fixtures", "recorder-ui");
const CLI = path.join(ROOT, "bin", "qcam.mjs");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** RGBA pixels of a PNG, decoded by ffmpeg (not by us). */
function pngPixels(png: Buffer): { w: number; h: number; px: Buffer } {
  const dir = tmpDir("qcam-png-");
  const file = path.join(dir, "a.png");
  fs.writeFileSync(file, png);
  const probe = spawnSyncChild("ffprobe", ["-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", file], { encoding: "utf8" });
  const [w, h] = probe.stdout.trim().split(",").map(Number);
  const r = spawnSyncChild("ffmpeg", ["-v", "error", "-i", file, "-f", "rawvideo", "-pix_fmt", "rgba", "-"], { maxBuffer: 64 << 20 });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, String(r.stderr));
  return { w, h, px: r.stdout };
}

interface Target {
  name: string;
  x: number;
  y: number;
}

describe("the recorder in chromium: menus by keys and clicks, record, play, delete, settings kept", function () {
  this.timeout(180_000);
  let image: string;
  let context: BrowserContext | undefined;
  let page: Page;
  const runtimes: Started[] = [];
  const profile = tmpDir("qcam-chromium-");

  /** One sim board running the recorder: its page, its card, its log. */
  function board(name: string, sd: string, port: number) {
    const rt = start("host", image, [], ["--display-port", String(port), "--board", name, "--sdcard-size", "64", "--log-level", "debug", "--no-display-url"], { sdcard: sd, lifetime: "suite" });
    runtimes.push(rt);
    const out = () => rt.output().stdout;
    /** Wait for `re` in the log after offset `from`. */
    const waitOut = async (re: RegExp, from: number, ms = 30_000) => {
      const t0 = Date.now();
      for (;;) {
        const m = re.exec(out().slice(from));
        if (m) return m;
        if (Date.now() - t0 > ms) throw new Error(`no ${re} in:\n${out().slice(from)}\n${rt.output().stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    /** The newest screen the app logged (after `from`), once it is `title`. */
    const screen = async (title: string | RegExp, from: number): Promise<Target[]> => {
      const t0 = Date.now();
      for (;;) {
        const lines = [...out().slice(from).matchAll(/^screen ("[^"]*") (\[.*\])\n/gm)];
        const last = lines[lines.length - 1];
        const name = last ? (JSON.parse(last[1]) as string) : null;
        if (name !== null && (typeof title === "string" ? name === title : title.test(name))) return JSON.parse(last[2]) as Target[];
        if (Date.now() - t0 > 30_000) throw new Error(`no screen ${title}; last ${name}:\n${out().slice(from)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    return { rt, out, waitOut, screen, url: `http://127.0.0.1:${port}/` };
  }

  const canvas = () => page.getByRole("img", { name: "screen" });
  async function open(url: string) {
    await page.goto(url);
    await page.waitForFunction(() => Number(document.querySelector("canvas")!.dataset.frames) > 0);
  }
  async function click(targets: Target[], name: string | RegExp) {
    const t = targets.find((t) => (typeof name === "string" ? t.name === name : name.test(t.name)));
    assert.ok(t, `no target ${name} in ${targets.map((t) => t.name).join(", ")}`);
    const box = (await canvas().boundingBox())!;
    await page.mouse.click(box.x + t.x, box.y + t.y);
  }
  async function keys(...ks: string[]) {
    for (const k of ks) await page.keyboard.press(k);
  }
  /** The panel (as the page shows it) against the reference, rows [y0, y1) masked. */
  async function compareShot(name: string, mask: [number, number] | null, url: string) {
    const info = (await (await fetch(`${url}info`)).json()) as { seq: number };
    await page.waitForFunction((s) => Number(document.querySelector("canvas")!.dataset.seq) >= s, info.seq);
    const png = await canvas().screenshot();
    const ref = path.join(REFS, `${name}.png`);
    if (process.env.QCAM_UPDATE_REFS === "1") {
      fs.mkdirSync(REFS, { recursive: true });
      fs.writeFileSync(ref, png);
    }
    const a = pngPixels(png), b = pngPixels(fs.readFileSync(ref));
    assert.deepEqual([a.w, a.h], [b.w, b.h], name);
    let diff = 0, off = 0, n = 0;
    for (let y = 0; y < a.h; y++) {
      if (mask && y >= mask[0] && y < mask[1]) continue;
      for (let x = 0; x < a.w; x++) {
        const i = (y * a.w + x) * 4;
        const d = Math.max(Math.abs(a.px[i] - b.px[i]), Math.abs(a.px[i + 1] - b.px[i + 1]), Math.abs(a.px[i + 2] - b.px[i + 2]));
        diff += d;
        if (d > 24) off++;
        n++;
      }
    }
    assert.ok(diff / n < 1, `${name}: mean difference ${(diff / n).toFixed(2)}`);
    assert.ok(off / n < 0.001, `${name}: ${off} of ${n} pixels differ by more than 24`);
  }
  /** Home's masked band: from under the status bar to above the bar of buttons. */
  const homeMask = (t: Target[], height: number): [number, number] => {
    const bar = t.find((x) => x.name === "Record")!;
    return [Math.floor(height * 0.05), 2 * bar.y - height + 2]; // (inside the status bar .. the bar's top edge)
  };

  before(async function () {
    assert.ok(fs.existsSync(CHROMIUM), "Debian's chromium is installed by `node bin/setup.mjs test`");
    image = (await fixture(path.join(ROOT, "app"))).image;
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1000, height: 800 } });
    page = context.pages()[0] ?? (await context.newPage());
  });

  after(async function () {
    for (const r of runtimes) r.kill();
    await context?.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  });

  it("qcam start with no recorder option (what npm start runs) is the sim board running the menu recorder: its page, its dev link, and Ctrl-C finishes the recording", async function () {
    const port = await freePort();
    const sd = tmpDir("qcam-sd-");
    const link = path.join(tmpDir("qcam-link-"), "board.tty");
    // its own process group, signalled as a whole: a terminal's Ctrl-C
    const rt = spawnChild(process.execPath, [CLI, "start", "--sdcard", sd, "--display-port", String(port), "--link", link], { cwd: ROOT, group: true });
    runtimes.push(rt);
    await rt.waitFor(/^flashed recorder · .*on trial 0\.1\.0 .*· autostart\nboard: \S+ \(also .*board\.tty\)/);
    await rt.waitFor(/\nqcam recorder 0\.1\.0 on sim\n {2}menu ready on maixcam 552x368: open http:\/\/127\.0\.0\.1:(\d+)\/\n/);
    assert.match(rt.output().stdout, new RegExp(`open http://127\\.0\\.0\\.1:${port}/`));
    await rt.waitFor(`qcam: display http://127.0.0.1:${port}/`, 20_000, true);
    await open(`http://127.0.0.1:${port}/`);
    await page.keyboard.press("Enter"); // ok: record
    await rt.waitFor("recording started", 20_000);
    // the board's dev link is up: the recorder is its autostart app (on trial: one try taken), and the card is there to list
    const apps = await run(process.execPath, [CLI, "apps", "--port", link], { cwd: ROOT });
    assert.equal(apps.code, 0, apps.stderr);
    assert.match(apps.stdout, /^recorder · no good version · on trial 0\.1\.0 \(slot a, 2 tries left\)$/m);
    const ls = await run(process.execPath, [CLI, "ls", "/video", "--port", link], { cwd: ROOT });
    assert.equal(ls.code, 0, ls.stderr);
    const name = /rec_\d{8}_\d{6}_000\.mp4/.exec(ls.stdout)?.[0];
    assert.ok(name, ls.stdout);
    await new Promise((r) => setTimeout(r, 1500)); // a second and more of video
    // asking the board does not disturb it: still recording
    assert.doesNotMatch(rt.output().stdout, /recording stopped|bye/);
    rt.signal("SIGINT");
    const r = await rt.done;
    assert.equal(r.code, 0, r.stderr);
    // stopped once, gracefully: the recording was finished, not cut
    const saved = /saved \/sdcard\/video\/(rec_\S+\.mp4): (\d+) frames/.exec(r.stdout);
    assert.ok(saved, r.stdout);
    assert.equal(saved[1], name);
    assert.match(r.stdout, /bye\n$/);
    const file = path.join(sd, "video", name);
    assertDecodesClean(file);
    assert.equal(probeStream(file).frames, Number(saved[2]));
  });

  it("RTSP on in a version 1 settings file: a password is added to it; the live view plays with it between recordings and while recording, and refuses without (ffprobe)", async function () {
    const sd = tmpDir("qcam-sd-");
    fs.mkdirSync(path.join(sd, "apps", "recorder", "data"), { recursive: true });
    fs.writeFileSync(path.join(sd, "apps", "recorder", "data", "settings.json"), JSON.stringify({ version: 1, resolution: "480p", fps: 30, codec: "h264", bitrate: 2_000_000,
      audio: false, segmentSeconds: 60, loop: true, timestamp: true, container: "mp4", rtsp: true }));
    const b = board("maixcam", sd, await freePort());
    await b.rt.waitFor("menu ready");
    assert.match(b.out(), /live at rtsp:\/\/[\w.]+:8554\/live \(user admin, password: see the board's screen or settings\)\n/);
    const saved = JSON.parse(fs.readFileSync(path.join(sd, "apps", "recorder", "data", "settings.json"), "utf8")) as { version: number; rtspPassword: string; resolution: string };
    assert.equal(saved.version, 2);
    assert.equal(saved.resolution, "480p", "the version 1 settings kept");
    assert.ok(!b.out().includes(saved.rtspPassword), "the password is not printed");
    const ffprobe = (credentials: string) =>
      spawnSyncChild("ffprobe", ["-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", `rtsp://${credentials}127.0.0.1:8554/live`], { encoding: "utf8", timeout: 30_000 });
    const probe = () => {
      const r = ffprobe(`admin:${saved.rtspPassword}@`);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    const refused = ffprobe("");
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /401 Unauthorized/);
    assert.equal(probe(), "h264,854,480", "between recordings");
    const from = b.out().length;
    await fetch(`${b.url}key?name=ok&action=press`, { method: "POST" });
    await b.waitOut(/recording started: 480p 30 fps h264 mp4 rtsp/, from);
    assert.equal(probe(), "h264,854,480", "while recording");
    await fetch(`${b.url}key?name=ok&action=press`, { method: "POST" });
    await b.waitOut(/saved \/sdcard\/video\/rec_\S+\.mp4/, from);
    b.rt.child.kill("SIGTERM");
    await b.rt.done;
  });

  it("Publish (RTMP): the URL from the settings file shown masked; turned on in the menu, the recording is pushed to nginx-rtmp too (ffprobe)", async function () {
    const ngx = await startNginx();
    const sd = tmpDir("qcam-sd-");
    fs.mkdirSync(path.join(sd, "apps", "recorder", "data"), { recursive: true });
    const url = `rtmp://127.0.0.1:${ngx.rtmpPort}/live/menu1?key=s3cret`;
    fs.writeFileSync(path.join(sd, "apps", "recorder", "data", "settings.json"), JSON.stringify({ version: 2, resolution: "480p", fps: 30, codec: "h264", bitrate: 1_000_000,
      audio: false, segmentSeconds: 60, loop: true, timestamp: false, container: "mp4", rtsp: false, rtspOpen: false, rtspPassword: "Abcdefhijk34", publish: false, publishUrl: url }));
    const b = board("maixcam", sd, await freePort());
    await b.rt.waitFor("menu ready");
    const key = (name: string) => fetch(`${b.url}key?name=${name}&action=press`, { method: "POST" });
    let from = b.out().length;
    await key("option");
    await b.screen("Settings", from);
    for (let i = 0; i < 10; i++) await key("next"); // ... Container, RTSP live view, Publish (RTMP)
    await key("ok");
    await b.waitOut(/setting publish = true saved/, from);
    await key("option"); // back home
    await b.screen("home", from);
    from = b.out().length;
    await key("ok");
    await b.waitOut(/publishing to rtmp:\/\/127\.0\.0\.1:\d+\/live\/menu1\?key=\*\*\*/, from);
    await b.waitOut(/publish: publishing/, from);
    await new Promise((r) => setTimeout(r, 1500));
    await key("ok");
    const saved = await b.waitOut(/saved (\/sdcard\/video\/rec_\S+\.mp4): (\d+) frames/, from);
    b.rt.child.kill("SIGTERM");
    await b.rt.done;
    assert.doesNotMatch(b.out() + b.rt.output().stderr, /s3cret/);
    const flv = fs.readdirSync(ngx.rec).filter((n) => n.startsWith("menu1-"));
    assert.equal(flv.length, 1, fs.readdirSync(ngx.rec).join(" "));
    const pushed = probeStream(path.join(ngx.rec, flv[0]));
    assert.deepEqual([pushed.codec, pushed.width, pushed.height], ["h264", 854, 480]);
    assert.ok(pushed.frames > 0 && pushed.frames <= Number(saved[2]), `${pushed.frames} pushed, ${saved[2]} saved`);
  });

  it("maixcam 552x368, keys only: home and menu look as they should; record 3 s, find it in Recordings, play it, delete it", async function () {
    const sd = tmpDir("qcam-sd-");
    const b = board("maixcam", sd, await freePort());
    await b.rt.waitFor("menu ready on maixcam 552x368");
    await open(b.url);
    const home = await b.screen("home", 0);
    await compareShot("home-552x368", homeMask(home, 368), b.url);

    let from = b.out().length;
    await keys("o"); // option: the menu
    await b.screen("Settings", from);
    await compareShot("menu-552x368", null, b.url);
    await keys("Escape");
    await b.screen("home", from);

    from = b.out().length;
    await keys("Enter"); // ok: record
    await b.waitOut(/recording started: 720p 30 fps h265 mp4/, from);
    await new Promise((r) => setTimeout(r, 3000));
    await keys("Enter"); // ok: stop
    const saved = await b.waitOut(/saved (\/sdcard\/video\/rec_\S+\.mp4): (\d+) frames, ([\d.]+) s/, from);
    assert.ok(Number(saved[3]) >= 2.5, saved[0]);
    const file = path.join(sd, saved[1].slice("/sdcard/".length));
    assert.equal(probeStream(file).codec, "hevc");

    from = b.out().length;
    await keys("o");
    const menu = await b.screen("Settings", from);
    assert.ok(menu.some((t) => t.name === "Resolution"));
    for (let i = 0; i < 11; i++) await keys("ArrowDown"); // ... Container, RTSP live view, Publish (RTMP), Recordings
    from = b.out().length;
    await keys("Enter");
    await b.screen("Recordings (1)", from);
    from = b.out().length;
    await keys("Enter"); // the recording
    await b.screen(/^\d{4}-\d\d-\d\d /, from);
    await keys("Enter"); // Play: focused first (the rows above it only show text)
    await b.waitOut(/playing \/sdcard\/video\/rec_\S+: h265 1280x720, [\d.]+ s/, from);
    await new Promise((r) => setTimeout(r, 1500));
    await keys("Escape"); // back: playback ends, the preview returns
    const played = await b.waitOut(/playback ended at ([\d.]+) s, (\d+) pictures decoded, (\d+) shown/, from);
    assert.ok(Number(played[1]) > 0.5, played[0]);
    // every frame up to the position was decoded: as many as ffprobe finds up to there
    const pts = spawnSyncChild("ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time", "-of", "csv=p=0", file], { encoding: "utf8" });
    const upTo = pts.stdout.trim().split("\n").map(Number).filter((t) => t <= Number(played[1]) + 0.001).length;
    assert.ok(Math.abs(Number(played[2]) - upTo) <= 2, `${played[0]}; ffprobe: ${upTo} frames up to there`);
    assert.ok(Number(played[3]) >= 1, played[0]);

    from = b.out().length;
    await keys("ArrowDown", "Enter"); // Delete
    await b.screen("dialog", from);
    await keys("ArrowRight", "Enter"); // the dialog's Delete (Cancel is focused first)
    await b.waitOut(/deleted \/sdcard\/video\/rec_/, from);
    await b.screen("Recordings (0)", from);
    assert.equal(fs.existsSync(file), false, "gone from the card");

    // About: the versions of the app, the runtime and its engine
    from = b.out().length;
    await keys("Escape", "ArrowDown", "ArrowDown", "Enter"); // Recordings -> Storage -> About
    await b.screen("About", from);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    const engine = JSON.parse(fs.readFileSync(path.join(ROOT, "out", "build", "host", "build-info.json"), "utf8")) as { engine: string };
    await b.waitOut(new RegExp(`about: qcam recorder 0\\.1\\.0, runtime qcam ${pkg.version.replace(/\./g, "\\.")}, engine quickjs-ng ${engine.engine.replace(/\./g, "\\.")}\n`), from);
  });

  it("k230-lcd 800x480, clicks only: home and menu look as they should; 1080p chosen, kept over a restart, and the next recording is 1920x1080", async function () {
    const sd = tmpDir("qcam-sd-");
    const port = await freePort();
    let b = board("k230-lcd", sd, port);
    await b.rt.waitFor("menu ready on k230-lcd 800x480");
    await open(b.url);
    const home = await b.screen("home", 0);
    await compareShot("home-800x480", homeMask(home, 480), b.url);

    let from = b.out().length;
    await click(home, "Menu");
    let menu = await b.screen("Settings", from);
    await compareShot("menu-800x480", null, b.url);
    from = b.out().length;
    await click(menu, "Resolution"); // a choice opens the list of its options
    const picker = await b.screen("Resolution", from);
    from = b.out().length;
    await click(picker, "1080p");
    await b.waitOut(/setting resolution = "1080p" saved/, from);
    menu = await b.screen("Settings", from);
    assert.ok(JSON.parse(fs.readFileSync(path.join(sd, "apps", "recorder", "data", "settings.json"), "utf8")).resolution === "1080p");

    // restart the board: the page reconnects by itself
    const epoch = await page.locator("canvas").getAttribute("data-epoch");
    b.rt.child.kill("SIGTERM");
    await b.rt.done;
    b = board("k230-lcd", sd, port);
    await b.rt.waitFor("menu ready");
    await page.waitForFunction((e) => document.querySelector("canvas")!.dataset.epoch !== e, epoch, { timeout: 30_000 });
    const home2 = await b.screen("home", 0);
    from = b.out().length;
    await click(home2, "Record");
    await b.waitOut(/recording started: 1080p 30 fps h265 mp4/, from);
    await new Promise((r) => setTimeout(r, 2000));
    await click(home2, "Record"); // the same button, now labelled Stop
    const saved = await b.waitOut(/saved (\/sdcard\/video\/rec_\S+\.mp4): (\d+) frames/, from);
    const p = probeStream(path.join(sd, saved[1].slice("/sdcard/".length)));
    assert.deepEqual([p.codec, p.width, p.height], ["hevc", 1920, 1080]);
    assert.ok(p.frames > 0);
  });
});
