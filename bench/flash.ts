// The app store's benchmarks (docs/app-store.md): a flash of the recorder app
// over the sim board's dev link — at pty speed and paced at 921600 baud —
// against the line's rate; a re-flash of the unchanged app; and the time to
// the app's first statement from `qcam-runtime --boot` against
// `qcam-runtime app.qcam`. The flashes run in this process over one open
// BoardLink (push + store install, what `qcam flash --port` does after
// start-up); each flash is of a new variant of the image (one more assets
// section), so no push is skipped; and a flash of a changed app as a delta
// against the installed version (what flashOverLink does).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../build/app-build.ts";
import { flashOverLink, storeRequest } from "../build/devlink/flash.ts";
import { BoardLink } from "../build/devlink/link.ts";
import { packImage, readImage, SectionType } from "../build/image.ts";
import { OUT, ROOT, runtimeBinary } from "../build/paths.ts";
import type { BenchResult, BenchRow } from "./startup.ts";

export interface FlashBenchOptions {
  runs: number;
  log: (msg: string) => void;
}

const DIR = path.join(OUT, "bench", "flash");
const CLI = path.join(ROOT, "bin", "qcam.mjs");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

function variant(image: string, k: number): string {
  const img = readImage(fs.readFileSync(image));
  img.sections.push({ type: SectionType.Assets, data: Buffer.from(`bench ${k} `.repeat(4)) });
  const out = path.join(DIR, `variant-${k}.qcam`);
  fs.writeFileSync(out, packImage(img));
  return out;
}

async function until(what: string, f: () => boolean, timeoutMs = 120000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`flash bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function withBoard<T>(sd: string, baud: string | undefined, f: (port: string) => Promise<T>): Promise<T> {
  const child: ChildProcess = spawn(process.execPath, [CLI, "board", "--sdcard", sd, ...(baud ? ["--baud", baud] : [])], { cwd: ROOT, detached: true, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.resume();
  try {
    await until("the board", () => /board: (\S+)/.test(out));
    return await f(/board: (\S+)/.exec(out)![1]);
  } finally {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      process.kill(-child.pid!, "SIGKILL");
    });
  }
}

/** Time from spawn to the first line on stdout, in ms. */
function firstLineMs(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, { stdio: ["ignore", "pipe", "ignore"] });
    let got = false;
    c.stdout!.on("data", (d: Buffer) => {
      if (!got && d.includes(10)) {
        got = true;
        resolve(performance.now() - t0);
      }
    });
    c.on("close", (code) => {
      if (!got) reject(new Error(`${cmd} ${args.join(" ")} exited (${code}) before its first line`));
    });
  });
}

export async function runFlashBenchmark(opts: FlashBenchOptions): Promise<BenchResult> {
  fs.rmSync(DIR, { recursive: true, force: true });
  fs.mkdirSync(DIR, { recursive: true });
  opts.log("bench: flash: building the recorder");
  const recorder = (await buildApp(path.join(ROOT, "app"), { typecheck: false, out: path.join(DIR, "recorder.qcam") })).image;
  // A bigger app too: the recorder's image is small enough to sit in the line's buffers.
  const bigDir = path.join(DIR, "big");
  fs.mkdirSync(bigDir, { recursive: true });
  fs.writeFileSync(path.join(bigDir, "app.json"), JSON.stringify({ id: "bench-big", name: "bench-big", version: "1.0.0" }));
  const pad = Array.from({ length: 3000 }, (_, i) => `"${i}-${"x".repeat(90)}"`).join(",\n");
  fs.writeFileSync(path.join(bigDir, "main.ts"), `const pad: string[] = [${pad}];\nconsole.log(pad.length);\n`);
  const big = (await buildApp(bigDir, { typecheck: false, out: path.join(DIR, "big.qcam") })).image;
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  let k = 0;
  for (const [appName, recorderImage] of [["the recorder app", recorder], ["a 300 KiB app", big]] as const)
  for (const baud of [undefined, "921600"]) {
    const size = fs.statSync(recorderImage).size;
    const sd = path.join(DIR, `card-${k}-${baud ?? "pty"}`);
    fs.mkdirSync(sd, { recursive: true });
    const n = baud ? Math.min(5, opts.runs) : Math.min(10, opts.runs);
    opts.log(`bench: flash: ${n} flashes of ${appName} (${size} bytes) at ${baud ? `${baud} baud` : "pty speed"}`);
    const r = await withBoard(sd, baud, async (port) => {
      const link = await BoardLink.open(port, {});
      try {
        await link.hello();
        const push: number[] = [];
        const total: number[] = [];
        for (let i = 0; i < n; i++) {
          const img = variant(recorderImage, k++);
          const bytes = fs.readFileSync(img);
          const t0 = performance.now();
          await link.push(bytes);
          const t1 = performance.now();
          const a = await storeRequest(link, { op: "install", image: (await import("node:crypto")).createHash("sha256").update(bytes).digest("hex"), allow_downgrade: "1" });
          if (!a.ok) throw new Error(`flash bench: install refused: ${a.text}`);
          push.push(t1 - t0);
          total.push(performance.now() - t0);
        }
        // The unchanged app again: nothing to push, nothing to write.
        const last = path.join(DIR, `variant-${k - 1}.qcam`);
        const again: number[] = [];
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          const f = await flashOverLink(link, last, { autostart: false, allowDowngrade: true }, () => undefined);
          if (!f.skipped) throw new Error("flash bench: the unchanged image was pushed again");
          again.push(performance.now() - t0);
        }
        // A changed app: sent as a delta against the version installed (flashOverLink asks the store).
        const changed: number[] = [];
        const sent: number[] = [];
        for (let i = 0; i < n; i++) {
          const img = variant(recorderImage, k++);
          const t0 = performance.now();
          const f = await flashOverLink(link, img, { autostart: false, allowDowngrade: true }, () => undefined);
          changed.push(performance.now() - t0);
          if (f.delta === undefined) throw new Error("flash bench: the changed image did not go as a delta");
          sent.push(f.bytes);
        }
        return { push: median(push), total: median(total), again: median(again), changed: median(changed), sent: median(sent), n };
      } finally {
        await link.close();
      }
    });
    const rate = size / (r.push / 1000);
    const line = baud ? Number(baud) / 10 : undefined; // 8N1: 10 bits a byte
    rows.push({
      benchmark: `flash of ${appName} (${(size / 1024).toFixed(0)} KiB image) over the sim dev link at ${baud ? `${baud} baud` : "pty speed (USB CDC)"}: push rate (median of ${r.n})`,
      qcam: `${(rate / 1024).toFixed(1)} KiB/s (push ${r.push.toFixed(0)} ms; with the install ${r.total.toFixed(0)} ms)`,
      peer: line ? `line rate ${(line / 1024).toFixed(1)} KiB/s` : "—",
      ratio: line ? `${((rate / line) * 100).toFixed(0)} % of the line` : "—",
      goal: line ? "≥ 85 % of the line" : "—",
      command: `qcam board${baud ? ` --baud ${baud}` : ""}; qcam flash app --port PTY`,
    });
    rows.push({
      benchmark: `re-flash of ${appName}, unchanged, at ${baud ? `${baud} baud` : "pty speed"} (the board holds the image: nothing pushed, nothing written; median of ${r.n})`,
      qcam: `${r.again.toFixed(1)} ms`,
      peer: "—",
      ratio: "—",
      goal: "≤ 100 ms",
      command: `qcam flash app --port PTY (again)`,
    });
    rows.push({
      benchmark: `re-flash of ${appName}, changed (one more section), at ${baud ? `${baud} baud` : "pty speed"}: sent as a delta against the installed version (median of ${r.n})`,
      qcam: `${r.sent} of ${size} bytes sent (${((r.sent / size) * 100).toFixed(1)} %); ${r.changed.toFixed(0)} ms with the install`,
      peer: `a whole flash: ${r.total.toFixed(0)} ms`,
      ratio: `${(r.changed / r.total).toFixed(2)}×`,
      goal: "—",
      command: `qcam flash app --port PTY (a changed image, the old one installed)`,
    });
  }
  // Boot to the app's first statement: --boot against running the image.
  const hello = path.join(DIR, "hello");
  fs.mkdirSync(hello, { recursive: true });
  fs.writeFileSync(path.join(hello, "app.json"), JSON.stringify({ id: "bench-boot", name: "bench-boot", version: "1.0.0" }));
  fs.writeFileSync(path.join(hello, "main.ts"), 'console.log("first statement");\n');
  const image = (await buildApp(hello, { typecheck: false, out: path.join(DIR, "boot.qcam") })).image;
  const sd = path.join(DIR, "card-boot");
  const rt = runtimeBinary("host");
  spawnSync(rt, ["--sdcard", sd, "--install", image, "--autostart"]);
  spawnSync(rt, ["--sdcard", sd, "--boot"]); // good from here on: no trial writes in the timed boots
  const boot: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < Math.max(opts.runs, 10); i++) {
    boot.push(await firstLineMs(rt, ["--sdcard", sd, "--boot"]));
    plain.push(await firstLineMs(rt, ["--sdcard", sd, image]));
  }
  const b = median(boot);
  const p = median(plain);
  rows.push({
    benchmark: `power-on to the app's first statement: qcam-runtime --boot (autostart app, good; the store's reads and checks) against running the image (${boot.length} runs each, alternating, medians)`,
    qcam: `${b.toFixed(2)} ms`,
    peer: `${p.toFixed(2)} ms (qcam-runtime app.qcam)`,
    ratio: `${(b / p).toFixed(2)}×`,
    goal: "≤ 1.2×",
    command: "qcam-runtime --sdcard SD --boot vs qcam-runtime --sdcard SD app.qcam",
  });
  notes.push(
    `Flash rows: one BoardLink held open by the bench (no node start-up), each flash a new variant of the recorder's host image (one more assets section, so the board never holds it); push = the push channel from the request to the board's verified \`done\`, the install = the \`store\` request (the store writes the slot, reads it back, writes the state record). \`qcam flash --port\` adds its own start-up (about 0.4 s of node) to these.`,
  );
  return { rows, notes };
}
