// qcam:mp4's remux(): elementary streams made by ffmpeg (libx264, libx265)
// converted by the runtime (test/fixtures/mp4-remux), the MP4s judged by
// ffprobe, ffmpeg (decoding, and the decoded pictures against the stream's
// own) and GStreamer (gst-discoverer-1.0, qtdemux → decoder).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Flavor } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import { assertDecodesClean, fixture, spawnSyncChild, tmpDir } from "../helpers.ts";
import { topBoxes as topBoxesOf } from "../fuzz-mp4.ts";

type Codec = "h264" | "h265";

interface Result { frames: number; keyframes: number; dropped: number; duration: number; size: number; codec: Codec; width: number; height: number }

/** An Annex B stream made by ffmpeg (no B-frames, a keyframe every `gop`). */
function makeStream(codec: Codec, frames: number, opts: { width?: number; height?: number; gop?: number; noise?: boolean } = {}): string {
  const { width = 320, height = 240, gop = 30 } = opts;
  const file = path.join(tmpDir("qcam-remux-in-"), `in.${codec}`);
  const enc = codec === "h264" ? ["-c:v", "libx264", "-g", String(gop), "-bf", "0"]
    : ["-c:v", "libx265", "-x265-params", `keyint=${gop}:min-keyint=${gop}:bframes=0:log-level=error`];
  const noise = opts.noise ? ["-vf", "noise=alls=30:allf=t"] : []; // ~25 kB a frame at 320x240
  const r = spawnSyncChild("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc=size=${width}x${height}:rate=30`, "-frames:v",
    String(frames), ...noise, ...enc, "-pix_fmt", "yuv420p", "-f", codec === "h264" ? "h264" : "hevc", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

/** Run the fixture with `files` put on a fresh card (name → host file or bytes). */
function run(flavor: Flavor, image: string, files: Record<string, string | Buffer>, args: string[], runtimeArgs: string[] = []) {
  const sdcard = tmpDir("qcam-sd-");
  for (const [name, src] of Object.entries(files)) {
    if (typeof src === "string") fs.copyFileSync(src, path.join(sdcard, name));
    else fs.writeFileSync(path.join(sdcard, name), src);
  }
  const cmd = runtimeCommand(flavor, image, { args, sdcard, runtimeArgs });
  const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 180000 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  const line = r.stdout.split("\n").find((l) => l.startsWith("result ") || l.startsWith("error "));
  assert.ok(line, `no result in:\n${r.stdout}\n${r.stderr}`);
  const result = line.startsWith("result ") ? (JSON.parse(line.slice(7)) as Result) : undefined;
  const error = line.startsWith("error ") ? (JSON.parse(line.slice(6)) as { code: string; message: string }) : undefined;
  /** What is on the card (folders walked; the sim's .tmp/ left out). */
  const listing = (): string[] => {
    const out: string[] = [];
    const walk = (dir: string, rel: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (rel === "" && e.name === ".tmp") continue;
        if (e.isDirectory()) walk(path.join(dir, e.name), `${rel}${e.name}/`);
        else out.push(`${rel}${e.name}`);
      }
    };
    walk(sdcard, "");
    return out.sort();
  };
  return { sdcard, result, error, listing, stderr: r.stderr };
}

interface Probe { codec_name: string; codec_tag_string: string; width: number; height: number; nb_read_frames: string; duration: string }

function ffprobe(file: string): Probe {
  const r = spawnSyncChild("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
    "stream=codec_name,codec_tag_string,width,height,nb_read_frames,duration", "-of", "json", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { streams: Probe[] }).streams[0];
}

/** MD5 of every decoded picture, in order (ffmpeg). */
function picturesMd5(file: string, demuxer?: string): string {
  const r = spawnSyncChild("ffmpeg", ["-v", "error", ...(demuxer ? ["-f", demuxer] : []), "-i", file, "-map", "0:v", "-f", "md5", "-"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

function gstDiscover(file: string): { duration: number; text: string } {
  const r = spawnSyncChild("gst-discoverer-1.0", [file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const m = /Duration: (\d+):(\d+):([\d.]+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return { duration: Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]), text: r.stdout };
}

function gstFrames(file: string, codec: Codec): number {
  const r = spawnSyncChild("gst-launch-1.0", ["-v", "filesrc", `location=${file}`, "!", "qtdemux", "!", `${codec}parse`, "!",
    `avdec_${codec}`, "!", "fakesink", "silent=false"], { encoding: "utf8", maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /ERROR|WARNING/);
  return (r.stdout.match(/last-message = chain/g) ?? []).length;
}

/** Top-level box types, in order. */
function topBoxes(file: string): string[] {
  return topBoxesOf(fs.readFileSync(file)).map((b) => b.type);
}

describe("qcam:mp4 remux (runtime)", function () {
  let image: string;
  before(async function () {
    image = (await fixture("mp4-remux")).image; // the ASan runtime runs the host image too
  });

  for (const codec of ["h264", "h265"] as const) {
    it(`${codec}: ffprobe, ffmpeg and GStreamer read the MP4; the pictures are the stream's; moov before mdat`, function () {
      const input = makeStream(codec, 90);
      const r = run("host", image, { "in.es": input }, ["/sdcard/in.es", "/sdcard/clips/a.mp4", "30", codec]);
      assert.equal(r.error, undefined, JSON.stringify(r.error));
      const file = path.join(r.sdcard, "clips", "a.mp4");
      assert.deepEqual(r.result, { frames: 90, keyframes: 3, dropped: 0, duration: 3, size: fs.statSync(file).size, codec, width: 320, height: 240 });
      assert.deepEqual(r.listing(), ["clips/a.mp4", "in.es"], "the folder made; no temporary file left");
      const p = ffprobe(file);
      assert.equal(p.codec_name, codec === "h264" ? "h264" : "hevc");
      assert.equal(p.codec_tag_string, codec === "h264" ? "avc1" : "hvc1");
      assert.deepEqual([p.width, p.height, Number(p.nb_read_frames)], [320, 240, 90]);
      assert.ok(Math.abs(Number(p.duration) - 3) <= 1 / 30 + 1e-6, `duration ${p.duration}`);
      assertDecodesClean(file);
      assert.equal(picturesMd5(file), picturesMd5(input, codec === "h264" ? "h264" : "hevc"), "decoded pictures identical to the stream's");
      const g = gstDiscover(file);
      assert.ok(Math.abs(g.duration - 3) <= 1 / 30 + 0.001, `gst-discoverer duration ${g.duration}`);
      assert.match(g.text, codec === "h264" ? /H\.264/ : /H\.265/);
      assert.equal(gstFrames(file, codec), 90, "GStreamer's decoded pictures");
      assert.deepEqual(topBoxes(file), ["ftyp", "moov", "mdat"]);
    });
  }

  it("fps: 25 and 30000/1001 set the duration; the codec from the extension", function () {
    const input = makeStream("h264", 60);
    let r = run("host", image, { "in.h264": input }, ["/sdcard/in.h264", "/sdcard/a.mp4", "25"]);
    assert.equal(r.result?.codec, "h264");
    assert.equal(r.result?.duration, 60 / 25);
    let p = ffprobe(path.join(r.sdcard, "a.mp4"));
    assert.ok(Math.abs(Number(p.duration) - 60 / 25) <= 1 / 25 + 1e-6, `duration ${p.duration}`);
    assert.equal(Number(p.nb_read_frames), 60);
    r = run("host", image, { "in.h264": input }, ["/sdcard/in.h264", "/sdcard/b.mp4", String(30000 / 1001)]);
    p = ffprobe(path.join(r.sdcard, "b.mp4"));
    assert.ok(Math.abs(Number(p.duration) - (60 * 1001) / 30000) <= 1001 / 30000 + 1e-6, `duration ${p.duration}`);
    assert.ok(Math.abs(gstDiscover(path.join(r.sdcard, "b.mp4")).duration - 2.002) <= 0.034);
  });

  it("access units bigger than the 1 MiB input window (lossless 720p noise, ~1.7 MB each): every picture is the stream's", function () {
    const input = path.join(tmpDir("qcam-remux-in-"), "big.h264");
    const enc = spawnSyncChild("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30,noise=alls=60:allf=t", "-frames:v", "12",
      "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-g", "4", "-bf", "0", "-pix_fmt", "yuv420p", "-f", "h264", input], { encoding: "utf8" });
    assert.equal(enc.status, 0, enc.stderr);
    assert.ok(fs.statSync(input).size > 12 * (1 << 20), "each picture is bigger than the window");
    for (const flavor of ["host", "asan"] as const) {
      const r = run(flavor, image, { "big.h264": input }, ["/sdcard/big.h264", "/sdcard/big.mp4"]);
      assert.equal(r.error, undefined, JSON.stringify(r.error));
      assert.equal(r.result?.frames, 12);
      assert.equal(r.result?.keyframes, 3);
      const file = path.join(r.sdcard, "big.mp4");
      assert.equal(Number(ffprobe(file).nb_read_frames), 12);
      assertDecodesClean(file);
      assert.equal(picturesMd5(file), picturesMd5(input, "h264"), `${flavor}: decoded pictures identical to the stream's`);
    }
  });

  it("a stream cut short (power lost while recording) converts up to where it ends", function () {
    const input = makeStream("h265", 90);
    const bytes = fs.readFileSync(input);
    const r = run("host", image, { "cut.h265": bytes.subarray(0, Math.floor(bytes.length * 0.6)) }, ["/sdcard/cut.h265", "/sdcard/cut.mp4"]);
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    const frames = r.result!.frames;
    assert.ok(frames > 30 && frames < 90, `${frames} frames`);
    const p = ffprobe(path.join(r.sdcard, "cut.mp4"));
    assert.equal(Number(p.nb_read_frames), frames);
    assert.deepEqual(topBoxes(path.join(r.sdcard, "cut.mp4")), ["ftyp", "moov", "mdat"]);
  });

  it("truncated before the first picture, garbage, a missing file: a clear error and no output file", function () {
    const input = makeStream("h264", 30);
    const head = fs.readFileSync(input).subarray(0, 40);
    const junk = Buffer.alloc(200_000);
    for (let i = 0; i < junk.length; i++) junk[i] = 1 + ((i * 7919) % 255);
    const cases: [string, Buffer | null, RegExp][] = [
      ["short.h264", head, /^no keyframe in \/sdcard\/short\.h264 \(not an H\.264 elementary stream, or cut before its first picture\)$/],
      ["junk.h264", junk, /^no keyframe in \/sdcard\/junk\.h264 /],
      ["none.h264", null, /^cannot remux \/sdcard\/none\.h264 to \/sdcard\/out\.mp4: No such file or directory$/],
    ];
    for (const [name, data, message] of cases) {
      const r = run("host", image, data ? { [name]: data } : {}, [`/sdcard/${name}`, "/sdcard/out.mp4"]);
      assert.equal(r.result, undefined);
      assert.equal(r.error?.code, data ? "EBADMSG" : "ENOENT");
      assert.match(r.error!.message, message);
      assert.deepEqual(r.listing(), data ? [name] : [], "no output, no temporary file");
    }
  });

  it("a full card (--sdcard-size): ENOSPC, no output and no temporary file left", function () {
    const input = makeStream("h264", 30, { noise: true });
    const mb = fs.statSync(input).size / (1 << 20);
    assert.ok(mb > 0.55 && mb < 0.95, `input ${mb.toFixed(2)} MiB: it fits a 1 MiB card, its copy does not`);
    const r = run("host", image, { "in.h264": input }, ["/sdcard/in.h264", "/sdcard/out.mp4"], ["--sdcard-size", "1"]);
    assert.equal(r.error?.code, "ENOSPC", JSON.stringify(r));
    assert.equal(r.error?.message, "cannot remux /sdcard/in.h264 to /sdcard/out.mp4: No space left on device");
    assert.deepEqual(r.listing(), ["in.h264"]);
    const ok = run("host", image, { "in.h264": input }, ["/sdcard/in.h264", "/sdcard/out.mp4"], ["--sdcard-size", "2"]);
    assert.equal(ok.result?.frames, 30, "with room it works");
  });

  it("ASan+UBSan: both codecs and the error paths run clean", function () {
    for (const codec of ["h264", "h265"] as const) {
      const input = makeStream(codec, 40);
      const r = run("asan", image, { [`in.${codec}`]: input }, [`/sdcard/in.${codec}`, "/sdcard/a.mp4"]);
      assert.equal(r.result?.frames, 40, JSON.stringify(r));
      assert.equal(r.stderr, "");
      assertDecodesClean(path.join(r.sdcard, "a.mp4"));
    }
    const junk = run("asan", image, { "j.h265": Buffer.from([0, 0, 1, 0x40, 1, 0, 0, 1, 0x26, 1, 0xaf]) }, ["/sdcard/j.h265", "/sdcard/a.mp4"]);
    assert.equal(junk.error?.code, "EBADMSG");
    assert.equal(junk.stderr, "");
  });
});
