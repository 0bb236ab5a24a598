// The sim board in a real browser: Debian's chromium, driven by
// playwright-core, shows the demo app (app/examples/display_menu.ts) from the
// page the runtime serves. Clicks, keys and touches reach the app; what the
// page shows is the display's own frame; the page survives the app
// restarting on the same port. Every runtime and the browser are killed on
// every path (after/afterEach).
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "../../build/paths.ts";
import { fixture, spawnSyncChild, start, tmpDir, type Started } from "../helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];

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

describe("the sim board's page in chromium (display_menu example)", function () {
  this.timeout(120_000);
  let image: string;
  let port: number;
  let context: BrowserContext | undefined;
  let page: Page;
  const runtimes: Started[] = [];
  let app: ReturnType<typeof start>;
  const profile = tmpDir("qcam-chromium-");

  const launch = (extra: string[] = []) => {
    const a = start("host", image, [], ["--display-port", String(port), ...extra], { lifetime: "suite" }); // shared by the tests below
    runtimes.push(a);
    return a;
  };
  const out = () => app.output().stdout;
  async function waitOut(re: RegExp, from = 0) {
    const t0 = Date.now();
    while (!re.test(out().slice(from))) {
      if (Date.now() - t0 > 20_000) throw new Error(`no ${re} in:\n${out()}\n${app.output().stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const frames = async () => Number(await page.locator("canvas").getAttribute("data-frames"));
  const seq = async () => Number(await page.getByRole("img", { name: "screen" }).getAttribute("data-seq"));
  async function seqAfter(n: number) {
    await page.waitForFunction((s) => Number(document.querySelector("canvas")!.dataset.seq) > s, n, { timeout: 20_000 });
  }

  before(async function () {
    assert.ok(fs.existsSync(CHROMIUM), "Debian's chromium is installed by `node bin/setup.mjs test`");
    image = (await fixture(path.join(ROOT, "app", "examples", "display_menu.ts"))).image;
    port = await freePort();
    app = launch();
    await app.waitFor("menu ready");
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 900, height: 700 } });
    page = context.pages()[0] ?? (await context.newPage());
  });

  after(async function () {
    for (const r of runtimes) r.kill();
    await context?.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  });

  it("prints its page's address on stderr, and serves it on 127.0.0.1 only", async function () {
    assert.match(app.output().stderr, new RegExp(`qcam: display http://127\\.0\\.0\\.1:${port}/`));
    const status = await new Promise<number>((resolve, reject) =>
      http.get({ host: "127.0.0.1", port, path: "/info", headers: { host: `attacker.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on("error", reject),
    );
    assert.equal(status, 403, "a foreign Host is refused (DNS rebinding)");
  });

  it("shows the screen at its true size: 552x368 for the maixcam, with the keys as buttons", async function () {
    await page.goto(`http://127.0.0.1:${port}/`);
    const screen = page.getByRole("img", { name: "screen" });
    await page.waitForFunction(() => Number(document.querySelector("canvas")!.dataset.frames) > 0);
    const box = (await screen.boundingBox())!;
    assert.deepEqual([box.width, box.height], [552, 368]);
    for (const k of ["ok", "option", "next", "prev", "left", "right"]) assert.equal(await page.getByRole("button", { name: k, exact: true }).count(), 1, k);
  });

  it("a live preview: frames keep reaching the page while the camera is shown", async function () {
    const f0 = await frames();
    await page.waitForFunction((f) => Number(document.querySelector("canvas")!.dataset.frames) >= f + 10, f0, { timeout: 20_000 });
  });

  it("clicks, keys and touches reach the app", async function () {
    let from = out().length;
    await page.getByRole("button", { name: "next", exact: true }).click();
    await waitOut(/key next press\ndrew item 1/, from);
    await waitOut(/key next release/, from);
    from = out().length;
    await page.keyboard.press("ArrowDown");
    await waitOut(/key next press\ndrew item 2/, from);
    from = out().length;
    await page.keyboard.press("Enter");
    await waitOut(/picked Playback/, from);
    from = out().length;
    const box = (await page.getByRole("img", { name: "screen" }).boundingBox())!;
    await page.mouse.click(box.x + 60, box.y + 8 + 44 * 5 + 10); // the 6th row (44 px rows on 368 px)
    await waitOut(/touch down 60 238\ndrew item 5/, from);
    await waitOut(/touch up 60 238/, from);
  });

  it("what the page shows is the display's own frame (screenshot vs the panel, within a tolerance)", async function () {
    const from = out().length;
    await page.getByRole("button", { name: "option", exact: true }).click(); // preview off: a still screen
    await waitOut(/preview off\ndrew item/, from);
    const panel = await (await fetch(`http://127.0.0.1:${port}/info`)).json() as { seq: number };
    await page.waitForFunction((s) => Number(document.querySelector("canvas")!.dataset.seq) >= s, panel.seq);
    const shot = pngPixels(await page.getByRole("img", { name: "screen" }).screenshot());
    const own = pngPixels(Buffer.from(await (await fetch(`http://127.0.0.1:${port}/screenshot.png`)).arrayBuffer()));
    assert.deepEqual([shot.w, shot.h], [own.w, own.h]);
    let diff = 0, off = 0;
    for (let i = 0; i < own.px.length; i += 4) {
      const d = Math.max(Math.abs(shot.px[i] - own.px[i]), Math.abs(shot.px[i + 1] - own.px[i + 1]), Math.abs(shot.px[i + 2] - own.px[i + 2]));
      diff += d;
      if (d > 8) off++;
    }
    const n = own.w * own.h;
    assert.ok(diff / n < 1, `mean difference ${diff / n}`);
    assert.ok(off / n < 0.002, `${off} of ${n} pixels differ by more than 8`);
    // and the menu is really there: the selected row's blue
    const at = (p: Buffer, x: number, y: number) => [...p.subarray((y * own.w + x) * 4, (y * own.w + x) * 4 + 3)];
    assert.deepEqual(at(own.px, 200, 8 + 44 * 5 + 22), [0x2f, 0x6f, 0xd0]);
  });

  it("survives the app restarting: the page reconnects and keys reach the new app", async function () {
    const epoch = await page.locator("canvas").getAttribute("data-epoch");
    app.child.kill("SIGTERM");
    const r = await app.done;
    assert.match(r.stdout, /bye/);
    app = launch(["--no-display-url"]);
    await app.waitFor("menu ready");
    assert.doesNotMatch(app.output().stderr, /qcam: display/, "--no-display-url");
    await page.waitForFunction((e) => document.querySelector("canvas")!.dataset.epoch !== e, epoch, { timeout: 20_000 });
    const from = out().length;
    await seqAfter(await seq());
    await page.getByRole("button", { name: "prev", exact: true }).click();
    await waitOut(/key prev press\ndrew item 7/, from);
  });

  it("a long press of ok (1 s) exits the app, as MaixPy's default does", async function () {
    const ok = page.getByRole("button", { name: "ok", exact: true });
    const box = (await ok.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    const r = await app.done;
    await page.mouse.up();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /key ok longpress\n(.|\n)*bye/);
  });
});
