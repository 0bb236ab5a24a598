// Bound mode on the real runtime: camera → encoder → sinks on native threads,
// outputs judged by ffprobe/ffmpeg, counts that add up, errors delivered.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runtimeCommand } from "../../build/run.ts";
import { assertDecodesClean, assertLinkAddsUp, fixture, type LinkStats, probeStream, reportLine, spawnSyncChild, tmpDir } from "../helpers.ts";

interface CameraStats {
  captured: number;
  delivered: number;
  dropped: number;
}

interface Stats extends LinkStats {
  encodeUs: { p50: number; p99: number };
  latencyUs: { p50: number; p99: number };
  pixelCopies: number;
  finished: boolean;
  cpuUs: { capture: number; encode: number; sinks: number[] };
}

function run(flavor: "host" | "asan", image: string, args: string[], sdcard = tmpDir("qcam-sd-"), extra: string[] = []) {
  const cmd = runtimeCommand(flavor, image, { args, sdcard, runtimeArgs: extra });
  const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 60000 });
  return { ...r, sdcard };
}

describe("qcam:link", function () {
  let image: string;
  before(async function () {
    image = (await fixture("link")).image;
  });

  for (const codec of ["h264", "h265"] as const) {
    it(`camera → ${codec} encoder → EsFileSink: a stream ffprobe reads, every frame accounted for`, function () {
      const r = run("host", image, ["es", codec]);
      assert.equal(r.status, 0, r.stderr);
      const s = reportLine<Stats>(r.stdout, "final");
      assertLinkAddsUp(s);
      assert.equal(s.framesIn, 60, "the link took the 60 pictures asked for (frames: 60)");
      assert.equal(s.finished, true);
      assert.equal(s.framesOut, s.sinkFrames[0]);
      const p = probeStream(path.join(r.sdcard, "video", `link.${codec}`));
      assert.deepEqual(p, { codec: codec === "h264" ? "h264" : "hevc", width: 640, height: 480, frames: s.framesOut });
      assertDecodesClean(path.join(r.sdcard, "video", `link.${codec}`));
      assert.match(r.stdout, /^busy ERR_BUSY ERR_BUSY ERR_BUSY ERR_BUSY$/m, "linked parts refuse close/read/write");
      assert.match(r.stdout, /^again true ERR_CLOSED$/m, "close twice; stats after close");
      assert.match(r.stdout, new RegExp(`^sink ${s.framesOut} true$`, "m"));
      assert.ok(s.encodeUs.p99 >= s.encodeUs.p50 && s.encodeUs.p50 > 0);
      assert.ok(s.latencyUs.p50 >= s.encodeUs.p50);
      // Each link thread's CPU time: 2 s of 640x480 pictures read, encoded and written all cost some,
      // the figures only grow, and the threads' final figures survive their end (close()).
      const mid = reportLine<Stats>(r.stdout, "midstats");
      const figures = (x: Stats) => [x.cpuUs.capture, x.cpuUs.encode, ...x.cpuUs.sinks];
      assert.equal(s.cpuUs.sinks.length, 1);
      assert.ok(figures(s).every((us) => Number.isInteger(us) && us > 0), JSON.stringify(s.cpuUs));
      assert.ok(figures(s).every((us, i) => us >= figures(mid)[i]), `${JSON.stringify(mid.cpuUs)} then ${JSON.stringify(s.cpuUs)}`);
    });
  }

  it("no pixel copies between camera and the H.264 encoder (counted)", function () {
    const r = run("host", image, ["es", "h264"]);
    assert.equal(reportLine<Stats>(r.stdout, "final").pixelCopies, 0);
  });

  it("one sensor, two links: main channel and a smaller sub channel at once", function () {
    const r = run("host", image, ["two"]);
    assert.equal(r.status, 0, r.stderr);
    const main = reportLine<Stats>(r.stdout, "main");
    const sub = reportLine<Stats>(r.stdout, "sub");
    assertLinkAddsUp(main);
    assertLinkAddsUp(sub);
    assert.deepEqual(probeStream(path.join(r.sdcard, "video", "main.h264")), { codec: "h264", width: 640, height: 480, frames: main.framesOut });
    assert.deepEqual(probeStream(path.join(r.sdcard, "video", "sub.h264")), { codec: "h264", width: 320, height: 240, frames: sub.framesOut });
    assert.deepEqual([main.framesIn, sub.framesIn], [45, 20], "each link took the pictures asked for");
    const cap = reportLine<{ main: CameraStats; sub: CameraStats }>(r.stdout, "captured");
    assert.ok(cap.sub.captured < cap.main.captured, `the 15 fps channel fell due less often: ${JSON.stringify(cap)}`);
    for (const [name, c] of Object.entries(cap)) assert.ok(c.captured - c.delivered - c.dropped <= 1, `${name}: captured = delivered + dropped (+ one waiting): ${JSON.stringify(c)}`);
  });

  it("a full SD card: the sink reports ENOSPC to onError, the app stops, what was written plays", function () {
    const r = run("host", image, ["full"], tmpDir("qcam-sd-"), ["--sdcard-size", "0.3"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^error ENOSPC link: es failed: No space left on device$/m);
    const s = reportLine<Stats>(r.stdout, "final");
    assertLinkAddsUp(s);
    const file = path.join(r.sdcard, "video", "full.h264");
    assert.ok(fs.statSync(file).size <= 0.3 * 1024 * 1024);
    const p = probeStream(file);
    // The write that hit ENOSPC may have left part of a frame, which ffprobe counts.
    assert.ok(Math.abs(p.frames - s.framesOut) <= 1 && p.frames >= 1, `${p.frames} frames on the card, ${s.framesOut} reported written`);
  });

  it("without onError the same failure is fatal: needExit() turns true, exit status 1", function () {
    const r = run("host", image, ["fatal"], tmpDir("qcam-sd-"), ["--sdcard-size", "0.2"]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /loop ended/);
    assert.match(r.stderr, /Fatal: link: es failed: No space left on device/);
  });

  it("an encoder slower than the camera: the encode queue drops and counts, the camera keeps its pace", function () {
    const r = run("host", image, ["overload"]);
    assert.equal(r.status, 0, r.stderr);
    const s = reportLine<Stats>(r.stdout, "final");
    assertLinkAddsUp(s);
    assert.ok(s.drops.queue + s.drops.source > 0, `nothing dropped: ${JSON.stringify(s)}`);
    assert.ok(s.framesEncoded > 0);
    const cam = reportLine<CameraStats>(r.stdout, "camera");
    // The camera kept its own pace whatever the encoder did: it handed the
    // link every picture the link took, and counted the ones nobody took.
    assert.equal(cam.delivered, s.framesIn, `the link took what the camera delivered: ${JSON.stringify(cam)}`);
    assert.ok(cam.captured > s.framesEncoded, `more pictures fell due than were encoded: ${JSON.stringify(cam)}`);
    const unread = cam.captured - cam.delivered - cam.dropped;
    assert.ok(unread === 0 || unread === 1, `camera counts add up: ${JSON.stringify(cam)}`);
    assert.equal(probeStream(path.join(r.sdcard, "video", "overload.h265")).frames, s.framesOut);
  });

  it("bad arguments and a sink fed twice", function () {
    const r = run("host", image, ["errors"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ERR_INVALID_ARG ERR_INVALID_ARG ERR_INVALID_ARG ERR_INVALID_ARG ERR_INVALID_ARG ERR_INVALID_ARG EINVAL$/m);
    assert.match(r.stdout, /^second link on the same sink ERR_BUSY$/m);
  });

  it("ASan+UBSan: a link left running is stopped and freed when the app unloads, 10 times over", function () {
    this.timeout(120000);
    const r = run("asan", image, ["unload"], tmpDir("qcam-sd-"), ["--repeat", "10"]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Sanitizer|runtime error/);
  });

  it("ASan+UBSan: the linked path runs clean", function () {
    this.timeout(120000);
    const r = run("asan", image, ["es", "h264"]);
    assert.equal(r.status, 0, r.stderr);
    assertLinkAddsUp(reportLine<Stats>(r.stdout, "final"));
  });
});
