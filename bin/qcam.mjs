#!/usr/bin/env node
// The qcam command. The tooling is TypeScript (build/cli.ts and what it
// imports). It runs from a bundle esbuild makes of it in out/tooling/, made
// again when any file it was made from changed (their mtimes and sizes are in
// out/tooling/stamp.json): starting through tsx's loader instead costs about
// 0.2 s of CPU on every command. Without esbuild, or with QCAM_TSX=1, the
// TypeScript runs through tsx as it is.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TOOLING = path.join(ROOT, "out", "tooling");
const STAMP = path.join(TOOLING, "stamp.json");
const ENTRY = path.join(ROOT, "build", "cli.ts");

function state(file) {
  try {
    const st = fs.statSync(file);
    return `${st.mtimeMs}:${st.isDirectory() ? "dir" : st.size}`;
  } catch {
    return "missing";
  }
}

/** The bundle's folder when the stamp says it was made from exactly the files there are now. */
function freshBundle() {
  try {
    const s = JSON.parse(fs.readFileSync(STAMP, "utf8"));
    if (s.node !== process.version) return undefined;
    for (const [f, st] of Object.entries(s.inputs)) if (state(f) !== st) return undefined;
    return fs.existsSync(path.join(s.dir, "cli.js")) ? s.dir : undefined;
  } catch {
    return undefined;
  }
}

async function makeBundle() {
  const esbuild = await import("esbuild");
  fs.mkdirSync(TOOLING, { recursive: true });
  const dir = fs.mkdtempSync(path.join(TOOLING, "cli-"));
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    outdir: dir,
    bundle: true,
    splitting: true, // each command's code loads when that command runs
    format: "esm",
    platform: "node",
    target: `node${process.versions.node.split(".")[0]}`,
    packages: "external",
    // The modules find the repository from their own URL (build/paths.ts):
    // every one of them sits in build/ or one folder beside it.
    define: { "import.meta.url": JSON.stringify(pathToFileURL(ENTRY).href) },
    metafile: true,
    logLevel: "silent",
  });
  const sources = Object.keys(result.metafile.inputs).map((f) => path.resolve(ROOT, f));
  const files = [...sources, ...new Set(sources.map((f) => path.dirname(f))), fileURLToPath(import.meta.url), path.join(ROOT, "node_modules", "esbuild", "package.json")];
  const inputs = Object.fromEntries(files.map((f) => [f, state(f)]));
  const tmp = `${STAMP}.${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ node: process.version, dir, inputs }, null, 1));
  fs.renameSync(tmp, STAMP);
  // Bundles made before this one: gone once nothing can still be loading from them.
  for (const e of fs.readdirSync(TOOLING))
    if (e.startsWith("cli-") && path.join(TOOLING, e) !== dir && Date.now() - fs.statSync(path.join(TOOLING, e)).mtimeMs > 3600e3)
      fs.rmSync(path.join(TOOLING, e), { recursive: true, force: true });
  return dir;
}

let dir;
if (process.env.QCAM_TSX !== "1") {
  dir = freshBundle();
  if (!dir)
    try {
      dir = await makeBundle();
    } catch {
      dir = undefined; // tsx below says what is wrong with the TypeScript
    }
}
let cli;
if (dir) ({ cli } = await import(pathToFileURL(path.join(dir, "cli.js")).href));
else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ cli } = await import("../build/cli.ts"));
}
cli(process.argv.slice(2));
