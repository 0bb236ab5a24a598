// The recorder's own code (src/main.ts, unchanged) run in Node against the
// qcam:* stubs, on virtual time: `npx qcam test app`.
import assert from "node:assert/strict";
import { runApp, sdcard, world } from "qcam:testing";

const APP = new URL("..", import.meta.url); // the app folder: src/main.ts and app.json

describe("recorder", function () {
  beforeEach(() => world.reset()); // (qcam test does this too)

  it("--record 1 records one second into one file and stops", async function () {
    const r = await runApp(APP, { args: ["--record", "1", "--codec", "h264"] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^qcam recorder 0\.1\.0 on sim\n {2}video: 1280x720 nv21 30 fps -> H264 -> MP4 in \/sdcard\/video\n {2}length: 1 s\n {2}audio: off\n/);
    assert.match(r.stdout, /saved \/sdcard\/video\/rec_\d{8}_\d{6}_000\.mp4: \d+ frames, 1\.0 s, \d+\.\d MB\n/);
    assert.match(r.stdout, /stopped after 1\.0 s\n$/);
    assert.equal(r.stderr, "");
    assert.ok(r.elapsedMs >= 1000 && r.elapsedMs < 1100, `${r.elapsedMs} ms of virtual time`);
  });

  it("without --record it rotates segments until Ctrl-C", async function () {
    world.exitAt(2500); // SIGINT at 2.5 s
    const r = await runApp(APP, { args: ["--segment", "1"] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /length: segments of 1 s until stopped \(Ctrl-C\)\n/);
    const saved = [...r.stdout.matchAll(/saved (\S+): (\d+) frames/g)];
    assert.equal(saved.length, 3, r.stdout);
    assert.deepEqual(saved.map((m) => m[1].slice(-7)), ["000.mp4", "001.mp4", "002.mp4"]);
    for (const m of saved.slice(0, 2)) assert.ok(Number(m[2]) >= 29, `a 1 s segment holds about 30 frames: ${m[0]}`);
    assert.match(r.stdout, /stopped after 2\.5 s\n$/);
  });

  it("loop recording: a new segment deletes the oldest recordings to make room", async function () {
    world.sdcardSizeMb = 1.5; // room for about three 1 s segments at 3 Mbit/s
    world.exitAt(5500);
    const r = await runApp(APP, { args: ["--segment", "1"] });
    assert.equal(r.code, 0, r.stderr);
    const deleted = [...r.stdout.matchAll(/deleted (\S+) to make room/g)].map((m) => m[1].slice(-7));
    assert.ok(deleted.length >= 1, r.stdout);
    assert.equal(deleted[0], "000.mp4", "the oldest goes first");
    assert.deepEqual(deleted, [...deleted].sort(), "oldest first, always");
    assert.doesNotMatch(r.stdout + r.stderr, /ENOSPC|recording failed/);
    assert.ok(sdcard.used <= 1.5 * 1024 * 1024, `${sdcard.used} bytes on a 1.5 MiB card`);
    const left = Object.keys(sdcard.tree()).filter((p) => p.startsWith("/sdcard/video/"));
    assert.ok(left.length >= 2 && left.every((p) => /\/rec_\d{8}_\d{6}_\d{3}\.mp4$/.test(p)), left.join(", "));
    assert.ok(left.every((p) => !deleted.includes(p.slice(-7))), "what was deleted is gone");
  });

  it("loop recording on a card that holds one segment: each new one makes room by deleting the last, never itself", async function () {
    // 3 s segments (1.1 MB) on a 1.5 MiB card: the first one's room is the bitrate's, later ones are measured
    world.sdcardSizeMb = 1.5;
    world.exitAt(20_500);
    const r = await runApp(APP, { args: ["--segment", "3"] });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /recording failed/);
    assert.ok(sdcard.used <= 1.5 * 1024 * 1024);
    const saved = [...r.stdout.matchAll(/saved (\S+):/g)].map((m) => m[1]);
    const deleted = [...r.stdout.matchAll(/deleted (\S+) to make room/g)].map((m) => m[1]);
    assert.equal(saved.length, 7, r.stdout);
    assert.deepEqual(deleted, saved.slice(0, 6), "each finished segment goes when the next needs its room");
    assert.deepEqual(Object.keys(sdcard.tree()).filter((p) => p.startsWith("/sdcard/video/")), [saved[6]]);
    assert.match(r.stdout, /stopped after 20\.5 s\n$/);
  });

  it("a card too small for one segment: a clear error, nothing recorded", async function () {
    world.sdcardSizeMb = 0.25;
    const r = await runApp(APP, { args: ["--segment", "10"] });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /app exit \(1\): recording failed: ENOSPC: the SD card has no room for a 10 s segment/);
  });

  it("a full card ends the recording with an error status, keeping what was written", async function () {
    world.sdcardSizeMb = 0.25;
    const r = await runApp(APP, { args: ["--record", "10"] });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /app exit \(1\): recording failed: ENOSPC/);
    assert.match(r.stdout, /saved \/sdcard\/video\/rec_\S+ \d+ frames|saved \/sdcard\/video\/rec_\S+: \d+ frames/);
  });

  it("a bad option: exit 2 with the reason, nothing started", async function () {
    const r = await runApp(APP, { args: ["--codec", "vp9"] });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "app exit (2): --codec must be h264 or h265, not vp9\n");
  });

  it("--audio and --rtsp: G.711 audio in the file, the live view announced", async function () {
    const r = await runApp(APP, { args: ["--record", "2", "--audio", "--rtsp"] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /audio: G\.711 A-law 8000 Hz mono\n {2}live: RTSP on port 8554, path \/live, user admin, password: see the board's screen or settings\n/);
    assert.match(r.stdout, /live at rtsp:\/\/[\w.]+:8554\/live \(user admin, password: see the board's screen or settings\)\n/);
    assert.match(r.stdout, /recording \d+ s, \d+ frames, \d+ audio frames, 0 live viewers\n/);
  });

  it("--rtsp: the password made on the first start, saved with the settings, kept at the next start, never printed", async function () {
    const r = await runApp(APP, { args: ["--record", "1", "--rtsp"] });
    assert.equal(r.code, 0, r.stderr);
    const saved = JSON.parse(sdcard.readText("/sdcard/apps/recorder/data/settings.json")) as { version: number; rtspPassword: string; rtspOpen: boolean };
    assert.equal(saved.version, 2);
    assert.match(saved.rtspPassword, /^[abcdefhijkmnprstwxyzACDEFGHJKLMNPRTUVWXY3467]{12}$/);
    assert.equal(saved.rtspOpen, false);
    assert.ok(!r.stdout.includes(saved.rtspPassword) && !r.stderr.includes(saved.rtspPassword), "never on the console");
    world.setArgs([]);
    const again = await runApp(APP, { args: ["--record", "1", "--rtsp"] });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(sdcard.readText("/sdcard/apps/recorder/data/settings.json")) as { rtspPassword: string }).rtspPassword, saved.rtspPassword, "kept");
  });

  it("--rtsp-open: the live view without a password, a warning on the console, nothing saved", async function () {
    const r = await runApp(APP, { args: ["--record", "1", "--rtsp-open"] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /live: RTSP on port 8554, path \/live, OPEN ACCESS: no password, anyone on the network can watch\n/);
    assert.match(r.stderr, /warning: RTSP open access/);
    const saved = JSON.parse(sdcard.readText("/sdcard/apps/recorder/data/settings.json")) as { rtspOpen: boolean };
    assert.equal(saved.rtspOpen, false, "open access for this run only");
  });

  it("--container ts records an MPEG-TS file; segments rotate and make room as MP4 ones do", async function () {
    const r = await runApp(APP, { args: ["--record", "1", "--codec", "h264", "--container", "ts"] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /video: 1280x720 nv21 30 fps -> H264 -> TS in \/sdcard\/video\n/);
    assert.match(r.stdout, /saved \/sdcard\/video\/rec_\d{8}_\d{6}_000\.ts: \d+ frames, 1\.0 s, \d+\.\d MB\n/);
    world.reset();
    world.sdcardSizeMb = 1.5;
    world.exitAt(5500);
    const loop = await runApp(APP, { args: ["--segment", "1", "--container", "ts"] });
    assert.equal(loop.code, 0, loop.stderr);
    const deleted = [...loop.stdout.matchAll(/deleted (\S+) to make room/g)].map((m) => m[1].slice(-6));
    assert.ok(deleted.length >= 1, loop.stdout);
    assert.equal(deleted[0], "000.ts", "the oldest goes first");
    assert.doesNotMatch(loop.stdout + loop.stderr, /ENOSPC|recording failed/);
    const left = Object.keys(sdcard.tree()).filter((p) => p.startsWith("/sdcard/video/"));
    assert.ok(left.length >= 2 && left.every((p) => /\/rec_\d{8}_\d{6}_\d{3}\.ts$/.test(p)), left.join(", "));
  });

  it("--container: a bad value, and --audio with ts, exit 2 with the reason", async function () {
    let r = await runApp(APP, { args: ["--container", "mkv"] });
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "app exit (2): --container must be mp4 or ts, not mkv\n");
    world.reset();
    r = await runApp(APP, { args: ["--container", "ts", "--audio"] });
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "app exit (2): --audio needs --container mp4 (G.711 has no standard MPEG-TS mapping)\n");
  });
});
