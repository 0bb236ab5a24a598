// The recorder app through the same path `npm start` takes (qcam start):
// type-checked build, image, runtime, exit code.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { tmpDir } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");

describe("recorder app (npm start)", function () {
  it("--record 1 prints its plan, runs one second and exits 0", function () {
    const r = spawnSync(process.execPath, [CLI, "start", "--sdcard", tmpDir(), "--record", "1", "--codec", "h264"], { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^qcam recorder 0\.1\.0 on sim\n/);
    assert.match(r.stdout, /H264 -> \/sdcard\/video/);
    assert.match(r.stdout, /stopped after 1\.\d s\n$/);
  });

  it("a bad option exits 2 with the reason", function () {
    const r = spawnSync(process.execPath, [CLI, "start", "--sdcard", tmpDir(), "--codec", "vp9"], { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /app exit \(2\): --codec must be h264 or h265, not vp9/);
  });

  it("without --record it runs until SIGINT, then stops cleanly", async function () {
    const child = spawn(process.execPath, [CLI, "start", "--sdcard", tmpDir()], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const t0 = Date.now();
    while (!out.includes("running 1 s") && Date.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    const code = await new Promise((r) => child.on("close", r));
    assert.equal(code, 0);
    assert.match(out, /segments of 60 s until stopped/);
    assert.match(out, /stopped after \d+\.\d s\n$/);
  });
});
