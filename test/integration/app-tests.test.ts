// `qcam test [app-dir]`: an app's own tests with mocha against the stubs, as
// an app developer runs them — including an app outside this repository.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { run, tmpDir } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");
// `qcam test` starts mocha: run through the helper, which kills the whole tree if it hangs.
const qcam = async (args: string[], cwd = ROOT) => {
  const r = await run(process.execPath, [CLI, ...args], { cwd, timeoutMs: 300_000 });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
};

describe("qcam test", function () {
  it("runs the recorder's tests (app/test) and passes", async function () {
    const r = await qcam(["test", "app"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /--record 1 records one second into one file and stops/);
    assert.match(r.stdout, /\d+ passing/);
    assert.doesNotMatch(r.stdout, /failing/);
  });

  it("an app elsewhere, run from its own folder: a failing test fails the command", async function () {
    const dir = tmpDir("qcam-app-");
    fs.mkdirSync(path.join(dir, "src"));
    fs.mkdirSync(path.join(dir, "test"));
    fs.writeFileSync(path.join(dir, "app.json"), JSON.stringify({ id: "blink", name: "blink", version: "1.0.0" }));
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
    fs.writeFileSync(
      path.join(dir, "src", "main.ts"),
      'import { app, time } from "qcam:app";\nlet n = 0;\nwhile (!app.needExit()) { n++; time.sleepMs(100); }\nconsole.log(`blinked ${n} times`);\n',
    );
    const test = (expected: number) =>
      [
        'import assert from "node:assert/strict";',
        'import { runApp, world } from "qcam:testing";',
        'it("blinks ten times a second", async () => {',
        "  world.exitAt(1000);",
        '  const r = await runApp(new URL("..", import.meta.url));',
        `  assert.equal(r.stdout, "blinked ${expected} times\\n");`,
        "});",
        "",
      ].join("\n");
    fs.writeFileSync(path.join(dir, "test", "blink.test.ts"), test(10));
    const ok = await qcam(["test"], dir);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /1 passing/);
    fs.writeFileSync(path.join(dir, "test", "blink.test.ts"), test(11));
    const bad = await qcam(["test"], dir);
    assert.equal(bad.status, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /1 failing/);
  });

  it("an app folder that is not an ES module package is refused with the fix", async function () {
    const dir = tmpDir("qcam-app-");
    fs.mkdirSync(path.join(dir, "test"));
    fs.writeFileSync(path.join(dir, "test", "x.test.ts"), "");
    const r = await qcam(["test", dir]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /"type": "module"/);
  });

  it("type errors in the tests stop it before mocha runs", async function () {
    const dir = tmpDir("qcam-app-");
    fs.mkdirSync(path.join(dir, "test"));
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
    fs.writeFileSync(path.join(dir, "test", "x.test.ts"), 'import { world } from "qcam:testing";\nconst n: number = world.args;\nvoid n;\n');
    const r = await qcam(["test", dir]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /type errors in the tests:[\s\S]*x\.test\.ts/);
  });
});
