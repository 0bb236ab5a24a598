// Globals every qcam app has (installed by the runtime, not a module).
// No DOM and no Node.js: only what is declared here and in qcam:* modules.

interface QcamConsole {
  /** Shown when the log level is "debug". To stdout. */
  debug(...args: unknown[]): void;
  /** To stdout. Strings print as they are, errors with their stack, objects as JSON. */
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  /** To stderr. */
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}
declare var console: QcamConsole;

/** Timers run from the event loop: between statements of the app only while it
 * waits (at the end of the script, in `await`, or in `app.needExit()`). */
declare function setTimeout<A extends unknown[]>(fn: (...args: A) => void, ms?: number, ...args: A): number;
declare function setInterval<A extends unknown[]>(fn: (...args: A) => void, ms?: number, ...args: A): number;
declare function clearTimeout(id: number | undefined): void;
declare function clearInterval(id: number | undefined): void;
declare function queueMicrotask(fn: () => void): void;

/** The typed arrays `crypto.getRandomValues` fills (integer elements only, as on the Web). */
type QcamIntegerArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

interface QcamCrypto {
  /**
   * Fill `array` with cryptographically secure random bytes from the kernel
   * (getrandom(), else /dev/urandom) and return it. Web Crypto's shape and limits.
   * @throws TypeError ERR_TYPE_MISMATCH for anything but an integer typed array
   *   (a Float32Array, a DataView, a plain array; the Web's TypeMismatchError);
   *   RangeError ERR_QUOTA_EXCEEDED for more than 65536 bytes (the Web's
   *   QuotaExceededError): the array is then left as it was.
   */
  getRandomValues<T extends QcamIntegerArray>(array: T): T;
}
declare var crypto: QcamCrypto;
