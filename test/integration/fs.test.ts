// qcam:fs on the real runtime: the fixture app (test/fixtures/fs) does the
// file work on board paths; these tests check what it reports and, from the
// Node side, what landed in the sim SD card folder.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, type Flavor } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import { fixture, FIXTURES, spawnSyncChild, tmpDir } from "../helpers.ts";

interface FsRun {
  code: number | null;
  stdout: string;
  stderr: string;
  sd: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Run the fs fixture in `mode` on a card folder (a fresh one unless given). */
function runFs(
  image: string,
  args: string[],
  opts: { flavor?: Flavor; sd?: string; sizeMb?: number; runtimeArgs?: string[]; fdLimit?: number; timeoutMs?: number } = {},
): FsRun {
  const sd = opts.sd ?? tmpDir("qcam-sd-");
  const runtimeArgs = [...(opts.sizeMb ? ["--sdcard-size", String(opts.sizeMb)] : []), ...(opts.runtimeArgs ?? [])];
  let cmd = runtimeCommand(opts.flavor ?? "host", image, { sdcard: sd, runtimeArgs, args });
  if (opts.fdLimit) cmd = ["sh", "-c", `ulimit -n ${opts.fdLimit} && exec "$@"`, "sh", ...cmd];
  const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: opts.timeoutMs ?? 60000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  let json: unknown;
  const last = r.stdout.trim().split("\n").pop() ?? "";
  try {
    json = JSON.parse(last);
  } catch {
    json = undefined;
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, sd, json };
}

function ok(r: FsRun): void {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.equal(r.stderr, "");
}

/** Every file under a folder, relative, with its size. */
function tree(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.statSync(p).size;
    }
  };
  walk(dir);
  return out;
}

const MiB = 1024 * 1024;

describe("qcam:fs", function () {
  let image: string;
  before(async function () {
    image = (await fixture("fs")).image;
  });

  it("round trips strings and bytes, with and without positions; truncate; UTF-8; /tmp", function () {
    const r = runFs(image, ["roundtrip"]);
    ok(r);
    const { space, ...j } = r.json;
    assert.deepEqual(j, {
      w1: 6, w2: 5, w3: 2, wAt: 1, w4: 1, flags: "w", path: "/sdcard/a.bin", size: 14,
      rd1: [5, "hello"], rdAt: [5, "Jorld"], rd2: " Jorld!!?", eof: 0, rdAb: [3, "hel"],
      rdView: ["hel", [0, 0, 0, 0]], readFile: "hello Jorld!!?", readFileIsAb: true,
      readText: "grüße ✓ 📷", utf8Bytes: 16, afterTruncate: "HELLO Jo", extended: [0, 0],
      empty: 0, tmp: "tmp data", bigSame: true,
    });
    // What is on the card, seen from the PC.
    assert.equal(fs.readFileSync(path.join(r.sd, "a.bin"), "latin1"), "HELLO Jo\0\0");
    assert.deepEqual(fs.readFileSync(path.join(r.sd, "utf8.txt")), Buffer.from("grüße ✓ 📷"));
    assert.equal(fs.readFileSync(path.join(r.sd, ".tmp/scratch.txt"), "utf8"), "tmp data");
    const big = fs.readFileSync(path.join(r.sd, "big.bin"));
    assert.equal(big.length, 300_000);
    assert.ok(big.every((v, i) => v === ((i * 7 + (i >> 9)) & 0xff)));
    // Without --sdcard-size, space() is the host disk's.
    assert.ok(space.total > 0 && space.free <= space.total && space.available <= space.free, JSON.stringify(space));
  });

  it("appends: appendFile and \"a\" mode always write at the end", function () {
    const r = runFs(image, ["append"]);
    ok(r);
    assert.equal(r.json, "one\ntwo\nthree\nfour\n");
    assert.equal(fs.readFileSync(path.join(r.sd, "log.txt"), "utf8"), "one\ntwo\nthree\nfour\n");
  });

  it("writeFile replaces atomically and leaves no temporary file behind", function () {
    const r = runFs(image, ["atomic"]);
    ok(r);
    assert.deepEqual(r.json, { v: 2, list: ["config.json"], underFile: "ENOTDIR", onDir: "EISDIR" });
    assert.deepEqual(Object.keys(tree(r.sd)), ["config.json"]);
    assert.equal(JSON.parse(fs.readFileSync(path.join(r.sd, "config.json"), "utf8")).v, 2);
  });

  it("list (sorted), stat, exists, rename, remove, removeTree, mkdir recursive", function () {
    const r = runFs(image, ["dirs"]);
    ok(r);
    assert.deepEqual(r.json, {
      list: ["B.mp4", "a.mp4", "b.mp4", "c.mp4"],
      listTop: ["rec"], // the sim's .tmp/ is not part of /sdcard
      listDirs: ["10", "11"],
      stat: { size: 5, isFile: true, isDirectory: false, recent: true },
      statDir: [false, true],
      exists: [true, false, false, true, true],
      afterRename: [["B.mp4", "a.mp4"], ["c.mp4"], "b.mp4"],
      afterRemove: ["a.mp4"],
      afterTree: ["keep"],
      normalised: [true, ["deep"]],
    });
    assert.ok(!fs.existsSync(path.join(r.sd, "rec")));
    assert.ok(fs.statSync(path.join(r.sd, "keep/deep/deeper")).isDirectory());
    assert.deepEqual(fs.readdirSync(path.join(r.sd, "keep/deep/deeper")), []);
  });

  it("errors carry POSIX codes and errno, and name the board path, never the host's", function () {
    const sd = tmpDir("qcam-sd-");
    // Something outside the card that an escape would reach.
    fs.writeFileSync(path.join(path.dirname(sd), `${path.basename(sd)}-outside.txt`), "secret");
    const r = runFs(image, ["errors"], { sd });
    ok(r);
    const j = r.json as Record<string, { name: string; code: string; errno?: number; message: string } | string[]>;
    const expect: Record<string, [string, string]> = {
      openMissing: ["Error", "ENOENT"], readFileMissing: ["Error", "ENOENT"], statMissing: ["Error", "ENOENT"],
      removeMissing: ["Error", "ENOENT"], removeTreeMissing: ["Error", "ENOENT"], renameMissing: ["Error", "ENOENT"],
      openWx: ["Error", "EEXIST"], mkdirExists: ["Error", "EEXIST"], mkdirOverFile: ["Error", "EEXIST"],
      removeNotEmpty: ["Error", "ENOTEMPTY"],
      openDir: ["Error", "EISDIR"], openDirW: ["Error", "EISDIR"], readFileDir: ["Error", "EISDIR"], writeFileDir: ["Error", "EISDIR"],
      listFile: ["Error", "ENOTDIR"], openUnderFile: ["Error", "ENOTDIR"],
      outside: ["Error", "EINVAL"], outsideWrite: ["Error", "EINVAL"], relative: ["Error", "EINVAL"], sdcardLookalike: ["Error", "EINVAL"],
      dotdot: ["Error", "EINVAL"], dotdotDeep: ["Error", "EINVAL"], dotdotExists: ["Error", "EINVAL"], renameOutside: ["Error", "EINVAL"], renameIntoItself: ["Error", "EINVAL"],
      removeMount: ["Error", "EBUSY"], removeTreeMount: ["Error", "EBUSY"], removeTreeTmp: ["Error", "EBUSY"], renameMount: ["Error", "EBUSY"],
      writeReadOnly: ["Error", "EBADF"],
      badFlags: ["TypeError", "ERR_INVALID_ARG"], badPath: ["TypeError", "ERR_INVALID_ARG"], nulPath: ["Error", "EINVAL"],
      badData: ["TypeError", "ERR_INVALID_ARG"], badPosition: ["RangeError", "ERR_INVALID_ARG"],
      readIntoString: ["TypeError", "ERR_INVALID_ARG"], badMkdirOptions: ["TypeError", "ERR_INVALID_ARG"],
    };
    const errnos: Record<string, number> = { ENOENT: 2, EBADF: 9, EBUSY: 16, EEXIST: 17, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENOTEMPTY: 39 };
    for (const [k, [name, code]] of Object.entries(expect)) {
      const e = j[k] as { name: string; code: string; errno?: number; message: string };
      assert.equal(typeof e, "object", `${k}: expected a throw, got ${JSON.stringify(e)}`);
      assert.deepEqual([e.name, e.code], [name, code], `${k}: ${JSON.stringify(e)}`);
      if (code.startsWith("E")) assert.equal(e.errno, errnos[code], k);
      assert.ok(!e.message.includes(sd), `${k} leaks the host path: ${e.message}`);
    }
    assert.equal(Object.keys(expect).length + 1, Object.keys(j).length, "every case is checked");
    assert.match((j.openMissing as { message: string }).message, /^open \/sdcard\/missing\.txt: /);
    assert.match((j.renameMissing as { message: string }).message, /^rename \/sdcard\/missing\.txt -> \/sdcard\/other\.txt: /);
    assert.match((j.outside as { message: string }).message, /\/etc\/passwd: not a board path \(use \/sdcard\/\.\.\. or \/tmp\/\.\.\.\)/);
    assert.match((j.renameIntoItself as { message: string }).message, /^rename \/sdcard\/full -> \/sdcard\/full\/sub\/x: Invalid argument$/);
    assert.match((j.renameOutside as { message: string }).message, /^rename \/etc\/x: not a board path/);
    assert.match((j.dotdot as { message: string }).message, /'\.\.' is not allowed/);
    assert.match((j.removeMount as { message: string }).message, /mount point/);
    // Nothing escaped, nothing was removed.
    assert.deepEqual(j.onDisk, ["exists.txt", "full"]);
    assert.ok(!fs.existsSync(path.join(path.dirname(sd), "escape.txt")));
    assert.equal(fs.readFileSync(path.join(path.dirname(sd), `${path.basename(sd)}-outside.txt`), "utf8"), "secret");
    fs.rmSync(path.join(path.dirname(sd), `${path.basename(sd)}-outside.txt`));
    assert.deepEqual(tree(sd), { "exists.txt": 1, "full/f.txt": 1 });
  });

  it("a full card (--sdcard-size 1): 2 MiB written, ENOSPC after exactly 1 MiB, the bytes that fit are on disk", function () {
    // 100000-byte writes: the last one fits only in part.
    const r = runFs(image, ["fill", String(2 * MiB), "100000"], { sizeMb: 1 });
    ok(r);
    assert.deepEqual(r.json, { total: MiB, code: "ENOSPC", space: { total: MiB, free: 0, available: 0 } });
    const onDisk = fs.readFileSync(path.join(r.sd, "fill.bin"));
    assert.equal(onDisk.length, MiB);
    assert.ok(onDisk.every((b) => b === 1));
  });

  it("a full card: space() stays consistent through writes, overwrites, truncates, atomic writes, renames and removes", function () {
    const sd = tmpDir("qcam-sd-");
    const pre = 256 * 1024; // already on the card: counted at first use
    fs.writeFileSync(path.join(sd, "pre.bin"), Buffer.alloc(pre, 7));
    const r = runFs(image, ["full"], { sd, sizeMb: 1 });
    ok(r);
    const j = r.json;
    const sp = (free: number) => ({ total: MiB, free, available: free });
    assert.deepEqual(j.before, sp(MiB - pre));
    assert.equal(j.total, MiB - pre);
    assert.equal(j.fileSize, MiB - pre);
    assert.equal(j.err.code, "ENOSPC");
    assert.equal(j.err.errno, 28);
    assert.equal(j.err.message, "write /sdcard/rec.bin: No space left on device");
    assert.deepEqual(j.full, sp(0));
    assert.equal(j.again.code, "ENOSPC", "a full card stays full");
    assert.equal(j.again.bytesWritten, 0);
    assert.equal(j.overwrite, 4, "rewriting existing bytes needs no space");
    assert.equal(j.grow.code, "ENOSPC", "truncate cannot grow a file past the card");
    assert.equal(j.appendFull.code, "ENOSPC");
    assert.equal(j.atomic.code, "ENOSPC");
    assert.equal(j.atomicKept, "old", "a failed writeFile leaves the old file");
    // rec.bin was cut by 4096 to make room; config.txt holds 3 bytes.
    assert.deepEqual(j.afterAtomic, sp(4096 - 3));
    assert.deepEqual(j.afterRemove, sp(MiB - pre - 3));
    assert.equal(j.oneBig.code, "ENOSPC");
    assert.equal(j.oneBig.bytesWritten, MiB - pre - 3, "one big write: what fits, then ENOSPC");
    assert.equal(j.oneBigSize, MiB - pre - 3);
    assert.deepEqual(j.afterTruncate, sp(MiB - pre - 3 - 1000));
    assert.deepEqual(j.afterRenameOver, sp(MiB - pre - 3), "renaming over a file frees it");
    assert.deepEqual(j.beforeTree, sp(MiB - pre - 3 - 8000));
    assert.deepEqual(j.afterTree, sp(MiB - pre - 3));
    assert.deepEqual(j.tmpSpace, sp(MiB - pre - 3), "/tmp lives on the sim card");
    assert.deepEqual(j.list, ["one.bin", "other.txt", "pre.bin"]);
    // The card folder agrees with the running count.
    const files = tree(sd);
    assert.deepEqual(files, { "one.bin": 3, "other.txt": 0, "pre.bin": pre });
    assert.equal(fs.readFileSync(path.join(sd, "one.bin"), "utf8"), "old");
  });

  it("the running count starts from what earlier runs left on the card", function () {
    const sd = tmpDir("qcam-sd-");
    let r = runFs(image, ["fill", String(300_000)], { sd, sizeMb: 1 });
    ok(r);
    assert.deepEqual(r.json, { total: 300_000, code: "ok", space: { total: MiB, free: MiB - 300_000, available: MiB - 300_000 } });
    fs.writeFileSync(path.join(sd, "other.bin"), Buffer.alloc(500_000));
    // "w" truncates fill.bin (freeing its 300000 bytes) and fills what the other file leaves.
    r = runFs(image, ["fill", String(2 * MiB)], { sd, sizeMb: 1 });
    ok(r);
    assert.deepEqual(r.json, { total: MiB - 500_000, code: "ENOSPC", space: { total: MiB, free: 0, available: 0 } });
    assert.equal(fs.statSync(path.join(sd, "fill.bin")).size, MiB - 500_000);
  });

  it("the C HAL from native threads (the MP4 writer's way): writers share the card's space exactly, ThreadSanitizer clean", function () {
    this.timeout(120000);
    const dir = tmpDir("qcam-fs-hal-");
    const bin = path.join(dir, "hal_threads");
    const srcs = [
      path.join(FIXTURES, "fs-hal/hal_threads.c"),
      path.join(ROOT, "host-modules/fs/backend_sim.c"),
      path.join(ROOT, "host-modules/app/backend_sim.c"),
    ];
    const flags = ["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes", "-g", "-O1", `-I${path.join(ROOT, "host-modules/fs")}`];
    const cc = spawnSyncChild("gcc", [...flags, "-fsanitize=thread", ...srcs, "-o", bin, "-pthread"], { encoding: "utf8" });
    assert.equal(cc.status, 0, cc.stderr);
    const sd = path.join(dir, "card");
    fs.mkdirSync(sd);
    fs.writeFileSync(path.join(sd, "pre.bin"), Buffer.alloc(100_000));
    const r = spawnSyncChild(bin, [sd, String(MiB), "4", "1000"], { encoding: "utf8", timeout: 60000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /ThreadSanitizer/);
    const free = MiB - 100_000;
    assert.match(r.stdout, new RegExp(`^total ${free} enospc 4 free_before ${free} free_after 0 reserve_full 0 reserve_after_release 4096$`, "m"));
    const told = [...r.stdout.matchAll(/^(clip-\d\.mp4) (\d+)$/gm)].map((m) => [m[1], Number(m[2])] as const);
    assert.equal(told.length, 4);
    for (const [name, n] of told) assert.equal(fs.statSync(path.join(sd, "video", name)).size, n, name);
    assert.equal(told.reduce((a, [, n]) => a + n, 0), free);
  });

  it("File handles: close twice, use after close, wrong this, [Symbol.dispose], no constructor", function () {
    const r = runFs(image, ["handles"]);
    ok(r);
    const j = r.json;
    const closed = { name: "TypeError", code: "ERR_CLOSED", message: "File is closed" };
    const wrong = { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a File" };
    assert.equal(j.closeTwice, "ok");
    assert.equal(j.disposeAfterClose, "ok");
    for (const k of ["writeAfterClose", "readAfterClose", "statAfterClose", "pathAfterClose", "afterDispose"]) assert.deepEqual(j[k], closed, k);
    for (const k of ["wrongThis", "wrongThisClose", "wrongThisPath"]) assert.deepEqual(j[k], wrong, k);
    assert.equal(j.ctor.code, "ERR_ILLEGAL_CONSTRUCTOR");
    assert.equal(j.instance, true);
    assert.equal(j.tag, "[object File]");
    assert.equal(j.disposeIsClose, true);
    assert.equal(j.disposedText, "disposed");
    assert.equal(fs.readFileSync(path.join(r.sd, "h.txt"), "utf8"), "x");
  });

  it("unloading closes files the app leaked: 30 loads under ASan, 64 fds, no leak report", async function () {
    this.timeout(300000);
    const asan = (await fixture("fs")).image; // same image: the ASan runtime is a host flavor
    const runs = 30;
    const r = runFs(asan, ["leak"], { flavor: "asan", runtimeArgs: ["--repeat", String(runs)], fdLimit: 64, timeoutMs: 240000 });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /LeakSanitizer|AddressSanitizer|runtime error|EMFILE/);
    assert.equal(r.stdout, '{"open":20}\n'.repeat(runs));
    // 20 files kept open per run (5 on each of 4 files), each with one byte.
    const files = tree(r.sd);
    assert.deepEqual(files, { "leak-0.txt": 5 * runs, "leak-1.txt": 5 * runs, "leak-2.txt": 5 * runs, "leak-3.txt": 5 * runs });
  });

  it("every behaviour runs clean under ASan+UBSan, with the same results as the host build", function () {
    this.timeout(300000);
    for (const [args, sizeMb] of [[["roundtrip"]], [["append"]], [["atomic"]], [["dirs"]], [["errors"]], [["handles"]], [["full"], 1], [["fill", String(2 * MiB), "100000"], 1]] as [string[], number?][]) {
      const a = runFs(image, args, { flavor: "asan", sizeMb, timeoutMs: 120000 });
      ok(a);
      const h = runFs(image, args, { sizeMb });
      // The host disk's free space (roundtrip) moves between runs.
      const same = (r: FsRun) => r.stdout.replace(/"space":\{[^}]*\}/, "");
      assert.equal(same(a), same(h), args[0]);
    }
  });

  it("riscv64 under qemu: round trip and a full card", async function () {
    this.timeout(300000);
    const rv = (await fixture("fs", "riscv64")).image;
    let r = runFs(rv, ["roundtrip"], { flavor: "riscv64" });
    ok(r);
    assert.equal(r.json.readText, "grüße ✓ 📷");
    assert.equal(r.json.bigSame, true);
    assert.equal(fs.readFileSync(path.join(r.sd, "a.bin"), "latin1"), "HELLO Jo\0\0");
    r = runFs(rv, ["fill", String(2 * MiB), "100000"], { flavor: "riscv64", sizeMb: 1 });
    ok(r);
    assert.deepEqual(r.json, { total: MiB, code: "ENOSPC", space: { total: MiB, free: 0, available: 0 } });
    assert.equal(fs.statSync(path.join(r.sd, "fill.bin")).size, MiB);
  });
});
