// The app store on the card (docs/app-store.md): install into the inactive
// slot with the state record as commit marker, refusals that leave the store
// as it was, power-cut trials MCUboot style (count an install's storage
// operations, cut at each, boot: the old or the new version runs, and the
// next install succeeds), and trial boot with rollback.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../../build/app-build.ts";
import { OFF, sealImage } from "../../build/image.ts";
import { ROOT, runtimeBinary, type Flavor } from "../../build/paths.ts";
import { run, spawnSyncChild, tmpDir } from "../helpers.ts";

const CUT_EXIT = 86; // host-modules/fs/backend_sim.c QCAM_FS_CUT_EXIT

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runtime(flavor: Flavor, args: string[], env: NodeJS.ProcessEnv = {}): Result {
  const r = spawnSyncChild(runtimeBinary(flavor), args, { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...env } });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
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

/** Every file under a folder with its bytes: "the store is unchanged". */
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

describe("app store: install, power cuts, trial boot", function () {
  this.timeout(600_000);
  const work = tmpDir("qcam-store-");
  const images: Record<string, string> = {};

  /** An app "demo" at `version` whose main.ts is `body`. */
  async function make(name: string, version: string, body: string, id = "demo"): Promise<string> {
    const dir = path.join(work, "src", name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "app.json"), JSON.stringify({ id, name: id, version }));
    fs.writeFileSync(path.join(dir, "main.ts"), `import { app } from "qcam:app";\nconsole.log(\`running \${app.id} \${app.version}\`);\n${body}\n`);
    const built = await buildApp(dir, { typecheck: false, out: path.join(work, `${name}.qcam`) });
    return built.image;
  }

  before(async function () {
    images.v1 = await make("v1", "1.0.0", "");
    images.v2 = await make("v2", "2.0.0", "");
    images.throws = await make("throws", "2.1.0", 'throw new Error("broken at start");');
    images.exits = await make("exits", "2.2.0", 'app.setExitMessage(3, "gave up");');
    images.good = await make("good", "3.0.0", 'console.log("markGood:", app.markGood(), app.markGood());\napp.setExitMessage(5, "ends badly after markGood");');
    images.other = await make("other", "1.0.0", "", "other");
    images.old = await make("old", "0.9.0", "");
    // Runs its loop 10.5 s by the tick clock, then fails: the 10 s rule made it good by then.
    images.loops = await make("loops", "4.0.0", 'import { ticksMs, sleepMs } from "qcam:time";\nconst t0 = ticksMs();\nwhile (!app.needExit() && ticksMs() - t0 < 10500) sleepMs(20);\napp.setExitMessage(4, "fails after its good run");');
  });

  const card = (name: string) => path.join(work, "cards", name);
  const install = (sd: string, image: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}, flavor: Flavor = "host") =>
    runtime(flavor, ["--sdcard", sd, "--install", image, ...extra], env);
  const boot = (sd: string, flavor: Flavor = "host") => runtime(flavor, ["--sdcard", sd, "--boot"]);
  const apps = (sd: string): AppState[] => {
    const r = runtime("host", ["--sdcard", sd, "--apps"]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as AppState);
  };
  const state = (sd: string, id = "demo") => apps(sd).find((a) => a.id === id);

  /** A card with 1.0.0 installed, autostarted and booted once (good). */
  function cardWithV1(name: string): string {
    const sd = card(name);
    fs.rmSync(sd, { recursive: true, force: true });
    const i = install(sd, images.v1, ["--autostart"]);
    assert.equal(i.code, 0, i.stderr);
    const b = boot(sd);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /running demo 1\.0\.0/);
    assert.deepEqual(state(sd), { id: "demo", active: "a", activeVersion: "1.0.0", pending: null, pendingVersion: null, tries: 0, rollback: null });
    return sd;
  }

  it("a first install is pending with 3 tries; a clean run makes it good", function () {
    const sd = card("first");
    const i = install(sd, images.v1, ["--autostart"]);
    assert.equal(i.code, 0, i.stderr);
    const st = JSON.parse(i.stdout) as AppState;
    assert.equal(st.pending, "a");
    assert.equal(st.pendingVersion, "1.0.0");
    assert.equal(st.tries, 3);
    assert.equal(st.active, null);
    assert.ok(fs.existsSync(path.join(sd, "qcam", "apps", "demo", "a", "app.qcam")));
    assert.equal(fs.readFileSync(path.join(sd, "qcam", "autostart"), "utf8"), "demo\n");
    const b = boot(sd);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /running demo 1\.0\.0/);
    assert.equal(state(sd)?.active, "a");
  });

  it("an upgrade goes to the other slot; the good one is not touched", function () {
    const sd = cardWithV1("upgrade");
    const slotA = fs.readFileSync(path.join(sd, "qcam/apps/demo/a/app.qcam"));
    const i = install(sd, images.v2);
    assert.equal(i.code, 0, i.stderr);
    assert.deepEqual(JSON.parse(i.stdout), { id: "demo", active: "a", activeVersion: "1.0.0", pending: "b", pendingVersion: "2.0.0", tries: 3, rollback: null });
    assert.deepEqual(fs.readFileSync(path.join(sd, "qcam/apps/demo/a/app.qcam")), slotA);
    const b = boot(sd);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /running demo 2\.0\.0/);
    assert.deepEqual(state(sd), { id: "demo", active: "b", activeVersion: "2.0.0", pending: null, pendingVersion: null, tries: 0, rollback: null });
  });

  describe("refusals: each with its code and message, the store unchanged", function () {
    const edit = (name: string, fn: (b: Buffer) => void) => {
      const b = Buffer.from(fs.readFileSync(images.v2));
      fn(b);
      sealImage(b);
      const f = path.join(work, `${name}.qcam`);
      fs.writeFileSync(f, b);
      return f;
    };
    const cases: { name: string; code: number; message: RegExp; image: () => string; extra?: string[] }[] = [
      { name: "wrong target", code: 17, message: /built for target sim-riscv64, this runtime is sim-x86_64/, image: () => edit("target", (b) => b.writeUInt16LE(2, OFF.target)) },
      { name: "other host-module ABI", code: 18, message: /other host-module declarations/, image: () => edit("abi", (b) => (b[OFF.abiHash] ^= 1)) },
      { name: "corrupt image", code: 14, message: /corrupt image/, image: () => {
        const b = Buffer.from(fs.readFileSync(images.v2));
        b[b.length - 100] ^= 1;
        const f = path.join(work, "corrupt.qcam");
        fs.writeFileSync(f, b);
        return f;
      } },
      { name: "a lower version", code: 31, message: /demo 0\.9\.0 is older than the installed 1\.0\.0 \(use --allow-downgrade\)/, image: () => images.old },
      { name: "not enough free space (twice the image)", code: 30, message: /not enough free space: \d+ bytes needed \(twice the image\), \d+ free/, image: () => images.v2, extra: ["--sdcard-size", "0.0015"] },
    ];
    for (const c of cases) {
      it(c.name, function () {
        const sd = cardWithV1(`refuse-${c.name.replace(/\W+/g, "-")}`);
        const before = snapshot(sd);
        const r = runtime("host", ["--sdcard", sd, ...(c.extra ?? []), "--install", c.image()]);
        assert.equal(r.code, c.code, r.stderr);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /^qcam: refusing .*: /);
        assert.match(r.stderr, c.message);
        assert.deepEqual(snapshot(sd), before, "the card is as it was");
      });
    }
    it("a lower version with --allow-downgrade is installed", function () {
      const sd = cardWithV1("downgrade-allowed");
      const r = install(sd, images.old, ["--allow-downgrade"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as AppState).pendingVersion, "0.9.0");
    });
  });

  describe("power cut at every storage operation of an install", function () {
    for (const flavor of ["host", "asan"] as const) {
      it(`${flavor}: the old or the new version boots, verified, and the next install succeeds`, function () {
        const base = cardWithV1(`cut-base-${flavor}`);
        // Count the operations of this install.
        const counted = card(`cut-count-${flavor}`);
        fs.cpSync(base, counted, { recursive: true });
        const c = install(counted, images.v2, [], { QCAM_FS_COUNT_OPS: "1" }, flavor);
        assert.equal(c.code, 0, c.stderr);
        const n = Number(/qcam-fs: (\d+) mutating operations/.exec(c.stderr)?.[1]);
        assert.ok(n >= 11, `an install is at least mkdir + two atomic writes of 5 operations; counted ${n}`);
        const seen = { old: 0, new: 0 };
        for (let k = 1; k <= n; k++) {
          const sd = card(`cut-${flavor}-${k}`);
          fs.cpSync(base, sd, { recursive: true });
          const cut = install(sd, images.v2, [], { QCAM_FS_CUT_AFTER: String(k) }, flavor);
          assert.equal(cut.code, CUT_EXIT, `cut at ${k}: ${cut.stderr}`);
          assert.match(cut.stderr, new RegExp(`power cut before operation ${k}`));
          const b = boot(sd, flavor);
          assert.equal(b.code, 0, `boot after the cut at ${k}: ${b.stderr}`);
          const ran = /running demo (\d\.\d\.\d)/.exec(b.stdout)?.[1];
          assert.ok(ran === "1.0.0" || ran === "2.0.0", `cut at ${k}: ran ${ran}`);
          seen[ran === "1.0.0" ? "old" : "new"]++;
          // Never wedged: installing again works, and boots.
          const again = install(sd, images.v2, ["--allow-downgrade"], {}, flavor);
          assert.equal(again.code, 0, `install after the cut at ${k}: ${again.stderr}`);
          const b2 = boot(sd, flavor);
          assert.equal(b2.code, 0, b2.stderr);
          assert.match(b2.stdout, /running demo 2\.0\.0/);
          assert.deepEqual(fs.readdirSync(path.join(sd, "qcam/apps/demo")).filter((f) => f.endsWith(".tmp")), [], "no temporary files left");
        }
        // The commit point is the rename of the state record: before it the old version, after it the new.
        assert.equal(seen.old + seen.new, n);
        assert.ok(seen.old > 0 && seen.new > 0, JSON.stringify(seen));
        fs.rmSync(path.join(work, "cards"), { recursive: true, force: true });
      });
    }
  });

  describe("trial boot", function () {
    for (const c of [
      { name: "a version that throws at start", image: "throws", version: "2.1.0", reason: /^2\.1\.0 in slot b: uncaught error \(exit 1\), every try used$/ },
      { name: "a version that exits non-zero", image: "exits", version: "2.2.0", reason: /^2\.2\.0 in slot b: exit code 3, every try used$/ },
    ]) {
      for (const flavor of ["host", "asan"] as const)
      it(`${flavor}: ${c.name} runs 3 times, is rolled back with the reason recorded, and the good one runs`, function () {
        const sd = cardWithV1(`trial-${c.image}-${flavor}`);
        const i = install(sd, images[c.image], [], {}, flavor);
        assert.equal(i.code, 0, i.stderr);
        const b = boot(sd, flavor);
        assert.equal(b.code, 0, b.stderr);
        assert.equal(b.stdout.match(new RegExp(`running demo ${c.version.replace(/\./g, "\\.")}`, "g"))?.length, 3, b.stdout);
        assert.match(b.stdout, /running demo 1\.0\.0\n$/);
        const st = state(sd)!;
        assert.equal(st.active, "a");
        assert.equal(st.pending, null);
        assert.match(st.rollback ?? "", c.reason);
        // The next boot runs the good version straight away.
        const b2 = boot(sd, flavor);
        assert.equal(b2.code, 0, b2.stderr);
        assert.equal(b2.stdout, "running demo 1.0.0\n");
      });
    }

    it("a crash during the trial (the process dies) costs a try; at 0 the next boot rolls back", function () {
      const sd = cardWithV1("trial-crash");
      assert.equal(install(sd, images.v2).code, 0);
      // Each boot takes its try before running: cut the power at the first write after it
      // (5 operations; the app writes nothing, so operation 6 is marking it good).
      for (let k = 0; k < 3; k++) {
        const b = runtime("host", ["--sdcard", sd, "--boot"], { QCAM_FS_CUT_AFTER: "6" });
        assert.equal(b.code, CUT_EXIT, b.stderr);
        assert.equal(state(sd)?.tries, 2 - k);
      }
      const b = boot(sd);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout, "running demo 1.0.0\n");
      assert.match(state(sd)?.rollback ?? "", /^2\.0\.0 in slot b did not come up in 3 tries/);
    });

    it("a version that calls markGood() stays, even if it then exits non-zero", function () {
      const sd = cardWithV1("trial-good");
      assert.equal(install(sd, images.good).code, 0);
      const b = boot(sd);
      assert.equal(b.code, 5, b.stderr);
      assert.match(b.stdout, /running demo 3\.0\.0\nmarkGood: true false\n/);
      assert.deepEqual(state(sd), { id: "demo", active: "b", activeVersion: "3.0.0", pending: null, pendingVersion: null, tries: 0, rollback: null });
      const b2 = boot(sd);
      assert.match(b2.stdout, /running demo 3\.0\.0/);
    });

    it("a version that runs its loop for 10 s without an error becomes good by itself, and stays when it then fails", function () {
      const sd = cardWithV1("trial-ten-seconds");
      assert.equal(install(sd, images.loops).code, 0);
      const b = boot(sd);
      assert.equal(b.code, 4, b.stderr);
      assert.match(b.stderr, /qcam-store: demo 4\.0\.0 in slot b is good/);
      assert.ok(b.stderr.indexOf("is good") < b.stderr.indexOf("app exit (4)"), b.stderr);
      assert.deepEqual(state(sd), { id: "demo", active: "b", activeVersion: "4.0.0", pending: null, pendingVersion: null, tries: 0, rollback: null });
    });

    it("riscv64 under qemu: install, a throwing version rolled back, the good one runs", async function () {
      const sd = card("riscv64");
      const v1 = await buildApp(path.join(work, "src", "v1"), { target: "riscv64", typecheck: false, out: path.join(work, "v1-rv.qcam") });
      const bad = await buildApp(path.join(work, "src", "throws"), { target: "riscv64", typecheck: false, out: path.join(work, "throws-rv.qcam") });
      const rv = (args: string[]) => {
        const r = spawnSyncChild("qemu-riscv64", [runtimeBinary("riscv64"), "--sdcard", sd, ...args], { encoding: "utf8", timeout: 120_000 });
        if (r.error) throw r.error;
        return r;
      };
      assert.equal(rv(["--install", images.v1]).status, 17, "a host image is refused on riscv64");
      assert.equal(rv(["--install", v1.image, "--autostart"]).status, 0);
      assert.equal(rv(["--boot"]).stdout, "running demo 1.0.0\n");
      assert.equal(rv(["--install", bad.image]).status, 0);
      const b = rv(["--boot"]);
      assert.equal(b.status, 0, b.stderr);
      assert.equal(b.stdout, "running demo 2.1.0\n".repeat(3) + "running demo 1.0.0\n");
      assert.match(state(sd)?.rollback ?? "", /uncaught error/);
    });

    it("a card too full to record a try: the good version runs and the trial waits", function () {
      const sd = cardWithV1("trial-full-card");
      assert.equal(install(sd, images.v2).code, 0);
      const used = Object.values(snapshot(sd)).reduce((n, b) => n + Buffer.from(b, "base64").length, 0);
      const b = runtime("host", ["--sdcard", sd, "--sdcard-size", String((used + 16) / 1048576), "--boot"]);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout, "running demo 1.0.0\n");
      assert.match(b.stderr, /cannot write the state record \(No space left on device\): the good version runs/);
      assert.equal(state(sd)?.tries, 3, "no try taken");
      assert.match(boot(sd).stdout, /running demo 2\.0\.0/, "with room again, the trial runs");
    });

    it("nothing to run: safe mode with its own code", function () {
      const sd = card("empty");
      const b = boot(sd);
      assert.equal(b.code, 33);
      assert.match(b.stderr, /qcam: safe mode: no autostart app/);
      assert.equal(install(sd, images.other).code, 0);
      assert.equal(boot(sd).code, 33, "installed without --autostart: still nothing to start");
      const skip = runtime("host", ["--sdcard", cardWithV1("skip"), "--boot", "--skip-autostart"]);
      assert.equal(skip.code, 33);
      assert.match(skip.stderr, /safe mode: autostart skipped/);
    });
  });

  describe("qcam flash and qcam apps", function () {
    const qcam = (argv: string[]) => {
      const env = { ...process.env };
      delete env.NODE_OPTIONS; // the user's shell has no mocha loader in it
      return run(process.execPath, [path.join(ROOT, "bin", "qcam.mjs"), ...argv], { env });
    };

    it("flash an app folder and an image onto a card folder; apps shows the states; a refusal passes its code", async function () {
      const sd = card("cli");
      const a = await qcam(["flash", path.join(work, "src", "v1"), "--sdcard", sd, "--autostart", "--no-typecheck"]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.stdout, "flashed demo · no good version · on trial 1.0.0 (slot a, 3 tries left) · autostart\n");
      assert.equal(boot(sd).code, 0);
      const b = await qcam(["flash", images.exits, "--sdcard", sd]);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout, "flashed demo · good 1.0.0 (slot a) · on trial 2.2.0 (slot b, 3 tries left)\n");
      assert.equal(boot(sd).code, 0);
      const l = await qcam(["apps", "--sdcard", sd]);
      assert.equal(l.code, 0, l.stderr);
      assert.equal(l.stdout, "demo · good 1.0.0 (slot a) · last rollback: 2.2.0 in slot b: exit code 3, every try used\n");
      const j = await qcam(["apps", "--sdcard", sd, "--json"]);
      assert.equal((JSON.parse(j.stdout) as AppState).rollback, "2.2.0 in slot b: exit code 3, every try used");
      const before = snapshot(sd);
      const d = await qcam(["flash", images.old, "--sdcard", sd]);
      assert.equal(d.code, 31);
      assert.match(d.stderr, /older than the installed 1\.0\.0/);
      assert.deepEqual(snapshot(sd), before);
      assert.equal((await qcam(["apps", "--sdcard", card("none")])).stdout, "no apps installed\n");
    });
  });
});
