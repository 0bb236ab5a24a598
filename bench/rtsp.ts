// RTSP benchmarks (part of `npm run bench`): qcam's server against GStreamer's
// RTSP server (libgstrtspserver-1.0, bench/rtsp-gst.c) in the same run, both
// serving one pre-encoded 720p30 ~4 Mbit/s H.264 clip (GOP 2 s) at 30 fps.
//
//   1. 32 TCP clients (bench/rtsp-reader.ts, in this process) for 30 s:
//      server CPU (its threads' schedstat run time over the window), frames per
//      client, RTP sequence gaps.
//   2. Time to first frame for a new client (connect → its first keyframe
//      complete), qcam with fast start vs without, and GStreamer's.
//   3. qcam's server latency, frame handed to the stream → its last RTP packet
//      written, p50/p99 over the 32-client run (stats().latencyUs).
//
// RTSP_BENCH_CLIENTS / RTSP_BENCH_SECONDS shrink it for a quick look.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildApp, ensureFlavor } from "../build/app-build.ts";
import { OUT, ROOT } from "../build/paths.ts";
import { runtimeCommand } from "../build/run.ts";
import { RtspReader } from "./rtsp-reader.ts";
import type { BenchResult, BenchRow } from "./startup.ts";

const WORK = path.join(OUT, "bench", "rtsp");
const SDCARD = path.join(WORK, "sdcard");
const GST_SRC = path.join(ROOT, "bench", "rtsp-gst.c");
const GST_BIN = path.join(WORK, "rtsp-gst");
const FPS = 30;
const CLIENTS = Number(process.env.RTSP_BENCH_CLIENTS ?? 32);
const SECONDS = Number(process.env.RTSP_BENCH_SECONDS ?? 30);
const TTFF_SAMPLES = 8;
// Slack after the load window: the window starts once every client of BOTH
// servers plays, and GStreamer's clients can take several seconds to get
// there on a loaded machine; qcam's server must still be serving at its end.
const SLACK_SECONDS = 15;
const CLIP_SECONDS = Math.max(SECONDS + SLACK_SECONDS + 10, 30); // the load window, slack and start-up; enough for the time-to-first-frame samples
const CLIP_NAME = `clip-720p30-${CLIP_SECONDS}s.h264`;
const CLIP = path.join(SDCARD, CLIP_NAME);

const rel = (p: string): string => path.relative(ROOT, p) || ".";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[(s.length - 1) >> 1] : NaN;
};

/** CPU seconds so far, summed over the live threads of `pid` (/proc/<pid>/task/<tid>/schedstat: ns, not ticks). */
function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1e9;
}

function ensureClip(log: (m: string) => void): string[] {
  // The load window plus slack and start-up. Noise gives the encoder real work, so
  // the rate is the 4 Mbit/s asked for; parameter sets ride on every IDR.
  const argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
    "-i", `testsrc2=size=1280x720:rate=${FPS},noise=alls=12:allf=t`, "-t", String(CLIP_SECONDS),
    "-c:v", "libx264", "-preset", "veryfast", "-b:v", "4M", "-maxrate", "4M", "-bufsize", "2M",
    "-g", String(2 * FPS), "-keyint_min", String(2 * FPS), "-bf", "0", "-pix_fmt", "yuv420p",
    "-x264-params", "scenecut=0:repeat-headers=1", "-f", "h264", rel(CLIP)];
  if (!fs.existsSync(CLIP)) {
    fs.mkdirSync(SDCARD, { recursive: true });
    log(`bench: encoding ${rel(CLIP)}`);
    const tmp = argv.slice(0, -1).concat(`${rel(CLIP)}.part`); // a cut-short run leaves no clip behind
    const r = spawnSync(tmp[0], tmp.slice(1), { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
    fs.renameSync(`${CLIP}.part`, CLIP);
  }
  return argv;
}

function ensureGst(log: (m: string) => void): string[] {
  const flags = spawnSync("pkg-config", ["--cflags", "--libs", "gstreamer-rtsp-server-1.0"], { encoding: "utf8" });
  if (flags.status !== 0) throw new Error("pkg-config gstreamer-rtsp-server-1.0 failed (Debian: libgstrtspserver-1.0-dev)");
  const argv = ["cc", "-O2", "-o", rel(GST_BIN), rel(GST_SRC), ...flags.stdout.trim().split(/\s+/)];
  if (!fs.existsSync(GST_BIN) || fs.statSync(GST_BIN).mtimeMs < fs.statSync(GST_SRC).mtimeMs) {
    log(`bench: building ${rel(GST_BIN)}`);
    fs.mkdirSync(WORK, { recursive: true });
    const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
  }
  return argv;
}

interface Server {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  done: Promise<number | null>;
}

/** Start a server process; `ready` finds its URL in a stdout line. */
async function startServer(argv: string[], ready: (line: string) => string | null): Promise<Server> {
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const done = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      for (const line of out.split("\n")) {
        const u = ready(line);
        if (u) resolve(u);
      }
    });
    child.on("close", () => reject(new Error(`${argv.join(" ")} ended: ${out}${err}`)));
  });
  return { child, url, stdout: () => out, done };
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface LoadResult {
  cpuPercent: number;
  framesMin: number;
  framesMax: number;
  gaps: number;
}

interface Side {
  url: string;
  pid: number;
  /** The server says every client plays (qcam's fixture prints it). */
  started?: () => boolean;
}

/** CLIENTS readers on each server at once; each server's CPU and frames per
 * reader over the same SECONDS window once all play, so both see the same
 * machine (a 2-core box shared with other work drifts from minute to minute). */
async function load(sides: Side[], seconds = SECONDS): Promise<{ results: LoadResult[]; readers: RtspReader[][] }> {
  const readers = sides.map((side) => Array.from({ length: CLIENTS }, () => new RtspReader(side.url)));
  await Promise.all(readers.flat().map((r) => r.start()));
  for (const side of sides) if (side.started) await waitFor(side.started, 20000, "every client playing");
  await sleep(1000); // past the fast-start bursts
  const f0 = readers.map((rs) => rs.map((r) => r.stats.frames));
  const c0 = sides.map((side) => cpuSeconds(side.pid));
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const c1 = sides.map((side) => cpuSeconds(side.pid));
  const wall = (performance.now() - t0) / 1000;
  const results = readers.map((rs, k) => {
    const frames = rs.map((r, i) => r.stats.frames - f0[k][i]);
    return {
      cpuPercent: ((c1[k] - c0[k]) / wall) * 100,
      framesMin: Math.min(...frames),
      framesMax: Math.max(...frames),
      gaps: rs.reduce((n, r) => n + r.stats.gaps, 0),
    };
  });
  return { results, readers };
}

/** Connect a fresh reader now and then; ms from connect to its first complete keyframe. */
async function firstFrameTimes(url: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < TTFF_SAMPLES; i++) {
    await sleep(150 + ((i * 617) % 1900)); // join at different points of the 2 s GOP
    const r = new RtspReader(url);
    await r.start();
    await waitFor(() => r.stats.firstKeyframeMs !== null, 10000, "a first keyframe");
    times.push(r.stats.firstKeyframeMs!);
    await r.close();
  }
  return times;
}

export interface RtspBenchOptions {
  log: (m: string) => void;
}

export async function runRtspBenchmark(opts: RtspBenchOptions): Promise<BenchResult> {
  const log = opts.log;
  ensureFlavor("host");
  const built = await buildApp(path.join(ROOT, "test", "fixtures", "rtsp"), { target: "host" });
  const clipArgv = ensureClip(log);
  const gstBuild = ensureGst(log);
  const bitrate = (fs.statSync(CLIP).size * 8) / CLIP_SECONDS / 1e6;
  const qcamArgs = (extra: string[]) =>
    runtimeCommand("host", built.image, { sdcard: SDCARD, args: ["source=file", `file=/sdcard/${CLIP_NAME}`, `fps=${FPS}`, ...extra] });

  // ---- 1 + 3: 32 clients on each server, at the same time ----
  log(`bench: qcam's and GStreamer's RTSP servers, ${CLIENTS} clients each, ${SECONDS} s`);
  const qArgv = qcamArgs([`clients=${CLIENTS}`, `ms=${(SECONDS + SLACK_SECONDS) * 1000}`, `max=${CLIENTS + 4}`]);
  const q = await startServer(qArgv, (l) => /^url (\S+)/.exec(l)?.[1] ?? null);
  const gArgv = [GST_BIN, "0", CLIP, String(FPS)];
  const gstUrl = (l: string) => {
    const m = /^ready (\d+)/.exec(l);
    return m ? `rtsp://127.0.0.1:${m[1]}/live` : null;
  };
  const g = await startServer(gArgv, gstUrl);
  const both = await load([
    { url: q.url, pid: q.child.pid!, started: () => /^playing /m.test(q.stdout()) },
    { url: g.url, pid: g.child.pid! },
  ]);
  const qLoad = { result: both.results[0], readers: both.readers[0] };
  const gLoad = { result: both.results[1], readers: both.readers[1] };
  await Promise.all(gLoad.readers.map((r) => r.close()));
  g.child.kill("SIGINT");
  await g.done;
  const qCode = await q.done;
  await Promise.all(qLoad.readers.map((r) => r.closed()));
  const finalLine = q.stdout().split("\n").find((l) => l.startsWith("final "));
  if (qCode !== 0 || !finalLine) throw new Error(`qcam RTSP server failed (${qCode}): ${q.stdout()}`);
  const final = JSON.parse(finalLine.slice(6)) as { clients: { framesSent: number; drops: number }[]; latencyUs: { p50: number; p99: number } };
  const qDrops = final.clients.reduce((n, c) => n + c.drops, 0);
  log(`bench: qcam ${qLoad.result.cpuPercent.toFixed(2)}% CPU, frames/client ${qLoad.result.framesMin}..${qLoad.result.framesMax}`);
  log(`bench: GStreamer ${gLoad.result.cpuPercent.toFixed(2)}% CPU, frames/client ${gLoad.result.framesMin}..${gLoad.result.framesMax}`);
  const sentExact = qLoad.readers.every((r) => final.clients.some((c) => c.framesSent === r.stats.frames));

  // ---- 3: latency, qcam on its own (the run above shares the CPU with a second server and 64 readers) ----
  const latSeconds = Math.max(5, Math.round(SECONDS / 3));
  log(`bench: qcam server latency, ${CLIENTS} clients, ${latSeconds} s`);
  const lArgv = qcamArgs([`clients=${CLIENTS}`, `ms=${(latSeconds + 2) * 1000}`, `max=${CLIENTS + 4}`]);
  const l = await startServer(lArgv, (line) => /^url (\S+)/.exec(line)?.[1] ?? null);
  const lLoad = await load([{ url: l.url, pid: l.child.pid!, started: () => /^playing /m.test(l.stdout()) }], latSeconds);
  const lCode = await l.done;
  await Promise.all(lLoad.readers[0].map((r) => r.closed()));
  const latLine = l.stdout().split("\n").find((line) => line.startsWith("final "));
  if (lCode !== 0 || !latLine) throw new Error(`qcam RTSP server failed (${lCode}): ${l.stdout()}`);
  const latency = (JSON.parse(latLine.slice(6)) as { latencyUs: { p50: number; p99: number } }).latencyUs;
  log(`bench: qcam latency p50/p99 ${latency.p50.toFixed(0)}/${latency.p99.toFixed(0)} µs (during the shared run: ${final.latencyUs.p50.toFixed(0)}/${final.latencyUs.p99.toFixed(0)} µs)`);

  // ---- 2: time to first frame ----
  log("bench: time to first frame (fast start, without, GStreamer)");
  const ttff: Record<string, number[]> = {};
  for (const fast of [1, 0]) {
    const s = await startServer(qcamArgs(["clients=0", `fast=${fast}`]), (l) => /^url (\S+)/.exec(l)?.[1] ?? null);
    await sleep(2500); // a GOP into the clip
    ttff[fast ? "fast" : "slow"] = await firstFrameTimes(s.url);
    s.child.kill("SIGINT");
    await s.done;
  }
  const g2 = await startServer(gArgv, gstUrl);
  await new Promise<void>((resolve, reject) => {
    // GStreamer starts the shared media with its first client: hold one from the start, as qcam's file plays from its start.
    const first = new RtspReader(g2.url);
    first.start().then(() => sleep(2500)).then(async () => {
      ttff.gst = await firstFrameTimes(g2.url);
      await first.close();
      resolve();
    }, reject);
  });
  g2.child.kill("SIGINT");
  await g2.done;

  const frames = (r: LoadResult) => `${r.framesMin}–${r.framesMax} frames/client in ${SECONDS} s, ${r.gaps} RTP gaps`;
  const ratio = qLoad.result.cpuPercent / gLoad.result.cpuPercent;
  const qf = median(ttff.fast);
  const rows: BenchRow[] = [
    {
      benchmark: `RTSP server CPU: ${CLIENTS} TCP clients, 720p30 H.264 ${bitrate.toFixed(1)} Mbit/s, ${SECONDS} s`,
      qcam: `${qLoad.result.cpuPercent.toFixed(1)}% of a core; ${frames(qLoad.result)}, ${qDrops} dropped`,
      peer: `GStreamer rtsp-server ${gLoad.result.cpuPercent.toFixed(1)}%; ${frames(gLoad.result)}`,
      ratio: `${ratio.toFixed(2)}×`,
      goal: `≤ 0.5× (${ratio <= 0.5 ? "met" : "**missed**"})`,
      command: `qcam: \`${qArgv.map(rel).join(" ")}\`<br>peer: \`${rel(GST_BIN)} 0 ${rel(CLIP)} ${FPS}\` (built: \`${gstBuild.join(" ")}\`); clients: bench/rtsp-reader.ts`,
    },
    {
      benchmark: "RTSP time to first frame: new client, GOP 2 s (connect → first keyframe complete, median of 8)",
      qcam: `${qf.toFixed(1)} ms with fast start`,
      peer: `${median(ttff.slow).toFixed(0)} ms without fast start; GStreamer ${median(ttff.gst).toFixed(0)} ms`,
      ratio: `${(qf / median(ttff.gst)).toFixed(3)}× GStreamer`,
      goal: `≤ 50 ms (${qf <= 50 ? "met" : "**missed**"})`,
      command: `\`${qcamArgs(["clients=0", "fast=1"]).map(rel).join(" ")}\` (and \`fast=0\`)`,
    },
    {
      benchmark: `RTSP server latency: frame handed to the stream → last RTP packet written (${CLIENTS} clients)`,
      qcam: `p50 ${latency.p50.toFixed(0)} µs, p99 ${latency.p99.toFixed(0)} µs (${CLIENTS} clients, ${latSeconds} s)`,
      peer: "—",
      ratio: "—",
      goal: `p99 ≤ 1 ms (${latency.p99 <= 1000 ? "met" : "**missed**"})`,
      command: `\`server.close().latencyUs\` of \`${lArgv.map(rel).join(" ")}\``,
    },
  ];
  const notes = [
    `RTSP clip: \`${clipArgv.map((a) => (a.includes(" ") || a.includes(",") ? `'${a}'` : a)).join(" ")}\`; both servers read it from storage and pace it at ${FPS} fps (qcam: EsReader + \`stream.write()\` in pull mode; GStreamer: filesrc ! h264parse ! identity sync=true ! rtph264pay, one shared media).`,
    `RTSP CPU is the server process's time on CPU (user + system, every thread, from /proc/<pid>/task/*/schedstat) over one ${SECONDS} s window, both servers loaded at the same time (so both see the same machine), starting a second after every client plays (past qcam's fast-start bursts); the clients run in the benchmark's Node process. Frames each qcam client counted equal the server's own framesSent: ${sentExact ? "yes" : "no"}.`,
    `RTSP latency while both servers were loaded at once (the CPU run): p50 ${final.latencyUs.p50.toFixed(0)} µs, p99 ${final.latencyUs.p99.toFixed(0)} µs — the writing thread competes with the other server and 64 readers for 2 cores.`,
    `RTSP time to first frame samples (ms): fast start ${ttff.fast.map((v) => v.toFixed(1)).join(", ")}; without ${ttff.slow.map((v) => v.toFixed(0)).join(", ")}; GStreamer ${ttff.gst.map((v) => v.toFixed(0)).join(", ")}.`,
  ];
  return { rows, notes };
}
