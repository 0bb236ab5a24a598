// The display benchmark (bench/apps/display, app/examples/display_menu.ts):
//  1. CPU per displayed preview frame on the sim at 552x368 (maixcam) and
//     800x480 (k230-lcd): a 640x480 NV21 camera shown with fit "fill", the
//     display thread's CPU clock over the frames it composed. Peer: ffmpeg's
//     swscale doing the same conversion (640x480 NV21 → the panel's size, RGBA,
//     nearest neighbour) on the same number of frames, CPU from `-benchmark`.
//  2. What the preview adds to a linked 1080p H.265 recording: the display
//     thread's CPU against the whole process' (GNU time), preview on a
//     640x480 channel of the same camera.
//  3. A full redraw of an 8-item menu (clear, rounded rectangles, text,
//     outline, flush): p50 and p99 over 500 redraws, timed in the app.
//  4. Key press in the page → the changed screen in the page: Debian's
//     chromium (playwright-core) on the sim board's page, preview off so only
//     the menu changes; from just before the page POSTs the key to the moment
//     the page has painted the frame that shows it (requestAnimationFrame after
//     its seq moved), timed in the page with performance.now(); p50 over 40 presses.
//     Before that, with the preview on: the frames the page received per second.
//  5. Menu navigation with the UI kit (app/examples/ui_demo.ts, preview on):
//     a key POSTed to the sim page → the new screen drawn by the kit and flushed,
//     timed in the app from the key event's timestamp (taken by the runtime's
//     HTTP thread when the request arrived, CLOCK_MONOTONIC) to just after
//     flush() returned; ok opens Settings from the Menu, option goes back: p50 and
//     p99 over 200 screen changes.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { buildApp, ensureFlavor } from "../build/app-build.ts";
import { OUT, ROOT, runtimeBinary } from "../build/paths.ts";
import type { BenchResult, BenchRow } from "./startup.ts";

const APP_DIR = path.join(ROOT, "bench", "apps", "display");
const MENU_APP = path.join(ROOT, "app", "examples", "display_menu.ts");
const UI_APP = path.join(ROOT, "app", "examples", "ui_demo.ts");
const WORK = path.join(OUT, "bench", "display");
const GNU_TIME = "/usr/bin/time";
const CHROMIUM = "/usr/bin/chromium";
const rel = (p: string) => path.relative(ROOT, p);
const show = (argv: readonly string[]) => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ");
const code = (argv: readonly string[]) => `\`${show(argv)}\``;
const verdict = (met: boolean) => (met ? "met" : "**missed**");

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

function run(argv: readonly string[]): { stdout: string; stderr: string } {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, env: childEnv(), encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${show(argv)}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

function result(stdout: string): Record<string, number> {
  const line = stdout.split("\n").find((l) => l.startsWith("result "));
  if (!line) throw new Error(`no result line in:\n${stdout}`);
  return JSON.parse(line.slice(7)) as Record<string, number>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** ffmpeg's CPU per frame scaling `frames` NV21 640x480 frames to w x h RGBA. */
function ffmpegPerFrame(input: string, frames: number, w: number, h: number): { us: number; argv: string[] } {
  const argv = ["ffmpeg", "-hide_banner", "-nostdin", "-benchmark", "-f", "rawvideo", "-pix_fmt", "nv21", "-s", "640x480",
    "-stream_loop", "-1", "-i", rel(input), "-frames:v", String(frames), "-vf", `scale=${w}:${h}:flags=neighbor,format=rgba`,
    "-f", "null", "-"];
  const r = run(argv);
  const m = /bench: utime=([\d.]+)s stime=([\d.]+)s/.exec(r.stderr);
  if (!m) throw new Error(`no -benchmark line from ffmpeg:\n${r.stderr.slice(-1000)}`);
  return { us: ((Number(m[1]) + Number(m[2])) * 1e6) / frames, argv };
}

async function keyLatency(image: string, runtime: string): Promise<{ p50: number; p90: number; n: number; fps: number }> {
  const { chromium } = await import("playwright-core");
  const port = await freePort();
  const sd = fs.mkdtempSync(path.join(os.tmpdir(), "qcam-bench-sd-"));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "qcam-bench-chromium-"));
  const child = spawn(runtime, ["--sdcard", sd, "--display-port", String(port), "--no-display-url", image], { cwd: ROOT, env: childEnv(), stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  try {
    const t0 = Date.now();
    while (!out.includes("menu ready")) {
      if (Date.now() - t0 > 20_000 || child.exitCode !== null) throw new Error(`display_menu did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => Number(document.querySelector("canvas")!.dataset.frames) > 0);
    // the live preview as the page gets it: frames received per second over 3 s
    const fps = await page.evaluate(async () => {
      const c = document.querySelector("canvas")!;
      const f0 = Number(c.dataset.frames), t0 = performance.now();
      await new Promise((r) => setTimeout(r, 3000));
      return ((Number(c.dataset.frames) - f0) * 1000) / (performance.now() - t0);
    });
    await fetch(`http://127.0.0.1:${port}/key?name=option&action=press`, { method: "POST" }); // preview off
    await new Promise((r) => setTimeout(r, 500));
    const samples = await page.evaluate(async (n) => {
      const canvas = document.querySelector("canvas")!;
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const seq = Number(canvas.dataset.seq);
        const t0 = performance.now();
        await fetch("/key?name=next&action=press", { method: "POST" });
        while (Number(canvas.dataset.seq) === seq) await new Promise((r) => setTimeout(r, 0));
        await new Promise((r) => requestAnimationFrame(() => r(null)));
        out.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 50));
      }
      return out;
    }, 40);
    samples.sort((a, b) => a - b);
    return { p50: samples[Math.floor(samples.length / 2)], p90: samples[Math.floor(samples.length * 0.9)], n: samples.length, fps };
  } finally {
    child.kill("SIGKILL");
    await context?.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(sd, { recursive: true, force: true });
  }
}

/** ui_demo: key → new screen flushed, in the app (its `latency N us WxH` lines), `n` screen changes. */
export async function uiNavigation(image: string, runtime: string, n: number): Promise<{ p50: number; p99: number; n: number; argv: string[]; samples: number[] }> {
  const port = await freePort();
  const sd = fs.mkdtempSync(path.join(os.tmpdir(), "qcam-bench-sd-"));
  const argv = [runtime, "--sdcard", sd, "--display-port", String(port), "--no-display-url", image, "--", "--latency"];
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: childEnv(), stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const waitFor = async (re: RegExp, from: number) => {
    const t0 = Date.now();
    for (;;) {
      const m = re.exec(out.slice(from));
      if (m) return m;
      if (Date.now() - t0 > 20_000 || child.exitCode !== null) throw new Error(`ui_demo: no ${re} in:\n${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  const key = (name: string) => fetch(`http://127.0.0.1:${port}/key?name=${name}&action=press`, { method: "POST" });
  try {
    await waitFor(/ui ready/, 0);
    let from = out.length;
    await key("option"); // home → Menu
    await waitFor(/screen Menu\n/, from);
    await new Promise((r) => setTimeout(r, 300));
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      from = out.length;
      await key(i % 2 ? "option" : "ok"); // Settings, back to Menu
      const m = await waitFor(/latency (\d+) us (\d+)x(\d+)\n/, from);
      await waitFor(i % 2 ? /screen Menu\n/ : /screen Settings\n/, from);
      samples.push(Number(m[1]) / 1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    samples.sort((a, b) => a - b);
    const q = (p: number) => samples[Math.min(samples.length - 1, Math.ceil(p * samples.length) - 1)];
    return { p50: q(0.5), p99: q(0.99), n: samples.length, argv: [argv[0], argv[1], "SD", argv[3], "P", ...argv.slice(5)], samples };
  } finally {
    child.kill("SIGKILL");
    fs.rmSync(sd, { recursive: true, force: true });
  }
}

export async function runDisplayBenchmark(opts: { log: (m: string) => void }): Promise<BenchResult> {
  const log = opts.log;
  ensureFlavor("host");
  const image = rel((await buildApp(APP_DIR, { target: "host" })).image);
  const menuImage = rel((await buildApp(MENU_APP, { target: "host" })).image);
  const uiImage = rel((await buildApp(UI_APP, { target: "host" })).image);
  const runtime = rel(runtimeBinary("host"));
  fs.mkdirSync(WORK, { recursive: true });
  const sd = ["--sdcard", rel(path.join(WORK, "sdcard")), "--no-display-url"];
  const rows: BenchRow[] = [];
  const notes: string[] = [];

  // 1. preview CPU per frame
  const input = path.join(WORK, "nv21-640x480-90.yuv");
  if (!fs.existsSync(input))
    run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30",
      "-frames:v", "90", "-pix_fmt", "nv21", "-f", "rawvideo", rel(input)]);
  for (const [board, w, h] of [["maixcam", 552, 368], ["k230-lcd", 800, 480]] as const) {
    log(`display: preview on ${board}`);
    const argv = [runtime, "--board", board, ...sd, image, "--", "preview", "10"];
    const r = result(run(argv).stdout);
    const ours = r.cpuUs / r.frames;
    const peer = ffmpegPerFrame(input, r.frames, w, h);
    rows.push({ benchmark: `preview on the sim, ${w}x${h}: CPU per displayed frame (640x480 NV21 camera, fill)`,
      qcam: `${ours.toFixed(0)} µs (${r.frames} frames)`, peer: `ffmpeg swscale: ${peer.us.toFixed(0)} µs`,
      ratio: `${(ours / peer.us).toFixed(2)}× ffmpeg`, goal: "—", command: code(argv) });
    notes.push(`Preview peer at ${w}x${h}: ${code(peer.argv)} (its utime+stime over the frames, start-up included).`);
  }

  // 2. what the preview adds to a linked 1080p recording
  log("display: 1080p recording with and without preview");
  const timed = (argv: string[]) => {
    const r = run([GNU_TIME, "-f", "gnutime %U %S", ...argv]);
    const m = /^gnutime ([\d.]+) ([\d.]+)$/m.exec(r.stderr)!;
    return { cpuUs: (Number(m[1]) + Number(m[2])) * 1e6, r: result(r.stdout) };
  };
  const recArgv = [runtime, ...sd, image, "--", "record", "10", "preview"];
  const withPreview = timed(recArgv);
  const share = (withPreview.r.displayCpuUs / withPreview.cpuUs) * 100;
  rows.push({ benchmark: "what a 640x480 preview adds to a linked 1080p H.265 recording (display thread's CPU / the process')",
    qcam: `${share.toFixed(1)} % (${withPreview.r.shown} frames shown, ${withPreview.r.encoded} encoded)`, peer: "—", ratio: "—",
    goal: `≤ 5 %: ${verdict(share <= 5)}`, command: code(recArgv) });

  // 3. menu redraw
  log("display: menu redraws");
  const menuArgv = [runtime, ...sd, image, "--", "menu", "500"];
  const m = result(run(menuArgv).stdout);
  rows.push({ benchmark: "full overlay redraw of an 8-item menu with text, 552x368 (p50 / p99 of 500)",
    qcam: `${(m.p50Us / 1000).toFixed(2)} / ${(m.p99Us / 1000).toFixed(2)} ms`, peer: "—", ratio: "—",
    goal: `p99 ≤ 8 ms: ${verdict(m.p99Us <= 8000)}`, command: code(menuArgv) });

  // 5. menu navigation with the UI kit
  log("display: UI kit menu navigation");
  const u = await uiNavigation(uiImage, runtime, 200);
  rows.push({ benchmark: "menu navigation with the UI kit: key press → new screen flushed, 552x368, preview on (ui_demo, p50 / p99 of 200)",
    qcam: `${u.p50.toFixed(2)} / ${u.p99.toFixed(2)} ms`, peer: "—", ratio: "—",
    goal: `p99 ≤ 16 ms: ${verdict(u.p99 <= 16)}`, command: `bench/display.ts uiNavigation: ${code(u.argv)} + POST /key` });

  // 4. key → screen in the page
  if (fs.existsSync(CHROMIUM)) {
    log("display: key press → screen in chromium");
    const k = await keyLatency(menuImage, runtime);
    rows.push({ benchmark: "live preview in the page: frames the page received per second (display_menu, 30 fps camera, chromium)",
      qcam: `${k.fps.toFixed(1)} fps`, peer: "—", ratio: "—", goal: `≥ 25 fps: ${verdict(k.fps >= 25)}`,
      command: `bench/display.ts keyLatency: ${code([runtime, "--display-port", "P", menuImage])} + chromium` });
    rows.push({ benchmark: "key press in the page → the changed screen painted in the page (display_menu, chromium)",
      qcam: `p50 ${k.p50.toFixed(1)} ms, p90 ${k.p90.toFixed(1)} ms (${k.n} presses)`, peer: "—", ratio: "—",
      goal: `p50 ≤ 50 ms: ${verdict(k.p50 <= 50)}`, command: `bench/display.ts keyLatency: ${code([runtime, "--display-port", "P", menuImage])} + chromium` });
  } else notes.push(`Key → screen latency skipped: ${CHROMIUM} is missing (node bin/setup.mjs bench installs it).`);
  return { rows, notes };
}
