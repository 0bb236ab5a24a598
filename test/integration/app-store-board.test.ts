// A board at power-on keeps its dev link up (docs/app-store.md, "Trial
// boot"): `qcam-runtime --boot --serve DEVICE`, as `qcam board` starts it,
// runs the card's autostart app through trial boot and answers the link the
// whole time; a version on trial that fails is rolled back with the link up;
// safe mode (nothing to run, or the held key) just serves.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../../build/app-build.ts";
import { BoardLink } from "../../build/devlink/link.ts";
import { ROOT, runtimeBinary } from "../../build/paths.ts";
import { spawnChild, spawnSyncChild, tmpDir } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");

async function until(what: string, f: () => boolean, timeoutMs = 60000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("app store: a board boots its autostart app with the dev link up", function () {
  this.timeout(300_000);
  const work = tmpDir("qcam-boardboot-");
  const images: Record<string, string> = {};

  async function make(name: string, version: string, body: string): Promise<string> {
    const dir = path.join(work, "src", name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "app.json"), JSON.stringify({ id: "demo", name: "demo", version }));
    fs.writeFileSync(path.join(dir, "main.ts"), `import { app } from "qcam:app";\nimport { sleepMs } from "qcam:time";\nvoid sleepMs;\nconsole.log(\`running \${app.id} \${app.version}\`);\n${body}\n`);
    return (await buildApp(dir, { typecheck: false, out: path.join(work, `${name}.qcam`) })).image;
  }

  before(async function () {
    images.loops = await make("loops", "1.0.0", "while (!app.needExit()) sleepMs(10);\nconsole.log('bye');");
    images.throws = await make("throws", "2.0.0", 'throw new Error("broken");');
  });

  const install = (sd: string, image: string, extra: string[] = []) => {
    const r = spawnSyncChild(runtimeBinary("host"), ["--sdcard", sd, "--install", image, ...extra], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  };
  const apps = (sd: string) => JSON.parse(spawnSyncChild(runtimeBinary("host"), ["--sdcard", sd, "--apps"], { encoding: "utf8" }).stdout.trim());

  /** `qcam board` on `sd`; the console the link forwards, collected. */
  async function boardOn(sd: string, extra: string[] = []) {
    const b = spawnChild(process.execPath, [CLI, "board", "--sdcard", sd, ...extra], { stdin: "pipe", group: true });
    await until("the board's path", () => /board: (\S+)/.test(b.output().stdout));
    const port = /board: (\S+)/.exec(b.output().stdout)![1];
    let text = "";
    const link = await BoardLink.open(port, { console: (_s, d) => (text += d.toString("utf8")) });
    return { b, link, console: () => text };
  }

  it("qcam board: the autostart app runs; the link answers while it runs; a stop ends it and the board serves on", async function () {
    const sd = path.join(work, "card-run");
    install(sd, images.loops, ["--autostart"]);
    const { b, link } = await boardOn(sd);
    try {
      await until("the app's first line", () => /running demo 1\.0\.0/.test(b.output().stdout));
      const hello = await link.hello();
      assert.equal(hello.state, "running");
      assert.equal(await link.stop(), true);
      await until("the app's end", () => /bye/.test(b.output().stdout));
      let st = (await link.hello()).state;
      for (let k = 0; k < 100 && st !== "idle"; k++) {
        await new Promise((r) => setTimeout(r, 20));
        st = (await link.hello()).state;
      }
      assert.equal(st, "idle");
      // Stopped from outside during its trial: the try is given back.
      assert.equal(apps(sd).active, null);
      assert.equal(apps(sd).tries, 3);
    } finally {
      await link.close();
      b.signal("SIGTERM");
      await b.done;
    }
  });

  for (const flavor of ["host", "asan"] as const)
  it(`${flavor}: a version on trial that throws is rolled back while the link is up; the good one runs`, async function () {
    const sd = path.join(work, `card-rollback-${flavor}`);
    install(sd, images.loops, ["--autostart"]);
    // 1.0.0 good (as after its first 10 s), written into the record the way the store writes it.
    const statePath = path.join(sd, "qcam/apps/demo/state");
    fs.writeFileSync(statePath, fs.readFileSync(statePath, "utf8").replace("active -", "active a").replace("pending a", "pending -"));
    install(sd, images.throws);
    const { b, link } = await boardOn(sd, flavor === "asan" ? ["--asan"] : []);
    try {
      await until("the good version", () => /running demo 1\.0\.0/.test(b.output().stdout));
      assert.equal(b.output().stdout.match(/running demo 2\.0\.0/g)?.length, 3);
      assert.equal((await link.hello()).proto, "1");
      assert.match(apps(sd).rollback, /^2\.0\.0 in slot b: uncaught error \(exit 1\), every try used$/);
    } finally {
      await link.close();
      b.signal("SIGTERM");
      await b.done;
    }
  });

  it("safe mode: nothing to run, or the held key (--skip-autostart): the board serves the link", async function () {
    for (const [name, extra] of [["empty", []], ["skip", ["--skip-autostart"]]] as const) {
      const sd = path.join(work, `card-${name}`);
      if (name === "skip") install(sd, images.loops, ["--autostart"]);
      else fs.mkdirSync(sd, { recursive: true });
      const { b, link } = await boardOn(sd, [...extra]);
      try {
        const hello = await link.hello();
        assert.equal(hello.state, "idle");
        await until("the safe-mode line", () => /qcam: safe mode: (no autostart app|autostart skipped)/.test(b.output().stderr));
        assert.doesNotMatch(b.output().stdout, /running demo/);
      } finally {
        await link.close();
        b.signal("SIGTERM");
        await b.done;
      }
    }
  });
});
