/** The board's keys and touch panel — MaixPy's `maix.touchscreen` and key events. */
declare module "qcam:input" {
  /** MaixCAM's key names. */
  export type Key = "ok" | "option" | "next" | "prev" | "left" | "right";

  export interface KeyEvent {
    type: "key";
    key: Key;
    /** "longpress" comes once while a key is held 1 s, before its "release". */
    action: "press" | "release" | "longpress";
    /** Monotonic microseconds. */
    timestampUs: number;
  }

  export interface TouchEvent {
    type: "touch";
    action: "down" | "move" | "up";
    /** Panel pixels. */
    x: number;
    y: number;
    /** Track id (0 for a single touch). */
    id: number;
    timestampUs: number;
  }

  export type InputEvent = KeyEvent | TouchEvent;

  export interface InputOptions {
    /** Key events, on the app's loop. Return true for a long press of "ok" to take it (no exit). */
    onKey?: (event: KeyEvent) => boolean | void;
    /** Touch events, on the app's loop. */
    onTouch?: (event: TouchEvent) => void;
    /** A long press of "ok" requests exit, as MaixPy's default does (default true). */
    exitOnLongOk?: boolean;
  }

  /**
   * Keys and touches. Events arrive at the loop's turns (app.needExit()): to onKey /
   * onTouch when given, else into a queue that poll() empties (the newest 64 kept;
   * `dropped` counts the rest). Sim: the board's page sends them (its buttons, keyboard
   * and pointer).
   */
  export class Input {
    constructor(options?: InputOptions);
    /** Events queued since the last poll(), oldest first. */
    poll(): InputEvent[];
    /** Whether the key is down (as of the events delivered so far). */
    isPressed(key: Key): boolean;
    /** The last touch point and whether a finger is down. */
    touch(): { x: number; y: number; down: boolean };
    /** Events the queue lost because poll() came too late. */
    readonly dropped: number;
    /** Idempotent. Afterwards every member but close() throws TypeError ERR_CLOSED. */
    close(): void;
    [Symbol.dispose](): void;
  }
}
