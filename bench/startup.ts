// Startup benchmark: the synthetic app from gen-bundle.ts, built once, then
// started over and over from this process.
//   - qcam-runtime on the image vs node on the same esbuild bundle
//   - qcam-runtime on the image vs qcam-runtime --source on that bundle
// Timings are taken here with process.hrtime.bigint(): from just before
// spawn() to the first stdout chunk holding the marker, and to the child's
// exit. Peak RSS is measured outside both programs the same way: GNU time's
// %M (the child's ru_maxrss, KiB). Every figure is a median; the variants
// run interleaved, their order rotating each round. Nothing is asserted.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildApp, ensureFlavor, type BuiltApp } from "../build/app-build.ts";
import { ROOT, runtimeBinary } from "../build/paths.ts";
import { STARTUP_MARKER, generateStartupApp, type GeneratedApp } from "./gen-bundle.ts";

export const GNU_TIME = "/usr/bin/time";

export interface BenchRow {
  benchmark: string;
  qcam: string;
  peer: string;
  ratio: string;
  goal: string;
  command: string;
}

export interface BenchResult {
  rows: BenchRow[];
  notes: string[];
}

export interface StartupOptions {
  runs: number;
  warmup: number;
  log: (msg: string) => void;
}

interface Variant {
  label: string;
  argv: string[]; // relative to ROOT, exactly as spawned
}

interface TimedRun {
  firstMs: number;
  exitMs: number;
  stdout: string;
}

// ---- measuring one process ---------------------------------------------------

/** Children get our environment minus NODE_OPTIONS (the tsx loader must not reach the node peer). */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

function show(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  firstMs?: number;
  exitMs: number;
}

/** Spawn argv; note when `marker` first shows on stdout and when the process exits. */
function run(argv: readonly string[], marker?: string): Promise<Finished> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    let firstMs: number | undefined;
    let exitMs = 0;
    let code: number | null = null;
    let signal: NodeJS.Signals | null = null;
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (firstMs === undefined && marker !== undefined && stdout.includes(marker)) firstMs = msSince(t0);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("exit", (c, s) => {
      exitMs = msSince(t0);
      code = c;
      signal = s;
    });
    child.on("close", () => resolve({ code, signal, stdout, stderr, firstMs, exitMs }));
  });
}

function failed(argv: readonly string[], r: Finished, why: string): Error {
  return new Error(`${show(argv)}: ${why} (exit ${r.signal ?? r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

async function timedRun(v: Variant): Promise<TimedRun> {
  const r = await run(v.argv, `${STARTUP_MARKER}\n`);
  if (r.code !== 0) throw failed(v.argv, r, "failed");
  if (r.firstMs === undefined || !r.stdout.startsWith(`${STARTUP_MARKER}\n`))
    throw failed(v.argv, r, `did not print '${STARTUP_MARKER}' first`);
  return { firstMs: r.firstMs, exitMs: r.exitMs, stdout: r.stdout };
}

function rssArgv(v: Variant): string[] {
  return [GNU_TIME, "-f", "%M", ...v.argv];
}

/** Peak RSS in KiB from GNU time (the last line it writes to stderr). */
async function rssRun(v: Variant): Promise<number> {
  const argv = rssArgv(v);
  const r = await run(argv);
  const last = r.stderr.trimEnd().split("\n").pop() ?? "";
  if (r.code !== 0 || !/^\d+$/.test(last)) throw failed(argv, r, "no peak RSS from GNU time");
  return Number(last);
}

/** qcam's own view: --stats prints VmHWM and the time from main() to exit. */
async function statsRun(argv: readonly string[]): Promise<{ rssKb: number; runMs: number }> {
  const r = await run(argv);
  const m = /qcam-stats: peak_rss_kb=(\d+) run_ms=([\d.]+)/.exec(r.stderr);
  if (r.code !== 0 || !m) throw failed(argv, r, "no qcam-stats line");
  return { rssKb: Number(m[1]), runMs: Number(m[2]) };
}

// ---- statistics and formatting -------------------------------------------------

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const ms = (v: number): string => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
const mib = (kb: number): string => `${(kb / 1024).toFixed(2)} MiB`;
const times = (r: number): string => `${r < 10 ? r.toFixed(2) : r.toFixed(1)}×`;
const code = (argv: readonly string[]): string => `\`${show(argv)}\``;
const verdict = (met: boolean): string => (met ? "met" : "**missed**");

// ---- the benchmark ---------------------------------------------------------------

function rel(p: string): string {
  return path.relative(ROOT, p) || ".";
}

export async function runStartupBenchmark(opts: StartupOptions): Promise<BenchResult> {
  const gen: GeneratedApp = generateStartupApp();
  opts.log(`startup: generated ${rel(gen.entry)} (${(gen.bytes / 1024).toFixed(0)} KiB, ${gen.features} features)`);
  const built: BuiltApp = await buildApp(gen.dir, { target: "host" });
  // The lean runtime: static, no libavcodec — what a board runs.
  ensureFlavor("lean");
  const runtime = rel(runtimeBinary("lean"));
  const image = rel(built.image);
  const bundle = rel(built.bundle);
  const hasTime = fs.existsSync(GNU_TIME);

  const qcam: Variant = { label: "qcam image", argv: [runtime, image] };
  const node: Variant = { label: "node bundle", argv: [process.execPath, bundle] };
  const source: Variant = { label: "qcam --source", argv: [runtime, "--source", bundle] };
  const variants = [qcam, node, source];
  const floorArgv = ["/bin/true"];
  const statsArgv = [runtime, "--stats", image];

  const timed = new Map(variants.map((v): [Variant, TimedRun[]] => [v, []]));
  const rss = new Map(variants.map((v): [Variant, number[]] => [v, []]));
  const floor: number[] = [];
  const stats: { rssKb: number; runMs: number }[] = [];

  const rounds = opts.warmup + opts.runs;
  opts.log(`startup: ${opts.runs} rounds (+${opts.warmup} warm-up) of ${variants.map((v) => v.label).join(", ")}`);
  for (let round = 0; round < rounds; round++) {
    const keep = round >= opts.warmup;
    const order = variants.map((_, i) => variants[(i + round) % variants.length]);
    for (const v of order) {
      const t = await timedRun(v);
      if (keep) timed.get(v)?.push(t);
    }
    if (hasTime)
      for (const v of order) {
        const kb = await rssRun(v);
        if (keep) rss.get(v)?.push(kb);
      }
    const f = await run(floorArgv);
    const s = await statsRun(statsArgv);
    if (keep) {
      floor.push(f.exitMs);
      stats.push(s);
    }
  }

  // The three must agree on what the app printed, or the comparison is void.
  const outputs = new Set(variants.flatMap((v) => (timed.get(v) ?? []).map((t) => t.stdout)));
  if (outputs.size !== 1) throw new Error(`the variants printed different output:\n${[...outputs].join("\n---\n")}`);

  const first = (v: Variant) => median((timed.get(v) ?? []).map((t) => t.firstMs));
  const exit = (v: Variant) => median((timed.get(v) ?? []).map((t) => t.exitMs));
  const peak = (v: Variant) => median(rss.get(v) ?? []);
  const both = (a: readonly string[], b: readonly string[]) => `qcam: ${code(a)}<br>peer: ${code(b)}`;

  const rows: BenchRow[] = [];
  const firstRatio = first(node) / first(qcam);
  rows.push(
    {
      benchmark: "time to first statement: image vs node",
      qcam: ms(first(qcam)),
      peer: ms(first(node)),
      ratio: `${times(firstRatio)} (node/qcam)`,
      goal: `≥ 10× — ${verdict(firstRatio >= 10)}`,
      command: both(qcam.argv, node.argv),
    },
    {
      benchmark: "time to exit: image vs node",
      qcam: ms(exit(qcam)),
      peer: ms(exit(node)),
      ratio: `${times(exit(node) / exit(qcam))} (node/qcam)`,
      goal: "—",
      command: both(qcam.argv, node.argv),
    },
  );
  if (hasTime)
    rows.push({
      benchmark: "peak RSS: image vs node",
      qcam: mib(peak(qcam)),
      peer: mib(peak(node)),
      ratio: `${times(peak(node) / peak(qcam))} (node/qcam)`,
      goal: `qcam ≤ 4 MiB — ${verdict(peak(qcam) <= 4096)}`,
      command: both(rssArgv(qcam), rssArgv(node)),
    });
  rows.push(
    {
      benchmark: "time to first statement: image vs --source",
      qcam: ms(first(qcam)),
      peer: ms(first(source)),
      ratio: `${times(first(source) / first(qcam))} (source/image)`,
      goal: "—",
      command: both(qcam.argv, source.argv),
    },
    {
      benchmark: "time to exit: image vs --source",
      qcam: ms(exit(qcam)),
      peer: ms(exit(source)),
      ratio: `${times(exit(source) / exit(qcam))} (source/image)`,
      goal: "—",
      command: both(qcam.argv, source.argv),
    },
  );
  if (hasTime)
    rows.push({
      benchmark: "peak RSS: image vs --source",
      qcam: mib(peak(qcam)),
      peer: mib(peak(source)),
      ratio: `${times(peak(source) / peak(qcam))} (source/image)`,
      goal: "—",
      command: both(rssArgv(qcam), rssArgv(source)),
    });

  const size = (p: string) => `${(fs.statSync(path.join(ROOT, p)).size / 1024).toFixed(0)} KiB`;
  const notes = [
    `app: ${rel(gen.entry)} ${(gen.bytes / 1024).toFixed(0)} KiB TypeScript (${gen.features} feature classes) → bundle ${bundle} ${size(bundle)} → image ${image} ${size(image)}`,
    `runs: median of ${opts.runs} per cell after ${opts.warmup} warm-up rounds, variants interleaved; node ${process.version} (${process.execPath}); quickjs-ng ${built.info.engine}, qcam-runtime ${runtime} ${size(runtime)}`,
    `spawn floor: \`/bin/true\` exits ${ms(median(floor))} after spawn() from this harness — every timing above includes this fixed cost`,
    `in-process (qcam's own \`--stats\`, ${code(statsArgv)}): main() to exit ${ms(median(stats.map((s) => s.runMs)))}, VmHWM ${mib(median(stats.map((s) => s.rssKb)))}`,
    hasTime
      ? "peak RSS: GNU time `%M` (the child's ru_maxrss in KiB) for both programs; MiB = 1024 KiB"
      : `peak RSS: not measured — ${GNU_TIME} is missing (Debian package \`time\`; \`node bin/setup.mjs bench\` installs it)`,
  ];
  return { rows, notes };
}
