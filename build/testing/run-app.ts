// runApp: run an app's own source in Node against the stubs the way the
// runtime runs an image (runtime/app.c app_main + finish): evaluate the entry
// module, then alternate loop turns with waits for the next timer (on virtual
// time) until nothing can call back into the app or exit is requested; then
// the exit status and the exit message.
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { HardExit, WorldLimitError, nextRunId, world, type LogLevel, type Manifest } from "./world.ts";

export interface RunAppOptions {
  /** Start parameters (default: the world's, see world.setArgs). */
  args?: readonly string[];
  /** Manifest fields; default: the app's app.json as `qcam build` reads it. */
  manifest?: Partial<Manifest>;
  /** The runtime's --log-level. */
  logLevel?: LogLevel;
  /** Give up when the entry module has not started evaluating after this much real time (default 30 s). */
  loadTimeoutMs?: number;
}

export interface AppResult {
  /** The runtime's exit status: 0, 1 uncaught error or fatal, 21 top-level await
   * that can never settle, 130 interrupted or second SIGINT, or the app's
   * setExitMessage code. */
  code: number;
  stdout: string;
  stderr: string;
  /** Virtual time the run took, ms, and needExit() turns. */
  elapsedMs: number;
  turns: number;
}

/** The exit statuses of runtime/app.h. */
export const EXIT = { OK: 0, UNCAUGHT: 1, STALLED: 21, INTERRUPTED: 130 } as const;

const ENTERED = Symbol.for("qcam.testing.entered");

/** An app folder (src/main.ts, main.ts; app.json), a single .ts file, or a file URL. */
export function resolveEntry(input: string | URL): { file: string; manifest: Manifest } {
  const abs = input instanceof URL || input.startsWith("file:") ? fileURLToPath(input) : path.resolve(input);
  if (!fs.existsSync(abs)) throw new Error(`runApp: no such app: ${abs}`);
  let file = abs;
  let dir = path.dirname(abs);
  if (fs.statSync(abs).isDirectory()) {
    const found = ["src/main.ts", "main.ts", "src/main.js", "main.js"].map((f) => path.join(abs, f)).find((f) => fs.existsSync(f));
    if (!found) throw new Error(`runApp: ${abs} has no src/main.ts or main.ts`);
    file = found;
    dir = abs;
  } else if (path.basename(dir) === "src" && fs.existsSync(path.join(dir, "..", "app.json"))) dir = path.dirname(dir);
  const json = path.join(dir, "app.json");
  const m = fs.existsSync(json) ? (JSON.parse(fs.readFileSync(json, "utf8")) as Partial<Manifest>) : {};
  const base = fs.statSync(abs).isDirectory() ? path.basename(abs) : path.basename(abs).replace(/\.[jt]s$/, "");
  const id = (m.id ?? base).replace(/[^A-Za-z0-9_.-]/g, "_");
  return { file, manifest: { id, name: m.name ?? id, version: m.version ?? "0.0.0" } };
}

/**
 * Run an app in the current world: its top level, then its loop until it
 * ends, as `qcam run` would, but on virtual time and against the stubs. Script
 * the world first (world.reset(), world.exitAt(ms), world.fault(...)); read
 * the result and the world afterwards. Each run loads the app's modules afresh.
 */
export async function runApp(entry: string | URL, opts: RunAppOptions = {}): Promise<AppResult> {
  const { file, manifest } = resolveEntry(entry);
  world.setManifest({ ...manifest, ...opts.manifest });
  if (opts.args) world.setArgs(opts.args);
  if (opts.logLevel) world.logLevel = opts.logLevel;
  const t0 = world.now();
  const turns0 = world.turns;
  const installedHere = !world.installed;
  world.install();
  const seen = new WeakSet<object>();
  const onRejection = (reason: unknown, promise: Promise<unknown>) => {
    if (seen.has(promise)) return;
    seen.add(promise);
    world.reportUncaught(reason, "Uncaught (in promise) ");
  };
  process.on("unhandledRejection", onRejection);
  const run = String(nextRunId());
  let entered = false;
  (globalThis as Record<symbol, unknown>)[ENTERED] = (id: string) => {
    if (id === run) entered = true;
  };
  let code: number = EXIT.OK;
  try {
    const url = new URL(pathToFileURL(file));
    url.searchParams.set("qcam-run", run);
    url.searchParams.set("qcam-entry", run);
    let state: "pending" | "fulfilled" | "rejected" = "pending";
    let reason: unknown;
    import(url.href).then(
      () => (state = "fulfilled"),
      (e: unknown) => {
        state = "rejected";
        reason = e;
      },
    );
    // Loading (TypeScript through the hooks thread) takes real time; the app
    // starts when its entry module starts evaluating.
    const deadline = Date.now() + (opts.loadTimeoutMs ?? 30_000);
    while (!entered && state === "pending") {
      if (Date.now() > deadline) throw new Error(`runApp: ${file} did not start within ${opts.loadTimeoutMs ?? 30_000} ms`);
      await sleep(1);
    }
    // One iteration of app_main's loop, run from a macrotask so that the
    // turn can run promise jobs itself.
    const step = (): "again" | "done" => {
      if (state === "rejected") {
        // Not the app's doing: it never started (a missing stub, a syntax
        // error: what fails the build on the board) or a test limit.
        if (!entered || reason instanceof HardExit || reason instanceof WorldLimitError) throw reason;
        world.reportUncaught(reason);
        return "done";
      }
      world.turn();
      if (world.fatal) return "done";
      if ((state as string) === "rejected") return "again";
      const settled = state === "fulfilled";
      if (world.exitRequested) {
        if (!settled) code = EXIT.INTERRUPTED;
        return "done";
      }
      if (!world.busy) {
        if (!settled) {
          world.write("stderr", "Error: the app's top-level await can never settle\n");
          code = EXIT.STALLED;
        }
        return "done";
      }
      world.waitForWork();
      return "again";
    };
    for (;;) {
      const next = await new Promise<"again" | "done">((resolve, reject) =>
        setImmediate(() => {
          try {
            resolve(step());
          } catch (e) {
            reject(e);
          }
        }),
      );
      if (next === "done") break;
    }
  } catch (e) {
    if (!(e instanceof HardExit)) throw e;
    code = EXIT.INTERRUPTED;
  } finally {
    process.off("unhandledRejection", onRejection);
    delete (globalThis as Record<symbol, unknown>)[ENTERED];
    if (installedHere) world.restore();
  }
  // finish()
  if (code !== EXIT.INTERRUPTED || !world.hardExit) {
    if (world.fatal) code = EXIT.UNCAUGHT;
    else if (world.exitCode) code = world.exitCode;
    if (world.exitMessage) world.write("stderr", `app exit (${world.exitCode}): ${world.exitMessage}\n`);
  }
  return { code, stdout: world.stdout, stderr: world.stderr, elapsedMs: world.now() - t0, turns: world.turns - turns0 };
}
