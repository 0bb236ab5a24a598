// TypeScript app -> app image: esbuild bundle (qcam:* external, one ES module
// + source map), tsc type-check against the host-module declarations,
// bytecode from qcam-compile (same engine as the runtime), then the packer.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
import { buildFlavor, isBuilt, readBuildInfo, type BuildInfo } from "./cmake.ts";
import { FLAG_DEBUG_INFO, FORMAT_VERSION, SectionType, TARGET_IDS, packImage } from "./image.ts";
import { BuildError } from "./log.ts";
import { HOST_MODULES, OUT, ROOT, compilerBinary, type Flavor, type Target } from "./paths.ts";

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

/** An app is a folder (src/main.ts or main.ts, optional app.json) or one file. */
export function resolveApp(input: string): AppSource {
  const abs = path.resolve(input);
  if (!fs.existsSync(abs)) throw new BuildError(`no such app: ${input}`);
  let entry: string;
  let dir: string;
  if (fs.statSync(abs).isDirectory()) {
    const cand = ["src/main.ts", "main.ts", "src/main.js", "main.js"].map((f) => path.join(abs, f));
    const found = cand.find((f) => fs.existsSync(f));
    if (!found) throw new BuildError(`${input}: no src/main.ts or main.ts`);
    entry = found;
    dir = abs;
  } else {
    entry = abs;
    dir = path.dirname(abs);
    if (path.basename(dir) === "src" && fs.existsSync(path.join(dir, "..", "app.json"))) dir = path.dirname(dir);
  }
  const manifestFile = path.join(dir, "app.json");
  const m = fs.existsSync(manifestFile)
    ? (JSON.parse(fs.readFileSync(manifestFile, "utf8")) as Partial<Record<"id" | "name" | "version", string>>)
    : {};
  const base = fs.statSync(abs).isDirectory() ? path.basename(abs) : path.basename(abs).replace(/\.[jt]s$/, "");
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

export function typecheck(app: AppSource, workDir: string): void {
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
        },
        files: [app.entry, ...declarationFiles()],
      },
      null,
      2,
    ),
  );
  const tsc = path.join(ROOT, "node_modules", ".bin", "tsc");
  try {
    execFileSync(tsc, ["-p", tsconfig, "--pretty", "false"], { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new BuildError(`type errors in ${app.name}:\n${err.stdout ?? ""}${err.stderr ?? ""}`.trimEnd());
  }
}

export function ensureFlavor(flavor: Flavor): BuildInfo {
  return isBuilt(flavor) ? readBuildInfo(flavor) : buildFlavor(flavor);
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

  if (opts.typecheck !== false) typecheck(app, workDir);
  const result = await esbuild.build({
    entryPoints: [app.entry],
    outfile: bundle,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2023",
    external: ["qcam:*"],
    sourcemap: "external",
    logLevel: "silent",
    write: true,
  }).catch((e: Error) => {
    throw new BuildError(`bundling ${app.name} failed:\n${e.message}`);
  });
  void result;

  const bc = path.join(workDir, `${app.id}.bc`);
  try {
    execFileSync(compilerBinary(), ["--name", bundleName, "-o", bc, bundle], { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (e) {
    throw new BuildError(`compiling ${app.name} to bytecode failed:\n${(e as { stderr?: string }).stderr ?? e}`);
  }
  const bytecode = fs.readFileSync(bc);
  if (bytecode[0] !== info.bytecode)
    throw new BuildError(`compiler wrote bytecode v${bytecode[0]}, the ${target} runtime reads v${info.bytecode}`);

  const image = path.resolve(opts.out ?? path.join(workDir, `${app.id}.qcam`));
  const map = `${image}.map`;
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
  return { image, map, bundle, app, info };
}
