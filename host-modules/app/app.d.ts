/** The app's lifecycle — MaixPy's `maix.app`. */
declare module "qcam:app" {
  import type { Time } from "qcam:time";

  export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
  /**
   * Why the app is asked to stop: "stop" (`qcam stop` over the dev link),
   * "reload" (a new version is about to run: `qcam dev`, `qcam run --port`),
   * "signal" (SIGINT/SIGTERM), "exit" (`setExitFlag(true)`), "fatal" (an
   * uncaught error or a host-module fatal error).
   */
  export type ExitReason = "stop" | "reload" | "signal" | "exit" | "fatal";

  export interface App {
    /**
     * Run one non-blocking turn of the event loop (promise jobs, due timers,
     * host events) and tell whether the app should stop: true after SIGINT or
     * SIGTERM, `setExitFlag(true)`, or a fatal host-module error.
     * The loop model: `while (!app.needExit()) { ... }`.
     */
    needExit(): boolean;
    /** Why the app is asked to stop, or null while nothing asks (see ExitReason). */
    exitReason(): ExitReason | null;
    /**
     * Hand a small JSON value to the next version of this app when it is
     * reloaded over the dev link (like HMR's `module.hot.data`): the next
     * generation gets it from `reloadState()`. The last value set counts; null
     * or undefined clears it. It is carried only by a reload — a stop or an
     * exit drops it — and never outside the dev link (qcam-runtime --serve).
     * Throws TypeError ERR_INVALID_ARG for a value JSON cannot hold (a
     * function, a cycle, a BigInt) and RangeError ERR_TOO_LARGE above 64 KiB
     * of JSON.
     */
    setReloadState(value: unknown): void;
    /** What the previous generation handed over with setReloadState(), parsed afresh; null when nothing. */
    reloadState(): unknown;
    /** Ask the app to stop (true) or take the request back (false). */
    setExitFlag(flag: boolean): void;
    /** The process exit code (0..255) and a message printed when the app ends. */
    setExitMessage(code: number, message: string): void;
    /**
     * Keep this version. After `qcam flash` a new version runs on trial
     * (3 tries, docs/app-store.md); it becomes the good one when it calls
     * this, or after 10 s of running its loop without an uncaught error.
     * Returns true when this call made it the good one, false when there was
     * nothing to mark (already good, or not started by `qcam-runtime --boot`).
     * Throws (code EIO, ENOSPC...) when the card could not record it.
     */
    markGood(): boolean;
    /** Start parameters: the words after `--` on the command line. */
    readonly args: readonly string[];
    /** The start parameters joined by spaces (MaixPy's `get_start_param`). */
    readonly startParam: string;
    /** From the image manifest (app.json). */
    readonly id: string;
    readonly name: string;
    readonly version: string;
    /** "sim", "maixcam" or "k230". */
    readonly platform: string;
    /** Board paths; each folder exists once asked for. */
    sdcardPath(): string;
    dataPath(): string;
    videoPath(): string;
    picturePath(): string;
    tmpPath(): string;
    /** console.debug shows at "debug"; "silent" hides everything. */
    setLogLevel(level: LogLevel): void;
    logLevel(): LogLevel;
  }

  export const app: App;
  /** qcam:time's functions, so `import { app, time } from "qcam:app"` works as in MaixPy. */
  export const time: Time;
}
