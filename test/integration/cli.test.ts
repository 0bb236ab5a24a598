// The qcam command line as a user runs it: `node bin/qcam.mjs ...` (and
// `npm start -- ...`) in a child process, judged by exit code, stdout and
// stderr. Every child runs under a timeout and is killed, with whatever it
// started, on every path (afterEach).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parseOptions } from "../../app/src/options.ts";
import { RECORDER_HELP, recorderFlags } from "../../build/cli.ts";
import { ROOT } from "../../build/paths.ts";
import { FIXTURES, probeStream, spawnChild, spawnSyncChild, tmpDir } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");
const COMMANDS = ["build", "run", "start", "verify", "test", "repair", "bench"];

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** qcam (or npm) as a user runs it, through the suite's child helper: killed with all it started after the test, or at `timeoutMs`. */
function spawnQcam(argv: string[], opts: { cwd?: string; timeoutMs?: number; npm?: boolean } = {}) {
  const cmd = opts.npm ? ["npm", ...argv] : [process.execPath, CLI, ...argv];
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // the user's shell has no mocha loader in it
  const limit = opts.timeoutMs ?? 90000;
  const t0 = Date.now();
  const c = spawnChild(cmd[0], cmd.slice(1), { cwd: opts.cwd ?? ROOT, env, timeoutMs: limit });
  const done: Promise<Done> = c.done.then((r) => ({ ...r, timedOut: r.signal === "SIGKILL" && Date.now() - t0 >= limit }));
  return { child: c.child, done, waitFor: (re: RegExp) => c.waitFor(re, limit), kill: c.kill };
}

async function qcam(argv: string[], opts: { cwd?: string; timeoutMs?: number; npm?: boolean } = {}): Promise<Done> {
  const r = await spawnQcam(argv, opts).done;
  assert.equal(r.timedOut, false, `qcam ${argv.join(" ")} timed out; stdout: ${r.stdout} stderr: ${r.stderr}`);
  return r;
}

const show = (r: Done) => `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** A usage error: exit 2, nothing ran, no Node stack, and stderr says `what`. */
function refused(r: Done, what: RegExp): void {
  assert.equal(r.code, 2, show(r));
  assert.equal(r.stdout, "", show(r));
  assert.match(r.stderr, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "a Node stack trace");
}

/** Set the mtime of every file and folder under `dir` to `secondsAgo` (an edit made that long before the build). */
function age(dir: string, secondsAgo: number): void {
  const t = new Date(Date.now() - secondsAgo * 1000);
  const walk = (p: string) => {
    if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    fs.utimesSync(p, t, t);
  };
  walk(dir);
}

describe("qcam command line", function () {
  this.timeout(180000);

  describe("help and refused command lines", function () {
    it("qcam --help, qcam help and bare qcam list every command with its flags", async function () {
      for (const argv of [["--help"], ["help"], []]) {
        const r = await qcam(argv);
        assert.equal(r.code, 0, show(r));
        for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  qcam ${c}\\b`, "m"), `qcam ${argv.join(" ")}: ${c}`);
        for (const flag of ["--no-typecheck", "--target", "--asan", "--sdcard-size", "--log-level", "--no-finalize", "--record"])
          assert.ok(r.stdout.includes(flag), `${flag} in qcam ${argv.join(" ")}`);
      }
    });

    it("qcam <command> --help works for every command and lists the flags that work", async function () {
      const want: Record<string, string[]> = {
        build: ["--target", "--out", "-o", "--no-typecheck"],
        run: ["--target", "--asan", "--sdcard", "--sdcard-size", "--log-level", "--no-typecheck", "-- app args"],
        start: ["--target", "--asan", "--sdcard", "--sdcard-size", "--log-level", "-- recorder args"],
        verify: ["--target"],
        test: ["--no-typecheck", "-- mocha options"],
        repair: ["--no-finalize"],
        bench: ["--runs", "--no-docs", "--only"],
      };
      for (const c of COMMANDS) {
        for (const argv of [[c, "--help"], [c, "-h"], ["help", c]]) {
          const r = await qcam(argv);
          assert.equal(r.code, 0, show(r));
          assert.match(r.stdout, new RegExp(`^usage: qcam ${c}\\b`));
          for (const f of want[c]) assert.ok(r.stdout.includes(f), `qcam ${argv.join(" ")} lists ${f}:\n${r.stdout}`);
        }
      }
    });

    it("qcam start --help lists the recorder's own options, exactly those app/src/options.ts accepts", async function () {
      const r = await qcam(["start", "--help"]);
      assert.equal(r.code, 0, show(r));
      const section = r.stdout.split("the recorder's options")[1];
      assert.ok(section, r.stdout);
      const listed = [...section.matchAll(/^ {2}--([a-z][\w-]*)/gm)].map((m) => m[1]);
      // The flags the recorder's parser switches on, read here independently of the CLI.
      const source = fs.readFileSync(path.join(ROOT, "app", "src", "options.ts"), "utf8");
      const cases = [...source.matchAll(/case\s+"--([a-z][\w-]*)"/g)].map((m) => m[1]);
      assert.ok(cases.length >= 5, "the recorder has options");
      assert.deepEqual([...listed].sort(), [...new Set(cases)].sort());
      // Each listed option is one the recorder accepts (with a value when it takes one), and each is explained.
      const flags = await recorderFlags();
      for (const name of listed) {
        const f = flags.find((x) => x.name === name);
        assert.ok(f, name);
        // a value the help names (h264|h265, mp4|ts), or a number
        const example = RECORDER_HELP[name]?.example;
        if (example) assert.doesNotThrow(() => parseOptions(example), `the recorder accepts ${example.join(" ")}`);
        const accepted = example !== undefined || (f.takesValue ? ["1", ...(f.value?.split("|") ?? [])] : [undefined]).some((v) => {
          try {
            parseOptions(v === undefined ? [`--${name}`] : [`--${name}`, v]);
            return true;
          } catch {
            return false;
          }
        });
        assert.ok(accepted, `the recorder accepts --${name}`);
        assert.ok(RECORDER_HELP[name]?.help, `--${name} is explained in qcam start --help`);
      }
      assert.throws(() => parseOptions(["--not-an-option"]), /unknown option/);
    });

    it("an unknown command is named, with the nearest command", async function () {
      refused(await qcam(["biuld", "app"]), /^qcam: unknown command 'biuld' — did you mean 'build'\?/);
      refused(await qcam(["strat"]), /unknown command 'strat' — did you mean 'start'\?/);
      refused(await qcam(["frobnicate"]), /unknown command 'frobnicate'\n {2}commands: build, run, start/);
    });

    it("an unknown flag is named and nothing runs (qcam run app --asna)", async function () {
      const r = await qcam(["run", path.join(FIXTURES, "hello"), "--asna"]);
      refused(r, /^qcam run: unknown option '--asna' \(did you mean '--asan'\?\)/);
      refused(await qcam(["build", "app", "--asan"]), /^qcam build: unknown option '--asan'/);
      refused(await qcam(["verify", "x.qcam", "--sdcard", "d"]), /^qcam verify: unknown option '--sdcard'/);
      refused(await qcam(["repair", "--finalize", "x.mp4"]), /unknown option '--finalize'/);
      refused(await qcam(["bench", "--run", "3"]), /unknown option '--run' \(did you mean '--runs'\?\)/);
    });

    it("app arguments given without -- are pointed out, with the command line that was meant", async function () {
      const hello = path.join(FIXTURES, "hello");
      const r = await qcam(["run", hello, "--record", "2"]);
      refused(r, /unknown option '--record'/);
      assert.ok(r.stderr.includes(`app args go after '--': qcam run ${hello} -- --record 2`), r.stderr);
      const extra = await qcam(["run", hello, "one", "two"]);
      refused(extra, /unexpected argument 'one'/);
      assert.ok(extra.stderr.includes(`qcam run ${hello} -- one two`), extra.stderr);
      // start knows the recorder's options; anything else is pointed to `--` too.
      refused(await qcam(["start", "--recrod", "3"]), /unknown option '--recrod' \(did you mean '--record'\?\)/);
      refused(await qcam(["start", "now"]), /unexpected argument 'now'\n {2}recorder args go after '--': qcam start -- now/);
    });

    it("a flag missing its value says which flag", async function () {
      const hello = path.join(FIXTURES, "hello");
      refused(await qcam(["run", hello, "--sdcard"]), /^qcam run: --sdcard needs a value \(DIR\)/);
      refused(await qcam(["run", hello, "--sdcard", "--asan"]), /^qcam run: --sdcard needs a value \(DIR\)/);
      refused(await qcam(["run", hello, "--sdcard-size"]), /--sdcard-size needs a value \(MB\)/);
      refused(await qcam(["build", hello, "-o"]), /^qcam build: -o needs a value \(FILE\)/);
      refused(await qcam(["start", "--log-level"]), /^qcam start: --log-level needs a value/);
      refused(await qcam(["start", "--record"]), /^qcam start: --record needs a value \(SECONDS\)/);
      refused(await qcam(["run", hello, "--asan=yes"]), /--asan takes no value/);
      refused(await qcam(["run"]), /^qcam run: missing </);
      refused(await qcam(["build", hello, "--target", "arm"]), /unknown target 'arm'/);
    });
  });

  describe("apps, images and app.json", function () {
    it("qcam build, qcam verify and qcam run (TypeScript app folder), exit codes passed through", async function () {
      const dir = tmpDir("qcam-cli-");
      const image = path.join(dir, "hello.qcam");
      const b = await qcam(["build", path.join(FIXTURES, "hello"), "-o", image]);
      assert.equal(b.code, 0, show(b));
      assert.equal(path.resolve(ROOT, b.stdout.trim()), image);
      const v = await qcam(["verify", image]);
      assert.equal(v.code, 0, show(v));
      assert.match(v.stdout, /: ok \(sim-x86_64, entry hello\.js/);
      const r = await qcam(["run", path.join(FIXTURES, "hello"), "--sdcard", dir, "--", "a", "--b"]);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, 'hello from hello ["a","--b"]\n');
      const t = await qcam(["run", path.join(FIXTURES, "throws")]);
      assert.equal(t.code, 1, show(t));
      assert.match(t.stderr, /test\/fixtures\/throws\/src\/config\.ts:\d+:\d+/);
    });

    it("an image is run as an image whatever its name (app.img), and verified", async function () {
      const dir = tmpDir("qcam-cli-");
      const img = path.join(dir, "app.img");
      assert.equal((await qcam(["build", path.join(FIXTURES, "hello"), "-o", img])).code, 0);
      const r = await qcam(["run", img, "--", "x"]);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, 'hello from hello ["x"]\n');
      const v = await qcam(["verify", img]);
      assert.equal(v.code, 0, show(v));
      // Neither an image nor source: said so, not fed to esbuild or tsc.
      fs.writeFileSync(path.join(dir, "junk.img"), "not an image\n");
      refused(await qcam(["run", path.join(dir, "junk.img")]), /junk\.img: not an app image .* not TypeScript or JavaScript source/);
      refused(await qcam(["build", img]), /app\.img is already an app image/);
    });

    it("plain JavaScript apps (.js, .mjs, a folder with main.js) build and run without type-checking", async function () {
      const dir = tmpDir("qcam-cli-");
      const src = 'import { app } from "qcam:app";\nimport { twice } from "./lib.js";\nconsole.log(`js ${app.id} ${twice(app.args.length)}`);\n';
      fs.writeFileSync(path.join(dir, "lib.js"), "export function twice(n) { return n * 2; }\n");
      fs.writeFileSync(path.join(dir, "main.js"), src);
      fs.writeFileSync(path.join(dir, "tool.mjs"), src);
      const b = await qcam(["build", path.join(dir, "main.js")]);
      assert.equal(b.code, 0, show(b));
      assert.doesNotMatch(b.stderr, /TS\d+|allowJs/);
      const r = await qcam(["run", path.join(dir, "tool.mjs"), "--sdcard", dir, "--", "a", "b"]);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, "js tool 4\n");
      const folder = await qcam(["run", dir, "--sdcard", dir]);
      assert.equal(folder.code, 0, show(folder));
      assert.equal(folder.stdout, `js ${path.basename(dir).replace(/[^A-Za-z0-9_.-]/g, "_")} 0\n`);
    });

    it("a broken app.json is one line naming the file and the field, exit 2", async function () {
      const dir = tmpDir("qcam-cli-");
      fs.mkdirSync(path.join(dir, "src"));
      fs.writeFileSync(path.join(dir, "src", "main.ts"), 'console.log("hi");\n');
      const cases: [string, RegExp][] = [
        ['{"id": "x",', /app\.json: not valid JSON \(/],
        ['{"id": 5}', /app\.json: "id" must be a non-empty string, not 5\n$/],
        ['{"name": ["a"]}', /app\.json: "name" must be a non-empty string, not \["a"\]\n$/],
        ['{"version": ""}', /app\.json: "version" must be a non-empty string, not ""\n$/],
        ["[1, 2]", /app\.json: must be a JSON object/],
      ];
      for (const [text, msg] of cases) {
        fs.writeFileSync(path.join(dir, "app.json"), text);
        for (const cmd of ["build", "run"]) {
          const r = await qcam([cmd, dir]);
          refused(r, msg);
          assert.equal(r.stderr.trimEnd().split("\n").length, 1, `one line: ${r.stderr}`);
          assert.ok(r.stderr.startsWith(`qcam: ${path.join(dir, "app.json")}: `), r.stderr);
        }
      }
    });
  });

  describe("runtime options through qcam run and qcam start", function () {
    it("--log-level reaches the runtime (silent hides console.log; a bad level is the runtime's usage error)", async function () {
      const hello = path.join(FIXTURES, "hello");
      const dir = tmpDir("qcam-cli-");
      const quiet = await qcam(["run", hello, "--sdcard", dir, "--log-level", "silent"]);
      assert.equal(quiet.code, 0, show(quiet));
      assert.equal(quiet.stdout, "");
      const bad = await qcam(["run", hello, "--sdcard", dir, "--log-level", "loud"]);
      assert.equal(bad.code, 2, show(bad));
      assert.match(bad.stderr, /unknown log level 'loud'/);
      const badSize = await qcam(["run", hello, "--sdcard", dir, "--sdcard-size", "-3"]);
      refused(badSize, /--sdcard-size needs a value \(MB\); a value that starts with '-' is written --sdcard-size=-3/);
      const zero = await qcam(["run", hello, "--sdcard", dir, "--sdcard-size", "0"]);
      assert.equal(zero.code, 2, show(zero));
      assert.match(zero.stderr, /--sdcard-size needs a size in MiB > 0/);
    });

    it("qcam start --sdcard-size 1 -- --record 10 fills the card: the recorder reports ENOSPC", async function () {
      const sd = tmpDir("qcam-cli-sd-");
      const r = await qcam(["start", "--sdcard", sd, "--sdcard-size", "1", "--", "--record", "10", "--codec", "h264"]);
      assert.match(r.stdout, /^qcam recorder /);
      assert.match(r.stdout + r.stderr, /ENOSPC/, show(r));
      assert.notEqual(r.code, 0, show(r));
      // Everything on the card fits the cap.
      let bytes = 0;
      const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true }))
          if (e.isDirectory()) walk(path.join(d, e.name));
          else bytes += fs.statSync(path.join(d, e.name)).size;
      };
      walk(sd);
      assert.ok(bytes <= 1024 * 1024, `${bytes} bytes on a 1 MiB card`);
    });

    it("npm start -- --record 1 --codec h264 --sdcard DIR --sdcard-size 12 records one playable file", async function () {
      const sd = tmpDir("qcam-cli-sd-");
      const r = await qcam(["start", "--", "--record", "1", "--codec", "h264", "--sdcard", sd, "--sdcard-size", "12"], { npm: true });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /qcam recorder .*\n {2}video: 1280x720 nv21 30 fps -> H264/);
      const files = fs.readdirSync(path.join(sd, "video")).filter((f) => f.endsWith(".mp4"));
      assert.equal(files.length, 1, files.join(" "));
      const p = probeStream(path.join(sd, "video", files[0]));
      assert.equal(p.codec, "h264");
      assert.ok(p.frames > 0, "frames in the recording");
    });
  });

  describe("qcam test and qcam repair", function () {
    it("qcam test runs an app's own tests; a flag it does not know is refused", async function () {
      const dir = tmpDir("qcam-app-");
      fs.mkdirSync(path.join(dir, "src"));
      fs.mkdirSync(path.join(dir, "test"));
      fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
      fs.writeFileSync(path.join(dir, "src", "main.ts"), 'import { app } from "qcam:app";\nconsole.log(`args ${app.args.join(" ")}`);\n');
      fs.writeFileSync(
        path.join(dir, "test", "main.test.ts"),
        [
          'import assert from "node:assert/strict";',
          'import { runApp } from "qcam:testing";',
          'it("prints its args", async () => {',
          '  const r = await runApp(new URL("..", import.meta.url), { args: ["a", "b"] });',
          '  assert.equal(r.stdout, "args a b\\n");',
          "});",
          "",
        ].join("\n"),
      );
      const r = await qcam(["test", dir]);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /1 passing/);
      const grep = await qcam(["test", dir, "--no-typecheck", "--", "--grep", "nothing-matches"]);
      assert.equal(grep.code, 0, show(grep));
      assert.match(grep.stdout, /0 passing/);
      refused(await qcam(["test", dir, "--grep", "x"]), /^qcam test: unknown option '--grep'\n {2}mocha options go after '--'/);
    });

    it("qcam repair mends a recording whose recorder was killed; a file that is not an MP4 exits 1", async function () {
      const sd = tmpDir("qcam-cli-sd-");
      const rec = spawnQcam(["start", "--sdcard", sd, "--record", "20", "--codec", "h264"]);
      await rec.waitFor(/recording 2 s/);
      rec.kill(); // a power cut: node, the runtime, nothing finalized
      await rec.done;
      const files = fs.readdirSync(path.join(sd, "video")).filter((f) => f.endsWith(".mp4"));
      assert.equal(files.length, 1, files.join(" "));
      const file = path.join(sd, "video", files[0]);
      const r = await qcam(["repair", file]);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /: (repaired|ok): /);
      const p = probeStream(file);
      assert.equal(p.codec, "h264");
      assert.ok(p.frames > 0);
      const junk = path.join(sd, "junk.mp4");
      fs.writeFileSync(junk, "nothing here");
      const bad = await qcam(["repair", "--", junk]);
      assert.equal(bad.code, 1, show(bad));
      refused(await qcam(["repair"]), /needs at least one file/);
    });
  });

  describe("nothing changed, nothing redone", function () {
    it("qcam build reuses an image newer than all its inputs, and rebuilds when any of them changes", async function () {
      const dir = tmpDir("qcam-cli-");
      const src = path.join(dir, "src");
      fs.mkdirSync(src);
      fs.writeFileSync(path.join(dir, "app.json"), JSON.stringify({ id: "stamped", version: "1.0.0" }));
      fs.writeFileSync(path.join(src, "types.ts"), "export type Greeting = string;\n");
      fs.writeFileSync(path.join(src, "greet.ts"), 'export const greeting = "one";\n');
      fs.writeFileSync(
        path.join(src, "main.ts"),
        'import type { Greeting } from "./types.ts";\nimport { greeting } from "./greet.ts";\nconst g: Greeting = greeting;\nconsole.log(g);\n',
      );
      const image = path.join(tmpDir("qcam-cli-out-"), "stamped.qcam");
      const sd = tmpDir("qcam-cli-sd-");
      const build = async (...extra: string[]) => {
        const r = await qcam(["build", dir, "-o", image, ...extra]);
        assert.equal(r.code, 0, show(r));
        const st = fs.statSync(image);
        return `${st.mtimeMs}:${st.size}:${st.ino}`;
      };
      const run = async () => {
        const r = await qcam(["run", image, "--sdcard", sd]);
        assert.equal(r.code, 0, show(r));
        return r.stdout;
      };
      let seconds = 300;
      // An edit made a while before the build, to that one file only (an edit
      // within the last second makes the build leave no stamp, so the next one redoes it).
      const edit = (file: string, text: string) => {
        fs.writeFileSync(file, text);
        const t = new Date(Date.now() - (seconds -= 10) * 1000);
        fs.utimesSync(file, t, t);
      };
      age(dir, seconds);
      const first = await build();
      assert.equal(await build(), first, "unchanged: the image is reused");
      assert.equal(await run(), "one\n");

      edit(path.join(src, "greet.ts"), 'export const greeting = "two";\n');
      const second = await build();
      assert.notEqual(second, first, "a changed import rebuilds");
      assert.equal(await run(), "two\n");
      assert.equal(await build(), second);

      // A file only tsc reads (a type-only import, gone from the bundle) still counts.
      edit(path.join(src, "types.ts"), "export type Greeting = number;\n");
      const broken = await qcam(["build", dir, "-o", image]);
      assert.equal(broken.code, 2, show(broken));
      assert.match(broken.stderr, /type errors in stamped:[\s\S]*main\.ts/);
      edit(path.join(src, "types.ts"), "export type Greeting = string;\n");
      const third = await build();
      assert.equal(await build(), third);

      edit(path.join(dir, "app.json"), JSON.stringify({ id: "stamped", version: "1.0.1" }));
      const fourth = await build();
      assert.notEqual(fourth, third, "app.json rebuilds");
      const unchecked = await build("--no-typecheck");
      assert.notEqual(unchecked, fourth, "other options rebuild");
      assert.equal(await build("--no-typecheck"), unchecked);

      fs.rmSync(image);
      await build("--no-typecheck");
      assert.ok(fs.existsSync(image), "a deleted image is rebuilt");

      // A new file beside the sources can change what an import resolves to: rebuilt.
      const before = await build();
      edit(path.join(src, "extra.ts"), "export {};\n");
      const t = new Date(Date.now() - seconds * 1000);
      fs.utimesSync(src, t, t);
      assert.notEqual(await build(), before);
      assert.equal(await run(), "two\n");
    });

    it("bin/qcam.mjs runs a bundle of the CLI that it makes again when a source changes; QCAM_TSX=1 runs the TypeScript", async function () {
      const stampFile = path.join(ROOT, "out", "tooling", "stamp.json");
      assert.equal((await qcam(["--help"])).code, 0);
      const bundle = () => (JSON.parse(fs.readFileSync(stampFile, "utf8")) as { dir: string; inputs: Record<string, string> });
      const first = bundle();
      assert.ok(Object.keys(first.inputs).includes(path.join(ROOT, "app", "src", "options.ts")), "the recorder's options are an input");
      assert.equal((await qcam(["--help"])).code, 0);
      assert.equal(bundle().dir, first.dir, "unchanged: the same bundle");
      const now = new Date();
      fs.utimesSync(path.join(ROOT, "build", "run.ts"), now, now);
      const r = await qcam(["--help"]);
      assert.equal(r.code, 0, show(r));
      assert.notEqual(bundle().dir, first.dir, "a source changed: a new bundle");
      const viaTsx = spawnSyncChild(process.execPath, [CLI, "biuld"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, QCAM_TSX: "1" }, timeout: 60000 });
      assert.equal(viaTsx.status, 2);
      assert.match(viaTsx.stderr, /unknown command 'biuld' — did you mean 'build'\?/);
    });

    it("setup skips its checks when nothing changed since it last succeeded, and runs them again after a change", async function () {
      const setup = (env: Record<string, string> = {}) => {
        const r = spawnSyncChild(process.execPath, [path.join(ROOT, "bin", "setup.mjs"), "start"], {
          cwd: ROOT,
          encoding: "utf8",
          timeout: 170000,
          env: { ...process.env, ...env },
        });
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
        return r.stderr;
      };
      assert.match(setup({ QCAM_SETUP_FORCE: "1" }), /cmake: building host/);
      assert.equal(setup(), "", "nothing changed: no checks, no CMake");
      // Any input counts; the tooling is one (a source edit would rebuild the runtime too).
      const tool = path.join(ROOT, "build", "cmake.ts");
      const now = new Date();
      fs.utimesSync(tool, now, now);
      assert.match(setup(), /cmake: building host/);
      assert.equal(setup(), "");
      const runtime = path.join(ROOT, "out", "build", "host", "qcam-runtime");
      const st = fs.statSync(runtime);
      fs.utimesSync(runtime, st.atime, new Date(st.mtimeMs - 1000));
      assert.match(setup(), /cmake: building host/, "a built runtime that changed is checked again");
    });
  });
});
