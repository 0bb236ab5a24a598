// MPEG-TS and IP-camera benchmarks (`npm run bench -- --only ts,ipcam`), on
// the host runtime unless a row says otherwise. Nothing here is asserted.
//
//  ts     Remux the 10,000-frame 1280x720 H.264 elementary stream of the MP4
//         benchmark into MPEG-TS: what a user writes (bench/apps/ts, mode
//         remux: qcam:ts's remux(), one pass, one sync) against `ffmpeg -c
//         copy -f mpegts` on the same input in the same run, rounds
//         alternating; the card first on the disk, then in /dev/shm (tmpfs:
//         syncing costs nothing). Second, the same conversion through the
//         recording path (mode writer: EsReader → TsWriter in pull mode,
//         fsync'ed once per second of video). Wall time, CPU and peak RSS
//         from GNU time; peak RSS also for the lean runtime (no libavcodec,
//         static: the shape of a board's runtime).
//  ipcam  An IP camera recorded to MP4 without re-encoding: GStreamer's RTSP
//         server (test/rtsp-gst-server.c, a pipeline per client, so each
//         recorder gets the same stream from its start) serving a 720p30
//         4 Mbit/s H.264 clip; qcam (RtspSource linked to an Mp4Writer, mode
//         ipcam) against `ffmpeg -rtsp_transport tcp -i URL -c copy out.mp4`,
//         each recording the same number of frames, rounds alternating.
//         Whole-process CPU (user + sys) from GNU time.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { buildApp, ensureFlavor } from "../build/app-build.ts";
import { buildFlavor } from "../build/cmake.ts";
import { OUT, ROOT, runtimeBinary } from "../build/paths.ts";
import { GNU_TIME, median, type BenchResult, type BenchRow } from "./startup.ts";

export interface TsBenchOptions {
  log: (msg: string) => void;
  rounds?: number;
}

const WORK = path.join(OUT, "bench", "ts");
const APP_DIR = path.join(ROOT, "bench", "apps", "ts");
const SHM = "/dev/shm";
const REMUX = { width: 1280, height: 720, fps: 30, frames: 10_000, bitrate: "2M", gop: 30 };
const CAM = { width: 1280, height: 720, fps: 30, seconds: 40, frames: 300 };
const TIME_FORMAT = "gnutime %e %U %S %M";

const rel = (p: string): string => (p.startsWith(ROOT) ? path.relative(ROOT, p) || "." : p);
const show = (argv: readonly string[]): string => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
const code = (argv: readonly string[]): string => `\`${show(argv)}\``;
const verdict = (met: boolean): string => (met ? "met" : "**missed**");

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

function tool(argv: string[]): void {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: "utf8", env: childEnv() });
  if (r.status !== 0) throw new Error(`${show(argv)}: ${r.stderr}`);
}

interface Timed {
  wallS: number;
  cpuS: number;
  rssKb: number;
  stdout: string;
}

function timed(argv: readonly string[]): Promise<Timed> {
  const full = [GNU_TIME, "-f", TIME_FORMAT, ...argv];
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const child = spawn(full[0], full.slice(1), { cwd: ROOT, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => {
      const m = /^gnutime ([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/m.exec(stderr);
      if (status !== 0 || !m) reject(new Error(`${show(full)}: exit ${status}\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
      else resolve({ wallS: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]), rssKb: Number(m[4]), stdout });
    });
  });
}

function resultOf(t: Timed): Record<string, unknown> {
  const line = t.stdout.split("\n").find((l) => l.startsWith("result "));
  if (!line) throw new Error(`no result line in: ${t.stdout.slice(-2000)}`);
  return JSON.parse(line.slice("result ".length)) as Record<string, unknown>;
}

function ensureFile(file: string, argv: string[], log: (m: string) => void): void {
  const stamp = `${file}.cmd`;
  const cmd = show(argv);
  if (fs.existsSync(file) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === cmd) return;
  log(`ts: making ${rel(file)}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.rmSync(stamp, { force: true });
  tool(argv);
  fs.writeFileSync(stamp, cmd);
}

function frameCount(file: string): number {
  const r = spawnSync("ffprobe", ["-v", "error", "-count_packets", "-select_streams", "v:0", "-show_entries", "stream=nb_read_packets", "-of", "json", file], { encoding: "utf8" });
  const j = JSON.parse(r.stdout || "{}") as { streams?: { nb_read_packets: string }[] };
  return Number(j.streams?.[0]?.nb_read_packets ?? NaN);
}

export async function runTsBenchmark(opts: TsBenchOptions): Promise<BenchResult> {
  const log = opts.log;
  const rounds = opts.rounds ?? 5;
  if (!fs.existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is missing (Debian package \`time\`)`);
  ensureFlavor("host");
  buildFlavor("lean");
  const image = rel((await buildApp(APP_DIR, { target: "host" })).image);
  const runtime = rel(runtimeBinary("host"));
  const lean = rel(runtimeBinary("lean"));
  const input = path.join(WORK, `remux-${REMUX.width}x${REMUX.height}-${REMUX.frames}.h264`);
  const inputArgv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
    "-i", `testsrc2=size=${REMUX.width}x${REMUX.height}:rate=${REMUX.fps}`, "-frames:v", String(REMUX.frames),
    "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-b:v", REMUX.bitrate, "-g", String(REMUX.gop), "-bf", "0",
    "-f", "h264", rel(input)];
  ensureFile(input, inputArgv, log);
  const inputMb = fs.statSync(input).size / 1e6;
  const places = [{ label: "disk", dir: path.join(WORK, "sdcard") }];
  if (fs.existsSync(SHM)) places.push({ label: "tmpfs", dir: fs.mkdtempSync(path.join(SHM, "qcam-bench-ts-")) });
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  let rss = { host: 0, lean: 0, ffmpeg: 0 };
  let rssArgv: string[][] = [];
  try {
    for (const place of places) {
      fs.mkdirSync(place.dir, { recursive: true });
      fs.copyFileSync(input, path.join(place.dir, "in.h264"));
      const qOut = path.join(place.dir, "out.ts");
      const fOut = path.join(place.dir, "ffmpeg.ts");
      const qArgv = (rt: string) => [rt, "--sdcard", rel(place.dir), image, "--", "remux", "/sdcard/in.h264", "/sdcard/out.ts", String(REMUX.fps)];
      const wOut = path.join(place.dir, "out-writer.ts");
      const wArgv = [runtime, "--sdcard", rel(place.dir), image, "--", "writer", "/sdcard/in.h264", "/sdcard/out-writer.ts", String(REMUX.width), String(REMUX.height), String(REMUX.fps)];
      const ffArgv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "h264", "-framerate", String(REMUX.fps),
        "-i", rel(path.join(place.dir, "in.h264")), "-c", "copy", "-f", "mpegts", rel(fOut)];
      const variants = [
        { label: "qcam", argv: qArgv(runtime), out: qOut },
        { label: "ffmpeg", argv: ffArgv, out: fOut },
        { label: "qcam lean", argv: qArgv(lean), out: qOut },
        { label: "qcam writer", argv: wArgv, out: wOut },
      ];
      const got = new Map<string, Timed[]>(variants.map((v) => [v.label, []]));
      log(`ts: remux ${REMUX.frames} frames (${inputMb.toFixed(0)} MB) → MPEG-TS on ${place.label}, ${rounds} rounds`);
      for (let round = 0; round < rounds; round++) {
        for (const v of round % 2 ? [...variants].reverse() : variants) {
          fs.rmSync(v.out, { force: true });
          const t = await timed(v.argv);
          got.get(v.label)!.push(t);
          if (v.label !== "ffmpeg" && resultOf(t).frames !== REMUX.frames) throw new Error(`remux wrote ${String(resultOf(t).frames)} frames`);
        }
      }
      const med = (label: string, f: (t: Timed) => number) => median(got.get(label)!.map(f));
      const qWall = med("qcam", (t) => t.wallS), fWall = med("ffmpeg", (t) => t.wallS), lWall = med("qcam lean", (t) => t.wallS);
      const qCpu = med("qcam", (t) => t.cpuS), fCpu = med("ffmpeg", (t) => t.cpuS);
      const wWall = med("qcam writer", (t) => t.wallS), wCpu = med("qcam writer", (t) => t.cpuS);
      const nq = frameCount(qOut), nf = frameCount(fOut), nw = frameCount(wOut);
      rows.push({
        benchmark: `remux ${REMUX.frames}-frame H.264 ES (${inputMb.toFixed(0)} MB) → MPEG-TS with remux() (qcam:ts), card on ${place.label}: wall time`,
        qcam: `${qWall.toFixed(3)} s (host runtime; CPU ${qCpu.toFixed(3)} s); lean ${lWall.toFixed(3)} s`,
        peer: `${fWall.toFixed(3)} s (ffmpeg -c copy -f mpegts; CPU ${fCpu.toFixed(3)} s)`,
        ratio: `speed-up ${(fWall / qWall).toFixed(2)}× (ffmpeg time / qcam time)`,
        goal: `≥ 2× — ${verdict(fWall / qWall >= 2)}`,
        command: `qcam: ${code([GNU_TIME, "-f", TIME_FORMAT, ...qArgv(runtime)])}<br>peer: ${code([GNU_TIME, "-f", TIME_FORMAT, ...ffArgv])}`,
      });
      rows.push({
        benchmark: `the same conversion through the recording path (EsReader → TsWriter pull mode: a write and fsync per second of video), card on ${place.label}: wall time`,
        qcam: `${wWall.toFixed(3)} s (host runtime; CPU ${wCpu.toFixed(3)} s)`,
        peer: `${fWall.toFixed(3)} s (ffmpeg -c copy -f mpegts)`,
        ratio: `speed-up ${(fWall / wWall).toFixed(2)}× (ffmpeg time / qcam time)`,
        goal: "— (the recording path; the remux goal is the row above)",
        command: `qcam: ${code([GNU_TIME, "-f", TIME_FORMAT, ...wArgv])}`,
      });
      notes.push(`TS remux on ${place.label}: wall per round qcam remux() ${got.get("qcam")!.map((t) => t.wallS.toFixed(2)).join(", ")} s, ffmpeg ${got.get("ffmpeg")!.map((t) => t.wallS.toFixed(2)).join(", ")} s, lean ${got.get("qcam lean")!.map((t) => t.wallS.toFixed(2)).join(", ")} s, writer path ${got.get("qcam writer")!.map((t) => t.wallS.toFixed(2)).join(", ")} s; ffprobe packets qcam ${nq}, writer path ${nw}, ffmpeg ${nf}; sizes qcam ${fs.statSync(qOut).size} B, writer path ${fs.statSync(wOut).size} B, ffmpeg ${fs.statSync(fOut).size} B`);
      for (const f of [qOut, fOut, wOut, path.join(place.dir, "in.h264")]) fs.rmSync(f, { force: true });
      if (place.label === "tmpfs" || places.length === 1) {
        rss = { host: med("qcam", (t) => t.rssKb), lean: med("qcam lean", (t) => t.rssKb), ffmpeg: med("ffmpeg", (t) => t.rssKb) };
        rssArgv = [qArgv(runtime), qArgv(lean), ffArgv];
      }
    }
  } finally {
    for (const p of places) if (p.dir.startsWith(SHM)) fs.rmSync(p.dir, { recursive: true, force: true });
  }
  rows.push({
    benchmark: "TS remux: peak RSS (GNU time %M)",
    qcam: `${(rss.host / 1024).toFixed(1)} MiB (host runtime); ${(rss.lean / 1024).toFixed(1)} MiB (lean runtime)`,
    peer: `${(rss.ffmpeg / 1024).toFixed(1)} MiB (ffmpeg)`,
    ratio: `${(rss.host / rss.ffmpeg).toFixed(3)} (host); ${(rss.lean / rss.ffmpeg).toFixed(3)} (lean)`,
    goal: `≤ 0.25 — host ${verdict(rss.host / rss.ffmpeg <= 0.25)}, lean ${verdict(rss.lean / rss.ffmpeg <= 0.25)}`,
    command: `qcam: ${code(rssArgv[0])}<br>lean: ${code(rssArgv[1])}<br>peer: ${code(rssArgv[2])}`,
  });
  return { rows, notes };
}

// ---- IP camera → MP4 -----------------------------------------------------------------

function buildGst(): string {
  const bin = path.join(WORK, "rtsp-gst-server");
  const src = path.join(ROOT, "test", "rtsp-gst-server.c");
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs > fs.statSync(src).mtimeMs) return bin;
  const flags = spawnSync("pkg-config", ["--cflags", "--libs", "gstreamer-rtsp-server-1.0"], { encoding: "utf8" });
  if (flags.status !== 0) throw new Error("pkg-config gstreamer-rtsp-server-1.0 failed (Debian: libgstrtspserver-1.0-dev)");
  fs.mkdirSync(WORK, { recursive: true });
  tool(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", src, "-o", bin, ...flags.stdout.trim().split(/\s+/)]);
  return bin;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function runIpcamBenchmark(opts: TsBenchOptions): Promise<BenchResult> {
  const log = opts.log;
  const rounds = opts.rounds ?? 5;
  ensureFlavor("host");
  const image = rel((await buildApp(APP_DIR, { target: "host" })).image);
  const runtime = rel(runtimeBinary("host"));
  const gst = buildGst();
  const clip = path.join(WORK, `camera-${CAM.width}x${CAM.height}-${CAM.fps}fps-${CAM.seconds}s.mkv`);
  const clipArgv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
    "-i", `testsrc2=size=${CAM.width}x${CAM.height}:rate=${CAM.fps},noise=alls=12:allf=t`, "-t", String(CAM.seconds),
    "-c:v", "libx264", "-preset", "veryfast", "-b:v", "4M", "-maxrate", "4M", "-bufsize", "2M", "-g", String(2 * CAM.fps), "-bf", "0",
    "-pix_fmt", "yuv420p", "-x264-params", "repeat-headers=1", rel(clip)];
  ensureFile(clip, clipArgv, log);
  const port = await freePort();
  const server = spawn(gst, [String(port), clip, "h264", "--transport", "tcp", "--per-client"], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = "";
      server.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        if (/^ready \d+$/m.test(out)) resolve();
      });
      server.on("close", (c) => reject(new Error(`rtsp-gst-server exited ${c}`)));
    });
    const url = `rtsp://127.0.0.1:${port}/live`;
    const sd = path.join(WORK, "sdcard");
    fs.mkdirSync(sd, { recursive: true });
    const qOut = path.join(sd, "ipcam.mp4");
    const fOut = path.join(sd, "ffmpeg-ipcam.mp4");
    const qArgv = [runtime, "--sdcard", rel(sd), image, "--", "ipcam", url, "/sdcard/ipcam.mp4", String(CAM.frames)];
    const ffArgv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-rtsp_transport", "tcp", "-i", url, "-c", "copy", "-frames:v", String(CAM.frames), rel(fOut)];
    const got = new Map<string, Timed[]>([["qcam", []], ["ffmpeg", []]]);
    const threads: number[] = [];
    log(`ipcam: ${CAM.frames} frames of ${CAM.width}x${CAM.height} H.264 from GStreamer's RTSP server → MP4, ${rounds} rounds of qcam and ffmpeg`);
    for (let round = 0; round < rounds; round++) {
      for (const label of round % 2 ? ["ffmpeg", "qcam"] : ["qcam", "ffmpeg"]) {
        fs.rmSync(label === "qcam" ? qOut : fOut, { force: true });
        const t = await timed(label === "qcam" ? qArgv : ffArgv);
        got.get(label)!.push(t);
        if (label === "qcam") {
          const res = resultOf(t) as { frames: number; cpuUs: { capture: number; sinks: number[] } };
          if (res.frames < CAM.frames) throw new Error(`qcam recorded ${res.frames} frames`);
          threads.push(res.cpuUs.capture + res.cpuUs.sinks[0]);
        }
      }
    }
    const med = (label: string, f: (t: Timed) => number) => median(got.get(label)!.map(f));
    const qCpu = med("qcam", (t) => t.cpuS), fCpu = med("ffmpeg", (t) => t.cpuS);
    const nq = frameCount(qOut), nf = frameCount(fOut);
    return {
      rows: [{
        benchmark: `IP camera → MP4 without re-encoding: ${CAM.frames} frames of ${CAM.width}x${CAM.height}p${CAM.fps} H.264 at 4 Mbit/s from GStreamer's RTSP server over TCP, whole-process CPU (user + sys)`,
        qcam: `${qCpu.toFixed(3)} s (RtspSource → link → Mp4Writer, finalized; the link's threads ${(median(threads) / 1e6).toFixed(3)} s)`,
        peer: `${fCpu.toFixed(3)} s (ffmpeg -c copy)`,
        ratio: `${(qCpu / fCpu).toFixed(2)}× (qcam / ffmpeg)`,
        goal: `≤ 0.5× — ${verdict(qCpu / fCpu <= 0.5)}`,
        command: `server: ${code([rel(gst), String(port), rel(clip), "h264", "--transport", "tcp", "--per-client"])}<br>qcam: ${code([GNU_TIME, "-f", TIME_FORMAT, ...qArgv])}<br>peer: ${code([GNU_TIME, "-f", TIME_FORMAT, ...ffArgv])}`,
      }],
      notes: [`IP camera → MP4: CPU per round qcam ${got.get("qcam")!.map((t) => t.cpuS.toFixed(2)).join(", ")} s, ffmpeg ${got.get("ffmpeg")!.map((t) => t.cpuS.toFixed(2)).join(", ")} s; wall qcam ${med("qcam", (t) => t.wallS).toFixed(2)} s, ffmpeg ${med("ffmpeg", (t) => t.wallS).toFixed(2)} s (both paced by the camera); ffprobe packets qcam ${nq}, ffmpeg ${nf}; peak RSS qcam ${(med("qcam", (t) => t.rssKb) / 1024).toFixed(1)} MiB, ffmpeg ${(med("ffmpeg", (t) => t.rssKb) / 1024).toFixed(1)} MiB`],
    };
  } finally {
    server.kill("SIGTERM");
  }
}
