// Crash trials: a recorder (test/fixtures/mp4-crash: camera → encoder →
// Mp4Writer) is SIGKILLed at random moments — while recording, while writing
// a fragment, while closing and finalizing — and every file it leaves must be
// playable after `qcam repair` (ffprobe reads it, `ffmpeg -v error ... -f
// null -` says nothing) and hold every frame but at most one fragment's worth.
//
// What "one fragment's worth" means, exactly. The recorder prints `w N`
// before handing frame N to write() and `s N` when stats().videoFrames (frames
// in complete fragments on storage) becomes N. With H = frames handed (last
// `w N` + 1), S = the last `s` printed, and F = video frames ffprobe finds in
// the repaired file, every trial checks:
//   S <= F            nothing the writer reported as stored is lost
//   F <= H            and nothing is invented
//   F - S <= M + 1    past S at most the next fragment (killed after it was
//                     stored, before `s` was printed)
//   H - F <= M + 1    the loss: the fragment in progress (at most M frames, the
//                     largest fragment of the run) and the frame being handed
// (a clean run, not killed: F = H, everything)
// and the repaired file's frames are the first F frames the camera gave
// (ffprobe's keyframe flags every `gop` frames, from the first).
// A third of the trials record in bound mode (link(cam, enc, writer): the
// writer runs on the link's thread). There the recorder polls the link's
// sinkFrames (`h N`, a lower bound of what was handed at the kill), so
// "F <= H" is not checked, and a link that drops a frame (the machine is
// busy) breaks the keyframe pattern, so only keyframes' spacing <= gop is.
// The trials are seeded (a fixed PRNG): reruns use the same kill delays, modes and codecs.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildDir, ROOT } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import { prng, probePackets } from "../fuzz-mp4.ts";
import { assertDecodesClean, envCount, fixture, killRuntime, run, spawnChild, spawnSyncChild, tmpDir } from "../helpers.ts";

// Fewer trials than these would leave kill moments (at the end, in link mode, h265) untried.
const TRIALS = envCount("QCAM_CRASH_TRIALS", 12, 12); // npm run soak: 24
const RECORDER_TRIALS = envCount("QCAM_CRASH_RECORDER_TRIALS", 4, 4); // npm run soak: 20
const FRAMES = 60; // 2 s at 30 fps, then close() (finalize)
const GOP = 10;
const FRAGMENT_MS = 300;

type Mode = "pull" | "link";

interface Trial {
  killed: boolean;
  handed: number;
  stored: number;
  storedSteps: number[];
  closed: boolean;
  stdout: string;
  stderr: string;
}

/** Run the recorder and SIGKILL it `delayMs` after it prints the line `after` (unless it ends first). */
function trial(image: string, sd: string, after: string, delayMs: number, mode: Mode, codec: string): Promise<Trial> {
  const cmd = runtimeCommand("host", image, { sdcard: sd, args: [mode, "/sdcard/crash.mp4", String(FRAMES), String(GOP), String(FRAGMENT_MS), codec] });
  const { child } = spawnChild(cmd[0], cmd.slice(1));
  let stdout = "";
  let stderr = "";
  let timer: NodeJS.Timeout | undefined;
  let killed = false;
  child.stdout!.on("data", (d: string) => {
    if (!timer && `\n${stdout}${d}`.includes(`\n${after}\n`))
      timer = setTimeout(() => {
        killed = child.exitCode === null && child.kill("SIGKILL");
      }, delayMs);
    stdout += d;
  });
  child.stderr!.on("data", (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (!killed && code !== 0) return reject(new Error(`recorder exited ${code ?? signal}: ${stderr}`));
      const lines = stdout.split("\n");
      const handed = lines.filter((l) => l.startsWith("w ") || l.startsWith("h ")).map((l) => Number(l.slice(2)) + (l[0] === "w" ? 1 : 0));
      const steps = lines.filter((l) => l.startsWith("s ")).map((l) => Number(l.slice(2)));
      resolve({ killed: signal === "SIGKILL", handed: handed.length ? Math.max(...handed) : 0, stored: steps.length ? steps[steps.length - 1] : 0, storedSteps: steps, closed: stdout.includes("\nclosed "), stdout, stderr });
    });
  });
}

describe("qcam:mp4 crash trials (SIGKILL a recorder, then qcam repair)", function () {
  this.timeout(900000);
  let image: string;

  before(async function () {
    image = (await fixture("mp4-crash")).image;
  });

  it(`${TRIALS} seeded trials: every file is playable after repair and keeps all frames but at most one fragment's worth`, async function () {
    const rnd = prng(0xc4a54);
    const repairTool = path.join(buildDir("host"), "qcam-repair");
    const summary: string[] = [];
    let maxFragment = 0;
    let killedCount = 0;
    for (let i = 0; i < TRIALS; i++) {
      // Kill moments over the whole run: while recording (~2 s), and — every
      // fourth trial — around the last frame (handed ~66 ms after frame 57):
      // in close(), while the last fragment is written and the file finalized.
      const codec = i % 4 === 3 ? "h265" : "h264";
      const mode: Mode = i % 3 === 2 ? "link" : "pull";
      const atEnd = i % 4 === 1 && mode === "pull";
      const delay = atEnd ? Math.round(50 + rnd() * 50) : Math.round(400 + rnd() * 2000);
      const after = atEnd ? `w ${FRAMES - 3}` : "started";
      const sd = tmpDir("qcam-crash-");
      try {
        const t = await trial(image, sd, after, delay, mode, codec);
        const file = path.join(sd, "crash.mp4");
        assert.ok(fs.existsSync(file), `trial ${i}: no file\n${t.stdout}\n${t.stderr}`);
        const steps = [0, ...t.storedSteps];
        const frags = steps.slice(1).map((s, k) => s - steps[k]);
        const m = Math.max(...frags, 0);
        maxFragment = Math.max(maxFragment, m);
        assert.ok(m <= Math.ceil((FRAGMENT_MS * 30) / 1000) + 1, `trial ${i}: a fragment of ${m} frames`);
        const r = spawnSyncChild(repairTool, [file], { encoding: "utf8" });
        assert.equal(r.status, 0, `trial ${i} (${mode}, killed ${t.killed} after ${delay} ms, handed ${t.handed}, stored ${t.stored}): qcam-repair: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /^.*crash\.mp4: (ok|repaired): /);
        const pk = probePackets(file).filter((p) => p.stream === "video");
        const F = pk.length;
        const say = `trial ${i} (${mode} ${codec}, killed ${t.killed} after ${delay} ms): handed ${t.handed}, stored ${t.stored}, in the file ${F}; ${r.stdout.trim()}`;
        assert.match(r.stdout, new RegExp(` ${F} video frames`), say);
        assertDecodesClean(file);
        assert.ok(t.stored <= F, `${say}: lost stored frames`);
        if (mode === "pull") assert.ok(F <= t.handed, `${say}: more frames than handed`);
        assert.ok(t.handed - F <= m + 1, `${say}: lost more than one fragment (${m} frames)`);
        if (t.killed) assert.ok(F - t.stored <= m + 1, `${say}: more than one fragment past the last one reported stored`);
        else assert.equal(F, t.handed, say); // a clean run keeps everything
        const keys = pk.flatMap((p, k) => (p.key ? [k] : []));
        assert.equal(keys[0], 0, say);
        if (mode === "pull") assert.deepEqual(keys, [...Array(Math.ceil(F / GOP)).keys()].map((k) => k * GOP), say);
        else keys.forEach((k, j) => j === 0 || assert.ok(k - keys[j - 1] <= GOP, say));
        summary.push(`${mode} ${codec} ${t.killed ? "killed" : "ended "} ${delay} ms after "${after}": handed ${t.handed}, stored ${t.stored}, kept ${F} (${r.stdout.trim().replace(/^.*crash\.mp4: /, "").split(":")[0]})`);
        if (t.killed) killedCount++;
      } finally {
        fs.rmSync(sd, { recursive: true, force: true });
      }
    }
    assert.ok(killedCount >= TRIALS / 2, `only ${killedCount} of ${TRIALS} trials were killed before the recorder finished`);
    console.log(`      largest fragment ${maxFragment} frames; per trial:\n${summary.map((s) => `        ${s}`).join("\n")}`);
  });
});

// The same with the recorder app itself (`npm start`: camera → H.264 → MP4 in
// 1 s fragments, audio on in odd trials), killed at seeded moments; the next
// start repairs its folder, as it does on the board after a power cut. The
// recorder prints "recording N s, K frames" once a second, K being the frames
// in complete fragments on storage (stats().videoFrames): none of those may
// be lost, and past the last report at most what one second of recording and
// the fragment in progress hold (two fragments: 60 frames) can be there.
describe("qcam:mp4 crash trials with the recorder app (npm start, killed, started again)", function () {
  this.timeout(600000);
  const CLI = path.join(ROOT, "bin", "qcam.mjs");

  it(`${RECORDER_TRIALS} seeded kills: the next start repairs the file, every stored frame is kept, it plays`, async function () {
    const rnd = prng(0x5ec0de);
    for (let i = 0; i < RECORDER_TRIALS; i++) {
      const sd = tmpDir("qcam-crash-rec-");
      try {
        const args = ["start", "--sdcard", sd, "--segment", "60", "--codec", "h264", ...(i % 2 ? ["--audio"] : [])];
        const rec = spawnChild(process.execPath, [CLI, ...args], { cwd: ROOT });
        await rec.waitFor("recording 1 s");
        await new Promise((r) => setTimeout(r, Math.round(rnd() * 2500)));
        killRuntime(rec.child);
        const cut = await rec.done;
        const out = cut.stdout + cut.stderr;
        const reported = [...out.matchAll(/recording \d+ s, (\d+) frames/g)].map((m) => Number(m[1]));
        const stored = reported[reported.length - 1];
        const [name] = fs.readdirSync(path.join(sd, "video")).filter((f) => f.endsWith(".mp4"));
        const again = await run(process.execPath, [CLI, "start", "--sdcard", sd, "--record", "1", "--codec", "h264"], { cwd: ROOT });
        assert.equal(again.code, 0, again.stderr);
        const m = again.stdout.match(new RegExp(`repaired /sdcard/video/${name}: (\\d+) frames`));
        assert.ok(m, `trial ${i}: ${again.stdout}`);
        const file = path.join(sd, "video", name);
        const F = probePackets(file).filter((p) => p.stream === "video").length;
        const say = `trial ${i}: last reported stored ${stored}, kept ${F}`;
        assert.equal(F, Number(m[1]), say);
        assert.ok(F >= stored, `${say}: frames reported stored were lost`);
        assert.ok(F - stored <= 60, `${say}: more than two fragments past the last report`);
        if (i % 2) assert.ok(probePackets(file).some((p) => p.stream === "audio"), `${say}: the audio track`);
        assertDecodesClean(file);
      } finally {
        fs.rmSync(sd, { recursive: true, force: true });
      }
    }
  });
});

// Kills inside finalize. Finalizing writes the regular MP4 beside the
// fragmented one (".<name>.final") and renames it over the original once it
// is complete and synced, so a kill at any moment of it leaves either the
// whole fragmented file or the whole finalized one, and the next repair
// finishes the job. The recordings above spend milliseconds in finalize, so
// few of their kills land there; here a 900-frame 720p stream of about 56 MB
// makes the copy long enough to aim at. The test waits for the beside file
// to appear and kills at a seeded moment within the time a clean finalize
// of the same file took; a kill only counts as inside finalize when the
// beside file is still there afterwards.
describe("qcam:mp4 crash trials inside finalize (SIGKILL while the beside file is written)", function () {
  this.timeout(600000);
  const FRAMES_BIG = 900;
  let image: string;
  let work: string;
  const repairTool = () => path.join(buildDir("host"), "qcam-repair");

  before(async function () {
    image = (await fixture("mp4")).image;
    work = tmpDir("qcam-crash-final-");
    const r = spawnSyncChild("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
      "-frames:v", String(FRAMES_BIG), "-c:v", "libx264", "-preset", "ultrafast", "-qp", "6", "-g", "30", "-bf", "0", "-f", "h264", path.join(work, "in.h264")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  /** Whether a process is still running (not gone, not a zombie), read from
   * /proc: usable inside a busy loop, where child.exitCode cannot change. */
  const alive = (pid: number) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat[stat.lastIndexOf(")") + 2] !== "Z";
    } catch {
      return false;
    }
  };

  /** Start argv; once `watch` exists, wait `delayMs` (busy, for sub-millisecond aim) and SIGKILL.
   * Resolves with whether `watch` was seen at all, how long it existed for
   * (clean run) and whether the kill landed. */
  function killWhile(argv: string[], watch: string, delayMs: number | null): Promise<{ killed: boolean; seen: boolean; spanMs: number; stderr: string }> {
    const c = spawnChild(argv[0], argv.slice(1), { stdout: "ignore" });
    const pid = c.child.pid!;
    return (async () => {
      // Poll on the event loop until the writer is near, then spin: the beside file lives for tens of ms.
      let seen = false;
      while (c.child.exitCode === null && c.child.signalCode === null) {
        if ((seen = fs.existsSync(watch))) break;
        await new Promise((r) => setImmediate(r));
      }
      const t0 = performance.now();
      let killed = false;
      if (seen && delayMs === null) {
        // Spin: measure the span. The child's end is read from /proc (the
        // event loop is not running), and a beside file that outlives its
        // writer by far is a failure, not a reason to spin forever.
        while (fs.existsSync(watch) && alive(pid))
          if (performance.now() - t0 > 60_000) {
            c.kill();
            throw new Error(`${watch} still there after 60 s`);
          }
      } else if (seen && delayMs !== null) {
        while (performance.now() - t0 < delayMs && alive(pid)) { /* spin to the moment */ }
        killed = alive(pid) && c.child.kill("SIGKILL");
      }
      const spanMs = performance.now() - t0;
      const r = await c.done;
      if (!killed && r.code !== 0) throw new Error(`${argv.join(" ")}: exit ${r.code ?? r.signal}\n${r.stderr}`);
      return { killed, seen, spanMs, stderr: r.stderr };
    })();
  }

  function checkAfterRepair(sd: string, say: string): void {
    const file = path.join(sd, "big.mp4");
    const r = spawnSyncChild(repairTool(), [file], { encoding: "utf8" });
    assert.equal(r.status, 0, `${say}: qcam-repair: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`big\\.mp4: (ok|repaired): .*\\b${FRAMES_BIG} video frames`), say);
    assert.ok(!fs.existsSync(path.join(sd, ".big.mp4.final")), `${say}: the beside file was left behind`);
    const pk = probePackets(file).filter((p) => p.stream === "video");
    assert.equal(pk.length, FRAMES_BIG, say);
    assertDecodesClean(file);
    const moov = fs.readFileSync(file).subarray(0, 64 << 10);
    assert.ok(moov.indexOf("moov") >= 0 && moov.indexOf("moov") < moov.indexOf("mdat"), `${say}: not finalized (moov first)`);
  }

  const writerArgv = (sd: string) => runtimeCommand("host", image, { sdcard: sd,
    args: ["es", "--in", "/sdcard/in.h264", "--out", "/sdcard/big.mp4", "--width", "1280", "--height", "720", "--fragment", "1000", "--finalize", "true"] });

  it("the writer's close() and qcam repair, each killed 4 times while finalizing: the next repair keeps every frame and leaves no beside file", async function () {
    const rnd = prng(0xf1a1);
    const lines: string[] = [];
    let inside = 0;
    for (const who of ["close", "repair"] as const) {
      // A clean run first: how long the beside file lives.
      const sd = tmpDir("qcam-crash-final-sd-");
      try {
        fs.copyFileSync(path.join(work, "in.h264"), path.join(sd, "in.h264"));
        const setup = who === "repair"
          ? spawnSyncChild(writerArgv(sd)[0], [...writerArgv(sd).slice(1).map((a) => (a === "true" ? "false" : a))], { encoding: "utf8" }) // a fragmented file to repair
          : null;
        if (setup) assert.equal(setup.status, 0, setup.stderr);
        const fmp4 = path.join(sd, "big.mp4");
        const keep = who === "repair" ? fs.readFileSync(fmp4) : null;
        const argv = () => (who === "close" ? writerArgv(sd) : [repairTool(), fmp4]);
        const reset = () => (keep ? fs.writeFileSync(fmp4, keep) : fs.rmSync(fmp4, { force: true }));
        // (A loaded machine may not let this process look in time: a few tries, each a whole run.)
        let clean = await killWhile(argv(), path.join(sd, ".big.mp4.final"), null);
        for (let retry = 0; retry < 4 && !clean.seen; retry++) {
          reset();
          clean = await killWhile(argv(), path.join(sd, ".big.mp4.final"), null);
        }
        assert.ok(clean.seen, `${who}: the beside file was never seen`);
        for (let k = 0; k < 4; k++) {
          let delay = rnd() * clean.spanMs * 0.8;
          let t = { seen: false, killed: false };
          for (let retry = 0; ; retry++) {
            reset();
            t = await killWhile(argv(), path.join(sd, ".big.mp4.final"), delay);
            if ((t.seen && t.killed) || retry === 3) break;
            delay /= 2; // it ended first: sooner
          }
          const left = fs.existsSync(path.join(sd, ".big.mp4.final"));
          const say = `${who} killed ${delay.toFixed(1)} ms into a ${clean.spanMs.toFixed(1)} ms finalize (beside file left: ${left})`;
          assert.ok(t.seen && t.killed, `${say}: it ended first`);
          if (left) inside++;
          checkAfterRepair(sd, say);
          lines.push(say);
        }
      } finally {
        fs.rmSync(sd, { recursive: true, force: true });
      }
    }
    assert.ok(inside >= 4, `only ${inside} of 8 kills landed inside finalize:\n${lines.join("\n")}`);
    console.log(`      ${lines.join("\n      ")}`);
  });

  it("a beside file left by a cut finalize is removed by the next repair, also when the file itself needs nothing", function () {
    const sd = tmpDir("qcam-crash-final-sd-");
    try {
      fs.copyFileSync(path.join(work, "in.h264"), path.join(sd, "in.h264"));
      const w = spawnSyncChild(writerArgv(sd)[0], writerArgv(sd).slice(1), { encoding: "utf8" });
      assert.equal(w.status, 0, w.stderr);
      for (const [name, bytes] of [["big.mp4", null], ["junk.mp4", Buffer.from("not an mp4 at all")]] as const) {
        if (bytes) fs.writeFileSync(path.join(sd, name), bytes);
        fs.writeFileSync(path.join(sd, `.${name}.final`), Buffer.alloc(4096, 7)); // an unfinished copy
        const r = spawnSyncChild(repairTool(), [path.join(sd, name)], { encoding: "utf8" });
        assert.match(r.stdout, bytes ? /junk\.mp4: unrecoverable: / : /big\.mp4: ok: 900 video frames/, r.stdout + r.stderr);
        assert.ok(!fs.existsSync(path.join(sd, `.${name}.final`)), `${name}: the beside file is still there`);
      }
      assertDecodesClean(path.join(sd, "big.mp4"));
    } finally {
      fs.rmSync(sd, { recursive: true, force: true });
    }
  });
});
