// Media benchmarks (issue 3), on the host runtime (out/build/host: the sim's
// libavcodec encoders linked in). Nothing here is asserted.
//
//  1. Pull-mode overhead: the documented pull loop (needExit, cam.read,
//     enc.encode with the replay encoder, img.close, sink.write, frame.close)
//     against the same camera, replay encoder and EsFileSink (a) in the same
//     loop written in C on the same HAL calls (bench/apps/pull-native.c) —
//     time per frame, measured inside both programs (mode pull-timed) — and
//     (b) in a link (no JavaScript per frame) — CPU per frame: the sum over
//     the process's threads of /proc/<pid>/task/<tid>/schedstat (ns), read by
//     this process in the pauses after the `bench:start` and `bench:end`
//     markers the programs print, so start-up and tear-down are left out.
//  2. Linked 1280x720 30 fps: one Y4M clip → libx264 → .h264, qcam's
//     link() against ffmpeg with the x264 settings of
//     host-modules/video/backend_sim.c (flat out, and with -re: paced like the
//     camera), total CPU (user + sys) of each process from GNU time; outputs
//     checked with ffprobe, and x264's own settings string (the SEI it writes
//     into the stream) compared.
//  3. Pixel copies between camera and encoder in row 2's link, as counted
//     by the runtime (stats().pixelCopies).
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildApp, ensureFlavor } from "../build/app-build.ts";
import { OUT, ROOT, buildDir, runtimeBinary } from "../build/paths.ts";
import { GNU_TIME, median, type BenchResult, type BenchRow } from "./startup.ts";

export interface MediaOptions {
  log: (msg: string) => void;
  /** Rounds of row 1's four variants (default 5) and of row 2's qcam and ffmpeg runs (default 5). */
  pullRounds?: number;
  encodeRounds?: number;
}

const WORK = path.join(OUT, "bench", "media");
const SDCARD = path.join(WORK, "sdcard");
const APP_DIR = path.join(ROOT, "bench", "apps", "media");
const NATIVE_SRC = path.join(ROOT, "bench", "apps", "pull-native.c");
const NATIVE_BIN = path.join(WORK, "pull-native");

// Row 1: a small clip at the camera's highest rate (camera.d.ts: 1..120 fps on
// the sim), so frame pacing costs as little as it can and the loop's own cost
// shows; 360 frames = 3 s a run. Short runs, many rounds: the machine's other
// load drifts over seconds, and pairs run close together share more of it.
const PULL = { width: 160, height: 120, fps: 120, frames: 360 };
// Row 2: 10 s of 1280x720 at 30 fps; the encoder settings both sides use.
const CLIP = { width: 1280, height: 720, fps: 30, frames: 300 };
const X264 = { bitrate: 3_000_000, gop: 30 };
const REPLAY_BOARD = "/sdcard/bench/replay.h264";

// ---- small helpers -------------------------------------------------------------

const rel = (p: string): string => path.relative(ROOT, p) || ".";

function show(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
const code = (argv: readonly string[]): string => `\`${show(argv)}\``;
const verdict = (met: boolean): string => (met ? "met" : "**missed**");
const us = (v: number): string => `${v.toFixed(1)} µs/frame`;
const signed = (v: number): string => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(1)}`;

/** Children get our environment minus NODE_OPTIONS (the tsx loader). */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run argv from ROOT; `onLine(line, pid)` sees every stdout line as it comes. */
function run(argv: readonly string[], onLine?: (line: string, pid: number) => void): Promise<Finished> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    let pending = "";
    let code: number | null = null;
    let signal: NodeJS.Signals | null = null;
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (onLine && child.pid !== undefined) onLine(line, child.pid);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("exit", (c, s) => {
      code = c;
      signal = s;
    });
    child.on("close", () => resolve({ code, signal, stdout, stderr }));
  });
}

function failed(argv: readonly string[], r: Finished, why: string): Error {
  return new Error(`${show(argv)}: ${why} (exit ${r.signal ?? r.code})\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`);
}

/** The `result {json}` line the bench apps print. */
function resultOf(argv: readonly string[], r: Finished): Record<string, unknown> {
  const line = r.stdout.split("\n").find((l) => l.startsWith("result "));
  if (r.code !== 0 || !line) throw failed(argv, r, "no result line");
  return JSON.parse(line.slice("result ".length)) as Record<string, unknown>;
}

function tool(argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: childEnv() });
}

/** Make `file` with `argv` unless it exists and was made by the same command. */
function ensureFile(file: string, argv: string[], log: (m: string) => void): void {
  const stamp = `${file}.cmd`;
  const cmd = show(argv);
  if (fs.existsSync(file) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === cmd) return;
  log(`media: making ${rel(file)}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.rmSync(stamp, { force: true });
  tool(argv);
  fs.writeFileSync(stamp, cmd);
}

function lavfiY4m(file: string, c: { width: number; height: number; fps: number; frames: number }): string[] {
  return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
    "-i", `testsrc2=size=${c.width}x${c.height}:rate=${c.fps}`, "-frames:v", String(c.frames), "-pix_fmt", "yuv420p", rel(file)];
}

/** Read a file once, 1 MiB at a time, so that it is in the page cache. */
function warmPageCache(file: string): void {
  const fd = fs.openSync(file, "r");
  const buf = Buffer.alloc(1 << 20);
  try {
    while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
  } finally {
    fs.closeSync(fd);
  }
}

// ---- CPU time of a running process -----------------------------------------------

/** Nanoseconds on CPU so far, summed over the live threads of `pid` (/proc/<pid>/task/<tid>/schedstat). */
function cpuNs(pid: number): number {
  let total = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended between the listing and the read: it ran nothing in the window
    }
  }
  return total;
}

interface Window {
  cpuUs: number;
  frames: number;
  result: Record<string, unknown>;
}

/** Run a program that prints `bench:start` and `bench:end frames=N`, pausing 100 ms after each. */
async function windowRun(argv: readonly string[]): Promise<Window> {
  let start = NaN;
  let end = NaN;
  let frames = NaN;
  const r = await run(argv, (line, pid) => {
    if (line === "bench:start") start = cpuNs(pid);
    else if (line.startsWith("bench:end frames=")) {
      end = cpuNs(pid);
      frames = Number(line.slice("bench:end frames=".length));
    }
  });
  const result = resultOf(argv, r);
  if (!(end >= start) || !(frames > 0)) throw failed(argv, r, "no bench:start / bench:end markers");
  return { cpuUs: (end - start) / 1000, frames, result };
}

// ---- GNU time --------------------------------------------------------------------

interface Timed {
  userS: number;
  sysS: number;
  wallS: number;
  stdout: string;
  stderr: string;
}

const TIME_FORMAT = "gnutime %U %S %e";

async function gnuTime(argv: readonly string[]): Promise<Timed> {
  const full = [GNU_TIME, "-f", TIME_FORMAT, ...argv];
  const r = await run(full);
  const m = /^gnutime ([\d.]+) ([\d.]+) ([\d.]+)$/m.exec(r.stderr);
  if (r.code !== 0 || !m) throw failed(full, r, "failed, or no times from GNU time");
  return { userS: Number(m[1]), sysS: Number(m[2]), wallS: Number(m[3]), stdout: r.stdout, stderr: r.stderr };
}

// ---- ffprobe and the x264 settings string ------------------------------------------

interface Probe {
  codec: string;
  profile: string;
  width: number;
  height: number;
  frames: number;
}

function probe(file: string): Probe {
  const out = tool(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
    "-show_entries", "stream=codec_name,profile,width,height,nb_read_frames", "-of", "json", file]);
  const s = (JSON.parse(out) as { streams: { codec_name: string; profile: string; width: number; height: number; nb_read_frames: string }[] }).streams[0];
  return { codec: s.codec_name, profile: s.profile, width: s.width, height: s.height, frames: Number(s.nb_read_frames) };
}

/** x264 writes its settings into the stream (an unregistered-user-data SEI): "options: cabac=1 ref=1 ...". */
function x264Options(file: string): Map<string, string> {
  const fd = fs.openSync(file, "r");
  const buf = Buffer.alloc(64 * 1024);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  const text = buf.subarray(0, n).toString("latin1");
  const m = /options: ([^\0]*)/.exec(text);
  const out = new Map<string, string>();
  if (!m) return out;
  for (const kv of m[1].trim().split(/\s+/)) {
    const eq = kv.indexOf("=");
    if (eq > 0) out.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return out;
}

function optionDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: qcam ${a.get(k) ?? "—"}, ffmpeg ${b.get(k) ?? "—"}`);
}

// ---- building ------------------------------------------------------------------------

/** The C baseline of row 1, linked like qcam-runtime against the host build's libraries. */
function buildNative(log: (m: string) => void): string[] {
  const host = buildDir("host");
  const libs = tool(["pkg-config", "--libs", "libavcodec", "libavutil"]).trim().split(/\s+/).filter(Boolean);
  const argv = ["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-D_POSIX_C_SOURCE=200809L",
    "-I", rel(path.join(ROOT, "runtime")), "-I", rel(path.join(ROOT, "host-modules")),
    "-o", rel(NATIVE_BIN), rel(NATIVE_SRC),
    rel(path.join(host, "libqcamcore.a")), rel(path.join(host, "libqjs.a")), ...libs, "-lpthread", "-lm"];
  fs.mkdirSync(WORK, { recursive: true });
  log(`media: ${show(argv.slice(0, 2))} ${rel(NATIVE_SRC)}`);
  tool(argv);
  return argv;
}

// ---- the benchmark ---------------------------------------------------------------------

export async function runMediaBenchmark(opts: MediaOptions): Promise<BenchResult> {
  const log = opts.log;
  const load0 = os.loadavg()[0];
  const pullRounds = opts.pullRounds ?? 5;
  const encodeRounds = opts.encodeRounds ?? 5;
  if (!fs.existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is missing (Debian package \`time\`; \`node bin/setup.mjs bench\` installs it)`);
  ensureFlavor("host");
  const built = await buildApp(APP_DIR, { target: "host" });
  const image = rel(built.image);
  const runtime = rel(runtimeBinary("host"));
  const nativeBuild = buildNative(log);
  const native = rel(NATIVE_BIN);

  // Inputs, made once and kept (out/bench/media/): the clips and the replay stream.
  const pullClip = path.join(WORK, `pull-${PULL.width}x${PULL.height}-${PULL.fps}fps-${PULL.frames}.y4m`);
  const clip = path.join(WORK, `clip-${CLIP.width}x${CLIP.height}-${CLIP.fps}fps-${CLIP.frames}.y4m`);
  const replay = path.join(SDCARD, "bench", "replay.h264");
  ensureFile(pullClip, lavfiY4m(pullClip, PULL), log);
  ensureFile(clip, lavfiY4m(clip, CLIP), log);
  // Two seconds of the pull clip's size encoded by x264, an IDR every second
  // with its parameter sets, so the replay loops cleanly.
  const replayArgv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
    "-i", `testsrc=size=${PULL.width}x${PULL.height}:rate=${PULL.fps}`, "-frames:v", String(2 * PULL.fps),
    "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", String(PULL.fps), "-bf", "0",
    "-x264-params", "scenecut=0:repeat-headers=1", "-f", "h264", rel(replay)];
  ensureFile(replay, replayArgv, log);
  fs.mkdirSync(path.join(SDCARD, "video"), { recursive: true });

  // ---- row 1 ----
  const sd = ["--sdcard", rel(SDCARD)];
  const appArgv = (mode: string, out: string) =>
    [runtime, ...sd, image, "--", mode, rel(pullClip), String(PULL.frames), out, REPLAY_BOARD];
  const linkedArgv = appArgv("linked", "/sdcard/bench/linked.h264");
  const pullArgv = appArgv("pull", "/sdcard/bench/pull.h264");
  const timedArgv = appArgv("pull-timed", "/sdcard/bench/pull-timed.h264");
  const nativeArgv = [native, rel(SDCARD), rel(pullClip), "/sdcard/bench/native.h264", rel(replay)];
  // CPU-time variants (markers) and frame-time variants (busyUs in the result).
  const variants = [
    { label: "linked", argv: linkedArgv, timed: false },
    { label: "pull", argv: pullArgv, timed: false },
    { label: "pull-timed", argv: timedArgv, timed: true },
    { label: "C loop", argv: nativeArgv, timed: true },
  ];
  const cpuPer = new Map<string, number[]>(); // CPU µs per frame, per run
  const minPer = new Map<string, number[]>(); // fastest frame, per run
  const p50Per = new Map<string, number[]>(); // median frame time, per run
  const frames = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
  const jsMin: number[] = []; // pull-timed − C loop, fastest frames, per round
  const jsP50: number[] = []; // the same with the medians
  const vsLinked: number[] = []; // pull − linked, CPU per frame, per round
  log(`media: pull-mode overhead, ${pullRounds} rounds of ${variants.map((v) => v.label).join(", ")} (${PULL.frames} frames of ${PULL.width}x${PULL.height} at ${PULL.fps} fps each)`);
  for (let round = 0; round < pullRounds; round++) {
    const got = new Map<string, number>();
    // Order: linked, pull, pull-timed, C loop; the next round the reverse.
    for (const v of round % 2 ? [...variants].reverse() : variants) {
      if (v.timed) {
        const r = await run(v.argv);
        const res = resultOf(v.argv, r);
        const busy = (res.busyUs as number[]).slice().sort((a, b) => a - b);
        const q = (p: number) => busy[Math.floor(p * (busy.length - 1))];
        push(minPer, v.label, busy[0]);
        push(p50Per, v.label, q(0.5));
        push(frames, v.label, busy.length);
        got.set(`${v.label} min`, busy[0]);
        got.set(`${v.label} p50`, q(0.5));
      } else {
        const w = await windowRun(v.argv);
        push(cpuPer, v.label, w.cpuUs / w.frames);
        push(frames, v.label, w.frames);
        got.set(v.label, w.cpuUs / w.frames);
      }
    }
    const diff = (a: string, b: string) => (got.get(a) ?? NaN) - (got.get(b) ?? NaN);
    jsMin.push(diff("pull-timed min", "C loop min"));
    jsP50.push(diff("pull-timed p50", "C loop p50"));
    vsLinked.push(diff("pull", "linked"));
  }
  const medOf = (m: Map<string, number[]>, label: string) => median(m.get(label) ?? []);
  const js = median(jsMin);
  const linkedDiff = median(vsLinked);
  const range = (xs: number[]) => `${signed(Math.min(...xs))} … ${signed(Math.max(...xs))}`;

  // ---- rows 2 and 3 ----
  const qcamOut = path.join(SDCARD, "video", "x264.h264");
  const ffOut = path.join(WORK, "ffmpeg.h264");
  const ffReOut = path.join(WORK, "ffmpeg-re.h264");
  const qcamArgv = [runtime, ...sd, image, "--", "x264", rel(clip), String(CLIP.frames), "/sdcard/video/x264.h264", String(X264.bitrate), String(X264.gop)];
  // backend_sim.c: preset veryfast, tune zerolatency, profile high (the default),
  // cbr = maxrate = bufsize = bitrate, keyint = min-keyint = gop, no B-frames,
  // scenecut=0, repeat-headers, forced-idr, thread_count 0 (x264 picks: with
  // zerolatency, sliced threads) — ffmpeg's -threads 0 is the same request.
  const b = String(X264.bitrate);
  const ffmpeg = (input: string[], out: string) => ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...input, "-an",
    "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-profile:v", "high",
    "-b:v", b, "-maxrate", b, "-bufsize", b, "-g", String(X264.gop), "-keyint_min", String(X264.gop), "-bf", "0",
    "-forced-idr", "1", "-x264-params", "scenecut=0:repeat-headers=1:bframes=0", "-threads", "0",
    "-f", "h264", rel(out)];
  const ffArgv = ffmpeg(["-i", rel(clip)], ffOut);
  // The same, reading the clip at its frame rate (-re) as the camera plays it.
  const ffReArgv = ffmpeg(["-re", "-i", rel(clip)], ffReOut);
  const trio = [
    { label: "qcam", argv: qcamArgv },
    { label: "ffmpeg", argv: ffArgv },
    { label: "ffmpeg -re", argv: ffReArgv },
  ];
  const cpu = new Map(trio.map((p): [string, number[]] => [p.label, []]));
  const wall = new Map(trio.map((p): [string, number[]] => [p.label, []]));
  const linkStats: Record<string, unknown>[] = [];
  log(`media: linked ${CLIP.width}x${CLIP.height} ${CLIP.fps} fps → libx264, ${encodeRounds} rounds of qcam and ffmpeg, one of ffmpeg -re (${CLIP.frames} frames)`);
  warmPageCache(clip); // so that no run pays for reading the clip from disk
  // qcam and ffmpeg every round, in alternating order; ffmpeg -re (10 s) in the first only.
  for (let round = 0; round < encodeRounds; round++) {
    const order = round % 2 ? [trio[1], trio[0]] : round === 0 ? trio : [trio[0], trio[1]];
    for (const p of order) {
      const t = await gnuTime(p.argv);
      cpu.get(p.label)?.push(t.userS + t.sysS);
      wall.get(p.label)?.push(t.wallS);
      if (p.label === "qcam") {
        const res = resultOf(p.argv, { code: 0, signal: null, stdout: t.stdout, stderr: t.stderr });
        linkStats.push(res.stats as Record<string, unknown>);
      }
    }
  }
  const qcamCpu = median(cpu.get("qcam") ?? []);
  const ffCpu = median(cpu.get("ffmpeg") ?? []);
  const ffReCpu = median(cpu.get("ffmpeg -re") ?? []);
  const cpuRatio = qcamCpu / ffCpu;
  const pq = probe(qcamOut);
  const pf = probe(ffOut);
  const pr = probe(ffReOut);
  const sameFrames = pq.frames === pf.frames && pq.frames === pr.frames && pq.frames === CLIP.frames;
  const qcamOpts = x264Options(qcamOut);
  const optDiff = optionDiff(qcamOpts, x264Options(ffOut));
  const optDiffRe = optionDiff(qcamOpts, x264Options(ffReOut));
  const copies = linkStats.map((s) => Number(s.pixelCopies));
  const maxCopies = Math.max(...copies);
  const framesIn = linkStats.map((s) => Number(s.framesIn));
  const kbps = (file: string) => ((fs.statSync(file).size * 8) / (CLIP.frames / CLIP.fps) / 1000).toFixed(0);
  const timeArgv = (argv: string[]) => [GNU_TIME, "-f", TIME_FORMAT, ...argv];
  const secs = (label: string) => (cpu.get(label) ?? []).map((x) => x.toFixed(2)).join(", ");
  const probed = (label: string, file: string, p: Probe) =>
    `${label} ${rel(file)} ${p.frames} frames, ${p.codec} ${p.profile} ${p.width}x${p.height}, ${kbps(file)} kbit/s`;

  const rows: BenchRow[] = [
    {
      benchmark: "pull-mode overhead: JS per frame (pull loop − the same loop in C; time of the fastest frame)",
      qcam: `${us(medOf(minPer, "pull-timed"))} (pull loop)`,
      peer: `${us(medOf(minPer, "C loop"))} (C loop)`,
      ratio: `${signed(js)} µs/frame (pull − C)`,
      goal: `≤ 10 µs/frame — ${verdict(js <= 10)}`,
      command: `qcam: ${code(timedArgv)}<br>peer: ${code(nativeArgv)}`,
    },
    {
      benchmark: "pull-mode overhead: CPU per frame, pull loop − linked",
      qcam: `${us(medOf(cpuPer, "pull"))} (pull loop)`,
      peer: `${us(medOf(cpuPer, "linked"))} (linked)`,
      ratio: `${signed(linkedDiff)} µs/frame (pull − linked)`,
      goal: `≤ 10 µs/frame — ${verdict(linkedDiff <= 10)}`,
      command: `qcam: ${code(pullArgv)}<br>peer: ${code(linkedArgv)}`,
    },
    {
      benchmark: `linked ${CLIP.width}x${CLIP.height} ${CLIP.fps} fps Y4M → libx264 → .h264: CPU (user+sys) vs ffmpeg`,
      qcam: `${qcamCpu.toFixed(2)} s`,
      peer: `${ffCpu.toFixed(2)} s (ffmpeg)`,
      ratio: `${cpuRatio.toFixed(3)}× (qcam/ffmpeg)`,
      goal: `≤ 1.05× — ${verdict(cpuRatio <= 1.05)}`,
      command: `qcam: ${code(timeArgv(qcamArgv))}<br>peer: ${code(timeArgv(ffArgv))}`,
    },
    {
      benchmark: `the same vs ffmpeg -re (reading the clip in real time, as the camera plays it)`,
      qcam: `${qcamCpu.toFixed(2)} s`,
      peer: `${ffReCpu.toFixed(2)} s (ffmpeg -re)`,
      ratio: `${(qcamCpu / ffReCpu).toFixed(3)}× (qcam/ffmpeg -re)`,
      goal: "—",
      command: `qcam: as above<br>peer: ${code(timeArgv(ffReArgv))}`,
    },
    {
      benchmark: "pixel copies between camera and encoder (the linked x264 runs above)",
      qcam: `${maxCopies} in ${Math.max(...framesIn)} frames`,
      peer: "—",
      ratio: "—",
      goal: `0 — ${verdict(maxCopies === 0)}`,
      command: `qcam: \`pipe.close().pixelCopies\` of ${code(qcamArgv)}`,
    },
  ];

  const perRun = (label: string) => `${label} ${[...new Set(frames.get(label) ?? [])].join("/")}`;
  const notes = [
    `pull-mode overhead: clip ${rel(pullClip)} (${PULL.frames} frames, ${PULL.width}x${PULL.height}, ${PULL.fps} fps; camera yuv420p, loop: false), replay encoder on ${rel(replay)}, EsFileSink; ${pullRounds} rounds (linked, pull, pull-timed, C loop; then the reverse), each figure the median over rounds; frames per run: ${["pull-timed", "C loop", "pull", "linked"].map(perRun).join(", ")} (pull and linked drop the frames that fall due in their first 100 ms pause; linked stops counting 0.4 s before the end)`,
    `pull-mode time per frame (pull-timed and the C loop: needExit → frame.close(), spinning, not sleeping, until each frame is due): fastest frame pull ${us(medOf(minPer, "pull-timed"))}, C ${us(medOf(minPer, "C loop"))}, per round pull − C ${range(jsMin)} µs/frame (the JS clock counts whole µs); median pull ${us(medOf(p50Per, "pull-timed"))}, C ${us(medOf(p50Per, "C loop"))}, pull − C ${signed(median(jsP50))} (per round ${range(jsP50)}) µs/frame — the machine's other work stretches the slower frames`,
    `pull-mode CPU per frame (pull and linked, sleeping between frames): Σ over the process's threads of /proc/<pid>/task/<tid>/schedstat between the \`bench:start\` and \`bench:end\` markers / frames; per round pull − linked ${range(vsLinked)} µs/frame`,
    `C loop: ${rel(NATIVE_SRC)}, built with ${code(nativeBuild)}`,
    `linked x264: clip ${rel(clip)} (${CLIP.frames} frames, ${CLIP.width}x${CLIP.height}, ${CLIP.fps} fps), ${X264.bitrate / 1e6} Mbit/s cbr, gop ${X264.gop}; CPU per run: qcam ${secs("qcam")} s, ffmpeg ${secs("ffmpeg")} s, ffmpeg -re ${secs("ffmpeg -re")} s (medians; order alternating); wall: qcam ${median(wall.get("qcam") ?? []).toFixed(2)} s (the camera plays the clip in real time), ffmpeg ${median(wall.get("ffmpeg") ?? []).toFixed(2)} s (flat out), ffmpeg -re ${median(wall.get("ffmpeg -re") ?? []).toFixed(2)} s`,
    `ffprobe: ${probed("qcam", qcamOut, pq)}; ${probed("ffmpeg", ffOut, pf)}; ${probed("ffmpeg -re", ffReOut, pr)} — ${sameFrames ? `frame counts equal (${CLIP.frames})` : `**frame counts differ** (the clip has ${CLIP.frames})`}; link framesIn ${framesIn.join(", ")}`,
    `x264 settings (the options string x264 writes into each stream): ${optDiff.length === 0 && optDiffRe.length === 0 ? `identical in all three outputs (threads=${qcamOpts.get("threads") ?? "?"}, sliced_threads=${qcamOpts.get("sliced_threads") ?? "?"})` : `**differ**: ${[...optDiff, ...optDiffRe.map((d) => `(-re) ${d}`)].join("; ")}`}`,
    `inputs (made once, kept in ${rel(WORK)}): ${[lavfiY4m(pullClip, PULL), lavfiY4m(clip, CLIP), replayArgv].map(code).join(", ")}`,
    `load average (1 min) before/after the media benchmarks: ${load0.toFixed(2)} / ${os.loadavg()[0].toFixed(2)} — the machine's other work shows up in every CPU figure above`,
  ];
  return { rows, notes };
}
