// What a module namespace holds at run time: its exports, their kinds, the
// members of objects and of classes' prototypes, property flags, function
// lengths. Engine-neutral (no Node APIs): the same code reflects a C module
// inside the real runtime (test/contract/surface-probe.ts) and a stub in Node,
// and build/testing/surface.ts compares both with the .d.ts.

export interface MemberInfo {
  /** method: a function-valued data property; accessor: get/set; value: any other data property. */
  kind: "method" | "accessor" | "value";
  enumerable: boolean;
  length?: number;
  get?: boolean;
  set?: boolean;
  writable?: boolean;
  /** value: typeof, or "array", "null". */
  type?: string;
  /** value that is a plain object: its members (one level). */
  members?: Record<string, MemberInfo>;
}

export interface ExportInfo {
  kind: "function" | "object" | "value";
  length?: number;
  name?: string;
  /** function: the members of its prototype chain (a class), without "constructor". */
  proto?: Record<string, MemberInfo>;
  /** function: its own properties but length, name, prototype (static members). */
  statics?: Record<string, MemberInfo>;
  /** object: its own properties. */
  members?: Record<string, MemberInfo>;
  /** value: typeof. */
  type?: string;
  /** What `new X()` did, for the exports asked to be constructed. */
  construct?: { threw: boolean; name?: string; code?: string; message?: string };
}

export interface ModuleInfo {
  module: string;
  exports?: Record<string, ExportInfo>;
  /** The import failed. */
  error?: { name: string; code?: string; message: string };
}

export const SURFACE_MARK = "@@qcam-surface ";

const WELL_KNOWN: [symbol, string][] = [];
for (const name of Object.getOwnPropertyNames(Symbol)) {
  const v = (Symbol as unknown as Record<string, unknown>)[name];
  if (typeof v === "symbol") WELL_KNOWN.push([v, `[Symbol.${name}]`]);
}

/** A property key as the .d.ts writes it: "name" or "[Symbol.dispose]". */
export function keyName(key: string | symbol): string {
  if (typeof key === "string") return key;
  const wk = WELL_KNOWN.find(([s]) => s === key);
  return wk ? wk[1] : `[${String(key)}]`;
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function isPlainObject(v: unknown): v is object {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function member(d: PropertyDescriptor, depth: number): MemberInfo {
  if (d.get || d.set) return { kind: "accessor", enumerable: !!d.enumerable, get: !!d.get, set: !!d.set };
  if (typeof d.value === "function") return { kind: "method", enumerable: !!d.enumerable, writable: !!d.writable, length: d.value.length };
  const info: MemberInfo = { kind: "value", enumerable: !!d.enumerable, writable: !!d.writable, type: typeOf(d.value) };
  if (depth > 0 && isPlainObject(d.value)) info.members = members(d.value, [], depth - 1);
  return info;
}

function members(obj: object, skip: string[], depth: number): Record<string, MemberInfo> {
  const out: Record<string, MemberInfo> = {};
  for (const key of Reflect.ownKeys(obj)) {
    const name = keyName(key);
    if (skip.includes(name) || name in out) continue;
    out[name] = member(Object.getOwnPropertyDescriptor(obj, key)!, depth);
  }
  return out;
}

function protoChain(fn: Function): Record<string, MemberInfo> {
  const out: Record<string, MemberInfo> = {};
  let p: unknown = (fn as { prototype?: unknown }).prototype;
  while (p !== null && typeof p === "object" && p !== Object.prototype) {
    for (const [k, v] of Object.entries(members(p, ["constructor"], 0))) if (!(k in out)) out[k] = v;
    p = Object.getPrototypeOf(p);
  }
  return out;
}

/** Reflect a module namespace. `construct`: exports to try `new X()` on (classes whose constructor is private). */
export function reflectModule(module: string, ns: object, construct: readonly string[] = []): ModuleInfo {
  const exports: Record<string, ExportInfo> = {};
  for (const name of Object.keys(ns).sort()) {
    const v = (ns as Record<string, unknown>)[name];
    let info: ExportInfo;
    if (typeof v === "function") {
      info = { kind: "function", length: v.length, name: v.name, proto: protoChain(v), statics: members(v, ["length", "name", "prototype"], 0) };
      if (construct.includes(name)) {
        try {
          new (v as new () => unknown)();
          info.construct = { threw: false };
        } catch (e) {
          const err = e as { name?: unknown; code?: unknown; message?: unknown };
          info.construct = { threw: true, name: String(err?.name), code: err?.code === undefined ? undefined : String(err.code), message: String(err?.message) };
        }
      }
    } else if (typeof v === "object" && v !== null) info = { kind: "object", members: members(v, [], 1) };
    else info = { kind: "value", type: typeOf(v) };
    exports[name] = info;
  }
  return { module, exports };
}

export function importError(module: string, e: unknown): ModuleInfo {
  const err = e as { name?: unknown; code?: unknown; message?: unknown };
  return { module, error: { name: String(err?.name), code: err?.code === undefined ? undefined : String(err.code), message: String(err?.message ?? e) } };
}
