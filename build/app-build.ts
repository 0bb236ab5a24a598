// TypeScript or JavaScript app -> app image: esbuild bundle (qcam:* external,
// one ES module + source map), tsc type-check against the host-module
// declarations (TypeScript entries only), bytecode from qcam-compile (same
// engine as the runtime), then the packer. An image newer than everything it
// was made from (see the build stamp below) is reused as it is.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { buildFlavor, isBuilt, readBuildInfo, type BuildInfo } from "./cmake.ts";
import { FLAG_DEBUG_INFO, FORMAT_VERSION, MAGIC, SectionType, TARGET_IDS, packImage } from "./image.ts";
import { BuildError } from "./log.ts";
import { HOST_MODULES, OUT, ROOT, UI_KIT, UI_SPECIFIER, buildDir, compilerBinary, type Flavor, type Target } from "./paths.ts";

export interface AppSource {
  entry: string; // absolute .ts/.js entry
  dir: string; // the app's folder (holds app.json when there is one)
  id: string;
  name: string;
  version: string;
}

export interface BuildOptions {
  target?: Target;
  out?: string; // image path
  typecheck?: boolean;
}

export interface BuiltApp {
  image: string;
  map: string;
  bundle: string;
  app: AppSource;
  info: BuildInfo;
}

/** Source files an app can be made of: TypeScript is type-checked, JavaScript is not. */
const TS_SOURCE = /\.(ts|mts|cts|tsx)$/;
const SOURCE = /\.(ts|mts|cts|tsx|js|mjs|cjs|jsx)$/;

/** Does `file` hold an app image? Decided by its magic, whatever its name. */
export function isImageFile(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, "r");
    if (!fs.fstatSync(fd).isFile()) return false;
    const head = Buffer.alloc(MAGIC.length);
    return fs.readSync(fd, head, 0, head.length, 0) === head.length && head.equals(MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

interface Manifest {
  id?: string;
  name?: string;
  version?: string;
}

/** app.json: a JSON object whose id, name and version are strings, all optional. */
export function readManifest(file: string): Manifest {
  const rel = path.relative(process.cwd(), file);
  const shown = rel && !rel.startsWith("..") ? rel : file;
  let m: unknown;
  try {
    m = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new BuildError(`${shown}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof m !== "object" || m === null || Array.isArray(m))
    throw new BuildError(`${shown}: must be a JSON object like {"id": "myapp", "name": "My app", "version": "1.0.0"}`);
  for (const key of ["id", "name", "version"] as const) {
    const v = (m as Record<string, unknown>)[key];
    if (v !== undefined && (typeof v !== "string" || v === ""))
      throw new BuildError(`${shown}: "${key}" must be a non-empty string, not ${JSON.stringify(v)}`);
  }
  return m as Manifest;
}

/** An app is a folder (src/main.ts or main.ts, optional app.json) or one .ts/.js file. */
export function resolveApp(input: string): AppSource {
  const abs = path.resolve(input);
  if (!fs.existsSync(abs)) throw new BuildError(`no such app: ${input}`);
  let entry: string;
  let dir: string;
  const isDir = fs.statSync(abs).isDirectory();
  if (isDir) {
    const cand = ["src/main.ts", "main.ts", "src/main.js", "main.js", "src/main.mjs", "main.mjs"].map((f) => path.join(abs, f));
    const found = cand.find((f) => fs.existsSync(f));
    if (!found) throw new BuildError(`${input}: no src/main.ts or main.ts (or main.js)`);
    entry = found;
    dir = abs;
  } else {
    if (isImageFile(abs)) throw new BuildError(`${input} is already an app image (run it with qcam run, check it with qcam verify)`);
    if (!SOURCE.test(abs))
      throw new BuildError(`${input}: not an app image (it does not start with the image magic) and not TypeScript or JavaScript source (.ts, .js, .mjs)`);
    entry = abs;
    dir = path.dirname(abs);
    if (path.basename(dir) === "src" && fs.existsSync(path.join(dir, "..", "app.json"))) dir = path.dirname(dir);
  }
  const manifestFile = path.join(dir, "app.json");
  const m = fs.existsSync(manifestFile) ? readManifest(manifestFile) : {};
  const base = isDir ? path.basename(abs) : path.basename(abs).replace(SOURCE, "");
  const id = (m.id ?? base).replace(/[^A-Za-z0-9_.-]/g, "_");
  return { entry, dir, id, name: m.name ?? id, version: m.version ?? "0.0.0" };
}

/** Every host-module declaration file (the .d.ts files under host-modules/), sorted. */
export function declarationFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".d.ts")) out.push(p);
    }
  };
  walk(HOST_MODULES);
  return out.sort();
}

/** Type-check a TypeScript app; returns the files tsc read outside node_modules. */
export function typecheck(app: AppSource, workDir: string): string[] {
  const tsconfig = path.join(workDir, "tsconfig.json");
  fs.writeFileSync(
    tsconfig,
    JSON.stringify(
      {
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
        files: [app.entry, ...declarationFiles()],
      },
      null,
      2,
    ),
  );
  const tsc = path.join(ROOT, "node_modules", ".bin", "tsc");
  let listed: string;
  try {
    listed = execFileSync(tsc, ["-p", tsconfig, "--pretty", "false", "--listFiles"], { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    const out = (err.stdout ?? "").split("\n").filter((l) => !/^\/\S+$/.test(l)).join("\n");
    throw new BuildError(`type errors in ${app.name}:\n${out}${err.stderr ?? ""}`.trimEnd());
  }
  return listed
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && path.isAbsolute(l) && !l.includes(`${path.sep}node_modules${path.sep}`));
}

export function ensureFlavor(flavor: Flavor): BuildInfo {
  return isBuilt(flavor) ? readBuildInfo(flavor) : buildFlavor(flavor);
}

// ---- the build stamp -----------------------------------------------------------
// For each image, a stamp in the app's work folder records what the build read — the app's
// sources (as esbuild and tsc saw them) and their folders, app.json, the
// host-module declarations, the compiler and the runtime's build-info, the
// tooling (this file, the packer, esbuild's and TypeScript's versions) — each
// with its mtime and size, and the image and map it wrote. When every one of
// them is as recorded and the options are the same, the image is reused:
// no tsc, no esbuild, no qcam-compile. Any change, a file gone, or a new file
// in a source folder (its mtime moves) rebuilds.

interface Stamp {
  key: string;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

function fileState(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return "missing";
  }
}

function states(files: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of [...new Set(files)].sort()) out[f] = fileState(f);
  return out;
}

const TOOLING = [
  path.join(ROOT, "build", "app-build.ts"),
  path.join(ROOT, "build", "image.ts"),
  path.join(ROOT, "node_modules", "esbuild", "package.json"),
  path.join(ROOT, "node_modules", "typescript", "package.json"),
];

function stampKey(app: AppSource, target: Target, image: string, typecheck: boolean): string {
  return JSON.stringify({ entry: app.entry, id: app.id, name: app.name, version: app.version, target, image, typecheck });
}

/** Kept in the app's work folder, one per image path, so nothing is added beside an image put elsewhere (-o). */
function stampFile(workDir: string, image: string): string {
  return path.join(workDir, `${createHash("sha256").update(image).digest("hex").slice(0, 16)}.stamp.json`);
}

function upToDate(file: string, key: string): boolean {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(file, "utf8")) as Stamp;
  } catch {
    return false;
  }
  if (stamp.key !== key) return false;
  for (const group of [stamp.inputs, stamp.outputs])
    for (const [f, state] of Object.entries(group)) if (fileState(f) !== state) return false;
  return true;
}

/** Record what this build read, unless a source changed while it ran (the next build redoes it). */
function writeStamp(file: string, key: string, sources: string[], tools: string[], outputs: string[], started: number): void {
  // Filesystem clocks are coarser than Date.now(): anything touched within a
  // second of the start may have changed under the build.
  if (sources.some((f) => fs.existsSync(f) && fs.statSync(f).mtimeMs > started - 1000)) return;
  // The sources' folders too: a file added beside them can change what an
  // import resolves to. (Stated after the image and map are written, which
  // may sit among the sources.)
  const dirs = sources.map((f) => path.dirname(f));
  const stamp: Stamp = { key, inputs: states([...sources, ...dirs, ...tools]), outputs: states(outputs) };
  fs.writeFileSync(file, JSON.stringify(stamp, null, 1));
}

export async function buildApp(input: string, opts: BuildOptions = {}): Promise<BuiltApp> {
  const target = opts.target ?? "host";
  const app = resolveApp(input);
  ensureFlavor("host"); // the compiler
  const info = ensureFlavor(target);
  const workDir = path.join(OUT, "apps", app.id, target);
  fs.mkdirSync(workDir, { recursive: true });
  const bundleName = `${app.id}.js`;
  const bundle = path.join(workDir, bundleName);
  const image = path.resolve(opts.out ?? path.join(workDir, `${app.id}.qcam`));
  const map = `${image}.map`;
  const checked = opts.typecheck !== false && TS_SOURCE.test(app.entry);
  const key = stampKey(app, target, image, checked);
  const stamp = stampFile(workDir, image);
  if (upToDate(stamp, key)) return { image, map, bundle, app, info };
  fs.rmSync(stamp, { force: true });

  const started = Date.now();
  const sources: string[] = [app.entry, path.join(app.dir, "app.json")];
  const tools = [...TOOLING, compilerBinary(), path.join(buildDir("host"), "build-info.json"), path.join(buildDir(target), "build-info.json")];
  // TypeScript is type-checked; plain JavaScript (.js, .mjs) is bundled as it is.
  if (checked) {
    sources.push(...typecheck(app, workDir).filter((f) => !f.startsWith(HOST_MODULES + path.sep)));
    tools.push(...declarationFiles());
  }
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [app.entry],
    outfile: bundle,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2023",
    external: ["qcam:*"],
    // What the app may show of the runtime it was built for (the runtime refuses an image
    // of another engine version, so these are the running ones): declare and test with
    // `typeof QCAM_ENGINE_VERSION === "string"` (absent in Node tests).
    define: { QCAM_ENGINE_VERSION: JSON.stringify(info.engine), QCAM_RUNTIME_VERSION: JSON.stringify(packageVersion()) },
    plugins: [{ name: "qcam-ui", setup: (b) => void b.onResolve({ filter: /^qcam\/ui$/ }, () => ({ path: UI_KIT })) }],
    sourcemap: "external",
    logLevel: "silent",
    metafile: true,
    write: true,
  }).catch((e: Error) => {
    throw new BuildError(`bundling ${app.name} failed:\n${e.message}`);
  });
  for (const f of Object.keys(result.metafile.inputs)) if (!f.includes(":")) sources.push(path.resolve(f));

  const bc = path.join(workDir, `${app.id}.bc`);
  try {
    execFileSync(compilerBinary(), ["--name", bundleName, "-o", bc, bundle], { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (e) {
    throw new BuildError(`compiling ${app.name} to bytecode failed:\n${(e as { stderr?: string }).stderr ?? e}`);
  }
  const bytecode = fs.readFileSync(bc);
  if (bytecode[0] !== info.bytecode)
    throw new BuildError(`compiler wrote bytecode v${bytecode[0]}, the ${target} runtime reads v${info.bytecode}`);

  // The map moves beside the image: re-anchor its source paths there.
  const raw = JSON.parse(fs.readFileSync(`${bundle}.map`, "utf8")) as { sources: string[]; file?: string };
  raw.sources = raw.sources.map((s) => path.relative(path.dirname(map), path.resolve(workDir, s)));
  raw.file = bundleName;
  const mapText = JSON.stringify(raw);
  const mapId = "sha256:" + createHash("sha256").update(mapText).digest("hex");

  const manifest = {
    id: app.id,
    name: app.name,
    version: app.version,
    entry: bundleName,
    target,
    builtAt: new Date().toISOString(),
  };
  const packed = packImage({
    formatVersion: FORMAT_VERSION,
    engine: info.engine,
    bytecodeVersion: info.bytecode,
    targetId: target === "riscv64" ? TARGET_IDS["sim-riscv64"] : TARGET_IDS["sim-x86_64"],
    flags: FLAG_DEBUG_INFO,
    abiHash: info.abi,
    entryName: bundleName,
    entrySection: 0,
    sections: [
      { type: SectionType.Bytecode, data: bytecode },
      { type: SectionType.Manifest, data: Buffer.from(JSON.stringify(manifest)) },
      { type: SectionType.SourceMapId, data: Buffer.from(mapId, "latin1") },
    ],
  });
  fs.mkdirSync(path.dirname(image), { recursive: true });
  fs.writeFileSync(image, packed);
  fs.writeFileSync(map, mapText);
  writeStamp(stamp, key, sources, tools, [image, map, bundle], started);
  return { image, map, bundle, app, info };
}

let pkgVersion: string | undefined;
/** The project's release (package.json), which the runtime is built as (runtime/CMakeLists.txt). */
function packageVersion(): string {
  pkgVersion ??= (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
  return pkgVersion;
}
