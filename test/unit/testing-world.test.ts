// The testing kit itself (build/testing): the fake clock, the scripted world,
// the loop on virtual time, faults, console capture, runApp.
import assert from "node:assert/strict";
import path from "node:path";
import { app, time } from "qcam:app";
import * as T from "qcam:time";
import { HardExit, WorldLimitError, makeImage, runApp, world } from "qcam:testing";
import { FIXTURES } from "../helpers.ts";

const fixture = (name: string) => path.join(FIXTURES, "testing", `${name}.ts`);

describe("testing kit: the world", function () {
  beforeEach(() => world.reset());
  afterEach(() => world.restore());

  describe("fake clock", function () {
    it("ticks start at 0 and move only when the app sleeps or the test advances", function () {
      assert.equal(T.ticksMs(), 0);
      assert.equal(T.ticksUs(), 0);
      T.sleepMs(250);
      assert.equal(T.ticksMs(), 250);
      T.sleepUs(1500);
      assert.equal(T.ticksUs(), 251_500);
      world.advance(0.5);
      assert.equal(T.ticksUs(), 252_000);
      time.sleep(1);
      assert.equal(T.ticksMs(), 1252);
    });

    it("the monotonic and wall clocks run with ticks from configurable starts", function () {
      world.reset({ wallClockMs: Date.UTC(2030, 0, 1), uptimeMs: 5000 });
      assert.equal(T.monotonicMs(), 5000);
      assert.equal(T.timeMs(), Date.UTC(2030, 0, 1));
      T.sleepMs(1500);
      assert.equal(T.monotonicMs(), 6500);
      assert.equal(T.time(), Date.UTC(2030, 0, 1) / 1000 + 1.5);
    });

    it("fps() from virtual time", function () {
      assert.equal(T.fps(), 0);
      let f = 0;
      for (let i = 0; i < 10; i++) {
        T.sleepMs(40);
        f = T.fps();
      }
      assert.equal(f, 25);
    });
  });

  describe("scripts and signals", function () {
    it("world.at() runs actions in time order while the clock moves", function () {
      const seen: string[] = [];
      world.at(30, () => seen.push(`b@${T.ticksMs()}`));
      world.at(10, () => seen.push(`a@${T.ticksMs()}`));
      world.at(30, () => seen.push(`c@${T.ticksMs()}`));
      world.advance(20);
      assert.deepEqual(seen, ["a@10"]);
      T.sleepMs(100);
      assert.deepEqual(seen, ["a@10", "b@30", "c@30"]);
      assert.equal(T.ticksMs(), 120);
    });

    it("a SIGINT during a sleep cuts it short and makes needExit() true", function () {
      world.exitAt(100);
      T.sleepMs(1000);
      assert.equal(T.ticksMs(), 100);
      assert.equal(app.needExit(), true);
    });

    it("SIGTERM does the same; setExitFlag(true) from a script does not cut a sleep", function () {
      world.at(50, () => app.setExitFlag(true));
      T.sleepMs(1000);
      assert.equal(T.ticksMs(), 1000);
      world.reset();
      world.exitAt(50, "SIGTERM");
      T.sleepMs(1000);
      assert.equal(T.ticksMs(), 50);
    });

    it("a second SIGINT exits at once: HardExit out of the sleep", function () {
      world.exitAt(10).exitAt(20);
      T.sleepMs(1000); // the first one: cut short
      assert.throws(() => T.sleepMs(1000), (e: unknown) => e instanceof HardExit);
      assert.equal(world.hardExit, true);
    });

    it("exitAfterTurns(n): n needExit() calls return false, then true", function () {
      world.exitAfterTurns(3);
      const got = [app.needExit(), app.needExit(), app.needExit(), app.needExit()];
      assert.deepEqual(got, [false, false, false, true]);
      assert.equal(world.turns, 4);
    });

    it("onTurn(n) runs an action at the start of the n-th turn", function () {
      const seen: number[] = [];
      world.onTurn(2, () => seen.push(world.turns));
      app.needExit();
      app.needExit();
      app.needExit();
      assert.deepEqual(seen, [2]);
    });

    it("a loop that never stops hits the turn limit instead of hanging", function () {
      world.reset({ limits: { turns: 1000 } });
      assert.throws(() => {
        while (!app.needExit()) {
          /* spin */
        }
      }, WorldLimitError);
    });

    it("so does virtual time that runs away", function () {
      world.reset({ limits: { virtualMs: 10_000 } });
      assert.throws(() => {
        for (;;) T.sleepMs(1000);
      }, WorldLimitError);
    });
  });

  describe("the loop", function () {
    it("timers run on virtual time, in needExit() turns", function () {
      world.install();
      const fired: string[] = [];
      setTimeout(() => fired.push(`t@${T.ticksMs()}`), 100);
      const id = setInterval(() => fired.push(`i@${T.ticksMs()}`), 40);
      T.sleepMs(90);
      app.needExit();
      assert.deepEqual(fired, ["i@90"]);
      world.runFor(100);
      assert.deepEqual(fired, ["i@90", "t@100", "i@130", "i@170"]);
      clearInterval(id);
      assert.equal(world.pendingTimers, 0);
    });

    it("install() puts the app's globals in place and restore() gives Node's back", function () {
      const nodeSetTimeout = globalThis.setTimeout;
      world.install();
      assert.notEqual(globalThis.setTimeout, nodeSetTimeout);
      world.restore();
      assert.equal(globalThis.setTimeout, nodeSetTimeout);
    });

    it("crypto.getRandomValues: Node's secure bytes unless a test seeds it; a seed repeats, reset() unseeds; restore() gives Node's crypto back", function () {
      const nodeCrypto = globalThis.crypto;
      world.install();
      assert.notEqual(globalThis.crypto, nodeCrypto);
      const bytes = () => Array.from(crypto.getRandomValues(new Uint8Array(16)));
      assert.notDeepEqual(bytes(), bytes(), "unseeded: different every call");
      world.seedRandom(42);
      const a = bytes();
      world.seedRandom(42);
      assert.deepEqual(bytes(), a, "the same seed, the same bytes");
      world.seedRandom(43);
      assert.notDeepEqual(bytes(), a, "another seed, other bytes");
      world.reset({ randomSeed: 42 });
      assert.deepEqual(bytes(), a, "reset({ randomSeed })");
      world.reset();
      assert.notDeepEqual(bytes(), a, "reset() goes back to Node's secure source");
      world.restore();
      assert.equal(globalThis.crypto, nodeCrypto);
    });

    it("a throwing timer is fatal: printed, needExit() true", function () {
      world.install();
      setTimeout(() => {
        throw new RangeError("sensor exploded");
      }, 0);
      assert.equal(app.needExit(), true);
      assert.equal(world.fatal, true);
      assert.match(world.stderr, /^Uncaught RangeError: sensor exploded\n {4}at /);
      assert.equal(world.uncaught.length, 1);
    });

    it("host events posted by stubs run at the next turn", function () {
      const seen: string[] = [];
      world.post(() => seen.push("frame"));
      assert.deepEqual(seen, []);
      app.needExit();
      assert.deepEqual(seen, ["frame"]);
    });
  });

  describe("app setup and output", function () {
    it("args and manifest: app is rebuilt, read-only, as on a new app load", function () {
      world.setArgs(["--record", "2"]).setManifest({ id: "rec", name: "Recorder" });
      assert.deepEqual(app.args, ["--record", "2"]);
      assert.equal(app.startParam, "--record 2");
      assert.equal(app.name, "Recorder");
      assert.equal(app.dataPath(), "/sdcard/apps/rec/data");
      assert.throws(() => ((app as unknown as { id: string }).id = "x"), TypeError);
    });

    it("the console: levels, objects as JSON, errors with their stack to stderr", function () {
      world.install();
      console.log("a", 1, { b: [2] }, null, undefined);
      console.debug("hidden at info");
      console.warn("careful");
      console.error(new Error("bad"));
      app.setLogLevel("silent");
      console.error("hidden");
      assert.equal(world.stdout, 'a 1 {"b":[2]} null undefined\n');
      assert.match(world.stderr, /^careful\nError: bad\n {4}at [^\n]+\n(.|\n)*\n$/);
      assert.doesNotMatch(world.stderr, /hidden/);
    });

    it("faults: a scripted failure makes the stub throw as the C module does", function () {
      world.fault("app.path", { code: "EACCES", after: 1 });
      assert.equal(app.videoPath(), "/sdcard/video");
      assert.throws(() => app.videoPath(), (e: Error & { code?: string; errno?: number }) => {
        assert.equal(e.constructor, Error);
        assert.equal(e.code, "EACCES");
        assert.equal(e.errno, 13);
        assert.equal(e.message, "cannot create /sdcard/video: Permission denied");
        return true;
      });
      assert.equal(app.videoPath(), "/sdcard/video", "once: times defaults to 1");
    });

    it("fault counting: after, times, Infinity", function () {
      world.fault("camera.read", { code: "ENODEV", after: 2, times: Infinity });
      const got = Array.from({ length: 5 }, () => world.takeFault("camera.read")?.code ?? "ok");
      assert.deepEqual(got, ["ok", "ok", "ENODEV", "ENODEV", "ENODEV"]);
      world.fault("fs.write", { code: "ENOSPC", times: 2 });
      assert.deepEqual(world.pendingFaults(), ["fs.write"]);
    });

    it("makeImage(): Images as a camera would hand them out, tracked until closed", function () {
      const img = makeImage({ width: 4, height: 2, data: new Uint8Array(12).fill(7) });
      assert.equal(img.size, 12);
      assert.equal(img.seq, 0);
      assert.equal(makeImage({ width: 2, height: 2, format: "gray" }).seq, 1);
      assert.equal(world.openHandles("Image").length, 2);
      assert.deepEqual([...new Uint8Array(img.toArrayBuffer())], new Array(12).fill(7));
      img.close();
      assert.equal(world.openHandles("Image").length, 1);
      assert.throws(() => makeImage({ width: 3, height: 3, format: "nv21" }), RangeError);
    });
  });

  describe("runApp", function () {
    it("promise jobs and awaits in app code run inside needExit() turns; timers on virtual time", async function () {
      const r = await runApp(fixture("async-loop"));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "init awaited\ninit done at 50\nloop saw ready after 6 turns\ntop-level await resumed at 1050\n");
      assert.equal(r.elapsedMs, 1050);
    });

    it("an uncaught error: exit 1, the message and its TypeScript line", async function () {
      const r = await runApp(fixture("throws"));
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "0\n");
      assert.match(r.stderr, /^Uncaught Error: not JSON: oops\n {4}at parse \(.*throws\.ts:5:/);
    });

    it("an app that imports a module with no stub yet: runApp rejects, naming the file to write", async function () {
      await assert.rejects(runApp(fixture("no-stub")), /no stub for qcam:nostub \(host-modules\/nostub\/nostub\.stub\.ts/);
    });

    it("an app that never stops fails the test with WorldLimitError", async function () {
      world.reset({ limits: { turns: 10_000 } });
      await assert.rejects(runApp(fixture("forever")), WorldLimitError);
    });

    it("each run loads the app afresh and leaves Node's globals in place", async function () {
      const nodeConsole = globalThis.console;
      world.exitAfterTurns(5);
      const a = await runApp(fixture("forever"));
      world.reset().exitAfterTurns(7);
      const b = await runApp(fixture("forever"));
      assert.deepEqual([a.stdout, b.stdout], ["5\n", "7\n"]);
      assert.equal(globalThis.console, nodeConsole);
    });
  });
});
