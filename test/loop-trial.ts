// A loop-recording trial: the recorder app on the real runtime, recording
// segments on a small sim SD card (--sdcard-size) for a while, watched from
// outside. Shared by the integration test (a short trial) and `npm run soak`
// (three minutes per configuration).
//
// What is watched, every `sampleMs`: the runtime's resident memory, open file
// descriptors and threads (/proc), and the bytes in files on the card. What
// is judged at the end: the recorder never stopped on its own, it deleted
// only recordings, oldest first, never more than the card holds, and every
// file left on the card plays (ffprobe, and a clean `ffmpeg -v error` decode).
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../build/app-build.ts";
import { ROOT, runtimeBinary } from "../build/paths.ts";
import { spawnChild, spawnSyncChild } from "./helpers.ts";

export interface LoopTrialOptions {
  seconds: number;
  /** Keep going past `seconds` until this many recordings were deleted (the card filled and rolled over), up to `maxSeconds`. */
  minDeleted?: number;
  maxSeconds?: number;
  sizeMb: number;
  codec: "h264" | "h265";
  audio: boolean;
  segment: number;
  sampleMs?: number;
  sdcard: string;
}

export interface Sample {
  atMs: number;
  rssKb: number;
  fds: number;
  threads: number;
  cardBytes: number;
}

export interface LoopTrialResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  samples: Sample[];
  saved: string[]; // board paths, in the order they were saved
  deleted: string[]; // board paths, in the order they were deleted
  left: string[]; // files in the card's video folder at the end
  capBytes: number;
  ranMs: number; // from the start to SIGINT
}

function procStatus(pid: number): { rssKb: number; threads: number } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const num = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(s)?.[1] ?? NaN);
    return { rssKb: num("VmRSS"), threads: num("Threads") };
  } catch {
    return null;
  }
}

/** Bytes in files under dir (what the sim card counts). */
export function bytesIn(dir: string): number {
  let sum = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    try {
      if (e.isDirectory()) sum += bytesIn(p);
      else if (e.isFile()) sum += fs.statSync(p).size;
    } catch {
      /* gone meanwhile */
    }
  }
  return sum;
}

export async function runLoopTrial(o: LoopTrialOptions): Promise<LoopTrialResult> {
  const built = await buildApp(path.join(ROOT, "app"), { target: "host", typecheck: false });
  fs.mkdirSync(o.sdcard, { recursive: true });
  const args = ["--sdcard", o.sdcard, "--sdcard-size", String(o.sizeMb), built.image, "--", "--segment", String(o.segment), "--codec", o.codec, ...(o.audio ? ["--audio"] : [])];
  const run = spawnChild(runtimeBinary("host"), args);
  const child = run.child;
  const samples: Sample[] = [];
  const t0 = Date.now();
  const sampleMs = o.sampleMs ?? 10_000;
  try {
    let next = t0;
    const deleted = () => (run.output().stdout.match(/^ {2}deleted /gm) ?? []).length;
    const more = () => Date.now() - t0 < o.seconds * 1000 || (deleted() < (o.minDeleted ?? 0) && Date.now() - t0 < (o.maxSeconds ?? o.seconds) * 1000);
    while (more() && child.exitCode === null) {
      if (Date.now() >= next) {
        const st = procStatus(child.pid!);
        let fds = NaN;
        try {
          fds = fs.readdirSync(`/proc/${child.pid}/fd`).length;
        } catch {
          /* exited */
        }
        if (st) samples.push({ atMs: Date.now() - t0, rssKb: st.rssKb, fds, threads: st.threads, cardBytes: bytesIn(o.sdcard) });
        next += sampleMs;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const ranMs = Date.now() - t0;
    child.kill("SIGINT");
    const killer = setTimeout(run.kill, 60_000);
    const end = await run.done;
    clearTimeout(killer);
    const { stdout } = end;
    const videoDir = path.join(o.sdcard, "video");
    return {
      ...end,
      samples,
      saved: [...stdout.matchAll(/^ {2}saved (\S+):/gm)].map((m) => m[1]),
      deleted: [...stdout.matchAll(/^ {2}deleted (\S+) to make room/gm)].map((m) => m[1]),
      left: fs.existsSync(videoDir) ? fs.readdirSync(videoDir).sort() : [],
      capBytes: Math.floor(o.sizeMb * 1024 * 1024),
      ranMs,
    };
  } finally {
    run.kill();
  }
}

/** What ffprobe and ffmpeg say of a file: "" when it plays, else why not. */
export function playProblem(file: string, audio: boolean): string {
  const p = spawnSyncChild("ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=codec_type,nb_read_frames", "-of", "json", file], { encoding: "utf8" });
  if (p.status !== 0) return `ffprobe: ${p.stderr}`;
  const streams = (JSON.parse(p.stdout) as { streams: { codec_type: string; nb_read_frames?: string }[] }).streams;
  const video = streams.find((s) => s.codec_type === "video");
  if (!video || !(Number(video.nb_read_frames) > 0)) return `no video frames: ${p.stdout}`;
  if (audio && !streams.some((s) => s.codec_type === "audio")) return "no audio track";
  const d = spawnSyncChild("ffmpeg", ["-v", "error", "-i", file, "-f", "null", "-"], { encoding: "utf8" });
  if (d.status !== 0 || d.stderr !== "") return `ffmpeg: ${d.stderr}`;
  return "";
}

/** Everything a loop-recording trial must show; the list of what it does not. */
export function judgeLoopTrial(r: LoopTrialResult, o: LoopTrialOptions, bounds: { rssKb: number; fds: number; threads: number }): string[] {
  const bad: string[] = [];
  if (r.code !== 0) bad.push(`exit ${r.code} (${r.signal}): ${r.stderr.slice(-500)}`);
  if (/recording failed|ENOSPC/.test(r.stdout + r.stderr)) bad.push(`it failed: ${(r.stdout + r.stderr).slice(-800)}`);
  if (r.deleted.length === 0) bad.push("the card never filled: nothing was deleted");
  // every picture the link took is in a saved segment or counted as dropped
  const count = /^ {2}frames: (\d+) pictures taken, (\d+) stored, (\d+) dropped/m.exec(r.stdout);
  const savedFrames = [...r.stdout.matchAll(/^ {2}saved \S+: (\d+) frames/gm)].reduce((n, m) => n + Number(m[1]), 0);
  if (!count) bad.push("no closing frame count");
  else if (Number(count[1]) !== Number(count[2]) + Number(count[3]) || Number(count[2]) !== savedFrames)
    bad.push(`frames do not add up: ${count[0].trim()}; the saved segments hold ${savedFrames}`);
  // oldest first: deletions in name (= start time) order, each one older than every file left
  const sorted = [...r.deleted].sort();
  if (r.deleted.join() !== sorted.join()) bad.push(`deleted out of order: ${r.deleted.join(", ")}`);
  const newestDeleted = path.basename(sorted[sorted.length - 1] ?? "");
  if (r.left.some((f) => f <= newestDeleted)) bad.push(`a file left is older than one deleted: ${r.left.join(", ")}`);
  if (!r.left.every((f) => /^rec_\d{8}_\d{6}_\d{3}\.mp4$/.test(f))) bad.push(`something else is on the card: ${r.left.join(", ")}`);
  for (const s of r.samples) if (s.cardBytes > r.capBytes) bad.push(`the card held ${s.cardBytes} bytes at ${s.atMs} ms, over its ${r.capBytes}`);
  for (const f of r.left) {
    const why = playProblem(path.join(o.sdcard, "video", f), o.audio);
    if (why) bad.push(`${f} does not play: ${why}`);
  }
  // flat: after the first sample (start-up), nothing grows past the bound
  const steady = r.samples.slice(1);
  if (steady.length < 2) bad.push(`only ${r.samples.length} samples`);
  else {
    const first = steady[0];
    for (const s of steady) {
      if (s.rssKb > first.rssKb + bounds.rssKb) bad.push(`RSS grew from ${first.rssKb} to ${s.rssKb} KiB at ${s.atMs} ms`);
      if (s.fds > first.fds + bounds.fds) bad.push(`open files grew from ${first.fds} to ${s.fds} at ${s.atMs} ms`);
      if (s.threads > first.threads + bounds.threads) bad.push(`threads grew from ${first.threads} to ${s.threads} at ${s.atMs} ms`);
    }
  }
  return bad;
}
