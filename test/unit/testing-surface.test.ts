// The surface check's comparison (build/testing/surface.ts) finds each kind of
// drift between a declaration and a module: run on hand-made modules here,
// on every real module in test/contract/surface.test.ts.
import assert from "node:assert/strict";
import { reflectModule } from "../../build/testing/reflect.ts";
import { compareSurface, type DeclModule } from "../../build/testing/surface.ts";

const DECL: DeclModule = {
  module: "qcam:demo",
  file: "demo.d.ts",
  types: ["Options"],
  exports: {
    open: { kind: "function", params: [1, 2] },
    Thing: {
      kind: "class",
      privateConstructor: true,
      params: [0, 0],
      members: {
        size: { kind: "property", readonly: true },
        read: { kind: "method", readonly: false, params: [0, 1] },
        close: { kind: "method", readonly: false, params: [0, 0] },
        "[Symbol.dispose]": { kind: "method", readonly: false, params: [0, 0] },
      },
      statics: {},
    },
    demo: {
      kind: "const",
      members: {
        start: { kind: "method", readonly: false, params: [0, 0] },
        name: { kind: "property", readonly: true },
      },
    },
  },
};

/** A module that matches DECL; `change` breaks one thing. */
function makeModule(change: (m: Record<string, unknown>, proto: Record<PropertyKey, unknown>) => void = () => {}) {
  class Thing {
    constructor() {
      throw Object.assign(new TypeError("no"), { code: "ERR_ILLEGAL_CONSTRUCTOR" });
    }
    get size(): number {
      return 1;
    }
    read(_timeout?: number): void {}
    close(): void {}
  }
  const proto = Thing.prototype as unknown as Record<PropertyKey, unknown>;
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
  Object.defineProperty(proto, Symbol.toStringTag, { value: "Thing", configurable: true });
  const demo = {};
  Object.defineProperty(demo, "start", { value: function start() {}, writable: true, configurable: true });
  Object.defineProperty(demo, "name", { value: "x", enumerable: true, configurable: true });
  const m: Record<string, unknown> = { open: function open(_path: string, _flags?: string) {}, Thing, demo };
  change(m, proto);
  return m;
}

const diffs = (change?: Parameters<typeof makeModule>[0]) =>
  compareSurface(DECL, reflectModule("qcam:demo", makeModule(change), ["Thing"]));

describe("testing kit: surface comparison", function () {
  it("a module that matches its declaration: no differences ([Symbol.toStringTag] is allowed)", function () {
    assert.deepEqual(diffs(), []);
  });

  const cases: [string, Parameters<typeof makeModule>[0], RegExp][] = [
    ["a missing export", (m) => delete m.open, /^open: declared, not exported/],
    ["an extra export", (m) => (m.extra = 1), /^extra: exported at run time, not declared/],
    ["a type exported as a value", (m) => (m.Options = {}), /^Options: .*only as a type/],
    ["a function that is an object", (m) => (m.open = {}), /^open: declared as a function, is an object/],
    ["a function's length", (m) => (m.open = function open(_a: unknown, _b: unknown, _c: unknown) {}), /^open: length 3, the declaration has 1\.\.2 parameters/],
    ["a missing method", (_m, p) => delete p.read, /^Thing\.prototype\.read: declared, missing at run time/],
    ["an extra method", (_m, p) => (p.peek = () => 0), /^Thing\.prototype\.peek: at run time, not declared/],
    ["a readonly property with a setter", (_m, p) => Object.defineProperty(p, "size", { get: () => 1, set: () => {} }), /size: declared readonly, has a setter/],
    ["a method that is a getter", (_m, p) => Object.defineProperty(p, "close", { get: () => 1 }), /close: declared as a method, is an accessor/],
    ["a private constructor that constructs", (m) => (m.Thing = class Thing {}), /private constructor, but new Thing\(\) succeeds/],
    ["a missing [Symbol.dispose]", (_m, p) => delete p[Symbol.dispose], /\[Symbol\.dispose\]: declared, missing/],
    ["a writable readonly value", (m) => Object.defineProperty(m.demo as object, "name", { writable: true }), /demo\.name: declared readonly, writable/],
    ["an enumerable extra value on an object", (m) => ((m.demo as Record<string, unknown>).extra = 1), /demo\.extra: at run time, not declared/],
  ];
  for (const [what, change, expected] of cases) {
    it(`finds ${what}`, function () {
      const d = diffs(change);
      assert.ok(d.some((x) => expected.test(x)), `expected ${expected}, got:\n${d.join("\n")}`);
    });
  }

  it("a module that cannot be imported", function () {
    const d = compareSurface(DECL, { module: "qcam:demo", error: { name: "SyntaxError", message: "duplicate exported name 'time'" } });
    assert.deepEqual(d, ["qcam:demo: cannot be imported: SyntaxError: duplicate exported name 'time'"]);
  });
});
