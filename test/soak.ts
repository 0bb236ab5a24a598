// npm run soak: the long trials the test suite runs short. Loop recording
// for three minutes (QCAM_SOAK_SECONDS), and on until the card has rolled
// over, on a 12 MB and a 40 MB card, H.264 and H.265 with audio, each judged as test/integration/loop-recording.test.ts
// judges its short trial; prints one line of figures per trial. Then 20
// SIGKILLs of the board during `qcam flash --port`, board resets (its runtime
// alone) and power cuts (host and board) in turn, each image 96 KiB bigger so
// cut pushes resume past the board's 32 KiB checkpoints (test/flash-kill-trial.ts;
// the test suite runs 4, through every mode). Then a fleet: ten recorders pushing to one nginx-rtmp
// (killed and restarted halfway) and reporting to one mosquitto for the same
// time (test/fleet-trial.ts; the test suite runs ten for a few seconds). Then
// the MP4 crash trials at full length (the suite runs fewer).
import { judgeLoopTrial, runLoopTrial, type LoopTrialOptions } from "./loop-trial.ts";
import { envCount, spawnSyncChild, tmpDir } from "./helpers.ts";
import { BOARD_KILLS, runFlashKillTrials } from "./flash-kill-trial.ts";
import { runFleetTrial } from "./fleet-trial.ts";

const seconds = Number(process.env.QCAM_SOAK_SECONDS ?? 180);
if (!(seconds >= 60)) throw new Error(`QCAM_SOAK_SECONDS=${process.env.QCAM_SOAK_SECONDS}: a soak runs 60 s or more`);
export const BOUNDS = { rssKb: 8 * 1024, fds: 2, threads: 0 };

let failed = 0;
for (const sizeMb of [12, 40])
  for (const codec of ["h264", "h265"] as const) {
    // three minutes, and on until the card has rolled over three times (a 40 MB card may take longer)
    const o: LoopTrialOptions = { seconds, minDeleted: 3, maxSeconds: 4 * seconds, sizeMb, codec, audio: true, segment: 5, sampleMs: 10_000, sdcard: tmpDir("qcam-soak-") };
    const r = await runLoopTrial(o);
    const bad = judgeLoopTrial(r, o, BOUNDS);
    const steady = r.samples.slice(1); // the first is taken at start-up
    const rss = steady.map((s) => s.rssKb);
    const fds = steady.map((s) => s.fds);
    const thr = steady.map((s) => s.threads);
    const maxCard = Math.max(...r.samples.map((s) => s.cardBytes));
    const fullCuts = (r.stdout.match(/the card is full/g) ?? []).length;
    console.log(
      `${sizeMb} MB ${codec}+alaw ${(r.ranMs / 1000).toFixed(0)} s: ${r.saved.length} segments saved, ${r.deleted.length} deleted, ${r.left.length} left (all play: ${bad.every((b) => !b.includes("does not play"))}), ` +
        `card max ${(maxCard / 1048576).toFixed(2)} of ${sizeMb} MiB, full-card cuts ${fullCuts}, ` +
        `RSS ${Math.min(...rss)}-${Math.max(...rss)} KiB, fds ${Math.min(...fds)}-${Math.max(...fds)}, threads ${Math.min(...thr)}-${Math.max(...thr)} ` +
        `(${steady.length} samples after start-up; bound: RSS +${BOUNDS.rssKb} KiB, fds +${BOUNDS.fds}, threads +${BOUNDS.threads}): ${bad.length ? "FAIL" : "ok"}`,
    );
    for (const b of bad) console.log(`  ${b}`);
    if (bad.length) failed++;
  }
{
  const kills = envCount("QCAM_FLASH_KILLS", 20, 20);
  const trials = await runFlashKillTrials(kills, envCount("QCAM_FLASH_KILL_SEED", 12, 0), (l) => console.log(`flash: ${l}`), BOARD_KILLS, 96 * 1024);
  const bad = trials.filter((t) => t.problems.length);
  const landed = (w: string) => trials.filter((t) => t.landed === w).length;
  console.log(
    `flash: ${kills} SIGKILLs of the board (${trials.filter((t) => t.mode === "board reset").length} resets, ${trials.filter((t) => t.mode === "power cut").length} power cuts; ` +
      `${landed("before the push")} before the push, ${landed("during the push")} during, ${landed("during the install")} during the install, ${landed("after the install")} after): ` +
      `${trials.length - bad.length} ended the flash cleanly, booted a verified app and flashed again: ${bad.length ? "FAIL" : "ok"}`,
  );
  if (bad.length) failed++;
}
{
  const boards = envCount("QCAM_FLEET_BOARDS", 10, 1);
  const problems = await runFleetTrial({ boards, seconds, log: (l) => console.log(`fleet: ${l}`) });
  console.log(`fleet: ${boards} boards ${seconds} s, nginx restarted halfway: ${problems.length ? "FAIL" : "ok"}`);
  for (const p of problems) console.log(`  ${p}`);
  if (problems.length) failed++;
}
{
  // The MP4 crash trials at full length (npm test runs 12 and 8).
  const env = { ...process.env, QCAM_CRASH_TRIALS: "24", QCAM_CRASH_RECORDER_TRIALS: "20" };
  const r = spawnSyncChild("npx", ["mocha", "test/integration/mp4-crash.test.ts"], { encoding: "utf8", env, maxBuffer: 64 << 20 });
  const summary = /(\d+) passing[\s\S]*?(?:(\d+) failing)?\s*$/.exec(r.stdout);
  console.log(`mp4 crash trials (24 seeded cuts, 20 seeded recorder kills): ${summary ? `${summary[1]} passing, ${summary[2] ?? 0} failing` : "no summary"}: ${r.status === 0 ? "ok" : "FAIL"}`);
  if (r.status !== 0) {
    console.log(r.stdout.slice(-4000));
    failed++;
  }
}
process.exit(failed ? 1 : 0);
