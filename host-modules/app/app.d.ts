/** The app's lifecycle — MaixPy's `maix.app`. */
declare module "qcam:app" {
  import type { Time } from "qcam:time";

  export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

  export interface App {
    /**
     * Run one non-blocking turn of the event loop (promise jobs, due timers,
     * host events) and tell whether the app should stop: true after SIGINT or
     * SIGTERM, `setExitFlag(true)`, or a fatal host-module error.
     * The loop model: `while (!app.needExit()) { ... }`.
     */
    needExit(): boolean;
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
