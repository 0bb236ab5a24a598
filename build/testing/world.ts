// The scripted world the host-module stubs run in: a fake clock, the app's
// event loop on that clock, its exit state, start parameters, console output,
// and a place where each module's stub keeps its state and its scripted
// failures. Tests drive it (`world.advance`, `world.requestExit`, `world.at`,
// `world.fault`); stubs read and change it. One world per process: stubs and
// tests share it through `world`.
//
// What it mirrors, from runtime/app.c, runtime/loop.c and the time backend:
//  - needExit() = one turn: promise jobs, host events, promise jobs, the
//    timers due at the start of the turn (each followed by its jobs); a
//    needExit() inside a turn (from a timer callback) does not turn again.
//  - exit is requested by setExitFlag(true), a fatal error (a throwing timer,
//    an unhandled rejection) or a signal; a second SIGINT exits at once (130).
//  - sleeping moves the clock; only a signal cuts a sleep short, and only
//    when exit is requested by then.
//  - timers: setTimeout/setInterval with the C argument rules, ordered by due
//    time then creation, intervals at least 1 ms, ids counting from 1.
import nodeCrypto from "node:crypto";
import util from "node:util";
import { qcamError } from "./errors.ts";
import { makePromiseClass } from "./promise.ts";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];
export type Signal = "SIGINT" | "SIGTERM";

export interface Manifest {
  id: string;
  name: string;
  version: string;
}

export interface WorldOptions {
  /** Start parameters (`app.args`). */
  args?: readonly string[];
  /** app.json fields (`app.id`, `app.name`, `app.version`). */
  manifest?: Partial<Manifest>;
  /** The runtime's --log-level (default "info"). */
  logLevel?: LogLevel;
  /** `app.platform` (default "sim"). */
  platform?: string;
  /** Wall clock at tick 0, ms since the epoch (default 2026-01-01T00:00:00Z). */
  wallClockMs?: number;
  /** The monotonic clock at tick 0, ms (default one hour of uptime). */
  uptimeMs?: number;
  /** Also copy the app's console output to this process (default: $QCAM_TEST_ECHO set). */
  echo?: boolean;
  /** Guards against an app that never stops: more needExit() turns or more
   * virtual time than this throws WorldLimitError. */
  limits?: Partial<WorldLimits>;
  /** The runtime's --sdcard-size: the SD card's size in MiB (qcam:fs, EsFileSink).
   * Default 32768 (a 32 GiB card). */
  sdcardSizeMb?: number;
  /** The runtime's --board: the panel qcam:display opens ("maixcam" 552x368 touch,
   * "maixcam-pro" 640x480 touch, "k230-lcd" 800x480 touch, "k230-hdmi" 1280x720). Default "maixcam". */
  board?: string;
  /** Seed crypto.getRandomValues: the same seed gives the same bytes (a test that
   * needs to know a password). Without it (the default) the bytes are Node's
   * secure random ones, different every run, as on a board. */
  randomSeed?: number;
}

export interface WorldLimits {
  turns: number;
  virtualMs: number;
}

const DEFAULT_LIMITS: WorldLimits = { turns: 1_000_000, virtualMs: 7 * 24 * 3600 * 1000 };
const DEFAULT_WALL_MS = Date.UTC(2026, 0, 1);
const DEFAULT_UPTIME_MS = 3_600_000;
const DEFAULT_MANIFEST: Manifest = { id: "app", name: "app", version: "0.0.0" };
const DEFAULT_SDCARD_MB = 32768;

/** A second SIGINT: the real runtime `_exit(130)`s from the signal handler. It
 * is thrown out of the stub call the app is in (sleep, needExit) and runApp
 * turns it into exit status 130. */
class HardExitError extends Error {
  readonly status = 130;
  constructor() {
    super("second SIGINT: the runtime exits at once with status 130");
    this.name = "HardExit";
  }
}

/** The app ran longer than the world's limits: it would never have stopped
 * without a scripted exit. Not an app error: runApp rethrows it. */
class WorldLimit extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorldLimitError";
  }
}

interface Timer {
  id: number;
  dueUs: number;
  intervalUs: number; // < 0: one-shot
  fn: (...args: unknown[]) => unknown;
  args: unknown[];
}

interface ScriptedEvent {
  atUs: number;
  seq: number;
  action: () => void;
}

/** A scripted failure, consumed by a stub: see World.fault. */
export interface FaultSpec {
  /** Calls that still succeed before the fault fires (default 0). */
  after?: number;
  /** Calls that fail once it fires (default 1; Infinity: every call from then on). */
  times?: number;
  /** Error code the stub throws (an errno name like ENOSPC, or ERR_...). */
  code?: string;
  message?: string;
  [key: string]: unknown;
}

interface ArmedFault {
  spec: FaultSpec;
  seen: number;
  fired: number;
}

/** A native resource an app holds (qcam_resource): stubs track their handles
 * here so tests can see what an app left open. */
export interface Handle {
  readonly kind: string;
  readonly object: object;
  /** A handle that keeps the app's loop alive after its script ends (a running link, a server). */
  keepAlive: boolean;
  release(): void;
}

type Stream = "stdout" | "stderr";

const SHARED_KEY = Symbol.for("qcam.testing.shared");

class QcamWorld {
  // ---- clock (integer microseconds since tick 0) ----
  #nowUs = 0;
  #wallStartUs = DEFAULT_WALL_MS * 1000;
  #bootUs = DEFAULT_UPTIME_MS * 1000;

  // ---- loop ----
  #timers: Timer[] = [];
  #nextTimerId = 0;
  #firing: Timer | null = null;
  #firingCleared = false;
  #inTurn = false;
  #posted: Array<() => void> = [];
  #jobs: Array<() => void> = [];
  #unhandled = new Map<object, unknown>();
  #events: ScriptedEvent[] = [];
  #eventSeq = 0;
  #turnActions = new Map<number, Array<() => void>>();
  /** needExit() calls (turns) since the last reset. */
  turns = 0;

  // ---- exit state ----
  /** app.setExitFlag(). */
  exitFlag = false;
  /** A fatal error happened: an uncaught exception in a timer or event, an unhandled rejection, world.fail(). */
  fatal = false;
  /** Signals received (SIGINT, SIGTERM), not counting a second SIGINT. */
  signals = 0;
  #sigints = 0;
  /** A second SIGINT arrived: the process would be gone. */
  hardExit = false;
  /** app.setExitMessage(): the exit status and the message printed when the app ends. */
  exitCode = 0;
  exitMessage = "";
  /** Every error reported as uncaught (timers, host events, rejections). */
  uncaught: unknown[] = [];

  // ---- the app ----
  args: readonly string[] = [];
  manifest: Manifest = { ...DEFAULT_MANIFEST };
  platform = "sim";
  logLevel: LogLevel = "info";

  // ---- output ----
  stdout = "";
  stderr = "";
  echo = false;

  limits: WorldLimits = { ...DEFAULT_LIMITS };
  /** The SD card's size in MiB (the runtime's --sdcard-size); the qcam:fs stub
   * reads it at every write, so a test may change it at any time. */
  sdcardSizeMb = DEFAULT_SDCARD_MB;
  /** The runtime's --board (the qcam:display stub reads it when a Display opens). */
  board = "maixcam";

  #parts = new Map<string, unknown>();
  #faults = new Map<string, ArmedFault[]>();
  #handles = new Set<Handle>();
  #setupListeners = new Set<() => void>();
  #exposed = new Map<string, unknown>();
  #saved: Map<string, PropertyDescriptor | undefined> | null = null;
  /** The seeded generator behind crypto.getRandomValues, or null: Node's secure one. */
  #rng: (() => number) | null = null;

  constructor() {
    this.reset();
  }

  // =========================================================== setup

  /** A fresh world: tick 0, no timers, no exit request, empty output, default
   * app setup, every module's state and scripted failures dropped. The
   * installed globals stay installed. */
  reset(opts: WorldOptions = {}): this {
    this.#nowUs = 0;
    this.#wallStartUs = Math.round((opts.wallClockMs ?? DEFAULT_WALL_MS) * 1000);
    this.#bootUs = Math.round((opts.uptimeMs ?? DEFAULT_UPTIME_MS) * 1000);
    this.#timers = [];
    this.#nextTimerId = 0;
    this.#firing = null;
    this.#firingCleared = false;
    this.#inTurn = false;
    this.#posted = [];
    this.#jobs = [];
    this.#unhandled.clear();
    this.#events = [];
    this.#turnActions.clear();
    this.turns = 0;
    this.exitFlag = false;
    this.fatal = false;
    this.signals = 0;
    this.#sigints = 0;
    this.hardExit = false;
    this.exitCode = 0;
    this.exitMessage = "";
    this.uncaught = [];
    this.args = [...(opts.args ?? [])];
    this.manifest = { ...DEFAULT_MANIFEST, ...opts.manifest };
    this.platform = opts.platform ?? "sim";
    this.logLevel = opts.logLevel ?? "info";
    this.stdout = "";
    this.stderr = "";
    this.echo = opts.echo ?? Boolean(process.env.QCAM_TEST_ECHO);
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.sdcardSizeMb = opts.sdcardSizeMb ?? DEFAULT_SDCARD_MB;
    this.board = opts.board ?? "maixcam";
    this.seedRandom(opts.randomSeed ?? null);
    this.#parts.clear();
    this.#faults.clear();
    this.#handles.clear();
    this.#notifySetup();
    return this;
  }

  /** crypto.getRandomValues from now on: a seed makes its bytes repeatable
   * (mulberry32: for tests, not secure); null goes back to Node's secure source. */
  seedRandom(seed: number | null): this {
    if (seed === null) {
      this.#rng = null;
      return this;
    }
    let a = seed >>> 0;
    this.#rng = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    };
    return this;
  }

  #randomFill(view: ArrayBufferView): void {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    if (!this.#rng) {
      nodeCrypto.randomFillSync(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i += 4) {
      const r = this.#rng();
      for (let j = 0; j < 4 && i + j < bytes.length; j++) bytes[i + j] = (r >>> (8 * j)) & 0xff;
    }
  }

  /** Start parameters, as after `--` on the runtime's command line. */
  setArgs(args: readonly string[]): this {
    this.args = [...args];
    this.#notifySetup();
    return this;
  }

  /** The image manifest (app.json): id, name, version. */
  setManifest(m: Partial<Manifest>): this {
    this.manifest = { ...this.manifest, ...m };
    this.#notifySetup();
    return this;
  }

  /** Stubs: called after reset(), setArgs() and setManifest(), so a module
   * object built from the app's setup (qcam:app's `app`) is built again. */
  onSetup(listener: () => void): () => void {
    this.#setupListeners.add(listener);
    return () => this.#setupListeners.delete(listener);
  }

  #notifySetup(): void {
    for (const l of [...this.#setupListeners]) l();
  }

  // =========================================================== clock

  /** Virtual ticks (what time.ticksUs() says). */
  ticksUs(): number {
    return this.#nowUs;
  }
  /** Virtual ticks in ms, fractional. */
  now(): number {
    return this.#nowUs / 1000;
  }
  /** The monotonic clock (CLOCK_MONOTONIC): uptime at tick 0 plus ticks. */
  monotonicUs(): number {
    return this.#bootUs + this.#nowUs;
  }
  /** The wall clock: the wall time at tick 0 plus ticks. */
  wallUs(): number {
    return this.#wallStartUs + this.#nowUs;
  }

  /** Let `ms` of virtual time pass, firing the scripted events that fall due
   * on the way. Timers are not run: they fire at the app's next needExit(),
   * as on the board. */
  advance(ms: number): this {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`world.advance(${ms}): a finite number of ms >= 0`);
    this.#advanceTo(this.#nowUs + Math.round(ms * 1000), false);
    return this;
  }

  /** Stubs: the app's thread sleeps `us` (time.sleep*, blocking waits). The
   * clock moves; a signal that arrives on the way cuts the sleep short when
   * exit is requested by then. Returns true when cut short. */
  sleepUs(us: number): boolean {
    this.checkHardExit();
    if (!(us > 0)) return false;
    return this.#advanceTo(this.#nowUs + us, true);
  }

  /** `wake`: the wait between loop turns, which a host event (world.post)
   * ends as well as a signal (the runtime's loop wakes for both). */
  #advanceTo(targetUs: number, interruptible: boolean, wake = false): boolean {
    const signals0 = this.signals;
    for (;;) {
      const ev = this.#events[0];
      if (!ev || ev.atUs > targetUs) break;
      this.#events.shift();
      if (ev.atUs > this.#nowUs) this.#nowUs = ev.atUs;
      this.#checkTime();
      ev.action();
      this.checkHardExit();
      if (interruptible && this.signals > signals0 && this.exitRequested) return true;
      if (wake && this.#posted.length) return false;
    }
    if (targetUs > this.#nowUs) this.#nowUs = targetUs;
    this.#checkTime();
    return false;
  }

  #checkTime(): void {
    if (this.#nowUs > this.limits.virtualMs * 1000)
      throw new WorldLimit(
        `qcam testing: more than ${this.limits.virtualMs} ms of virtual time passed; the app never stopped. ` +
          "Script an exit (world.exitAt(ms), world.exitAfterTurns(n)) or raise world.limits.virtualMs.",
      );
  }

  // =========================================================== scripts

  /** Run `action` when virtual time reaches `ms` (ticks, absolute). Events fire
   * while the clock moves (sleeps, world.advance, waits for timers) and at the
   * start of a turn once due. */
  at(ms: number, action: () => void): this {
    const atUs = Math.round(ms * 1000);
    const ev: ScriptedEvent = { atUs, seq: this.#eventSeq++, action };
    let i = this.#events.length;
    while (i > 0 && this.#events[i - 1].atUs > atUs) i--;
    this.#events.splice(i, 0, ev);
    return this;
  }

  /** `at(now + ms, action)`. */
  after(ms: number, action: () => void): this {
    return this.at(this.now() + ms, action);
  }

  /** Run `action` at the start of the n-th needExit() turn (1-based). */
  onTurn(n: number, action: () => void): this {
    const list = this.#turnActions.get(n) ?? [];
    list.push(action);
    this.#turnActions.set(n, list);
    return this;
  }

  /** SIGINT (what Ctrl-C does) at virtual time `ms`. */
  exitAt(ms: number, signal: Signal = "SIGINT"): this {
    return this.at(ms, () => this.requestExit(signal));
  }

  /** SIGINT after `n` needExit() calls: calls 1..n return false (unless
   * something else asks to exit), call n+1 returns true. */
  exitAfterTurns(n: number, signal: Signal = "SIGINT"): this {
    return this.onTurn(n + 1, () => this.requestExit(signal));
  }

  /** Stubs: the next scripted event time in ms, or undefined. */
  nextEventMs(): number | undefined {
    return this.#events.length ? this.#events[0].atUs / 1000 : undefined;
  }

  // =========================================================== exit

  /** A signal, as SIGINT (Ctrl-C) or SIGTERM reach the runtime: needExit()
   * turns true and a sleep returns early. A second SIGINT exits at once (130). */
  requestExit(signal: Signal = "SIGINT"): this {
    if (signal === "SIGINT" && ++this.#sigints >= 2) this.hardExit = true;
    else this.signals++;
    return this;
  }

  /** What needExit() reports besides running a turn. */
  get exitRequested(): boolean {
    return this.exitFlag || this.fatal || this.signals > 0;
  }

  /** Stubs: throw HardExit once a second SIGINT has arrived. */
  checkHardExit(): void {
    if (this.hardExit) throw new HardExitError();
  }

  /** A host module hit an error the app cannot continue from (qcam_app_fatal):
   * "Fatal: message" on stderr, needExit() true, exit status 1. */
  failFatal(message: string): void {
    this.write("stderr", `Fatal: ${message}\n`);
    this.fatal = true;
  }

  /** Print an uncaught error as the runtime does and make the app fail. */
  reportUncaught(err: unknown, prefix = "Uncaught "): void {
    if (err instanceof HardExitError || err instanceof WorldLimit) throw err;
    this.uncaught.push(err);
    this.write("stderr", prefix + formatException(err));
    this.fatal = true;
  }

  setExitMessage(code: number, message: string): void {
    this.exitCode = code;
    this.exitMessage = message;
  }

  // =========================================================== loop

  /** One turn of the app's event loop: what app.needExit() runs. Returns
   * whether the app should stop. */
  turn(): boolean {
    this.checkHardExit();
    if (this.#inTurn) return this.exitRequested;
    this.turns++;
    if (this.turns > this.limits.turns)
      throw new WorldLimit(
        `qcam testing: ${this.limits.turns} needExit() turns and the app is still running. ` +
          "Script an exit (world.exitAfterTurns(n), world.exitAt(ms)) or raise world.limits.turns.",
      );
    this.#inTurn = true;
    try {
      const actions = this.#turnActions.get(this.turns);
      if (actions) {
        this.#turnActions.delete(this.turns);
        for (const a of actions) a();
      }
      this.#advanceTo(this.#nowUs, false); // scripted events due now
      this.checkHardExit();
      this.runJobs();
      this.#drainPosted();
      this.runJobs();
      this.#runTimers();
    } finally {
      this.#inTurn = false;
    }
    return this.exitRequested;
  }

  /** Whether a turn is running (needExit() from a timer callback does not turn again). */
  get inTurn(): boolean {
    return this.#inTurn;
  }

  /** Let `ms` of virtual time pass the way the runtime does while the app
   * waits (after its script ended, or in `await`): sleep until the next timer
   * is due, run a turn, repeat. Stops early when exit is requested. */
  runFor(ms: number): boolean {
    const endUs = this.#nowUs + Math.round(ms * 1000);
    for (;;) {
      if (this.turn()) return true;
      if (this.#nowUs >= endUs) return false;
      const next = this.#posted.length ? this.#nowUs : Math.min(this.nextTimerUs() ?? endUs, endUs);
      if (this.#advanceTo(Math.max(next, this.#nowUs), true, true)) return this.turn();
    }
  }

  /** The Promise of app code loaded by runApp: its jobs are the world's
   * (see promise.ts), run by needExit() turns like QuickJS's job queue. */
  readonly Promise = makePromiseClass({
    enqueue: (job) => this.#jobs.push(job),
    rejected: (p, reason) => this.#unhandled.set(p, reason),
    handled: (p) => this.#unhandled.delete(p),
  });

  /** Run promise jobs until there are none: the world's (app code loaded by
   * runApp, queueMicrotask) and Node's own — those only when not called from
   * inside a Node promise job, where Node cannot run them. Then report the
   * rejections nobody handled, as the runtime does at the end of its jobs. */
  runJobs(): void {
    const tick = (process as unknown as { _tickCallback?: () => void })._tickCallback;
    for (let round = 0; ; round++) {
      while (this.#jobs.length) {
        const job = this.#jobs.shift()!;
        try {
          job();
        } catch (e) {
          this.reportUncaught(e);
        }
      }
      if (typeof tick === "function") {
        try {
          tick.call(process);
        } catch (e) {
          this.reportUncaught(e, "Uncaught (in promise) ");
        }
      }
      if (!this.#jobs.length || round > 1000) break;
    }
    if (this.#unhandled.size) {
      const reasons = [...this.#unhandled.values()];
      this.#unhandled.clear();
      for (const r of reasons) this.reportUncaught(r, "Uncaught (in promise) ");
    }
  }

  /** Promise jobs waiting in the world's queue. */
  get pendingJobs(): number {
    return this.#jobs.length;
  }

  /** Stubs: run `fn` on the app's thread at its next turn (qcam_app_post):
   * how a host module delivers an event (a frame arrived, a link stopped). */
  post(fn: () => void): void {
    this.#posted.push(fn);
  }

  #drainPosted(): void {
    const events = this.#posted;
    this.#posted = [];
    for (const fn of events) {
      try {
        fn();
      } catch (e) {
        this.reportUncaught(e);
      }
    }
  }

  /** The due time of the earliest timer, µs; undefined when there is none. */
  nextTimerUs(): number | undefined {
    return this.#timers[0]?.dueUs;
  }
  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.length;
  }
  /** Anything that can still call back into the app: timers, host events, handles that keep the loop alive. */
  get busy(): boolean {
    if (this.#timers.length || this.#posted.length || this.#jobs.length) return true;
    for (const h of this.#handles) if (h.keepAlive) return true;
    return false;
  }

  /** Stubs/runApp: sleep until the next timer or host event, as the runtime's
   * loop does between turns. Returns true when a signal cut the wait short.
   * With no timer, time runs on through the scripted events (a test's script,
   * the native work of a stub such as a running link) until one of them posts
   * a host event or asks to exit; with none left, nothing can wake the app. */
  waitForWork(): boolean {
    if (this.#posted.length || this.#jobs.length) return false;
    const next = this.nextTimerUs();
    if (next !== undefined) return next > this.#nowUs && this.#advanceTo(next, true, true);
    while (this.#events.length) {
      if (this.#advanceTo(Math.max(this.#events[0].atUs, this.#nowUs), true, true)) return true;
      if (this.#posted.length || this.exitRequested || this.nextTimerUs() !== undefined) return false;
    }
    return false;
  }

  #insertTimer(t: Timer): void {
    let i = this.#timers.length;
    while (i > 0 && this.#timers[i - 1].dueUs > t.dueUs) i--;
    this.#timers.splice(i, 0, t);
  }

  #runTimers(): void {
    const now = this.#nowUs;
    let budget = 0;
    for (const t of this.#timers) {
      if (t.dueUs > now) break;
      budget++;
    }
    while (budget-- > 0 && this.#timers.length && this.#timers[0].dueUs <= now && !this.fatal) {
      const t = this.#timers.shift()!;
      this.#firing = t;
      this.#firingCleared = false;
      let threw = false;
      let error: unknown;
      try {
        t.fn.apply(undefined, t.args);
      } catch (e) {
        threw = true;
        error = e;
      }
      this.#firing = null;
      if (t.intervalUs >= 0 && !this.#firingCleared) {
        t.dueUs = now + t.intervalUs;
        this.#insertTimer(t);
      }
      if (threw) this.reportUncaught(error);
      this.runJobs();
    }
  }

  #setTimer(args: IArguments, repeat: boolean): number {
    const fn = args[0] as unknown;
    if (args.length < 1 || typeof fn !== "function")
      throw qcamError("TypeError", "ERR_INVALID_ARG", "callback must be a function");
    let ms = 0;
    if (args.length > 1) ms = +(args[1] as number); // ToNumber, as JS_ToFloat64 (throws for symbols and BigInts)
    if (!(ms >= 1)) ms = repeat ? 1 : 0;
    const us = Math.trunc(ms * 1000);
    const t: Timer = {
      id: ++this.#nextTimerId,
      fn: fn as Timer["fn"],
      args: Array.prototype.slice.call(args, 2),
      intervalUs: repeat ? us : -1,
      dueUs: this.#nowUs + us,
    };
    this.#insertTimer(t);
    return t.id;
  }

  #clearTimer(args: IArguments): void {
    if (args.length < 1 || typeof args[0] !== "number") return;
    const v = args[0] as number;
    const id = Number.isFinite(v) ? Math.trunc(v) : 0;
    if (this.#firing && this.#firing.id === id) {
      this.#firingCleared = true;
      return;
    }
    const i = this.#timers.findIndex((t) => t.id === id);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  // =========================================================== globals

  /** The globals the runtime installs in every app: console (with log levels,
   * into world.stdout / world.stderr) and timers on virtual time. */
  readonly globals = this.#makeGlobals();

  #makeGlobals() {
    const print = (level: number, args: IArguments) => {
      if (level < LOG_LEVELS.indexOf(this.logLevel)) return;
      const out: Stream = level >= 2 ? "stderr" : "stdout";
      let line = "";
      for (let i = 0; i < args.length; i++) {
        if (i) line += " ";
        const v = args[i] as unknown;
        if (util.types.isNativeError(v)) {
          // console.c prints an error with its stack, on the method's stream.
          this.write(out, line);
          line = "";
          this.write(out, formatException(v));
        } else line += formatValue(v);
      }
      this.write(out, line + "\n");
    };
    // Non-enumerable methods of length 1, like JS_CFUNC_MAGIC_DEF(name, 1, ...).
    const console = {};
    const levels: Record<string, number> = { debug: 0, log: 1, info: 1, warn: 2, error: 3 };
    for (const [name, level] of Object.entries(levels)) {
      const fn = {
        [name](_value?: unknown) {
          print(level, arguments);
        },
      }[name];
      Object.defineProperty(console, name, { value: fn, writable: true, configurable: true, enumerable: false });
    }
    const setTimer = (args: IArguments, repeat: boolean) => this.#setTimer(args, repeat);
    const clearTimer = (args: IArguments) => this.#clearTimer(args);
    const jobs = (fn: () => void) => this.#jobs.push(fn);
    const fill = (view: ArrayBufferView) => this.#randomFill(view);
    // As runtime/app.c: integer typed arrays only, at most 65536 bytes.
    const crypto = {};
    Object.defineProperty(crypto, "getRandomValues", {
      value: function getRandomValues<T>(array: T): T {
        if (!ArrayBuffer.isView(array) || array instanceof DataView || array instanceof Float32Array || array instanceof Float64Array ||
          Object.prototype.toString.call(array) === "[object Float16Array]")
          throw qcamError("TypeError", "ERR_TYPE_MISMATCH", "getRandomValues needs an integer typed array (Uint8Array, Int32Array, ...)");
        if (array.byteLength > 65536)
          throw qcamError("RangeError", "ERR_QUOTA_EXCEEDED", `getRandomValues: ${array.byteLength} bytes asked, at most 65536 at a time`);
        if (array.byteLength > 0) fill(array); // (0 too for a detached buffer, or a view out of its resized one)
        return array;
      },
      writable: true,
      configurable: true,
      enumerable: false,
    });
    return {
      console,
      crypto,
      queueMicrotask(fn: () => void): void {
        if (typeof fn !== "function") throw new TypeError("queueMicrotask: not a function");
        jobs(() => fn());
      },
      setTimeout(_fn: unknown, _ms?: unknown): number {
        return setTimer(arguments, false);
      },
      setInterval(_fn: unknown, _ms?: unknown): number {
        return setTimer(arguments, true);
      },
      clearTimeout(_id: unknown): void {
        clearTimer(arguments);
      },
      clearInterval(_id: unknown): void {
        clearTimer(arguments);
      },
    };
  }

  /** Put the app's globals in place of Node's (console, setTimeout,
   * setInterval, clearTimeout, clearInterval) until restore(). runApp does
   * this by itself; call it when a test imports app code directly. */
  install(): this {
    if (this.#saved) return this;
    this.#saved = new Map();
    const g = globalThis as Record<string, unknown>;
    for (const [name, value] of Object.entries(this.globals)) {
      this.#saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
      Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
    }
    return this;
  }

  /** Node's globals back. */
  restore(): this {
    if (!this.#saved) return this;
    for (const [name, desc] of this.#saved) {
      if (desc) Object.defineProperty(globalThis, name, desc);
      else delete (globalThis as Record<string, unknown>)[name];
    }
    this.#saved = null;
    return this;
  }

  get installed(): boolean {
    return this.#saved !== null;
  }

  // =========================================================== output

  /** Stubs and the console: append to the app's stdout or stderr. */
  write(stream: Stream, text: string): void {
    this[stream] += text;
    if (this.echo) process[stream].write(text);
  }

  /** stdout and stderr so far, then empty them. */
  takeOutput(): { stdout: string; stderr: string } {
    const out = { stdout: this.stdout, stderr: this.stderr };
    this.stdout = "";
    this.stderr = "";
    return out;
  }

  // =========================================================== modules

  /** Stubs: this module's state in this world, created on first use and
   * dropped by reset(). Tests read it the same way: world.part("image"). */
  part<T>(name: string, create: () => T): T {
    if (!this.#parts.has(name)) this.#parts.set(name, create());
    return this.#parts.get(name) as T;
  }

  /** Arm a scripted failure for a stub to consume, e.g.
   *  world.fault("fs.write", { code: "ENOSPC", after: 3 }): the 4th write fails with ENOSPC;
   *  world.fault("camera.read", { code: "ENODEV", times: Infinity }): unplugged for good;
   *  world.fault("app.path", { code: "EACCES" }). Each stub documents its fault names. */
  fault(name: string, spec: FaultSpec = {}): this {
    const list = this.#faults.get(name) ?? [];
    list.push({ spec, seen: 0, fired: 0 });
    this.#faults.set(name, list);
    return this;
  }

  /** Stubs: one call of the operation `name`; returns the fault to raise now, if any. */
  takeFault(name: string): FaultSpec | undefined {
    const list = this.#faults.get(name);
    if (!list) return undefined;
    for (const f of list) {
      const after = f.spec.after ?? 0;
      const times = f.spec.times ?? 1;
      if (f.fired >= times) continue;
      f.seen++;
      if (f.seen > after) {
        f.fired++;
        return f.spec;
      }
      return undefined;
    }
    return undefined;
  }

  /** Names of armed faults that never fired: a scripted failure the app never ran into. */
  pendingFaults(): string[] {
    return [...this.#faults].filter(([, list]) => list.some((f) => f.fired === 0)).map(([name]) => name);
  }

  /** Stubs: register a native handle the app holds; release() when it closes. */
  track(kind: string, object: object, keepAlive = false): Handle {
    const handles = this.#handles;
    const h: Handle = {
      kind,
      object,
      keepAlive,
      release() {
        handles.delete(h);
      },
    };
    handles.add(h);
    return h;
  }

  /** Handles still open, optionally of one kind ("Image", "Camera", ...). */
  openHandles(kind?: string): Handle[] {
    return [...this.#handles].filter((h) => kind === undefined || h.kind === kind);
  }

  /** Stubs: offer a test-side hook under a name (e.g. "image.make"); the last one offered wins. */
  expose(name: string, value: unknown): void {
    this.#exposed.set(name, value);
  }
  exposed<T>(name: string): T | undefined {
    return this.#exposed.get(name) as T | undefined;
  }
  /** Everything offered so far, to put back with restoreExposed() (a test that
   * loaded a mutated stub, which offered its own). */
  saveExposed(): Map<string, unknown> {
    return new Map(this.#exposed);
  }
  restoreExposed(saved: Map<string, unknown>): void {
    this.#exposed = new Map(saved);
  }
}

/** How console.c prints a value that is not an error: strings as they are,
 * objects (not functions) as JSON, anything JSON cannot show with toString. */
export function formatValue(v: unknown): string {
  if (typeof v === "symbol") return "(unprintable)"; // JS_ToCString throws on symbols
  if (v !== null && typeof v === "object") {
    try {
      const s = JSON.stringify(v);
      if (typeof s === "string") return s;
    } catch {
      /* fall through to toString */
    }
  }
  try {
    return String(v);
  } catch {
    return "(unprintable)";
  }
}

/** qcam_print_exception: "Name: message" then the stack frames, each line ending in \n. */
export function formatException(err: unknown): string {
  let head: string;
  try {
    head = String(err);
  } catch {
    head = "(unprintable value)";
  }
  let out = head + "\n";
  if (util.types.isNativeError(err)) {
    const stack = (err as Error).stack;
    if (typeof stack === "string") {
      const at = stack.indexOf("    at ");
      const frames = at >= 0 ? stack.slice(at) : stack;
      out += frames;
      if (frames && !frames.endsWith("\n")) out += "\n";
    }
  }
  return out;
}

/**
 * The one world, and the classes whose identity matters (`instanceof`), kept
 * on globalThis: this file can be loaded twice in one process — as an ES
 * module and through CommonJS (mocha require()s test files that tsx can
 * compile to CommonJS) — and both copies must share them.
 */
interface Shared {
  world: QcamWorld;
  World: typeof QcamWorld;
  HardExit: typeof HardExitError;
  WorldLimitError: typeof WorldLimit;
  runs: number;
}
const shared: Shared = ((globalThis as Record<symbol, Shared>)[SHARED_KEY] ??= {
  world: new QcamWorld(),
  World: QcamWorld,
  HardExit: HardExitError,
  WorldLimitError: WorldLimit,
  runs: 0,
});

export const world: QcamWorld = shared.world;
export const World = shared.World;
export type World = QcamWorld;
export const HardExit = shared.HardExit;
export type HardExit = HardExitError;
export const WorldLimitError = shared.WorldLimitError;
export type WorldLimitError = WorldLimit;

/** A process-wide counter (runApp's run ids). */
export function nextRunId(): number {
  return ++shared.runs;
}

/** What app modules loaded by runApp bind `Promise` to (loader.mjs). */
(globalThis as Record<symbol, unknown>)[Symbol.for("qcam.testing.Promise")] = world.Promise;
