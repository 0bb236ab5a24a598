// The Promise app code sees when runApp loads it. Its jobs go into the world's
// job queue, which needExit() drains — as QuickJS's job queue is drained by a
// loop turn. Node's own promise jobs cannot be run from inside another promise
// job, and Node evaluates every ES module inside one, so without this an app's
// `.then` callbacks (and lowered `await`s) would never run inside needExit().
//
// The loader (loader.mjs) compiles app files with async functions lowered to
// generators and binds `Promise` in each module to this class. It follows the
// spec's resolution procedure (thenables, self-resolution, once-only
// resolving functions, job order); species and subclass constructors are not
// supported. Rejections nobody handles by the end of a drain are reported as
// "Uncaught (in promise)", as the runtime's rejection tracker does.

type Job = () => void;

export interface JobHost {
  enqueue(job: Job): void;
  rejected(p: object, reason: unknown): void;
  handled(p: object): void;
}

const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;

interface Reaction {
  onFulfilled: unknown;
  onRejected: unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export function makePromiseClass(host: JobHost) {
  const states = new WeakMap<object, { state: number; value: unknown; reactions: Reaction[]; handled: boolean }>();

  function internal(p: unknown) {
    const s = typeof p === "object" && p !== null ? states.get(p) : undefined;
    if (!s) throw new TypeError("not a promise");
    return s;
  }

  function settle(p: QPromise<unknown>, state: number, value: unknown) {
    const s = internal(p);
    if (s.state !== PENDING) return;
    s.state = state;
    s.value = value;
    const reactions = s.reactions;
    s.reactions = [];
    for (const r of reactions) schedule(r, state, value);
    if (state === REJECTED && !s.handled) host.rejected(p, value);
  }

  function schedule(r: Reaction, state: number, value: unknown) {
    host.enqueue(() => {
      const handler = state === FULFILLED ? r.onFulfilled : r.onRejected;
      if (typeof handler !== "function") {
        if (state === FULFILLED) r.resolve(value);
        else r.reject(value);
        return;
      }
      let result: unknown;
      try {
        result = handler(value);
      } catch (e) {
        r.reject(e);
        return;
      }
      r.resolve(result);
    });
  }

  function resolvingFunctions(p: QPromise<unknown>) {
    let done = false;
    const resolve = (x: unknown) => {
      if (done) return;
      done = true;
      resolveWith(p, x);
    };
    const reject = (e: unknown) => {
      if (done) return;
      done = true;
      settle(p, REJECTED, e);
    };
    return { resolve, reject };
  }

  function resolveWith(p: QPromise<unknown>, x: unknown) {
    if (x === p) return settle(p, REJECTED, new TypeError("Chaining cycle detected for promise"));
    if ((typeof x !== "object" && typeof x !== "function") || x === null) return settle(p, FULFILLED, x);
    let then: unknown;
    try {
      then = (x as { then?: unknown }).then;
    } catch (e) {
      return settle(p, REJECTED, e);
    }
    if (typeof then !== "function") return settle(p, FULFILLED, x);
    host.enqueue(() => {
      const { resolve, reject } = resolvingFunctions(p);
      try {
        then.call(x, resolve, reject);
      } catch (e) {
        reject(e);
      }
    });
  }

  class QPromise<T> {
    constructor(executor: (resolve: (v?: T | PromiseLike<T>) => void, reject: (e?: unknown) => void) => void) {
      if (typeof executor !== "function") throw new TypeError(`Promise resolver ${String(executor)} is not a function`);
      states.set(this, { state: PENDING, value: undefined, reactions: [], handled: false });
      const { resolve, reject } = resolvingFunctions(this);
      try {
        executor(resolve as (v?: T | PromiseLike<T>) => void, reject);
      } catch (e) {
        reject(e);
      }
    }

    then<R1 = T, R2 = never>(onFulfilled?: ((v: T) => R1 | PromiseLike<R1>) | null, onRejected?: ((e: unknown) => R2 | PromiseLike<R2>) | null): QPromise<R1 | R2> {
      const s = internal(this);
      let resolve!: (v: unknown) => void;
      let reject!: (e: unknown) => void;
      const child = new QPromise<R1 | R2>((res, rej) => {
        resolve = res as (v: unknown) => void;
        reject = rej;
      });
      const r: Reaction = { onFulfilled, onRejected, resolve, reject };
      if (s.state === PENDING) s.reactions.push(r);
      else {
        if (s.state === REJECTED && !s.handled) host.handled(this);
        schedule(r, s.state, s.value);
      }
      s.handled = true;
      return child;
    }

    catch<R = never>(onRejected?: ((e: unknown) => R | PromiseLike<R>) | null): QPromise<T | R> {
      return this.then(undefined, onRejected);
    }

    finally(onFinally?: (() => void) | null): QPromise<T> {
      if (typeof onFinally !== "function") return this.then(onFinally, onFinally) as QPromise<T>;
      return this.then(
        (v) => QPromise.resolve(onFinally()).then(() => v),
        (e) =>
          QPromise.resolve(onFinally()).then(() => {
            throw e;
          }),
      );
    }

    static resolve<T>(v?: T | PromiseLike<T>): QPromise<Awaited<T>> {
      if (v instanceof QPromise) return v as QPromise<Awaited<T>>;
      return new QPromise((res) => res(v as Awaited<T>));
    }

    static reject<T = never>(e?: unknown): QPromise<T> {
      return new QPromise<T>((_, rej) => rej(e));
    }

    static withResolvers<T>() {
      let resolve!: (v: T | PromiseLike<T>) => void;
      let reject!: (e?: unknown) => void;
      const promise = new QPromise<T>((res, rej) => {
        resolve = res as (v: T | PromiseLike<T>) => void;
        reject = rej;
      });
      return { promise, resolve, reject };
    }

    static all(items: Iterable<unknown>): QPromise<unknown[]> {
      return new QPromise((resolve, reject) => {
        const values: unknown[] = [];
        let left = 1;
        let i = 0;
        for (const item of items) {
          const k = i++;
          left++;
          QPromise.resolve(item).then((v) => {
            values[k] = v;
            if (--left === 0) resolve(values);
          }, reject);
        }
        if (--left === 0) resolve(values);
      });
    }

    static allSettled(items: Iterable<unknown>): QPromise<unknown[]> {
      return QPromise.all(
        [...items].map((item) =>
          QPromise.resolve(item).then(
            (value) => ({ status: "fulfilled", value }),
            (reason) => ({ status: "rejected", reason }),
          ),
        ),
      );
    }

    static race(items: Iterable<unknown>): QPromise<unknown> {
      return new QPromise((resolve, reject) => {
        for (const item of items) QPromise.resolve(item).then(resolve, reject);
      });
    }

    static any(items: Iterable<unknown>): QPromise<unknown> {
      return new QPromise((resolve, reject) => {
        const errors: unknown[] = [];
        let left = 1;
        let i = 0;
        for (const item of items) {
          const k = i++;
          left++;
          QPromise.resolve(item).then(resolve, (e) => {
            errors[k] = e;
            if (--left === 0) reject(new AggregateError(errors, "All promises were rejected"));
          });
        }
        if (--left === 0) reject(new AggregateError(errors, "All promises were rejected"));
      });
    }
  }
  Object.defineProperty(QPromise.prototype, Symbol.toStringTag, { value: "Promise", configurable: true });
  Object.defineProperty(QPromise, "name", { value: "Promise" });
  return QPromise;
}
