// SIGKILLs during `qcam flash --port` (docs/app-store.md, "Over the dev
// link"): a sim board (`qcam board --baud 921600`, so a push takes a while)
// with an app installed; `qcam flash` of the other version, and a SIGKILL at
// a seeded random moment between the flash's start and its natural end
// (before, during and after the push, during the store's install). The
// trial cycles through its modes (`modes`):
//   - board reset: the board's runtime alone is killed while `qcam flash`
//     runs on; the flash ends with a clear error (or finishes: the kill
//     came after the install, or before the push and the restarted runtime
//     answered the host's repeated request) and never hangs (HUNG_MS);
//     the board starts its
//     runtime again (as `qcam board` does when it dies) and boots a
//     verified app, the old version or the new one; the next flash
//     completes (resumed from the board's last verified byte when the kill
//     came mid-push);
//   - power cut: `qcam flash` (with its whole process group) is killed, and
//     the board with it, then started again — it boots a verified app, the
//     old version or the new one — and the next flash completes;
//   - board lives on: only `qcam flash` is killed; the next flash completes
//     at once (resumed when the kill came mid-push).
// Either way the board, started again after that next flash, boots the new
// version. test/integration/app-store-flash-link.test.ts runs a few
// (QCAM_FLASH_KILLS) through all three modes; `npm run soak` runs 20, all
// of them kills of the board (board reset and power cut, BOARD_KILLS), with
// images 96 KiB bigger (padBytes) so cut pushes resume past 0. Each kill is
// reported: its mode and moment, where it landed, how the flash ended (board
// reset), what booted, the next flash's resume offset.
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../build/app-build.ts";
import { packImage, readImage, SectionType } from "../build/image.ts";
import { ROOT } from "../build/paths.ts";
import { childPids, spawnChild, tmpDir, type Started } from "./helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");

export type KillMode = "board reset" | "power cut" | "board lives on";
/** The suite's cycle: every mode (four trials hold one board reset, which may wait out the stalled push). */
export const ALL_MODES: readonly KillMode[] = ["power cut", "board reset", "board lives on"];
/** The soak's cycle: every kill is a kill of the board. */
export const BOARD_KILLS: readonly KillMode[] = ["board reset", "power cut"];

export interface KillTrial {
  k: number;
  delayMs: number;
  landed: "before the push" | "during the push" | "during the install" | "after the install";
  mode: KillMode;
  flash: string; // board reset: how the killed-under flash ended ("finished", or its exit code and error); else "killed"
  booted: string; // the version the board booted after the kill (board reset, power cut) or after the next flash
  resumedAt: number; // the next flash's resume offset (0: from the start or skipped)
  problems: string[];
}

async function until(what: string, f: () => boolean, timeoutMs = 60000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A small deterministic generator (mulberry32): the same seed, the same kill moments. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function makeImages(work: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const v of ["1.0.0", "2.0.0"]) {
    const dir = path.join(work, "src", v);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "app.json"), JSON.stringify({ id: "demo", name: "demo", version: v }));
    // ~150 KB of constant text: a push of a second or two at 921600 baud.
    const pad = Array.from({ length: 1500 }, (_, i) => `"${v}-${i}-${"x".repeat(80)}"`).join(",\n");
    fs.writeFileSync(
      path.join(dir, "main.ts"),
      `import { app } from "qcam:app";\nimport { sleepMs } from "qcam:time";\nconst pad: string[] = [${pad}];\n` +
        `console.log(\`running \${app.id} \${app.version} (\${pad.length})\`);\napp.markGood();\nwhile (!app.needExit()) sleepMs(10);\n`,
    );
    out[v] = (await buildApp(dir, { typecheck: false, out: path.join(work, `demo-${v}.qcam`) })).image;
  }
  return out;
}

/** The image with one more (assets) section, different for every trial, so
 * no push is skipped because the board holds those bytes already. (Editing
 * the bytecode would not do: the engine checksums it.) */
export function variant(image: string, k: number, padBytes = 0): string {
  const img = readImage(fs.readFileSync(image));
  // `padBytes` of seeded noise on top: a push longer than the board's 32 KiB staging checkpoint, so a cut one can resume.
  const noise = rng(k + 1);
  const pad = Buffer.alloc(padBytes);
  for (let i = 0; i < padBytes; i++) pad[i] = Math.floor(noise() * 256);
  img.sections.push({ type: SectionType.Assets, data: Buffer.concat([Buffer.from(`trial ${k} `.repeat(8)), pad]) });
  const out = image.replace(/\.qcam$/, `-${k}.qcam`);
  fs.writeFileSync(out, packImage(img));
  return out;
}

interface Board {
  b: Started;
  port: string;
}

async function startBoard(sd: string): Promise<Board> {
  const b = spawnChild(process.execPath, [CLI, "board", "--sdcard", sd, "--baud", "921600"], { stdin: "pipe", group: true });
  await until("the board's path", () => /board: (\S+)/.test(b.output().stdout));
  return { b, port: /board: (\S+)/.exec(b.output().stdout)![1] };
}

async function stopBoard(board: Board, sig: NodeJS.Signals): Promise<void> {
  board.b.signal(sig);
  await board.b.done;
}

/** Where the board's output has got to (a boot after this point is looked for from there). */
function mark(board: Board): { out: number; err: number } {
  return { out: board.b.output().stdout.length, err: board.b.output().stderr.length };
}

/** The version the board booted: its first "running demo X" line (after `from`). */
async function bootedVersion(board: Board, from = { out: 0, err: 0 }): Promise<string> {
  const out = () => board.b.output().stdout.slice(from.out);
  await until("the board's boot", () => /running demo (\S+)|safe mode/.test(out() + board.b.output().stderr.slice(from.err)), 60000);
  return /running demo (\S+)/.exec(out())?.[1] ?? "safe mode";
}

/** How far a flash had got, from its output: the progress bar, "sent", "flashed". */
function stage(out: { stdout: string; stderr: string }): KillTrial["landed"] {
  if (/^flashed /m.test(out.stdout)) return "after the install";
  if (/\[flash\] (sent \d+ bytes|\S+: the board has it already)/.test(out.stderr)) return "during the install";
  return /\[flash\]/.test(out.stderr) ? "during the push" : "before the push";
}

function flashArgs(image: string, port: string): string[] {
  return [CLI, "flash", image, "--port", port, "--allow-downgrade", "--autostart"];
}

async function fullFlash(image: string, port: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number; firstProgressMs: number }> {
  const t0 = Date.now();
  let first = -1;
  const c = spawnChild(process.execPath, flashArgs(image, port), { group: true });
  const watch = setInterval(() => {
    if (first < 0 && /\[flash\]/.test(c.output().stderr)) first = Date.now() - t0;
  }, 5);
  const r = await c.done;
  clearInterval(watch);
  return { code: r.code, stdout: c.output().stdout, stderr: c.output().stderr, ms: Date.now() - t0, firstProgressMs: first };
}

/** SIGKILL the board's runtime alone (a reset: `qcam board` starts it again); false when none runs. */
function killRuntime(board: Board): boolean {
  const [pid] = childPids(board.b.child.pid!, "qcam-runtime");
  if (!pid) return false;
  process.kill(pid, "SIGKILL");
  return true;
}

const restarts = (board: Board) => (board.b.output().stderr.match(/the runtime exited .*; restarting it/g) ?? []).length;

/** A flash that runs longer than this has hung (no link wait in build/devlink is longer than 60 s). */
const HUNG_MS = 90_000;

/** `padBytes`: every flashed image carries that much more (variant()); the soak's pushes outgrow the board's staging checkpoint so cut ones resume past 0. */
export async function runFlashKillTrials(n: number, seed: number, log: (s: string) => void = () => undefined, modes: readonly KillMode[] = ALL_MODES, padBytes = 0): Promise<KillTrial[]> {
  const work = tmpDir("qcam-flashkill-");
  const images = await makeImages(work);
  const sd = path.join(work, "card");
  fs.mkdirSync(sd, { recursive: true });
  const random = rng(seed);
  let board = await startBoard(sd);
  const trials: KillTrial[] = [];
  try {
    // 1.0.0 on the board, booted, good; and how long a whole flash of 2.0.0 takes.
    const first = await fullFlash(images["1.0.0"], board.port);
    if (first.code !== 0) throw new Error(`the first flash failed: ${first.stderr}`);
    await stopBoard(board, "SIGKILL");
    board = await startBoard(sd);
    if ((await bootedVersion(board)) !== "1.0.0") throw new Error(`the board did not boot 1.0.0: ${board.b.output().stdout}`);
    const baseline = await fullFlash(variant(images["2.0.0"], 0, padBytes), board.port);
    if (baseline.code !== 0) throw new Error(`the baseline flash failed: ${baseline.stderr}`);
    await stopBoard(board, "SIGKILL");
    board = await startBoard(sd);
    let good = await bootedVersion(board);
    if (good !== "2.0.0") throw new Error(`the board did not boot 2.0.0 after the baseline flash`);
    log(`baseline: a whole flash ${baseline.ms} ms, the push's first progress at ${baseline.firstProgressMs} ms`);
    const from = Math.max(0, baseline.firstProgressMs * 0.8);
    for (let k = 1; k <= n; k++) {
      const other = good === "1.0.0" ? "2.0.0" : "1.0.0";
      const image = variant(images[other], k, padBytes);
      const delayMs = Math.round(from + random() * (baseline.ms * 1.1 - from));
      const mode = modes[(k - 1) % modes.length];
      const problems: string[] = [];
      const c = spawnChild(process.execPath, flashArgs(image, board.port), { group: true, timeoutMs: HUNG_MS });
      await new Promise((r) => setTimeout(r, delayMs));
      let landed = stage(c.output());
      let booted = "";
      let resumedAt = 0;
      let flash = "killed";
      if (mode === "board reset") {
        const before = restarts(board);
        const at = mark(board);
        if (!killRuntime(board)) problems.push("no runtime to kill");
        const r = await c.done;
        const err = r.stderr.trim().split("\n").pop() ?? "";
        if (r.signal) {
          flash = `hung (killed after ${HUNG_MS} ms)`;
          problems.push(`the flash did not end: ${r.stderr.slice(-300)}`);
        } else if (r.code === 0) {
          // The board had installed the image before it died (or the restarted runtime took it); the boot checks below tell.
          flash = "finished";
        } else {
          flash = `exit ${r.code}: ${err}`;
          if (!/^qcam: \S/.test(err) || /^\s+at /m.test(r.stderr)) problems.push(`the flash ended without a clear error: ${r.stderr.slice(-300)}`);
        }
        // `qcam board` starts the runtime again, as a board resets: it boots a verified app.
        await until("the runtime restarted", () => restarts(board) > before, 30000);
        booted = await bootedVersion(board, at);
        if (booted !== good && booted !== other) problems.push(`after the reset at ${delayMs} ms the board booted ${booted}, neither ${good} nor ${other}`);
        const next = await fullFlash(image, board.port);
        if (next.code !== 0) problems.push(`the next flash failed (${next.code}): ${next.stderr}`);
        resumedAt = Number(/resumed at byte (\d+)/.exec(next.stderr)?.[1] ?? 0);
      } else {
        c.signal("SIGKILL");
        await c.done;
        landed = stage(c.output());
        if (mode === "power cut") {
          await stopBoard(board, "SIGKILL");
          board = await startBoard(sd);
          booted = await bootedVersion(board);
          if (booted !== good && booted !== other) problems.push(`after the kill at ${delayMs} ms the board booted ${booted}, neither ${good} nor ${other}`);
        }
        const next = await fullFlash(image, board.port);
        if (next.code !== 0) problems.push(`the next flash failed (${next.code}): ${next.stderr}`);
        resumedAt = Number(/resumed at byte (\d+)/.exec(next.stderr)?.[1] ?? 0);
      }
      // Either way the next flash completed: started again, the board boots the version just flashed.
      await stopBoard(board, "SIGKILL");
      board = await startBoard(sd);
      const now = await bootedVersion(board);
      if (mode === "board lives on") booted = now;
      if (now !== other) problems.push(`after the completed flash the board booted ${now}, not ${other}`);
      else good = other;
      const t: KillTrial = { k, delayMs, landed, mode, flash, booted, resumedAt, problems };
      trials.push(t);
      log(
        `kill ${k}: ${mode}, at ${delayMs} ms (${landed})${mode === "board reset" ? `, the flash ${flash}` : ""}: booted ${booted}, ` +
          `next flash ${resumedAt ? `resumed at byte ${resumedAt}` : "from byte 0"}${problems.length ? ` — ${problems.join("; ")}` : ""}`,
      );
    }
  } finally {
    await stopBoard(board, "SIGKILL");
  }
  return trials;
}
