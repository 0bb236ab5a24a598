// `npm run bench` (qcam bench): run every benchmark, print one markdown table
// and rewrite the results section of docs/benchmarks.md. The file's intro
// stays as written; only the part between the two markers is replaced.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { step } from "../build/log.ts";
import { ROOT } from "../build/paths.ts";
import { runDisplayBenchmark } from "./display.ts";
import { runOverlayBenchmark } from "./overlay.ts";
import { runRecorderUiBenchmark } from "./recorder-ui.ts";
import { runDevlinkBenchmark } from "./devlink.ts";
import { runFlashBenchmark } from "./flash.ts";
import { runMediaBenchmark } from "./media.ts";
import { runMp4Benchmark } from "./mp4.ts";
import { runNpmStartBenchmark } from "./npm-start.ts";
import { runPublishBenchmark } from "./publish.ts";
import { runRtspBenchmark } from "./rtsp.ts";
import { runIpcamBenchmark, runTsBenchmark } from "./ts.ts";
import { PARTS, type Part } from "./parts.ts";
import { runStartupBenchmark, type BenchResult, type BenchRow } from "./startup.ts";

export const DOCS_FILE = path.join(ROOT, "docs", "benchmarks.md");
const BEGIN = "<!-- bench-results:begin (written by `npm run bench`; edits below this line are overwritten) -->";
const END = "<!-- bench-results:end -->";


const USAGE = `usage: qcam bench [--runs N] [--no-docs] [--only PART[,PART]]
  --runs N     runs per measurement, each cell is their median (default 20)
  --no-docs    print the table only; leave docs/benchmarks.md alone
  --only P     run only these parts (${PARTS.join(", ")}); prints the table
               and leaves docs/benchmarks.md alone, which holds every part`;

interface BenchArgs {
  runs: number;
  docs: boolean;
  only: Part[] | null;
}

function parseArgs(args: string[]): BenchArgs | string {
  const out: BenchArgs = { runs: 20, docs: true, only: null };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--no-docs") out.docs = false;
    else if (a === "--only" || a.startsWith("--only=")) {
      const v = a === "--only" ? args[++i] : a.slice("--only=".length);
      const parts = (v ?? "").split(",").filter(Boolean);
      const bad = parts.find((p) => !(PARTS as readonly string[]).includes(p));
      if (!parts.length || bad !== undefined) return `--only takes ${PARTS.join(", ")} (comma-separated), not '${v ?? ""}'`;
      out.only = parts as Part[];
      out.docs = false;
    } else if (a === "--runs" || a.startsWith("--runs=")) {
      const v = a === "--runs" ? args[++i] : a.slice("--runs=".length);
      out.runs = Number(v);
      if (!Number.isInteger(out.runs) || out.runs < 1) return `--runs needs a positive integer, not '${v ?? ""}'`;
    } else return `unknown argument '${a}'`;
  }
  return out;
}

function cpuModel(): string {
  try {
    const info = fs.readFileSync("/proc/cpuinfo", "utf8");
    const m = /^(?:model name|uarch|cpu model|Processor)\s*:\s*(.+)$/m.exec(info);
    if (m) return m[1].trim();
  } catch {
    // not Linux: fall through
  }
  return os.cpus()[0]?.model ?? "unknown";
}

export function machine(): string {
  return [
    `nproc ${os.availableParallelism()}`,
    `CPU ${cpuModel()}`,
    `node ${process.version}`,
    `${os.type()} ${os.release()} ${os.arch()}`,
  ].join(", ");
}

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function markdownTable(rows: readonly BenchRow[]): string {
  const cols: (keyof BenchRow)[] = ["benchmark", "qcam", "peer", "ratio", "goal", "command"];
  const lines = [`| ${cols.join(" | ")} |`, `|${cols.map(() => " --- ").join("|")}|`];
  for (const r of rows) lines.push(`| ${cols.map((c) => cell(r[c])).join(" | ")} |`);
  return lines.join("\n");
}

function resultsSection(results: readonly BenchResult[], when: Date): string {
  const rows = results.flatMap((r) => r.rows);
  const notes = results.flatMap((r) => r.notes);
  return [
    "## Results",
    "",
    `Measured ${when.toISOString().slice(0, 16).replace("T", " ")} UTC on: ${machine()}.`,
    "",
    markdownTable(rows),
    "",
    ...notes.map((n) => `- ${n}`),
  ].join("\n");
}

/** Replace the marked section of docs/benchmarks.md (appended if it has none). */
export function writeDocs(section: string, file = DOCS_FILE): void {
  const block = `${BEGIN}\n${section}\n${END}\n`;
  let text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmarks\n\n";
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END);
  if (b >= 0 && e > b) text = text.slice(0, b) + block + text.slice(e + END.length).replace(/^\n/, "");
  else text = `${text.trimEnd()}\n\n${block}`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

export async function runBenchmarks(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === "string") {
    process.stderr.write(`qcam bench: ${parsed}\n${USAGE}\n`);
    return 2;
  }
  const started = new Date();
  const results: BenchResult[] = [];
  try {
    const want = (p: Part) => !parsed.only || parsed.only.includes(p);
    if (want("startup")) {
      results.push(await runStartupBenchmark({ runs: parsed.runs, warmup: 2, log: step }));
      results.push(await runNpmStartBenchmark({ runs: parsed.runs, log: step }));
    }
    if (want("media")) results.push(await runMediaBenchmark({ log: step }));
    if (want("mp4")) results.push(await runMp4Benchmark({ log: step }));
    if (want("rtsp")) results.push(await runRtspBenchmark({ log: step }));
    if (want("display")) results.push(await runDisplayBenchmark({ log: step }));
    if (want("devlink")) results.push(await runDevlinkBenchmark({ runs: parsed.runs, log: step }));
    if (want("overlay")) results.push(await runOverlayBenchmark({ log: step }));
    if (want("flash")) results.push(await runFlashBenchmark({ runs: parsed.runs, log: step }));
    if (want("recorder")) results.push(await runRecorderUiBenchmark({ log: step }));
    if (want("publish")) results.push(await runPublishBenchmark({ log: step }));
    if (want("ts")) results.push(await runTsBenchmark({ log: step }));
    if (want("ipcam")) results.push(await runIpcamBenchmark({ log: step }));
  } catch (e) {
    process.stderr.write(`qcam bench: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const section = resultsSection(results, started);
  process.stdout.write(`${section}\n`);
  if (parsed.docs) {
    writeDocs(section);
    step(`bench: wrote ${path.relative(process.cwd(), DOCS_FILE)}`);
  }
  return 0;
}
