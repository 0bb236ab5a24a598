// Loop recording on the real runtime: the recorder on a small card records
// segments, deletes the oldest recordings to make room and never stops; the
// card never holds more than its size; every file left plays. A short trial
// of what `npm run soak` runs for three minutes per configuration
// (test/soak.ts). The second trial is the app's own stub test's scenario
// (app/test/recorder.test.ts: H.265, 1 s segments on a 1.5 MB card) on the
// runtime: both must see the same.
import assert from "node:assert/strict";
import { judgeLoopTrial, runLoopTrial, type LoopTrialOptions } from "../loop-trial.ts";
import { tmpDir } from "../helpers.ts";

const BOUNDS = { rssKb: 8 * 1024, fds: 2, threads: 0 };

describe("loop recording on the runtime (short trials of npm run soak)", function () {
  this.timeout(300_000);

  for (const [codec, sizeMb, segment, seconds, audio] of [["h264", 4, 2, 24, true], ["h265", 1.5, 1, 16, false]] as const) {
    it(`${codec}${audio ? " + G.711" : ""}, ${segment} s segments on a ${sizeMb} MB card for ${seconds} s: never stops, oldest first, within the card, every file plays, resources flat`, async function () {
      const o: LoopTrialOptions = { seconds, sizeMb, codec, audio, segment, sampleMs: 2000, sdcard: tmpDir("qcam-loop-") };
      const r = await runLoopTrial(o);
      assert.deepEqual(judgeLoopTrial(r, o, BOUNDS), [], r.stdout);
      assert.ok(r.saved.length >= 3, `${r.saved.length} segments saved`);
      // what the app's stub test (app/test/recorder.test.ts) asserts of the same scenario
      assert.match(r.deleted[0], /_000\.mp4$/, "the oldest goes first");
      assert.match(r.stdout, /stopped after/);
    });
  }
});
