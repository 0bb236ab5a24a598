// What host-module stubs (host-modules/<mod>/<mod>.stub.ts) are built from:
// the shared world, the C modules' error helpers, and the property shapes the
// C bindings give their objects.
export { world, LOG_LEVELS, type LogLevel, type FaultSpec, type Handle } from "./world.ts";
export { qcamError, throwQcam, errnoError, throwErrno } from "./errors.ts";
import { throwQcam } from "./errors.ts";

/**
 * Compile-time check that a stub module exports exactly what its declaration
 * does, with compatible types:
 *
 *   import type * as Api from "qcam:time";
 *   import type * as Self from "./time.stub.ts";
 *   conforms<typeof Api, typeof Self>(true);
 *
 * A missing or extra export, or an export of the wrong shape, is a type error
 * naming it. Does nothing at run time.
 */
export function conforms<Api, Stub extends Api>(_same: SameKeys<Api, Stub>): void {}

type SameKeys<A, B> = [Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A>] extends [never]
  ? true
  : { missingOrExtraExports: Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A> };

/** Methods as JS_SetPropertyFunctionList defines JS_CFUNC_DEF entries:
 * writable, configurable, not enumerable, in the given order. */
export function defineMethods<T extends object>(obj: T, methods: Record<string, (...args: never[]) => unknown>): T {
  for (const [name, fn] of Object.entries(methods))
    Object.defineProperty(obj, name, { value: fn, writable: true, configurable: true, enumerable: false });
  return obj;
}

/** Values as JS_DefinePropertyValueStr(..., JS_PROP_ENUMERABLE) defines them:
 * enumerable, read-only, not configurable. */
export function defineReadonly<T extends object>(obj: T, values: Record<string, unknown>): T {
  for (const [name, value] of Object.entries(values))
    Object.defineProperty(obj, name, { value, writable: false, configurable: false, enumerable: true });
  return obj;
}

/** ToNumber as JS_ToFloat64 does it: valueOf is called, symbols and BigInts throw a TypeError. */
export function toNumber(v: unknown): number {
  return +(v as number);
}

/** ToInt32 (JS_ToInt32). */
export function toInt32(v: number): number {
  return v | 0;
}

/** printf's %g (6 significant digits), as the C bindings format numbers in messages. */
export function formatG(d: number): string {
  if (Number.isNaN(d)) return "nan";
  if (!Number.isFinite(d)) return d < 0 ? "-inf" : "inf";
  if (d === 0) return Object.is(d, -0) ? "-0" : "0";
  let [mant, e] = d.toExponential(5).split("e"); // the exponent after rounding, as %g takes it
  const x = Number(e);
  const strip = (s: string) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
  if (x < -4 || x >= 6) {
    mant = strip(mant);
    return `${mant}e${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
  }
  return strip(d.toFixed(Math.max(0, 5 - x)));
}

/**
 * Refuse an options object's unknown keys as qcam_opt_keys (runtime/options.c)
 * does: the first own enumerable key not in `known` is a TypeError
 * ERR_INVALID_ARG `unknown <what> option "<key>" (known: a, b, c)`.
 */
export function checkKeys(opts: object, what: string, known: readonly string[]): void {
  for (const key of Object.keys(opts))
    if (!known.includes(key)) throwQcam("TypeError", "ERR_INVALID_ARG", `unknown ${what} option "${key}" (known: ${known.join(", ")})`);
}

/** A value of the wrong type as qcam_opt_describe (runtime/options.c) ends a
 * message (", not <it>"): a string as JSON when that is at most 42 bytes of
 * UTF-8, else "a string"; true, false, null, undefined; a number as %g; "a
 * bigint", "a symbol", "a function", "an array", "an object". */
export function describeValue(v: unknown): string {
  if (typeof v === "string") {
    const json = JSON.stringify(v);
    return new TextEncoder().encode(json).length <= 42 ? json : "a string";
  }
  if (typeof v === "boolean" || v === null || v === undefined) return String(v);
  if (typeof v === "number") return formatG(v);
  if (typeof v === "bigint") return "a bigint";
  if (typeof v === "symbol") return "a symbol";
  if (typeof v === "function") return "a function";
  return Array.isArray(v) ? "an array" : "an object";
}
