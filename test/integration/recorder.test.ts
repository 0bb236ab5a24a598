// The recorder app through the same path `npm start` takes (qcam start):
// type-checked build, image, runtime, MP4 files on the sim SD card judged by
// ffprobe and ffmpeg, the live view by ffprobe over RTSP.
//
// Nothing here depends on how fast the machine is: what is judged is what the
// recorder itself counted and said (frames saved and dropped, how long it
// ran by its own clock) against what ffprobe finds, and the file's timeline
// (the camera's capture timestamps) against the recorder's clock.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { probePackets } from "../fuzz-mp4.ts";
import { assertDecodesClean, killRuntime, probeStream, run, spawnChild, spawnSyncChild, tmpDir, type Started } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");
const FPS = 30; // the recorder's camera and encoder: 30 fps, a keyframe every 30 frames

interface Probed {
  streams: { codec_type: string; codec_name: string; sample_rate?: string; width?: number; height?: number; duration?: string; start_time?: string }[];
  format: { duration: string; format_name: string };
}
function probe(file: string): Probed {
  const r = spawnSyncChild("ffprobe", ["-v", "error", "-show_entries", "stream=codec_type,codec_name,sample_rate,width,height,start_time,duration:format=duration,format_name", "-of", "json", file], { encoding: "utf8" });
  assert.equal(r.status, 0, `ffprobe ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Probed;
}

const startRecorder = (sd: string, args: string[]): Started => spawnChild(process.execPath, [CLI, "start", "--sdcard", sd, ...args], { cwd: ROOT });
const recordFor = (sd: string, args: string[]) => run(process.execPath, [CLI, "start", "--sdcard", sd, ...args], { cwd: ROOT });

/** ffprobe on the recorder's live view over RTSP/TCP. */
const rtspProbe = (url: string) =>
  spawnSyncChild("ffprobe", ["-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name,width,height", "-of", "json", url], { encoding: "utf8", timeout: 30000 });

const videoFiles = (sd: string) => fs.readdirSync(path.join(sd, "video")).filter((f) => f.endsWith(".mp4")).sort();

/** "stopped after X s": how long the recorder ran, by its own clock (tenths, rounded). */
function stoppedAfter(stdout: string): number {
  const m = /stopped after (\d+\.\d) s\n$/.exec(stdout);
  assert.ok(m, `no "stopped after" line at the end of:\n${stdout}`);
  return Number(m[1]);
}

/** The recorder's closing count: pictures the link took, frames in the files, frames dropped on the way. */
function frameCount(stdout: string): { taken: number; stored: number; dropped: number } {
  const m = /^ {2}frames: (\d+) pictures taken, (\d+) stored, (\d+) dropped/m.exec(stdout);
  assert.ok(m, `no frame count in:\n${stdout}`);
  return { taken: Number(m[1]), stored: Number(m[2]), dropped: Number(m[3]) };
}

/**
 * A recording's video track, as ffprobe reads it, against what the recorder
 * said: the writer's frame count is ffprobe's; the first frame is a keyframe
 * and keyframes come at most a GOP apart; the timeline is the camera's
 * (steps of whole frames at 30 fps), and it spans no more than the recorder
 * ran, so no picture from before the recording got in.
 */
function judgeVideo(file: string, saidFrames: number, ranSeconds: number, say: string): { frames: number; spanS: number } {
  const pk = probePackets(file).filter((p) => p.stream === "video");
  assert.equal(pk.length, saidFrames, `${say}: ffprobe's packets vs the frames the recorder saved`);
  assert.ok(pk.length >= 1, `${say}: no frames`);
  const keys = pk.flatMap((p, i) => (p.key ? [i] : []));
  assert.equal(keys[0], 0, `${say}: the first frame is a keyframe`);
  keys.forEach((k, j) => j === 0 || assert.ok(k - keys[j - 1] <= FPS, `${say}: keyframes ${keys.join(" ")}`));
  const pts = pk.map((p) => p.ptsTime).sort((a, b) => a - b);
  for (let i = 1; i < pts.length; i++) {
    const steps = (pts[i] - pts[i - 1]) * FPS;
    assert.ok(steps >= 0.99 && Math.abs(steps - Math.round(steps)) < 0.05, `${say}: a timestamp step of ${steps} frames at ${pts[i]} s`);
  }
  const spanS = pts[pts.length - 1] - pts[0];
  // ranSeconds is rounded to tenths: allow the rounding and one frame.
  assert.ok(spanS <= ranSeconds + 0.05 + 1 / FPS, `${say}: ${spanS.toFixed(3)} s of pictures in a recording that ran ${ranSeconds} s`);
  return { frames: pk.length, spanS };
}

describe("recorder app (npm start)", function () {
  it("--record 2 --codec h264 records at least two seconds of 720p into one MP4 and exits 0", async function () {
    const sd = tmpDir();
    const r = await recordFor(sd, ["--record", "2", "--codec", "h264"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^qcam recorder 0\.1\.0 on sim\n/);
    const ran = stoppedAfter(r.stdout);
    assert.ok(ran >= 2, `--record 2 stopped after ${ran} s by the recorder's own clock`);
    const files = videoFiles(sd);
    assert.equal(files.length, 1);
    assert.match(files[0], /^rec_\d{8}_\d{6}_000\.mp4$/);
    const file = path.join(sd, "video", files[0]);
    const p = probeStream(file);
    assert.deepEqual([p.codec, p.width, p.height], ["h264", 1280, 720]);
    const said = r.stdout.match(new RegExp(`saved /sdcard/video/${files[0]}: (\\d+) frames`));
    assert.ok(said, r.stdout);
    assert.equal(p.frames, Number(said[1]), "decoded pictures vs the frames the recorder saved");
    judgeVideo(file, Number(said[1]), ran, files[0]);
    const n = frameCount(r.stdout);
    assert.equal(n.stored, p.frames, "the frames stored are the file's");
    assert.equal(n.taken, n.stored + n.dropped, "every picture taken is stored or counted as dropped");
    assert.equal(probe(file).streams.length, 1, "video only");
    assertDecodesClean(file);
  });

  it("--record 2 --audio: H.265 video and G.711 A-law audio in one file, the audio over the video's time", async function () {
    const sd = tmpDir();
    const r = await recordFor(sd, ["--record", "2", "--audio"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /audio: G\.711 A-law 8000 Hz mono\n/);
    const ran = stoppedAfter(r.stdout);
    const name = videoFiles(sd)[0];
    const file = path.join(sd, "video", name);
    const p = probe(file);
    assert.deepEqual(p.streams.map((s) => [s.codec_type, s.codec_name]), [["video", "hevc"], ["audio", "pcm_alaw"]]);
    assert.equal(p.streams[1].sample_rate, "8000");
    const said = Number(r.stdout.match(new RegExp(`saved /sdcard/video/${name}: (\\d+) frames`))?.[1]);
    const v = judgeVideo(file, said, ran, name);
    // Both tracks are stamped by their sources' clocks over the same run: the
    // audio neither stops a block (20 ms) before the video nor runs past the run.
    const audio = probePackets(file).filter((x) => x.stream === "audio");
    assert.ok(audio.length >= 1, "audio packets");
    const aEnd = Number(p.streams[1].start_time) + Number(p.streams[1].duration);
    const vEnd = Number(p.streams[0].start_time) + Number(p.streams[0].duration);
    assert.ok(Number(p.streams[1].duration) <= ran + 0.1, `audio lasts ${p.streams[1].duration} s in a ${ran} s run`);
    assert.ok(aEnd >= vEnd - v.spanS / 2, `audio ends at ${aEnd} s, video at ${vEnd} s`);
    assertDecodesClean(file);
  });

  it("a bad option exits 2 with the reason", async function () {
    const r = await recordFor(tmpDir(), ["--codec", "vp9"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /app exit \(2\): --codec must be h264 or h265, not vp9/);
  });

  it("without --record it records MP4 segments until SIGINT, then closes the last one cleanly; each segment starts at a keyframe", async function () {
    const sd = tmpDir();
    const rec = startRecorder(sd, ["--segment", "1"]);
    // The first segment is saved when the second one starts: then there are two.
    await rec.waitFor("saved /sdcard/video/");
    rec.child.kill("SIGINT");
    const r = await rec.done;
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 0, out);
    assert.match(out, /segments of 1 s until stopped/);
    const ran = stoppedAfter(r.stdout);
    const files = videoFiles(sd);
    assert.ok(files.length >= 2, files.join(" "));
    files.forEach((f, i) => assert.match(f, new RegExp(`_${String(i).padStart(3, "0")}\\.mp4$`), "segments numbered from 000"));
    let total = 0;
    for (const f of files) {
      const p = probeStream(path.join(sd, "video", f));
      assert.equal(p.codec, "hevc");
      const said = out.match(new RegExp(`saved /sdcard/video/${f}: (\\d+) frames`));
      assert.ok(said, `${f} not reported saved:\n${out}`);
      assert.equal(p.frames, Number(said[1]), f);
      judgeVideo(path.join(sd, "video", f), p.frames, ran, f); // starts with a keyframe
      assertDecodesClean(path.join(sd, "video", f));
      total += p.frames;
    }
    const saved = [...out.matchAll(/saved \/sdcard\/video\/\S+: (\d+) frames/g)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(total, saved, "every frame saved is in a file");
  });

  it("a recorder killed mid-recording leaves a file the next start repairs, keeping every frame it reported stored", async function () {
    const sd = tmpDir();
    const rec = startRecorder(sd, ["--segment", "30", "--codec", "h264"]);
    await rec.waitFor(/recording \d+ s, [1-9]\d* frames/);
    killRuntime(rec.child);
    const cutRun = await rec.done;
    const reported = [...cutRun.stdout.matchAll(/recording \d+ s, (\d+) frames/g)].map((m) => Number(m[1]));
    const stored = Math.max(...reported);
    const [cut] = videoFiles(sd);
    const r = await recordFor(sd, ["--record", "1", "--codec", "h264"]);
    assert.equal(r.code, 0, r.stderr);
    const m = r.stdout.match(new RegExp(`repaired /sdcard/video/${cut}: (\\d+) frames`));
    assert.ok(m, r.stdout);
    const p = probeStream(path.join(sd, "video", cut));
    assert.equal(p.codec, "h264");
    assert.equal(p.frames, Number(m[1]));
    assert.ok(p.frames >= stored, `${p.frames} frames kept, ${stored} were reported stored before the kill`);
    assertDecodesClean(path.join(sd, "video", cut));
  });

  it("--rtsp serves the live picture at rtsp://127.0.0.1:8554/live while recording, to whoever has the password from the settings file only", async function () {
    const sd = tmpDir();
    const rec = startRecorder(sd, ["--rtsp", "--codec", "h264", "--segment", "60"]);
    await rec.waitFor("live at rtsp://");
    const settings = JSON.parse(fs.readFileSync(path.join(sd, "apps", "recorder", "data", "settings.json"), "utf8")) as { rtspPassword: string };
    const refused = rtspProbe("rtsp://127.0.0.1:8554/live");
    const wrong = rtspProbe(`rtsp://admin:${settings.rtspPassword}x@127.0.0.1:8554/live`);
    const r = rtspProbe(`rtsp://admin:${settings.rtspPassword}@127.0.0.1:8554/live`);
    // Stopped once ffprobe has its answers, whatever they were.
    rec.child.kill("SIGINT");
    const end = await rec.done;
    assert.notEqual(refused.status, 0, "no credentials: refused");
    assert.match(refused.stderr, /401 Unauthorized/);
    assert.notEqual(wrong.status, 0, "a wrong password: refused");
    assert.match(wrong.stderr, /401 Unauthorized/);
    assert.equal(r.status, 0, r.stderr);
    const st = (JSON.parse(r.stdout) as Probed).streams[0];
    assert.deepEqual([st.codec_name, st.width, st.height], ["h264", 1280, 720]);
    assert.equal(end.code, 0, end.stdout + end.stderr);
    const out = end.stdout + end.stderr;
    assert.match(out, /live at rtsp:\/\/[\w.]+:8554\/live \(user admin, password: see the board's screen or settings\)\n/);
    assert.ok(!out.includes(settings.rtspPassword), "the password is never printed");
    assertDecodesClean(path.join(sd, "video", videoFiles(sd)[0]));
  });

  it("--rtsp-open: the live view plays without credentials, with a warning", async function () {
    const sd = tmpDir();
    const rec = startRecorder(sd, ["--rtsp-open", "--codec", "h264", "--segment", "60"]);
    await rec.waitFor("live at rtsp://");
    const r = rtspProbe("rtsp://127.0.0.1:8554/live");
    rec.child.kill("SIGINT");
    const end = await rec.done;
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as Probed).streams[0].codec_name, "h264");
    assert.equal(end.code, 0, end.stdout + end.stderr);
    assert.match(end.stdout, /OPEN ACCESS: no password/);
    assert.match(end.stderr, /warning: RTSP open access/);
  });
});
