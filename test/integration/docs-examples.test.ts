// Docs that cannot rot: every TypeScript example in README.md and docs/**/*.md
// (test/docs-extract.ts says how blocks are marked) is type-checked strictly
// against host-modules/*/*.d.ts and run — an app on the host runtime on an
// empty SD card, an app test with `qcam test` against the stubs. A failure
// names the markdown file and line.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildApp, declarationFiles } from "../../build/app-build.ts";
import { OUT, ROOT, UI_KIT, UI_SPECIFIER } from "../../build/paths.ts";
import { mapperFor, runtimeCommand } from "../../build/run.ts";
import { allBlocks, mdLine, slug, type DocBlock } from "../docs-extract.ts";
import { fixture, run, spawnChild, spawnSyncChild, tmpDir } from "../helpers.ts";

const WORK = path.join(OUT, "docs-examples");
const blocks = allBlocks(ROOT);
const apps = blocks.filter((b) => b.kind === "app");
const tests = blocks.filter((b) => b.kind === "test");
const fragments = blocks.filter((b) => b.kind === "fragment");

/** Rewrite `<slug>.ts:LINE` (tsc's `<slug>.ts(LINE,COL)`, stack frames) to the markdown file and line. */
function toMarkdown(text: string, b: DocBlock): string {
  const s = slug(b).replace(/[.]/g, "\\.");
  return text
    .replace(new RegExp(`(?:[^\\s(]*/)?${s}(?:\\.test)?\\.ts\\((\\d+),(\\d+)\\)`, "g"), (_m, l: string, c: string) => `${mdLine(b, Number(l))}:${c}`)
    .replace(new RegExp(`(?:[^\\s(]*/)?${s}(?:\\.test)?\\.ts:(\\d+)`, "g"), (_m, l: string) => mdLine(b, Number(l)));
}

/** One tsc run over every app block (each a module of its own), errors by block. */
function typecheckApps(): Map<DocBlock, string[]> {
  const dir = path.join(WORK, "apps");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const files = apps.map((b) => {
    const f = path.join(dir, `${slug(b)}.ts`);
    fs.writeFileSync(f, `${b.code}\nexport {};\n`);
    return f;
  });
  const tsconfig = path.join(dir, "tsconfig.json");
  // The options `qcam build` type-checks an app with (build/app-build.ts).
  fs.writeFileSync(
    tsconfig,
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: "es2023",
        module: "esnext",
        moduleResolution: "bundler",
        lib: ["es2023", "esnext.disposable"],
        types: [],
        skipLibCheck: true,
        allowImportingTsExtensions: true,
        paths: { [UI_SPECIFIER]: [UI_KIT] },
      },
      files: [...files, ...declarationFiles()],
    }),
  );
  const tsc = spawnSyncChild(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", tsconfig, "--pretty", "false"], { encoding: "utf8" });
  if (tsc.error) throw tsc.error;
  const out = tsc.status === 0 ? "" : `${tsc.stdout}${tsc.stderr}`;
  const errors = new Map<DocBlock, string[]>(apps.map((b) => [b, []]));
  const other: string[] = [];
  for (const line of out.split("\n").filter(Boolean)) {
    const b = apps.find((a) => line.includes(`${slug(a)}.ts(`));
    if (b) errors.get(b)!.push(toMarkdown(line, b));
    else other.push(line);
  }
  if (other.length) throw new Error(`tsc:\n${other.join("\n")}`);
  return errors;
}

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run an image on the host runtime (no display URL printed) on an empty card; SIGINT after `sigintAfterS`; killed after 60 s. */
function runBlock(image: string, b: DocBlock, sdcard: string): Promise<Ran> {
  // --no-display-url: an example that opens a Display writes nothing to stderr (the page's address)
  const cmd = runtimeCommand("host", image, { args: b.args, sdcard, runtimeArgs: ["--no-display-url"] });
  const t0 = Date.now();
  const c = spawnChild(cmd[0], cmd.slice(1), { timeoutMs: 60000 });
  const sigint = b.sigintAfterS !== undefined ? setTimeout(() => c.child.kill("SIGINT"), b.sigintAfterS * 1000) : undefined;
  return c.done.then((r) => {
    clearTimeout(sigint);
    return { ...r, timedOut: r.signal === "SIGKILL" && Date.now() - t0 >= 60000 };
  });
}

describe(`docs examples: ${apps.length} apps, ${tests.length} app tests; marked fragments, not run: ${fragments.map((b) => `${b.file}:${b.line}`).join(", ") || "none"}`, function () {
  let typeErrors: Map<DocBlock, string[]>;
  before(function () {
    typeErrors = typecheckApps();
  });

  it("finds the examples: README.md and docs/ have TypeScript blocks that run", function () {
    assert.ok(apps.some((b) => b.file === "README.md"), "README.md's loop example");
    assert.ok(apps.length >= 8 && tests.length >= 1, `${apps.length} apps, ${tests.length} tests`);
  });

  for (const b of apps) {
    const where = `${b.file}:${b.line}`;
    it(`${where}: type-checks and runs on an empty card${b.setup ? ` (after app/examples/${b.setup.join(" ")})` : ""}${b.args.length ? ` (args ${b.args.join(" ")})` : ""}${b.sigintAfterS !== undefined ? ` (Ctrl-C after ${b.sigintAfterS} s)` : ""}`, async function () {
      this.timeout(120000);
      const errs = typeErrors.get(b)!;
      assert.equal(errs.length, 0, `${where}: the example does not type-check:\n${errs.join("\n")}`);
      const sdcard = tmpDir("qcam-docs-sd-");
      if (b.setup) {
        const [name, ...args] = b.setup;
        const setup = await fixture(path.join(ROOT, "app", "examples", `${name}.ts`));
        const cmd = runtimeCommand("host", setup.image, { args, sdcard });
        const s = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 60000 });
        assert.equal(s.status, 0, `${where}: its setup (app/examples/${name}.ts ${args.join(" ")}) failed:\n${s.stdout}${s.stderr}`);
      }
      const built = await buildApp(path.join(WORK, "apps", `${slug(b)}.ts`), { typecheck: false });
      const r = await runBlock(built.image, b, sdcard);
      const map = mapperFor(built.image);
      const stderr = toMarkdown(map ? r.stderr.split("\n").map(map).join("\n") : r.stderr, b);
      const said = `\n--- stdout\n${r.stdout}--- stderr\n${stderr}`;
      assert.ok(!r.timedOut, `${where}: still running after 60 s (an example that loops until Ctrl-C needs <!-- example: sigint=N -->)${said}`);
      assert.equal(r.code, b.exit, `${where}: exit ${r.code ?? r.signal}, expected ${b.exit}${said}`);
      assert.equal(stderr, "", `${where}: wrote to stderr${said}`);
    });
  }

  it("README step 3: the riscv64 recorder stops without a replay stream, and records with the one the README says to make", async function () {
    this.timeout(240000);
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const make = readme.match(/`npx qcam run app\/examples\/(k230_bind_venc)\.ts -- (\/sdcard\/qcam\/replay\.h265) (\d+)`/);
    assert.ok(make, "README step 3 names the command that makes the replay stream");
    const sdcard = tmpDir("qcam-docs-sd-");
    const recorder = await fixture(path.join(ROOT, "app"), "riscv64");
    const run = (image: string, target: "host" | "riscv64", args: string[]) => {
      const cmd = runtimeCommand(target, image, { args, sdcard });
      return spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120000 });
    };
    const without = run(recorder.image, "riscv64", ["--record", "1"]);
    assert.notEqual(without.status, 0);
    assert.match(without.stderr, /this build has no h265 encoder/, "what README step 3 quotes");
    const maker = await fixture(path.join(ROOT, "app", "examples", `${make[1]}.ts`));
    const made = run(maker.image, "host", [make[2], make[3]]);
    assert.equal(made.status, 0, made.stderr);
    const rec = run(recorder.image, "riscv64", ["--record", "2"]);
    assert.equal(rec.status, 0, `${rec.stdout}${rec.stderr}`);
    const saved = rec.stdout.match(/saved \/sdcard\/(\S+): (\d+) frames/);
    assert.ok(saved, rec.stdout);
    const file = path.join(sdcard, saved[1]);
    const p = spawnSyncChild("ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", file], { encoding: "utf8" });
    assert.equal(p.stdout.trim(), `hevc,1280,720,${saved[2]}`, p.stderr);
  });

  for (const b of tests) {
    const where = `${b.file}:${b.line}`;
    it(`${where}: \`qcam test\` passes against the stubs (a copy of the recorder app)`, async function () {
      this.timeout(120000);
      const dir = path.join(WORK, slug(b));
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(path.join(dir, "test"), { recursive: true });
      fs.cpSync(path.join(ROOT, "app", "src"), path.join(dir, "src"), { recursive: true });
      fs.copyFileSync(path.join(ROOT, "app", "app.json"), path.join(dir, "app.json"));
      fs.writeFileSync(path.join(dir, "test", `${slug(b)}.test.ts`), `${b.code}\n`);
      const r = await run(process.execPath, [path.join(ROOT, "bin", "qcam.mjs"), "test", dir, "--", "--reporter", "dot"], { timeoutMs: 110000 });
      const said = toMarkdown(`${r.stdout}${r.stderr}`, b);
      assert.equal(r.code, 0, `${where}: qcam test failed:\n${said}`);
      const cases = b.code.match(/^\s*it\(/gm)?.length ?? 0;
      assert.ok(cases > 0, `${where}: no it(...) in the block`);
      assert.match(r.stdout, new RegExp(`\\b${cases} passing`), `${where}: all ${cases} of its tests run:\n${said}`);
      assert.doesNotMatch(r.stdout, /pending|failing/, said);
    });
  }
});
