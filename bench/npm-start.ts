// `npm start` to the recorder's first line when nothing changed: what a user
// waits for on the second and every later start. One warm-up start builds
// whatever is missing (and leaves setup's and the build's stamps) and flashes
// the recorder onto the card; then each round times, from just before spawn()
// to the stdout chunk holding the recorder's first line ("qcam recorder ..."),
// `npm start` itself — npm, bin/setup.mjs, bin/qcam.mjs start (the unchanged
// re-flash, which writes nothing), the sim board's relay and runtime, the
// trial boot, the app's first statement —
// against the peer, `node -e` printing a line: the floor any Node-started
// command pays. The recorder is then stopped with Ctrl-C (SIGINT to its process
// group). setup alone and qcam start alone run in the same rounds, for the
// notes; the order rotates each round; each figure is a median.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { OUT, ROOT } from "../build/paths.ts";
import { median, type BenchResult, type BenchRow } from "./startup.ts";

export interface NpmStartOptions {
  runs: number;
  log: (msg: string) => void;
}

const FIRST_LINE = /^qcam recorder .*$/m;
const GOAL_MS = 1000;

interface Timed {
  firstMs: number;
  line: string;
}

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // the tsx loader of this process must not reach the children
  return env;
}

/** Spawn argv in a process group of its own; time the first stdout line matching `marker`; SIGINT the group then; wait for the exit. */
function timeToLine(argv: readonly string[], marker: RegExp, timeoutMs = 60000): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: childEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let result: Timed | undefined;
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => signal("SIGKILL"), timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const m = result === undefined ? marker.exec(stdout) : null;
      if (m) {
        result = { firstMs: Number(process.hrtime.bigint() - t0) / 1e6, line: m[0] };
        signal("SIGINT");
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(`${argv.join(" ")}: no line matching ${marker} (exit ${sig ?? code})\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

/** Spawn argv and time it to its exit (it must succeed and print nothing: setup that found its stamp). */
function timeToExit(argv: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.on("error", reject);
    child.on("close", (code) => {
      const t = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0 || out !== "") reject(new Error(`${argv.join(" ")}: exit ${code}, expected a silent success (its stamp):\n${out}`));
      else resolve(t);
    });
  });
}

const ms = (v: number): string => `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`;
const show = (argv: readonly string[]): string => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");

export async function runNpmStartBenchmark(opts: NpmStartOptions): Promise<BenchResult> {
  const card = path.join(OUT, "bench", "npm-start", "sdcard");
  const rel = path.relative(ROOT, card);
  const link = path.relative(ROOT, path.join(OUT, "bench", "npm-start", "board.tty"));
  const boardArgs = ["--sdcard", rel, "--link", link, "--no-display-url"];
  const npmStart = ["npm", "start", "--", ...boardArgs];
  const peer = [process.execPath, "-e", 'console.log("qcam recorder (node -e)")'];
  const freshCard = () => {
    fs.rmSync(card, { recursive: true, force: true });
    fs.mkdirSync(card, { recursive: true });
  };

  opts.log("npm start: a warm-up start (builds what is missing, leaves the stamps)");
  freshCard();
  await timeToLine(npmStart, FIRST_LINE, 600000);

  // The parts, for the notes: setup's check alone (to its exit) and qcam start alone (to the first line).
  const setup = [process.execPath, "bin/setup.mjs", "start"];
  const qcamStart = [process.execPath, "bin/qcam.mjs", "start", ...boardArgs];
  const qcam: number[] = [];
  const node: number[] = [];
  const setupMs: number[] = [];
  const qcamMs: number[] = [];
  opts.log(`npm start: ${opts.runs} rounds of npm start, node -e, setup alone and qcam start alone, order rotating`);
  const variants: [number[], readonly string[], RegExp][] = [
    [qcam, npmStart, FIRST_LINE],
    [node, peer, FIRST_LINE],
    [setupMs, setup, /$/],
    [qcamMs, qcamStart, FIRST_LINE],
  ];
  for (let round = 0; round < opts.runs; round++) {
    for (let i = 0; i < variants.length; i++) {
      const [into, argv, marker] = variants[(i + round) % variants.length];
      into.push(argv === setup ? await timeToExit(argv) : (await timeToLine(argv, marker)).firstMs);
    }
  }

  const q = median(qcam);
  const n = median(node);
  const row: BenchRow = {
    benchmark: "npm start to the recorder's first line, nothing changed",
    qcam: ms(q),
    peer: ms(n),
    ratio: `${(q / n).toFixed(1)}× (npm start / node -e)`,
    goal: `≤ 1 s — ${q <= GOAL_MS ? "met" : "**missed**"}`,
    command: `qcam: \`${show(npmStart)}\`<br>peer: \`${show(peer)}\``,
  };
  const spread = (xs: number[]) => `${ms(Math.min(...xs))} … ${ms(Math.max(...xs))}`;
  const notes = [
    `npm start, nothing changed: median of ${opts.runs} rounds after one warm-up start, with setup alone and qcam start alone in the rotation (order rotating each round); from spawn() to the stdout chunk holding the recorder's first line ("qcam recorder ..."); range npm start ${spread(qcam)}, node -e ${spread(node)}. It covers npm, bin/setup.mjs (which finds its stamp, out/setup-start.json, matching and stops), bin/qcam.mjs (the CLI from its esbuild bundle in out/tooling; the recorder's image reused because its build stamp matches: no tsc, esbuild or qcam-compile), the re-flash of the recorder onto the card (${rel}; unchanged since the warm-up, so nothing is written) and the sim board up to the app's first line (its relay, qcam-runtime --serve --boot, the trial boot); each round is stopped with SIGINT at that line`,
    `npm start's parts, medians of the same rounds: \`${show(setup)}\` to its exit ${ms(median(setupMs))}; \`${show(qcamStart)}\` to the recorder's first line ${ms(median(qcamMs))}; the rest of npm start is npm and its shell`,
  ];
  return { rows: [row], notes };
}
