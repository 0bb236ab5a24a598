// More dev-link commands (docs/dev-link.md): qcam ports, ls, stat, get, put,
// rm, mkdir and repl; and how a command without --port finds its board.
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { progressBar } from "./progress.ts";
import { BuildError } from "../log.ts";
import { OUT } from "../paths.ts";
import { mapperFor } from "../run.ts";
import { Channel } from "./codec.ts";
import * as files from "./files.ts";
import { BoardLink, LinkError, Status } from "./link.ts";
import { listPorts, type PortInfo } from "./ports.ts";

const PROBE_MS = 1500;
const KNOWN = path.join(OUT, "devlink", "images.json");

/** Say hello on a port for a moment: the board's capabilities, or why not. */
async function probe(p: PortInfo): Promise<{ caps?: Record<string, string>; why?: string }> {
  if (p.busy) return { why: `in use by ${p.busy}` };
  let link: BoardLink | undefined;
  try {
    link = await BoardLink.open(p.path, {});
    return { caps: await link.hello(PROBE_MS) };
  } catch (e) {
    return { why: (e as Error).message };
  } finally {
    await link?.close();
  }
}

/** The port to use: the one given, else the one board present (asked with a
 * hello when there are several candidates). */
export async function findPort(port: string | undefined): Promise<string> {
  if (port) return port;
  const all = listPorts();
  if (all.length === 1) return all[0].path;
  if (all.length === 0) throw new BuildError("no board found: no /dev/ttyACM*, /dev/ttyUSB* or sim board (start one with `qcam board`, or give --port PATH)");
  const answers = await Promise.all(all.map(async (p) => ({ p, ...(await probe(p)) })));
  const boards = answers.filter((a) => a.caps);
  if (boards.length === 1) return boards[0].p.path;
  const list = answers.map((a) => `  ${a.p.path}${a.p.kind ? ` ${a.p.kind}` : ""}: ${a.caps ? `a board (${a.caps.board}, ${a.caps.target})` : a.why}`).join("\n");
  throw new BuildError(`${boards.length === 0 ? "no board answered" : `${boards.length} boards answered`}; say which with --port PATH:\n${list}`);
}

async function open(port: string | undefined): Promise<BoardLink> {
  const link = await BoardLink.open(await findPort(port), {});
  try {
    await link.hello();
    return link;
  } catch (e) {
    await link.close();
    throw e;
  }
}

async function withLink<T>(port: string | undefined, f: (l: BoardLink) => Promise<T>): Promise<T> {
  const link = await open(port);
  try {
    return await f(link);
  } finally {
    await link.close();
  }
}

// ---- qcam ports ----------------------------------------------------------------------

export async function ports(): Promise<number> {
  const all = listPorts();
  if (all.length === 0) {
    process.stdout.write("no serial ports that may be boards (/dev/ttyACM*, /dev/ttyUSB*, a sim board)\n");
    return 0;
  }
  const answers = await Promise.all(all.map(async (p) => ({ p, ...(await probe(p)) })));
  for (const a of answers) {
    const marks = [a.p.kind, a.p.usb && `usb ${a.p.usb}`, a.caps ? `board: ${a.caps.board} ${a.caps.target}, runtime ${a.caps.runtime}, ${a.caps.state}` : a.p.busy ? `busy: ${a.p.busy}` : "no answer"].filter(Boolean);
    process.stdout.write(`${a.caps || a.p.known ? "*" : " "} ${a.p.path}  ${marks.join("; ")}\n`);
  }
  return 0;
}

// ---- files -----------------------------------------------------------------------------

/** Short transfers show no progress; long ones a line per tenth off a terminal. */
const QUIET = { quietBytes: 64 << 10, quietMs: 300, steps: 10 };

export async function lsCmd(p: string | undefined, opts: { port?: string; long?: boolean }): Promise<number> {
  return withLink(opts.port, async (l) => {
    const target = p ?? "/";
    const st = await files.stat(l, target);
    const entries = st.type === "dir" ? await files.ls(l, target) : [st];
    for (const e of entries) {
      const name = e.type === "dir" ? `${e.name}/` : e.name;
      process.stdout.write(opts.long ? `${e.type.padEnd(5)} ${String(e.size).padStart(12)} ${new Date(e.mtime * 1000).toISOString()} ${name}\n` : `${name}\n`);
    }
    return 0;
  });
}

export async function statCmd(p: string, opts: { port?: string }): Promise<number> {
  return withLink(opts.port, async (l) => {
    const st = await files.stat(l, p);
    process.stdout.write(`type=${st.type}\nsize=${st.size}\nmtime=${new Date(st.mtime * 1000).toISOString()}\n`);
    if (st.type === "file") process.stdout.write(`sha256=${(await files.remoteHash(l, p)).hash}\n`);
    return 0;
  });
}

export async function getCmd(remote: string, local: string | undefined, opts: { port?: string }): Promise<number> {
  let dest = local ?? path.basename(remote);
  if (fs.existsSync(dest) && fs.statSync(dest).isDirectory()) dest = path.join(dest, path.basename(remote));
  return withLink(opts.port, async (l) => {
    const bar = progressBar(`get ${remote}`, QUIET);
    const t0 = performance.now();
    const r = await files.get(l, remote, dest, bar.update).finally(bar.end);
    const s = (performance.now() - t0) / 1000;
    process.stdout.write(`${remote} -> ${dest}: ${r.bytes} bytes${r.resumedAt ? ` (went on from ${r.resumedAt})` : ""}, ${((r.bytes - r.resumedAt) / 1024 / s).toFixed(1)} KiB/s, sha256 ${r.hash}\n`);
    return 0;
  });
}

export async function putCmd(local: string, remote: string | undefined, opts: { port?: string }): Promise<number> {
  if (!fs.existsSync(local) || !fs.statSync(local).isFile()) throw new BuildError(`${local}: not a file`);
  return withLink(opts.port, async (l) => {
    let dest = remote ?? `/${path.basename(local)}`;
    if (dest.endsWith("/")) dest += path.basename(local);
    else {
      const st = await files.stat(l, dest).catch(() => undefined);
      if (st?.type === "dir") dest = `${dest}/${path.basename(local)}`;
    }
    const bar = progressBar(`put ${dest}`, QUIET);
    const t0 = performance.now();
    const r = await files.put(l, local, dest, bar.update).finally(bar.end);
    const s = (performance.now() - t0) / 1000;
    if (r.skipped) process.stdout.write(`${local} -> ${dest}: the board has it already\n`);
    else process.stdout.write(`${local} -> ${dest}: ${r.bytes} bytes${r.resumedAt ? ` (went on from ${r.resumedAt})` : ""}, ${((r.bytes - r.resumedAt) / 1024 / s).toFixed(1)} KiB/s, sha256 ${r.hash}\n`);
    return 0;
  });
}

export async function rmCmd(paths: string[], opts: { port?: string }): Promise<number> {
  return withLink(opts.port, async (l) => {
    for (const p of paths) await files.rm(l, p);
    return 0;
  });
}

export async function mkdirCmd(paths: string[], opts: { port?: string }): Promise<number> {
  return withLink(opts.port, async (l) => {
    for (const p of paths) await files.mkdir(l, p);
    return 0;
  });
}

// ---- qcam repl ---------------------------------------------------------------------------

export interface EvalResult {
  ok: boolean;
  text: string;
}

/** Evaluate `expr` in the app running on the board (on its loop). */
export async function evaluate(link: BoardLink, expr: string, timeoutMs = 10000): Promise<EvalResult> {
  const r = await link.request(1, Buffer.from(expr, "utf8"), timeoutMs, Channel.repl, 1000);
  const text = r.body.toString("utf8");
  if (r.status === Status.ok) return { ok: true, text };
  if (r.status === Status.thrown) return { ok: false, text };
  throw new LinkError(`repl: ${r.status === Status.idle ? "no app is running on the board" : text}`, "idle");
}

function traceMapper(hash: string | undefined): (line: string) => string {
  let known: Record<string, string> = {};
  try {
    known = JSON.parse(fs.readFileSync(KNOWN, "utf8")) as Record<string, string>;
  } catch {
    // nothing pushed from here
  }
  const image = hash ? known[hash] : undefined;
  const m = image && fs.existsSync(image) ? mapperFor(image) : undefined;
  return m ?? ((l) => l);
}

/** `qcam dev` with a terminal: each line typed is evaluated in the running
 * app (the port is locked to `qcam dev`, so `qcam repl` cannot join it).
 * Returns a function that stops listening. */
export function replOnStdin(link: () => BoardLink | undefined, map: (text: string) => string): () => void {
  if (!process.stdin.isTTY) return () => undefined;
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  rl.on("line", (line) => {
    const l = link();
    if (!line.trim()) return;
    if (!l) return void process.stderr.write("[repl] no board connected\n");
    evaluate(l, line).then(
      (r) => (r.ok ? process.stdout.write(`${r.text}\n`) : process.stderr.write(map(r.text.endsWith("\n") ? r.text : `${r.text}\n`))),
      (e: Error) => process.stderr.write(`[repl] ${e.message}\n`),
    );
  });
  return () => rl.close();
}

export async function repl(opts: { port?: string; eval?: string[] }): Promise<number> {
  const link = await BoardLink.open(await findPort(opts.port), {});
  try {
    const caps = await link.hello();
    const map = traceMapper(caps.image || undefined);
    const show = (r: EvalResult) => {
      const text = r.text.endsWith("\n") ? r.text : `${r.text}\n`;
      if (r.ok) process.stdout.write(text);
      else process.stderr.write(text.split("\n").map(map).join("\n"));
    };
    if (opts.eval?.length) {
      let code = 0;
      for (const e of opts.eval) {
        const r = await evaluate(link, e);
        show(r);
        if (!r.ok) code = 1;
      }
      return code;
    }
    if (caps.state !== "running") process.stderr.write("(no app is running on the board yet)\n");
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: process.stdin.isTTY ? "board> " : "", terminal: process.stdin.isTTY });
    rl.prompt();
    for await (const line of rl) {
      if (line.trim()) {
        try {
          show(await evaluate(link, line));
        } catch (e) {
          process.stderr.write(`${(e as Error).message}\n`);
        }
      }
      rl.prompt();
    }
    return 0;
  } finally {
    await link.close();
  }
}
