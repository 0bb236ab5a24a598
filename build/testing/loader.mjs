// Node module hooks for testing qcam apps on a PC (registered by register.mjs).
// Plain JavaScript: Node runs hooks on their own thread, before any
// TypeScript loader could apply to this file.
//
//  qcam:<mod>     -> host-modules/<mod>/<mod>.stub.ts (the stub beside the contract);
//                    a module without a stub fails to import with ERR_QCAM_NO_STUB.
//  qcam:testing   -> build/testing/index.ts (the world, runApp, makeImage).
//  qcam/ui        -> app/ui/index.ts (the UI kit, an app's own code: ?qcam-run applies).
//  ?qcam-run=N    on a module (runApp's entry) is carried to the app files it
//                 imports, so every run gets fresh app modules, as a fresh app
//                 load does on the board. Those files are compiled here with
//                 `Promise` bound to the world's (see loadAppFile). ?qcam-entry
//                 marks the entry: its evaluation starting is reported to runApp.
//  ?qcam-mutant=… on an importing module replaces one stub by a mutated copy
//                 of its source (test/contract/mutation.test.ts): proof that
//                 the contract suites catch a stub that drifts. A mutant with
//                 a `file` (under host-modules/, e.g. "media/writer.stub.ts")
//                 mutates that file instead, as the module's stub imports it
//                 (a file several stubs share: only this module's copy).
// Everything else goes to the next loader (tsx for .ts files).
import { existsSync } from "node:fs";

const ROOT = new URL("../../", import.meta.url);
const HOST_MODULES = new URL("host-modules/", ROOT);
const TESTING_INDEX = new URL("build/testing/index.ts", ROOT);
const UI_KIT = new URL("app/ui/index.ts", ROOT); // build/paths.ts UI_KIT
const KIT_DIRS = [new URL("build/", ROOT).href, HOST_MODULES.href];

const RUN = "qcam-run";
const ENTRY = "qcam-entry";
const MUTANT = "qcam-mutant";

function withParam(url, name, value) {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.href;
}

function paramOf(url, name) {
  if (!url) return null;
  try {
    return new URL(url).searchParams.get(name);
  } catch {
    return null;
  }
}

/** A mutant: { module: "qcam:time", file?: "media/x.stub.ts", replace: [[pattern, flags, replacement], ...] }, base64url JSON. */
export function decodeMutant(text) {
  return JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === "qcam:testing") return nextResolve(TESTING_INDEX.href, context);
  if (specifier.startsWith("qcam:")) {
    const name = specifier.slice(5);
    const stub = new URL(`${name}/${name}.stub.ts`, HOST_MODULES);
    if (!/^[a-z][a-z0-9_]*$/.test(name) || !existsSync(stub)) {
      const err = new Error(
        `qcam testing: no stub for ${specifier} (host-modules/${name}/${name}.stub.ts does not exist)`,
      );
      err.code = "ERR_QCAM_NO_STUB";
      throw err;
    }
    const r = await nextResolve(stub.href, context);
    const mutant = paramOf(context.parentURL, MUTANT);
    if (mutant && decodeMutant(mutant).module === specifier) return { ...r, url: withParam(r.url, MUTANT, mutant) };
    return r;
  }
  const r = await nextResolve(specifier === "qcam/ui" ? UI_KIT.href : specifier, context);
  const parentMutant = paramOf(context.parentURL, MUTANT);
  if (parentMutant && context.parentURL.startsWith(HOST_MODULES.href)) {
    const file = decodeMutant(parentMutant).file;
    if (file && r.url === new URL(file, HOST_MODULES).href) return { ...r, url: withParam(r.url, MUTANT, parentMutant) };
  }
  const run = paramOf(context.parentURL, RUN);
  if (run && r.url.startsWith("file:") && !r.url.includes("/node_modules/") && !KIT_DIRS.some((d) => r.url.startsWith(d)))
    return { ...r, url: withParam(r.url, RUN, run) };
  return r;
}

export async function load(url, context, nextLoad) {
  const mutant = paramOf(url, MUTANT);
  if (mutant && url.startsWith(HOST_MODULES.href)) return loadMutant(url, decodeMutant(mutant));
  if (paramOf(url, RUN) !== null && /\.(m?ts|m?js)$/.test(new URL(url).pathname)) return loadAppFile(url);
  return nextLoad(url, context);
}

/**
 * An app file of a runApp run, compiled the way the app sees the world in
 * the runtime: async functions lowered to generators over `Promise`, and
 * `Promise` bound to the world's (build/testing/promise.ts), so promise jobs
 * run inside needExit() turns. The entry also reports that its evaluation
 * starts (on its first line, so line numbers keep).
 */
async function loadAppFile(url) {
  const { readFile } = await import("node:fs/promises");
  const { fileURLToPath } = await import("node:url");
  const esbuild = await import("esbuild");
  const file = fileURLToPath(url);
  const entry = paramOf(url, ENTRY);
  let banner = 'const Promise = globalThis[Symbol.for("qcam.testing.Promise")];';
  if (entry !== null) banner += `globalThis[Symbol.for("qcam.testing.entered")]?.(${JSON.stringify(entry)});`;
  const source = await readFile(file, "utf8");
  const loader = /\.m?ts$/.test(file) ? "ts" : "js";
  const common = { format: "esm", target: "es2022", sourcefile: file, sourcemap: "inline", loader };
  const lowered = { ...common, supported: { "async-await": false, "async-generator": false, "for-await": false } };
  let code;
  try {
    code = (await esbuild.transform(source, lowered)).code;
  } catch (e) {
    if (!/Top-level await is not available/.test(String(e?.message))) throw e;
    code = await lowerAroundTopLevelAwait(esbuild, source, common, lowered);
  }
  return { format: "module", source: banner + code, shortCircuit: true };
}

/**
 * esbuild cannot lower async functions and keep top-level await. So a module
 * with top-level await runs its body as one lowered async function that the
 * module awaits: the same order of effects, and its awaits become world jobs.
 * That needs a module without exports (an app's entry has none); one with
 * exports keeps native async functions (their continuations then run when the
 * app yields, not inside needExit()).
 */
async function lowerAroundTopLevelAwait(esbuild, source, common, lowered) {
  const js = (await esbuild.transform(source, { ...common, sourcemap: false })).code;
  const imports = [];
  const body = [];
  let pending = null;
  for (const line of js.split("\n")) {
    if (pending !== null || /^import[\s{*"']/.test(line)) {
      pending = pending === null ? line : `${pending}\n${line}`;
      if (/;\s*$/.test(line)) {
        imports.push(pending);
        pending = null;
      }
    } else body.push(line);
  }
  if (body.some((l) => /^export[\s{*]/.test(l))) return (await esbuild.transform(source, common)).code;
  const wrapped = `${imports.join("\n")}\nasync function __qcam_main__() {\n${body.join("\n")}\n}\n`;
  const out = await esbuild.transform(wrapped, { ...lowered, loader: "js" });
  return `${out.code}\nawait __qcam_main__();\n`;
}

/** The stub's TypeScript source with the mutant's replacements, compiled here
 * (the module's stub as it is when the mutant names another file it imports). */
async function loadMutant(url, mutant) {
  const { readFile } = await import("node:fs/promises");
  const { fileURLToPath } = await import("node:url");
  const esbuild = await import("esbuild");
  const file = fileURLToPath(url);
  let source = await readFile(file, "utf8");
  const target = mutant.file ? new URL(mutant.file, HOST_MODULES).href : null;
  const u = new URL(url);
  u.search = "";
  for (const [pattern, flags, replacement] of target && u.href !== target ? [] : mutant.replace) {
    const re = new RegExp(pattern, flags);
    if (!re.test(source)) throw new Error(`qcam testing: mutant pattern /${pattern}/ not found in ${file}`);
    re.lastIndex = 0;
    source = source.replace(re, replacement);
  }
  const out = await esbuild.transform(source, { loader: "ts", format: "esm", target: "node20", sourcefile: file, sourcemap: "inline" });
  return { format: "module", source: out.code, shortCircuit: true };
}
