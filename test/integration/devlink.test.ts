// The dev link end to end (docs/dev-link.md): `qcam board` (qcam-ptypair +
// qcam-runtime --serve on a real pseudo-terminal, termios and all) and the
// host side — BoardLink and the qcam commands — over it. Judged by what the
// board's apps print, the board's own counters and the images' hashes.
// Every process started here runs in a process group of its own and is
// killed with its group on every path (after / afterEach).
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../../build/app-build.ts";
import { readBuildInfo } from "../../build/cmake.ts";
import { BoardLink } from "../../build/devlink/link.ts";
import { ROOT } from "../../build/paths.ts";
import { childPids, FIXTURES, spawnChild, tmpDir } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
  /** A signal to its whole process group. */
  signal: (sig: NodeJS.Signals) => void;
}

/** A qcam command in a process group of its own (so everything it starts dies
 * with it), through the suite's child helper: killed after the test, or, for
 * a board shared by a suite (`lifetime: "suite"`), by the suite's after(). */
function qcam(argv: string[], cwd = ROOT, lifetime: "test" | "suite" = "test"): Proc {
  // stdin a pipe: `qcam board` ends with it, should this process die first.
  const c = spawnChild(process.execPath, [CLI, ...argv], { cwd, stdin: "pipe", group: true, lifetime });
  const exited = c.done.then((r) => r.code);
  return { child: c.child, out: () => c.output().stdout, err: () => c.output().stderr, exited, signal: c.signal };
}

async function until(what: string, f: () => boolean, timeoutMs = 30000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An app folder in a temporary directory: { "main.ts": source, ... }. */
function appDir(files: Record<string, string>): string {
  const dir = tmpDir("qcam-devlink-app-");
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const ticker = (tag: string) => `import { app, time } from "qcam:app";
console.log("${tag} start");
let n = 0;
const t = setInterval(() => console.log("${tag} tick " + n++), 20);
while (!app.needExit()) time.sleepMs(5);
clearInterval(t);
console.log("${tag} bye");
`;

for (const flavor of ["host", "asan"] as const) describe(`dev link: a sim board on a real pty (${flavor} runtime)`, function () {
  this.timeout(180000);
  let board: Proc;
  let port: string;
  let sdcard: string;
  let link: BoardLink | undefined;
  let consoleText = "";
  const events: Record<string, string>[] = [];
  let boardText = "";

  async function open(): Promise<BoardLink> {
    const l = await BoardLink.open(port, {
      console: (_s, d) => (consoleText += d.toString("utf8")),
      event: (e) => events.push(e),
      text: (t) => (boardText += t),
    });
    link = l;
    await l.hello();
    return l;
  }

  async function image(dir: string): Promise<{ image: string; bytes: Buffer; hash: string }> {
    const built = await buildApp(dir, { typecheck: false });
    const bytes = fs.readFileSync(built.image);
    return { image: built.image, bytes, hash: createHash("sha256").update(bytes).digest("hex") };
  }

  before(async function () {
    sdcard = tmpDir("qcam-devlink-sd-");
    board = qcam(["board", "--sdcard", sdcard, ...(flavor === "asan" ? ["--asan"] : [])], ROOT, "suite");
    await until("the board's path", () => /board: (\S+)/.test(board.out()), 120000);
    port = /board: (\S+)/.exec(board.out())![1];
  });

  afterEach(async function () {
    await link?.close();
    link = undefined;
  });

  after(async function () {
    board.signal("SIGTERM");
    await Promise.race([board.exited, new Promise((r) => setTimeout(r, 3000))]);
    board.signal("SIGKILL");
  });

  it("says hello with the runtime's versions, ABI hash, target and free space", async function () {
    const l = await open();
    const caps = await l.hello();
    const info = readBuildInfo("host");
    assert.equal(caps.proto, "1");
    assert.equal(caps.engine, info.engine);
    assert.equal(Number(caps.bytecode), info.bytecode);
    assert.equal(caps.abi, info.abi);
    assert.equal(caps.target, "sim-x86_64");
    assert.equal(caps.board, "sim");
    assert.ok(Number(caps.free) > 0);
    assert.equal(caps.max_payload, "4096");
  });

  it("qcam run --port: push, run and the app's console; an unchanged push is skipped", async function () {
    const r = qcam(["run", path.join(FIXTURES, "hello", "main.ts"), "--port", port, "--no-typecheck"]);
    assert.equal(await r.exited, 0, r.err());
    assert.match(r.out(), /^hello from main \[\]$/m);
    const again = qcam(["push", path.join(FIXTURES, "hello", "main.ts"), "--port", port, "--no-typecheck"]);
    assert.equal(await again.exited, 0, again.err());
    assert.match(again.out(), /the board has it already/);
    // The same through the API: nothing sent.
    const l = await open();
    const { bytes } = await image(path.join(FIXTURES, "hello", "main.ts"));
    const p = await l.push(bytes);
    assert.equal(p.skipped, true);
    assert.equal(p.bytes, 0);
  });

  it("a TypeScript stack trace from the board", async function () {
    const r = qcam(["run", path.join(FIXTURES, "throws"), "--port", port, "--no-typecheck"]);
    assert.equal(await r.exited, 1, r.err());
    assert.match(r.err(), /Uncaught Error: config is not JSON: \{bad/);
    assert.match(r.err(), /at parseConfig \(\S*test\/fixtures\/throws\/src\/config\.ts:7:\d+\)/);
    assert.match(r.err(), /\S*test\/fixtures\/throws\/src\/main\.ts:5:\d+/);
  });

  it("stops a busy `while (true)` app through the interrupt handler; the board stays reachable", async function () {
    const busy = await image(appDir({ "main.ts": `console.log("spinning");\nlet n = 0;\nwhile (true) n++;\n` }));
    const l = await open();
    await l.push(busy.bytes);
    const started = l.waitEvent((e) => e.event === "started" && e.image === busy.hash);
    await l.run(busy.hash);
    await started;
    await until("the busy app's first line", () => consoleText.includes("spinning"));
    const exited = l.waitEvent((e) => e.event === "exited" && e.image === busy.hash, 10000);
    const t0 = performance.now();
    assert.equal(await l.stop(), true);
    const e = await exited;
    console.log(`      stop -> exited event: ${(performance.now() - t0).toFixed(1)} ms`);
    assert.equal(e.reason, "stop");
    await until("the interrupt's report", () => /InternalError: interrupted/.test(consoleText));
    // Reachable, idle, and it runs the next app.
    assert.equal((await l.hello()).state, "idle");
    const hello = await image(path.join(FIXTURES, "hello", "main.ts"));
    await l.push(hello.bytes);
    const done = l.waitEvent((x) => x.event === "exited" && x.image === hello.hash);
    await l.run(hello.hash);
    assert.equal((await done).code, "0");
    await until("hello's line", () => consoleText.includes("hello from main"));
  });

  it("survives garbage between and inside frames, both ways; the board's text stays readable", async function () {
    const blob = randomBytes(150000).toString("base64");
    const big = await image(appDir({ "main.ts": `const BIG = "${blob}";\nconsole.log("big app", BIG.length);\n` }));
    assert.ok(big.bytes.length > 150000);
    const l = await open();
    let n = 0;
    l.outgoing = (frame) => {
      n++;
      const noise = randomBytes(1 + (n % 9));
      const dice = Math.random();
      if (dice < 0.2) {
        // inside: garbage (zeros included) in the middle of the frame
        const at = 1 + (n % (frame.length - 2));
        return Buffer.concat([frame.subarray(0, at), noise, frame.subarray(at)]);
      }
      if (dice < 0.4) return Buffer.concat([noise, frame]); // between frames
      return frame;
    };
    // Toward the host: the board's side of the line gets text and garbage too.
    // (the path this board printed: out/.board-side.tty is every board's, and a board ending meanwhile may take it)
    const boardSide = fs.openSync(/the board's own end: (\S+)/.exec(board.out())![1], "w");
    fs.writeSync(boardSide, "U-Boot 2021.10 (sim)\r\n");
    const p = await l.push(big.bytes);
    fs.writeSync(boardSide, Buffer.from([0x13, 0x00, 0x37, 0xff, 0x00]));
    fs.closeSync(boardSide);
    l.outgoing = undefined;
    assert.equal(p.skipped, false);
    assert.equal(p.hash, big.hash);
    const done = l.waitEvent((x) => x.event === "exited" && x.image === big.hash);
    await l.run(big.hash);
    assert.equal((await done).code, "0");
    await until("the big app's line", () => consoleText.includes(`big app ${blob.length}`));
    assert.match(boardText, /U-Boot 2021\.10 \(sim\)/);
    const stats = await l.boardStats();
    console.log(`      ${n} frames sent, board saw junk=${stats.junk} (${stats.junk_bytes} bytes), lost=${stats.lost}; push sent ${p.bytes} bytes for ${big.bytes.length}`);
    assert.ok(Number(stats.junk) > 0, "the board saw the garbage");
    assert.ok(p.bytes > big.bytes.length, "frames lost to garbage were sent again");
    // The stored image is exactly what was pushed.
    const stored = fs.readFileSync(path.join(sdcard, ".qcam", "images", `${big.hash}.qcam`));
    assert.equal(createHash("sha256").update(stored).digest("hex"), big.hash);
  });

  it("the host end closed mid-push: the old app keeps running, the next push succeeds", async function () {
    const old = await image(appDir({ "main.ts": ticker("OLD") }));
    const blob = randomBytes(200000).toString("base64");
    const next = await image(appDir({ "main.ts": `const BIG = "${blob}";\nconsole.log("new app", BIG.length);\n` }));
    let l = await open();
    await l.push(old.bytes);
    await l.run(old.hash);
    await until("OLD ticking", () => consoleText.includes("OLD tick 3"));
    let cut = false;
    await assert.rejects(
      l.push(next.bytes, (acked, total) => {
        if (!cut && acked > total / 3) {
          cut = true;
          void l.close();
        }
      }),
      /closed/,
    );
    assert.ok(cut);
    // The old app never noticed.
    const before = consoleText.length;
    l = await open();
    const caps = await l.hello();
    assert.equal(caps.state, "running");
    assert.equal(caps.image, old.hash);
    await until("OLD still ticking", () => /OLD tick \d+/.test(consoleText.slice(before)));
    assert.ok(!fs.existsSync(path.join(sdcard, ".qcam", "images", `${next.hash}.qcam`)), "no half image was committed");
    const p = await l.push(next.bytes);
    assert.equal(p.skipped, false);
    assert.ok(p.resumedAt > 0, "the push went on where the cut one stopped");
    const ran = l.waitEvent((x) => x.event === "exited" && x.image === next.hash);
    const oldExit = l.waitEvent((x) => x.event === "exited" && x.image === old.hash);
    await l.run(next.hash);
    assert.equal((await oldExit).reason, "reload");
    assert.equal((await ran).code, "0");
    await until("the new app's line", () => consoleText.includes(`new app ${blob.length}`));
    assert.match(consoleText, /OLD bye/);
  });

  it("the board's runtime killed mid-session: it restarts, and qcam dev runs the app again by itself", async function () {
    const dir = appDir({ "main.ts": ticker("life 1") });
    const dev = qcam(["dev", dir, "--port", port, "--no-typecheck"]);
    await until("the app", () => dev.out().includes("life 1 tick 2"), 120000);
    const before = childPids(board.child.pid!, "qcam-runtime");
    assert.equal(before.length, 1);
    const mark = dev.out().length;
    process.kill(before[0], "SIGKILL");
    await until("the app again after the restart", () => /life 1 tick 2/.test(dev.out().slice(mark)), 60000);
    assert.match(dev.err(), /the board restarted; running the app again/);
    const after = childPids(board.child.pid!, "qcam-runtime");
    assert.equal(after.length, 1);
    assert.notEqual(after[0], before[0]);
    dev.signal("SIGINT");
    await dev.exited;
  });

  it("qcam dev: hot reload six times, every generation's output seen; a build error keeps the old app", async function () {
    const dir = appDir({ "main.ts": ticker("gen 1") });
    const dev = qcam(["dev", dir, "--port", port, "--no-typecheck"]);
    const seen = (tag: string) => () => dev.out().includes(`${tag} tick 2`);
    await until("generation 1", seen("gen 1"), 120000);
    for (let g = 2; g <= 6; g++) {
      fs.writeFileSync(path.join(dir, "main.ts"), ticker(`gen ${g}`));
      await until(`generation ${g}`, seen(`gen ${g}`), 60000);
      assert.match(dev.out(), new RegExp(`gen ${g - 1} bye`), `generation ${g - 1} was stopped cleanly`);
    }
    // A syntax error: shown with file:line, and generation 6 keeps running.
    fs.writeFileSync(path.join(dir, "main.ts"), `${ticker("gen 7")}\nconst = ;\n`);
    await until("the build error", () => /build failed/.test(dev.err()), 60000);
    assert.match(dev.err(), /main\.ts:9:\d+/);
    const mark = dev.out().length;
    await until("generation 6 still ticking", () => /gen 6 tick/.test(dev.out().slice(mark)));
    fs.writeFileSync(path.join(dir, "main.ts"), ticker("gen 7"));
    await until("generation 7", seen("gen 7"), 60000);
    assert.equal((dev.err().match(/\[dev\] #\d+ running/g) ?? []).length, 7, dev.err());
    dev.signal("SIGINT");
    await dev.exited;
  });

  if (flavor === "host") it("qcam dev in a terminal: a typed line is evaluated in the running app; an error comes back as the app's exception", async function () {
    const dir = appDir({ "main.ts": ticker("repl") });
    // script(1) gives `qcam dev` a terminal (a pty of its own) and passes on what is written to it
    const cmd = [process.execPath, CLI, "dev", dir, "--port", port, "--no-typecheck"].map((a) => `'${a}'`).join(" ");
    const c = spawnChild("script", ["-qfec", cmd, "/dev/null"], { cwd: ROOT, stdin: "pipe", group: true });
    const out = () => c.output().stdout;
    await until("the app's first ticks", () => out().includes("repl tick 2"), 120000);
    assert.match(out(), /type an expression to evaluate it in the app/);
    c.child.stdin!.write(`"re" + "pl" + "ok" + (1 + 1)\n`);
    await until("the value", () => /^"replok2"\r?$/m.test(out()));
    c.child.stdin!.write("nosuch.thing\n");
    await until("the error", () => /^ReferenceError: nosuch is not defined\r?$/m.test(out()));
    await until("its trace, in TypeScript", () => /at .*main\.ts:5:\d+/.test(out()));
    assert.match(out(), /repl tick/, "the app kept running");
    c.signal("SIGINT");
    await c.done;
  });
});

describe("dev link: the riscv64 board under qemu (smoke)", function () {
  this.timeout(300000);
  let board: Proc;
  let port: string;

  before(async function () {
    board = qcam(["board", "--target", "riscv64", "--sdcard", tmpDir("qcam-devlink-rv-sd-")], ROOT, "suite");
    await until("the board's path", () => /board: (\S+)/.test(board.out()), 120000);
    port = /board: (\S+)/.exec(board.out())![1];
  });

  after(async function () {
    board.signal("SIGTERM");
    await Promise.race([board.exited, new Promise((r) => setTimeout(r, 3000))]);
    board.signal("SIGKILL");
  });

  it("hello, run with the console, a TypeScript stack trace, stop of a busy app", async function () {
    let text = "";
    const l = await BoardLink.open(port, { console: (_s, d) => (text += d.toString("utf8")) });
    try {
      const caps = await l.hello(60000);
      assert.equal(caps.target, "sim-riscv64");
      assert.equal(caps.abi, readBuildInfo("riscv64").abi);
      const built = await buildApp(appDir({ "main.ts": `console.log("rv start");\nlet n = 0;\nwhile (true) n++;\n` }), { target: "riscv64", typecheck: false });
      const p = await l.push(fs.readFileSync(built.image));
      const started = l.waitEvent((e) => e.event === "started" && e.image === p.hash, 60000);
      await l.run(p.hash);
      await started;
      await until("the busy app's first line", () => text.includes("rv start"), 60000);
      const exited = l.waitEvent((e) => e.event === "exited" && e.image === p.hash, 60000);
      assert.equal(await l.stop(), true);
      assert.equal((await exited).reason, "stop");
    } finally {
      await l.close();
    }
    const r = qcam(["run", path.join(FIXTURES, "throws"), "--port", port, "--no-typecheck"]);
    assert.equal(await r.exited, 1, r.err());
    assert.match(r.err(), /at parseConfig \(\S*test\/fixtures\/throws\/src\/config\.ts:7:\d+\)/);
  });
});
