// The contract kit: a tiny describe/assert API that runs in both places —
// in Node against the stubs (test/contract/contract.test.ts) and bundled into
// an app image inside the real runtime against the C modules. So: no Node or
// mocha APIs here or in the suites, only the language and qcam:* modules.
//
// A suite (test/contract/<mod>.contract.ts):
//
//   import { contract, eq, throws } from "./kit.ts";
//   import { sleepMs } from "qcam:time";
//   export default contract("qcam:time", (t) => {
//     t.test("sleepMs() without a duration", () => {
//       throws(() => (sleepMs as any)(), { name: "TypeError", code: "ERR_INVALID_ARG", message: "sleep needs a duration" });
//     });
//   });
//
// Cases run in order, synchronously, once per side, sharing one app as a
// process does: a case that changes app state (exit flag, log level, exit
// message, timers) puts it back. A case that needs a resource only one side
// may have (an Image source, an encoder) says so, and is skipped where it is
// missing. A suite may ask for a runtime setup both sides then share (an SD
// card of a given size: the runtime's --sdcard-size, the world's sdcardSizeMb).
import type { Image } from "qcam:image";

/** What a side offers the cases. */
export interface ContractEnv {
  /** "runtime": the C modules in the real runtime; "stub": the stubs in Node. */
  side: "runtime" | "stub";
  /** A fresh 64x48 nv21 Image, when this side has a source for one. */
  image?: () => Image;
  /** This side can encode h264 and h265 (riscv64 under qemu cannot: no libavcodec). */
  encoder?: boolean;
  /** This side can decode h264 and h265. */
  decoder?: boolean;
}

export type Need = "image" | "encoder" | "decoder";

/** What a suite asks of both sides' setup. */
export interface ContractOptions {
  /** The SD card's size in MiB (runtime: --sdcard-size; stub: world.reset({ sdcardSizeMb })). */
  sdcardSizeMb?: number;
}

export interface Case {
  name: string;
  needs: Need[];
  fn: (env: ContractEnv) => void;
}

export interface CaseResult {
  name: string;
  status: "pass" | "fail" | "skip";
  message?: string;
}

export class Contract {
  readonly cases: Case[] = [];
  constructor(
    readonly module: string,
    readonly options: ContractOptions = {},
  ) {}

  test(name: string, fn: (env: ContractEnv) => void, opts: { needs?: Need[] } = {}): void {
    if (this.cases.some((c) => c.name === name)) throw new Error(`contract ${this.module}: two cases named "${name}"`);
    this.cases.push({ name, fn, needs: opts.needs ?? [] });
  }

  /** Run every case, in order (with this copy of the kit). Never throws. */
  run(env: ContractEnv): CaseResult[] {
    return runContract(this, env);
  }
}

export function contract(module: string, define: (t: Contract) => void, options: ContractOptions = {}): Contract {
  const c = new Contract(module, options);
  define(c);
  return c;
}

/** What the shared cases expect from both sides' app setup. */
export const CONTRACT_ARGS: readonly string[] = ["--mode", "two words", ""];
export const CONTRACT_MANIFEST = { id: "contract", name: "qcam contract", version: "1.2.3" } as const;
/** The size of env.image() pictures. */
export const IMAGE_SPEC = { width: 64, height: 48, format: "nv21" } as const;

/** Run every case of a suite, in order. Never throws. */
export function runContract(c: Contract, env: ContractEnv): CaseResult[] {
  const results: CaseResult[] = [];
  for (const k of c.cases) {
    const missing = k.needs.filter((n) => !env[n]);
    if (missing.length) {
      results.push({ name: k.name, status: "skip", message: `needs ${missing.join(", ")}: not available on the ${env.side} side` });
      continue;
    }
    try {
      const r = k.fn(env) as unknown;
      if (r !== undefined && typeof (r as { then?: unknown }).then === "function")
        throw new ContractFailure("contract cases are synchronous (they use needExit() turns, not await)");
      results.push({ name: k.name, status: "pass" });
    } catch (e) {
      results.push({ name: k.name, status: "fail", message: describeError(e) });
    }
  }
  return results;
}

// ------------------------------------------------------------ assertions

export class ContractFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ContractFailure";
  }
}

export function describeError(e: unknown): string {
  if (e instanceof ContractFailure) return e.message;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `unexpected ${e.name}${code !== undefined ? ` [${String(code)}]` : ""}: ${e.message}`;
  }
  return `unexpected throw of ${show(e)}`;
}

export function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" && Object.is(v, -0)) return "-0";
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "symbol" || typeof v === "function" || v === undefined) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function fail(message: string, what?: string): never {
  throw new ContractFailure(what ? `${what}: ${message}` : message);
}

export function ok(cond: unknown, what = "expected a truthy value"): void {
  if (!cond) fail(`got ${show(cond)}`, what);
}

/** Object.is equality. */
export function eq<T>(actual: T, expected: T, what?: string): void {
  if (!Object.is(actual, expected)) fail(`expected ${show(expected)}, got ${show(actual)}`, what);
}

/** Structural equality of arrays, plain objects and primitives. */
export function deepEq(actual: unknown, expected: unknown, what?: string): void {
  if (!same(actual, expected)) fail(`expected ${show(expected)}, got ${show(actual)}`, what);
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function between(v: number, lo: number, hi: number, what?: string): void {
  if (typeof v !== "number" || !(v >= lo && v <= hi)) fail(`expected a number in [${lo}, ${hi}], got ${show(v)}`, what);
}

export interface ErrorShape {
  /** The error's constructor name: "Error", "TypeError", "RangeError". */
  name?: string;
  /** The `code` property; `undefined` to require that there is none. */
  code?: string | undefined;
  message?: string | RegExp;
}

/** fn() must throw an error of this shape; returns it. */
export function throws(fn: () => unknown, shape: ErrorShape, what = "expected a throw"): Error {
  let threw = false;
  let err: unknown;
  try {
    fn();
  } catch (e) {
    threw = true;
    err = e;
  }
  if (!threw) fail("nothing was thrown", what);
  if (!(err instanceof Error)) fail(`threw a non-Error ${show(err)}`, what);
  const e = err as Error & { code?: unknown };
  if (shape.name !== undefined && e.name !== shape.name) fail(`expected a ${shape.name}, got ${e.name}: ${e.message}`, what);
  if ("code" in shape && e.code !== shape.code) fail(`expected code ${show(shape.code)}, got ${show(e.code)} (${e.name}: ${e.message})`, what);
  if (typeof shape.message === "string" && e.message !== shape.message)
    fail(`expected message ${show(shape.message)}, got ${show(e.message)}`, what);
  if (shape.message instanceof RegExp && !shape.message.test(e.message))
    fail(`expected message matching ${String(shape.message)}, got ${show(e.message)}`, what);
  return e;
}

/** Property descriptor flags: which of enumerable / writable / configurable (and get/set presence). */
export function descriptor(obj: object, key: PropertyKey): string {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  if (!d) return "missing";
  const flags: string[] = [];
  if ("value" in d) flags.push(typeof d.value === "function" ? "method" : "value");
  if (d.get) flags.push("get");
  if (d.set) flags.push("set");
  if (d.enumerable) flags.push("enumerable");
  if (d.writable) flags.push("writable");
  if (d.configurable) flags.push("configurable");
  return flags.join(" ");
}
