// qcam:app for tests on a PC: the app's lifecycle in the scripted world
// (build/testing/world.ts). Mirrors mod_app.c: needExit() runs one turn of the
// world's loop, the same argument checks and errors, start parameters and
// manifest fields as read-only enumerable values, board paths as strings.
//
// Faults: world.fault("app.path", { code: "EACCES" }) makes the next path call
// fail as a failed mkdir does (Error with code EACCES, "cannot create /sdcard/...").
import type * as Api from "qcam:app";
import * as T from "qcam:time";
import type * as Self from "./app.stub.ts";
import {
  LOG_LEVELS,
  conforms,
  defineMethods,
  defineReadonly,
  throwErrno,
  throwQcam,
  toInt32,
  world,
  type LogLevel,
} from "../../build/testing/stub-kit.ts";

conforms<typeof Api, typeof Self>(true);

function needExit(): boolean {
  return world.turn();
}

function setExitFlag(flag: boolean): void {
  if (arguments.length < 1 || typeof flag !== "boolean")
    throwQcam("TypeError", "ERR_INVALID_ARG", "setExitFlag needs a boolean");
  world.exitFlag = flag;
}

function setExitMessage(code: number, message: string): void {
  if (arguments.length < 2 || typeof code !== "number" || typeof message !== "string")
    throwQcam("TypeError", "ERR_INVALID_ARG", "setExitMessage(code: number, message: string)");
  const c = toInt32(code);
  if (c < 0 || c > 255) throwQcam("RangeError", "ERR_INVALID_ARG", "exit code must be 0..255");
  world.setExitMessage(c, message);
}

/** No trial in the scripted world: as on a runtime not started by --boot. */
function markGood(): boolean {
  return false;
}

/** qcam_app_exit_reason: the stub world has no dev link. */
function exitReason(): Api.ExitReason | null {
  if (world.fatal) return "fatal";
  if (world.signals > 0) return "signal";
  return world.exitFlag ? "exit" : null;
}

const RELOAD_STATE_MAX = 64 << 10;

/** js_set_reload_state: checked, then kept nowhere (no dev link here). */
function setReloadState(value: unknown): void {
  if (arguments.length < 1 || value === undefined || value === null) return;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (typeof json !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", "reload state must be a JSON value");
  const bytes = Buffer.byteLength(json);
  if (bytes > RELOAD_STATE_MAX) throwQcam("RangeError", "ERR_TOO_LARGE", `reload state is ${bytes} bytes as JSON; at most ${RELOAD_STATE_MAX}`);
}

function reloadState(): unknown {
  return null;
}

/** Board paths (backend_sim.c qcam_board_path); the folder "exists once asked for". */
function boardPath(kind: "sdcard" | "data" | "video" | "picture" | "tmp"): string {
  const id = world.manifest.id || "app";
  const path = {
    sdcard: "/sdcard",
    data: `/sdcard/apps/${id}/data`,
    video: "/sdcard/video",
    picture: "/sdcard/picture",
    tmp: `/tmp/qcam/${id}`,
  }[kind];
  const fault = world.takeFault("app.path");
  if (fault) throwErrno(fault.code ?? "EACCES", `cannot create ${path}`);
  world.part("app.paths", () => new Set<string>()).add(path);
  return path;
}

function sdcardPath(): string {
  return boardPath("sdcard");
}
function dataPath(): string {
  return boardPath("data");
}
function videoPath(): string {
  return boardPath("video");
}
function picturePath(): string {
  return boardPath("picture");
}
function tmpPath(): string {
  return boardPath("tmp");
}

function setLogLevel(level: LogLevel): void {
  const s = arguments.length > 0 && typeof level === "string" ? level : undefined;
  if (s === undefined || !LOG_LEVELS.includes(s))
    throwQcam("TypeError", "ERR_INVALID_ARG", "log level must be one of debug, info, warn, error, silent");
  world.logLevel = s;
}

function logLevel(): LogLevel {
  return world.logLevel;
}

/** make_app_object: functions first, then the values, in mod_app.c's order. */
function makeApp(): Api.App {
  const app = defineMethods({}, {
    needExit,
    setExitFlag,
    setExitMessage,
    markGood,
    exitReason,
    setReloadState,
    reloadState,
    sdcardPath,
    dataPath,
    videoPath,
    picturePath,
    tmpPath,
    setLogLevel,
    logLevel,
  });
  const args = [...world.args];
  return defineReadonly(app, {
    args,
    startParam: args.join(" "),
    id: world.manifest.id,
    name: world.manifest.name,
    version: world.manifest.version,
    platform: world.platform,
  }) as Api.App;
}

/** Rebuilt (a live binding) whenever the world's args or manifest change, as a
 * new app load builds a new one on the board. */
export let app: Api.App = makeApp();
world.onSetup(() => {
  app = makeApp();
});

/** qcam_time_object: qcam:time's functions as one object. */
export const time: typeof Api.time = defineMethods({}, {
  ticksMs: T.ticksMs,
  ticksUs: T.ticksUs,
  monotonicMs: T.monotonicMs,
  time: T.time,
  timeMs: T.timeMs,
  sleep: T.sleep,
  sleepMs: T.sleepMs,
  sleepUs: T.sleepUs,
  fps: T.fps,
}) as typeof Api.time;
