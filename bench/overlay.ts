// The overlay benchmark (bench/apps/overlay):
//  1. CPU per drawn picture at 1280x720 (size 32) and 1920x1080 (size 48): the
//     whole process' CPU (GNU time) for 3000 overlay.draw() calls on one NV21
//     picture, less the same run with none, divided by 3000. Best of 3.
//  2. Its share of a linked pipeline's CPU: the same overlay on a link from the
//     sim camera to libx264 for 300 pictures (10 s at 30 fps), whole process
//     CPU per picture; share = (1) / that.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildApp, ensureFlavor } from "../build/app-build.ts";
import { OUT, ROOT, runtimeBinary } from "../build/paths.ts";
import type { BenchResult, BenchRow } from "./startup.ts";

const APP_DIR = path.join(ROOT, "bench", "apps", "overlay");
const WORK = path.join(OUT, "bench", "overlay");
const GNU_TIME = "/usr/bin/time";
const DRAWS = 3000;
const LINKED = 300;
const GOAL_SHARE = 0.02;
const rel = (p: string) => path.relative(ROOT, p);
const show = (argv: readonly string[]) => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ");

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

/** Whole-process CPU (user + sys, µs) of a run, and its result line. */
function timed(argv: readonly string[]): { cpuUs: number; result: Record<string, number> } {
  const full = [GNU_TIME, "-f", "gnutime %U %S", ...argv];
  const r = spawnSync(full[0], full.slice(1), { cwd: ROOT, env: childEnv(), encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${show(full)}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  const m = /^gnutime ([\d.]+) ([\d.]+)$/m.exec(r.stderr);
  const line = r.stdout.split("\n").find((l) => l.startsWith("result "));
  if (!m || !line) throw new Error(`${show(full)}: no timing or result\n${r.stdout}\n${r.stderr}`);
  return { cpuUs: (Number(m[1]) + Number(m[2])) * 1e6, result: JSON.parse(line.slice(7)) as Record<string, number> };
}

export async function runOverlayBenchmark(opts: { log: (m: string) => void }): Promise<BenchResult> {
  ensureFlavor("host");
  const image = rel((await buildApp(APP_DIR, { target: "host" })).image);
  const runtime = rel(runtimeBinary("host"));
  fs.mkdirSync(WORK, { recursive: true });
  const sd = ["--sdcard", rel(path.join(WORK, "sdcard"))];
  const rows: BenchRow[] = [];
  for (const [w, h, size] of [[1280, 720, 32], [1920, 1080, 48]] as const) {
    const argv = (mode: string, n: number) => [runtime, ...sd, image, "--", mode, String(w), String(h), String(n), String(size)];
    opts.log(`overlay: ${w}x${h}, ${DRAWS} draws (best of 3, less a run with none)`);
    let perFrame = Infinity;
    for (let i = 0; i < 3; i++) {
      const base = timed(argv("draw", 0)).cpuUs;
      const drawn = timed(argv("draw", DRAWS));
      if (drawn.result.frames !== DRAWS) throw new Error(`overlay drew ${drawn.result.frames} of ${DRAWS}`);
      perFrame = Math.min(perFrame, Math.max(0, drawn.cpuUs - base) / DRAWS);
    }
    opts.log(`overlay: ${w}x${h}, linked to libx264 for ${LINKED} pictures`);
    const linked = timed(argv("record", LINKED));
    const pipelinePerFrame = linked.cpuUs / linked.result.framesIn;
    const share = perFrame / pipelinePerFrame;
    rows.push({
      benchmark: `overlay "%Y-%m-%d %H:%M:%S #{frame}" (size ${size}, 50 % box) on ${w}x${h} NV21: CPU per picture, and its share of a linked camera → overlay → libx264 pipeline`,
      qcam: `${perFrame.toFixed(1)} µs/picture`,
      peer: `${(pipelinePerFrame / 1000).toFixed(2)} ms/picture (the linked pipeline, whole process)`,
      ratio: `${(share * 100).toFixed(2)} %`,
      goal: `≤ ${GOAL_SHARE * 100} % — ${share <= GOAL_SHARE ? "met" : "**missed**"}`,
      command: `qcam: \`${show([GNU_TIME, "-f", "gnutime %U %S", ...argv("draw", DRAWS)])}\` less the same with 0 draws<br>pipeline: \`${show([GNU_TIME, "-f", "gnutime %U %S", ...argv("record", LINKED)])}\``,
    });
  }
  return {
    rows,
    notes: ["Overlay: CPU per picture is the whole process' CPU for 3000 draws less a run with none (best of 3); the pipeline figure is the whole process' CPU per picture of the linked run, libx264 included."],
  };
}
