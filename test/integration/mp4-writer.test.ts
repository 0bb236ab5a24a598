// qcam:mp4's writer: files judged by ffprobe, ffmpeg and GStreamer (qtdemux).
// C level: test/c/test_mp4.c drives mp4_write.h with Annex B input made by
// ffmpeg and G.711 audio made there (host, ASan+UBSan, riscv64 under qemu).
// JavaScript level: test/fixtures/mp4 (camera → encoder → Mp4Writer, pull
// mode and linked).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildDir, type Flavor } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import { probePackets, topBoxes as topBoxesOf } from "../fuzz-mp4.ts";
import { assertDecodesClean, fixture, spawnSyncChild, tmpDir } from "../helpers.ts";

type Codec = "h264" | "h265";
const FF: Record<string, string> = { h264: "h264", h265: "hevc", alaw: "pcm_alaw", ulaw: "pcm_mulaw" };

interface Stream {
  codec_type: string;
  codec_name: string;
  codec_tag_string: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  nb_read_frames?: string;
  duration?: string;
  start_time?: string;
}

function ffprobe(file: string): { streams: Stream[]; duration: number } {
  const r = spawnSyncChild("ffprobe", ["-v", "error", "-count_frames", "-show_entries",
    "stream=codec_type,codec_name,codec_tag_string,width,height,sample_rate,channels,nb_read_frames,duration,start_time:format=duration",
    "-of", "json", file], { encoding: "utf8" });
  assert.equal(r.status, 0, `ffprobe ${file}: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { streams: Stream[]; format: { duration: string } };
  return { streams: j.streams, duration: Number(j.format.duration) };
}

/** Decoded audio samples (16-bit mono) per ffmpeg. */
function ffmpegAudioSamples(file: string): number {
  const r = spawnSyncChild("ffmpeg", ["-v", "error", "-i", file, "-map", "0:a", "-f", "s16le", "-"], { maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout.length / 2;
}

/** GStreamer: qtdemux → parser → libav decoder; the number of decoded pictures. */
function gstVideoFrames(file: string, codec: Codec): number {
  const r = spawnSyncChild("gst-launch-1.0", ["-v", "filesrc", `location=${file}`, "!", "qtdemux", "!", `${codec}parse`, "!",
    `avdec_${codec}`, "!", "fakesink", "silent=false"], { encoding: "utf8", maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, `gst-launch ${file}: ${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /ERROR|WARNING/, `gst-launch ${file}`);
  return (r.stdout.match(/last-message = chain/g) ?? []).length;
}

/** GStreamer: qtdemux's audio, decoded to 16-bit samples. */
function gstAudioSamples(file: string): number {
  const out = path.join(tmpDir("qcam-gst-"), "a.raw");
  const r = spawnSyncChild("gst-launch-1.0", ["filesrc", `location=${file}`, "!", "qtdemux", "name=d", "d.audio_0", "!", "decodebin",
    "!", "audioconvert", "!", "audio/x-raw,format=S16LE,channels=1", "!", "filesink", `location=${out}`], { encoding: "utf8" });
  assert.equal(r.status, 0, `gst-launch ${file}: ${r.stderr}`);
  return fs.statSync(out).size / 2;
}

function gstDuration(file: string): number {
  const r = spawnSyncChild("gst-discoverer-1.0", [file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const m = /Duration: (\d+):(\d+):([\d.]+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/** Top-level box types, in order. */
function topBoxes(file: string): string[] {
  return topBoxesOf(fs.readFileSync(file)).map((b) => b.type);
}

function hasBox(file: string, type: string): boolean {
  return fs.readFileSync(file).includes(Buffer.from(type, "latin1"));
}

/** Every judge on one file. */
function judge(file: string, want: { codec: Codec; width: number; height: number; frames: number; fps: number; audio?: "alaw" | "ulaw"; rate?: number; audioSamples?: number }) {
  const p = ffprobe(file);
  const v = p.streams.find((s) => s.codec_type === "video");
  assert.ok(v, `no video stream in ${file}`);
  assert.equal(v.codec_name, FF[want.codec]);
  assert.equal(v.codec_tag_string, want.codec === "h264" ? "avc1" : "hvc1");
  assert.equal(v.width, want.width);
  assert.equal(v.height, want.height);
  assert.equal(Number(v.nb_read_frames), want.frames, "ffprobe -count_frames");
  // The video lasts from its first picture to one frame past its last: the
  // timestamps the file holds (a camera's, in pull and bound mode, where a
  // picture read late leaves a gap on a busy machine), not frames / fps.
  const vpts = probePackets(file).filter((x) => x.stream === "video").map((x) => x.ptsTime);
  const span = Math.max(...vpts) - Math.min(...vpts) + 1 / want.fps;
  assert.ok(span >= want.frames / want.fps - 1e-6, `${want.frames} frames in ${span} s`);
  assert.ok(Math.abs(Number(v.duration) - span) <= 1 / want.fps + 1e-6, `video duration ${v.duration} for ${want.frames} frames spanning ${span} s`);
  const a = p.streams.find((s) => s.codec_type === "audio");
  if (want.audio) {
    assert.ok(a, `no audio stream in ${file}`);
    assert.equal(a.codec_name, FF[want.audio]);
    assert.equal(a.codec_tag_string, want.audio);
    assert.equal(Number(a.sample_rate), want.rate);
    assert.equal(a.channels, 1);
    if (want.audioSamples !== undefined) {
      assert.equal(ffmpegAudioSamples(file), want.audioSamples, "ffmpeg's decoded audio samples");
      assert.equal(gstAudioSamples(file), want.audioSamples, "GStreamer's decoded audio samples");
    }
  } else {
    assert.equal(a, undefined);
  }
  assertDecodesClean(file);
  assert.equal(gstVideoFrames(file, want.codec), want.frames, "GStreamer's decoded pictures");
  assert.ok(Math.abs(gstDuration(file) - Math.max(span, (want.audioSamples ?? 0) / (want.rate ?? 1))) <= 1 / want.fps + 0.021, "gst-discoverer duration");
}

// ---- inputs --------------------------------------------------------------------

const inputs = new Map<string, string>();
/** An Annex B stream made by ffmpeg (libx264/libx265, no B-frames). */
function input(codec: Codec, width = 320, height = 240, frames = 300, gop = 30): string {
  const key = `${codec}-${width}x${height}-${frames}-${gop}`;
  let file = inputs.get(key);
  if (file) return file;
  file = path.join(tmpDir("qcam-mp4-in-"), `in.${codec}`);
  const enc = codec === "h264" ? ["-c:v", "libx264", "-g", String(gop), "-bf", "0"]
    : ["-c:v", "libx265", "-x265-params", `keyint=${gop}:min-keyint=${gop}:bframes=0:log-level=error`];
  const r = spawnSyncChild("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc=size=${width}x${height}:rate=30`, "-frames:v",
    String(frames), ...enc, "-pix_fmt", "yuv420p", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  inputs.set(key, file);
  return file;
}

// ---- the C test program --------------------------------------------------------

interface CResult {
  out: string;
  /** on_segment's reports, then the last file (close()'s) */
  files: { index: number; path: string; duration: number; size: number; frames: number }[];
  segments: { index: number; path: string; duration: number; size: number; frames: number }[];
  stats: Record<string, number>;
  last: { path: string; duration: number; size: number; frames: number; close: number };
  errors: string[];
  refused: number;
  sdcard: string;
}

function cWrite(flavor: Flavor, board: string, args: string[], sdcard = tmpDir("qcam-sd-")): CResult {
  const bin = path.join(buildDir(flavor), "qcam-test-mp4");
  const all = ["write", sdcard, board, ...args];
  const cmd = flavor === "riscv64" ? ["qemu-riscv64", bin, ...all] : [bin, ...all];
  const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120000 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${all.join(" ")}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.stderr, "", `${all.join(" ")} wrote to stderr`);
  const lines = r.stdout.split("\n");
  const segments = lines.filter((l) => l.startsWith("segment ")).map((l) => {
    const [, index, p, duration, size, frames] = l.split(" ");
    return { index: Number(index), path: p, duration: Number(duration), size: Number(size), frames: Number(frames) };
  });
  const statsLine = lines.find((l) => l.startsWith("stats "));
  assert.ok(statsLine, r.stdout);
  const stats = Object.fromEntries(statsLine.slice(6).split(" ").map((kv) => [kv.split("=")[0], Number(kv.split("=")[1])]));
  const lastLine = lines.find((l) => l.startsWith("last "));
  assert.ok(lastLine, r.stdout);
  const [, lp, ld, ls, lf, lc] = lastLine.split(" ");
  const refusedLine = lines.find((l) => l.startsWith("refused "));
  const last = { path: lp, duration: Number(ld), size: Number(ls), frames: Number(lf), close: Number(lc.slice(6)) };
  return {
    out: r.stdout,
    files: [...segments, { index: segments.length, path: last.path, duration: last.duration, size: last.size, frames: last.frames }],
    segments,
    stats,
    last: { path: lp, duration: Number(ld), size: Number(ls), frames: Number(lf), close: Number(lc.slice(6)) },
    errors: lines.filter((l) => l.startsWith("onerror ")),
    refused: Number(refusedLine?.split(" ")[1] ?? 0),
    sdcard,
  };
}

const real = (sdcard: string, board: string) => path.join(sdcard, board.replace(/^\/sdcard\//, ""));

describe("qcam:mp4 writer (C)", function () {
  for (const codec of ["h264", "h265"] as const) {
    for (const audio of ["none", "alaw", "ulaw"] as const) {
      for (const finalize of [true, false]) {
        if (codec === "h265" && audio === "ulaw") continue;
        const rate = audio === "ulaw" ? 16000 : 8000;
        it(`${codec}${audio === "none" ? "" : ` + ${audio} ${rate} Hz`}, ${finalize ? "finalized" : "fragmented (finalize: false)"}: ffprobe, ffmpeg and GStreamer agree`, function () {
          const r = cWrite("host", "/sdcard/a.mp4", [input(codec), codec, "90", "30", audio, String(rate), `finalize=${finalize ? 1 : 0}`]);
          const file = real(r.sdcard, "/sdcard/a.mp4");
          judge(file, { codec, width: 320, height: 240, frames: 90, fps: 30, ...(audio === "none" ? {} : { audio, rate, audioSamples: rate * 3 }) });
          assert.equal(hasBox(file, "moof"), !finalize, "moof boxes only in the fragmented file");
          assert.equal(hasBox(file, "mvex"), !finalize);
          const head = fs.readFileSync(file);
          assert.equal(head.toString("latin1", head.readUInt32BE(0) + 4, head.readUInt32BE(0) + 8), "moov", "the moov comes right after the ftyp");
          assert.deepEqual({ ...r.last, path: "" }, { path: "", duration: 3, size: fs.statSync(file).size, frames: 90, close: 0 });
          assert.equal(r.segments.length, 0, "one file: close() describes it, on_segment is for the ones before");
          assert.equal(r.stats.dropped, 0);
        });
      }
    }
  }

  it("the first sample is a keyframe: frames before it are dropped and counted", function () {
    // Start 10 frames into a GOP of 30: the first keyframe is frame 30 of the input.
    const src = input("h264");
    const cut = path.join(tmpDir("qcam-mp4-"), "cut.h264");
    const r0 = spawnSyncChild("ffmpeg", ["-v", "error", "-i", src, "-c", "copy", "-bsf:v", "noise=drop=lt(n\\,10)", "-f", "h264", cut], { encoding: "utf8" });
    assert.equal(r0.status, 0, r0.stderr);
    const r = cWrite("host", "/sdcard/a.mp4", [cut, "h264", "80", "30", "none", "0"]);
    assert.equal(r.stats.dropped, 20);
    judge(real(r.sdcard, "/sdcard/a.mp4"), { codec: "h264", width: 320, height: 240, frames: 60, fps: 30 });
  });

  it("audio and video stay in sync: a late audio start is kept (edit list), early audio is cut at the first keyframe", function () {
    for (const finalize of [1, 0]) {
      let r = cWrite("host", "/sdcard/a.mp4", [input("h264"), "h264", "60", "30", "alaw", "8000", "audio-start=100000", `finalize=${finalize}`]);
      let a = ffprobe(real(r.sdcard, "/sdcard/a.mp4")).streams.find((s) => s.codec_type === "audio");
      assert.ok(Math.abs(Number(a?.start_time) - 0.1) < 0.0201, `audio starts at ${a?.start_time}, want 0.1`);
      r = cWrite("host", "/sdcard/a.mp4", [input("h264"), "h264", "60", "30", "alaw", "8000", "audio-start=-50000", `finalize=${finalize}`]);
      a = ffprobe(real(r.sdcard, "/sdcard/a.mp4")).streams.find((s) => s.codec_type === "audio");
      assert.ok(Number(a?.start_time) >= 0 && Number(a?.start_time) < 0.0201, `audio starts at ${a?.start_time}, want within one frame of 0`);
    }
  });

  it("segments every 3 s with audio: every file plays, the frames add up, onSegment tells each one", function () {
    const sd = tmpDir("qcam-sd-");
    fs.mkdirSync(path.join(sd, "rec"));
    const r = cWrite("host", "/sdcard/rec/seg_%03i.mp4", [input("h264"), "h264", "300", "30", "alaw", "8000", "seconds=3"], sd);
    assert.equal(r.segments.length, 3);
    let frames = 0;
    r.files.forEach((s, i) => {
      assert.equal(s.index, i);
      assert.equal(s.path, `/sdcard/rec/seg_${String(i).padStart(3, "0")}.mp4`);
      const file = real(r.sdcard, s.path);
      assert.equal(s.size, fs.statSync(file).size);
      assert.equal(s.frames, i < 3 ? 90 : 30);
      assert.ok(Math.abs(s.duration - s.frames / 30) < 1e-6);
      judge(file, { codec: "h264", width: 320, height: 240, frames: s.frames, fps: 30, audio: "alaw", rate: 8000 });
      frames += s.frames;
    });
    assert.equal(frames, 300);
    assert.equal(r.stats.segments, 3);
    assert.deepEqual(fs.readdirSync(path.join(r.sdcard, "rec")).sort(), ["seg_000.mp4", "seg_001.mp4", "seg_002.mp4", "seg_003.mp4"]);
  });

  it("segments by size split at keyframes", function () {
    const r = cWrite("host", "/sdcard/b_%i.mp4", [input("h265"), "h265", "300", "30", "none", "0", "bytes=30000", "finalize=0"]);
    assert.ok(r.files.length >= 2, r.out);
    assert.equal(r.files.reduce((n, s) => n + s.frames, 0), 300);
    for (const s of r.files) {
      assert.equal(s.frames % 30, 0, "each segment starts at a keyframe (GOP 30)");
      judge(real(r.sdcard, s.path), { codec: "h265", width: 320, height: 240, frames: s.frames, fps: 30 });
    }
  });

  it("a full card: ENOSPC once, the file is cut back to its last fragment and plays; later writes are refused", function () {
    const r = cWrite("host", "/sdcard/full.mp4", [input("h264"), "h264", "300", "30", "alaw", "8000", "cap=100000"]);
    assert.equal(r.errors.length, 1, r.out);
    assert.match(r.errors[0], /^onerror No space left on device \/sdcard\/full.mp4$/);
    assert.ok(r.refused > 0, "without errors_handled, writes return the error");
    const file = real(r.sdcard, "/sdcard/full.mp4");
    assert.equal(r.last.frames, r.stats.v, "the file holds what was written in complete fragments");
    assert.ok(r.last.frames > 0 && r.last.frames < 300);
    assert.equal(r.last.close, 0, "close() does not report the same error again");
    assert.ok(hasBox(file, "moof"), "no room to finalize: the fragmented file stays");
    judge(file, { codec: "h264", width: 320, height: 240, frames: r.last.frames, fps: 30, audio: "alaw", rate: 8000 });
    assert.ok(fs.statSync(file).size <= 100000);
    assert.deepEqual(fs.readdirSync(r.sdcard).filter((n) => !n.startsWith(".tmp")), ["full.mp4"], "no temporary file left");
  });

  it("a full card with errors handled: writes return 0 once on_error has heard", function () {
    const r = cWrite("host", "/sdcard/full.mp4", [input("h264"), "h264", "300", "30", "none", "0", "cap=60000", "handled=1"]);
    assert.equal(r.errors.length, 1);
    assert.equal(r.refused, 0);
    judge(real(r.sdcard, "/sdcard/full.mp4"), { codec: "h264", width: 320, height: 240, frames: r.last.frames, fps: 30 });
  });

  it("room for the fragments but not for a second copy: finalized in place, the moov at the end, every frame kept", function () {
    // the fragmented file is ~100 KB here: a 140 KB card has no room for the moov-first copy beside it
    const r = cWrite("host", "/sdcard/f.mp4", [input("h264"), "h264", "300", "30", "none", "0", "cap=140000"]);
    assert.deepEqual(r.errors, []);
    assert.equal(r.last.frames, 300);
    const file = real(r.sdcard, "/sdcard/f.mp4");
    assert.deepEqual(topBoxes(file), ["ftyp", "mdat", "moov"]);
    assert.equal(fs.statSync(file).size, r.last.size);
    assert.deepEqual(fs.readdirSync(r.sdcard).filter((n) => !n.startsWith(".tmp")), ["f.mp4"], "no copy left beside it");
    judge(file, { codec: "h264", width: 320, height: 240, frames: 300, fps: 30 });
  });

  it("room for the fragments but not even for the index: the fragmented file stays, complete", function () {
    const r = cWrite("host", "/sdcard/f.mp4", [input("h264"), "h264", "300", "30", "none", "0", "cap=101000"]);
    assert.equal(r.errors.length, 1);
    assert.equal(r.last.frames, 300);
    const file = real(r.sdcard, "/sdcard/f.mp4");
    assert.equal(topBoxes(file).filter((t) => t === "moof").length, 10, "ftyp, moov, then every fragment");
    judge(file, { codec: "h264", width: 320, height: 240, frames: 300, fps: 30 });
  });

  it("video and audio written from two threads at once (ASan+UBSan)", function () {
    const r = cWrite("asan", "/sdcard/t.mp4", [input("h264"), "h264", "150", "30", "ulaw", "8000", "threads=1", "fragment=300"]);
    judge(real(r.sdcard, "/sdcard/t.mp4"), { codec: "h264", width: 320, height: 240, frames: 150, fps: 30, audio: "ulaw", rate: 8000, audioSamples: 40000 });
  });

  it("ASan+UBSan: segments, a full card and both codecs run clean", function () {
    for (const codec of ["h264", "h265"] as const) {
      const r = cWrite("asan", "/sdcard/s_%i.mp4", [input(codec), codec, "200", "30", "alaw", "8000", "seconds=2"]);
      assert.equal(r.files.reduce((n, s) => n + s.frames, 0), 200);
      const f = cWrite("asan", "/sdcard/full.mp4", [input(codec), codec, "300", "30", "alaw", "8000", "cap=50000", "finalize=0"]);
      assert.equal(f.errors.length, 1);
      judge(real(f.sdcard, "/sdcard/full.mp4"), { codec, width: 320, height: 240, frames: f.last.frames, fps: 30, audio: "alaw", rate: 8000 });
    }
  });

  it("riscv64 (qemu): the same bytes as on x86-64", function () {
    const sd1 = tmpDir("qcam-sd-"), sd2 = tmpDir("qcam-sd-");
    const args = [input("h265"), "h265", "60", "30", "alaw", "8000", "fragment=500"];
    const a = cWrite("host", "/sdcard/x.mp4", args, sd1);
    const b = cWrite("riscv64", "/sdcard/x.mp4", args, sd2);
    const fa = fs.readFileSync(real(sd1, "/sdcard/x.mp4")), fb = fs.readFileSync(real(sd2, "/sdcard/x.mp4"));
    // creation times (in the moov) may differ by a second: the moov's size and everything after it must not
    assert.equal(fa.length, fb.length);
    const moovEnd = fa.readUInt32BE(0) + fa.readUInt32BE(fa.readUInt32BE(0));
    assert.ok(fa.subarray(moovEnd).equals(fb.subarray(moovEnd)), "the same samples, tables and layout");
    assert.equal(a.last.frames, b.last.frames);
    judge(real(sd2, "/sdcard/x.mp4"), { codec: "h265", width: 320, height: 240, frames: 60, fps: 30, audio: "alaw", rate: 8000, audioSamples: 16000 });
  });

  it("SPS parsing: size after cropping, profile, chroma and depth (1920x1080 is coded as 1088 lines)", function () {
    for (const codec of ["h264", "h265"] as const) {
      const bin = path.join(buildDir("asan"), "qcam-test-mp4");
      const r = spawnSyncChild(bin, ["sps", codec, input(codec, 1920, 1080, 2, 30)], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, codec === "h264" ? /^sps 1920x1080 profile=100 level=\d+ chroma=1 depth=8\/8$/m : /^sps 1920x1080 profile=1 level=\d+ chroma=1 depth=8\/8$/m);
    }
  });

  it("segment path patterns", function () {
    const bin = path.join(buildDir("host"), "qcam-test-mp4");
    const run = (pattern: string, index: number) =>
      spawnSyncChild(bin, ["path", pattern, String(index), "1767323045"], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } }).stdout.trim();
    assert.equal(run("/sdcard/v/rec_%Y%m%d_%H%M%S_%03i.mp4", 7), "/sdcard/v/rec_20260102_030405_007.mp4");
    assert.equal(run("/sdcard/%i-%%.mp4", 12), "/sdcard/12-%.mp4");
    assert.equal(run("/sdcard/%q.mp4", 1), "error Invalid argument");
  });

  it("where finalize and remux write before the rename: beside the file, in its folder", function () {
    const bin = path.join(buildDir("asan"), "qcam-test-mp4");
    const run = (p: string, suffix: string) => spawnSyncChild(bin, ["beside", p, suffix], { encoding: "utf8" }).stdout.trim();
    assert.equal(run("/sdcard/video/a.mp4", ".final"), "/sdcard/video/.a.mp4.final /sdcard/video");
    assert.equal(run("/a.mp4", ".remux"), "/.a.mp4.remux /");
    assert.equal(run("/sdcard/video/", ".final"), "error Is a directory");
    assert.equal(run(`/sdcard/${"x".repeat(60)}.mp4`, ".final"), "error File name too long"); // the test's 64-byte buffers
  });
});

// ---- JavaScript: test/fixtures/mp4 ------------------------------------------------

function runApp(flavor: Flavor, image: string, args: string[], runtimeArgs: string[] = []) {
  const sdcard = tmpDir("qcam-sd-");
  const cmd = runtimeCommand(flavor, image, { args, sdcard, runtimeArgs });
  const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120000 });
  if (r.error) throw r.error;
  const line = (label: string) => {
    const l = r.stdout.split("\n").find((x) => x.startsWith(`${label} `));
    assert.ok(l, `no "${label}" line in:\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(l.slice(label.length + 1)) as unknown;
  };
  return { ...r, sdcard, line };
}

interface Info { path: string; index: number; duration: number; size: number; frames: number }

describe("qcam:mp4 Mp4Writer (runtime)", function () {
  let image: string;
  before(async function () {
    image = (await fixture("mp4")).image;
  });

  for (const codec of ["h264", "h265"] as const) {
    for (const finalize of [true, false]) {
      it(`pull mode, ${codec}, ${finalize ? "finalized" : "fragmented"}: every frame written is in the file`, function () {
        const r = runApp("host", image, ["pull", "--codec", codec, "--frames", "75", "--finalize", String(finalize)]);
        assert.equal(r.status, 0, r.stderr);
        const info = r.line("info") as Info;
        assert.equal(info.path, "/sdcard/video/clip.mp4");
        assert.equal(info.frames, 75);
        // The file lasts as long as the pictures' timestamps say: 75 frames of
        // 1/30 s, or longer when the camera moved on while a frame was encoded.
        const pts = r.line("pts") as number[];
        assert.equal(pts.length, 75);
        assert.ok(Math.abs(info.duration - (pts[74] / 1e6 + 1 / 30)) < 0.002, `duration ${info.duration}, last pts ${pts[74]} µs`);
        const file = path.join(r.sdcard, "video", "clip.mp4");
        assert.equal(info.size, fs.statSync(file).size);
        assert.equal(hasBox(file, "moof"), !finalize);
        judge(file, { codec, width: 320, height: 240, frames: 75, fps: 30 });
        assert.match(r.stdout, /^again true ERR_CLOSED ERR_CLOSED$/m, "close twice; members after close");
        const stats = r.line("stats") as Record<string, number>;
        assert.equal(stats.dropped, 0);
        assert.ok(stats.videoFrames <= 75 && stats.fragments >= 1);
      });
    }
  }

  it("variable frame rate: the packets' pts are the frames' capture times", function () {
    // Fragmented, then the same frames finalized; each file is judged against
    // the capture times its own run reported (a loaded machine may take other frames).
    let pts: number[] = [];
    for (const fin of [false, true]) {
      const out = fin ? "fin.mp4" : "clip.mp4";
      const r = runApp("host", image, ["pull", "--frames", "40", "--gaps", "1,3,2,1", "--out", `/sdcard/video/${out}`, ...(fin ? [] : ["--finalize", "false"])]);
      assert.equal(r.status, 0, r.stderr);
      pts = r.line("pts") as number[];
      const f = path.join(r.sdcard, "video", out);
      const p = spawnSyncChild("ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries", "packet=pts", "-of", "csv=p=0", f], { encoding: "utf8" });
      const got = p.stdout.trim().split("\n").map(Number);
      assert.deepEqual(got, pts.map((us) => Math.round((us * 90000) / 1e6)), `${out}: pts in 90 kHz ticks`);
      assertDecodesClean(f);
    }
    assert.ok(new Set(pts.slice(1).map((p, i) => p - pts[i])).size >= 3, "the intervals vary");
  });

  it("linked, segments of 1 s: onSegment for each finished file, close() returns the last; frames add up to the link's", function () {
    const r = runApp("host", image, ["link", "--frames", "100", "--seconds", "1", "--out", "/sdcard/video/s_%02i.mp4"]);
    assert.equal(r.status, 0, r.stderr);
    const reported = r.line("segments") as Info[];
    const last = r.line("info") as Info;
    const segs = [...reported, last];
    const pipe = r.line("pipe") as { framesIn: number; framesOut: number };
    assert.equal(pipe.framesIn, 100, "the link took the 100 pictures asked for");
    // 100 pictures on a 30 fps camera's clock span 3.3 s: at least two finished 1 s segments.
    assert.ok(reported.length >= 2, JSON.stringify(segs));
    assert.ok(!reported.some((s) => s.path === last.path), "the last file is close()'s to tell, not onSegment's");
    assert.equal(segs.reduce((n, s) => n + s.frames, 0), pipe.framesOut);
    segs.forEach((s, i) => {
      assert.equal(s.index, i);
      assert.equal(s.path, `/sdcard/video/s_${String(i).padStart(2, "0")}.mp4`);
      const file = path.join(r.sdcard, "video", path.basename(s.path));
      assert.equal(s.size, fs.statSync(file).size);
      judge(file, { codec: "h264", width: 320, height: 240, frames: s.frames, fps: 30 });
      assert.equal(probePackets(file)[0]?.key, true, `${s.path}: a segment starts at a keyframe`);
    });
    assert.match(r.stdout, /^busy ERR_BUSY ERR_BUSY$/m, "close() and write() refuse while linked");
  });

  it("a full card while linked: onError hears ENOSPC, the file plays", function () {
    const r = runApp("host", image, ["link", "--ms", "30000", "--width", "640", "--height", "480", "--bitrate", "4000000"], ["--sdcard-size", "1"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^onError ENOSPC cannot write \/sdcard\/video\/clip.mp4: No space left on device$/m);
    const info = r.line("info") as Info;
    const file = path.join(r.sdcard, "video", "clip.mp4");
    assert.ok(info.frames > 0);
    judge(file, { codec: "h264", width: 640, height: 480, frames: info.frames, fps: 30 });
  });

  it("a full card while linked, no onError: the link's error is fatal", function () {
    const r = runApp("host", image, ["link", "--ms", "30000", "--width", "640", "--height", "480", "--bitrate", "4000000", "--onerror", "false"], ["--sdcard-size", "1"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Fatal: link: mp4 failed: No space left on device/);
    const info = r.line("info") as Info;
    judge(path.join(r.sdcard, "video", "clip.mp4"), { codec: "h264", width: 640, height: 480, frames: info.frames, fps: 30 });
  });

  it("ASan+UBSan: pull mode and a segmented link run clean", function () {
    let r = runApp("asan", image, ["pull", "--codec", "h265", "--frames", "40"]);
    assert.equal(r.status, 0, r.stderr);
    judge(path.join(r.sdcard, "video", "clip.mp4"), { codec: "h265", width: 320, height: 240, frames: 40, fps: 30 });
    r = runApp("asan", image, ["link", "--frames", "70", "--seconds", "1"]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok((r.line("segments") as Info[]).length >= 1);
  });
});
