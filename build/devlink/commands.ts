// The dev-link commands (docs/dev-link.md): qcam board, push, run --port,
// stop, logs and dev. Each opens the port, says hello, does its work over
// one BoardLink and closes the port.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { buildApp, ensureFlavor, isImageFile } from "../app-build.ts";
import { buildFlavor } from "../cmake.ts";
import { BuildError } from "../log.ts";
import { OUT, buildDir, runtimeBinary, type Flavor, type Target } from "../paths.ts";
import { mapperFor } from "../run.ts";
import { BoardLink, LinkError, type LinkHandlers } from "./link.ts";
import { findPort, replOnStdin } from "./tools.ts";
import { watchTree } from "./watch.ts";

/** The host end of the sim board's line, while `qcam board` runs. */
export const BOARD_LINK = path.join(OUT, "board.tty");
const BOARD_SIDE_LINK = path.join(OUT, ".board-side.tty");
/** hash -> image path of every image pushed from here, to map stack traces. */
const KNOWN = path.join(OUT, "devlink", "images.json");

function knownImages(): Record<string, string> {
  try {
    return JSON.parse(fs.readFileSync(KNOWN, "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}

function remember(hash: string, image: string): void {
  const known = knownImages();
  known[hash] = path.resolve(image);
  fs.mkdirSync(path.dirname(KNOWN), { recursive: true });
  fs.writeFileSync(`${KNOWN}.tmp`, JSON.stringify(known, null, 1));
  fs.renameSync(`${KNOWN}.tmp`, KNOWN);
}

function targetOfBoard(caps: Record<string, string>): Target {
  if (caps.target === "sim-riscv64") return "riscv64";
  if (caps.target === "sim-x86_64") return "host";
  throw new BuildError(`the board runs images for ${caps.target}, which qcam cannot build yet`);
}

/** Prints the board's console, stack traces mapped to TypeScript with the
 * running image's source map (when that image was pushed from here). */
export class ConsolePrinter {
  private partial = { stdout: "", stderr: "" };
  private mapper?: (line: string) => string;

  constructor(
    private readonly out: (s: string) => void = (s) => process.stdout.write(s),
    private readonly err: (s: string) => void = (s) => process.stderr.write(s),
  ) {}

  /** Map traces with the image that has this hash. */
  useImage(hash: string | undefined): void {
    const image = hash ? knownImages()[hash] : undefined;
    this.mapper = image && fs.existsSync(image) ? mapperFor(image) : undefined;
  }

  /** Stack traces in `text` mapped to TypeScript (the running image's map). */
  map(text: string): string {
    return this.mapper ? text.split("\n").map(this.mapper).join("\n") : text;
  }

  write(stream: "stdout" | "stderr", data: Buffer): void {
    const text = this.partial[stream] + data.toString("utf8");
    const cut = text.lastIndexOf("\n") + 1;
    this.partial[stream] = text.slice(cut);
    if (!cut) return;
    const lines = text.slice(0, cut);
    const mapped = this.mapper ? lines.split("\n").map(this.mapper).join("\n") : lines;
    (stream === "stdout" ? this.out : this.err)(mapped);
  }

  flush(): void {
    for (const s of ["stdout", "stderr"] as const) if (this.partial[s]) this.write(s, Buffer.from("\n"));
  }

  handlers(extra: LinkHandlers = {}): LinkHandlers {
    return {
      console: (s, d) => this.write(s, d),
      dropped: (n) => this.err(`[board] ${n} bytes of console output dropped (the host did not read fast enough)\n`),
      text: (t) => this.err(t.endsWith("\n") ? t : `${t}\n`),
      ...extra,
      event: (e) => {
        if (e.event === "started") this.useImage(e.image);
        extra.event?.(e);
      },
    };
  }
}

export async function connect(port: string, handlers: LinkHandlers): Promise<{ link: BoardLink; caps: Record<string, string> }> {
  const link = await BoardLink.open(port, handlers);
  try {
    return { link, caps: await link.hello() };
  } catch (e) {
    await link.close();
    throw e;
  }
}

/** --port, or the one board present (tools.ts). */
async function portOf(port: string | undefined): Promise<string> {
  return findPort(port);
}

/** An image for the board: built from source for the board's target, or given. */
async function imageFor(input: string, target: Target, typecheck: boolean): Promise<string> {
  if (input.endsWith(".qcam") || isImageFile(input)) return input;
  return (await buildApp(input, { target, typecheck })).image;
}

async function pushImage(link: BoardLink, image: string, log: (s: string) => void): Promise<string> {
  const bytes = fs.readFileSync(image);
  const t0 = performance.now();
  const r = await link.push(bytes);
  remember(r.hash, image);
  const ms = (performance.now() - t0).toFixed(0);
  if (r.skipped) log(`[push] ${path.basename(image)}: the board has it already (${ms} ms)\n`);
  else log(`[push] ${path.basename(image)}: ${bytes.length} bytes${r.delta !== undefined ? ` (as a ${r.delta}-byte delta)` : ""} in ${ms} ms${r.resumedAt ? ` (resumed at ${r.resumedAt})` : ""}\n`);
  return r.hash;
}

/** Ctrl-C, a kill, or the terminal closed (the board's children are in groups of their own: only we hear it). */
function onSignals(f: () => void): () => void {
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const s of signals) process.on(s, f);
  return () => {
    for (const s of signals) process.off(s, f);
  };
}

// ---- qcam board ----------------------------------------------------------------------

export interface BoardOptions {
  target: Target;
  asan?: boolean;
  sdcard?: string;
  baud?: string;
  /** The held key at power-on: start no app (safe mode), just serve. */
  skipAutostart?: boolean;
  /** Where to link the host end (default out/board.tty). */
  link?: string;
  /** More runtime flags for the apps it runs (--board, --display-port, --log-level, --sdcard-size, ...). */
  runtimeArgs?: string[];
}

/** How long an app gets to end by itself when the board is stopped (its recording finished, its files closed). */
const BOARD_STOP_MS = 10_000;

export async function board(opts: BoardOptions): Promise<number> {
  const flavor: Flavor = opts.asan ? "asan" : opts.target;
  ensureFlavor(flavor);
  const relay = path.join(buildDir("host"), "qcam-ptypair");
  if (!fs.existsSync(relay)) buildFlavor("host");
  const sdcard = path.resolve(opts.sdcard ?? path.join(OUT, "sdcard"));
  fs.mkdirSync(sdcard, { recursive: true });
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
  };
  process.on("exit", killAll);
  try {
    // The relay exits by itself when our end of its stdin closes (we are gone).
    const hostLink = path.resolve(opts.link ?? BOARD_LINK);
    const sideLink = opts.link ? `${hostLink}.board-side` : BOARD_SIDE_LINK;
    const args = [hostLink, sideLink, ...(opts.baud ? ["--baud", opts.baud] : [])];
    // Both children in process groups of their own: a terminal's Ctrl-C
    // reaches only us, and the board stops as stop() below says (once,
    // gracefully). Killed outright, we leave neither behind: the relay ends
    // with its stdin, the runtime when its parent is gone (--with-parent).
    const ptys = spawn(relay, args, { stdio: ["pipe", "pipe", "inherit"], detached: true });
    children.push(ptys);
    const line = await new Promise<string>((resolve, reject) => {
      const rl = readline.createInterface({ input: ptys.stdout! });
      rl.once("line", resolve);
      ptys.once("exit", (code) => reject(new BuildError(`qcam-ptypair exited (${code})`)));
    });
    const m = /host=(\S+) board=(\S+)/.exec(line);
    if (!m) throw new BuildError(`qcam-ptypair said '${line}'`);
    // Like a board at power-on: the card's autostart app through trial boot, the link up throughout.
    const argv = [runtimeBinary(flavor), "--serve", m[2], "--sdcard", sdcard, "--echo", "--with-parent", "--boot", ...(opts.skipAutostart ? ["--skip-autostart"] : []), ...(opts.runtimeArgs ?? [])];
    const cmd = opts.target === "riscv64" ? ["qemu-riscv64", ...argv] : argv;
    process.stdout.write(`board: ${m[1]} (also ${path.relative(process.cwd(), hostLink) || hostLink})${opts.baud ? ` at ${opts.baud} baud` : ""}; the board's own end: ${m[2]}\n`);
    return await new Promise<number>((resolve) => {
      let done = false;
      const end = (code: number) => {
        if (done) return;
        done = true;
        off();
        killAll();
        resolve(code);
      };
      // Stopped (Ctrl-C, SIGTERM, the parent's pipe closed): the runtime is
      // asked to stop once, and its app gets time to end by itself — a
      // recording is finished, not cut — before anything is killed.
      let runtime: ChildProcess | undefined;
      let stopping = false;
      const stop = () => {
        if (done || stopping) return;
        stopping = true;
        const r = runtime;
        if (!r || r.exitCode !== null || r.signalCode !== null) return end(0);
        r.kill("SIGTERM");
        const t = setTimeout(() => r.kill("SIGKILL"), BOARD_STOP_MS);
        r.once("exit", () => {
          clearTimeout(t);
          end(0);
        });
      };
      const off = onSignals(stop);
      // Started with a pipe for input (by another program): end with it, so a
      // parent that dies takes the board along.
      if (fs.fstatSync(0).isFIFO()) {
        process.stdin.on("end", stop);
        process.stdin.resume();
      }
      ptys.once("exit", () => end(1));
      // The runtime is the board: when it dies, the board restarts it, as a
      // board resets, on the same line. Five quick deaths in a row end it.
      let quick = 0;
      const start = () => {
        const t0 = Date.now();
        const r = (runtime = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "inherit", "inherit"], detached: true }));
        children.push(r);
        r.once("exit", (code, signal) => {
          if (done || stopping) return;
          quick = Date.now() - t0 < 1000 ? quick + 1 : 0;
          if (quick >= 5) {
            process.stderr.write(`board: the runtime keeps exiting (${signal ?? code}); giving up\n`);
            return end(code ?? 1);
          }
          process.stderr.write(`board: the runtime exited (${signal ?? `code ${code}`}); restarting it\n`);
          start();
        });
      };
      start();
    });
  } finally {
    killAll();
    process.off("exit", killAll);
  }
}

// ---- push, run, stop, logs -------------------------------------------------------------

export interface LinkOptions {
  port?: string;
  typecheck?: boolean;
}

export async function push(input: string, opts: LinkOptions): Promise<number> {
  const { link, caps } = await connect(await portOf(opts.port), {});
  try {
    await pushImage(link, await imageFor(input, targetOfBoard(caps), opts.typecheck !== false), (s) => process.stdout.write(s));
    return 0;
  } finally {
    await link.close();
  }
}

/** Build, push and run; then show the console until the app ends (its exit code). */
export async function runOnBoard(input: string, opts: LinkOptions): Promise<number> {
  const printer = new ConsolePrinter();
  const { link, caps } = await connect(await portOf(opts.port), printer.handlers());
  try {
    const image = await imageFor(input, targetOfBoard(caps), opts.typecheck !== false);
    const hash = await pushImage(link, image, (s) => process.stderr.write(s));
    printer.useImage(hash);
    const exited = link.waitEvent((e) => e.event === "exited" && e.image === hash, 2 ** 31 - 1);
    await link.run(hash);
    let interrupted = false;
    const off = onSignals(() => {
      interrupted = true;
      void link.stop().catch(() => undefined);
    });
    const e = await exited.finally(off);
    printer.flush();
    return interrupted ? 130 : Number(e.code ?? 1);
  } finally {
    await link.close();
  }
}

export async function stop(opts: LinkOptions): Promise<number> {
  const { link } = await connect(await portOf(opts.port), {});
  try {
    const exited = link.waitEvent((e) => e.event === "exited", 10000);
    if (!(await link.stop())) {
      exited.catch(() => undefined);
      process.stdout.write("nothing was running\n");
      return 0;
    }
    const e = await exited;
    process.stdout.write(`stopped (exit code ${e.code})\n`);
    return 0;
  } finally {
    await link.close();
  }
}

export async function logs(opts: LinkOptions): Promise<number> {
  const port = await portOf(opts.port);
  const printer = new ConsolePrinter();
  const log = (s: string) => process.stderr.write(s);
  let link: BoardLink | undefined;
  let stopped = false;
  const handlers = printer.handlers({ event: (e) => log(`[board] ${e.event} ${e.image?.slice(0, 12) ?? ""}${e.code !== undefined ? ` code=${e.code} (${e.reason})` : ""}\n`) });
  // Like qcam dev: a port that goes away (unplugged, reset) is waited for and reopened.
  const connectLoop = async (initial = false): Promise<void> => {
    for (let first = true; !stopped; first = false) {
      try {
        const c = await connect(port, handlers);
        if (stopped) return void (await c.link.close());
        link = c.link;
        printer.useImage(c.caps.image || undefined);
        log(`[board] ${c.caps.board} ${c.caps.target}, runtime ${c.caps.runtime}, ${c.caps.state}${c.caps.image ? ` (${c.caps.image.slice(0, 12)})` : ""}\n`);
        link.onClose(() => {
          link = undefined;
          if (stopped) return;
          printer.flush();
          log(`[board] lost the board on ${port}; waiting for it to come back\n`);
          void connectLoop();
        });
        return;
      } catch (e) {
        if (initial) throw e; // no board at the start: say so and end
        if (first) log(`[board] ${(e as Error).message}; waiting for the board\n`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };
  await connectLoop(true);
  return new Promise<number>((resolve) => {
    const off = onSignals(() => {
      off();
      stopped = true;
      printer.flush();
      void (link?.close() ?? Promise.resolve()).then(() => resolve(0));
    });
  });
}

// ---- qcam dev --------------------------------------------------------------------------

export async function dev(input: string, opts: LinkOptions): Promise<number> {
  const port = await portOf(opts.port);
  const printer = new ConsolePrinter();
  const log = (s: string) => process.stderr.write(s);
  let link: BoardLink | undefined;
  let target: Target = "host";
  let generation = 0;
  let busy = false;
  let again = false;
  let stopped = false;
  const deploy = async (): Promise<void> => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        if (!link) break;
        const t0 = performance.now();
        let image: string;
        try {
          image = await imageFor(input, target, opts.typecheck !== false);
        } catch (e) {
          if (!(e instanceof BuildError)) throw e;
          log(`[dev] build failed; the board keeps running the last good app:\n${e.message}\n`);
          continue;
        }
        const t1 = performance.now();
        const hash = await pushImage(link, image, () => undefined);
        const t2 = performance.now();
        await link.run(hash);
        generation++;
        log(`[dev] #${generation} running ${path.basename(image)} (build ${(t1 - t0).toFixed(0)} ms, push ${(t2 - t1).toFixed(0)} ms)\n`);
      } while (again);
    } catch (e) {
      log(`[dev] ${(e as Error).message}\n`);
    } finally {
      busy = false;
    }
  };
  const handlers = printer.handlers({
    event: (e) => {
      if (e.event === "exited" && e.reason === "exit") log(`[dev] the app ended (exit code ${e.code}); save a file to run it again\n`);
      if (e.event === "boot") {
        log("[dev] the board restarted; running the app again\n");
        void deploy();
      }
    },
  });
  /** Connect, retrying every 250 ms while the port is away (unplugged, reset). */
  const connectLoop = async (): Promise<void> => {
    for (let first = true; !stopped; first = false) {
      try {
        const c = await connect(port, handlers);
        link = c.link;
        target = targetOfBoard(c.caps);
        link.onClose(() => {
          link = undefined;
          if (stopped) return;
          log(`[dev] lost the board on ${port}; waiting for it to come back\n`);
          void connectLoop().then(() => deploy());
        });
        return;
      } catch (e) {
        if (first) log(`[dev] ${(e as Error).message}; waiting for the board\n`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };
  await connectLoop();
  await deploy();
  const dir = fs.statSync(input).isDirectory() ? path.resolve(input) : path.dirname(path.resolve(input));
  let timer: NodeJS.Timeout | undefined;
  const unwatch = watchTree(dir, (f) => {
    if (!/\.(ts|mts|cts|tsx|js|mjs|cjs|jsx|json)$/.test(f)) return;
    clearTimeout(timer);
    timer = setTimeout(() => void deploy(), 30);
  });
  const replOff = replOnStdin(() => link, (t) => printer.map(t));
  log(`[dev] watching ${path.relative(process.cwd(), dir) || "."}; ${process.stdin.isTTY ? "type an expression to evaluate it in the app; " : ""}Ctrl-C stops\n`);
  return new Promise<number>((resolve) => {
    const off = onSignals(() => {
      off();
      stopped = true;
      replOff();
      unwatch();
      clearTimeout(timer);
      printer.flush();
      void (link?.close() ?? Promise.resolve()).then(() => resolve(0));
    });
  });
}

export { LinkError };
