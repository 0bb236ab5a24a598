// Shared test plumbing: build fixture apps once per run, run the runtime.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildApp, type BuiltApp } from "../build/app-build.ts";
import { ROOT, type Flavor, type Target } from "../build/paths.ts";
import { runtimeCommand } from "../build/run.ts";

export const FIXTURES = path.join(ROOT, "test", "fixtures");

const builds = new Map<string, Promise<BuiltApp>>();
/** Build test/fixtures/<name> (or any app path) for a target, once per run. */
export function fixture(name: string, target: Target = "host"): Promise<BuiltApp> {
  const key = `${name}@${target}`;
  let p = builds.get(key);
  if (!p) {
    const input = path.isAbsolute(name) ? name : path.join(FIXTURES, name);
    p = buildApp(input, { target, typecheck: false });
    builds.set(key, p);
  }
  return p;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function tmpDir(prefix = "qcam-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The processes whose parent is `pid` and whose command name is `comm` (from /proc). */
export function childPids(pid: number, comm: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid && stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) === comm) out.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/**
 * Crash an app started with `qcam start`/`qcam run` (node → qcam-runtime in a
 * process group of its own): SIGKILL the runtime itself, as a power cut would
 * stop it; node then exits with it. Killing node alone would leave the
 * runtime running.
 */
export function killRuntime(node: ChildProcess): void {
  const runtimes = childPids(node.pid!, "qcam-runtime");
  assert.ok(runtimes.length > 0, "no runtime process under node");
  for (const p of runtimes) process.kill(p, "SIGKILL");
}

/** Run an image to completion on a flavor (riscv64 through qemu). */
export function runSync(flavor: Flavor, image: string, opts: { args?: string[]; runtimeArgs?: string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const cmd = runtimeCommand(flavor, image, { args: opts.args, runtimeArgs: opts.runtimeArgs, sdcard: tmpDir("qcam-sd-") });
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: opts.timeoutMs ?? 60000, env: opts.env ?? process.env });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Start an image and hand back the child plus a promise of its result. */
export function start(flavor: Flavor, image: string, args: string[] = [], runtimeArgs: string[] = []) {
  const cmd = runtimeCommand(flavor, image, { args, runtimeArgs, sdcard: tmpDir("qcam-sd-") });
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const done = new Promise<RunResult>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  const waitFor = async (text: string, timeoutMs = 20000) => {
    const t0 = Date.now();
    while (!stdout.includes(text)) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for "${text}"; stdout: ${stdout} stderr: ${stderr}`);
      if (child.exitCode !== null) throw new Error(`exited before "${text}"; stdout: ${stdout} stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { child, done, waitFor, output: () => ({ stdout, stderr }) };
}

/** ffprobe's view of a stream file: codec name, size and decoded frame count. */
export function probeStream(file: string): { codec: string; width: number; height: number; frames: number } {
  const r = spawnSync("ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "json", file], { encoding: "utf8" });
  assert.equal(r.status, 0, `ffprobe ${file}: ${r.stderr}`);
  const st = (JSON.parse(r.stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[] }).streams[0];
  return { codec: st.codec_name, width: st.width, height: st.height, frames: Number(st.nb_read_frames) };
}

/** ffmpeg decodes the whole file and says nothing. */
export function assertDecodesClean(file: string): void {
  const r = spawnSync("ffmpeg", ["-v", "error", "-i", file, "-f", "null", "-"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "", `ffmpeg decode of ${file}:\n${r.stderr}`);
}

/** The JSON a fixture printed as `<label> {...}`: its first stdout line that starts so. */
export function reportLine<T>(stdout: string, label: string): T {
  const l = stdout.split("\n").find((x) => x.startsWith(`${label} `));
  assert.ok(l, `no "${label}" line in:\n${stdout}`);
  return JSON.parse(l.slice(label.length + 1)) as T;
}

/** The counters a link's stats() gives, as fixtures print them. */
export interface LinkStats {
  framesIn: number;
  framesEncoded: number;
  framesOut: number;
  drops: { source: number; queue: number; encoder: number; sinks: number[] };
  sinkFrames: number[];
}

/** A link's counters add up: in = encoded + drops, and per sink encoded = written + dropped. */
export function assertLinkAddsUp(s: LinkStats): void {
  assert.equal(s.framesIn, s.framesEncoded + s.drops.queue + s.drops.encoder, "in = encoded + drops");
  s.sinkFrames.forEach((w, i) => assert.equal(s.framesEncoded, w + s.drops.sinks[i], `sink ${i}: encoded = written + dropped`));
}

/** What `fn` throws (failing the test when it returns), with the fields qcam errors carry. */
export function thrown(fn: () => unknown): Error & { code?: string; errno?: number; bytesWritten?: number } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string; errno?: number; bytesWritten?: number };
  }
  throw new Error("nothing was thrown");
}
