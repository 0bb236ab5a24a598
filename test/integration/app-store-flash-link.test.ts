// qcam flash|apps|rollback|remove --port: the app store over the dev link
// (docs/app-store.md, "Over the dev link"), and SIGKILLs at seeded random
// moments during a flash (test/flash-kill-trial.ts) — of the host and the
// board (power cut), of the board's runtime alone while the flash runs on
// (board reset: the flash ends with a clear error or finishes, never
// hangs), of the host alone: after each the board boots a verified app,
// the old or the new, and the next flash completes. A few here
// (QCAM_FLASH_KILLS, default 4, every mode); `npm run soak` runs 20, all
// kills of the board.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { makeImages, runFlashKillTrials } from "../flash-kill-trial.ts";
import { envCount, run, spawnChild, tmpDir } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");
const qcam = (argv: string[]) => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return run(process.execPath, [CLI, ...argv], { env });
};

describe("app store over the dev link", function () {
  this.timeout(900_000);

  for (const flavor of ["host", "asan"] as const)
  it(`${flavor}: flash --port: progress, the board's answer, a refusal with its code; apps, rollback, remove --port; an unchanged re-flash sends nothing`, async function () {
    const work = tmpDir("qcam-flashport-");
    const images = await makeImages(work);
    const sd = path.join(work, "card");
    fs.mkdirSync(sd, { recursive: true });
    const b = spawnChild(process.execPath, [CLI, "board", "--sdcard", sd, ...(flavor === "asan" ? ["--asan"] : [])], { stdin: "pipe", group: true });
    try {
      await b.waitFor(/board: \S+/);
      const port = /board: (\S+)/.exec(b.output().stdout)![1];
      const f1 = await qcam(["flash", images["1.0.0"], "--port", port, "--autostart"]);
      assert.equal(f1.code, 0, f1.stderr);
      assert.match(f1.stderr, /\[flash\] demo-1\.0\.0\.qcam \[#{30}\] 100% \d+\/\d+ KiB/);
      assert.equal(f1.stdout, "flashed demo · no good version · on trial 1.0.0 (slot a, 3 tries left) · autostart\n");
      const f2 = await qcam(["flash", images["2.0.0"], "--port", port]);
      assert.equal(f2.code, 0, f2.stderr);
      assert.equal(f2.stdout, "flashed demo · no good version · on trial 2.0.0 (slot a, 3 tries left)\n");
      const again = await qcam(["flash", images["2.0.0"], "--port", port]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /the board has it already/);
      // A refusal keeps the store's code: a lower version than a good one.
      const sdState = path.join(sd, "qcam/apps/demo/state");
      fs.writeFileSync(sdState, fs.readFileSync(sdState, "utf8").replace("active -", "active a").replace("pending a", "pending -"));
      const before = fs.readFileSync(sdState);
      const down = await qcam(["flash", images["1.0.0"], "--port", port]);
      assert.equal(down.code, 31, down.stderr);
      assert.match(down.stderr, /qcam: refusing demo-1\.0\.0\.qcam: demo 1\.0\.0 is older than the installed 2\.0\.0 \(use --allow-downgrade\)/);
      assert.deepEqual(fs.readFileSync(sdState), before);
      const apps = await qcam(["apps", "--port", port]);
      assert.equal(apps.stdout, "demo · good 2.0.0 (slot a)\n");
      const json = await qcam(["apps", "--port", port, "--json"]);
      assert.equal(JSON.parse(json.stdout).activeVersion, "2.0.0");
      assert.equal((await qcam(["rollback", "demo", "--port", port])).code, 40);
      assert.equal((await qcam(["flash", images["1.0.0"], "--port", port, "--allow-downgrade"])).code, 0);
      const rb = await qcam(["rollback", "demo", "--port", port]);
      assert.equal(rb.code, 0, rb.stderr);
      assert.equal(rb.stdout, "rolled back demo · good 2.0.0 (slot a) · last rollback: 1.0.0 in slot b: rolled back by hand (on trial)\n");
      const rm = await qcam(["remove", "demo", "--port", port]);
      assert.equal(rm.stdout, "removed demo\n");
      assert.equal((await qcam(["apps", "--port", port])).stdout, "no apps installed\n");
      assert.equal((await qcam(["remove", "demo", "--port", port])).code, 39);
    } finally {
      b.signal("SIGKILL");
      await b.done;
    }
  });

  it("the host, the board, or both SIGKILLed at random moments during a flash: no hang, the board boots a verified app, old or new, and the next flash completes", async function () {
    const n = envCount("QCAM_FLASH_KILLS", 4, 2);
    const seed = envCount("QCAM_FLASH_KILL_SEED", 14, 0); // its board reset lands mid-push
    const trials = await runFlashKillTrials(n, seed, (l) => console.log(`      ${l}`));
    assert.equal(trials.length, n);
    assert.deepEqual(trials.flatMap((t) => t.problems), []);
    for (const t of trials) assert.match(t.booted, /^[12]\.0\.0$/);
    assert.ok(trials.some((t) => t.mode === "board reset"), "a board reset among the kills");
    for (const t of trials.filter((x) => x.mode === "board reset")) assert.match(t.flash, /^(finished|exit \d+: qcam: \S)/);
  });
});
