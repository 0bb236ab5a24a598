// qcam:time for tests on a PC: the same functions on the world's fake clock
// (build/testing/world.ts). Mirrors mod_time.c: ticks count from 0, sleeping
// moves virtual time and only a signal cuts it short, the same argument
// checks and errors, fps() smoothed the same way.
import type * as Api from "qcam:time";
import type * as Self from "./time.stub.ts";
import { conforms, throwQcam, toNumber, world } from "../../build/testing/stub-kit.ts";

conforms<typeof Api, typeof Self>(true);

export const ticksMs: typeof Api.ticksMs = function ticksMs() {
  return Math.trunc(world.ticksUs() / 1000);
};

export const ticksUs: typeof Api.ticksUs = function ticksUs() {
  return world.ticksUs();
};

export const monotonicMs: typeof Api.monotonicMs = function monotonicMs() {
  return world.monotonicUs() / 1000;
};

export const time: typeof Api.time = function time() {
  return world.wallUs() / 1e6;
};

export const timeMs: typeof Api.timeMs = function timeMs() {
  return Math.trunc(world.wallUs() / 1e3);
};

/** js_sleep: magic = log10 of microseconds per unit. */
function sleepFor(argc: number, value: unknown, magic: number): void {
  if (argc < 1) throwQcam("TypeError", "ERR_INVALID_ARG", "sleep needs a duration");
  const v = toNumber(value);
  if (!Number.isFinite(v) || v < 0)
    throwQcam("RangeError", "ERR_INVALID_ARG", "sleep duration must be a finite number >= 0");
  world.sleepUs(Math.trunc(v * Math.pow(10, magic)));
}

export const sleep: typeof Api.sleep = function sleep(s: number) {
  sleepFor(arguments.length, s, 6);
};

export const sleepMs: typeof Api.sleepMs = function sleepMs(ms: number) {
  sleepFor(arguments.length, ms, 3);
};

export const sleepUs: typeof Api.sleepUs = function sleepUs(us: number) {
  sleepFor(arguments.length, us, 0);
};

/** js_fps: one state for the whole runtime (a C static), here one per world. */
export const fps: typeof Api.fps = function fps() {
  const s = world.part("time.fps", () => ({ lastUs: -1, avgUs: 0 }));
  const now = world.ticksUs();
  if (s.lastUs >= 0) {
    const d = now - s.lastUs;
    s.avgUs = s.avgUs === 0 ? d : s.avgUs * 0.9 + d * 0.1;
  }
  s.lastUs = now;
  return s.avgUs > 0 ? 1e6 / s.avgUs : 0;
};
