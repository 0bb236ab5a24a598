// qcam:time's contract: what the C module does and its stub must do too.
// Only what is deterministic on both sides: shapes, errors, monotonic ticks,
// sleeps that last at least what was asked (never upper bounds on real time).
import { app } from "qcam:app";
import * as T from "qcam:time";
import { between, contract, deepEq, eq, ok, throws } from "./kit.ts";

const FUNCTIONS: Record<string, number> = {
  ticksMs: 0,
  ticksUs: 0,
  monotonicMs: 0,
  time: 0,
  timeMs: 0,
  sleep: 1,
  sleepMs: 1,
  sleepUs: 1,
  fps: 0,
};

const INVALID = { name: "TypeError", code: "ERR_INVALID_ARG", message: "sleep needs a duration" };
const OUT_OF_RANGE = { name: "RangeError", code: "ERR_INVALID_ARG", message: "sleep duration must be a finite number >= 0" };

type Sleep = (v?: unknown) => void;
const sleeps: [string, Sleep, number][] = [
  ["sleep", T.sleep as Sleep, 1e6],
  ["sleepMs", T.sleepMs as Sleep, 1e3],
  ["sleepUs", T.sleepUs as Sleep, 1],
];

export default contract("qcam:time", (t) => {
  t.test("exports the clock and sleep functions, with their names and lengths", () => {
    deepEq(Object.keys(T).sort(), Object.keys(FUNCTIONS).sort(), "exports");
    for (const [name, length] of Object.entries(FUNCTIONS)) {
      const fn = (T as Record<string, unknown>)[name] as (...a: unknown[]) => unknown;
      eq(typeof fn, "function", name);
      eq(fn.name, name, `${name}.name`);
      eq(fn.length, length, `${name}.length`);
    }
  });

  t.test("ticksMs, ticksUs and timeMs are integers; monotonicMs and time are finite numbers", () => {
    ok(Number.isInteger(T.ticksMs()), "ticksMs");
    ok(Number.isInteger(T.ticksUs()), "ticksUs");
    ok(Number.isInteger(T.timeMs()), "timeMs");
    ok(Number.isFinite(T.monotonicMs()), "monotonicMs");
    ok(Number.isFinite(T.time()), "time");
    ok(T.ticksUs() >= 0, "ticks are counted from the start");
  });

  t.test("ticks never go backwards", () => {
    let us = T.ticksUs();
    let ms = T.ticksMs();
    for (let i = 0; i < 2000; i++) {
      const u = T.ticksUs();
      const m = T.ticksMs();
      ok(u >= us, `ticksUs went from ${us} to ${u}`);
      ok(m >= ms, `ticksMs went from ${ms} to ${m}`);
      us = u;
      ms = m;
      if (i % 500 === 0) T.sleepUs(100);
    }
  });

  t.test("ticksMs is ticksUs / 1000, rounded down", () => {
    const a = T.ticksUs();
    const m = T.ticksMs();
    const b = T.ticksUs();
    between(m, Math.floor(a / 1000), Math.floor(b / 1000), "ticksMs between two ticksUs readings");
  });

  t.test("monotonicMs runs with ticks (same clock, fixed offset)", () => {
    // A monotonicMs reading taken between two ticksUs readings brackets the
    // offset, however long the scheduler kept us between them; the same
    // clock with a fixed offset gives brackets that overlap (to within the
    // microsecond both clocks count in).
    const bracket = () => {
      const a = T.ticksUs();
      const m = T.monotonicMs() * 1000;
      const b = T.ticksUs();
      return [m - b, m - a];
    };
    const [lo1, hi1] = bracket();
    T.sleepMs(5);
    const [lo2, hi2] = bracket();
    ok(lo1 >= 0, "the monotonic clock is ahead of ticks");
    ok(lo2 <= hi1 + 1 && lo1 <= hi2 + 1, `offset between ${lo1} and ${hi1} µs, then between ${lo2} and ${hi2} µs`);
  });

  t.test("time() and timeMs() tell the same wall-clock time, after 2020", () => {
    const s = T.time();
    const ms = T.timeMs();
    const s2 = T.time();
    ok(s > 1_577_836_800, "time() is seconds since the epoch");
    between(ms, Math.floor(s * 1000) - 1, Math.ceil(s2 * 1000) + 1, "timeMs between two time() readings");
  });

  for (const [name, fn, usPerUnit] of sleeps) {
    t.test(`${name}() lasts at least what was asked`, () => {
      const units = 15_000 / usPerUnit; // 15 ms
      const a = T.ticksUs();
      fn(units);
      const b = T.ticksUs();
      ok(b - a >= 15_000, `${name}(${units}) advanced ticks by ${b - a} µs`);
    });

    t.test(`${name}() rejects a missing, negative or non-finite duration`, () => {
      throws(() => fn(), INVALID, `${name}()`);
      for (const bad of [-1, -0.001, NaN, Infinity, -Infinity, undefined, "abc", {}]) throws(() => fn(bad), OUT_OF_RANGE, `${name}(${String(bad)})`);
    });
  }

  t.test("sleeps take anything that converts to a number", () => {
    const a = T.ticksUs();
    T.sleepMs("2" as unknown as number);
    T.sleepMs(null as unknown as number);
    T.sleepMs(false as unknown as number);
    T.sleepMs({ valueOf: () => 1 } as unknown as number);
    T.sleepUs(0);
    T.sleep(0);
    ok(T.ticksUs() - a >= 3000, "sleepMs('2') + sleepMs({valueOf: 1}) >= 3 ms");
  });

  t.test("a duration that cannot convert throws what the conversion throws", () => {
    throws(() => T.sleepMs(Symbol("x") as unknown as number), { name: "TypeError", code: undefined }, "symbol");
    throws(() => T.sleepMs(1n as unknown as number), { name: "TypeError", code: undefined }, "BigInt");
    const boom = new Error("boom");
    const got = throws(() => T.sleepMs({ valueOf: () => { throw boom; } } as unknown as number), { message: "boom" });
    eq(got, boom, "the valueOf error itself");
  });

  t.test("sub-unit durations are truncated to whole microseconds", (env) => {
    const a = T.ticksUs();
    T.sleepUs(0.9); // 0 µs: returns at once
    T.sleep(0.0000005); // 0.5 µs: 0
    T.sleepMs(1.5); // 1500 µs
    const slept = T.ticksUs() - a;
    ok(slept >= 1500, "sleepMs(1.5) >= 1500 µs");
    // Only the stub's clock (the world's) moves by exactly what was slept, so
    // only there can the truncation itself be seen: 0 + 0 + 1500 µs, not 1502.
    // On the runtime the real clock allows a lower bound only.
    if (env.side === "stub") eq(slept, 1500, "sleepUs(0.9) + sleep(0.0000005) + sleepMs(1.5) on the world's clock");
  });

  t.test("setExitFlag(true) does not cut a sleep short (only a signal does)", () => {
    app.setExitFlag(true);
    try {
      const a = T.ticksUs();
      T.sleepMs(10);
      ok(T.ticksUs() - a >= 10_000, "slept the whole 10 ms");
    } finally {
      app.setExitFlag(false);
    }
  });

  t.test("sleeping does not run timers or promise jobs; needExit() does", () => {
    let fired = false;
    let job = false;
    setTimeout(() => (fired = true), 1);
    void Promise.resolve().then(() => (job = true));
    T.sleepMs(5);
    eq(fired, false, "timer fired during sleepMs");
    eq(job, false, "promise job ran during sleepMs");
    app.needExit();
    eq(job, true, "promise job after needExit()");
    eq(fired, true, "due timer after needExit()");
  });

  t.test("fps() is 0 at first, then the rate of the calls", () => {
    // The interval between the two calls lies between the tick readings around them.
    const a0 = T.ticksUs();
    eq(T.fps(), 0, "first call");
    const a1 = T.ticksUs();
    T.sleepMs(20);
    const b0 = T.ticksUs();
    const f = T.fps();
    const b1 = T.ticksUs();
    between(f, 1e6 / (b1 - a0), 1e6 / Math.max(b0 - a1, 1), `fps after ${b0 - a1}..${b1 - a0} µs`);
    ok(f <= 50, "a 20 ms sleep between the calls: at most 50 a second");
  });
});
