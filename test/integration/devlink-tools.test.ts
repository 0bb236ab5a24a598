// The dev link's files and REPL channels, `qcam ports`, finding the board
// without --port, and the port lock (docs/dev-link.md, sections 3.4, 3.5 and
// 6) — over a real pty to `qcam board`, the host and the ASan runtime.
// Judged by hashes, the board's storage, status names and what apps print.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../../build/app-build.ts";
import * as files from "../../build/devlink/files.ts";
import { BoardLink, LinkError } from "../../build/devlink/link.ts";
import { lockPath } from "../../build/devlink/ports.ts";
import { evaluate } from "../../build/devlink/tools.ts";
import { ROOT } from "../../build/paths.ts";
import { spawnChild, tmpDir } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");

interface Proc {
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
  signal: (sig: NodeJS.Signals) => void;
}

function qcam(argv: string[], lifetime: "test" | "suite" = "test"): Proc {
  const c = spawnChild(process.execPath, [CLI, ...argv], { cwd: ROOT, stdin: "pipe", group: true, lifetime });
  return { out: () => c.output().stdout, err: () => c.output().stderr, exited: c.done.then((r) => r.code), signal: c.signal };
}

async function until(what: string, f: () => boolean, timeoutMs = 30000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const shaFile = (f: string) => sha(fs.readFileSync(f));

for (const flavor of ["host", "asan"] as const) describe(`dev link tools: files, REPL, ports, lock (${flavor} runtime)`, function () {
  this.timeout(240000);
  let board: Proc;
  let port: string;
  let sdcard: string;
  let link: BoardLink | undefined;
  let consoleText = "";

  async function open(): Promise<BoardLink> {
    const l = await BoardLink.open(port, { console: (_s, d) => (consoleText += d.toString("utf8")) });
    link = l;
    await l.hello();
    return l;
  }

  before(async function () {
    sdcard = tmpDir("qcam-devlink-tools-sd-");
    board = qcam(["board", "--sdcard", sdcard, ...(flavor === "asan" ? ["--asan"] : [])], "suite");
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

  it("qcam put / get: a 20 MB file there and back with the same SHA-256, progress shown; a second put is skipped", async function () {
    const dir = tmpDir("qcam-devlink-files-");
    const big = path.join(dir, "big.bin");
    fs.writeFileSync(big, randomBytes(20 << 20));
    const mk = qcam(["mkdir", "/clips/2026", "--port", port]);
    assert.equal(await mk.exited, 0, mk.err());
    const put = qcam(["put", big, "/clips/2026/", "--port", port]);
    assert.equal(await put.exited, 0, put.err());
    assert.match(put.err(), /put \/clips\/2026\/big\.bin \[[#.]+\] +\d+% /, "progress lines");
    assert.equal(shaFile(path.join(sdcard, "clips", "2026", "big.bin")), shaFile(big));
    const back = path.join(dir, "back.bin");
    const get = qcam(["get", "/clips/2026/big.bin", back, "--port", port]);
    assert.equal(await get.exited, 0, get.err());
    assert.match(get.err(), /get \/clips\/2026\/big\.bin \[[#.]+\] +\d+% /);
    assert.equal(shaFile(back), shaFile(big));
    assert.ok(!fs.existsSync(`${back}.part`));
    const again = qcam(["put", big, "/clips/2026/big.bin", "--port", port]);
    assert.equal(await again.exited, 0, again.err());
    assert.match(again.out(), /the board has it already/);
    const ls = qcam(["ls", "-l", "/clips/2026", "--port", port]);
    assert.equal(await ls.exited, 0, ls.err());
    assert.match(ls.out(), new RegExp(`^file +${20 << 20} \\S+ big\\.bin$`, "m"));
    const rm = qcam(["rm", "/clips/2026/big.bin", "/clips/2026", "--port", port]);
    assert.equal(await rm.exited, 0, rm.err());
    assert.ok(!fs.existsSync(path.join(sdcard, "clips", "2026")));
    // Nothing left staged.
    assert.deepEqual(fs.readdirSync(path.join(sdcard, ".qcam", "files")), []);
  });

  it("an interrupted put goes on from the last verified chunk; an interrupted get too", async function () {
    const dir = tmpDir("qcam-devlink-files-");
    const src = path.join(dir, "clip.bin");
    const bytes = randomBytes(3 << 20);
    fs.writeFileSync(src, bytes);
    let l = await open();
    let cut = false;
    await assert.rejects(
      files.put(l, src, "/clip.bin", (acked, total) => {
        if (!cut && acked > total / 3) {
          cut = true;
          void l.close();
        }
      }),
      /closed/,
    );
    assert.ok(cut);
    assert.ok(!fs.existsSync(path.join(sdcard, "clip.bin")), "nothing in place before the whole file hashed right");
    l = await open();
    const p = await files.put(l, src, "/clip.bin");
    assert.equal(p.skipped, false);
    assert.ok(p.resumedAt > 0, "the put went on where the cut one stopped");
    assert.ok(p.sent < bytes.length, "fewer bytes sent than the file holds");
    assert.equal(shaFile(path.join(sdcard, "clip.bin")), sha(bytes));
    // get, cut off, then again: it goes on from the part file.
    const dest = path.join(dir, "clip.back");
    cut = false;
    await assert.rejects(
      files.get(l, "/clip.bin", dest, (have, total) => {
        if (!cut && have > total / 3) {
          cut = true;
          void l.close();
        }
      }),
      /closed/,
    );
    assert.ok(fs.existsSync(`${dest}.part`) && !fs.existsSync(dest));
    l = await open();
    const g = await files.get(l, "/clip.bin", dest);
    assert.ok(g.resumedAt > 0, "the get went on where the cut one stopped");
    assert.equal(shaFile(dest), sha(bytes));
  });

  it("a put whose bytes do not hash to what was announced is refused and not written", async function () {
    const l = await open();
    const bytes = randomBytes(100000);
    const head = Buffer.alloc(36);
    createHash("sha256").update("something else").digest().copy(head, 0);
    head.writeUInt32LE(bytes.length, 32);
    const start = await l.request(files.Files.put, Buffer.concat([head, Buffer.from("/liar.bin")]), 5000, 4);
    assert.equal(start.status, 0);
    await assert.rejects(l.upload(4, start, bytes.length, (o, n) => bytes.subarray(o, o + n)), (e: LinkError) => e.status === "refused" && /do not hash/.test(e.message));
    assert.ok(!fs.existsSync(path.join(sdcard, "liar.bin")));
    // The link is fine afterwards.
    assert.equal((await files.stat(l, "/")).type, "dir");
  });

  it("paths leading out of the storage root are refused with status outside, by every operation", async function () {
    const outside = tmpDir("qcam-devlink-outside-");
    fs.writeFileSync(path.join(outside, "secret"), "do not read");
    fs.symlinkSync(outside, path.join(sdcard, "escape"));
    const l = await open();
    const bad = ["../secret", "/a/../../etc/passwd", "..", "escape/secret", "/escape"];
    for (const p of bad) {
      await assert.rejects(files.stat(l, p), (e: LinkError) => e.status === "outside", p);
      await assert.rejects(files.ls(l, p), (e: LinkError) => e.status === "outside", p);
      await assert.rejects(files.rm(l, p), (e: LinkError) => e.status === "outside", p);
      await assert.rejects(files.mkdir(l, `${p}/x`), (e: LinkError) => e.status === "outside", p);
      await assert.rejects(files.get(l, p, path.join(outside, "copy")), (e: LinkError) => e.status === "outside", p);
    }
    const src = path.join(outside, "up.bin");
    fs.writeFileSync(src, "x");
    await assert.rejects(files.put(l, src, "escape/up.bin"), (e: LinkError) => e.status === "outside");
    await assert.rejects(files.put(l, src, "../up.bin"), (e: LinkError) => e.status === "outside");
    assert.equal(fs.readFileSync(path.join(outside, "secret"), "utf8"), "do not read");
    assert.deepEqual(fs.readdirSync(outside).sort(), ["secret", "up.bin"]);
    await l.close();
    // The CLI says so in one line and fails.
    const r = qcam(["get", "../secret", path.join(outside, "c"), "--port", port]);
    assert.notEqual(await r.exited, 0);
    assert.match(r.err(), /outside: the path leads out of the board's storage/);
    // Other mistakes have their own names.
    const l2 = await open();
    await assert.rejects(files.stat(l2, "/no/such"), (e: LinkError) => e.status === "noent");
    await assert.rejects(files.rm(l2, "/"), (e: LinkError) => e.status === "bad");
    fs.unlinkSync(path.join(sdcard, "escape"));
  });

  it("REPL: an expression evaluated in the running app sees its state; errors come with their stack", async function () {
    const dir = tmpDir("qcam-devlink-repl-");
    fs.writeFileSync(
      path.join(dir, "main.ts"),
      `import { app, time } from "qcam:app";
const state = { frames: 0, mode: "idle" };
(globalThis as any).state = state;
console.log("repl app up");
while (!app.needExit()) {
  state.frames++;
  time.sleepMs(5);
}
console.log("repl app mode " + state.mode);
`,
    );
    const built = await buildApp(dir, { typecheck: false });
    let l = await open();
    const p = await l.push(fs.readFileSync(built.image));
    await l.run(p.hash);
    await until("the app", () => consoleText.includes("repl app up"));
    const a = await evaluate(l, "state.frames");
    assert.ok(a.ok);
    const b = await evaluate(l, "state.frames");
    assert.ok(Number(b.text) > Number(a.text), `the app's loop went on between evals (${a.text}, ${b.text})`);
    assert.deepEqual(await evaluate(l, "state.mode = 'recording'"), { ok: true, text: '"recording"' });
    const err = await evaluate(l, "state.nope.deeper");
    assert.equal(err.ok, false);
    assert.match(err.text, /TypeError: cannot read property 'deeper' of undefined/i);
    assert.match(err.text, /at <eval> \(<repl>:1/);
    await l.close();
    // From the command line, while the app runs on.
    const r = qcam(["repl", "-e", "[state.mode, typeof state.frames]", "--port", port]);
    assert.equal(await r.exited, 0, r.err());
    assert.equal(r.out().trim(), '["recording","number"]');
    const bad = qcam(["repl", "-e", "nothere + 1", "--port", port]);
    assert.equal(await bad.exited, 1);
    assert.match(bad.err(), /ReferenceError: nothere is not defined/);
    l = await open();
    const exited = l.waitEvent((e) => e.event === "exited" && e.image === p.hash);
    await l.stop();
    await exited;
    await until("the app's last line", () => consoleText.includes("repl app mode recording"));
    // No app: said so.
    await assert.rejects(evaluate(l, "1 + 1"), /no app is running/);
  });

  it("a push of an edited app goes as a small delta against the image the board runs; a delta that does not apply is refused", async function () {
    const dir = tmpDir("qcam-delta-");
    const src = (n: number) => `import { app, time } from "qcam:app";\nconsole.log("delta gen ${n}");\nconst pad = "${"x".repeat(6000)}";\nwhile (!app.needExit()) time.sleepMs(10);\nconsole.log(pad.length);\n`;
    fs.writeFileSync(path.join(dir, "main.ts"), src(1));
    const a = fs.readFileSync((await buildApp(dir, { typecheck: false })).image);
    fs.writeFileSync(path.join(dir, "main.ts"), src(2));
    const b = fs.readFileSync((await buildApp(dir, { typecheck: false })).image);
    const l = await open();
    const pa = await l.push(a);
    await l.run(pa.hash);
    await until("generation 1", () => consoleText.includes("delta gen 1"));
    const pb = await l.push(b);
    assert.ok(pb.delta !== undefined && pb.delta < b.length / 4, `sent as a delta of ${pb.delta} bytes for ${b.length}`);
    assert.ok(pb.bytes < b.length / 4);
    assert.equal(shaFile(path.join(sdcard, ".qcam", "images", `${pb.hash}.qcam`)), sha(b));
    await l.run(pb.hash);
    await until("generation 2", () => consoleText.includes("delta gen 2"));
    // A delta the board cannot apply: refused, nothing stored.
    const c = Buffer.concat([b, Buffer.from("tail")]);
    const head = Buffer.alloc(72);
    createHash("sha256").update(c).digest().copy(head, 0);
    head.writeUInt32LE(c.length, 32);
    Buffer.from(pb.hash, "hex").copy(head, 36);
    const bogus = Buffer.from([1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x00]); // copy 16 MiB from a 10 KiB base
    head.writeUInt32LE(bogus.length, 68);
    const start = await l.request(2, head);
    assert.equal(start.status, 0);
    assert.equal(start.body[8], 1, "the board took the delta");
    await assert.rejects(l.upload(1, start, bogus.length, (o, n) => bogus.subarray(o, o + n)), /refused: the delta does not apply/);
    assert.ok(!fs.existsSync(path.join(sdcard, ".qcam", "images", `${sha(c)}.qcam`)));
    const exited = l.waitEvent((e) => e.event === "exited");
    await l.stop();
    await exited;
  });

  it("qcam dev sees saves made by renaming a new file over the old one (as editors and sed -i save), also in a new folder", async function () {
    const dir = tmpDir("qcam-dev-rename-");
    const src = (g: number) => `import { app, time } from "qcam:app";\nimport { tag } from "./lib/tag.ts";\nconsole.log("renamed gen " + ${g} + tag);\nwhile (!app.needExit()) time.sleepMs(10);\n`;
    fs.mkdirSync(path.join(dir, "lib"));
    fs.writeFileSync(path.join(dir, "lib", "tag.ts"), `export const tag = "";\n`);
    fs.writeFileSync(path.join(dir, "main.ts"), src(1));
    const dev = qcam(["dev", dir, "--port", port, "--no-typecheck"]);
    try {
      await until("generation 1", () => dev.out().includes("renamed gen 1"), 120000);
      for (let g = 2; g <= 4; g++) {
        const tmp = path.join(dir, `.main.ts.${g}.swp`);
        fs.writeFileSync(tmp, src(g));
        fs.renameSync(tmp, path.join(dir, "main.ts"));
        await until(`generation ${g}`, () => dev.out().includes(`renamed gen ${g}`), 60000);
      }
      // A file in a subfolder, saved the same way.
      const tmp = path.join(dir, "lib", ".tag.swp");
      fs.writeFileSync(tmp, `export const tag = " (tagged)";\n`);
      fs.renameSync(tmp, path.join(dir, "lib", "tag.ts"));
      await until("the tagged generation", () => dev.out().includes("renamed gen 4 (tagged)"), 60000);
    } finally {
      dev.signal("SIGINT");
      await dev.exited;
    }
  });

  it("qcam ports marks the sim board; commands find the one board without --port", async function () {
    const r = qcam(["ports"]);
    assert.equal(await r.exited, 0, r.err());
    assert.match(r.out(), /^\* \S*out\/board\.tty .*board: sim sim-x86_64/m);
    // out/board.tty is this suite's board (the newest `qcam board` links it).
    const dir = tmpDir("qcam-devlink-find-");
    fs.writeFileSync(path.join(dir, "found.txt"), "found");
    const put = qcam(["put", path.join(dir, "found.txt"), "/found.txt"]);
    assert.equal(await put.exited, 0, put.err());
    assert.equal(fs.readFileSync(path.join(sdcard, "found.txt"), "utf8"), "found");
  });

  it("the port lock: a second qcam command on a port in use fails at once, naming the holder", async function () {
    const l = await open();
    const r = qcam(["ls", "/", "--port", port]);
    assert.notEqual(await r.exited, 0);
    assert.match(r.err(), new RegExp(`is in use by pid ${process.pid}\\b`));
    await assert.rejects(BoardLink.open(port), /in use by this process already/);
    await l.close();
    link = undefined;
    assert.ok(!fs.existsSync(lockPath(port)), "closing let go of the lock");
    const ok = qcam(["ls", "/", "--port", port]);
    assert.equal(await ok.exited, 0, ok.err());
    // A lock whose holder is gone (killed before it could remove it) is taken over.
    const gone = spawnChild(process.execPath, ["-e", "0"]);
    await gone.done;
    fs.writeFileSync(lockPath(port), `${String(gone.child.pid).padStart(10)}\n`);
    const after = qcam(["ls", "/", "--port", port]);
    assert.equal(await after.exited, 0, after.err());
    assert.ok(!fs.existsSync(lockPath(port)));
  });
});
