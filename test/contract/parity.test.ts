// Whole apps, both ways: test/fixtures/lifecycle (one app, many behaviours)
// run by the real runtime and by runApp against the stubs must end the same:
// exit status, stdout, and the first line of stderr (stack frames differ
// between engines). This checks runApp's loop (app_main), the exit codes and
// messages, uncaught errors and rejections, stalls and signals.
import assert from "node:assert/strict";
import path from "node:path";
import { runApp, world } from "../../build/testing/index.ts";
import { fixture, FIXTURES, runSync, spawnSyncChild, start } from "../helpers.ts";

const APP = path.join(FIXTURES, "lifecycle");
const firstLine = (s: string) => s.split("\n")[0];

describe("apps end the same under runApp as on the runtime (test/fixtures/lifecycle)", function () {
  let image: string;
  before(async function () {
    image = (await fixture("lifecycle")).image;
  });
  beforeEach(() => world.reset());

  const modes: [string, string[]][] = [
    ["exit-flag", ["exit-flag"]],
    ["exit-message", ["exit-message"]],
    ["exit-code 255.9", ["exit-code", "255.9"]],
    ["exit-code -0.5", ["exit-code", "-0.5"]],
    ["exit-code NaN", ["exit-code", "NaN"]],
    ["exit-code 2^32+3", ["exit-code", String(2 ** 32 + 3)]],
    ["throw-in-timer", ["throw-in-timer"]],
    ["reject", ["reject"]],
    ["fatal-in-loop", ["fatal-in-loop"]],
    ["stall", ["stall"]],
    ["args", ["args", "x y", "z"]],
    ["errors", ["errors"]],
    ["log-levels", ["log-levels"]],
    ["paths", ["paths"]],
    ["churn", ["churn"]],
  ];
  for (const [mode, args] of modes) {
    it(mode, async function () {
      const real = runSync("host", image, { args });
      const stub = await runApp(APP, { args });
      assert.equal(stub.code, real.code, `exit status; stub stderr:\n${stub.stderr}`);
      assert.equal(stub.stdout, real.stdout, "stdout");
      assert.equal(firstLine(stub.stderr), firstLine(real.stderr), "first line of stderr");
    });
  }

  it("loop: SIGINT ends the needExit() loop; timers and promise jobs ran inside it", async function () {
    const app = start("host", image, ["loop"]);
    await app.waitFor("ready");
    app.child.kill("SIGINT");
    const real = await app.done;
    world.exitAt(100);
    const stub = await runApp(APP, { args: ["loop"] });
    assert.equal(stub.code, real.code);
    assert.equal(stub.stdout, real.stdout);
    assert.equal(stub.stderr, real.stderr);
    assert.equal(stub.elapsedMs, 100, "stopped at the scripted SIGINT, on virtual time");
  });

  it("stubborn: the first SIGINT is ignored, a second one exits at once with 130", async function () {
    world.exitAt(50).exitAt(80);
    const stub = await runApp(APP, { args: ["stubborn"] });
    assert.equal(stub.code, 130);
    assert.equal(stub.stdout, "ready\n");
    assert.equal(stub.elapsedMs, 80);
  });
});

describe("runApp runs the language fixture as Node runs its bundle", function () {
  // Classes, closures, generators, async functions and generators, promise
  // ordering, Promise.all/race/allSettled/any, timers: here under the world's
  // Promise, lowered awaits and virtual time; in Node natively (the same
  // output QuickJS gives, test/integration/language.test.ts).
  it("the same lines, in the same order", async function () {
    const built = await fixture("language");
    const node = spawnSyncChild(process.execPath, [built.bundle], { encoding: "utf8" });
    assert.equal(node.status, 0, node.stderr);
    world.reset();
    const r = await runApp(path.join(FIXTURES, "language"));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.deepEqual(r.stdout.split("\n"), node.stdout.split("\n"));
  });
});
