// Shared test plumbing: build fixture apps once per run, run the runtime.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from "node:child_process";
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

// ---- children --------------------------------------------------------------
// Every process the suite starts goes through spawnChild / run / spawnSyncChild
// (test/unit/children.test.ts refuses node:child_process anywhere else in
// test/). An asynchronous child is killed, with everything it started, on every
// path: when the test (or hook) that started it ends, passes, fails or times
// out, when a waitFor() on it gives up, and when the mocha process exits. A
// synchronous one always runs under a timeout (SIGKILL when it passes).

/** Every process below `pid` (children, their children, ...), from /proc. */
export function descendants(pid: number): number[] {
  const kids = new Map<number, number[]>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(name)]);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const k of kids.get(p) ?? []) {
      out.push(k);
      walk(k);
    }
  };
  walk(pid);
  return out;
}

/** SIGKILL a process and everything below it (the tree is read first: a killed
 * parent's children would be handed to init and lost from view). */
export function killTree(pid: number): void {
  for (const p of [...descendants(pid), pid]) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

const running = new Set<ChildProcess>(); // killed after each test
const suiteLong = new Set<ChildProcess>(); // shared by a suite's tests: killed by its after(), else at the end
const killSet = (set: Set<ChildProcess>) => {
  for (const c of set) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) killTree(c.pid);
};
const killAll = () => killSet(running);
process.on("exit", () => {
  killSet(running);
  killSet(suiteLong);
});
// Root hooks (this module is loaded while mocha collects the suites; outside
// mocha — the fuzz and bench scripts — there is no afterEach).
if (typeof afterEach === "function") {
  afterEach(killAll);
  after(() => {
    killSet(running);
    killSet(suiteLong);
  });
}

export interface Started {
  child: ChildProcess;
  /** The exit: code, signal and all output. */
  done: Promise<RunResult>;
  /** Wait until stdout (or stderr too, with `anyStream`) holds `text`; kills the child and throws when it exits first or `timeoutMs` passes. */
  waitFor(text: string | RegExp, timeoutMs?: number, anyStream?: boolean): Promise<void>;
  output(): { stdout: string; stderr: string };
  /** SIGKILL the child and everything it started. */
  kill(): void;
  /** Send a signal to the child (to its whole process group, when started with `group`). */
  signal(sig: NodeJS.Signals): void;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** "ignore" to discard the child's stdout (a client that writes megabytes nobody reads). */
  stdout?: "pipe" | "ignore";
  /** Kill the child (and its tree) when it is still running after this long. */
  timeoutMs?: number;
  /** Also hand each piece of output (stdout and stderr) here as it comes. */
  onData?: (text: string) => void;
  /** "suite": the child outlives one test (started in a before() hook and shared); the suite's after() kills it, else mocha's end does. Default "test". */
  lifetime?: "test" | "suite";
  /** "pipe": the child gets a stdin (ended when it exits); default "ignore". */
  stdin?: "pipe" | "ignore";
  /** Start it in a process group of its own, so signal() reaches all it started (as a terminal's Ctrl-C does). */
  group?: boolean;
}

/** Start a child process the suite keeps track of (see above). */
export function spawnChild(cmd: string, args: string[], opts: SpawnOptions = {}): Started {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.stdin ?? "ignore", opts.stdout ?? "pipe", "pipe"], detached: opts.group === true });
  const set = opts.lifetime === "suite" ? suiteLong : running;
  set.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    opts.onData?.(d);
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    opts.onData?.(d);
  });
  const kill = () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) killTree(child.pid);
  };
  const timer = opts.timeoutMs ? setTimeout(kill, opts.timeoutMs) : undefined;
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on("error", (e) => {
      set.delete(child);
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      set.delete(child);
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  done.catch(() => undefined); // the error is reported to whoever awaits done
  const waitFor = async (text: string | RegExp, timeoutMs = 60000, anyStream = false) => {
    const t0 = Date.now();
    const seen = () => {
      const s = anyStream ? stdout + stderr : stdout;
      return typeof text === "string" ? s.includes(text) : text.test(s);
    };
    while (!seen()) {
      if (child.exitCode !== null || child.signalCode !== null) {
        // All its output read (unless something it started holds the pipes: then not for long).
        await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
        if (seen()) return;
        kill();
        throw new Error(`${path.basename(cmd)} exited before ${String(text)}; stdout: ${stdout} stderr: ${stderr}`);
      }
      if (Date.now() - t0 > timeoutMs) {
        kill();
        throw new Error(`${path.basename(cmd)} timed out waiting for ${String(text)}; stdout: ${stdout} stderr: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  child.on("exit", () => child.stdin?.destroy());
  const signal = (sig: NodeJS.Signals) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(opts.group ? -child.pid : child.pid, sig);
    } catch {
      // gone meanwhile
    }
  };
  return { child, done, waitFor, output: () => ({ stdout, stderr }), kill, signal };
}

/** Run a child to its end (killed after `timeoutMs`, default 120 s). */
export function run(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<RunResult> {
  return spawnChild(cmd, args, { timeoutMs: 120_000, ...opts }).done;
}

/** spawnSync, with a timeout always (default 120 s, then SIGKILL). Only for a
 * process that starts no processes of its own that could outlive it. */
export const spawnSyncChild = ((cmd: string, args: readonly string[] = [], opts: SpawnSyncOptions = {}) =>
  spawnSync(cmd, args, { maxBuffer: 256 << 20, killSignal: "SIGKILL", ...opts, timeout: opts.timeout ?? 120_000 })) as typeof spawnSync;

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
  const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: opts.timeoutMs ?? 60000, env: opts.env ?? process.env });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Start an image and hand back the child plus a promise of its result (killed at the test's end at the latest). */
export function start(flavor: Flavor, image: string, args: string[] = [], runtimeArgs: string[] = [], opts: { sdcard?: string; lifetime?: "test" | "suite" } = {}): Started {
  const cmd = runtimeCommand(flavor, image, { args, runtimeArgs, sdcard: opts.sdcard ?? tmpDir("qcam-sd-") });
  return spawnChild(cmd[0], cmd.slice(1), { lifetime: opts.lifetime });
}

/** ffprobe's view of a stream file: codec name, size and decoded frame count. */
export function probeStream(file: string): { codec: string; width: number; height: number; frames: number } {
  const r = spawnSyncChild("ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "json", file], { encoding: "utf8" });
  assert.equal(r.status, 0, `ffprobe ${file}: ${r.stderr}`);
  const st = (JSON.parse(r.stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[] }).streams[0];
  return { codec: st.codec_name, width: st.width, height: st.height, frames: Number(st.nb_read_frames) };
}

/** ffmpeg decodes the whole file and says nothing. `keepTimestamps`: frames keep the file's own
 * times (-fps_mode passthrough) in the file's own time base (-enc_time_base -1) instead of being
 * fitted to the frame rate, as for streams pulled back from a media server: their millisecond
 * times (50, 83, 116 ms ...) would land two in one 1/30 s slot, which ffmpeg complains about
 * although every frame decodes. */
export function assertDecodesClean(file: string, opts: { keepTimestamps?: boolean } = {}): void {
  const timing = opts.keepTimestamps ? ["-fps_mode", "passthrough", "-enc_time_base", "-1"] : [];
  const r = spawnSyncChild("ffmpeg", ["-v", "error", "-i", file, ...timing, "-f", "null", "-"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "", `ffmpeg decode of ${file}:\n${r.stderr}`);
}

/** VLC's reading of a transport stream: its TS demuxer and video packetizer copy the video out
 * as an elementary stream (`--sout #std{mux=raw}`), whose pictures ffprobe then counts, and every
 * warning VLC prints about the stream (a continuity break, a broken PES) is returned in `warnings`.
 * VLC emits a video PES whose header gives no length (PES_packet_length 0, as ffmpeg's mpegts muxer
 * writes every video PES) only when the next one begins, so such a file's last frame is not counted;
 * a PES that carries its length is read to the end. VLC will not run as root: as root it runs as
 * the user nobody, on a copy in a folder open to it. */
export function vlcRead(file: string): { codec: string; width: number; height: number; frames: number; warnings: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qcam-vlc-"));
  try {
    fs.chmodSync(dir, 0o777);
    const input = path.join(dir, "in.ts");
    fs.copyFileSync(file, input);
    fs.chmodSync(input, 0o644);
    const es = path.join(dir, "video.es");
    const vlc = ["cvlc", "-I", "dummy", "--aout=dummy", "--no-dbus", "--no-audio", "-v", input, "--sout", `#std{access=file,mux=raw,dst=${es}}`, "vlc://quit"];
    const asNobody = process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    const cmd = [...asNobody, ...vlc];
    const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", env: { ...process.env, HOME: dir }, timeout: 60_000 });
    assert.equal(r.status, 0, `cvlc ${file}: ${r.stderr}`);
    // VLC's own start-up chatter (no interface, no session bus) and the end of input are not about
    // the stream; nor is "buffer deadlock prevented": its input, still buffering at the start,
    // found the decoder idle with nothing queued (a file of a frame or two that ended first), which
    // depends on thread timing. The frames VLC wrote out are judged below.
    const warnings = r.stderr.split("\n").filter((l) => / (warning|error): /.test(l) && !/interface|no more input streams|buffer deadlock prevented/.test(l));
    assert.ok(fs.existsSync(es) && fs.statSync(es).size > 0, `VLC wrote no video from ${file}:\n${r.stderr}`);
    return { ...probeStream(es), warnings };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** VLC reads the whole transport stream without a warning: its codec ("h264"/"hevc"), size and
 * frames (every frame when the last PES gives its length, as qcam:ts writes whatever fits). */
export function assertVlcReads(file: string, want: { codec: string; width: number; height: number; frames: number }): void {
  const v = vlcRead(file);
  assert.deepEqual({ ...v }, { ...want, warnings: [] }, `VLC's reading of ${file}`);
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

/**
 * A count from the environment variable `name` (`def` when unset). Below
 * `floor` it is refused: a run shortened to nothing (QCAM_CRASH_TRIALS=0)
 * would pass without trying anything.
 */
export function envCount(name: string, def: number, floor: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < floor) throw new Error(`${name}=${raw}: must be a whole number of at least ${floor} (default ${def})`);
  return n;
}
