// The recorder's own code (src/main.ts, unchanged) run in Node against the
// qcam:* stubs, on virtual time: `npx qcam test app`.
import assert from "node:assert/strict";
import { runApp, world } from "qcam:testing";

const APP = new URL("..", import.meta.url); // the app folder: src/main.ts and app.json

describe("recorder", function () {
  beforeEach(() => world.reset()); // (qcam test does this too)

  it("--record 1 prints its plan and stops after 1 s of fake time", async function () {
    const r = await runApp(APP, { args: ["--record", "1", "--codec", "h264"] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        "qcam recorder 0.1.0 on sim",
        "  video: 1280x720 nv21 30 fps -> H264 -> /sdcard/video",
        "  length: 1 s",
        "  audio: off",
        "  (camera and encoder modules are not in this build: nothing is written)",
        "  running 1 s",
        "stopped after 1.0 s",
        "",
      ].join("\n"),
    );
    assert.equal(r.stderr, "");
    assert.equal(r.elapsedMs, 1000, "one second of virtual time, not of the test's");
  });

  it("without --record it records in segments until Ctrl-C, with a status line every second", async function () {
    world.exitAt(3500); // SIGINT at 3.5 s
    const r = await runApp(APP);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /length: segments of 60 s until stopped \(Ctrl-C\)\n/);
    assert.match(r.stdout, / {2}running 1 s\n {2}running 2 s\n {2}running 3 s\nstopped after 3\.5 s\n$/);
  });

  it("sleeps between loop turns instead of spinning", async function () {
    const r = await runApp(APP, { args: ["--record", "2"] });
    assert.equal(r.code, 0);
    // One turn per 20 ms sleep: about 100 in two seconds.
    assert.ok(r.turns >= 100 && r.turns <= 102, `${r.turns} turns`);
  });

  it("a bad option: exit 2 with the reason, nothing started", async function () {
    const r = await runApp(APP, { args: ["--codec", "vp9"] });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "app exit (2): --codec must be h264 or h265, not vp9\n");
  });

  it("audio and live view show in the plan", async function () {
    const r = await runApp(APP, { args: ["--record", "1", "--audio", "--rtsp"] });
    assert.match(r.stdout, /audio: G\.711 8 kHz mono\n {2}live: rtsp:\/\/127\.0\.0\.1:8554\/live\n/);
  });
});
