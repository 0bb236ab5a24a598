// The app lifecycle on the real runtime: the needExit() loop, signals, exit
// codes, errors mapped back to TypeScript, load/unload without leaks.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../../build/app-build.ts";
import { BuildError } from "../../build/log.ts";
import { runImage } from "../../build/run.ts";
import { FIXTURES, fixture, runSync, spawnSyncChild, start, tmpDir } from "../helpers.ts";

describe("app lifecycle", function () {
  let image: string;
  before(async function () {
    image = (await fixture("lifecycle")).image;
  });

  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    it(`${sig} makes needExit() true; the app finishes its loop and exits 0`, async function () {
      const app = start("host", image, ["loop"]);
      await app.waitFor("ready");
      app.child.kill(sig);
      const r = await app.done;
      assert.equal(r.signal, null);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /finished loop iterations>0=true timers ran=true promise=true/);
    });
  }

  it("a second SIGINT exits at once with 130", async function () {
    const app = start("host", image, ["stubborn"]);
    await app.waitFor("ready");
    app.child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(app.child.exitCode, null, "one SIGINT does not kill an app that ignores it");
    app.child.kill("SIGINT");
    const r = await app.done;
    assert.equal(r.code, 130);
  });

  it("SIGINT reaches an app running on riscv64 under qemu", async function () {
    const rv = (await fixture("lifecycle", "riscv64")).image;
    const app = start("riscv64", rv, ["loop"]);
    await app.waitFor("ready");
    app.child.kill("SIGINT");
    const r = await app.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /finished loop/);
  });

  const cases: [string, number, RegExp, RegExp | null][] = [
    ["exit-flag", 0, /^stopped at 3\n$/, null],
    ["exit-message", 3, /^$/, /^app exit \(3\): camera not found\n$/],
    ["throw-in-timer", 1, /^$/, /^Uncaught RangeError: timer went wrong\n {4}at .*lifecycle\.js:\d+/],
    ["reject", 1, /^$/, /^Uncaught \(in promise\) Error: nobody handles this\n/],
    ["fatal-in-loop", 1, /^loop ended after some iterations\n$/, /^Uncaught Error: sensor exploded\n/],
    ["stall", 21, /^$/, /top-level await can never settle/],
    ["args", 0, /^\{"args":\["args","x y","z"\],"startParam":"args x y z","id":"lifecycle","platform":"sim"\}\n$/, null],
    ["errors", 0, /^TypeError:ERR_INVALID_ARG RangeError:ERR_INVALID_ARG TypeError:ERR_INVALID_ARG\n$/, null],
    ["log-levels", 0, /^log line\n$/, /^warn line\nerror line error\n$/],
  ];
  for (const [mode, code, out, err] of cases) {
    it(`${mode}: exit ${code}`, function () {
      const r = runSync("host", image, { args: mode === "args" ? ["args", "x y", "z"] : [mode] });
      assert.equal(r.signal, null);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stdout, out);
      if (err) assert.match(r.stderr, err);
      else assert.equal(r.stderr, "");
    });
  }

  // setExitMessage takes a number that is 0..255 as an int32: what it keeps is the exit status.
  const EXIT_CODES: [string, number][] = [["0", 0], ["3", 3], ["255", 255], ["255.9", 255], ["-0.5", 0], ["NaN", 0], ["Infinity", 0], [String(2 ** 32 + 3), 3]];
  it(`setExitMessage(n): the exit status is n as an int32 (${EXIT_CODES.map(([n, c]) => `${n} → ${c}`).join(", ")})`, function () {
    for (const [n, want] of EXIT_CODES) {
      const r = runSync("host", image, { args: ["exit-code", n] });
      assert.equal(r.code, want, `setExitMessage(${n}): ${r.stderr}`);
    }
  });

  it("runs several apps in turn in one process: load, run, unload, load the next", async function () {
    const hello = (await fixture("hello")).image;
    // runtimeArgs come before the image: lifecycle, hello, then hello again.
    const r = runSync("asan", hello, { runtimeArgs: [image, hello], args: ["args"] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"args":["args"],"startParam":"args","id":"lifecycle","platform":"sim"}\nhello from hello ["args"]\nhello from hello ["args"]\n');
  });

  it("stops at the first app that fails and passes its status on", async function () {
    const hello = (await fixture("hello")).image;
    const r = runSync("host", hello, { runtimeArgs: [hello, image], args: ["exit-message"] });
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'hello from hello ["exit-message"]\n');
  });

  it("--log-level debug shows console.debug", function () {
    const r = runSync("host", image, { args: ["log-levels"], runtimeArgs: ["--log-level", "debug"] });
    assert.match(r.stdout, /^debug line\nlog line\n$/);
  });

  it("app paths are board paths, backed by folders in the sim SD card", function () {
    const sd = tmpDir("qcam-sd-");
    const r = runSync("host", image, { args: ["paths"], runtimeArgs: [] , env: process.env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ["/sdcard", "/sdcard/apps/lifecycle/data", "/sdcard/video", "/sdcard/picture", "/tmp/qcam/lifecycle"]);
    // runSync uses its own card; run once more on a known one and look inside.
    const cmdOut: string[] = [];
    return runImage("host", image, { sdcard: sd, args: ["paths"], stdout: (c) => cmdOut.push(c.toString()), signal: AbortSignal.timeout(60_000) }).then((c) => {
      assert.equal(c, 0);
      for (const p of ["apps/lifecycle/data", "video", "picture", ".tmp/qcam/lifecycle"])
        assert.ok(fs.statSync(path.join(sd, p)).isDirectory(), p);
    });
  });

  it("an uncaught error reports the TypeScript file and line of every frame", async function () {
    const lines: string[] = [];
    const built = await fixture("throws");
    const code = await runImage("host", built.image, { stdout: () => {}, stderr: (l) => lines.push(l), signal: AbortSignal.timeout(60_000) });
    assert.equal(code, 1);
    const text = lines.join("\n");
    assert.match(lines[0], /^Uncaught Error: config is not JSON: \{bad$/);
    const src = fs.readFileSync(path.join(FIXTURES, "throws/src/config.ts"), "utf8").split("\n");
    const throwLine = src.findIndex((l) => l.includes("throw new Error")) + 1;
    assert.match(text, new RegExp(`at parseConfig \\(test/fixtures/throws/src/config\\.ts:${throwLine}:\\d+\\)`));
    assert.match(text, /at .*\(test\/fixtures\/throws\/src\/main\.ts:5:\d+\)/);
    assert.doesNotMatch(text, /throws\.js:/, "no frame is left pointing into the bundle");
  });

  it("the same mapping works for an app running on riscv64", async function () {
    const lines: string[] = [];
    const built = await fixture("throws", "riscv64");
    const code = await runImage("riscv64", built.image, { stdout: () => {}, stderr: (l) => lines.push(l), signal: AbortSignal.timeout(60_000) });
    assert.equal(code, 1);
    assert.match(lines.join("\n"), /test\/fixtures\/throws\/src\/config\.ts:\d+:\d+/);
  });

  it("importing an unknown host module fails the build, naming it", async function () {
    await assert.rejects(buildApp(path.join(FIXTURES, "bad-import"), { typecheck: false }), (e: Error) => {
      assert.ok(e instanceof BuildError);
      assert.match(e.message, /unknown host module 'qcam:nope'/);
      return true;
    });
  });

  it("type errors fail the build", async function () {
    await assert.rejects(buildApp(path.join(FIXTURES, "bad-import")), /Cannot find module 'qcam:nope'|type errors/);
  });

  it("loads, runs and unloads an app 100 times under ASan with no leak", async function () {
    this.timeout(300000);
    const r = runSync("asan", image, { args: ["churn"], runtimeArgs: ["--repeat", "100", "--stats"], timeoutMs: 240000 });
    assert.equal(r.signal, null);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /LeakSanitizer|AddressSanitizer|runtime error/);
    assert.match(r.stderr, /qcam-stats: peak_rss_kb=\d+/);
  });
});

describe("event queue (C, native threads -> loop)", function () {
  for (const flavor of ["host", "asan"]) {
    it(`${flavor}: every event once, in order, wakes the loop, discards on free`, async function () {
      const { buildDir } = await import("../../build/paths.ts");
      const r = spawnSyncChild(path.join(buildDir(flavor as "host"), "qcam-test-loop"), [], { encoding: "utf8", timeout: 60000 });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /received 80000 of 80000, order failures 0\nwait woke on post: yes\ndiscarded 10\nok/);
    });
  }
});
