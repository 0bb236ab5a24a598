// The publish benchmarks (bench/apps/publish), against servers run here as
// children with their own configuration on free ports:
//  1. RTMP push CPU: the same H.264 clip (1280x720, 30 fps, 20 s, made by
//     ffmpeg with libx264) pushed in real time to nginx-rtmp by qcam (EsReader
//     → RtmpPublisher.write, the whole runtime process) and by
//     `ffmpeg -re -i clip.h264 -c copy -f flv rtmp://…` — whole-process CPU
//     (GNU time, user + sys) of each, in the same run. Best of 3.
//  2. RTSP push CPU: the same clip pushed with ANNOUNCE + RECORD (TCP
//     interleaved) to GStreamer's RTSP server in record mode
//     (test/rtsp-record.c) by qcam (RtspPublisher.write) and by
//     `ffmpeg -re -i clip.h264 -c copy -f rtsp -rtsp_transport tcp rtsp://…`.
//  3. Glass-to-server latency: camera (1280x720, 30 fps) → H.264 →
//     RtmpPublisher → nginx-rtmp → ffmpeg pulling the stream back (-c copy to
//     a pipe, parsed here tag by tag). Each frame carries its capture time
//     (CLOCK_MONOTONIC, the camera's timestamp) as its stream time from the
//     first frame; its latency is when its FLV tag arrives here (hrtime, the
//     same clock) minus that capture time. p50 over 10 s, the first second left out.
//  4. MQTT command → acknowledged state change through mosquitto: a fleet
//     client publishes a command, the board client changes its state and
//     publishes an ack; p50 of the round trip over 50 commands.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { buildApp, ensureFlavor } from "../build/app-build.ts";
import { OUT, ROOT, runtimeBinary } from "../build/paths.ts";
import type { BenchResult, BenchRow } from "./startup.ts";

const APP_DIR = path.join(ROOT, "bench", "apps", "publish");
const WORK = path.join(OUT, "bench", "publish");
const GNU_TIME = "/usr/bin/time";
const GOAL_CPU = 0.5;
const GOAL_MQTT_MS = 20;
const LATENCY_SECONDS = 10;

/** Glass-to-server latency (see 2. above): the latencies of the frames pulled back, ms. */
async function glassToServer(runtime: string, image: string, nginxDir: string, rtmpPort: number): Promise<{ lat: number[]; sent: number; pulled: number; argv: string[] }> {
  const url = `rtmp://127.0.0.1:${rtmpPort}/live/latency`;
  const argv = [runtime, "--sdcard", rel(path.join(WORK, "sdcard")), image, "--", "latency", url, String(LATENCY_SECONDS)];
  const board = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  board.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  board.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const boardDone = new Promise<number | null>((r) => board.on("exit", r));
  const log = path.join(nginxDir, "error.log");
  for (let i = 0; !fs.readFileSync(log, "utf8").includes("publish: name='latency'"); i++) {
    if (i > 1000 || board.exitCode !== null) throw new Error(`the latency board did not publish: ${err}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const ff = spawn("ffmpeg", ["-v", "error", "-fflags", "nobuffer", "-probesize", "32", "-analyzeduration", "0", "-i", url, "-c", "copy", "-copyts", "-flush_packets", "1", "-f", "flv", "pipe:1"],
    { stdio: ["ignore", "pipe", "ignore"] });
  const ffDone = new Promise((r) => ff.on("exit", r));
  const tags: { ts: number; at: number }[] = [];
  let buf = Buffer.alloc(0);
  ff.stdout!.on("data", (d: Buffer) => {
    const at = Number(process.hrtime.bigint()) / 1e6; // CLOCK_MONOTONIC, as the camera's timestamps
    buf = Buffer.concat([buf, d]);
    let off = 0;
    if (buf.length >= 13 && buf.toString("latin1", 0, 3) === "FLV") off = 13; // the header, once
    for (;;) {
      if (buf.length < off + 11) break;
      const size = buf.readUIntBE(off + 1, 3);
      if (buf.length < off + 11 + size + 4) break;
      const ts = buf.readUIntBE(off + 4, 3) | (buf[off + 7] << 24);
      if (buf[off] === 9 && buf[off + 12] === 1) tags.push({ ts, at }); // an AVC NALU tag (not the sequence header)
      off += 11 + size + 4;
    }
    buf = buf.subarray(off);
  });
  const code = await boardDone;
  if (code !== 0) throw new Error(`${show(argv)}: exit ${code}\n${err}`);
  await new Promise((r) => setTimeout(r, 1500)); // the last tags on their way
  ff.kill("SIGKILL"); // (what it wrote is read as it came; nothing to finish)
  await ffDone;
  const res = JSON.parse(out.split("\n").find((l) => l.startsWith("result "))!.slice(7)) as { first: number; sent: number };
  const lat = tags.slice(30).map((t) => t.at - (res.first + t.ts));
  return { lat, sent: res.sent, pulled: tags.length, argv };
}
const rel = (p: string) => path.relative(ROOT, p);
const show = (argv: readonly string[]) => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function listening(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (child.exitCode !== null) throw new Error("the server exited");
    const up = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => {
        c.destroy();
        resolve(true);
      });
      c.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** Whole-process CPU (user + sys, µs) of a run, and its result line (if any). */
function timed(argv: readonly string[]): { cpuUs: number; out: string } {
  const full = [GNU_TIME, "-f", "gnutime %U %S", ...argv];
  const r = spawnSync(full[0], full.slice(1), { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${show(full)}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  const m = /^gnutime ([\d.]+) ([\d.]+)$/m.exec(r.stderr);
  if (!m) throw new Error(`${show(full)}: no timing\n${r.stderr}`);
  return { cpuUs: (Number(m[1]) + Number(m[2])) * 1e6, out: r.stdout };
}

export async function runPublishBenchmark(opts: { log: (m: string) => void }): Promise<BenchResult> {
  ensureFlavor("host");
  const image = rel((await buildApp(APP_DIR, { target: "host" })).image);
  const runtime = rel(runtimeBinary("host"));
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  fs.mkdirSync(path.join(WORK, "sdcard"), { recursive: true });
  const clip = path.join(WORK, "sdcard", "clip.h264"); // /sdcard/clip.h264 for the app
  opts.log("publish: making a 20 s 1280x720 H.264 clip with ffmpeg");
  const mk = spawnSync("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=20", "-c:v", "libx264",
    "-preset", "veryfast", "-b:v", "3M", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p", "-y", clip], { encoding: "utf8" });
  if (mk.status !== 0) throw new Error(`ffmpeg clip: ${mk.stderr}`);
  const children: ChildProcess[] = [];
  const rows: BenchRow[] = [];
  try {
    // nginx-rtmp
    const rtmpPort = await freePort();
    fs.mkdirSync(path.join(WORK, "nginx"), { recursive: true });
    const conf = path.join(WORK, "nginx", "nginx.conf");
    fs.writeFileSync(conf, `daemon off;\nmaster_process off;\npid ${WORK}/nginx/nginx.pid;\nerror_log ${WORK}/nginx/error.log info;\n` +
      `load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;\nevents { worker_connections 64; }\n` +
      `rtmp { server { listen 127.0.0.1:${rtmpPort}; application live { live on; } } }\n`);
    const nginx = spawn("nginx", ["-p", path.join(WORK, "nginx"), "-c", conf, "-e", path.join(WORK, "nginx", "error.log")], { stdio: "ignore" });
    children.push(nginx);
    await listening(rtmpPort, nginx);
    const qcamArgv = [runtime, "--sdcard", rel(path.join(WORK, "sdcard")), image, "--", "rtmp", `rtmp://127.0.0.1:${rtmpPort}/live/qcam`, "/sdcard/clip.h264", "30"];
    const ffArgv = ["ffmpeg", "-v", "error", "-re", "-i", rel(clip), "-c", "copy", "-f", "flv", `rtmp://127.0.0.1:${rtmpPort}/live/ffmpeg`];
    let q = Infinity, f = Infinity;
    for (let i = 0; i < 3; i++) {
      opts.log(`publish: RTMP push, run ${i + 1} of 3 (qcam, then ffmpeg; 20 s each)`);
      const qr = timed(qcamArgv);
      const res = JSON.parse(qr.out.split("\n").find((l) => l.startsWith("result "))!.slice(7)) as { frames: number; sent: number };
      if (res.sent !== 600) throw new Error(`qcam sent ${res.sent} of ${res.frames} frames`);
      q = Math.min(q, qr.cpuUs);
      f = Math.min(f, timed(ffArgv).cpuUs);
    }
    const ratio = q / f;
    rows.push({
      benchmark: "RTMP push to nginx-rtmp of a 20 s 1280x720 30 fps H.264 clip (600 frames, 3 Mb/s) in real time: whole-process CPU",
      qcam: `${(q / 1000).toFixed(0)} ms`,
      peer: `${(f / 1000).toFixed(0)} ms (ffmpeg -re -c copy -f flv)`,
      ratio: `${ratio.toFixed(2)}×`,
      goal: `≤ ${GOAL_CPU}× — ${ratio <= GOAL_CPU ? "met" : "**missed**"}`,
      command: `qcam: \`${show([GNU_TIME, "-f", "gnutime %U %S", ...qcamArgv])}\`<br>peer: \`${show([GNU_TIME, "-f", "gnutime %U %S", ...ffArgv])}\``,
    });

    // GStreamer's RTSP server in record mode (test/rtsp-record.c)
    const recBin = path.join(WORK, "rtsp-record");
    const flags = spawnSync("pkg-config", ["--cflags", "--libs", "gstreamer-rtsp-server-1.0"], { encoding: "utf8" });
    if (flags.status !== 0) throw new Error("pkg-config gstreamer-rtsp-server-1.0 failed (Debian: libgstrtspserver-1.0-dev)");
    const cc = spawnSync("cc", ["-O2", "-o", recBin, path.join(ROOT, "test", "rtsp-record.c"), ...flags.stdout.trim().split(/\s+/)], { encoding: "utf8" });
    if (cc.status !== 0) throw new Error(`rtsp-record: ${cc.stderr}`);
    const rtspPort = await freePort();
    fs.mkdirSync(path.join(WORK, "rtsp"), { recursive: true });
    const rec = spawn(recBin, [String(rtspPort), path.join(WORK, "rtsp")], { stdio: "ignore" });
    children.push(rec);
    await listening(rtspPort, rec);
    const qRtspArgv = [runtime, "--sdcard", rel(path.join(WORK, "sdcard")), image, "--", "rtsp", `rtsp://127.0.0.1:${rtspPort}/h264`, "/sdcard/clip.h264", "30"];
    const ffRtspArgv = ["ffmpeg", "-v", "error", "-re", "-i", rel(clip), "-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", `rtsp://127.0.0.1:${rtspPort}/h264`];
    let qs = Infinity, fs2 = Infinity;
    for (let i = 0; i < 3; i++) {
      opts.log(`publish: RTSP push, run ${i + 1} of 3 (qcam, then ffmpeg; 20 s each)`);
      const qr = timed(qRtspArgv);
      const res = JSON.parse(qr.out.split("\n").find((l) => l.startsWith("result "))!.slice(7)) as { frames: number; sent: number };
      if (res.sent !== 600) throw new Error(`qcam sent ${res.sent} of ${res.frames} frames over RTSP`);
      qs = Math.min(qs, qr.cpuUs);
      fs2 = Math.min(fs2, timed(ffRtspArgv).cpuUs);
    }
    const rtspRatio = qs / fs2;
    rows.push({
      benchmark: "RTSP push (ANNOUNCE + RECORD, TCP interleaved) to GStreamer's RTSP server in record mode of the same clip in real time: whole-process CPU",
      qcam: `${(qs / 1000).toFixed(0)} ms`,
      peer: `${(fs2 / 1000).toFixed(0)} ms (ffmpeg -re -c copy -f rtsp -rtsp_transport tcp)`,
      ratio: `${rtspRatio.toFixed(2)}×`,
      goal: `≤ ${GOAL_CPU}× — ${rtspRatio <= GOAL_CPU ? "met" : "**missed**"}`,
      command: `qcam: \`${show([GNU_TIME, "-f", "gnutime %U %S", ...qRtspArgv])}\`<br>peer: \`${show([GNU_TIME, "-f", "gnutime %U %S", ...ffRtspArgv])}\``,
    });

    opts.log(`publish: glass-to-server latency, ${LATENCY_SECONDS} s of camera → H.264 → nginx-rtmp → ffmpeg`);
    const g = await glassToServer(runtime, image, path.join(WORK, "nginx"), rtmpPort);
    if (g.lat.length < 100) throw new Error(`only ${g.pulled} of ${g.sent} frames pulled back from nginx`);
    const ls = [...g.lat].sort((x, y) => x - y);
    const pct = (p: number) => ls[Math.min(ls.length - 1, Math.floor(ls.length * p))];
    rows.push({
      benchmark: `Glass-to-server latency: camera 1280x720 30 fps → H.264 → RtmpPublisher → nginx-rtmp → ffmpeg pulling it back (${g.lat.length} frames after the first second)`,
      qcam: `p50 ${pct(0.5).toFixed(1)} ms (p90 ${pct(0.9).toFixed(1)}, max ${ls[ls.length - 1].toFixed(1)})`,
      peer: "—",
      ratio: "—",
      goal: "report p50",
      command: `\`${show(g.argv)}\` + \`ffmpeg -fflags nobuffer -i rtmp://…/live/latency -c copy -copyts -f flv pipe:1\``,
    });

    // mosquitto
    const mqttPort = await freePort();
    const mconf = path.join(WORK, "mosquitto.conf");
    fs.writeFileSync(mconf, `${process.getuid?.() === 0 ? "user root\n" : ""}listener ${mqttPort} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    const mosq = spawn("mosquitto", ["-c", mconf], { stdio: "ignore" });
    children.push(mosq);
    await listening(mqttPort, mosq);
    opts.log("publish: MQTT command → acknowledged state change, 50 commands");
    const mArgv = [runtime, "--sdcard", rel(path.join(WORK, "sdcard")), image, "--", "mqtt", `mqtt://127.0.0.1:${mqttPort}`, "50"];
    const mr = spawnSync(mArgv[0], mArgv.slice(1), { cwd: ROOT, encoding: "utf8" });
    if (mr.status !== 0) throw new Error(`${show(mArgv)}: ${mr.stderr}`);
    const m = JSON.parse(mr.stdout.split("\n").find((l) => l.startsWith("result "))!.slice(7)) as { count: number; p50: number; p90: number; max: number };
    rows.push({
      benchmark: "MQTT through mosquitto on loopback: command published → the board changes state and publishes an ack → ack heard (50 commands)",
      qcam: `p50 ${m.p50.toFixed(2)} ms (p90 ${m.p90.toFixed(2)}, max ${m.max.toFixed(2)})`,
      peer: "—",
      ratio: "—",
      goal: `p50 ≤ ${GOAL_MQTT_MS} ms — ${m.p50 <= GOAL_MQTT_MS ? "met" : "**missed**"}`,
      command: `\`${show(mArgv)}\``,
    });
  } finally {
    for (const c of children) c.kill("SIGKILL");
  }
  return {
    rows,
    notes: ["Publish: CPU is each whole process' (GNU time, user + sys), best of 3, qcam and ffmpeg pushing the same clip to the same server (nginx-rtmp; GStreamer's RTSP server in record mode) one after the other. The latency is from the camera's capture timestamp (carried by each frame as its stream time) to its FLV tag arriving from nginx through ffmpeg, both on CLOCK_MONOTONIC: it includes the sim encoder, the publisher's thread, nginx and ffmpeg's relay. The MQTT round trip is measured in the board's app with both clients (board and fleet) in one runtime: two trips through the broker and two deliveries on the app's loop."],
  };
}
