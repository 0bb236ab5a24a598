// The dev link (docs/dev-link.md): how long from saving a file to the new
// code's first statement running on the board, with `qcam dev` on a sim
// board at pty speed, over edits of the recorder app (a copy of app/ under
// out/bench/devlink/, id bench-devlink-recorder); and a push of an image the
// board already holds. The split comes from `qcam dev`'s own report per
// reload (build, push); the rest is the file watch, the run request, the
// old app's stop and unload and the new one's load.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import * as files from "../build/devlink/files.ts";
import { BoardLink } from "../build/devlink/link.ts";
import { OUT, ROOT } from "../build/paths.ts";
import type { BenchResult, BenchRow } from "./startup.ts";

export interface DevlinkOptions {
  runs: number;
  log: (msg: string) => void;
}

const DIR = path.join(OUT, "bench", "devlink");
const CLI = path.join(ROOT, "bin", "qcam.mjs");

interface Proc {
  child: ChildProcess;
  out: string;
  err: string;
}

function qcam(argv: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...argv], { cwd: ROOT, detached: true, stdio: ["pipe", "pipe", "pipe"] });
  const p: Proc = { child, out: "", err: "" };
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (p.out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (p.err += d));
  child.on("exit", () => child.stdin?.destroy());
  return p;
}

async function until(what: string, f: () => boolean, timeoutMs = 120000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`dev-link bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function stopGroup(p: Proc, sig: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once("exit", () => resolve());
    try {
      process.kill(-p.child.pid!, sig);
    } catch {
      resolve();
    }
  });
}

const pct = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

/** A copy of the recorder to edit. */
function recorderCopy(): string {
  const dir = path.join(DIR, "recorder");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "src"), { recursive: true });
  for (const f of fs.readdirSync(path.join(ROOT, "app", "src"))) fs.copyFileSync(path.join(ROOT, "app", "src", f), path.join(dir, "src", f));
  fs.writeFileSync(path.join(dir, "app.json"), JSON.stringify({ id: "bench-devlink-recorder", name: "qcam recorder (dev-link bench)", version: "0.1.0" }));
  return dir;
}

/** main.ts with `console.log(marker)` as the first statement after the imports. */
function withMarker(source: string, marker: string): string {
  const lines = source.split("\n");
  let last = -1;
  lines.forEach((l, i) => {
    if (/^import\s/.test(l) || (last >= 0 && i === last + 1 && /^\s+[\w{},\s]*from\s/.test(l))) last = i;
  });
  lines.splice(last + 1, 0, `console.log(${JSON.stringify(marker)});`);
  return lines.join("\n");
}

interface Edits {
  total: number[];
  build: number[];
  push: number[];
}

async function editLoop(port: string, app: string, original: string, runs: number, typecheck: boolean, log: (m: string) => void, name = ""): Promise<Edits> {
  const main = path.join(app, "src", "main.ts");
  const tag = `${name}${typecheck ? "tc" : "notc"}`;
  fs.writeFileSync(main, withMarker(original, `qcam-bench ${tag} 0`));
  const dev = qcam(["dev", app, "--port", port, ...(typecheck ? [] : ["--no-typecheck"])]);
  const edits: Edits = { total: [], build: [], push: [] };
  try {
    await until("the first generation", () => dev.out.includes(`qcam-bench ${tag} 0\n`));
    for (let i = 1; i <= runs; i++) {
      const marker = `qcam-bench ${tag} ${i}`;
      const reports = (dev.err.match(/\[dev\] #\d+ running/g) ?? []).length;
      // A new mtime second, so the build stamp can never take the edit for the old file.
      const t0 = performance.now();
      fs.writeFileSync(main, withMarker(original, marker));
      await until(`edit ${i}`, () => dev.out.includes(`${marker}\n`));
      edits.total.push(performance.now() - t0);
      await until(`edit ${i}'s report`, () => (dev.err.match(/\[dev\] #\d+ running/g) ?? []).length > reports);
      const m = [...dev.err.matchAll(/\[dev\] #\d+ running \S+ \(build (\d+) ms, push (\d+) ms\)/g)].pop()!;
      edits.build.push(Number(m[1]));
      edits.push.push(Number(m[2]));
      await new Promise((r) => setTimeout(r, 300)); // let the new generation start recording
    }
    log(`bench: dev-link edits (${tag}): ${edits.total.map((x) => x.toFixed(0)).join(" ")} ms`);
    return edits;
  } catch (e) {
    throw new Error(`${(e as Error).message}; qcam dev said:\n${dev.err.slice(-2000)}`);
  } finally {
    await stopGroup(dev, "SIGINT");
  }
}

/** A board paced to `baud`; its port. */
async function slowBoard(baud: number, sdcard: string): Promise<{ board: Proc; port: string }> {
  fs.rmSync(sdcard, { recursive: true, force: true });
  const board = qcam(["board", "--sdcard", sdcard, "--baud", String(baud)]);
  await until("the board", () => /board: (\S+)/.test(board.out));
  return { board, port: /board: (\S+)/.exec(board.out)![1] };
}

interface Throughput {
  baud: number;
  bytes: number;
  put: number; // bytes/s
  get: number;
}

/** put then get one file on a board paced to `baud`: the bytes per second of each. */
async function throughput(baud: number, seconds: number, log: (m: string) => void): Promise<Throughput> {
  const line = baud / 10; // 8N1: ten bits a byte
  const bytes = Math.round((line * seconds) / 4096) * 4096;
  const local = path.join(DIR, `tp-${baud}.bin`);
  fs.writeFileSync(local, randomBytes(bytes));
  const { board, port } = await slowBoard(baud, path.join(DIR, `sdcard-${baud}`));
  try {
    const link = await BoardLink.open(port);
    try {
      await link.hello();
      let t0 = performance.now();
      const p = await files.put(link, local, "/tp.bin");
      const put = bytes / ((performance.now() - t0) / 1000);
      if (p.skipped) throw new Error("dev-link bench: the put was skipped");
      const back = path.join(DIR, `tp-${baud}.back`);
      fs.rmSync(`${back}.part`, { force: true });
      t0 = performance.now();
      await files.get(link, "/tp.bin", back);
      const get = bytes / ((performance.now() - t0) / 1000);
      log(`bench: files at ${baud} baud: ${bytes} bytes, put ${(put / line * 100).toFixed(1)}%, get ${(get / line * 100).toFixed(1)}% of the line`);
      return { baud, bytes, put, get };
    } finally {
      await link.close();
    }
  } finally {
    await stopGroup(board, "SIGTERM");
  }
}

/** Rows for file transfers and save→run over a paced line. */
async function slowLine(opts: DevlinkOptions, app: string, original: string): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const baud of [115200, 921600]) {
    const t = await throughput(baud, baud === 115200 ? 6 : 8, opts.log);
    const line = baud / 10;
    const share = Math.min(t.put, t.get) / line;
    rows.push({
      benchmark: `file transfer at ${baud} baud (8N1, ${(line / 1024).toFixed(1)} KiB/s of line): a ${(t.bytes / 1024).toFixed(0)} KiB file put, then got back`,
      qcam: `put ${(t.put / 1024).toFixed(2)} KiB/s, get ${(t.get / 1024).toFixed(2)} KiB/s`,
      peer: `the line: ${(line / 1024).toFixed(2)} KiB/s`,
      ratio: `put ${((t.put / line) * 100).toFixed(1)}%, get ${((t.get / line) * 100).toFixed(1)}%`,
      goal: `≥ 85% — ${share >= 0.85 ? "met" : "**missed**"}`,
      command: `\`qcam board --baud ${baud}\`; \`files.put\` / \`files.get\` (build/devlink/files.ts) of a random file, timed from the request to the last byte verified`,
    });
  }
  const { board, port } = await slowBoard(115200, path.join(DIR, "sdcard-115200"));
  try {
    const e = await editLoop(port, app, original, Math.min(opts.runs, 10), false, opts.log, "baud115200-");
    const p50 = pct(e.total, 0.5);
    rows.push({
      benchmark: `save → the new code's first statement running on the board (recorder app, 115200 baud, no type-check; ${e.total.length} edits)`,
      qcam: `p50 ${ms(p50)}, p95 ${ms(pct(e.total, 0.95))}; split (p50): build ${ms(pct(e.build, 0.5))}, push ${ms(pct(e.push, 0.5))}, watch + stop + start ${ms(Math.max(0, p50 - pct(e.build, 0.5) - pct(e.push, 0.5)))}`,
      peer: "DeviceScript ~2 s; mpremote ~1.5 s fixed per file",
      ratio: "—",
      goal: `p50 ≤ 1 s — ${p50 <= 1000 ? "met" : "**missed**"}`,
      command: `\`qcam board --baud 115200\`; \`qcam dev out/bench/devlink/recorder --port PTY --no-typecheck\`; edit src/main.ts, wait for its first line on the console`,
    });
  } finally {
    await stopGroup(board, "SIGTERM");
  }
  return rows;
}

/** The whole board unplugged and plugged back on the same path: from the new
 * board's port being there to `qcam dev` having the app running on it again
 * (its first console line), over `runs` replugs. */
export async function replug(runs: number, log: (m: string) => void): Promise<number[]> {
  const app = path.join(DIR, "replug");
  fs.rmSync(app, { recursive: true, force: true });
  fs.mkdirSync(path.join(app, "src"), { recursive: true });
  fs.writeFileSync(path.join(app, "app.json"), JSON.stringify({ id: "bench-devlink-replug", name: "dev-link bench (replug)", version: "0.1.0" }));
  fs.writeFileSync(path.join(app, "src", "main.ts"), `import { app, time } from "qcam:app";\nconsole.log("replug up");\nwhile (!app.needExit()) time.sleepMs(20);\n`);
  const sdcard = path.join(DIR, "replug-sdcard");
  fs.rmSync(sdcard, { recursive: true, force: true });
  const port = path.join(DIR, "replug.tty");
  let board = qcam(["board", "--sdcard", sdcard, "--link", port]);
  const dev = qcam(["dev", app, "--port", port, "--no-typecheck"]);
  const times: number[] = [];
  try {
    await until("the replug app", () => dev.out.includes("replug up"));
    for (let i = 0; i < runs; i++) {
      await stopGroup(board, "SIGKILL");
      await until("qcam dev noticing the board gone", () => dev.err.split("lost the board").length - 1 > i);
      const mark = dev.out.length;
      board = qcam(["board", "--sdcard", sdcard, "--link", port]);
      await until("the port back", () => /board: \S+/.test(board.out));
      const t0 = performance.now();
      await until("the app running again", () => dev.out.slice(mark).includes("replug up"));
      times.push(performance.now() - t0);
      log(`bench: replug ${i + 1}: ${ms(times[times.length - 1])}`);
    }
  } finally {
    await stopGroup(dev, "SIGINT");
    await stopGroup(board, "SIGTERM");
  }
  return times;
}

export async function runDevlinkBenchmark(opts: DevlinkOptions): Promise<BenchResult> {
  fs.mkdirSync(DIR, { recursive: true });
  const app = recorderCopy();
  const original = fs.readFileSync(path.join(app, "src", "main.ts"), "utf8");
  const sdcard = path.join(DIR, "sdcard");
  fs.rmSync(sdcard, { recursive: true, force: true });
  opts.log("bench: dev link: a sim board, then qcam dev over edits of the recorder");
  const board = qcam(["board", "--sdcard", sdcard]);
  try {
    await until("the board", () => /board: (\S+)/.test(board.out));
    const port = /board: (\S+)/.exec(board.out)![1];
    const notc = await editLoop(port, app, original, opts.runs, false, opts.log);
    const tc = await editLoop(port, app, original, Math.min(opts.runs, 10), true, opts.log);
    // The same with an app that stops at once: what the link, the watch and a reload cost alone.
    const small = path.join(DIR, "small");
    fs.rmSync(small, { recursive: true, force: true });
    fs.mkdirSync(path.join(small, "src"), { recursive: true });
    fs.writeFileSync(path.join(small, "app.json"), JSON.stringify({ id: "bench-devlink-small", name: "dev-link bench (small)", version: "0.1.0" }));
    const smallSource = `import { app, time } from "qcam:app";\nlet n = 0;\nwhile (!app.needExit()) {\n  n++;\n  time.sleepMs(20);\n}\nconsole.log("turns", n);\n`;
    const minimal = await editLoop(port, small, smallSource, opts.runs, false, opts.log, "small-");
    // An unchanged push: the image of the last generation, which the board holds.
    const image = path.join(OUT, "apps", "bench-devlink-recorder", "host", "bench-devlink-recorder.qcam");
    const bytes = fs.readFileSync(image);
    const link = await BoardLink.open(port);
    const skips: number[] = [];
    try {
      await link.hello();
      for (let i = 0; i < opts.runs; i++) {
        const t0 = performance.now();
        const r = await link.push(bytes);
        skips.push(performance.now() - t0);
        if (!r.skipped) throw new Error("dev-link bench: the unchanged push was sent");
      }
      await link.stop();
    } finally {
      await link.close();
    }
    await stopGroup(board, "SIGTERM");
    const slow = await slowLine(opts, app, original);
    const replugs = await replug(Math.min(opts.runs, 10), opts.log);
    const p50replug = pct(replugs, 0.5);
    const cmd = `\`qcam board\`; \`qcam dev ${path.relative(ROOT, app)} --port PTY\`; edit src/main.ts, wait for its first line on the console`;
    const row = (what: string, e: Edits, goal: string): BenchRow => {
      const p50 = pct(e.total, 0.5);
      const build = pct(e.build, 0.5);
      const push = pct(e.push, 0.5);
      return {
        benchmark: `save → the new code's first statement running on the board (recorder app, pty speed, ${what}; ${e.total.length} edits)`,
        qcam: `p50 ${ms(p50)}, p95 ${ms(pct(e.total, 0.95))}; split (p50): build ${ms(build)}, push ${ms(push)}, watch + stop + start ${ms(Math.max(0, p50 - build - push))}`,
        peer: "—",
        ratio: "—",
        goal,
        command: `${cmd}${what.includes("no type-check") ? " (--no-typecheck)" : ""}`,
      };
    };
    const p50skip = pct(skips, 0.5);
    return {
      rows: [
        row("no type-check", notc, `p50 ≤ 150 ms — ${pct(notc.total, 0.5) <= 150 ? "met" : "**missed**"}`),
        row("tsc type-check on, as `qcam dev` runs by default", tc, "— (the goal is the row above: tsc alone takes most of this)"),
        {
          ...row("no type-check", minimal, "—"),
          benchmark: `the same for a minimal app (a loop on needExit() and sleepMs(20); ${minimal.total.length} edits): what the watch, the link and a reload cost without the recorder's own stop and start`,
          command: `${cmd.replace(path.relative(ROOT, app), path.relative(ROOT, small))} (--no-typecheck)`,
        },
        {
          benchmark: `push of an image the board already holds (${(bytes.length / 1024).toFixed(0)} KiB recorder image; ${skips.length} pushes)`,
          qcam: `p50 ${p50skip.toFixed(1)} ms, p95 ${pct(skips, 0.95).toFixed(1)} ms`,
          peer: "—",
          ratio: "—",
          goal: `≤ 50 ms — ${p50skip <= 50 ? "met" : "**missed**"}`,
          command: "`BoardLink.push(image)` (bench/devlink.ts) on `qcam board`, the board holding the image",
        },
        ...slow,
        {
          benchmark: `the board unplugged and plugged back: the port there again → \`qcam dev\` has the app running on it again (${replugs.length} replugs)`,
          qcam: `p50 ${ms(p50replug)}, p95 ${ms(pct(replugs, 0.95))}`,
          peer: "—",
          ratio: "—",
          goal: `≤ 2 s — ${pct(replugs, 0.95) <= 2000 ? "met" : "**missed**"}`,
          command: "`qcam board --link L` killed (its process group: the pty pair goes) and started again on L, `qcam dev APP --port L` left alone; from the new board's `board:` line to the app's first console line",
        },
      ],
      notes: [
        "Dev link: the edits run the recorder for real between them (1280×720 H.265 on the sim encoder), so each reload stops a busy app. " +
          "The paced boards (`--baud`) stand in for a USB-UART bridge: qcam-ptypair lets N/10 bytes a second through each way.",
      ],
    };
  } finally {
    await stopGroup(board, "SIGTERM");
  }
}
