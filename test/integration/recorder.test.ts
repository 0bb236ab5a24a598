// The recorder app through the same path `npm start` takes (qcam start):
// type-checked build, image, runtime, MP4 files on the sim SD card judged by
// ffprobe and ffmpeg, the live view by ffprobe over RTSP.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { assertDecodesClean, killRuntime, probeStream, tmpDir } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");

interface Probed {
  streams: { codec_type: string; codec_name: string; sample_rate?: string; width?: number; height?: number }[];
  format: { duration: string; format_name: string };
}
function probe(file: string): Probed {
  const r = spawnSync("ffprobe", ["-v", "error", "-show_entries", "stream=codec_type,codec_name,sample_rate,width,height:format=duration,format_name", "-of", "json", file], { encoding: "utf8" });
  assert.equal(r.status, 0, `ffprobe ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Probed;
}

function startRecorder(sd: string, args: string[]): { child: ChildProcess; out: () => string; waitFor: (s: string) => Promise<void>; done: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, "start", "--sdcard", sd, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const done = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const waitFor = async (s: string) => {
    const t0 = Date.now();
    while (!out.includes(s)) {
      if (Date.now() - t0 > 60000 || child.exitCode !== null) throw new Error(`no "${s}" in:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, out: () => out, waitFor, done };
}

const videoFiles = (sd: string) => fs.readdirSync(path.join(sd, "video")).filter((f) => f.endsWith(".mp4")).sort();

describe("recorder app (npm start)", function () {
  it("--record 2 --codec h264 records two seconds of 720p into one MP4 and exits 0", function () {
    const sd = tmpDir();
    const r = spawnSync(process.execPath, [CLI, "start", "--sdcard", sd, "--record", "2", "--codec", "h264"], { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^qcam recorder 0\.1\.0 on sim\n/);
    assert.match(r.stdout, /stopped after 2\.\d s\n$/);
    const files = videoFiles(sd);
    assert.equal(files.length, 1);
    assert.match(files[0], /^rec_\d{8}_\d{6}_000\.mp4$/);
    const file = path.join(sd, "video", files[0]);
    const p = probeStream(file);
    assert.deepEqual([p.codec, p.width, p.height], ["h264", 1280, 720]);
    assert.ok(p.frames >= 55 && p.frames <= 62, `${p.frames} frames in 2 s at 30 fps`);
    assert.match(r.stdout, new RegExp(`saved /sdcard/video/${files[0]}: ${p.frames} frames`));
    assert.equal(probe(file).streams.length, 1, "video only");
    assertDecodesClean(file);
  });

  it("--record 2 --audio: H.265 video and G.711 A-law audio in one file", function () {
    const sd = tmpDir();
    const r = spawnSync(process.execPath, [CLI, "start", "--sdcard", sd, "--record", "2", "--audio"], { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /audio: G\.711 A-law 8000 Hz mono\n/);
    const file = path.join(sd, "video", videoFiles(sd)[0]);
    const p = probe(file);
    assert.deepEqual(p.streams.map((s) => [s.codec_type, s.codec_name]), [["video", "hevc"], ["audio", "pcm_alaw"]]);
    assert.equal(p.streams[1].sample_rate, "8000");
    assert.ok(Math.abs(Number(p.format.duration) - 2) < 0.2, `duration ${p.format.duration}`);
    assertDecodesClean(file);
  });

  it("a bad option exits 2 with the reason", function () {
    const r = spawnSync(process.execPath, [CLI, "start", "--sdcard", tmpDir(), "--codec", "vp9"], { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /app exit \(2\): --codec must be h264 or h265, not vp9/);
  });

  it("without --record it records MP4 segments until SIGINT, then closes the last one cleanly", async function () {
    const sd = tmpDir();
    const rec = startRecorder(sd, ["--segment", "1"]);
    await rec.waitFor("recording 2 s");
    rec.child.kill("SIGINT");
    assert.equal(await rec.done, 0, rec.out());
    assert.match(rec.out(), /segments of 1 s until stopped/);
    const files = videoFiles(sd);
    assert.ok(files.length >= 2, files.join(" "));
    let total = 0;
    for (const f of files) {
      const p = probeStream(path.join(sd, "video", f));
      assert.equal(p.codec, "hevc");
      assert.ok(p.frames >= 1, `${f}: ${p.frames}`);
      assert.match(rec.out(), new RegExp(`saved /sdcard/video/${f}: ${p.frames} frames`));
      assertDecodesClean(path.join(sd, "video", f));
      total += p.frames;
    }
    assert.ok(total >= 60, `${total} frames in about 2 s`);
    assert.match(rec.out(), /stopped after \d+\.\d s\n$/);
  });

  it("a recorder killed mid-recording leaves a file the next start repairs", async function () {
    const sd = tmpDir();
    const rec = startRecorder(sd, ["--segment", "30", "--codec", "h264"]);
    await rec.waitFor("recording 2 s");
    killRuntime(rec.child);
    await rec.done;
    const [cut] = videoFiles(sd);
    const r = spawnSync(process.execPath, [CLI, "start", "--sdcard", sd, "--record", "1", "--codec", "h264"], { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    const m = r.stdout.match(new RegExp(`repaired /sdcard/video/${cut}: (\\d+) frames`));
    assert.ok(m, r.stdout);
    const p = probeStream(path.join(sd, "video", cut));
    assert.equal(p.codec, "h264");
    assert.equal(p.frames, Number(m[1]));
    assert.ok(p.frames >= 30, `at least the first second's fragment survived: ${p.frames}`);
    assertDecodesClean(path.join(sd, "video", cut));
  });

  it("--rtsp serves the live picture at rtsp://127.0.0.1:8554/live while recording", async function () {
    const sd = tmpDir();
    const rec = startRecorder(sd, ["--record", "6", "--rtsp", "--codec", "h264"]);
    await rec.waitFor("live at rtsp://");
    const r = spawnSync("ffprobe", ["-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name,width,height", "-of", "json", "rtsp://127.0.0.1:8554/live"], { encoding: "utf8", timeout: 20000 });
    assert.equal(r.status, 0, r.stderr);
    const st = (JSON.parse(r.stdout) as Probed).streams[0];
    assert.deepEqual([st.codec_name, st.width, st.height], ["h264", 1280, 720]);
    assert.equal(await rec.done, 0, rec.out());
    assertDecodesClean(path.join(sd, "video", videoFiles(sd)[0]));
  });
});
