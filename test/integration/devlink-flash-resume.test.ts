// A flash that survives a board reset (docs/app-store.md, "Over the dev
// link"): the pushed bytes are staged in a file on the card
// (/sdcard/qcam/staging/<sha256>.part, checkpointed in <sha256>.at), so a
// runtime killed mid-push goes on from its last checkpoint at the next
// `qcam flash --port`; and power cuts during the staging (the sim fs HAL's
// QCAM_FS_CUT_AFTER) leave a board that boots the old verified app and
// takes the next flash. A re-flash of a changed app goes as a delta against
// the installed version. The board's output is checked for sanitizer reports
// (the ASan board) whenever it goes down.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../../build/app-build.ts";
import { BoardLink } from "../../build/devlink/link.ts";
import { ROOT } from "../../build/paths.ts";
import { makeImages } from "../flash-kill-trial.ts";
import { childPids, spawnChild, tmpDir, type Started } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");

async function until(what: string, f: () => boolean, timeoutMs = 30000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function qcam(argv: string[], env: Record<string, string> = {}): Started {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.NODE_OPTIONS;
  return spawnChild(process.execPath, [CLI, ...argv], { cwd: ROOT, stdin: "pipe", group: true, env: e });
}

for (const flavor of ["host", "asan"] as const)
describe(`flash over the dev link survives a board reset (${flavor} runtime; the tests build on each other)`, function () {
  this.timeout(180000);
  let work: string;
  let sd: string;
  let port: string;
  let images: Record<string, string>;
  let board: Started | undefined;

  const staging = () => path.join(sd, "qcam", "staging");
  const stagingFiles = () => (fs.existsSync(staging()) ? fs.readdirSync(staging()).sort() : []);

  async function boardUp(extra: string[] = [], env: Record<string, string> = {}): Promise<Started> {
    board = qcam(["board", ...(flavor === "asan" ? ["--asan"] : []), "--sdcard", sd, "--link", port, ...extra], env);
    await until("the board", () => /board: \S+/.test(board!.output().stdout), 60000);
    return board;
  }

  async function boardDown(): Promise<void> {
    if (board) assert.doesNotMatch(board.output().stderr + board.output().stdout, /Sanitizer|runtime error:/);
    board?.signal("SIGKILL");
    await board?.done;
    board = undefined;
  }

  /** The board's runtime killed (a reset); resolves when its successor runs. */
  async function reset(b: Started): Promise<void> {
    const [pid] = childPids(b.child.pid!, "qcam-runtime");
    assert.ok(pid, "the board's runtime");
    const restarts = () => (b.output().stderr.match(/restarting it/g) ?? []).length;
    const before = restarts();
    process.kill(pid, "SIGKILL");
    await until("the runtime restarted", () => restarts() > before);
  }

  /** Push `image` over a BoardLink until `cut(acked)` says stop (asked at
   * every acknowledgement and every 10 ms); the link is closed then. */
  async function pushUntil(image: string, cut: (acked: number) => boolean): Promise<void> {
    const link = await BoardLink.open(port, {});
    await link.hello();
    let acked = 0;
    let stop = false;
    const pushed = link.push(fs.readFileSync(image), (n) => {
      acked = n;
      if (!stop) stop = cut(n);
    });
    let over = false;
    void pushed.catch(() => undefined).then(() => (over = true));
    await until("the cut", () => stop || over || (stop = cut(acked)), 60000);
    assert.ok(stop, "the push was cut before it ended");
    await link.close();
    await pushed.catch(() => undefined);
  }

  before(async function () {
    work = tmpDir("qcam-flash-resume-");
    sd = path.join(work, "card");
    fs.mkdirSync(sd);
    port = path.join(work, "board.tty");
    images = await makeImages(work);
  });

  afterEach(boardDown);

  it("the runtime SIGKILLed mid-push: the next qcam flash --port resumes past 0 and the app boots", async function () {
    const b = await boardUp(["--baud", "921600"]);
    const hash = createHash("sha256").update(fs.readFileSync(images["1.0.0"])).digest("hex");
    let killed = false;
    await pushUntil(images["1.0.0"], (acked) => {
      if (killed || acked < 80_000) return false;
      killed = true;
      process.kill(childPids(b.child.pid!, "qcam-runtime")[0], "SIGKILL");
      return true;
    });
    assert.ok(killed, "the push was cut");
    await until("the runtime restarted", () => /restarting it/.test(b.output().stderr));
    assert.deepEqual(stagingFiles(), [`${hash}.at`, `${hash}.part`]);
    const checkpoint = Number(fs.readFileSync(path.join(staging(), `${hash}.at`), "utf8").split(" ")[0]);
    assert.ok(checkpoint >= 32768, `checkpoint ${checkpoint}`);
    const f = qcam(["flash", images["1.0.0"], "--port", port, "--autostart"]);
    const r = await f.done;
    assert.equal(r.code, 0, r.stderr);
    const m = /resumed at byte (\d+) of (\d+)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.equal(Number(m[1]), checkpoint);
    assert.match(r.stdout, /^flashed demo · no good version · on trial 1\.0\.0 \(slot a, 3 tries left\) · autostart$/m);
    assert.deepEqual(stagingFiles(), []);
    await reset(b);
    await until("the flashed app booted", () => /running demo 1\.0\.0 \(1500\)/.test(b.output().stdout));
  });

  it("power cuts during the staging: the old app boots, nothing half-staged runs, the next flash installs", async function () {
    const hash2 = createHash("sha256").update(fs.readFileSync(images["2.0.0"])).digest("hex");
    for (const k of [3, 12, 25]) {
      // Safe mode: the only storage operations are the push's.
      const b = await boardUp(["--skip-autostart"], { QCAM_FS_CUT_AFTER: String(k) });
      // The cut ends the runtime with the fs HAL's code 86 (its own word on stderr goes
      // to the console pipe, which dies with it); the board starts it again.
      await pushUntil(images["2.0.0"], () => /the runtime exited \(code 86\)/.test(b.output().stderr));
      assert.ok(stagingFiles().length > 0, `cut ${k}: something was staged`);
      // Only this image's: the first test's files (another image) were cleaned away.
      for (const f of stagingFiles()) assert.ok(f.startsWith(hash2), f);
      await boardDown();
      // Power back: the old version boots, verified.
      const again = await boardUp();
      await until(`the old app after cut ${k}`, () => /running demo \d\.0\.0/.test(again.output().stdout));
      assert.match(again.output().stdout, /running demo 1\.0\.0 \(1500\)/);
      await boardDown();
    }
    const b = await boardUp();
    const f = qcam(["flash", images["2.0.0"], "--port", port]);
    const r = await f.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /on trial 2\.0\.0/);
    assert.deepEqual(stagingFiles(), []);
    await reset(b);
    await until("the new app booted", () => /running demo 2\.0\.0 \(1500\)/.test(b.output().stdout));
    // It calls markGood() right after that line: wait for the store to record it (no slot pending),
    // so that the next test's base is 2.0.0 whatever this machine's speed.
    const state = path.join(sd, "qcam", "apps", "demo", "state");
    await until("2.0.0 marked good", () => fs.existsSync(state) && /^pending -$/m.test(fs.readFileSync(state, "utf8")));
  });

  it("a re-flash of a slightly changed app goes as a delta against the installed version: a small share of its bytes", async function () {
    // 2.0.1: the 2.0.0 app (installed by the test before) with one line changed.
    const src = path.join(work, "src", "2.0.1");
    fs.cpSync(path.join(work, "src", "2.0.0"), src, { recursive: true });
    fs.writeFileSync(path.join(src, "app.json"), JSON.stringify({ id: "demo", name: "demo", version: "2.0.1" }));
    const main = path.join(src, "main.ts");
    fs.writeFileSync(main, fs.readFileSync(main, "utf8").replace("console.log(`running", "console.log(`now running"));
    const image = (await buildApp(src, { typecheck: false, out: path.join(work, "demo-2.0.1.qcam") })).image;
    const bytes = fs.readFileSync(image);
    // Safe mode: nothing runs, so the board names no running image to diff against;
    // the base is the installed version, asked of the store.
    await boardUp(["--skip-autostart"]);
    const r = await qcam(["flash", image, "--port", port]).done;
    assert.equal(r.code, 0, r.stderr);
    const m = /\[flash\] sent (\d+) bytes \(a delta against the installed version; the image is (\d+)\)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.equal(Number(m[2]), bytes.length);
    assert.ok(Number(m[1]) < bytes.length / 10, `${m[1]} of ${bytes.length} bytes sent`);
    console.log(`      re-flash sent ${m[1]} of ${bytes.length} bytes`);
    const slot = /good 2\.0\.0 \(slot [ab]\) · on trial 2\.0\.1 \(slot ([ab])/.exec(r.stdout);
    assert.ok(slot, r.stdout);
    // The slot holds the image itself, and it boots.
    assert.deepEqual(fs.readFileSync(path.join(sd, "qcam", "apps", "demo", slot[1], "app.qcam")), bytes);
    await boardDown();
    const b = await boardUp();
    await until("the changed app booted", () => /now running demo 2\.0\.1 \(1500\)/.test(b.output().stdout));
  });
});
