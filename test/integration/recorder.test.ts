// The recorder app through the same path `npm start` takes (qcam start):
// type-checked build, image, runtime, files on the sim SD card judged by ffprobe.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { assertDecodesClean, probeStream, tmpDir } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");

describe("recorder app (npm start)", function () {
  it("--record 2 --codec h264 records two seconds of 720p into one file and exits 0", function () {
    const sd = tmpDir();
    const r = spawnSync(process.execPath, [CLI, "start", "--sdcard", sd, "--record", "2", "--codec", "h264"], { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^qcam recorder 0\.1\.0 on sim\n/);
    assert.match(r.stdout, /stopped after 2\.\d s\n$/);
    const files = fs.readdirSync(path.join(sd, "video"));
    assert.equal(files.length, 1);
    assert.match(files[0], /^rec_\d{8}_\d{6}_000\.h264$/);
    const p = probeStream(path.join(sd, "video", files[0]));
    assert.equal(p.codec, "h264");
    assert.equal(p.width, 1280);
    assert.ok(p.frames >= 55 && p.frames <= 62, `${p.frames} frames in 2 s at 30 fps`);
    assert.match(r.stdout, new RegExp(`saved /sdcard/video/${files[0]}: ${p.frames} frames`));
  });

  it("a bad option exits 2 with the reason", function () {
    const r = spawnSync(process.execPath, [CLI, "start", "--sdcard", tmpDir(), "--codec", "vp9"], { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /app exit \(2\): --codec must be h264 or h265, not vp9/);
  });

  it("without --record it records segments until SIGINT, then closes the last one cleanly", async function () {
    const sd = tmpDir();
    const child = spawn(process.execPath, [CLI, "start", "--sdcard", sd, "--segment", "1"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const t0 = Date.now();
    while (!out.includes("recording 2 s") && Date.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    const code = await new Promise((r) => child.on("close", r));
    assert.equal(code, 0, out);
    assert.match(out, /segments of 1 s until stopped/);
    const files = fs.readdirSync(path.join(sd, "video")).sort();
    assert.ok(files.length >= 2, files.join(" "));
    for (const f of files) {
      const p = probeStream(path.join(sd, "video", f));
      assert.equal(p.codec, "hevc");
      assert.ok(p.frames >= 1, `${f}: ${p.frames}`);
      assertDecodesClean(path.join(sd, "video", f));
    }
    assert.match(out, /stopped after \d+\.\d s\n$/);
  });
});
