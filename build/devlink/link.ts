// One connection to a board over the dev link (docs/dev-link.md): requests
// and replies, pushing an image under the board's credit window, run, stop,
// reload, stats, and the board's console and events as they come.
import { spawnSync } from "node:child_process";
import { randomInt, createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import fs from "node:fs";
import tty from "node:tty";
import { BuildError } from "../log.ts";
import { makeDelta, pushedBytes, rememberPushed } from "./delta.ts";
import { lockPort } from "./ports.ts";
import { Channel, Decoder, FLAG_REPLY, MAX_PAYLOAD, encodeFrame, type Frame } from "./codec.ts";

export const Control = { hello: 1, push: 2, run: 3, stop: 4, reload: 5, stats: 6, event: 7 } as const;
export const Push = { data: 1, ack: 2, done: 3 } as const;
export const Console = { stdout: 1, stderr: 2, dropped: 3 } as const;
export const Status = { ok: 0, have: 1, idle: 2, bad: 3, noent: 4, refused: 5, nospace: 6, unknown: 7, outside: 8, io: 9, thrown: 10, busy: 32 } as const;
export const STATUS_NAMES = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, k])) as Record<number, string>;

export interface Reply {
  status: number;
  body: Buffer;
}

/** Something went wrong on the link; the CLI shows it as one line. */
export class LinkError extends BuildError {
  constructor(
    message: string,
    readonly status?: string,
  ) {
    super(message);
  }
}

/** key=value lines. */
export function parseKv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Printable text (a boot log), as opposed to line garbage. */
export function looksLikeText(b: Buffer): boolean {
  if (b.length === 0) return false;
  let bad = 0;
  for (const c of b) if (c < 0x20 && c !== 9 && c !== 10 && c !== 13) bad++;
  return bad === 0;
}


/** A serial port: termios set by stty (raw, 8N1, no flow control, the baud
 * rate), bytes moved by node's own tty streams (libuv, non-blocking). See
 * docs/architecture.md for why not the serialport package. Events: "data",
 * "close". */
export class TtyPort extends EventEmitter {
  isOpen = true;

  private constructor(
    private readonly s: tty.ReadStream,
    private readonly unlock: () => void,
  ) {
    super();
    s.on("data", (d: Buffer) => this.emit("data", d));
    const gone = () => {
      if (!this.isOpen) return;
      this.isOpen = false;
      this.unlock();
      this.emit("close");
    };
    s.on("close", gone);
    s.on("error", gone);
  }

  /** Opens the port under its lock (ports.ts): a second qcam command on the
   * same port fails here, naming the first. */
  static open(path: string, baud = 115200): TtyPort {
    const unlock = lockPort(path);
    try {
      return TtyPort.openLocked(path, baud, unlock);
    } catch (e) {
      unlock();
      throw e;
    }
  }

  private static openLocked(path: string, baud: number, unlock: () => void): TtyPort {
    const r = spawnSync("stty", ["-F", path, "raw", "-echo", "-ixon", "-ixoff", "-crtscts", "clocal", "cs8", "-cstopb", "-parenb", String(baud)], { encoding: "utf8" });
    if (r.error) throw new LinkError(`cannot run stty: ${r.error.message}`);
    if (r.status !== 0) throw new LinkError(`cannot open ${path}: ${r.stderr.trim().replace(/^stty: /, "")}`);
    if (!fs.statSync(path).isCharacterDevice()) throw new LinkError(`${path} is not a serial port`);
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    // One non-blocking TTY stream both ways. (tty.WriteStream would make
    // writes blocking, as it does for a terminal: a full line would stall
    // the whole event loop, reading included.)
    return new TtyPort(new tty.ReadStream(fd, { writable: true } as ConstructorParameters<typeof tty.ReadStream>[1]), unlock);
  }

  write(b: Uint8Array): void {
    if (this.isOpen) this.s.write(b);
  }

  close(cb: () => void): void {
    if (!this.isOpen) return cb();
    this.isOpen = false;
    this.s.destroy();
    this.unlock();
    this.emit("close");
    cb();
  }
}

export interface LinkHandlers {
  /** The app's console. */
  console?(stream: "stdout" | "stderr", data: Buffer): void;
  /** Console bytes the board dropped because nobody read them. */
  dropped?(bytes: number): void;
  /** started / exited events. */
  event?(e: Record<string, string>): void;
  /** Text the board printed outside frames. */
  text?(s: string): void;
}

export interface PushResult {
  hash: string;
  skipped: boolean;
  bytes: number; // bytes sent (0 when skipped)
  resumedAt: number;
  delta?: number; // sent as a delta of this many bytes against the board's image
}

const ACK_TIMEOUT_MS = 500;
/** An upload with no byte acknowledged for this long (or 20 ack gaps) gives up. */
const STALL_MS = 10_000;
const RETRY_MS = 250;

export class BoardLink {
  private readonly dec = new Decoder();
  private seq = randomInt(65536); // a stale reply from an earlier connection does not match
  private readonly waiting = new Map<number, { resolve(r: Reply): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private readonly listeners = new Map<number, (f: Frame) => void>();
  private closed = false;
  private readonly eventWaiters = new Set<{ test(e: Record<string, string>): boolean; resolve(e: Record<string, string>): void }>();
  stats = { frames: 0, junk: 0, junkBytes: 0 };
  /** Diagnostics and tests: every encoded frame passes through this before it is written. */
  outgoing?: (frame: Buffer) => Buffer;

  private constructor(
    readonly path: string,
    private readonly port: TtyPort,
    public handlers: LinkHandlers,
  ) {
    port.on("data", (chunk: Buffer) => this.onData(chunk));
    port.on("close", () => this.fail(new LinkError(`${path} closed`)));
  }

  static async open(path: string, handlers: LinkHandlers = {}, baudRate = 115200): Promise<BoardLink> {
    return new BoardLink(path, TtyPort.open(path, baudRate), handlers);
  }

  /** Called when the port closes under us (not by close()). */
  onClose(f: () => void): void {
    this.port.once("close", () => {
      if (!this.closed) f();
    });
  }

  /** Called when the port closes, by close() or under us; at once if it is closed already. */
  onEnd(f: () => void): () => void {
    if (!this.port.isOpen) {
      f();
      return () => undefined;
    }
    this.port.once("close", f);
    return () => this.port.off("close", f);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new LinkError("link closed"));
    await new Promise<void>((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }

  private fail(e: Error): void {
    for (const [seq, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(e);
      this.waiting.delete(seq);
    }
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.dec.push(chunk)) {
      if (ev.kind === "junk") {
        this.stats.junk++;
        this.stats.junkBytes += ev.length;
        if (looksLikeText(ev.bytes)) this.handlers.text?.(ev.bytes.toString("utf8"));
        continue;
      }
      this.stats.frames++;
      this.onFrame(ev.frame);
    }
  }

  private onFrame(f: Frame): void {
    if (f.payload.length < 1) return;
    const type = f.payload[0];
    if (f.flags & FLAG_REPLY) {
      if (f.payload.length < 5) return;
      const re = f.payload.readUInt16LE(1);
      const w = this.waiting.get(re);
      if (!w) return; // a reply we gave up on, or from an earlier connection
      this.waiting.delete(re);
      clearTimeout(w.timer);
      w.resolve({ status: f.payload.readUInt16LE(3), body: f.payload.subarray(5) });
      return;
    }
    if (f.channel === Channel.console) {
      if (type === Console.dropped && f.payload.length >= 5) this.handlers.dropped?.(f.payload.readUInt32LE(1));
      else if (type === Console.stdout || type === Console.stderr) this.handlers.console?.(type === Console.stdout ? "stdout" : "stderr", f.payload.subarray(1));
    } else if (this.listeners.has(f.channel)) {
      this.listeners.get(f.channel)!(f);
    } else if (f.channel === Channel.control && type === Control.event) {
      const e = parseKv(f.payload.subarray(1).toString("utf8"));
      if (e.event === "started" && e.image) this.boardImage = e.image;
      this.handlers.event?.(e);
      for (const w of [...this.eventWaiters])
        if (w.test(e)) {
          this.eventWaiters.delete(w);
          w.resolve(e);
        }
    }
  }

  /** Frames (not replies) that come on `channel` go to `f` (undefined: dropped). */
  listen(channel: number, f: ((frame: Frame) => void) | undefined): void {
    if (f) this.listeners.set(channel, f);
    else this.listeners.delete(channel);
  }

  /** Send one frame that wants no reply; returns its seq. */
  send(channel: number, type: number, body: Uint8Array = Buffer.alloc(0), seq = this.nextSeq()): number {
    const frame = encodeFrame({ channel, seq, payload: Buffer.concat([Buffer.of(type), body]) });
    this.port.write(this.outgoing ? this.outgoing(frame) : frame);
    return seq;
  }

  private nextSeq(): number {
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    return seq;
  }

  /** Diagnostics and tests: put bytes on the line as they are. */
  writeRaw(bytes: Uint8Array): void {
    this.port.write(bytes);
  }

  /** Send a control request and wait for its reply. A request lost on the
   * line is sent again, the same frame, every RETRY_MS: the board answers a
   * repeated request from memory without doing it twice. */
  request(type: number, body?: Uint8Array, timeoutMs = 5000, channel: number = Channel.control, retryMs = RETRY_MS): Promise<Reply> {
    if (this.closed) return Promise.reject(new LinkError("link closed"));
    const seq = this.send(channel, type, body);
    return new Promise((resolve, reject) => {
      const retry = setInterval(() => this.send(channel, type, body, seq), retryMs);
      const timer = setTimeout(() => {
        clearInterval(retry);
        this.waiting.delete(seq);
        reject(new LinkError(`no answer from the board on ${this.path} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(seq, {
        resolve: (r) => {
          clearInterval(retry);
          resolve(r);
        },
        reject: (e) => {
          clearInterval(retry);
          reject(e);
        },
        timer,
      });
    });
  }

  static check(what: string, r: Reply, ...ok: number[]): Reply {
    if ([Status.ok, ...ok].includes(r.status as 0)) return r;
    const name = STATUS_NAMES[r.status] ?? `status ${r.status}`;
    const why = r.body.toString("utf8");
    throw new LinkError(`${what}: ${name}${why ? `: ${why}` : ""}`, name);
  }

  /** Say hello until the board answers (sent again every 250 ms, no fixed sleep before); its capabilities. */
  async hello(timeoutMs = 10000): Promise<Record<string, string>> {
    const r = await this.request(Control.hello, Buffer.from("host=qcam\nproto=1\n"), timeoutMs);
    const caps = parseKv(BoardLink.check("hello", r).body.toString("utf8"));
    if (caps.image) this.boardImage = caps.image;
    return caps;
  }

  /** Wait for the next event that passes `test`. */
  waitEvent(test: (e: Record<string, string>) => boolean, timeoutMs = 30000): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
      const w = {
        test,
        resolve: (e: Record<string, string>) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.eventWaiters.delete(w);
        reject(new LinkError(`no event from the board within ${timeoutMs} ms`));
      }, timeoutMs);
      this.eventWaiters.add(w);
    });
  }

  /** Push an image: skipped when the board has it; otherwise sent under the
   * board's credit window, resumed where an earlier cut-off push stopped. */
  async push(image: Buffer, progress?: (sent: number, total: number) => void, opts: { delta?: boolean; base?: string } = {}): Promise<PushResult> {
    const digest = createHash("sha256").update(image).digest();
    const hash = digest.toString("hex");
    // A delta against the image the board runs (or last ran), or `base` (an
    // image the board holds: qcam flash names the one installed for the
    // app), when we kept a copy of it and the delta is clearly smaller (delta.ts).
    const baseHash = opts.base ?? this.boardImage;
    const base = opts.delta !== false && baseHash !== hash ? pushedBytes(baseHash) : undefined;
    const delta = base ? makeDelta(base, image) : undefined;
    const useDelta = delta !== undefined && delta.length > 0 && delta.length < image.length * 0.8;
    const begin = Buffer.alloc(useDelta ? 72 : 36);
    digest.copy(begin, 0);
    begin.writeUInt32LE(image.length, 32);
    if (useDelta) {
      Buffer.from(baseHash!, "hex").copy(begin, 36);
      begin.writeUInt32LE(delta.length, 68);
    }
    const r = BoardLink.check("push", await this.request(Control.push, begin), Status.have);
    if (r.status === Status.have) {
      rememberPushed(hash, image);
      return { hash, skipped: true, bytes: 0, resumedAt: 0 };
    }
    const at = r.body.readUInt32LE(0);
    const asDelta = useDelta && r.body.length >= 9 && r.body[8] === 1; // the board has the base
    const payload = asDelta ? delta : image;
    const sent = await this.upload(Channel.push, r, payload.length, (off, n) => payload.subarray(off, off + n), progress);
    rememberPushed(hash, image);
    return { hash, skipped: false, bytes: sent, resumedAt: at, ...(asDelta ? { delta: payload.length } : {}) };
  }

  /** The image the board runs or last ran, as far as this link knows (hello, started events, run). */
  boardImage: string | undefined;

  /** Send `size` bytes on `channel` (push, or a files put) under the board's
   * credit window, starting where `start` (the reply that began the
   * transfer: offset u32, window u32) says; resolves with the bytes sent
   * when the board's `done` says ok. */
  upload(channel: number, start: Reply, size: number, read: (offset: number, n: number) => Buffer, progress?: (acked: number, total: number) => void): Promise<number> {
    let acked = start.body.readUInt32LE(0);
    let window = start.body.readUInt32LE(4);
    let next = acked;
    let rewoundTo = -1;
    let sent = 0;
    let ackGap = 0; // ms between the last two acks
    let lastAck = performance.now();
    let lastGain = lastAck; // when `acked` last went forward
    const chunk = MAX_PAYLOAD - 5;
    const what = channel === Channel.push ? "push" : "put";
    return new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let over = false;
      const finish = (e?: Error) => {
        over = true;
        clearTimeout(timer);
        this.listen(channel, undefined);
        this.port.off("close", onClose);
        if (e) reject(e);
        else resolve(sent);
      };
      const onClose = () => finish(new LinkError(`${this.path} closed during the ${what}`));
      this.port.once("close", onClose);
      const arm = () => {
        clearTimeout(timer);
        if (over) return;
        // Nothing heard for a while: from the last acknowledged byte again.
        // "A while" grows with the line: four times the last gap between
        // two acks (a frame takes 0.36 s at 115200 baud), at least 500 ms.
        timer = setTimeout(() => {
          // No byte acknowledged for long (the board was reset, or the line
          // is dead): give up with the way on; the next push resumes from
          // the board's last verified byte.
          if (performance.now() - lastGain > Math.max(STALL_MS, 20 * ackGap))
            return finish(new LinkError(`the board stopped acknowledging the ${what} at byte ${acked} of ${size} (was it reset?); ${channel === Channel.push ? "flash or push again to resume" : "try again"}`));
          next = acked;
          rewoundTo = acked;
          pump();
        }, Math.max(ACK_TIMEOUT_MS, 4 * ackGap));
      };
      const pump = () => {
        while (!over && next < size && next < acked + window) {
          const n = Math.min(chunk, size - next, acked + window - next);
          const body = Buffer.alloc(4 + n);
          body.writeUInt32LE(next, 0);
          read(next, n).copy(body, 4);
          this.send(channel, Push.data, body);
          next += n;
          sent += n;
        }
        arm();
      };
      this.listen(channel, (f) => {
        const type = f.payload[0];
        if (type === Push.ack && f.payload.length >= 10) {
          const now = performance.now();
          ackGap = now - lastAck;
          lastAck = now;
          const offset = f.payload.readUInt32LE(1);
          window = f.payload.readUInt32LE(5);
          const gap = (f.payload[9] & 1) !== 0;
          if (gap) {
            // The board is at `offset`: a frame was lost (or we went back
            // further than needed). Go on from there — once per position:
            // frames still on their way from before make the board say the
            // same again, and going back for each would resend the window
            // over and over (if the resent frame is lost too, the timeout
            // goes back again).
            if (offset !== rewoundTo) {
              rewoundTo = offset;
              next = offset;
            }
            if (offset > acked) lastGain = now;
            acked = offset;
          } else if (offset > acked) {
            acked = offset;
            lastGain = now;
            if (offset > rewoundTo) rewoundTo = -1;
          }
          progress?.(acked, size);
          pump();
        } else if (type === Push.done && f.payload.length >= 3) {
          const status = f.payload.readUInt16LE(1);
          if (status === Status.ok) finish();
          else finish(new LinkError(`${what}: ${STATUS_NAMES[status] ?? status}: ${f.payload.subarray(3).toString("utf8")}`, STATUS_NAMES[status]));
        }
      });
      pump();
    });
  }

  async run(hash: string): Promise<void> {
    BoardLink.check("run", await this.request(Control.run, Buffer.from(hash, "hex")));
    this.boardImage = hash;
  }

  /** true when an app was running (its `exited` event follows). */
  async stop(): Promise<boolean> {
    return BoardLink.check("stop", await this.request(Control.stop), Status.idle).status === Status.ok;
  }

  async reload(): Promise<void> {
    BoardLink.check("reload", await this.request(Control.reload));
  }

  async boardStats(): Promise<Record<string, string>> {
    return parseKv(BoardLink.check("stats", await this.request(Control.stats)).body.toString("utf8"));
  }
}
