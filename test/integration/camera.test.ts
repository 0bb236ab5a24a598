// qcam:camera on the real runtime: pacing (seq and timestamps, never wall
// time), formats, the synthetic pattern's content and determinism, channels,
// Y4M sources judged against ffmpeg's own decoding, errors, the pool running
// dry, unloading with a camera left open, ASan and riscv64.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Flavor } from "../../build/paths.ts";
import { fixture, runSync, spawnSyncChild, tmpDir } from "../helpers.ts";

const SANITIZER = /AddressSanitizer|LeakSanitizer|runtime error/;

/** FNV-1a, the same as the fixture's. */
function fnv(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Run ffmpeg; its stdout. */
function ffmpeg(args: string[]): Buffer {
  const r = spawnSyncChild("ffmpeg", ["-loglevel", "error", ...args]);
  assert.equal(r.status, 0, `ffmpeg ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** The raw frames ffmpeg decodes from `file` in `pixFmt` (with `swsFlags`: how swscale converts), split by frame. */
function ffmpegFrames(file: string, pixFmt: string, frameSize: number, swsFlags?: string): Uint8Array[] {
  const raw = ffmpeg(["-i", file, ...(swsFlags ? ["-sws_flags", swsFlags] : []), "-f", "rawvideo", "-pix_fmt", pixFmt, "-"]);
  const frames: Uint8Array[] = [];
  for (let off = 0; off + frameSize <= raw.length; off += frameSize) frames.push(raw.subarray(off, off + frameSize));
  return frames;
}

type Line = Record<string, unknown>;

describe("qcam:camera", function () {
  let image: string;
  const dir = tmpDir("qcam-cam-");
  const clip = path.join(dir, "clip.y4m"); // 320x240, 30 fps, 10 frames of testsrc
  let clipFrames: Uint8Array[]; // yuv420p, as ffmpeg decodes them

  function run(args: string[], opts: { flavor?: Flavor; img?: string; runtimeArgs?: string[] } = {}): Line[] {
    const r = runSync(opts.flavor ?? "host", opts.img ?? image, { args, runtimeArgs: opts.runtimeArgs, timeoutMs: 120000 });
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, SANITIZER);
    return r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Line);
  }

  before(async function () {
    image = (await fixture("camera")).image;
    ffmpeg(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-frames:v", "10", "-pix_fmt", "yuv420p", clip]);
    clipFrames = ffmpegFrames(clip, "yuv420p", 320 * 240 * 1.5);
    assert.equal(clipFrames.length, 10);
  });

  describe("pacing", function () {
    for (const fps of [30, 60, 7]) {
      it(`${fps} fps: seq counts captures, timestamps are seq/fps apart`, function () {
        const lines = run(["frames", String(fps), "8"]);
        assert.deepEqual(lines[0], { width: 320, height: 240, format: "nv21", fps, buffers: 4 });
        const frames = lines.slice(1, 9) as { seq: number; ts: number; size: number }[];
        for (let i = 1; i < frames.length; i++) {
          const dSeq = frames[i].seq - frames[i - 1].seq;
          assert.ok(dSeq >= 1, `seq must increase: ${JSON.stringify(frames)}`);
          const dTs = frames[i].ts - frames[i - 1].ts;
          assert.ok(Math.abs(dTs - (dSeq * 1e6) / fps) <= 1, `Δts ${dTs} for Δseq ${dSeq} at ${fps} fps`);
        }
        const stats = lines[9] as { captured: number; dropped: number; delivered: number };
        assert.equal(stats.delivered, 8);
        assert.equal(stats.delivered + stats.dropped, frames[7].seq + 1, "every capture up to the last is delivered or dropped");
        assert.ok(stats.captured >= stats.delivered + stats.dropped && stats.captured <= stats.delivered + stats.dropped + 1);
      });
    }

    it("a slow reader: the frames that fell due meanwhile are dropped and counted, seq jumps", function () {
      const [{ seqs, stats }] = run(["slow"]) as { seqs: number[]; stats: { dropped: number; delivered: number } }[];
      // 200 ms at 50 fps: about 10 captures fell due while the app slept.
      assert.ok(seqs[1] - seqs[0] >= 5, `seq should jump: ${seqs}`);
      assert.ok(seqs[2] > seqs[1]);
      assert.equal(stats.delivered, 3);
      assert.equal(stats.delivered + stats.dropped, seqs[2] + 1);
    });

    it("skipFrames(n) consumes n frames", function () {
      const [{ seq, stats }] = run(["skip"]) as { seq: number; stats: { delivered: number; dropped: number } }[];
      assert.ok(seq >= 5);
      assert.equal(stats.delivered, 6);
      assert.equal(stats.delivered + stats.dropped, seq + 1);
    });

    it("runs the MaixPy loop at 720p30 in every format", function () {
      for (const format of ["nv21", "rgb888"]) {
        const [res] = run(["loop", "30", format]) as { frames: number; stats: { delivered: number } }[];
        assert.equal(res.frames, 30);
        assert.equal(res.stats.delivered, 30);
      }
    });
  });

  describe("formats and the pattern", function () {
    it("defaults: 640x480 nv21 at 30 fps, 4 buffers", function () {
      assert.deepEqual(run(["defaults"]), [{ width: 640, height: 480, format: "nv21", fps: 30, buffers: 4 }]);
    });

    it("every format has the size its layout needs", function () {
      const bpp: Record<string, number> = { nv21: 1.5, nv12: 1.5, yuv420p: 1.5, rgb888: 3, gray: 1 };
      const lines = run(["formats"]) as { w: number; h: number; format: string; size: number; bytes: number; seq: number }[];
      assert.equal(lines.length, 10);
      for (const l of lines) {
        assert.equal(l.size, l.w * l.h * bpp[l.format], JSON.stringify(l));
        assert.equal(l.bytes, l.size);
        assert.equal(l.seq, 0, "a new camera's first frame is capture 0");
      }
      assert.deepEqual(lines.map((l) => `${l.w}x${l.h}`), [...Array(5).fill("320x240"), ...Array(5).fill("64x48")]);
    });

    it("the pattern is a function of seq: same seq, same bytes, in two runs and every format", function () {
      const a = run(["hash", "5"]);
      const b = run(["hash", "5"]);
      const bySeq = (lines: Line[]) => new Map(lines.filter((l) => "seq" in l).map((l) => [l.seq as number, l]));
      const ma = bySeq(a);
      const mb = bySeq(b);
      assert.equal(ma.size, 5, "five frames, each a capture of its own");
      let common = 0;
      for (const [seq, row] of ma) {
        assert.deepEqual(row.channelSeqs, [seq, seq, seq], "all outputs got the same capture");
        // The luma of every YUV format is the gray frame itself.
        assert.equal(row.nv21Y, row.gray);
        assert.equal(row.nv12Y, row.gray);
        assert.equal(row.yuv420pY, row.gray);
        assert.notEqual(row.nv21, row.nv12, "nv21 and nv12 differ in chroma order");
        // Background pixels follow the documented ramps (160x120 gray).
        const ramp = (x: number, y: number) => ((Math.floor((x * 160) / 160) + (seq % 80) * 2) % 160) + 16 + Math.floor((y * 60) / 120);
        assert.deepEqual(row.px, [ramp(80, 60), ramp(10, 100), 16 /* the text box */]);
        const other = mb.get(seq);
        if (!other) continue;
        common++;
        assert.deepEqual(other, row, `seq ${seq} differs between runs`);
      }
      assert.ok(common >= 3, "the two runs share frames");
      const rgbA = a.at(-1)!.rgb888 as Record<string, string>;
      const rgbB = b.at(-1)!.rgb888 as Record<string, string>;
      assert.equal(Object.keys(rgbA).length, 5);
      const shared = Object.keys(rgbA).filter((k) => k in rgbB);
      assert.ok(shared.length >= 3);
      for (const k of shared) assert.equal(rgbA[k], rgbB[k], `rgb888 frame ${k}`);
      const grays = [...ma.values()].map((r) => r.gray);
      assert.equal(new Set(grays).size, grays.length, "consecutive frames differ");
    });
  });

  describe("channels", function () {
    it("share seq and timestamps with the camera; a slower channel takes every n-th capture", function () {
      const lines = run(["channels"]);
      assert.deepEqual(lines[0], { small: [320, 240, "gray", 30, 4], slow: [160, 120, "rgb888", 10] });
      assert.deepEqual(lines[1], { isChannel: true, tag: "[object Channel]" });
      const pairs = lines.slice(2, 8) as { main: number[]; small: number[] }[];
      assert.ok(pairs.every((p) => p.main && p.small), JSON.stringify(lines));
      // Each read returns the newest capture: read back to back, both outputs
      // get the same one (unless a capture fell due in between).
      const t0 = pairs[0].main[1] - Math.ceil((pairs[0].main[0] * 1e6) / 30);
      const tsOf = (seq: number) => t0 + Math.ceil((seq * 1e6) / 30);
      let same = 0;
      for (const p of pairs) {
        if (p.main[0] === p.small[0]) same++;
        assert.equal(p.main[1], tsOf(p.main[0]), "a capture's timestamp is the sensor's");
        assert.equal(p.small[1], tsOf(p.small[0]), "the same capture has the same timestamp on every channel");
        assert.ok(p.small[0] >= p.main[0]);
        assert.equal(p.main[2], 640 * 480 * 1.5);
        assert.equal(p.small[2], 320 * 240);
      }
      assert.ok(same >= 4, `same seq on both outputs: ${JSON.stringify(pairs)}`);
      const slow = lines.slice(8, 11).map((l) => (l as { slow: number[] }).slow);
      assert.ok(slow.every(Boolean), JSON.stringify(lines));
      for (const [seq, ts, size] of slow) {
        assert.equal(seq % 3, 0, "10 fps of a 30 fps sensor: every third capture");
        assert.equal(ts, tsOf(seq), "the capture's own timestamp");
        assert.equal(size, 160 * 120 * 3);
      }
      assert.ok(slow[1][0] > slow[0][0] && slow[2][0] > slow[1][0]);
      assert.deepEqual(lines[12], { fourth: [64, 64, "nv21", 30] }, "channels default to the camera's format and fps");
      assert.match(lines[13].tooMany as string, /^Error:ERR_TOO_MANY_CHANNELS:a camera has at most 4 channels/);
      assert.match(lines[14].fpsAbove as string, /^RangeError:ERR_INVALID_ARG:channel fps must be an integer from 1 to 30 \(the camera's fps\), not 60$/);
      assert.deepEqual(lines[15], { afterCameraClose: "TypeError:ERR_CLOSED:Channel is closed (its Camera was closed)", closeAgain: "no error" });
    });
  });

  describe("Y4M source", function () {
    const hashes = () => clipFrames.map(fnv);

    it("a board path in the sim SD card, loop: false: all 10 frames, then ERR_END_OF_STREAM", function () {
      const sd = tmpDir("qcam-sd-");
      fs.mkdirSync(path.join(sd, "clips"));
      fs.copyFileSync(clip, path.join(sd, "clips", "clip.y4m"));
      const lines = run(["y4m", "/sdcard/clips/clip.y4m", "false", "100"], { runtimeArgs: ["--sdcard", sd] });
      assert.deepEqual(lines[0], { width: 320, height: 240, fps: 30, format: "yuv420p" }, "size and rate from the file");
      const frames = lines.filter((l) => "hash" in l) as { seq: number; hash: string }[];
      const end = lines.find((l) => "end" in l) as { end: string; stats: { delivered: number; dropped: number } };
      assert.match(end.end, /^Error:ERR_END_OF_STREAM:camera source \/sdcard\/clips\/clip\.y4m ended/);
      assert.equal(end.stats.delivered + end.stats.dropped, 10);
      assert.equal(frames.at(-1)!.seq, 9, "the file's last frame is always delivered");
      for (const f of frames) assert.equal(f.hash, hashes()[f.seq], `frame ${f.seq} is the file's frame, byte for byte`);
      assert.match(lines.at(-1)!.again as string, /ERR_END_OF_STREAM/);
    });

    it("a host path, looping: frame seq is the file's frame seq % 10", function () {
      const lines = run(["y4m", clip, "true", "25"]);
      const frames = lines.filter((l) => "hash" in l) as { seq: number; hash: string }[];
      assert.equal(frames.length, 25);
      assert.ok(frames.at(-1)!.seq >= 24);
      for (const f of frames) assert.equal(f.hash, hashes()[f.seq % 10]);
    });

    for (const [format, pixFmt, size] of [["nv21", "nv21", 1.5], ["nv12", "nv12", 1.5]] as const) {
      it(`converted to ${format}: the same bytes as ffmpeg's conversion`, function () {
        const want = ffmpegFrames(clip, pixFmt, 320 * 240 * size).map(fnv);
        const lines = run(["y4m", clip, "false", "10", "320", "240", format]);
        const frames = lines.filter((l) => "hash" in l) as { seq: number; hash: string }[];
        assert.ok(frames.length >= 5);
        for (const f of frames) assert.equal(f.hash, want[f.seq]);
      });
    }

    it("converted to gray: the file's Y plane", function () {
      const lines = run(["y4m", clip, "false", "10", "320", "240", "gray"]);
      const frames = lines.filter((l) => "hash" in l) as { seq: number; hash: string }[];
      assert.ok(frames.length >= 5, `${frames.length} frames read`);
      for (const f of frames) assert.equal(f.hash, fnv(clipFrames[f.seq].subarray(0, 320 * 240)));
    });

    it("converted to rgb888: within 1 of ffmpeg's BT.601 conversion (nearest chroma, exact rounding), every sample", function () {
      const sd = tmpDir("qcam-sd-");
      fs.copyFileSync(clip, path.join(sd, "clip.y4m"));
      const lines = run(["y4m", "/sdcard/clip.y4m", "false", "10", "320", "240", "rgb888", "/sdcard/rgb.raw"], { runtimeArgs: ["--sdcard", sd] });
      const frames = lines.filter((l) => "hash" in l) as { seq: number; hash: string }[];
      assert.ok(frames.length >= 5, `${frames.length} frames read`);
      const size = 320 * 240 * 3;
      const got = fs.readFileSync(path.join(sd, "rgb.raw"));
      assert.equal(got.length, frames.length * size, "the dump holds every frame read");
      const want = ffmpegFrames(clip, "rgb24", size, "neighbor+accurate_rnd+full_chroma_int");
      assert.equal(want.length, 10);
      frames.forEach((f, i) => {
        const mine = got.subarray(i * size, (i + 1) * size);
        assert.equal(fnv(mine), f.hash, `frame ${f.seq}: the dump is what the app read`);
        let worst = 0;
        let at = -1;
        for (let k = 0; k < size; k++) {
          const d = Math.abs(mine[k] - want[f.seq][k]);
          if (d > worst) [worst, at] = [d, k];
        }
        const px = Math.floor(at / 3);
        assert.ok(worst <= 1, `frame ${f.seq}: ${worst} apart from ffmpeg at x ${px % 320}, y ${Math.floor(px / 320)}`);
      });
    });

    it("a mono (Cmono) file plays with neutral chroma", function () {
      const mono = path.join(dir, "mono.y4m");
      ffmpeg(["-y", "-i", clip, "-pix_fmt", "gray", "-strict", "-1", mono]);
      assert.match(fs.readFileSync(mono).subarray(0, 80).toString("latin1"), /Cmono/);
      const gray = ffmpegFrames(mono, "gray", 320 * 240);
      const lines = run(["y4m", mono, "false", "10"]);
      const frames = lines.filter((l) => "hash" in l) as { seq: number; hash: string }[];
      assert.ok(frames.length >= 5, `${frames.length} frames read`);
      for (const f of frames) {
        const want = Buffer.concat([gray[f.seq], Buffer.alloc(320 * 120, 128)]);
        assert.equal(f.hash, fnv(want));
      }
    });

    it("width and height that differ from the file's: a RangeError naming both", function () {
      const [l] = run(["y4m", clip, "false", "1", "640", "480", "nv21"]);
      assert.match(l.open as string, /^RangeError:ERR_INVALID_ARG:camera source .*clip\.y4m: the file's frames are 320x240, the camera was asked for 640x480 \(leave width and height out/);
    });

    // Malformed files: a one-line reason, at open or at the frame that is bad; never a crash.
    const header = "YUV4MPEG2 W64 H48 F30:1 C420jpeg\n";
    const frame = (fill = 0x80) => Buffer.concat([Buffer.from("FRAME\n"), Buffer.alloc(64 * 48 * 1.5, fill)]);
    const BAD: [string, () => Buffer, RegExp][] = [
      ["not a Y4M file", () => Buffer.from("RIFF....WAVEfmt "), /^open: Error:ERR_INVALID_SOURCE:.*not a Y4M file/],
      ["empty file", () => Buffer.alloc(0), /^open: Error:ERR_INVALID_SOURCE:.*not a Y4M file/],
      ["no width", () => Buffer.concat([Buffer.from("YUV4MPEG2 H48 F30:1\n"), frame()]), /no width \(W\)/],
      ["negative width", () => Buffer.concat([Buffer.from("YUV4MPEG2 W-64 H48\n"), frame()]), /bad Y4M width "W-64"/],
      ["huge height", () => Buffer.concat([Buffer.from("YUV4MPEG2 W64 H99999999999\n"), frame()]), /bad Y4M height/],
      ["odd size", () => Buffer.concat([Buffer.from("YUV4MPEG2 W63 H48\n"), frame()]), /odd sizes are not supported/],
      ["4:4:4", () => Buffer.concat([Buffer.from("YUV4MPEG2 W64 H48 C444\n"), frame()]), /unsupported Y4M colour space "C444" \(supported: C420jpeg/],
      ["10-bit", () => Buffer.concat([Buffer.from("YUV4MPEG2 W64 H48 C420p10\n"), frame()]), /unsupported Y4M colour space "C420p10"/],
      ["bad rate", () => Buffer.concat([Buffer.from("YUV4MPEG2 W64 H48 F30:0\n"), frame()]), /bad Y4M frame rate "F30:0"/],
      ["endless header", () => Buffer.from("YUV4MPEG2 W64 H48 " + "X".repeat(5000)), /header line is not terminated within 1024 bytes/],
      ["no frames", () => Buffer.from(header), /the Y4M file has no frames/],
      ["first frame truncated", () => Buffer.concat([Buffer.from(header), frame().subarray(0, 1000)]), /frame 0 is truncated: 994 of 4608 bytes/],
      ["frame 3 truncated", () => Buffer.concat([Buffer.from(header), frame(), frame(), frame(), frame().subarray(0, 50)]), /^end: Error:ERR_INVALID_SOURCE:.*frame 3 is truncated: 44 of 4608 bytes/],
      ["garbage instead of frame 2", () => Buffer.concat([Buffer.from(header), frame(), frame(), Buffer.from("GARBAGE\n"), frame()]), /^end: Error:ERR_INVALID_SOURCE:.*frame 2: no FRAME marker at byte/],
      ["frame header without end", () => Buffer.concat([Buffer.from(header), frame(), Buffer.from("FRAME " + "x".repeat(400))]), /frame 1: header not terminated within 256 bytes/],
    ];
    for (const [name, make, want] of BAD) {
      it(`bad file, ${name}: ${want.source.slice(0, 60)}`, function () {
        const f = path.join(dir, name.replace(/\W+/g, "-") + ".y4m");
        fs.writeFileSync(f, make());
        const lines = run(["y4m", f, "false", "10", "64", "48", "nv21"]);
        const bad = lines.find((l) => "open" in l || "end" in l)!;
        const text = "open" in bad ? `open: ${bad.open as string}` : `end: ${bad.end as string}`;
        assert.match(text, want);
        assert.doesNotMatch(text, /\n/);
      });
    }

    it("a folder or a missing file: the errno", function () {
      assert.match(run(["y4m", dir, "false", "1"])[0].open as string, /^Error:EISDIR:camera source .*: not a regular file/);
      assert.match(run(["y4m", "/sdcard/nope.y4m", "false", "1"])[0].open as string, /^Error:ENOENT:camera source \/sdcard\/nope\.y4m: No such file or directory$/);
      assert.match(run(["y4m", "/sdcard/../etc/passwd", "false", "1"])[0].open as string, /^Error:EINVAL:camera source \/sdcard\/\.\.\/etc\/passwd/);
    });
  });

  describe("errors and lifetimes", function () {
    let lines: Line[];
    before(function () {
      lines = run(["errors"]);
    });
    const get = (k: string) => lines.find((l) => k in l)![k] as string;

    const CASES: [string, RegExp][] = [
      ["format", /^TypeError:ERR_INVALID_ARG:Camera format must be one of "nv21", "nv12", "yuv420p", "rgb888", "gray"$/],
      ["width odd", /^RangeError:ERR_INVALID_ARG:Camera width must be an even integer from 32 to 3840, not 321$/],
      ["width big", /^RangeError:ERR_INVALID_ARG:Camera width must be an even integer from 32 to 3840, not 10000$/],
      ["width string", /^TypeError:ERR_INVALID_ARG:Camera width must be an even integer/],
      ["fps", /^RangeError:ERR_INVALID_ARG:Camera fps must be an integer from 1 to 120, not 500$/],
      ["fps fraction", /^RangeError:ERR_INVALID_ARG:Camera fps must be an integer from 1 to 120, not 29\.97$/],
      ["buffers", /^RangeError:ERR_INVALID_ARG:Camera buffers must be an integer from 2 to 16, not 1$/],
      ["unknown key", /^TypeError:ERR_INVALID_ARG:unknown Camera option "frameRate" \(known: width, height, format, fps, buffers, source, loop\)$/],
      ["not object", /^TypeError:ERR_INVALID_ARG:Camera options must be an object$/],
      ["source type", /^TypeError:ERR_INVALID_ARG:Camera source must be the path of a \.y4m file/],
      ["loop type", /^TypeError:ERR_INVALID_ARG:Camera loop must be a boolean$/],
      ["missing source", /^Error:ENOENT:camera source \/sdcard\/none\.y4m: No such file or directory$/],
      ["noNew", /^TypeError:ERR_CONSTRUCT_CALL_REQUIRED:Camera must be called with new$/],
      ["channelCtor", /^TypeError:ERR_ILLEGAL_CONSTRUCTOR:/],
      ["busy", /^Error:EBUSY:the camera is already open \(close\(\) the other Camera first\)/],
      ["skipBad", /^RangeError:ERR_INVALID_ARG:skipFrames\(n\): n must be an integer from 0 to 100000, not -1$/],
      ["chanBad", /^TypeError:ERR_INVALID_ARG:channel format must be one of/],
      ["wrongThis", /^TypeError:ERR_WRONG_THIS:expected a Camera$/],
      ["wrongThisImage", /^TypeError:ERR_WRONG_THIS:expected a Camera$/],
      ["wrongThisClose", /^TypeError:ERR_WRONG_THIS:expected a Camera$/],
      ["wrongThisGetter", /^TypeError:ERR_WRONG_THIS:expected a Camera$/],
      ["closeTwice", /^no error$/],
      ["afterClose", /^TypeError:ERR_CLOSED:Camera is closed$/],
      ["width", /^TypeError:ERR_CLOSED:Camera is closed$/],
      ["stats", /^TypeError:ERR_CLOSED:Camera is closed$/],
      ["add", /^TypeError:ERR_CLOSED:Camera is closed$/],
    ];
    for (const [key, want] of CASES) it(`${key}: ${want.source.slice(1, 70)}`, () => assert.match(get(key), want));

    it("an Image read before close() stays valid; the camera opens again once closed", function () {
      assert.deepEqual(get("imageAfterClose"), [64, 64 * 64 * 1.5, 64 * 64 * 1.5]);
      assert.equal(get("reopened"), 64);
    });

    it("a Camera dropped without close(): its finalizer releases the sensor", function () {
      assert.equal(get("afterFinalizer"), 96);
    });

    it("`using` closes the camera and the image at the end of the block", function () {
      assert.deepEqual(run(["dispose"]), [{ inside: 0 }, { afterUsing: "TypeError:ERR_CLOSED:Camera is closed" }]);
    });

    it("the app holds every buffer: read() throws ERR_NO_BUFFER instead of waiting forever; closing an Image fixes it", function () {
      const [dry, after] = run(["dry"]) as { dry?: string; afterClose?: boolean; stats?: { dropped: number; delivered: number } }[];
      assert.match(dry.dry!, /^Error:ERR_NO_BUFFER:no free buffer: all 2 Images of this camera are still open; close\(\) the Images you are done with/);
      assert.equal(after.afterClose, true);
      assert.equal(after.stats!.delivered, 3);
      assert.ok(after.stats!.dropped > 0, "frames that fell due while the pool was dry are counted");
    });

    it("an app that leaves its camera and images open: unloading releases them (ASan, 3 loads in one process)", function () {
      // The sensor opens once at a time, so the 2nd and 3rd loads prove the 1st released it.
      const r = runSync("asan", image, { args: ["leave-open"], runtimeArgs: ["--repeat", "3"], timeoutMs: 120000 });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, SANITIZER);
      assert.equal(r.stdout, '{"left":"open"}\n'.repeat(3));
    });
  });

  describe("other runtimes", function () {
    it("the ASan+UBSan runtime runs every mode clean", function () {
      this.timeout(300000);
      for (const args of [["frames", "30", "8"], ["formats"], ["hash", "3"], ["channels"], ["errors"], ["dry"], ["skip"], ["dispose"], ["y4m", clip, "true", "12"], ["y4m", clip, "false", "20", "160", "120", "rgb888"], ["loop", "10"]])
        run(args, { flavor: "asan" });
    });

    it("riscv64 under qemu: same pacing, and the same pattern bytes as x86-64 for the same seq", async function () {
      this.timeout(300000);
      const rv = (await fixture("camera", "riscv64")).image;
      const frames = run(["frames", "30", "4"], { flavor: "riscv64", img: rv });
      assert.equal(frames.length, 6);
      const rvHash = run(["hash", "3"], { flavor: "riscv64", img: rv });
      const x86 = new Map(run(["hash", "3"]).filter((l) => "seq" in l).map((l) => [l.seq, l]));
      let compared = 0;
      for (const row of rvHash.filter((l) => "seq" in l)) {
        const other = x86.get(row.seq);
        if (!other) continue;
        compared++;
        assert.deepEqual(row, other);
      }
      assert.ok(compared >= 1, "the runs share at least one seq");
      const rvY4m = run(["y4m", clip, "true", "5"], { flavor: "riscv64", img: rv }).filter((l) => "hash" in l) as { seq: number; hash: string }[];
      assert.equal(rvY4m.length, 5);
      for (const f of rvY4m) assert.equal(f.hash, fnv(clipFrames[f.seq % 10]));
    });
  });
});
