/** Clocks and sleeping — MaixPy's `maix.time`. */
declare module "qcam:time" {
  /** Milliseconds since the runtime started (integer, monotonic). */
  export function ticksMs(): number;
  /** Microseconds since the runtime started (integer, monotonic). */
  export function ticksUs(): number;
  /** The monotonic clock (CLOCK_MONOTONIC) in milliseconds, fractional. */
  export function monotonicMs(): number;
  /** Wall-clock time in seconds since the Unix epoch, fractional. */
  export function time(): number;
  /** Wall-clock time in whole milliseconds since the Unix epoch. */
  export function timeMs(): number;
  /** Block for `s` seconds. Returns early when the app is asked to exit (SIGINT/SIGTERM). */
  export function sleep(s: number): void;
  export function sleepMs(ms: number): void;
  export function sleepUs(us: number): void;
  /** Frames per second, from the interval between successive calls (smoothed). */
  export function fps(): number;

  /** The same functions as one object: qcam:app's `time` export (`import { app, time } from "qcam:app"`). */
  export interface Time {
    ticksMs(): number;
    ticksUs(): number;
    monotonicMs(): number;
    time(): number;
    timeMs(): number;
    sleep(s: number): void;
    sleepMs(ms: number): void;
    sleepUs(us: number): void;
    fps(): number;
  }
}
