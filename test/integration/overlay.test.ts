// qcam:overlay on the real runtime: text burned into the pictures between
// camera and encoder, in a link (drawn on its encode thread) and in pull mode
// (draw(image) before encode(image)). Judged on the raw picture before
// encoding (byte for byte) and on what ffmpeg decodes from the streams,
// against the same frames recorded without the overlay.
import assert from "node:assert/strict";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import { assertDecodesClean, fixture, probeStream, reportLine, run as runCmd, spawnSyncChild, tmpDir } from "../helpers.ts";
import fs from "node:fs";

const MARGIN = 8;
let W = 640, H = 480; // the pictures being compared (the recorder's are 1280x720)

function run(image: string, args: string[]) {
  const sdcard = tmpDir("qcam-sd-");
  const cmd = runtimeCommand("host", image, { args, sdcard });
  const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120000 });
  assert.equal(r.status, 0, r.stderr);
  return { stdout: r.stdout, dir: path.join(sdcard, "video") };
}

/** The luma planes ffmpeg decodes from an H.264 elementary stream. */
function decodeGray(file: string): Uint8Array[] {
  assertDecodesClean(file);
  const r = spawnSyncChild("ffmpeg", ["-v", "error", "-i", file, "-f", "rawvideo", "-pix_fmt", "gray", "-"], { maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, String(r.stderr));
  const all = r.stdout as Buffer;
  assert.equal(all.length % (W * H), 0);
  const frames: Uint8Array[] = [];
  for (let o = 0; o < all.length; o += W * H) frames.push(new Uint8Array(all.buffer, all.byteOffset + o, W * H));
  return frames;
}

interface Box { x0: number; y0: number; x1: number; y1: number } // exclusive ends

function meanAbs(a: Uint8Array, b: Uint8Array, inside: (x: number, y: number) => boolean): number {
  let sum = 0, n = 0;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      if (inside(x, y)) {
        sum += Math.abs(a[y * W + x] - b[y * W + x]);
        n++;
      }
  return n ? sum / n : 0;
}

/** Mean absolute difference of rows [y0, y1), sampling every `step`-th row and column. */
function meanAbsRows(a: Uint8Array, b: Uint8Array, y0: number, y1: number, step: number): number {
  let sum = 0, n = 0;
  for (let y = y0; y < y1; y += step)
    for (let i = y * W, end = i + W; i < end; i += step) {
      sum += Math.abs(a[i] - b[i]);
      n++;
    }
  return n ? sum / n : 0;
}

/** The plain frame showing the same camera picture as `ov` (the pattern is a function of seq alone),
 * or null when the plain recording dropped that picture: the nearest by a sample of the top half,
 * then held to the whole top half. */
function matchPlain(ov: Uint8Array, plain: Uint8Array[]): Uint8Array | null {
  let best: Uint8Array | null = null, bestD = Infinity;
  for (const p of plain) {
    const d = meanAbsRows(ov, p, 0, H / 2, 8);
    if (d < bestD) [best, bestD] = [p, d];
  }
  return best && meanAbsRows(ov, best, 0, H / 2, 1) < 2 ? best : null;
}

function diffBox(a: Uint8Array, b: Uint8Array, threshold: number): Box & { n: number } {
  const box = { x0: W, y0: H, x1: 0, y1: 0, n: 0 };
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      if (Math.abs(a[y * W + x] - b[y * W + x]) > threshold) {
        box.n++;
        box.x0 = Math.min(box.x0, x);
        box.y0 = Math.min(box.y0, y);
        box.x1 = Math.max(box.x1, x + 1);
        box.y1 = Math.max(box.y1, y + 1);
      }
  return box;
}

/** Bright glyph pixels inside an opaque black box: the text's shape. */
function glyphMask(f: Uint8Array, box: Box): string {
  let bits = "";
  for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++) bits += f[y * W + x] > 128 ? "1" : "0";
  return bits;
}

/** Checks a recording with the overlay (opaque box, bottom-right) against one without; returns the text masks per frame. */
function compareRecordings(withOv: string, without: string, corner: "right" | "left" = "right"): string[] {
  const ov = decodeGray(withOv);
  const plain = decodeGray(without);
  assert.ok(ov.length >= 40 && plain.length >= 40, `${ov.length} and ${plain.length} frames`);
  const masks: string[] = [];
  let matched = 0;
  for (const [i, f] of ov.entries()) {
    // The text's shape, from a region inside the opaque box's bottom-right part.
    masks.push(glyphMask(f, corner === "right" ? { x0: W - MARGIN - 200, y0: H - MARGIN - 56, x1: W - MARGIN - 8, y1: H - MARGIN - 8 } : { x0: MARGIN + 4, y0: H - MARGIN - 36, x1: MARGIN + 180, y1: H - MARGIN - 4 }));
    const p = matchPlain(f, plain);
    if (!p) continue; // a picture only one of the two runs got (the camera drops what is late)
    matched++;
    const d = diffBox(f, p, 24);
    assert.ok(d.n > 1500, `frame ${i}: the overlay changed ${d.n} pixels`);
    // The box sits in the bottom corner, MARGIN from the edges (codec blocks may bleed a little).
    assert.ok(Math.abs(d.y1 - (H - MARGIN)) <= 4 && d.y0 > H / 2, `frame ${i}: box ${JSON.stringify(d)}`);
    if (corner === "right") assert.ok(Math.abs(d.x1 - (W - MARGIN)) <= 4 && d.x0 > W / 8, `frame ${i}: box ${JSON.stringify(d)}`);
    else assert.ok(Math.abs(d.x0 - MARGIN) <= 4 && d.x1 < (W * 7) / 8, `frame ${i}: box ${JSON.stringify(d)}`);
    // The rest of the picture is the same picture, up to the codec's noise.
    const outside = (x: number, y: number) => y < d.y0 - 16 || (corner === "right" ? x < d.x0 - 16 : x >= d.x1 + 16);
    const rest = meanAbs(f, p, outside);
    assert.ok(rest < 2, `frame ${i}: outside the box the frames differ by ${rest.toFixed(2)} on average`);
    const inside = meanAbs(f, p, (x, y) => x >= d.x0 && x < d.x1 && y >= d.y0 && y < d.y1);
    assert.ok(inside > 20, `frame ${i}: inside the box only ${inside.toFixed(2)}`);
  }
  assert.ok(matched >= ov.length / 2, `only ${matched} of ${ov.length} frames were in both recordings`);
  return masks;
}

/** The longest run of consecutive frames showing the same text. */
function longestRun(masks: string[]): number {
  let best = 1, run = 1;
  for (let i = 1; i < masks.length; i++) {
    run = masks[i] === masks[i - 1] ? run + 1 : 1;
    best = Math.max(best, run);
  }
  return best;
}

describe("qcam:overlay (host runtime, judged by ffmpeg)", function () {
  this.timeout(300_000);
  let image: string;
  before(async function () {
    image = (await fixture("overlay")).image;
  });
  beforeEach(function () {
    [W, H] = [640, 480];
  });

  it("pull mode: draw() changes the box and nothing else, byte for byte, in the raw NV21 picture", function () {
    const r = run(image, ["pull", "%H:%M:%S #{frame}", "2", "50"]);
    assert.deepEqual(reportLine<{ frames: number }>(r.stdout, "overlay").frames, 2);
    const shapes: string[] = [];
    for (const n of [0, 1]) {
      const before = fs.readFileSync(path.join(r.dir, `before-${n}.nv21`));
      const after = fs.readFileSync(path.join(r.dir, `after-${n}.nv21`));
      assert.equal(before.length, (W * H * 3) / 2);
      assert.equal(after.length, before.length);
      const d = diffBox(after, before, 0);
      // Anchored bottom-right, MARGIN pixels from both edges; a box of text about 2 x 24 px high.
      assert.deepEqual([d.x1, d.y1], [W - MARGIN, H - MARGIN], JSON.stringify(d));
      assert.ok(d.y1 - d.y0 >= 48 && d.y1 - d.y0 <= 100 && d.x1 - d.x0 >= 150, JSON.stringify(d));
      // Every luma byte outside the box is untouched; inside, the 50% box darkened nearly all of them.
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          if (x < d.x0 || x >= d.x1 || y < d.y0 || y >= d.y1) assert.equal(after[y * W + x], before[y * W + x], `luma (${x}, ${y})`);
      assert.ok(d.n > 0.9 * (d.x1 - d.x0) * (d.y1 - d.y0), `${d.n} changed in the box`);
      // Chroma (interleaved V/U at half resolution) changes only over the box too.
      const c0 = W * H;
      for (let cy = 0; cy < H / 2; cy++)
        for (let cx = 0; cx < W / 2; cx++) {
          const inBox = cx * 2 + 1 >= d.x0 && cx * 2 < d.x1 && cy * 2 + 1 >= d.y0 && cy * 2 < d.y1;
          for (const k of [0, 1]) if (!inBox) assert.equal(after[c0 + cy * W + cx * 2 + k], before[c0 + cy * W + cx * 2 + k], `chroma (${cx}, ${cy})`);
        }
      // Antialiased glyphs: white cores and intermediate edge values over the box.
      let white = 0, edge = 0;
      for (let y = d.y0; y < d.y1; y++)
        for (let x = d.x0; x < d.x1; x++) {
          const v = after[y * W + x], dark = before[y * W + x] / 2;
          if (v >= 230) white++;
          else if (v > dark + 40 && v < 200) edge++;
        }
      assert.ok(white > 300 && edge > 100, `white ${white}, edge ${edge}`);
      shapes.push(glyphMask(after, d));
    }
    assert.notEqual(shapes[0], shapes[1], "{frame} changed the text between the two frames");
  });

  it("pull mode: the stream ffmpeg decodes has the overlay in the corner and the same picture elsewhere", function () {
    const ov = run(image, ["pull", "%S {frame}", "45", "100"]);
    const plain = run(image, ["pull", "", "45"]);
    assert.deepEqual(probeStream(path.join(ov.dir, "pull.h264")), { codec: "h264", width: W, height: H, frames: 45 });
    const masks = compareRecordings(path.join(ov.dir, "pull.h264"), path.join(plain.dir, "pull.h264"));
    assert.equal(longestRun(masks), 1, "{frame} changes the text on every frame");
  });

  it("link mode: the encode thread burns the overlay in; %S changes the text at least once a second", function () {
    const ov = run(image, ["link", "%H:%M:%S", "60", "100"]);
    const plain = run(image, ["link", "", "60"]);
    const s = reportLine<{ framesIn: number; framesOut: number; drops: { queue: number } }>(ov.stdout, "stats");
    assert.equal(s.framesIn, 60);
    // Every picture that reached the encode thread was drawn on, once.
    const drawn = reportLine<{ frames: number; text: string }>(ov.stdout, "overlay");
    assert.deepEqual(drawn, { frames: s.framesIn - s.drops.queue, text: "%H:%M:%S" });
    assert.equal(probeStream(path.join(ov.dir, "link.h264")).frames, s.framesOut);
    const masks = compareRecordings(path.join(ov.dir, "link.h264"), path.join(plain.dir, "link.h264"));
    // 60 pictures at 30 fps span two seconds of wall time: the seconds field changed, and no
    // text stayed longer than one second's worth of frames (30, one more for pacing jitter).
    assert.ok(new Set(masks).size >= 2, "the text changed");
    assert.ok(longestRun(masks) <= 31, `one text lasted ${longestRun(masks)} frames`);
  });

  it("the recorder's --text: a time stamp in the bottom-left corner of every frame, the rest unchanged", async function () {
    [W, H] = [1280, 720];
    const CLI = path.join(ROOT, "bin", "qcam.mjs");
    const record = async (extra: string[]) => {
      const sd = tmpDir("qcam-sd-");
      const r = await runCmd(process.execPath, [CLI, "start", "--sdcard", sd, "--record", "2", "--codec", "h264", ...extra], { cwd: ROOT });
      assert.equal(r.code, 0, r.stderr);
      const dir = path.join(sd, "video");
      const files = fs.readdirSync(dir).filter((f) => f.endsWith(".mp4"));
      assert.equal(files.length, 1);
      return { stdout: r.stdout, file: path.join(dir, files[0]) };
    };
    const stamped = await record(["--text", "%Y-%m-%d %H:%M:%S"]);
    assert.match(stamped.stdout, /\n {2}text: "%Y-%m-%d %H:%M:%S" burned in, bottom left \(times in UTC\)\n/);
    const plain = await record([]);
    const ov = decodeGray(stamped.file);
    const ref = decodeGray(plain.file);
    let matched = 0;
    for (const [i, f] of ov.entries()) {
      const p = matchPlain(f, ref);
      if (!p) continue;
      matched++;
      // 3 Mbit/s CBR at 720p: the codec's noise is larger than in the 8 Mbit/s fixture, so the
      // box is judged by averages: the stamp's region (size 32, "YYYY-MM-DD HH:MM:SS") changed a
      // lot, a margin-wide strip below it and everything outside the bottom-left corner hardly.
      const box = (x: number, y: number) => x >= MARGIN + 8 && x < MARGIN + 300 && y >= H - MARGIN - 40 && y < H - MARGIN - 4;
      const corner = (x: number, y: number) => x < 640 && y >= H - 120;
      const inside = meanAbs(f, p, box);
      const rest = meanAbs(f, p, (x, y) => !corner(x, y));
      const edge = meanAbs(f, p, (x, y) => y >= H - MARGIN + 2 && x >= 64 && x < 256); // below the box, away from it by a block
      assert.ok(inside > 15, `frame ${i}: the stamp's region changed by ${inside.toFixed(2)} on average`);
      assert.ok(rest < 2 && edge < 6, `frame ${i}: outside the corner ${rest.toFixed(2)}, below the box ${edge.toFixed(2)}`);
    }
    assert.ok(matched >= ov.length / 2, `only ${matched} of ${ov.length} frames were in both recordings`);
    // A bad field is an option error (exit 2), before anything records.
    const bad = await runCmd(process.execPath, [CLI, "start", "--sdcard", tmpDir("qcam-sd-"), "--record", "1", "--text", "%Q"], { cwd: ROOT });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr + bad.stdout, /--text: Overlay text: unknown field/);
  });
});
