// The display stub's display list against the real runtime's pixels: the UI kit's screens
// (test/fixtures/ui/screens.ts) drawn under runApp against the stubs and on the host
// runtime; the list's operations must account for the screenshot — every pixel that is not
// the background lies inside the region of some operation, an opaque fill shows its color
// where nothing later covers it, and every text has pixels of its color inside its box.
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { displayList, runApp, world, type DrawOp } from "../../build/testing/index.ts";
import { FIXTURES, fixture, spawnSyncChild, start, tmpDir } from "../helpers.ts";

const APP = path.join(FIXTURES, "ui", "screens.ts");
const BG = 0xff10161e; // DEFAULT_THEME.background

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

function pngPixels(png: Buffer): { w: number; h: number; px: Buffer } {
  const dir = tmpDir("qcam-png-");
  const file = path.join(dir, "a.png");
  fs.writeFileSync(file, png);
  const probe = spawnSyncChild("ffprobe", ["-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", file], { encoding: "utf8" });
  const [w, h] = probe.stdout.trim().split(",").map(Number);
  const r = spawnSyncChild("ffmpeg", ["-v", "error", "-i", file, "-f", "rawvideo", "-pix_fmt", "rgba", "-"], { maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, String(r.stderr));
  return { w, h, px: r.stdout };
}

const rgb = (c: number) => [(c >>> 16) & 255, (c >>> 8) & 255, c & 255];
const near = (a: number[], b: number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

describe("the display stub's list accounts for the runtime's pixels (UI kit screens)", function () {
  this.timeout(120_000);

  for (const [board, scene] of [["maixcam", "settings"], ["maixcam", "editing"], ["k230-hdmi", "settings"], ["maixcam", "dialog"], ["k230-lcd", "toast"]] as const)
    it(`${scene} at ${board}`, async function () {
      // the stub's list
      world.reset({ board, args: [scene] });
      world.exitAt(100);
      const r = await runApp(APP);
      assert.equal(r.code, 0, r.stderr);
      const ops: DrawOp[] = displayList().panel;
      // the runtime's pixels
      const port = await freePort();
      const a = start("host", (await fixture(APP)).image, [scene], ["--board", board, "--display-port", String(port), "--no-display-url"]);
      await a.waitFor("drawn");
      const png = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/screenshot.png`)).arrayBuffer());
      a.signal("SIGINT");
      assert.equal((await a.done).code, 0);
      const { w, h, px } = pngPixels(png);
      assert.deepEqual([w, h], [displayList().width, displayList().height]);
      const at = (x: number, y: number) => [px[(y * w + x) * 4], px[(y * w + x) * 4 + 1], px[(y * w + x) * 4 + 2]];
      assert.equal(ops[0].op, "clear");
      // 1. nothing drawn outside the operations' regions
      const drawn = ops.slice(1);
      const covered = new Uint8Array(w * h);
      for (const o of drawn) for (let y = o.rect.y; y < o.rect.y + o.rect.height; y++) covered.fill(1, y * w + o.rect.x, y * w + o.rect.x + o.rect.width);
      let stray = 0;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (!covered[y * w + x] && !near(at(x, y), rgb(BG), 0)) stray++;
      assert.equal(stray, 0, "pixels changed outside every operation's region");
      // 2. an opaque fill's color shows at its center where nothing later was drawn
      let checked = 0;
      drawn.forEach((o, i) => {
        if (o.op !== "fill" || o.color >>> 24 !== 255) return;
        const cx = o.box.x + (o.box.width >> 1), cy = o.box.y + (o.box.height >> 1);
        if (cx >= w || cy >= h || drawn.slice(i + 1).some((l) => cx >= l.rect.x && cx < l.rect.x + l.rect.width && cy >= l.rect.y && cy < l.rect.y + l.rect.height)) return;
        assert.deepEqual(at(cx, cy), rgb(o.color), `fill ${o.color.toString(16)} at ${cx},${cy}`);
        checked++;
      });
      assert.ok(checked >= 1, "some fills checked");
      // 3. every visible text has pixels of (nearly) its color inside its box
      const texts = displayList().texts();
      assert.ok(texts.length >= 5);
      for (const t of texts) {
        const dimmed = drawn.slice(drawn.indexOf(t) + 1).some((o) => o.op === "fill" && o.color >>> 24 < 255);
        if (dimmed) continue; // under the dialog's scrim
        let best = 999;
        for (let y = t.box.y; y < t.box.y + t.box.height; y++)
          for (let x = t.box.x; x < t.box.x + t.box.width; x++) best = Math.min(best, Math.max(...at(x, y).map((v, k) => Math.abs(v - rgb(t.color)[k]))));
        assert.ok(best <= 40, `"${t.text}": no pixel of its color ${t.color.toString(16)} in ${JSON.stringify(t.box)} (closest ${best})`);
        // and none of its color just above or below its line box (glyphs may overhang 2 px sideways, as draw.c allows)
        for (let y = Math.max(0, t.box.y - 6); y < Math.min(h, t.box.y + t.box.height + 6); y++) {
          if (y >= t.box.y && y < t.box.y + t.box.height) continue;
          for (let x = Math.max(0, t.box.x - 2); x < Math.min(w, t.box.x + t.box.width + 2); x++)
            assert.ok(!near(at(x, y), rgb(t.color), 24), `"${t.text}": a pixel of its color at ${x},${y}, outside its line box ${JSON.stringify(t.box)}`);
        }
      }
    });
});
