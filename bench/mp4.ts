// MP4 benchmarks, on the host runtime (out/build/host) unless a row says
// otherwise. Nothing here is asserted.
//
//  1. Remux a 10,000-frame H.264 elementary stream into an MP4: what a user
//     runs — an app calling qcam:mp4's remux() (bench/apps/mp4, mode remux:
//     one scan, one copy, one fsync) — against `ffmpeg -c copy` on the same
//     input in the same run, rounds alternating. Wall time and CPU (user +
//     sys) and peak RSS from GNU time. Second, the same conversion through
//     the crash-safe recording path (mode writer: EsReader → Mp4Writer in pull
//     mode, an fsync per fragment, then finalized on close = a second copy).
//     The SD card folder is first on the disk (out/bench/mp4/sdcard; qcam
//     fsyncs, ffmpeg syncs nothing), then in /dev/shm (tmpfs: syncing costs
//     nothing, what is left is the work). Peak RSS also for the "lean"
//     runtime (no libavcodec, static: the shape of a board runtime).
//  2. Recording overhead of the linked 1280x720 30 fps 4 Mbit/s pipeline (a
//     Y4M clip played by the sim camera → libx264 → one sink), rounds
//     alternating between an Mp4Writer and an EsFileSink writing the raw
//     stream (the lightest sink there is). First the whole process CPU
//     (user + sys, GNU time) of the two, which libx264's run-to-run
//     variation swamps. Then the verdict, measured directly in the same
//     runs: the link runs every sink on its own thread and stats().cpuUs
//     gives each thread's CPU time, so the Mp4Writer's cost is its sink
//     thread's CPU plus what it costs on the app's thread (its close(),
//     which finalizes: that thread's CPU clock read from /proc while the
//     app pauses before and after it; its constructor: wall time; less the
//     same for the EsFileSink), over the whole process CPU of the same run
//     (the rest of the process CPU is the app thread and libx264's own
//     slice threads, as noisy as the encoder). The EsFileSink's own
//     sink-thread share is shown beside it. Last, a bound from part 1: the
//     writer path's whole CPU per frame over the pipeline's.
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildApp, ensureFlavor } from "../build/app-build.ts";
import { buildFlavor } from "../build/cmake.ts";
import { OUT, ROOT, runtimeBinary } from "../build/paths.ts";
import { GNU_TIME, median, type BenchResult, type BenchRow } from "./startup.ts";

export interface Mp4BenchOptions {
  log: (msg: string) => void;
  /** Rounds of each remux variant (default 7) and of each recording variant (default 5). */
  remuxRounds?: number;
  recordRounds?: number;
}

const WORK = path.join(OUT, "bench", "mp4");
const APP_DIR = path.join(ROOT, "bench", "apps", "mp4");
const SHM = "/dev/shm";
const REMUX = { width: 1280, height: 720, fps: 30, frames: 10_000, bitrate: "2M", gop: 30 };
const RECORD = { width: 1280, height: 720, fps: 30, frames: 300, bitrate: 4_000_000, gop: 30 };

const rel = (p: string): string => (p.startsWith(ROOT) ? path.relative(ROOT, p) || "." : p);
function show(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
const code = (argv: readonly string[]): string => `\`${show(argv)}\``;
const verdict = (met: boolean): string => (met ? "met" : "**missed**");

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

function tool(argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: childEnv(), maxBuffer: 64 << 20 });
}

interface Timed {
  wallS: number;
  cpuS: number;
  rssKb: number;
  stdout: string;
  /** The runtime's main-thread CPU time (ns) read whenever the app printed `mark <name>` (it pauses after). */
  marks: Map<string, number>;
}

const TIME_FORMAT = "gnutime %e %U %S %M";

/** The CPU time (ns) of the main thread of GNU time's child (the runtime), or NaN. */
function mainThreadCpuNs(timePid: number): number {
  try {
    const pid = Number(fs.readFileSync(`/proc/${timePid}/task/${timePid}/children`, "utf8").trim().split(/\s+/)[0]);
    return Number(fs.readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ")[0]); // sum_exec_runtime
  } catch {
    return NaN;
  }
}

function timed(argv: readonly string[]): Promise<Timed> {
  const full = [GNU_TIME, "-f", TIME_FORMAT, ...argv];
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const marks = new Map<string, number>();
    const child = spawn(full[0], full.slice(1), { cwd: ROOT, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      const from = stdout.lastIndexOf("\n") + 1; // the start of the line not yet ended
      stdout += d;
      for (const line of stdout.slice(from).split("\n").slice(0, -1)) {
        const m = /^mark (\S+)$/.exec(line);
        if (m && !marks.has(m[1])) marks.set(m[1], mainThreadCpuNs(child.pid!));
      }
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => {
      const m = /^gnutime ([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/m.exec(stderr);
      if (status !== 0 || !m) reject(new Error(`${show(full)}: exit ${status}\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
      else resolve({ wallS: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]), rssKb: Number(m[4]), stdout, marks });
    });
  });
}

type SinkKind = "es" | "mp4";

/** One run of mode record: GNU time's CPU and what the app reported. */
interface RecordRun {
  cpuS: number;
  frames: number;
  captureUs: number;
  encodeUs: number;
  sinkUs: number;
  threadsUs: number; // the link's threads together
  openUs: number; // wall time of the sink's constructor
  closeUs: number; // wall time of its close()
  closeCpuUs: number; // the app thread's CPU time across close() (NaN if it could not be read)
}

function recordRun(t: Timed): RecordRun {
  const res = resultOf(t) as { frames: number; cpuUs: { capture: number; encode: number; sinks: number[] }; openUs: number; closeUs: number };
  const c = res.cpuUs;
  return {
    cpuS: t.cpuS,
    frames: res.frames,
    captureUs: c.capture,
    encodeUs: c.encode,
    sinkUs: c.sinks[0],
    threadsUs: c.capture + c.encode + c.sinks[0],
    openUs: res.openUs,
    closeUs: res.closeUs,
    closeCpuUs: ((t.marks.get("after-close") ?? NaN) - (t.marks.get("before-close") ?? NaN)) / 1000,
  };
}

function resultOf(t: Timed): Record<string, unknown> {
  const line = t.stdout.split("\n").find((l) => l.startsWith("result "));
  if (!line) throw new Error(`no result line in: ${t.stdout.slice(-2000)}`);
  return JSON.parse(line.slice("result ".length)) as Record<string, unknown>;
}

/** Make `file` with `argv` unless it exists and was made by the same command. */
function ensureFile(file: string, argv: string[], log: (m: string) => void): void {
  const stamp = `${file}.cmd`;
  const cmd = show(argv);
  if (fs.existsSync(file) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === cmd) return;
  log(`mp4: making ${rel(file)}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.rmSync(stamp, { force: true });
  tool(argv);
  fs.writeFileSync(stamp, cmd);
}

interface Probed {
  codec: string;
  width: number;
  height: number;
  packets: number;
  duration: number;
}

function probe(file: string): Probed {
  const out = tool(["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
    "-show_entries", "stream=codec_name,width,height,nb_read_packets,duration", "-of", "json", file]);
  const s = (JSON.parse(out) as { streams: { codec_name: string; width: number; height: number; nb_read_packets: string; duration: string }[] }).streams[0];
  return { codec: s.codec_name, width: s.width, height: s.height, packets: Number(s.nb_read_packets), duration: Number(s.duration) };
}

export async function runMp4Benchmark(opts: Mp4BenchOptions): Promise<BenchResult> {
  const log = opts.log;
  const load0 = os.loadavg()[0];
  const remuxRounds = opts.remuxRounds ?? 7;
  const recordRounds = opts.recordRounds ?? 5;
  if (!fs.existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is missing (Debian package \`time\`)`);
  ensureFlavor("host");
  buildFlavor("lean"); // incremental: the lean runtime must match the image's declarations
  const image = rel((await buildApp(APP_DIR, { target: "host" })).image);
  const runtime = rel(runtimeBinary("host"));
  const lean = rel(runtimeBinary("lean"));

  // ---- inputs (made once, kept in out/bench/mp4/) ----
  const input = path.join(WORK, `remux-${REMUX.width}x${REMUX.height}-${REMUX.frames}.h264`);
  const inputArgv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
    "-i", `testsrc2=size=${REMUX.width}x${REMUX.height}:rate=${REMUX.fps}`, "-frames:v", String(REMUX.frames),
    "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-b:v", REMUX.bitrate, "-g", String(REMUX.gop), "-bf", "0",
    "-f", "h264", rel(input)];
  ensureFile(input, inputArgv, log);
  const clip = path.join(WORK, `clip-${RECORD.width}x${RECORD.height}-${RECORD.fps}fps-${RECORD.frames}.y4m`);
  const clipArgv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
    "-i", `testsrc2=size=${RECORD.width}x${RECORD.height}:rate=${RECORD.fps}`, "-frames:v", String(RECORD.frames), "-pix_fmt", "yuv420p", rel(clip)];
  ensureFile(clip, clipArgv, log);
  const inputMb = fs.statSync(input).size / 1e6;

  // ---- 1. remux ----
  const places = [{ label: "disk", dir: path.join(WORK, "sdcard") }];
  if (fs.existsSync(SHM)) places.push({ label: "tmpfs", dir: fs.mkdtempSync(path.join(SHM, "qcam-bench-mp4-")) });
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  let rss = { host: 0, lean: 0, ffmpeg: 0 };
  let remuxCpuPerFrameUs = NaN; // tmpfs (else disk): everything the writer-path app does, per frame
  let leanArgvShown: string[] = [];
  let hostArgvShown: string[] = [];
  let ffArgvShown: string[] = [];
  try {
    for (const place of places) {
      fs.mkdirSync(place.dir, { recursive: true });
      fs.copyFileSync(input, path.join(place.dir, "in.h264"));
      const qOut = path.join(place.dir, "out.mp4");
      const fOut = path.join(place.dir, "ffmpeg.mp4");
      const wOut = path.join(place.dir, "out-writer.mp4");
      const qArgv = (rt: string) => [rt, "--sdcard", rel(place.dir), image, "--", "remux", "/sdcard/in.h264", "/sdcard/out.mp4", String(REMUX.fps)];
      const wArgv = [runtime, "--sdcard", rel(place.dir), image, "--", "writer", "/sdcard/in.h264", "/sdcard/out-writer.mp4", String(REMUX.width), String(REMUX.height)];
      const ffArgv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "h264", "-framerate", String(REMUX.fps),
        "-i", rel(path.join(place.dir, "in.h264")), "-c", "copy", rel(fOut)];
      const variants = [
        { label: "qcam", argv: qArgv(runtime) },
        { label: "ffmpeg", argv: ffArgv },
        { label: "qcam lean", argv: qArgv(lean) },
        { label: "qcam writer", argv: wArgv },
      ];
      const got = new Map<string, Timed[]>(variants.map((v) => [v.label, []]));
      log(`mp4: remux ${REMUX.frames} frames (${inputMb.toFixed(0)} MB) on ${place.label}, ${remuxRounds} rounds of ${variants.map((v) => v.label).join(", ")}`);
      for (let round = 0; round < remuxRounds; round++) {
        for (const v of round % 2 ? [...variants].reverse() : variants) {
          fs.rmSync(v.label === "ffmpeg" ? fOut : v.label === "qcam writer" ? wOut : qOut, { force: true }); // each writes a new file, as a user's run would
          const t = await timed(v.argv);
          got.get(v.label)!.push(t);
          if (v.label !== "ffmpeg") {
            const res = resultOf(t);
            if (res.frames !== REMUX.frames) throw new Error(`remux wrote ${String(res.frames)} frames, not ${REMUX.frames}`);
          }
        }
      }
      const med = (label: string, f: (t: Timed) => number) => median(got.get(label)!.map(f));
      const qWall = med("qcam", (t) => t.wallS), fWall = med("ffmpeg", (t) => t.wallS);
      const qCpu = med("qcam", (t) => t.cpuS), fCpu = med("ffmpeg", (t) => t.cpuS);
      const lWall = med("qcam lean", (t) => t.wallS);
      const wWall = med("qcam writer", (t) => t.wallS), wCpu = med("qcam writer", (t) => t.cpuS);
      const pq = probe(qOut), pf = probe(fOut);
      rows.push({
        benchmark: `remux ${REMUX.frames}-frame H.264 ES (${inputMb.toFixed(0)} MB) → MP4 with remux(), card on ${place.label}: wall time`,
        qcam: `${qWall.toFixed(3)} s (host runtime); lean ${lWall.toFixed(3)} s`,
        peer: `${fWall.toFixed(3)} s (ffmpeg -c copy)`,
        ratio: `speed-up ${(fWall / qWall).toFixed(2)}× (ffmpeg time / qcam time)`,
        goal: `≥ 2× — ${verdict(fWall / qWall >= 2)}`,
        command: `qcam: ${code([GNU_TIME, "-f", TIME_FORMAT, ...qArgv(runtime)])}<br>peer: ${code([GNU_TIME, "-f", TIME_FORMAT, ...ffArgv])}`,
      });
      rows.push({
        benchmark: `the same, CPU (user + sys), card on ${place.label}`,
        qcam: `${qCpu.toFixed(3)} s`,
        peer: `${fCpu.toFixed(3)} s`,
        ratio: `${(qCpu / fCpu).toFixed(2)}× (qcam / ffmpeg)`,
        goal: "—",
        command: "as above",
      });
      rows.push({
        benchmark: `the same conversion through the crash-safe writer path (EsReader → Mp4Writer pull mode: fsync per fragment, finalize copy), card on ${place.label}: wall time`,
        qcam: `${wWall.toFixed(3)} s (host runtime; CPU ${wCpu.toFixed(3)} s)`,
        peer: `${fWall.toFixed(3)} s (ffmpeg -c copy)`,
        ratio: `speed-up ${(fWall / wWall).toFixed(2)}× (ffmpeg time / qcam time)`,
        goal: "— (the recording path; the remux goal is the row above)",
        command: `qcam: ${code([GNU_TIME, "-f", TIME_FORMAT, ...wArgv])}`,
      });
      notes.push(`remux on ${place.label} (${rel(place.dir)}): wall per round qcam remux() ${got.get("qcam")!.map((t) => t.wallS.toFixed(2)).join(", ")} s, ffmpeg ${got.get("ffmpeg")!.map((t) => t.wallS.toFixed(2)).join(", ")} s, lean ${got.get("qcam lean")!.map((t) => t.wallS.toFixed(2)).join(", ")} s, writer path ${got.get("qcam writer")!.map((t) => t.wallS.toFixed(2)).join(", ")} s (peak RSS ${(med("qcam writer", (t) => t.rssKb) / 1024).toFixed(1)} MiB); ffprobe: qcam ${pq.codec} ${pq.width}x${pq.height} ${pq.packets} packets ${pq.duration.toFixed(3)} s, ffmpeg ${pf.codec} ${pf.width}x${pf.height} ${pf.packets} packets ${pf.duration.toFixed(3)} s; sizes qcam ${fs.statSync(qOut).size} B, ffmpeg ${fs.statSync(fOut).size} B`);
      for (const f of [qOut, fOut, wOut, path.join(place.dir, "in.h264")]) fs.rmSync(f, { force: true }); // 250 MB the next run remakes
      if (place.label === "tmpfs" || places.length === 1) {
        remuxCpuPerFrameUs = (wCpu * 1e6) / REMUX.frames;
        rss = { host: med("qcam", (t) => t.rssKb), lean: med("qcam lean", (t) => t.rssKb), ffmpeg: med("ffmpeg", (t) => t.rssKb) };
        hostArgvShown = qArgv(runtime);
        leanArgvShown = qArgv(lean);
        ffArgvShown = ffArgv;
      }
    }
  } finally {
    for (const p of places) if (p.dir.startsWith(SHM)) fs.rmSync(p.dir, { recursive: true, force: true });
  }
  rows.push({
    benchmark: "remux(): peak RSS (GNU time %M)",
    qcam: `${(rss.host / 1024).toFixed(1)} MiB (host runtime); ${(rss.lean / 1024).toFixed(1)} MiB (lean runtime)`,
    peer: `${(rss.ffmpeg / 1024).toFixed(1)} MiB (ffmpeg)`,
    ratio: `${(rss.host / rss.ffmpeg).toFixed(3)} (host); ${(rss.lean / rss.ffmpeg).toFixed(3)} (lean)`,
    goal: `≤ 0.25 — host ${verdict(rss.host / rss.ffmpeg <= 0.25)}, lean ${verdict(rss.lean / rss.ffmpeg <= 0.25)}`,
    command: `qcam: ${code(hostArgvShown)}<br>lean: ${code(leanArgvShown)}<br>peer: ${code(ffArgvShown)}`,
  });

  // ---- 2. recording overhead ----
  const sd = path.join(WORK, "sdcard");
  fs.mkdirSync(sd, { recursive: true });
  const recArgv = (sink: SinkKind) => [runtime, "--sdcard", rel(sd), image, "--", "record", rel(clip), String(RECORD.frames),
    sink === "mp4" ? "/sdcard/rec.mp4" : "/sdcard/rec.h264", sink, String(RECORD.bitrate), String(RECORD.gop)];
  const rec = new Map<SinkKind, RecordRun[]>([["es", []], ["mp4", []]]);
  log(`mp4: recording overhead, ${recordRounds} rounds of the linked ${RECORD.width}x${RECORD.height} ${RECORD.fps} fps pipeline with an EsFileSink and with an Mp4Writer (${RECORD.frames / RECORD.fps} s each)`);
  for (let round = 0; round < recordRounds; round++) {
    for (const sink of round % 2 ? (["mp4", "es"] as const) : (["es", "mp4"] as const)) {
      rec.get(sink)!.push(recordRun(await timed(recArgv(sink))));
    }
  }
  const es = rec.get("es")!, mp4 = rec.get("mp4")!;
  const esCpu = median(es.map((r) => r.cpuS)), mp4Cpu = median(mp4.map((r) => r.cpuS));
  const extra = (mp4Cpu / esCpu - 1) * 100;
  const spread = ((Math.max(...es.map((r) => r.cpuS)) - Math.min(...es.map((r) => r.cpuS))) / esCpu) * 100; // the same run, run to run
  const pm = probe(path.join(sd, "rec.mp4"));
  rows.push({
    benchmark: `recording overhead: linked ${RECORD.width}x${RECORD.height} ${RECORD.fps} fps ${RECORD.bitrate / 1e6} Mbit/s → Mp4Writer vs → EsFileSink, whole-process CPU (user + sys)`,
    qcam: `${mp4Cpu.toFixed(2)} s (Mp4Writer)`,
    peer: `${esCpu.toFixed(2)} s (EsFileSink)`,
    ratio: `${extra >= 0 ? "+" : "−"}${Math.abs(extra).toFixed(1)} %`,
    goal: `— the EsFileSink runs alone spread ${spread.toFixed(1)} % run to run (the encoder's CPU varies): the verdict is the direct measurement below`,
    command: `qcam: ${code([GNU_TIME, "-f", TIME_FORMAT, ...recArgv("mp4")])}<br>peer: ${code([GNU_TIME, "-f", TIME_FORMAT, ...recArgv("es")])}`,
  });
  // Direct: what the Mp4Writer itself costs. Its sink thread's CPU (stats().cpuUs:
  // every write, fragments, the final flush) plus what it costs on the app's
  // thread — close(), which finalizes, as that thread's CPU clock read from
  // /proc across it (its wall time where that failed), and the constructor as
  // its wall time (one thread's CPU over a span is at most the span) — less
  // the same for the EsFileSink, floored at 0, over the whole process CPU of
  // the same run.
  const appUs = (r: RecordRun) => r.openUs + (Number.isFinite(r.closeCpuUs) ? r.closeCpuUs : r.closeUs);
  const esMainUs = median(es.map(appUs));
  const mainExtraUs = (r: RecordRun) => Math.max(0, appUs(r) - esMainUs);
  const share = (r: RecordRun, us: number) => (us / (r.cpuS * 1e6)) * 100;
  const mp4Share = mp4.map((r) => share(r, r.sinkUs + mainExtraUs(r)));
  const esShare = es.map((r) => share(r, r.sinkUs));
  const direct = median(mp4Share);
  const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;
  rows.push({
    benchmark: "recording overhead, measured directly in the same runs: the Mp4Writer's own CPU (its sink thread, from stats().cpuUs, + on the app's thread its close()/finalize, CPU, and its constructor, wall time, less the EsFileSink's) / the whole process CPU",
    qcam: `${direct.toFixed(2)} % (sink thread ${ms(median(mp4.map((r) => r.sinkUs)))} + app thread ${ms(median(mp4.map(mainExtraUs)))} of ${mp4Cpu.toFixed(2)} s)`,
    peer: `${median(esShare).toFixed(2)} % (the EsFileSink's sink thread, ${ms(median(es.map((r) => r.sinkUs)))} of ${esCpu.toFixed(2)} s)`,
    ratio: `+${direct.toFixed(2)} % (against a sink that costs nothing)`,
    goal: `≤ 1 % extra — ${verdict(direct <= 1)}`,
    command: "as above: the same runs, their `result` (`cpuUs`, `openUs`) and the app thread's CPU (`/proc/PID/task/PID/schedstat`) at `mark before-close` / `mark after-close`",
  });
  // The writer's whole cost per frame is at most what the writer-path remux spends per frame
  // (reading and splitting the stream, the JS loop, fragments, finalizing);
  // set against the pipeline's CPU per frame it bounds the overhead without the
  // run-to-run noise of the whole-process row.
  const pipelinePerFrameUs = (esCpu * 1e6) / RECORD.frames;
  const bound = (remuxCpuPerFrameUs / pipelinePerFrameUs) * 100;
  rows.push({
    benchmark: "recording overhead, bounded: the writer path's CPU per frame (all of reading, the JS loop, fragments and finalizing) / the pipeline's CPU per frame",
    qcam: `${remuxCpuPerFrameUs.toFixed(1)} µs/frame (EsReader → Mp4Writer, ${REMUX.bitrate}bit/s stream)`,
    peer: `${pipelinePerFrameUs.toFixed(0)} µs/frame (linked pipeline with EsFileSink)`,
    ratio: `≤ ${bound.toFixed(2)} %`,
    goal: `≤ 1 % extra — ${verdict(bound <= 1)}`,
    command: "rows above",
  });
  const perRound = (label: string, what: string, runs: RecordRun[], shares: number[]) =>
    runs.map((r, i) => `${label} round ${i + 1}: process ${r.cpuS.toFixed(2)} s, link threads capture ${ms(r.captureUs)} / encode ${ms(r.encodeUs)} / sink ${ms(r.sinkUs)}, ` +
      `the rest ${(r.cpuS - r.threadsUs / 1e6).toFixed(2)} s, constructor ${ms(r.openUs)} (wall) + close ${ms(r.closeCpuUs)} CPU (${ms(r.closeUs)} wall), ${what} ${shares[i].toFixed(2)} %, ${r.frames} frames`).join("; ");
  const rest = [...mp4, ...es].map((r) => r.cpuS - r.threadsUs / 1e6);
  const restDiff = median(mp4.map((r) => r.cpuS - r.threadsUs / 1e6)) - median(es.map((r) => r.cpuS - r.threadsUs / 1e6));
  notes.push(`recording (order alternating; medians in the table): ${perRound("Mp4Writer", "its own share", mp4, mp4Share)}; ${perRound("EsFileSink", "sink-thread share", es, esShare)}. ` +
    `"The rest" (process CPU − the link's threads: the app's thread and libx264's own slice threads) ranges ${Math.min(...rest).toFixed(2)}–${Math.max(...rest).toFixed(2)} s over the runs and its medians differ by ${restDiff >= 0 ? "+" : "−"}${Math.abs(restDiff).toFixed(2)} s: too noisy to give the app thread's part, which is taken from around its constructor and close() instead. ` +
    `ffprobe of the last MP4: ${pm.codec} ${pm.width}x${pm.height}, ${pm.packets} packets, ${pm.duration.toFixed(3)} s`);
  notes.push(`mp4 inputs (made once, kept in ${rel(WORK)}): ${code(inputArgv)}, ${code(clipArgv)}`);
  notes.push(`load average (1 min) before/after the MP4 benchmarks: ${load0.toFixed(2)} / ${os.loadavg()[0].toFixed(2)}`);
  return { rows, notes };
}
