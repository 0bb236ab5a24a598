// qcam:input for tests on a PC. Mirrors mod_input.c: the same options,
// checks and messages; events reach onKey/onTouch (or the poll() queue of 64)
// at the loop's next turn, and a long press of ok that the app does not take
// sets the exit flag (as does one with a Display open and no Input open). Tests press keys and touch the screen through the
// world: world.exposed("input.key")("ok", "press"), world.exposed("input.touch")("down", x, y).
import type * as Api from "qcam:input";
import type * as Self from "./input.stub.ts";
import { conforms, checkKeys, describeValue, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";

conforms<typeof Api, typeof Self>(true);

const KEYS: readonly Api.Key[] = ["ok", "option", "next", "prev", "left", "right"];
const QUEUE_MAX = 64;

interface State {
  onKey?: (e: Api.KeyEvent) => boolean | void;
  onTouch?: (e: Api.TouchEvent) => void;
  exitOnLongOk: boolean;
  pressed: Set<Api.Key>;
  touch: { x: number; y: number; down: boolean };
  queue: Api.InputEvent[];
  dropped: number;
  handle: Handle;
}
const states = new WeakMap<object, State | null>();
const open = () => world.part("input", () => ({ listeners: new Set<State>() }));

function deliver(s: State, e: Api.InputEvent): void {
  if (!open().listeners.has(s)) return;
  let taken = false;
  if (e.type === "key") {
    if (e.action !== "longpress") e.action === "press" ? s.pressed.add(e.key) : s.pressed.delete(e.key);
  } else s.touch = { x: e.x, y: e.y, down: e.action !== "up" };
  const fn = e.type === "key" ? s.onKey : s.onTouch;
  if (fn) taken = (fn as (e: Api.InputEvent) => unknown)({ ...e }) === true;
  else {
    if (s.queue.length === QUEUE_MAX) {
      s.queue.shift();
      s.dropped++;
    }
    s.queue.push(e);
  }
  if (e.type === "key" && e.key === "ok" && e.action === "longpress" && !taken && s.exitOnLongOk && open().listeners.has(s)) world.exitFlag = true;
}

function inject(e: Api.InputEvent): void {
  for (const s of open().listeners) world.post(() => deliver(s, e));
  // the runtime's default (mod_display.c): with a Display open and no Input, a long ok exits
  if (e.type === "key" && e.key === "ok" && e.action === "longpress" && world.part("display", () => ({ open: false })).open)
    world.post(() => {
      if (open().listeners.size === 0) world.exitFlag = true;
    });
}
world.expose("input.key", (key: Api.Key, action: Api.KeyEvent["action"]) => inject({ type: "key", key, action, timestampUs: world.monotonicUs() }));
world.expose("input.touch", (action: Api.TouchEvent["action"], x: number, y: number) => inject({ type: "touch", action, x, y, id: 0, timestampUs: world.monotonicUs() }));

function stateOf(self: unknown): State {
  if ((typeof self !== "object" && typeof self !== "function") || self === null || !states.has(self))
    throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Input");
  const s = states.get(self);
  if (!s) throwQcam("TypeError", "ERR_CLOSED", "Input is closed");
  return s;
}

export class Input {
  constructor(options?: Api.InputOptions) {
    if (new.target === undefined) throwQcam("TypeError", "ERR_CONSTRUCT_CALL_REQUIRED", "Input must be called with new");
    let o: Record<string, unknown> = {};
    if (options !== undefined) {
      if (typeof options !== "object" || options === null || Array.isArray(options)) throwQcam("TypeError", "ERR_INVALID_ARG", "Input options must be an object");
      checkKeys(options, "Input", ["onKey", "onTouch", "exitOnLongOk"]);
      o = options as Record<string, unknown>;
    }
    for (const name of ["onKey", "onTouch"])
      if (o[name] !== undefined && typeof o[name] !== "function")
        throwQcam("TypeError", "ERR_INVALID_ARG", `Input ${name} must be a function, not ${describeValue(o[name])}`);
    if (o.exitOnLongOk !== undefined && typeof o.exitOnLongOk !== "boolean")
      throwQcam("TypeError", "ERR_INVALID_ARG", "Input exitOnLongOk must be a boolean");
    const s: State = {
      onKey: o.onKey as State["onKey"], onTouch: o.onTouch as State["onTouch"], exitOnLongOk: o.exitOnLongOk !== false,
      pressed: new Set(), touch: { x: 0, y: 0, down: false }, queue: [], dropped: 0, handle: world.track("Input", this),
    };
    open().listeners.add(s);
    states.set(this, s);
  }
  poll(): Api.InputEvent[] {
    const s = stateOf(this);
    const q = s.queue;
    s.queue = [];
    return q;
  }
  isPressed(key: Api.Key): boolean {
    const s = stateOf(this);
    if (!KEYS.includes(key))
      throwQcam(typeof key === "string" ? "RangeError" : "TypeError", "ERR_INVALID_ARG",
        `isPressed key must be one of "ok", "option", "next", "prev", "left", "right", not ${describeValue(key)}`);
    return s.pressed.has(key);
  }
  touch(): { x: number; y: number; down: boolean } {
    return { ...stateOf(this).touch };
  }
  get dropped(): number {
    return stateOf(this).dropped;
  }
  close(): void {
    if ((typeof this !== "object" && typeof this !== "function") || this === null || !states.has(this))
      throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Input");
    const s = states.get(this);
    states.set(this, null);
    if (!s) return;
    open().listeners.delete(s);
    s.handle.release();
  }
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(Input.prototype, Symbol.dispose, { value: Input.prototype.close, writable: true, configurable: true });
Object.defineProperty(Input.prototype, Symbol.toStringTag, { value: "Input", configurable: true });
