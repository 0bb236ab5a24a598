// qcam:app's contract, with the loop the runtime runs inside needExit():
// timers and promise jobs. What the C module does and its stub must do too.
import { app, time } from "qcam:app";
import { CONTRACT_ARGS, CONTRACT_MANIFEST, contract, deepEq, descriptor, eq, ok, throws } from "./kit.ts";

const METHODS: Record<string, number> = {
  needExit: 0,
  setExitFlag: 1,
  setExitMessage: 2,
  markGood: 0,
  exitReason: 0,
  setReloadState: 1,
  reloadState: 0,
  sdcardPath: 0,
  dataPath: 0,
  videoPath: 0,
  picturePath: 0,
  tmpPath: 0,
  setLogLevel: 1,
  logLevel: 0,
};
const VALUES = ["args", "startParam", "id", "name", "version", "platform"];
const TIME_FUNCTIONS: Record<string, number> = { ticksMs: 0, ticksUs: 0, monotonicMs: 0, time: 0, timeMs: 0, sleep: 1, sleepMs: 1, sleepUs: 1, fps: 0 };

const NEEDS_BOOLEAN = { name: "TypeError", code: "ERR_INVALID_ARG", message: "setExitFlag needs a boolean" };
const EXIT_MESSAGE_ARGS = { name: "TypeError", code: "ERR_INVALID_ARG", message: "setExitMessage(code: number, message: string)" };
const EXIT_CODE_RANGE = { name: "RangeError", code: "ERR_INVALID_ARG", message: "exit code must be 0..255" };
const LOG_LEVEL = { name: "TypeError", code: "ERR_INVALID_ARG", message: "log level must be one of debug, info, warn, error, silent" };
const CALLBACK = { name: "TypeError", code: "ERR_INVALID_ARG", message: "callback must be a function" };

type AnyFn = (...args: unknown[]) => unknown;
/** Run `fn`; whether it took less than `ms` on the tick clock. A "not due
 * yet" check holds only then: a machine that stalls longer (qemu, a busy CI
 * host) makes the timer due, which is no failure of the module. */
const within = (ms: number, fn: () => void): boolean => {
  const a = time.ticksUs();
  fn();
  return time.ticksUs() - a < ms * 1000;
};

const call = (name: string, ...args: unknown[]) => () => ((app as unknown as Record<string, AnyFn>)[name] as AnyFn)(...args);

export default contract("qcam:app", (t) => {
  // ------------------------------------------------------------ shape

  t.test("app: methods are not enumerable; the start values are enumerable and read-only", () => {
    deepEq(Object.keys(app), VALUES, "Object.keys(app)");
    deepEq(Object.getOwnPropertyNames(app), [...Object.keys(METHODS), ...VALUES], "own property names, in order");
    for (const [name, length] of Object.entries(METHODS)) {
      eq(descriptor(app, name), "method writable configurable", name);
      const fn = (app as unknown as Record<string, AnyFn>)[name];
      eq(fn.name, name, `${name}.name`);
      eq(fn.length, length, `${name}.length`);
    }
    for (const name of VALUES) eq(descriptor(app, name), "value enumerable", name);
  });

  t.test("assigning a start value throws and changes nothing", () => {
    const before = app.id;
    const args = app.args;
    throws(() => ((app as unknown as Record<string, unknown>).id = "x"), { name: "TypeError" });
    throws(() => ((app as unknown as Record<string, unknown>).args = ["x"]), { name: "TypeError" });
    eq(app.id, before);
    eq(app.args, args, "the same args array as before the assignment");
    deepEq(app.args, CONTRACT_ARGS, "and the same start parameters in it");
  });

  t.test("args are the start parameters; startParam joins them with spaces", () => {
    deepEq(app.args, CONTRACT_ARGS);
    ok(Array.isArray(app.args), "args is an array");
    eq(app.startParam, CONTRACT_ARGS.join(" "));
  });

  t.test("id, name and version come from the manifest; platform is sim", () => {
    eq(app.id, CONTRACT_MANIFEST.id);
    eq(app.name, CONTRACT_MANIFEST.name);
    eq(app.version, CONTRACT_MANIFEST.version);
    eq(app.platform, "sim");
  });

  t.test("JSON.stringify(app) shows the start values", () => {
    eq(
      JSON.stringify(app),
      JSON.stringify({ args: CONTRACT_ARGS, startParam: CONTRACT_ARGS.join(" "), ...CONTRACT_MANIFEST, platform: "sim" }),
    );
  });

  t.test("time: qcam:time's functions as one object, not enumerable", () => {
    deepEq(Object.keys(time), [], "Object.keys(time)");
    deepEq(Object.getOwnPropertyNames(time), Object.keys(TIME_FUNCTIONS), "own property names, in order");
    for (const [name, length] of Object.entries(TIME_FUNCTIONS)) {
      eq(descriptor(time, name), "method writable configurable", name);
      eq(((time as unknown as Record<string, AnyFn>)[name] as AnyFn).length, length, `${name}.length`);
    }
  });

  // ------------------------------------------------------------ paths

  t.test("board paths", () => {
    eq(app.sdcardPath(), "/sdcard");
    eq(app.dataPath(), `/sdcard/apps/${CONTRACT_MANIFEST.id}/data`);
    eq(app.videoPath(), "/sdcard/video");
    eq(app.picturePath(), "/sdcard/picture");
    eq(app.tmpPath(), `/tmp/qcam/${CONTRACT_MANIFEST.id}`);
    eq(app.dataPath(), app.dataPath(), "asking twice");
  });

  // ------------------------------------------------------------ log level

  t.test("log level: starts at info, takes the five levels", () => {
    eq(app.logLevel(), "info");
    try {
      for (const level of ["debug", "info", "warn", "error", "silent"] as const) {
        app.setLogLevel(level);
        eq(app.logLevel(), level);
      }
    } finally {
      app.setLogLevel("info");
    }
  });

  t.test("setLogLevel rejects anything else", () => {
    for (const bad of [[], ["loud"], ["DEBUG"], [""], [1], [null], [undefined]]) throws(call("setLogLevel", ...bad), LOG_LEVEL, `setLogLevel(${bad.map(String).join()})`);
    eq(app.logLevel(), "info", "unchanged");
  });

  // ------------------------------------------------------------ exit

  t.test("markGood() outside a trial boot has nothing to mark: false, every time, whatever the arguments", () => {
    eq(app.markGood(), false);
    eq(app.markGood(), false, "asked twice");
    eq(call("markGood", 1, "x")(), false, "extra arguments ignored");
    eq(app.needExit(), false, "and the app runs on");
  });

  t.test("needExit() is false until something asks to exit", () => {
    eq(app.needExit(), false);
    eq(app.needExit(), false);
  });

  t.test("setExitFlag(true) makes needExit() true; setExitFlag(false) takes it back", () => {
    app.setExitFlag(true);
    try {
      eq(app.needExit(), true);
      eq(app.needExit(), true, "and stays true");
    } finally {
      app.setExitFlag(false);
    }
    eq(app.needExit(), false);
  });

  t.test("exitReason(): null while nothing asks the app to stop, \"exit\" after setExitFlag(true)", () => {
    eq(app.exitReason(), null);
    app.setExitFlag(true);
    try {
      eq(app.exitReason(), "exit");
    } finally {
      app.setExitFlag(false);
    }
    eq(app.exitReason(), null, "and null again once taken back");
  });

  t.test("reload state: JSON values are taken (none carried outside the dev link); others are refused", () => {
    eq(app.reloadState(), null, "nothing handed over");
    app.setReloadState({ codec: "h265", segment: 60, tags: ["a", "b"] });
    app.setReloadState("text");
    app.setReloadState(null);
    app.setReloadState(undefined);
    eq(app.reloadState(), null, "this generation's own value is for the next one");
    const NOT_JSON = { name: "TypeError", code: "ERR_INVALID_ARG", message: "reload state must be a JSON value" };
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    throws(call("setReloadState", () => 1), NOT_JSON, "a function");
    throws(call("setReloadState", cyclic), NOT_JSON, "a cycle");
    throws(call("setReloadState", 10n), NOT_JSON, "a BigInt");
    throws(call("setReloadState", "x".repeat(70000)), { name: "RangeError", code: "ERR_TOO_LARGE", message: "reload state is 70002 bytes as JSON; at most 65536" });
    app.setReloadState("x".repeat(65534)); // 65536 bytes with its quotes: just fits
  });

  t.test("setExitFlag needs a boolean", () => {
    for (const bad of [[], [1], [0], ["true"], [null], [undefined], [{}]]) throws(call("setExitFlag", ...bad), NEEDS_BOOLEAN, `setExitFlag(${bad.map(String).join()})`);
    eq(app.needExit(), false, "unchanged");
  });

  t.test("setExitMessage checks its arguments", () => {
    for (const bad of [[], [1], ["1", "x"], [1, 2], [true, "x"], [1n, "x"]]) throws(call("setExitMessage", ...bad), EXIT_MESSAGE_ARGS, `setExitMessage(${bad.map(String).join()})`);
    for (const code of [256, -1, 1000, -2147483648]) throws(call("setExitMessage", code, "x"), EXIT_CODE_RANGE, `setExitMessage(${code})`);
  });

  t.test("setExitMessage takes any number that is 0..255 as an int32", () => {
    // Accepted here, without a throw; the exit status each one gives is
    // checked where it can be seen, at the app's end: lifecycle.test.ts
    // (runtime) and parity.test.ts (runtime and stub alike).
    try {
      for (const code of [0, 3, 255, 255.9, -0.5, NaN, Infinity, 2 ** 32 + 3]) {
        const r = call("setExitMessage", code, "")();
        eq(r, undefined, `setExitMessage(${code}) returns nothing`);
      }
    } finally {
      app.setExitMessage(0, "");
    }
  });

  // ------------------------------------------------------------ the loop: promise jobs

  t.test("needExit() runs the promise jobs queued before it", () => {
    const order: string[] = [];
    void Promise.resolve().then(() => order.push("a")).then(() => order.push("b"));
    queueMicrotask(() => order.push("m"));
    deepEq(order, [], "nothing ran yet");
    app.needExit();
    deepEq(order, ["a", "m", "b"]);
  });

  // ------------------------------------------------------------ the crypto global

  t.test("crypto.getRandomValues: a non-enumerable method of length 1 on a global crypto", () => {
    const g = globalThis as unknown as Record<string, object>;
    eq(typeof g.crypto, "object", "typeof crypto");
    eq(descriptor(g.crypto, "getRandomValues"), "method writable configurable", "getRandomValues");
    eq(crypto.getRandomValues.name, "getRandomValues", "name");
    eq(crypto.getRandomValues.length, 1, "length");
  });

  t.test("crypto.getRandomValues fills the array it is given and returns it; two calls differ", () => {
    const a = new Uint8Array(64);
    eq(crypto.getRandomValues(a), a, "the same array back");
    ok(a.some((b) => b !== 0), "not all zeros (2^-512 of a chance)");
    const b = crypto.getRandomValues(new Uint8Array(64));
    ok(a.some((x, i) => x !== b[i]), "a second call gives other bytes");
    // Every byte value turns up in 64 KiB of them (each one misses with a chance of e^-256).
    const big = crypto.getRandomValues(new Uint8Array(65536));
    eq(new Set(big).size, 256, "byte values seen in 65536 bytes");
  });

  t.test("crypto.getRandomValues fills every integer typed array, only inside the view", () => {
    for (const make of [
      () => new Int8Array(32), () => new Uint8ClampedArray(32), () => new Int16Array(16), () => new Uint16Array(16),
      () => new Int32Array(8), () => new Uint32Array(8), () => new BigInt64Array(4), () => new BigUint64Array(4),
    ]) {
      const x = make();
      eq(crypto.getRandomValues(x), x, x.constructor.name);
      ok(new Uint8Array(x.buffer).some((b) => b !== 0), `${x.constructor.name} filled`);
    }
    const whole = new Uint8Array(48);
    crypto.getRandomValues(whole.subarray(16, 32));
    ok(whole.subarray(0, 16).every((b) => b === 0) && whole.subarray(32).every((b) => b === 0), "the bytes around the view stay 0");
    ok(whole.subarray(16, 32).some((b) => b !== 0), "the view's bytes are filled");
    eq(crypto.getRandomValues(new Uint8Array(0)).length, 0, "an empty array is fine");
  });

  t.test("crypto.getRandomValues on a resizable buffer: a length-tracking view fills what is left of it, a view out of bounds has nothing to fill", () => {
    type Resizable = ArrayBuffer & { resize(n: number): void };
    const rb = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable)(32, { maxByteLength: 64 });
    const fixed = new Uint8Array(rb, 16, 16);
    const tracking = new Uint32Array(rb, 4);
    rb.resize(14);
    eq(crypto.getRandomValues(fixed), fixed, "a view out of bounds: returned, no error");
    eq(crypto.getRandomValues(tracking), tracking, "the tracking view");
    const all = new Uint8Array(rb);
    ok(all.subarray(0, 4).every((b) => b === 0), "before the view: untouched");
    ok(all.subarray(4, 12).some((b) => b !== 0), "the view's two whole elements: filled");
    ok(all.subarray(12).every((b) => b === 0), "the last two bytes (half an element): untouched");
  });

  t.test("crypto.getRandomValues refuses what is not an integer typed array: TypeError ERR_TYPE_MISMATCH", () => {
    const grv = (x: unknown) => (crypto.getRandomValues as unknown as (a: unknown) => unknown).call(crypto, x);
    const MISMATCH = { name: "TypeError", code: "ERR_TYPE_MISMATCH" };
    const f = new Float64Array(4);
    throws(() => grv(f), MISMATCH, "Float64Array");
    ok(f.every((v) => v === 0), "the Float64Array untouched");
    throws(() => grv(new Float32Array(4)), MISMATCH, "Float32Array");
    throws(() => grv(new DataView(new ArrayBuffer(8))), MISMATCH, "DataView");
    throws(() => grv(new ArrayBuffer(8)), MISMATCH, "ArrayBuffer");
    throws(() => grv([1, 2, 3]), MISMATCH, "a plain array");
    throws(() => grv(undefined), MISMATCH, "undefined");
    throws(() => grv("abc"), MISMATCH, "a string");
    throws(() => (crypto.getRandomValues as unknown as () => unknown)(), MISMATCH, "no argument");
  });

  t.test("crypto.getRandomValues: more than 65536 bytes is RangeError ERR_QUOTA_EXCEEDED, the array untouched", () => {
    const QUOTA = { name: "RangeError", code: "ERR_QUOTA_EXCEEDED" };
    const a = new Uint8Array(65537);
    throws(() => crypto.getRandomValues(a), QUOTA, "65537 bytes");
    ok(a.every((b) => b === 0), "untouched");
    throws(() => crypto.getRandomValues(new Uint32Array(16385)), QUOTA, "16385 Uint32 (65540 bytes)");
    eq(crypto.getRandomValues(new Uint32Array(16384)).length, 16384, "16384 Uint32 (65536 bytes) is fine");
  });

  // ------------------------------------------------------------ the loop: timers

  t.test("setTimeout and setInterval: names, lengths, ids", () => {
    eq(setTimeout.length, 2, "setTimeout.length");
    eq(setInterval.length, 2, "setInterval.length");
    eq(clearTimeout.length, 1, "clearTimeout.length");
    const a = setTimeout(() => {}, 1000) as unknown as number; // (type-checked with Node's globals)
    const b = setInterval(() => {}, 1000) as unknown as number;
    ok(Number.isInteger(a) && a > 0, "an integer id");
    eq(b, a + 1, "ids count up across setTimeout and setInterval");
    clearTimeout(a);
    clearInterval(b);
  });

  t.test("a timer never fires before a needExit() turn", () => {
    let fired = false;
    const id = setTimeout(() => (fired = true), 0);
    eq(fired, false, "right after setTimeout");
    time.sleepMs(2);
    eq(fired, false, "after a sleep");
    app.needExit();
    eq(fired, true, "after needExit()");
    clearTimeout(id);
  });

  t.test("a timer that is not due yet waits for a later turn", () => {
    let fired = 0;
    const quick = within(200, () => {
      setTimeout(() => fired++, 200);
      app.needExit();
    });
    if (quick) eq(fired, 0, "not due");
    time.sleepMs(200);
    eq(fired, 0, "due, but no turn yet");
    app.needExit();
    eq(fired, 1, "fired in the turn after it fell due");
    app.needExit();
    eq(fired, 1, "once");
  });

  t.test("due timers fire in due order, then in order of creation", () => {
    const order: string[] = [];
    setTimeout(() => order.push("c30"), 30);
    setTimeout(() => order.push("a0"), 0);
    setTimeout(() => order.push("d10"), 10);
    setTimeout(() => order.push("b0"), 0);
    setTimeout(() => order.push("e10"), 10);
    time.sleepMs(40);
    app.needExit();
    deepEq(order, ["a0", "b0", "d10", "e10", "c30"]);
  });

  t.test("a timer's promise jobs run before the next timer fires", () => {
    const order: string[] = [];
    setTimeout(() => {
      order.push("t1");
      void Promise.resolve().then(() => order.push("job1"));
    }, 0);
    setTimeout(() => order.push("t2"), 0);
    app.needExit();
    deepEq(order, ["t1", "job1", "t2"]);
  });

  t.test("a timer set by a timer waits for the next turn", () => {
    const order: string[] = [];
    setTimeout(() => {
      order.push("outer");
      setTimeout(() => order.push("inner"), 0);
    }, 0);
    app.needExit();
    deepEq(order, ["outer"]);
    app.needExit();
    deepEq(order, ["outer", "inner"]);
  });

  t.test("needExit() inside a timer callback does not run another turn", () => {
    const order: string[] = [];
    setTimeout(() => {
      order.push("outer");
      setTimeout(() => order.push("inner"), 0);
      void Promise.resolve().then(() => order.push("job"));
      eq(app.needExit(), false, "needExit() from a callback");
      order.push("after nested needExit");
    }, 0);
    app.needExit();
    deepEq(order, ["outer", "after nested needExit", "job"]);
    app.needExit();
    deepEq(order, ["outer", "after nested needExit", "job", "inner"]);
  });

  t.test("an interval fires at most once per turn and is cleared by clearInterval", () => {
    let n = 0;
    let id: unknown;
    const quick = within(10, () => {
      id = setInterval(() => n++, 10);
      app.needExit();
    });
    if (quick) eq(n, 0, "not due at once");
    else n = 0; // a turn more than 10 ms after it was set: it was due
    time.sleepMs(35);
    app.needExit();
    eq(n, 1, "once per turn, however late");
    time.sleepMs(10);
    app.needExit();
    eq(n, 2);
    clearInterval(id as number);
    time.sleepMs(15);
    app.needExit();
    eq(n, 2, "cleared");
  });

  t.test("an interval can clear itself from its callback", () => {
    let n = 0;
    const id = setInterval(() => {
      if (++n === 2) clearInterval(id);
    }, 1) as unknown as number;
    for (let i = 0; i < 4; i++) {
      time.sleepMs(2);
      app.needExit();
    }
    eq(n, 2);
  });

  t.test("timer callbacks get the extra arguments", () => {
    let got: unknown[] = [];
    setTimeout((...a: unknown[]) => (got = a), 0, 1, "two", null);
    app.needExit();
    deepEq(got, [1, "two", null]);
  });

  t.test("delays: below 1 ms (or not a number) a timeout is 0 and an interval 1 ms", () => {
    const fired: string[] = [];
    for (const d of [-5, NaN, 0.5, "x", undefined]) setTimeout(() => fired.push(String(d)), d as number);
    app.needExit();
    deepEq(fired, ["-5", "NaN", "0.5", "x", "undefined"]);
    let n = 0;
    let id: unknown;
    const quick = within(1, () => {
      id = setInterval(() => n++, 0);
      app.needExit();
    });
    if (quick) eq(n, 0, "an interval of 0 is 1 ms: not due at once");
    else n = 0; // the turn came more than 1 ms later: it was due
    time.sleepMs(2);
    app.needExit();
    eq(n, 1);
    clearInterval(id as number);
  });

  t.test("clearTimeout ignores what is not a timer id", () => {
    let fired = false;
    setTimeout(() => (fired = true), 0);
    for (const v of [undefined, null, "1", {}, -1, 1e9, NaN]) clearTimeout(v as number);
    app.needExit();
    eq(fired, true);
  });

  t.test("setTimeout and setInterval need a function", () => {
    for (const bad of [[], ["code"], [null], [{}], [1]]) {
      throws(() => (setTimeout as unknown as AnyFn)(...bad), CALLBACK, `setTimeout(${bad.map(String).join()})`);
      throws(() => (setInterval as unknown as AnyFn)(...bad), CALLBACK, `setInterval(${bad.map(String).join()})`);
    }
    throws(() => setTimeout(() => {}, Symbol() as unknown as number), { name: "TypeError", code: undefined }, "a symbol delay");
  });

  t.test("setExitFlag(true) in a timer: the same needExit() returns true", () => {
    setTimeout(() => app.setExitFlag(true), 0);
    try {
      eq(app.needExit(), true);
    } finally {
      app.setExitFlag(false);
    }
    eq(app.needExit(), false);
  });
});
