// The hang watchdog of a version on trial (docs/app-store.md, "Trial boot"):
// a version that never turns its loop (no needExit(), no return to the event
// loop) is stopped by the engine's interrupt handler, one blocked outside
// JavaScript ends the process as a board's watchdog reset; each costs a try
// and at 0 the good version comes back with the reason recorded. Waiting for
// a timer is not hanging. QCAM_TRIAL_HANG_MS shortens the watchdog here.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../../build/app-build.ts";
import { runtimeBinary, type Flavor } from "../../build/paths.ts";
import { spawnSyncChild, tmpDir } from "../helpers.ts";

const HUNG = 23; // QCAM_EXIT_HUNG, runtime/store/store.h

function runtime(flavor: Flavor, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSyncChild(runtimeBinary(flavor), args, { encoding: "utf8", timeout: 120_000, env: { ...process.env, QCAM_TRIAL_HANG_MS: "300", ...env } });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("app store: the hang watchdog of a version on trial", function () {
  this.timeout(300_000);
  const work = tmpDir("qcam-watchdog-");
  const images: Record<string, string> = {};

  async function make(name: string, version: string, body: string): Promise<string> {
    const dir = path.join(work, "src", name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "app.json"), JSON.stringify({ id: "demo", name: "demo", version }));
    fs.writeFileSync(path.join(dir, "main.ts"), `import { app } from "qcam:app";\nimport { sleepMs } from "qcam:time";\nvoid sleepMs;\nconsole.log(\`running \${app.id} \${app.version}\`);\n${body}\n`);
    return (await buildApp(dir, { typecheck: false, out: path.join(work, `${name}.qcam`) })).image;
  }

  before(async function () {
    images.v1 = await make("v1", "1.0.0", "");
    images.spins = await make("spins", "2.0.0", "let n = 0;\nwhile (n >= 0) n++;");
    images.spinsInTimer = await make("timer-spin", "2.1.0", "setTimeout(() => { let n = 0; while (n >= 0) n++; }, 10);");
    images.blocks = await make("blocks", "2.2.0", "sleepMs(600000);");
    images.waits = await make("waits", "3.0.0", 'setTimeout(() => console.log("timer after a long wait"), 1200);');
  });

  function cardWithV1(name: string, flavor: Flavor = "host"): string {
    const sd = path.join(work, "cards", name);
    fs.rmSync(sd, { recursive: true, force: true });
    assert.equal(runtime(flavor, ["--sdcard", sd, "--install", images.v1, "--autostart"]).code, 0);
    assert.equal(runtime(flavor, ["--sdcard", sd, "--boot"]).code, 0);
    return sd;
  }
  const state = (sd: string) => JSON.parse(runtime("host", ["--sdcard", sd, "--apps"]).stdout.trim()) as { active: string; pending: string | null; tries: number; rollback: string | null };

  for (const flavor of ["host", "asan"] as const) {
    for (const c of [
      { name: "spins at the top level without needExit()", image: "spins", version: "2.0.0" },
      { name: "spins in a timer callback", image: "spinsInTimer", version: "2.1.0" },
    ]) {
      it(`${flavor}: a version that ${c.name} is stopped each try and rolled back; the good one runs`, function () {
        const sd = cardWithV1(`${c.image}-${flavor}`, flavor);
        assert.equal(runtime(flavor, ["--sdcard", sd, "--install", images[c.image]]).code, 0);
        const b = runtime(flavor, ["--sdcard", sd, "--boot"]);
        assert.equal(b.code, 0, b.stderr);
        assert.equal(b.stdout, `running demo ${c.version}\n`.repeat(3) + "running demo 1.0.0\n");
        assert.equal(b.stderr.match(/on trial hung \(no needExit\(\) or loop turn for 300 ms\): stopped/g)?.length, 3, b.stderr);
        const st = state(sd);
        assert.equal(st.pending, null);
        assert.equal(st.active, "a");
        assert.equal(st.rollback, `${c.version} in slot b: hung (no needExit() or loop turn in time), every try used`);
      });
    }
  }

  it("a version blocked outside JavaScript: the watchdog ends the process (a reset) each try; the third records the rollback", function () {
    const sd = cardWithV1("blocks");
    assert.equal(runtime("host", ["--sdcard", sd, "--install", images.blocks]).code, 0);
    for (let k = 0; k < 3; k++) {
      const b = runtime("host", ["--sdcard", sd, "--boot"]);
      assert.equal(b.code, HUNG, b.stderr);
      assert.equal(b.stdout, "running demo 2.2.0\n");
      assert.match(b.stderr, /on trial blocked for 2300 ms: watchdog reset/);
    }
    assert.equal(state(sd).rollback, "2.2.0 in slot b: hung (blocked, watchdog reset), every try used");
    const b = runtime("host", ["--sdcard", sd, "--boot"]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout, "running demo 1.0.0\n");
  });

  it("waiting for a timer longer than the watchdog is not a hang: the version becomes good", function () {
    const sd = cardWithV1("waits");
    assert.equal(runtime("host", ["--sdcard", sd, "--install", images.waits]).code, 0);
    const b = runtime("host", ["--sdcard", sd, "--boot"]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout, "running demo 3.0.0\ntimer after a long wait\n");
    assert.doesNotMatch(b.stderr, /hung/);
    assert.equal(state(sd).active, "b");
  });
});
