// qcam rollback and qcam remove on a card (docs/app-store.md, "Rollback and
// remove by hand"): what each does, their refusals with codes and the card
// unchanged, and the power-cut trials of both, MCUboot style like install's:
// count their storage operations, cut at each in turn (host and ASan), boot
// and check that a verified version (or, for remove, nothing) runs and that
// the store is never wedged.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../../build/app-build.ts";
import { ROOT, runtimeBinary, type Flavor } from "../../build/paths.ts";
import { run, spawnSyncChild, tmpDir } from "../helpers.ts";

const CUT_EXIT = 86;

function runtime(flavor: Flavor, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSyncChild(runtimeBinary(flavor), args, { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...env } });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface AppState {
  id: string;
  active: string | null;
  activeVersion: string | null;
  pending: string | null;
  pendingVersion: string | null;
  tries: number;
  rollback: string | null;
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p).toString("base64");
    }
  };
  walk(dir);
  return out;
}

describe("app store: rollback and remove by hand", function () {
  this.timeout(600_000);
  const work = tmpDir("qcam-manage-");
  const images: Record<string, string> = {};

  async function make(name: string, version: string): Promise<string> {
    const dir = path.join(work, "src", name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "app.json"), JSON.stringify({ id: "demo", name: "demo", version }));
    fs.writeFileSync(path.join(dir, "main.ts"), 'import { app } from "qcam:app";\nconsole.log(`running ${app.id} ${app.version}`);\n');
    return (await buildApp(dir, { typecheck: false, out: path.join(work, `${name}.qcam`) })).image;
  }

  before(async function () {
    images.v1 = await make("v1", "1.0.0");
    images.v2 = await make("v2", "2.0.0");
    images.v3 = await make("v3", "3.0.0");
  });

  const card = (name: string) => path.join(work, "cards", name);
  const install = (sd: string, image: string, extra: string[] = [], flavor: Flavor = "host") => runtime(flavor, ["--sdcard", sd, "--install", image, ...extra]);
  const boot = (sd: string, flavor: Flavor = "host") => runtime(flavor, ["--sdcard", sd, "--boot"]);
  const state = (sd: string): AppState | undefined => {
    const r = runtime("host", ["--sdcard", sd, "--apps"]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as AppState).find((a) => a.id === "demo");
  };

  /** 1.0.0 good in slot a, then 2.0.0 good in slot b (autostart). */
  function cardWithTwo(name: string): string {
    const sd = card(name);
    fs.rmSync(sd, { recursive: true, force: true });
    assert.equal(install(sd, images.v1, ["--autostart"]).code, 0);
    assert.equal(boot(sd).code, 0);
    assert.equal(install(sd, images.v2).code, 0);
    assert.match(boot(sd).stdout, /running demo 2\.0\.0/);
    assert.deepEqual(state(sd), { id: "demo", active: "b", activeVersion: "2.0.0", pending: null, pendingVersion: null, tries: 0, rollback: null });
    return sd;
  }

  it("rollback returns to the previous good version, and rolling back again returns to the newer", function () {
    const sd = cardWithTwo("rollback");
    const r = runtime("host", ["--sdcard", sd, "--rollback", "demo"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { id: "demo", active: "a", activeVersion: "1.0.0", pending: null, pendingVersion: null, tries: 0, rollback: "2.0.0 in slot b: rolled back by hand to 1.0.0" });
    assert.equal(boot(sd).stdout, "running demo 1.0.0\n");
    assert.equal(runtime("host", ["--sdcard", sd, "--rollback", "demo"]).code, 0);
    assert.equal(boot(sd).stdout, "running demo 2.0.0\n");
  });

  it("rollback drops a version on trial; the good one stays", function () {
    const sd = cardWithTwo("rollback-trial");
    assert.equal(install(sd, images.v3).code, 0);
    const r = runtime("host", ["--sdcard", sd, "--rollback", "demo"]);
    assert.equal(r.code, 0, r.stderr);
    const st = JSON.parse(r.stdout) as AppState;
    assert.equal(st.pending, null);
    assert.equal(st.activeVersion, "2.0.0");
    assert.equal(st.rollback, "3.0.0 in slot a: rolled back by hand (on trial)");
    assert.equal(boot(sd).stdout, "running demo 2.0.0\n");
  });

  it("an install over the previous good version first forgets it, so a rollback never returns to a half-written slot", function () {
    const sd = cardWithTwo("forget");
    // Cut the install of 3.0.0 into slot a right after it forgot 1.0.0 (one atomic state write: 5 operations) and a bit of the image.
    const cut = runtime("host", ["--sdcard", sd, "--install", images.v3], { QCAM_FS_CUT_AFTER: "8" });
    assert.equal(cut.code, CUT_EXIT, cut.stderr);
    const r = runtime("host", ["--sdcard", sd, "--rollback", "demo"]);
    assert.equal(r.code, 40, r.stderr);
    assert.match(r.stderr, /demo has no other version to go back to/);
    assert.equal(boot(sd).stdout, "running demo 2.0.0\n");
  });

  it("refusals: not installed (39), nothing to go back to (40), a previous slot that no longer verifies (40); the card unchanged", function () {
    const sd = card("refuse");
    fs.rmSync(sd, { recursive: true, force: true });
    assert.equal(install(sd, images.v1, ["--autostart"]).code, 0);
    assert.equal(boot(sd).code, 0);
    let before = snapshot(sd);
    const a = runtime("host", ["--sdcard", sd, "--rollback", "nope"]);
    assert.equal(a.code, 39);
    assert.match(a.stderr, /^qcam: refusing nope: nope is not installed/);
    assert.equal(runtime("host", ["--sdcard", sd, "--remove", "nope"]).code, 39);
    const b = runtime("host", ["--sdcard", sd, "--rollback", "demo"]);
    assert.equal(b.code, 40);
    assert.deepEqual(snapshot(sd), before);
    const two = cardWithTwo("refuse-corrupt");
    const slotA = path.join(two, "qcam/apps/demo/a/app.qcam");
    const buf = fs.readFileSync(slotA);
    buf[300] ^= 1;
    fs.writeFileSync(slotA, buf);
    before = snapshot(two);
    const c = runtime("host", ["--sdcard", two, "--rollback", "demo"]);
    assert.equal(c.code, 40);
    assert.match(c.stderr, /demo cannot go back to 1\.0\.0: slot a does not verify: corrupt image/);
    assert.deepEqual(snapshot(two), before);
  });

  it("remove: the app, its slots and its autostart line go; its data folder stays; installing again starts fresh", function () {
    const sd = cardWithTwo("remove");
    fs.mkdirSync(path.join(sd, "apps/demo/data"), { recursive: true });
    fs.writeFileSync(path.join(sd, "apps/demo/data/keep.txt"), "mine");
    const r = runtime("host", ["--sdcard", sd, "--remove", "demo"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { id: "demo", removed: true });
    assert.equal(state(sd), undefined);
    assert.ok(!fs.existsSync(path.join(sd, "qcam/apps/demo")));
    assert.ok(!fs.existsSync(path.join(sd, "qcam/autostart")));
    assert.equal(fs.readFileSync(path.join(sd, "apps/demo/data/keep.txt"), "utf8"), "mine");
    const b = boot(sd);
    assert.equal(b.code, 33);
    assert.match(b.stderr, /safe mode: no autostart app/);
    const i = install(sd, images.v1, ["--autostart"]);
    assert.equal(i.code, 0, i.stderr);
    assert.equal((JSON.parse(i.stdout) as AppState).pending, "a");
  });

  it("installing the same bytes again writes nothing (an unchanged re-flash); --autostart still applies", function () {
    const sd = cardWithTwo("same-again");
    fs.rmSync(path.join(sd, "qcam/autostart"));
    const before = snapshot(sd);
    const times = () => ["state", "a/app.qcam", "b/app.qcam"].map((f) => fs.statSync(path.join(sd, "qcam/apps/demo", f)).mtimeMs);
    const t0 = times();
    const r = runtime("host", ["--sdcard", sd, "--install", images.v2], { QCAM_FS_COUNT_OPS: "1" });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /qcam-fs: [1-9]\d* mutating operations/);
    assert.deepEqual(JSON.parse(r.stdout).activeVersion, "2.0.0");
    assert.deepEqual(snapshot(sd), before);
    assert.deepEqual(times(), t0, "not even rewritten");
    assert.equal(runtime("host", ["--sdcard", sd, "--install", images.v2, "--autostart"]).code, 0);
    assert.equal(fs.readFileSync(path.join(sd, "qcam/autostart"), "utf8"), "demo\n");
  });

  it("qcam rollback and qcam remove on a card folder", async function () {
    const sd = cardWithTwo("cli");
    const qcam = (argv: string[]) => {
      const env = { ...process.env };
      delete env.NODE_OPTIONS;
      return run(process.execPath, [path.join(ROOT, "bin", "qcam.mjs"), ...argv], { env });
    };
    const r = await qcam(["rollback", "demo", "--sdcard", sd]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "rolled back demo · good 1.0.0 (slot a) · last rollback: 2.0.0 in slot b: rolled back by hand to 1.0.0\n");
    const m = await qcam(["remove", "demo", "--sdcard", sd]);
    assert.equal(m.code, 0, m.stderr);
    assert.equal(m.stdout, "removed demo\n");
    const again = await qcam(["remove", "demo", "--sdcard", sd]);
    assert.equal(again.code, 39);
    assert.match(again.stderr, /demo is not installed/);
  });

  describe("power cut at every storage operation", function () {
    for (const flavor of ["host", "asan"] as const) {
      for (const op of ["rollback", "remove"] as const) {
        it(`${flavor}: ${op} — the old state or the new one, a verified app (or, removed, safe mode), never wedged`, function () {
          const base = cardWithTwo(`cut-${op}-${flavor}-base`);
          const counted = card(`cut-${op}-${flavor}-count`);
          fs.cpSync(base, counted, { recursive: true });
          const c = runtime(flavor, ["--sdcard", counted, `--${op}`, "demo"], { QCAM_FS_COUNT_OPS: "1" });
          assert.equal(c.code, 0, c.stderr);
          const n = Number(/qcam-fs: (\d+) mutating operations/.exec(c.stderr)?.[1]);
          assert.ok(n >= 5, `at least one atomic state write; counted ${n}`);
          const seen = { old: 0, new: 0 };
          for (let k = 1; k <= n; k++) {
            const sd = card(`cut-${op}-${flavor}-${k}`);
            fs.cpSync(base, sd, { recursive: true });
            const cut = runtime(flavor, ["--sdcard", sd, `--${op}`, "demo"], { QCAM_FS_CUT_AFTER: String(k) });
            assert.equal(cut.code, CUT_EXIT, `cut at ${k}: ${cut.stderr}`);
            const b = boot(sd, flavor);
            if (op === "rollback") {
              assert.equal(b.code, 0, `boot after the cut at ${k}: ${b.stderr}`);
              const ran = /running demo (\d\.\d\.\d)/.exec(b.stdout)?.[1];
              assert.ok(ran === "2.0.0" || ran === "1.0.0", `cut at ${k}: ran ${ran}`);
              seen[ran === "2.0.0" ? "old" : "new"]++;
            } else {
              const ran = /running demo (\d\.\d\.\d)/.exec(b.stdout)?.[1];
              if (ran) assert.equal(ran, "2.0.0", `cut at ${k}`);
              else assert.equal(b.code, 33, `cut at ${k}: ${b.stderr}`);
              seen[ran ? "old" : "new"]++;
            }
            // Never wedged: the command completes when given again (remove: or says it is gone), and an install works.
            const again = runtime(flavor, ["--sdcard", sd, `--${op}`, "demo"]);
            assert.ok(again.code === 0 || (op === "remove" && again.code === 39), `${op} after the cut at ${k}: ${again.stderr}`);
            const i = install(sd, images.v3, ["--autostart"], flavor);
            assert.equal(i.code, 0, `install after the cut at ${k}: ${i.stderr}`);
            assert.match(boot(sd, flavor).stdout, /running demo 3\.0\.0/);
            assert.deepEqual(fs.readdirSync(path.join(sd, "qcam/apps/demo")).filter((f) => f.endsWith(".tmp")), []);
          }
          assert.equal(seen.old + seen.new, n);
          assert.ok(seen.old > 0 && seen.new > 0, JSON.stringify(seen));
        });
      }
    }
  });
});
