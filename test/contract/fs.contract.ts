// qcam:fs's contract: files on a 1 MiB SD card (the runtime's --sdcard-size 1,
// the stub's world.sdcardSizeMb). Each case works in a folder of its own and
// removes it, so the card's free space is what the next case expects.
import * as fs from "qcam:fs";
import { contract, deepEq, descriptor, eq, ok, throws } from "./kit.ts";

const MiB = 1024 * 1024;
const FUNCTIONS: Record<string, number> = {
  open: 2,
  readFile: 1,
  readText: 1,
  writeFile: 2,
  appendFile: 2,
  list: 1,
  stat: 1,
  exists: 1,
  remove: 1,
  removeTree: 1,
  rename: 2,
  mkdir: 2,
  space: 1,
};
const METHODS: Record<string, number> = { read: 2, write: 2, sync: 0, truncate: 1, stat: 0, close: 0 };
const GETTERS = ["path", "flags"];

type AnyFn = (...args: unknown[]) => unknown;
const text = (b: ArrayBuffer | Uint8Array) => String.fromCharCode(...new Uint8Array(b instanceof Uint8Array ? b : b));
const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const dispose = (Symbol as unknown as { dispose: symbol }).dispose;

/** What qcam_throw_errno makes: an Error with code, errno and "what: strerror". */
function errno(code: string, n: number, message: string) {
  return { name: "Error", code, message, errno: n };
}
function throwsErrno(fn: () => unknown, e: { code: string; message: string; errno: number }, what?: string): void {
  const err = throws(fn, { name: "Error", code: e.code, message: e.message }, what) as Error & { errno?: number };
  eq(err.errno, e.errno, `${what ?? e.message}: errno`);
}

const ENOENT = (m: string) => errno("ENOENT", 2, `${m}: No such file or directory`);
const EEXIST = (m: string) => errno("EEXIST", 17, `${m}: File exists`);
const EISDIR = (m: string) => errno("EISDIR", 21, `${m}: Is a directory`);
const ENOTDIR = (m: string) => errno("ENOTDIR", 20, `${m}: Not a directory`);
const EINVAL = (m: string) => errno("EINVAL", 22, `${m}: Invalid argument`);
const EBUSY = (m: string) => errno("EBUSY", 16, `${m}: Device or resource busy`);
const ENOTEMPTY = (m: string) => errno("ENOTEMPTY", 39, `${m}: Directory not empty`);
const EBADF = (m: string) => errno("EBADF", 9, `${m}: Bad file descriptor`);
const ENOSPC = (m: string) => errno("ENOSPC", 28, `${m}: No space left on device`);

export default contract(
  "qcam:fs",
  (t) => {
    t.test("exports: the functions, with their names and lengths, and File", () => {
      deepEq(Object.keys(fs).sort(), ["File", ...Object.keys(FUNCTIONS)].sort());
      for (const [name, length] of Object.entries(FUNCTIONS)) {
        const fn = (fs as unknown as Record<string, AnyFn>)[name];
        eq(typeof fn, "function", name);
        eq(fn.name, name, `${name}.name`);
        eq(fn.length, length, `${name}.length`);
      }
    });

    t.test("File: no constructor; the prototype's methods, getters, [Symbol.dispose] and tag", () => {
      throws(() => new (fs.File as unknown as new () => unknown)(), {
        name: "TypeError",
        code: "ERR_ILLEGAL_CONSTRUCTOR",
        message: "use open(path, flags) to get a File",
      });
      eq(fs.File.name, "File");
      eq(fs.File.length, 0);
      const proto = fs.File.prototype as unknown as Record<string | symbol, unknown>;
      const names = Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor").sort();
      deepEq(names, [...GETTERS, ...Object.keys(METHODS)].sort());
      for (const [name, length] of Object.entries(METHODS)) {
        eq(descriptor(proto, name), "method writable configurable", name);
        eq((proto[name] as AnyFn).length, length, `${name}.length`);
      }
      for (const name of GETTERS) eq(descriptor(proto, name), "get configurable", name);
      eq(proto[dispose], proto.close, "[Symbol.dispose] is close");
      eq(descriptor(proto, Symbol.toStringTag), "value configurable");
    });

    t.test("round trips: strings and bytes, with and without positions; read positions; truncate; UTF-8; /tmp", () => {
      fs.mkdir("/sdcard/rt");
      const f = fs.open("/sdcard/rt/a.bin", "w");
      eq(f.write("hello "), 6);
      eq(f.write(bytes("world")), 5);
      eq(f.write(bytes("!!").buffer), 2);
      eq(f.write("J", 6), 1, "positional write");
      eq(f.write("?"), 1, "the position did not move");
      eq(f.write(""), 0);
      eq(f.flags, "w");
      eq(f.path, "/sdcard/rt/a.bin");
      eq(f.stat().size, 14);
      f.sync();
      f.close();
      const g = fs.open("/sdcard/rt/a.bin");
      eq(g.flags, "r", 'the default is "r"');
      const buf = new Uint8Array(5);
      eq(g.read(buf), 5);
      eq(text(buf), "hello");
      eq(g.read(buf, 6), 5);
      eq(text(buf), "Jorld", "positional read");
      const rest = new Uint8Array(100);
      const n = g.read(rest);
      eq(text(rest.subarray(0, n)), " Jorld!!?", "after the first read");
      eq(g.read(rest), 0, "end of file");
      eq(g.read(rest, null), 0, "null position: the file position");
      const ab = new ArrayBuffer(3);
      eq(g.read(ab, 0), 3);
      eq(text(ab), "hel");
      const view = new Uint8Array(new ArrayBuffer(10), 4, 3);
      eq(g.read(view, 0), 3);
      deepEq([text(view), Array.from(new Uint8Array(view.buffer, 0, 4))], ["hel", [0, 0, 0, 0]], "an offset view");
      g.close();
      const whole = fs.readFile("/sdcard/rt/a.bin");
      ok(whole instanceof ArrayBuffer, "readFile gives an ArrayBuffer");
      eq(text(whole), "hello Jorld!!?");
      fs.writeFile("/sdcard/rt/utf8.txt", "grüße ✓ 📷");
      eq(fs.readText("/sdcard/rt/utf8.txt"), "grüße ✓ 📷");
      eq(fs.stat("/sdcard/rt/utf8.txt").size, 16, "UTF-8 bytes");
      const h = fs.open("/sdcard/rt/a.bin", "r+");
      h.write("HELLO", 0);
      h.truncate(8);
      eq(text(fs.readFile("/sdcard/rt/a.bin")), "HELLO Jo");
      h.truncate(10);
      deepEq(Array.from(new Uint8Array(fs.readFile("/sdcard/rt/a.bin")).slice(8)), [0, 0], "extended with zeros");
      h.truncate();
      eq(h.stat().size, 0, "truncate() empties");
      h.close();
      fs.writeFile("/sdcard/rt/empty.bin", new Uint8Array(0));
      eq(fs.readFile("/sdcard/rt/empty.bin").byteLength, 0);
      fs.writeFile("/tmp/scratch.txt", "tmp data");
      eq(fs.readText("/tmp/scratch.txt"), "tmp data");
      fs.remove("/tmp/scratch.txt");
      const big = new Uint8Array(300_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 9)) & 0xff;
      fs.writeFile("/sdcard/rt/big.bin", big);
      const back = new Uint8Array(fs.readFile("/sdcard/rt/big.bin"));
      ok(back.length === big.length && back.every((v, i) => v === big[i]), "300 kB round trip");
      fs.removeTree("/sdcard/rt");
    });

    t.test('appends: appendFile and "a" mode always write at the end', () => {
      fs.appendFile("/sdcard/log.txt", "one\n");
      fs.appendFile("/sdcard/log.txt", bytes("two\n"));
      const f = fs.open("/sdcard/log.txt", "a");
      eq(f.write("three\n", 0), 6, '"a": the position is ignored');
      f.write("four\n");
      eq(f.stat().size, 19);
      f.close();
      eq(fs.readText("/sdcard/log.txt"), "one\ntwo\nthree\nfour\n");
      fs.remove("/sdcard/log.txt");
    });

    t.test("writeFile replaces a file whole, and leaves nothing else behind", () => {
      fs.mkdir("/sdcard/at");
      fs.writeFile("/sdcard/at/config.json", JSON.stringify({ v: 1 }));
      fs.writeFile("/sdcard/at/config.json", JSON.stringify({ v: 2, pad: "x".repeat(1000) }));
      eq(JSON.parse(fs.readText("/sdcard/at/config.json")).v, 2);
      deepEq(fs.list("/sdcard/at"), ["config.json"]);
      fs.writeFile("/sdcard/at/nodir/config.json", "x");
      deepEq(fs.list("/sdcard/at/nodir"), ["config.json"], "a missing folder is made, and nothing else is left in it");
      throwsErrno(() => fs.writeFile("/sdcard/at", "x"), EISDIR("writeFile /sdcard/at"));
      throwsErrno(() => fs.writeFile("/sdcard", "x"), EISDIR("writeFile /sdcard"));
      fs.removeTree("/sdcard/at");
    });

    t.test("folders: list (sorted bytewise), stat, exists, rename, remove, removeTree, mkdir recursive, tidy paths", () => {
      fs.mkdir("/sdcard/rec/2026/11", { recursive: true });
      fs.mkdir("/sdcard/rec/2026/11", { recursive: true });
      for (const n of ["c.mp4", "a.mp4", "B.mp4", "b.mp4"]) fs.writeFile(`/sdcard/rec/2026/11/${n}`, n);
      fs.mkdir("/sdcard/rec/2026/10");
      deepEq(fs.list("/sdcard/rec/2026/11"), ["B.mp4", "a.mp4", "b.mp4", "c.mp4"]);
      deepEq(fs.list("/sdcard"), ["rec"], "the sim's .tmp/ is not part of /sdcard");
      deepEq(fs.list("/sdcard/rec/2026/"), ["10", "11"]);
      const st = fs.stat("/sdcard/rec/2026/11/a.mp4");
      deepEq([st.size, st.isFile, st.isDirectory, typeof st.mtimeMs], [5, true, false, "number"]);
      deepEq(Object.keys(st), ["size", "isFile", "isDirectory", "mtimeMs"]);
      const sd = fs.stat("/sdcard/rec");
      deepEq([sd.isFile, sd.isDirectory], [false, true]);
      deepEq(
        [fs.exists("/sdcard/rec/2026/11/a.mp4"), fs.exists("/sdcard/rec/nope"), fs.exists("/sdcard/rec/2026/11/a.mp4/x"), fs.exists("/sdcard"), fs.exists("/tmp")],
        [true, false, false, true, true],
      );
      fs.rename("/sdcard/rec/2026/11/c.mp4", "/sdcard/rec/2026/10/c.mp4");
      fs.rename("/sdcard/rec/2026/11/b.mp4", "/sdcard/rec/2026/11/a.mp4");
      deepEq([fs.list("/sdcard/rec/2026/11"), fs.list("/sdcard/rec/2026/10"), fs.readText("/sdcard/rec/2026/11/a.mp4")], [["B.mp4", "a.mp4"], ["c.mp4"], "b.mp4"]);
      fs.rename("/sdcard/rec/2026/10", "/sdcard/rec/2026/09");
      deepEq(fs.list("/sdcard/rec/2026"), ["09", "11"], "a folder renamed");
      fs.remove("/sdcard/rec/2026/11/B.mp4");
      deepEq(fs.list("/sdcard/rec/2026/11"), ["a.mp4"]);
      fs.mkdir("/sdcard/rec/empty");
      fs.remove("/sdcard/rec/empty");
      fs.mkdir("/sdcard/keep/deep/deeper", { recursive: true });
      fs.writeFile("/sdcard/keep/deep/deeper/f", "f");
      fs.removeTree("/sdcard/rec");
      deepEq(fs.list("/sdcard"), ["keep"]);
      fs.removeTree("/sdcard/keep/deep/deeper/f");
      deepEq([fs.exists("/sdcard//keep/./deep/"), fs.list("/sdcard/keep/")], [true, ["deep"]]);
      fs.removeTree("/sdcard/keep");
      deepEq(fs.list("/sdcard"), []);
    });

    t.test("errors: POSIX codes with errno, messages naming the board path", () => {
      fs.mkdir("/sdcard/e/full/sub", { recursive: true });
      fs.writeFile("/sdcard/e/full/f.txt", "x");
      fs.writeFile("/sdcard/e/exists.txt", "x");
      const cases: [string, () => unknown, ReturnType<typeof errno>][] = [
        ["open missing", () => fs.open("/sdcard/e/missing.txt"), ENOENT("open /sdcard/e/missing.txt")],
        ["r+ missing", () => fs.open("/sdcard/e/missing.txt", "r+"), ENOENT("open /sdcard/e/missing.txt")],
        ["r+ in a missing folder", () => fs.open("/sdcard/e/no/x.txt", "r+"), ENOENT("open /sdcard/e/no/x.txt")],
        ["readFile missing", () => fs.readFile("/sdcard/e/missing.txt"), ENOENT("readFile /sdcard/e/missing.txt")],
        ["readText missing", () => fs.readText("/sdcard/e/missing.txt"), ENOENT("readText /sdcard/e/missing.txt")],
        ["stat missing", () => fs.stat("/sdcard/e/missing/deeper"), ENOENT("stat /sdcard/e/missing/deeper")],
        ["list missing", () => fs.list("/sdcard/e/missing"), ENOENT("list /sdcard/e/missing")],
        ["remove missing", () => fs.remove("/sdcard/e/missing.txt"), ENOENT("remove /sdcard/e/missing.txt")],
        ["removeTree missing", () => fs.removeTree("/sdcard/e/missing"), ENOENT("removeTree /sdcard/e/missing")],
        ["rename missing", () => fs.rename("/sdcard/e/missing.txt", "/sdcard/e/other.txt"), ENOENT("rename /sdcard/e/missing.txt -> /sdcard/e/other.txt")],
        ["mkdir in a missing folder", () => fs.mkdir("/sdcard/e/a/b"), ENOENT("mkdir /sdcard/e/a/b")],
        ["space of a missing path", () => fs.space("/sdcard/e/missing"), ENOENT("space /sdcard/e/missing")],
        ["wx on a file", () => fs.open("/sdcard/e/exists.txt", "wx"), EEXIST("open /sdcard/e/exists.txt")],
        ["mkdir on a folder", () => fs.mkdir("/sdcard/e/full"), EEXIST("mkdir /sdcard/e/full")],
        ["mkdir on the card", () => fs.mkdir("/sdcard"), EEXIST("mkdir /sdcard")],
        ["mkdir recursive on a file", () => fs.mkdir("/sdcard/e/exists.txt", { recursive: true }), EEXIST("mkdir /sdcard/e/exists.txt")],
        ["remove a folder with files", () => fs.remove("/sdcard/e/full"), ENOTEMPTY("remove /sdcard/e/full")],
        ["open a folder", () => fs.open("/sdcard/e/full"), EISDIR("open /sdcard/e/full")],
        ["open a folder w", () => fs.open("/sdcard/e/full", "w"), EISDIR("open /sdcard/e/full")],
        ["open a folder a", () => fs.open("/sdcard/e/full", "a"), EISDIR("open /sdcard/e/full")],
        ["readFile a folder", () => fs.readFile("/sdcard/e/full"), EISDIR("readFile /sdcard/e/full")],
        ["rename a file over a folder", () => fs.rename("/sdcard/e/exists.txt", "/sdcard/e/full"), EISDIR("rename /sdcard/e/exists.txt -> /sdcard/e/full")],
        ["list a file", () => fs.list("/sdcard/e/exists.txt"), ENOTDIR("list /sdcard/e/exists.txt")],
        ["open under a file", () => fs.open("/sdcard/e/exists.txt/x", "w"), ENOTDIR("open /sdcard/e/exists.txt/x")],
        ["stat under a file", () => fs.stat("/sdcard/e/exists.txt/x"), ENOTDIR("stat /sdcard/e/exists.txt/x")],
        ["mkdir recursive under a file", () => fs.mkdir("/sdcard/e/exists.txt/x", { recursive: true }), ENOTDIR("mkdir /sdcard/e/exists.txt/x")],
        ["rename a folder over a file", () => fs.rename("/sdcard/e/full/sub", "/sdcard/e/exists.txt"), ENOTDIR("rename /sdcard/e/full/sub -> /sdcard/e/exists.txt")],
        ["rename a folder into itself", () => fs.rename("/sdcard/e/full", "/sdcard/e/full/sub/x"), EINVAL("rename /sdcard/e/full -> /sdcard/e/full/sub/x")],
        ["outside the card", () => fs.readFile("/etc/passwd"), EINVAL("readFile /etc/passwd: not a board path (use /sdcard/... or /tmp/...)")],
        ["outside, write", () => fs.writeFile("/home/x.txt", "x"), EINVAL("writeFile /home/x.txt: not a board path (use /sdcard/... or /tmp/...)")],
        ["relative", () => fs.open("config.json"), EINVAL("open config.json: not a board path (use /sdcard/... or /tmp/...)")],
        ["a lookalike", () => fs.open("/sdcardX/a"), EINVAL("open /sdcardX/a: not a board path (use /sdcard/... or /tmp/...)")],
        ["the root", () => fs.list("/"), EINVAL("list /: not a board path (use /sdcard/... or /tmp/...)")],
        ["..", () => fs.readFile("/sdcard/../etc/passwd"), EINVAL("readFile /sdcard/../etc/passwd: '..' is not allowed in board paths")],
        [".. deeper", () => fs.writeFile("/sdcard/e/../../escape.txt", "x"), EINVAL("writeFile /sdcard/e/../../escape.txt: '..' is not allowed in board paths")],
        ["exists ..", () => fs.exists("/tmp/../sdcard"), EINVAL("exists /tmp/../sdcard: '..' is not allowed in board paths")],
        ["rename outside", () => fs.rename("/sdcard/e/exists.txt", "/etc/x"), EINVAL("rename /etc/x: not a board path (use /sdcard/... or /tmp/...)")],
        ["remove the card", () => fs.remove("/sdcard"), EBUSY("remove /sdcard: a mount point cannot be removed or renamed")],
        ["removeTree the card", () => fs.removeTree("/sdcard/"), EBUSY("removeTree /sdcard/: a mount point cannot be removed or renamed")],
        ["removeTree /tmp", () => fs.removeTree("/tmp"), EBUSY("removeTree /tmp: a mount point cannot be removed or renamed")],
        ["rename the card", () => fs.rename("/sdcard", "/sdcard/x"), EBUSY("rename /sdcard: a mount point cannot be removed or renamed")],
        ["NUL in a path", () => fs.stat("/sdcard/a\0b"), EINVAL("stat: path contains a NUL byte")],
      ];
      for (const [what, fn, e] of cases) throwsErrno(fn, e, what);
      const r = fs.open("/sdcard/e/exists.txt", "r");
      throwsErrno(() => r.write("x"), EBADF("write /sdcard/e/exists.txt"), "write to a file opened r");
      throwsErrno(() => r.truncate(0), EINVAL("truncate /sdcard/e/exists.txt"), "truncate a file opened r");
      r.close();
      const w = fs.open("/sdcard/e/w.txt", "w");
      throwsErrno(() => w.read(new Uint8Array(1)), EBADF("read /sdcard/e/w.txt"), "read from a file opened w");
      w.close();
      deepEq(fs.list("/sdcard/e"), ["exists.txt", "full", "w.txt"], "nothing was made or removed");
      fs.removeTree("/sdcard/e");
    });

    t.test("writers make the missing folders of their path; readers do not", () => {
      const f = fs.open("/sdcard/w/a/b/one.txt", "w");
      f.write("1");
      f.close();
      eq(fs.readText("/sdcard/w/a/b/one.txt"), "1");
      ok(fs.stat("/sdcard/w/a").isDirectory, "w");
      fs.open("/sdcard/w/c/two.txt", "a").close();
      ok(fs.exists("/sdcard/w/c/two.txt"), "a");
      fs.open("/sdcard/w/d/three.txt", "wx").close();
      ok(fs.exists("/sdcard/w/d/three.txt"), "wx");
      fs.writeFile("/sdcard/w/e/f/four.txt", "4");
      eq(fs.readText("/sdcard/w/e/f/four.txt"), "4", "writeFile");
      deepEq(fs.list("/sdcard/w/e/f"), ["four.txt"], "writeFile leaves no temporary file");
      fs.appendFile("/sdcard/w/g/five.txt", "5");
      eq(fs.readText("/sdcard/w/g/five.txt"), "5", "appendFile");
      fs.writeFile("/tmp/w/x/six.txt", "6");
      eq(fs.readText("/tmp/w/x/six.txt"), "6", "in /tmp too");
      deepEq(fs.list("/sdcard/w"), ["a", "c", "d", "e", "g"]);
      throwsErrno(() => fs.open("/sdcard/w/none/x.txt", "r"), ENOENT("open /sdcard/w/none/x.txt"), "r");
      throwsErrno(() => fs.open("/sdcard/w/none/x.txt", "r+"), ENOENT("open /sdcard/w/none/x.txt"), "r+");
      throwsErrno(() => fs.readFile("/sdcard/w/none/x.txt"), ENOENT("readFile /sdcard/w/none/x.txt"), "readFile");
      throwsErrno(() => fs.rename("/sdcard/w/a/b/one.txt", "/sdcard/w/none/x.txt"), ENOENT("rename /sdcard/w/a/b/one.txt -> /sdcard/w/none/x.txt"), "rename is no writer");
      eq(fs.exists("/sdcard/w/none"), false, "no reader made a folder");
      throwsErrno(() => fs.open("/sdcard/w/a/b/one.txt/x/y.txt", "w"), ENOTDIR("open /sdcard/w/a/b/one.txt/x/y.txt"), "a file in the way");
      throwsErrno(() => fs.writeFile("/sdcard/w/a/b/one.txt/y.txt", "x"), ENOTDIR("writeFile /sdcard/w/a/b/one.txt/y.txt"), "a file in the way (writeFile)");
      fs.removeTree("/sdcard/w");
      fs.removeTree("/tmp/w");
    });

    t.test("bad arguments: TypeError/RangeError ERR_INVALID_ARG", () => {
      fs.writeFile("/sdcard/args.txt", "abc");
      const TYPE = (message: string) => ({ name: "TypeError", code: "ERR_INVALID_ARG", message });
      const RANGE = (message: string) => ({ name: "RangeError", code: "ERR_INVALID_ARG", message });
      throws(() => fs.open("/sdcard/args.txt", "rw" as fs.OpenFlags), TYPE('open: flags must be one of "r", "r+", "w", "a", "wx"'));
      throws(() => fs.open(5 as unknown as string, "x" as fs.OpenFlags), TYPE('open: flags must be one of "r", "r+", "w", "a", "wx"'), "flags are checked first");
      throws(() => fs.stat(42 as unknown as string), TYPE("stat: path must be a string"));
      throws(() => (fs.readFile as AnyFn)(), TYPE("readFile: path must be a string"));
      throws(() => fs.rename("/sdcard/args.txt", 1 as unknown as string), TYPE("rename: path must be a string"));
      throws(() => fs.writeFile("/sdcard/x", 42 as unknown as string), TYPE("writeFile: expected a string, a Uint8Array or an ArrayBuffer"));
      throws(() => (fs.appendFile as AnyFn)("/sdcard/x"), TYPE("appendFile: expected a string, a Uint8Array or an ArrayBuffer"));
      throws(() => fs.mkdir("/sdcard/x", true as unknown as { recursive: boolean }), TYPE("mkdir: options must be an object ({ recursive?: boolean })"));
      throws(() => fs.mkdir("/sdcard/x", { recursive: true, parents: true } as never), TYPE('unknown mkdir option "parents" (known: recursive)'));
      throws(() => fs.mkdir("/sdcard/x", { recurse: true } as never), TYPE('unknown mkdir option "recurse" (known: recursive)'));
      throws(() => fs.space(7 as unknown as string), TYPE("space: path must be a string"));
      const f = fs.open("/sdcard/args.txt", "r+");
      try {
        throws(() => f.read(new Uint8Array(1), -1), RANGE("position must be an integer >= 0"));
        throws(() => f.read(new Uint8Array(1), 1.5), RANGE("position must be an integer >= 0"));
        throws(() => f.read(new Uint8Array(1), "1" as unknown as number), RANGE("position must be an integer >= 0"));
        throws(() => f.read("abc" as unknown as Uint8Array), TYPE("read: expected a Uint8Array or an ArrayBuffer"));
        throws(() => f.write({} as unknown as string), TYPE("write: expected a string, a Uint8Array or an ArrayBuffer"));
        throws(() => f.truncate(-5), RANGE("length must be an integer >= 0"));
        f.truncate(null as unknown as number);
        eq(f.stat().size, 0, "truncate(null) empties");
      } finally {
        f.close();
      }
      deepEq(fs.list("/sdcard"), ["args.txt"], "nothing made by the failed calls");
      fs.remove("/sdcard/args.txt");
    });

    t.test("File handles: close twice, use after close, wrong this, [Symbol.dispose]", () => {
      const CLOSED = { name: "TypeError", code: "ERR_CLOSED", message: "File is closed" };
      const WRONG = { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a File" };
      const f = fs.open("/sdcard/h.txt", "w");
      f.write("x");
      ok(f instanceof fs.File, "instanceof File");
      eq(Object.prototype.toString.call(f), "[object File]");
      deepEq(Object.keys(f), [], "no own properties");
      f.close();
      f.close();
      (f as unknown as Record<symbol, () => void>)[dispose]();
      throws(() => f.write("y"), CLOSED, "write");
      throws(() => f.read(new Uint8Array(1)), CLOSED, "read");
      throws(() => f.stat(), CLOSED, "stat");
      throws(() => f.sync(), CLOSED, "sync");
      throws(() => f.path, CLOSED, "path");
      throws(() => f.flags, CLOSED, "flags");
      throws(() => fs.File.prototype.read.call({} as fs.File, new Uint8Array(1)), WRONG);
      throws(() => fs.File.prototype.close.call({} as fs.File), WRONG);
      throws(() => Object.getOwnPropertyDescriptor(fs.File.prototype, "path")!.get!.call(42), WRONG);
      const h = fs.open("/sdcard/h2.txt", "w");
      h.write("disposed");
      (h as unknown as Record<symbol, () => void>)[dispose]();
      throws(() => h.stat(), CLOSED, "after [Symbol.dispose]");
      eq(fs.readText("/sdcard/h2.txt"), "disposed");
      fs.remove("/sdcard/h.txt");
      fs.remove("/sdcard/h2.txt");
    });

    t.test("space(): the card's size and what is free, /tmp included", () => {
      const s = fs.space();
      deepEq(Object.keys(s), ["total", "free", "available"]);
      eq(s.total, MiB, "--sdcard-size 1");
      eq(s.free, s.available);
      deepEq(fs.space("/sdcard"), s);
      fs.writeFile("/sdcard/s.bin", new Uint8Array(1000));
      eq(fs.space().free, s.free - 1000);
      fs.writeFile("/tmp/s.bin", new Uint8Array(500));
      deepEq(fs.space("/tmp"), { total: MiB, free: s.free - 1500, available: s.free - 1500 }, "/tmp lives on the sim card");
      fs.remove("/tmp/s.bin");
      fs.remove("/sdcard/s.bin");
      deepEq(fs.space(), s);
    });

    t.test("a full card: what fits is written, then ENOSPC with bytesWritten; the card stays consistent", () => {
      fs.mkdir("/sdcard/full");
      const free0 = fs.space().free;
      const chunk = new Uint8Array(64 * 1024).fill(0x5a);
      const f = fs.open("/sdcard/full/rec.bin", "w");
      let total = 0;
      let err: (Error & { code?: string; errno?: number; bytesWritten?: number }) | null = null;
      for (let i = 0; i < 32 && !err; i++) {
        try {
          total += f.write(chunk);
        } catch (e) {
          err = e as typeof err;
          total += err!.bytesWritten ?? 0;
        }
      }
      ok(err, "ENOSPC before 2 MiB were written");
      eq(err!.code, "ENOSPC");
      eq(err!.errno, 28);
      eq(err!.message, "write /sdcard/full/rec.bin: No space left on device");
      eq(descriptor(err!, "bytesWritten"), "value enumerable configurable");
      eq(total, free0, "exactly the free space was written");
      eq(f.stat().size, free0);
      deepEq(fs.space(), { total: MiB, free: 0, available: 0 });
      const again = throws(() => f.write("x"), ENOSPC("write /sdcard/full/rec.bin")) as Error & { bytesWritten?: number };
      eq(again.bytesWritten, 0, "a full card stays full");
      eq(f.write("OVER", 0), 4, "rewriting bytes needs no space");
      throws(() => f.truncate(total + 1), ENOSPC("truncate /sdcard/full/rec.bin"), "truncate cannot grow past the card");
      eq(f.stat().size, total);
      const app = throws(() => fs.appendFile("/sdcard/full/other.txt", "x"), ENOSPC("appendFile /sdcard/full/other.txt")) as Error & { bytesWritten?: number };
      eq(app.bytesWritten, 0);
      f.truncate(total - 4096);
      fs.writeFile("/sdcard/full/config.txt", "old");
      const atomic = throws(() => fs.writeFile("/sdcard/full/config.txt", new Uint8Array(8192)), ENOSPC("writeFile /sdcard/full/config.txt"));
      eq((atomic as { bytesWritten?: number }).bytesWritten, undefined, "writeFile's error has no bytesWritten");
      eq(fs.readText("/sdcard/full/config.txt"), "old", "a failed writeFile leaves the old file");
      deepEq(fs.space(), { total: MiB, free: 4096 - 3, available: 4096 - 3 });
      f.close();
      fs.remove("/sdcard/full/rec.bin");
      eq(fs.space().free, free0 - 3);
      const g = fs.open("/sdcard/full/one.bin", "w");
      const big = throws(() => g.write(new Uint8Array(2 * MiB)), ENOSPC("write /sdcard/full/one.bin")) as Error & { bytesWritten?: number };
      eq(big.bytesWritten, free0 - 3, "one big write: what fits, then ENOSPC");
      eq(g.stat().size, free0 - 3);
      g.truncate(1000);
      eq(fs.space().free, free0 - 3 - 1000);
      g.close();
      fs.rename("/sdcard/full/config.txt", "/sdcard/full/one.bin");
      eq(fs.space().free, free0 - 3, "renaming over a file frees it");
      fs.mkdir("/sdcard/full/d/e", { recursive: true });
      fs.writeFile("/sdcard/full/d/e/x", new Uint8Array(5000));
      fs.writeFile("/sdcard/full/d/y", new Uint8Array(3000));
      eq(fs.space().free, free0 - 3 - 8000);
      const w = fs.open("/sdcard/full/d/y", "w");
      eq(fs.space().free, free0 - 3 - 5000, '"w" empties the file it opens');
      w.close();
      fs.removeTree("/sdcard/full/d");
      eq(fs.space().free, free0 - 3);
      deepEq(fs.list("/sdcard/full"), ["one.bin", "other.txt"]);
      eq(fs.readText("/sdcard/full/one.bin"), "old");
      fs.removeTree("/sdcard/full");
      eq(fs.space().free, free0);
    });
  },
  { sdcardSizeMb: 1 },
);
