// The menu recorder's cost: the same 1080p30 H.264 recording made by the
// recorder (app/) on the sim runtime twice over —
//   peer:  headless (`--headless --record 14 --resolution 1080p --codec h264`),
//          no Display opened at all;
//   qcam:  menu-driven (no options; settings file: 1080p, H.264), the live
//          preview on the display's video layer (a screen-sized channel of the
//          same camera, composed on the sim's display thread) and the UI
//          (status bar twice a second at most), recording started and stopped with the
//          page's `ok` key (POST /key).
// CPU: the runtime process' utime + stime from /proc/<pid>/stat, sampled at
// the recorder's 2nd and 10th once-a-second report of the frames its link has
// encoded (log level debug), as CPU milliseconds per encoded frame — the
// work's cost, whichever share of the machine the process got; the overhead
// is qcam / peer - 1 (goal ≤ 5 %). Dropped frames: what the recorder
// reports at the end (link drops + frames the camera missed), goal 0. Rounds
// alternate the two (5 of each: a shared 2-core machine moves a single
// round's figure by a few per cent); each figure is the median, and the notes
// give every round's. No browser is attached: what
// a page costs the PC is not the board's cost.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { buildApp, ensureFlavor } from "../build/app-build.ts";
import { OUT, ROOT, runtimeBinary } from "../build/paths.ts";
import { median, type BenchResult } from "./startup.ts";

export interface RecorderUiOptions {
  rounds?: number;
  log: (msg: string) => void;
}

const WORK = path.join(OUT, "bench", "recorder-ui");
const CLK_TCK = 100; // Linux's USER_HZ
const SETTINGS = { version: 1, resolution: "1080p", fps: 30, codec: "h264" as string, bitrate: 3_000_000, audio: false, segmentSeconds: 60, loop: true, timestamp: false, container: "mp4", rtsp: false };

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
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

/** CPU seconds the process has used (user + system). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15: utime, stime
}

interface Run {
  cpuPerSecond: number;
  /** CPU milliseconds per frame stored in the window: the work's cost, whatever CPU the machine had to give. */
  cpuPerFrameMs: number;
  stored: number;
  dropped: number;
  missed: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runOnce(image: string, menu: boolean, codec: "h264" | "h265"): Promise<Run> {
  const sd = fs.mkdtempSync(path.join(WORK, "sd-"));
  const port = await freePort();
  if (menu) {
    fs.mkdirSync(path.join(sd, "apps", "recorder", "data"), { recursive: true });
    fs.writeFileSync(path.join(sd, "apps", "recorder", "data", "settings.json"), JSON.stringify({ ...SETTINGS, codec }));
  }
  const argv = [runtimeBinary("host"), "--sdcard", sd, "--no-display-url", "--display-port", String(port), "--log-level", "debug", image,
    ...(menu ? [] : ["--", "--headless", "--record", "14", "--resolution", "1080p", "--codec", codec])];
  const child: ChildProcess = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const waitFor = async (re: RegExp, ms = 60_000) => {
    const t0 = Date.now();
    for (;;) {
      const m = re.exec(out);
      if (m) return m;
      if (Date.now() - t0 > ms || child.exitCode !== null) throw new Error(`no ${re}:\n${out}\n${err}`);
      await sleep(10);
    }
  };
  const key = () => fetch(`http://127.0.0.1:${port}/key?name=ok&action=press`, { method: "POST" });
  try {
    if (menu) {
      await waitFor(/menu ready/);
      await key();
      await waitFor(/recording started/);
    } else await waitFor(/^ {2}video: /m);
    // Frames the link encoded, as the recorder reports each second at log level debug; the
    // window runs from its 2nd report to its 10th.
    const frames = async (nth: number) => {
      for (;;) {
        const all = [...out.matchAll(/^ {2}encoded (\d+) frames$/gm)];
        if (all.length >= nth) return Number(all[nth - 1][1]);
        if (child.exitCode !== null) throw new Error(`the recorder ended early:\n${out}\n${err}`);
        await sleep(5);
      }
    };
    const f0 = await frames(2);
    const c0 = cpuSeconds(child.pid!), t0 = performance.now();
    const f1 = await frames(10);
    const c1 = cpuSeconds(child.pid!), t1 = performance.now();
    let m: RegExpExecArray;
    if (menu) {
      await key();
      m = await waitFor(/(\d+) frames stored, (\d+) dropped \((\d+) more missed by the camera\)/);
      child.kill("SIGINT");
    } else m = await waitFor(/(\d+) stored, (\d+) dropped \((\d+) more missed by the camera\)/);
    await exited;
    return { cpuPerSecond: (c1 - c0) / ((t1 - t0) / 1000), cpuPerFrameMs: ((c1 - c0) / Math.max(1, f1 - f0)) * 1000, stored: Number(m[1]), dropped: Number(m[2]), missed: Number(m[3]) };
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    fs.rmSync(sd, { recursive: true, force: true });
  }
}

export async function runRecorderUiBenchmark(opts: RecorderUiOptions): Promise<BenchResult> {
  const rounds = opts.rounds ?? 5;
  ensureFlavor("host");
  fs.mkdirSync(WORK, { recursive: true });
  const image = (await buildApp(path.join(ROOT, "app"), { target: "host", typecheck: false })).image;
  const result: BenchResult = { rows: [], notes: [] };
  for (const codec of ["h264", "h265"] as const) {
    const headless: Run[] = [];
    const menu: Run[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const m of i % 2 ? [true, false] : [false, true]) {
        opts.log(`bench: recorder ${codec} ${m ? "menu + preview" : "headless"}, round ${i + 1} of ${rounds}`);
        (m ? menu : headless).push(await runOnce(image, m, codec));
      }
    }
    const cpuH = median(headless.map((r) => r.cpuPerFrameMs));
    const cpuM = median(menu.map((r) => r.cpuPerFrameMs));
    const over = cpuM / cpuH - 1;
    const rateH = median(headless.map((r) => r.cpuPerSecond));
    const rateM = median(menu.map((r) => r.cpuPerSecond));
    const drops = (rs: Run[]) => Math.max(...rs.map((r) => r.dropped + r.missed));
    const dropsM = drops(menu), dropsH = drops(headless);
    const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
    const cmd = "`npm run bench -- --only recorder`";
    const name = codec === "h264" ? "H.264" : "H.265";
    result.rows.push(
      {
        benchmark: `recorder 1080p30 ${name}: process CPU per encoded frame with the menu, preview and status bar vs headless (ms, median)`,
        qcam: cpuM.toFixed(2),
        peer: `${cpuH.toFixed(2)} (headless)`,
        ratio: `${(cpuM / cpuH).toFixed(3)} (${over >= 0 ? "+" : ""}${pct(over)})`,
        goal: `overhead ≤ 5 %: ${over <= 0.05 ? "met" : "**missed**"}`,
        command: cmd,
      },
      {
        benchmark: `recorder 1080p30 ${name} with the menu and preview: frames dropped or missed (worst round)`,
        qcam: String(dropsM),
        peer: `${dropsH} (headless)`,
        ratio: "-",
        goal: `0: ${dropsM === 0 ? "met" : "**missed**"}`,
        command: cmd,
      },
    );
    result.notes.push(
      `recorder UI bench, ${name}: ${rounds} rounds each, CPU between the recorder's 2nd and 10th report; CPU ms per frame, round by round: menu ${menu.map((r) => r.cpuPerFrameMs.toFixed(2)).join(", ")}, headless ${headless.map((r) => r.cpuPerFrameMs.toFixed(2)).join(", ")}; CPU-s per s (median) menu ${rateM.toFixed(3)}, headless ${rateH.toFixed(3)}; frames stored per run (14 s headless, about 10 s menu): menu ${menu.map((r) => r.stored).join(", ")}, headless ${headless.map((r) => r.stored).join(", ")}; load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores.`,
    );
  }
  return result;
}
