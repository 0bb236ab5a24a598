// qcam:ts's TsWriter on the real runtime (test/fixtures/ts): files judged by
// ffprobe (codec, size, frame count, no packet flagged corrupt by a
// continuity error), `ffmpeg -v error … -f null -` (silent) and GStreamer
// (tsdemux → parser → libav decoder) and VLC (its TS demuxer and packetizer,
// test/helpers.ts vlcRead). The cut-file trial cuts a written file
// at seeded random offsets: every prefix (less a trailing partial packet)
// must still decode cleanly, losing at most the last second. And SIGKILL
// trials with the recorder app (--container ts). TsReader on the runtime
// against ffprobe: the same frames, times and keyframes for a recorder-made
// file, whole and cut mid-frame.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import { assertDecodesClean, assertLinkAddsUp, fixture, killRuntime, run, spawnChild, spawnSyncChild, tmpDir, assertVlcReads, vlcRead, type LinkStats } from "../helpers.ts";

type Codec = "h264" | "h265";
const FF: Record<Codec, string> = { h264: "h264", h265: "hevc" };

interface Info { path: string; index: number; duration: number; size: number; frames: number; full: boolean }

function runApp(image: string, args: string[], runtimeArgs: string[] = []) {
  const sdcard = tmpDir("qcam-sd-");
  const cmd = runtimeCommand("host", image, { args, sdcard, runtimeArgs });
  const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120000 });
  if (r.error) throw r.error;
  const line = <T,>(label: string): T => {
    const l = r.stdout.split("\n").find((x) => x.startsWith(`${label} `));
    assert.ok(l, `no "${label}" line in:\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(l.slice(label.length + 1)) as T;
  };
  return { ...r, sdcard, line };
}

/** ffprobe's view: the video stream, the frames it decodes, the packets it flagged corrupt. */
function ffprobe(file: string, pre: string[] = []): { codec: string; width: number; height: number; frames: number; packets: number; corrupt: number; keys: number } {
  const r = spawnSyncChild("ffprobe", ["-v", "error", ...pre, "-count_frames", "-show_entries",
    "stream=codec_name,width,height,nb_read_frames:packet=flags", "-of", "json", file], { encoding: "utf8" });
  assert.equal(r.status, 0, `ffprobe ${file}: ${r.stderr}`);
  assert.equal(r.stderr, "", `ffprobe -v error ${file} is not silent`);
  const j = JSON.parse(r.stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[]; packets: { flags: string }[] };
  assert.equal(j.streams.length, 1, "one stream");
  const s = j.streams[0];
  return {
    codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames),
    packets: j.packets.length, corrupt: j.packets.filter((p) => p.flags.includes("C")).length,
    keys: j.packets.filter((p) => p.flags.includes("K")).length,
  };
}

/** GStreamer: tsdemux → parser → libav decoder; the number of decoded pictures. */
function gstFrames(file: string, codec: Codec): number {
  const r = spawnSyncChild("gst-launch-1.0", ["-v", "filesrc", `location=${file}`, "!", "tsdemux", "!", `${codec}parse`, "!",
    `avdec_${codec}`, "!", "fakesink", "silent=false"], { encoding: "utf8" });
  assert.equal(r.status, 0, `gst-launch ${file}: ${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /ERROR|WARNING/, `gst-launch ${file}`);
  return (r.stdout.match(/last-message = chain/g) ?? []).length;
}

/** Our own check of the packet layer: 188-byte packets, sync bytes, continuity per PID. */
function packetLayer(file: string): { packets: number; pids: Set<number> } {
  const b = fs.readFileSync(file);
  assert.equal(b.length % 188, 0, "a whole number of packets");
  const cc = new Map<number, number>();
  const pids = new Set<number>();
  for (let o = 0; o < b.length; o += 188) {
    assert.equal(b[o], 0x47, `sync byte at ${o}`);
    const pid = ((b[o + 1] & 0x1f) << 8) | b[o + 2];
    pids.add(pid);
    const c = b[o + 3] & 15;
    if (cc.has(pid)) assert.equal(c, (cc.get(pid)! + 1) & 15, `continuity of PID ${pid} at ${o}`);
    cc.set(pid, c);
  }
  return { packets: b.length / 188, pids };
}

function judge(file: string, want: { codec: Codec; width: number; height: number; frames: number }): void {
  const p = ffprobe(file);
  assert.equal(p.codec, FF[want.codec]);
  assert.equal(p.width, want.width);
  assert.equal(p.height, want.height);
  assert.equal(p.frames, want.frames, "frames ffprobe decodes");
  assert.equal(p.packets, want.frames, "packets ffprobe reads");
  assert.equal(p.corrupt, 0, "packets flagged corrupt (continuity)");
  assertDecodesClean(file);
  assert.equal(gstFrames(file, want.codec), want.frames, "frames GStreamer decodes");
  // every frame: the writer gives each PES its length when it fits in 16 bits, the last one too
  assertVlcReads(file, { codec: FF[want.codec], width: want.width, height: want.height, frames: want.frames });
  assert.deepEqual([...packetLayer(file).pids].sort((a, b) => a - b), [0, 0x100, 0x1000]);
}

/** A seeded PRNG (mulberry32). */
interface TsRead { probe?: { codec: string; width: number; height: number; duration: number }; track?: { codec: string; width: number; height: number; samples: number; keyframes: number; duration: number }; duration?: number; pts?: number[]; keys?: number[]; seek?: number; seekFrame?: number; code?: string; message?: string }

/** The fixture's "read" mode on the runtime: what TsReader and probe() give for a file on the card. */
function tsReadWith(image: string, sd: string, board: string, seek = 0): TsRead {
  const cmd = runtimeCommand("host", image, { args: ["read", "--in", board, "--seek", String(seek)], sdcard: sd });
  const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120000 });
  assert.equal(r.status, 0, r.stderr);
  const l = r.stdout.split("\n").find((x) => x.startsWith("tsread "));
  assert.ok(l, r.stdout + r.stderr);
  return JSON.parse(l.slice(7)) as TsRead;
}

/** ffprobe's video packets: pts (90 kHz), keyframe flag. */
function probePts(file: string, pre: string[] = []): { pts: number; key: boolean }[] {
  const r = spawnSyncChild("ffprobe", ["-v", "error", ...pre, "-select_streams", "v", "-show_entries", "packet=pts,flags", "-of", "json", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { packets: { pts: number; flags: string }[] }).packets.map((p) => ({ pts: p.pts, key: p.flags.includes("K") }));
}

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("qcam:ts TsWriter (runtime)", function () {
  let image: string;
  before(async function () {
    this.timeout(300_000);
    image = (await fixture("ts")).image;
  });

  for (const codec of ["h264", "h265"] as const) {
    it(`pull mode, ${codec}: ffprobe, ffmpeg and GStreamer read every frame; continuity holds`, function () {
      this.timeout(120_000);
      const r = runApp(image, ["pull", "--codec", codec, "--frames", "75"]);
      assert.equal(r.status, 0, r.stderr);
      const info = r.line<Info>("info");
      assert.equal(info.path, "/sdcard/video/clip.ts");
      assert.equal(info.frames, 75);
      // the capture times' span and one frame (75 / 30 s on a quiet machine)
      const span = r.line<{ first: number; last: number }>("span");
      const expected = (span.last - span.first) / 1e6 + 1 / 30;
      assert.ok(Math.abs(info.duration - expected) < 0.05, `duration ${info.duration}, captures span ${expected} s`);
      const file = path.join(r.sdcard, "video", "clip.ts");
      assert.equal(info.size, fs.statSync(file).size);
      judge(file, { codec, width: 320, height: 240, frames: 75 });
      // PAT/PMT before each keyframe (gop 15): ffprobe sees 5 keyframes
      assert.equal(ffprobe(file).keys, 5);
      const stats = r.line<Record<string, number>>("stats");
      assert.equal(stats.dropped, 0);
      assert.match(r.stdout, /^again true ERR_CLOSED ERR_CLOSED$/m, "close twice; members after close");
    });
  }

  it("linked: camera → encoder → TsWriter; ERR_BUSY while linked; every frame the link wrote is in the file", function () {
    this.timeout(120_000);
    const r = runApp(image, ["link", "--frames", "45"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^busy ERR_BUSY ERR_BUSY$/m);
    const pipe = r.line<LinkStats>("pipe");
    assertLinkAddsUp(pipe);
    const info = r.line<Info>("info");
    assert.equal(info.frames, pipe.sinkFrames[0]);
    assert.ok(info.frames >= 30, `frames ${info.frames}`);
    judge(path.join(r.sdcard, "video", "clip.ts"), { codec: "h264", width: 320, height: 240, frames: info.frames });
  });

  it("segments by seconds: each file plays on its own and starts with a keyframe; frames add up", function () {
    this.timeout(120_000);
    const r = runApp(image, ["pull", "--frames", "200", "--gop", "30", "--seconds", "2", "--out", "/sdcard/rec/seg_%03i.ts"]);
    assert.equal(r.status, 0, r.stderr);
    const segs = [...r.line<Info[]>("segments"), r.line<Info>("info")];
    assert.equal(segs.length, 4);
    segs.forEach((s, i) => {
      assert.equal(s.path, `/sdcard/rec/seg_${String(i).padStart(3, "0")}.ts`);
      assert.equal(s.index, i);
      const file = path.join(r.sdcard, s.path.replace(/^\/sdcard\//, ""));
      assert.equal(s.size, fs.statSync(file).size);
      judge(file, { codec: "h264", width: 320, height: 240, frames: s.frames });
    });
    assert.deepEqual(segs.map((s) => s.frames), [60, 60, 60, 20]);
    assert.ok(Math.abs(segs[0].duration - 2) < 0.01, `duration ${segs[0].duration}`);
  });

  it("segments by bytes: each file closes at the first keyframe past the size", function () {
    this.timeout(120_000);
    const r = runApp(image, ["pull", "--codec", "h265", "--frames", "150", "--gop", "15", "--bytes", "60000", "--out", "/sdcard/b_%i.ts"]);
    assert.equal(r.status, 0, r.stderr);
    const segs = [...r.line<Info[]>("segments"), r.line<Info>("info")];
    assert.ok(segs.length >= 2, JSON.stringify(segs));
    assert.equal(segs.reduce((n, s) => n + s.frames, 0), 150);
    for (const s of segs) judge(path.join(r.sdcard, s.path.replace(/^\/sdcard\//, "")), { codec: "h265", width: 320, height: 240, frames: s.frames });
  });

  it("a full card without segments: ENOSPC thrown by write(); the file is whole packets and plays", function () {
    this.timeout(120_000);
    const r = runApp(image, ["pull", "--frames", "600", "--bitrate", "8000000", "--width", "640", "--height", "480"], ["--sdcard-size", "1"]);
    assert.equal(r.status, 0, r.stderr);
    const err = r.line<{ thrown: string; onError: string }>("error");
    assert.equal(err.thrown, "ENOSPC");
    const info = r.line<Info>("info");
    const file = path.join(r.sdcard, "video", "clip.ts");
    assert.equal(fs.statSync(file).size % 188, 0);
    assert.ok(info.frames > 30, `frames ${info.frames}`);
    judge(file, { codec: "h264", width: 640, height: 480, frames: info.frames });
  });

  it("a full card without segments, onError given: ENOSPC goes there, write() does not throw", function () {
    this.timeout(120_000);
    const r = runApp(image, ["pull", "--frames", "600", "--bitrate", "8000000", "--width", "640", "--height", "480", "--onerror", "true", "--after-full", "30"], ["--sdcard-size", "1"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.line("error"), { thrown: "none", onError: "ENOSPC" });
    const info = r.line<Info>("info");
    judge(path.join(r.sdcard, "video", "clip.ts"), { codec: "h264", width: 640, height: 480, frames: info.frames });
  });

  it("a full card with segments: onFull hears of it, the file cut short is reported full and plays", function () {
    this.timeout(120_000);
    const r = runApp(image, ["pull", "--frames", "600", "--bitrate", "8000000", "--width", "640", "--height", "480", "--seconds", "5", "--out", "/sdcard/s_%i.ts", "--after-full", "30"], ["--sdcard-size", "1"]);
    assert.equal(r.status, 0, r.stderr);
    const full = r.line<string[]>("full");
    assert.ok(full.length >= 1);
    const segs = r.line<Info[]>("segments");
    const cut = segs.find((s) => s.full);
    assert.ok(cut, JSON.stringify(segs));
    judge(path.join(r.sdcard, cut.path.replace(/^\/sdcard\//, "")), { codec: "h264", width: 640, height: 480, frames: cut.frames });
    assert.ok(r.line<Record<string, number>>("stats").dropped > 0);
  });

  for (const codec of ["h264", "h265"] as const) {
    it(`cut-file trial, ${codec}: a file cut at 20 seeded random offsets plays up to the cut, losing at most the last second`, function () {
      this.timeout(300_000);
      const r = runApp(image, ["pull", "--codec", codec, "--frames", "150", "--gop", "30"]);
      assert.equal(r.status, 0, r.stderr);
      const whole = fs.readFileSync(path.join(r.sdcard, "video", "clip.ts"));
      const dir = tmpDir("qcam-ts-cut-");
      const next = rng(codec === "h264" ? 264 : 265);
      // where each frame's PES ends: the byte after its last packet
      const layer = path.join(dir, "whole.ts");
      fs.writeFileSync(layer, whole);
      const starts: number[] = []; // each frame's first packet
      const ends: number[] = []; // the byte after each frame's last packet
      for (let o = 0; o < whole.length; o += 188) {
        const pid = ((whole[o + 1] & 0x1f) << 8) | whole[o + 2];
        if (pid !== 0x100) continue;
        if (whole[o + 1] & 0x40) starts.push(o);
        ends[starts.length - 1] = o + 188;
      }
      assert.equal(starts.length, 150);
      for (let i = 0; i < 20; i++) {
        const cutAt = Math.floor(next() * whole.length);
        const keep = cutAt - (cutAt % 188); // drop the trailing partial packet
        const file = path.join(dir, `cut${i}.ts`);
        fs.writeFileSync(file, whole.subarray(0, keep));
        // frames whose PES ends before the cut (the next PES has begun)
        const complete = ends.filter((e) => e <= keep).length;
        if (complete === 0) continue;
        // A cut inside a frame's PES leaves that frame short of its PES_packet_length:
        // ffmpeg's demuxer flags it corrupt (and no other: continuity holds), and a
        // player that discards corrupt packets decodes every complete frame, silently.
        const midFrame = starts.some((st, k) => st < keep && keep < ends[k]);
        const p = ffprobe(file, ["-fflags", "+discardcorrupt"]);
        assert.ok(p.corrupt <= (midFrame ? 1 : 0), `cut ${i} at ${keep}: ${p.corrupt} corrupt`);
        assert.equal(p.frames, complete, `cut ${i} at ${keep}: frames decoded`);
        assert.ok(complete >= Math.floor((keep / whole.length) * 150) - 30, "at most a second lost");
        const d = spawnSyncChild("ffmpeg", ["-v", "error", "-fflags", "+discardcorrupt", "-i", file, "-f", "null", "-"], { encoding: "utf8" });
        assert.equal(d.status, 0, d.stderr);
        assert.equal(d.stderr, "", `ffmpeg decode of cut ${i} at ${keep}`);
        const v = vlcRead(file);
        assert.deepEqual(v.warnings, [], `VLC's warnings on cut ${i} at ${keep}`);
        assert.equal(v.frames, complete, `cut ${i} at ${keep}: frames VLC reads`);
      }
    });
  }
});

// SIGKILL trials with the recorder app (`npm start -- --container ts`): the
// recorder prints "recording N s, K frames" once a second, K being the frames
// on storage (stats().videoFrames). A transport stream needs no repair: the
// file as the kill left it must hold every frame reported stored, at most
// about a second (one buffered write) and the frames in flight more, and
// play cleanly.
describe("qcam:ts SIGKILL trials with the recorder app (npm start -- --container ts)", function () {
  this.timeout(600000);
  const CLI = path.join(ROOT, "bin", "qcam.mjs");
  let image: string;
  before(async function () {
    this.timeout(300_000);
    image = (await fixture("ts")).image;
  });

  it("4 seeded kills: every stored frame is kept, the file is whole packets and plays", async function () {
    const rnd = rng(0x75);
    for (let i = 0; i < 4; i++) {
      const sd = tmpDir("qcam-ts-kill-");
      try {
        const rec = spawnChild(process.execPath, [CLI, "start", "--sdcard", sd, "--segment", "60", "--codec", i % 2 ? "h265" : "h264", "--container", "ts"], { cwd: ROOT });
        await rec.waitFor(/recording \d+ s, [1-9]\d* frames/); // the first write is on the card
        await new Promise((r) => setTimeout(r, Math.round(rnd() * 2500)));
        killRuntime(rec.child);
        const cut = await rec.done;
        const reported = [...(cut.stdout + cut.stderr).matchAll(/recording \d+ s, (\d+) frames/g)].map((m) => Number(m[1]));
        const stored = reported[reported.length - 1];
        const [name] = fs.readdirSync(path.join(sd, "video")).filter((f) => f.endsWith(".ts"));
        const file = path.join(sd, "video", name);
        assert.equal(fs.statSync(file).size % 188, 0, "whole packets");
        const p = ffprobe(file);
        const say = `trial ${i}: last reported stored ${stored}, kept ${p.frames}`;
        assert.equal(p.corrupt, 0, say);
        assert.ok(p.frames >= stored, `${say}: frames reported stored were lost`);
        assert.ok(p.frames - stored <= 60, `${say}: more than two seconds past the last report`);
        assertDecodesClean(file);
        const v = vlcRead(file);
        assert.deepEqual(v.warnings, [], `${say}: VLC's warnings`);
        // a 1080p frame's PES is too long to give its length, and VLC holds back an unbounded last PES
        assert.ok(v.frames >= Math.min(stored, p.frames - 1), `${say}: VLC reads ${v.frames}`);
        // TsReader: every frame ffprobe reads, at the same times; the last one too unless its PES has
        // no length (a 1080p keyframe) and ends in a packet it fills exactly (no stuffing to end it)
        const got = tsReadWith(image, sd, `/sdcard/video/${name}`);
        assert.equal(got.code, undefined, got.message);
        const ff = probePts(file);
        assert.ok(got.pts!.length === ff.length || got.pts!.length === ff.length - 1, `${say}: TsReader reads ${got.pts!.length}`);
        assert.ok(got.pts!.length >= stored, `${say}: TsReader lost frames reported stored (${got.pts!.length})`);
        assert.deepEqual(got.pts, ff.slice(0, got.pts!.length).map((x) => Math.floor(((x.pts - ff[0].pts) * 100) / 9)), `${say}: TsReader's times`);
      } finally {
        fs.rmSync(sd, { recursive: true, force: true });
      }
    }
  });
});

// TsReader (the runtime's, through the fixture's "read" mode) against
// ffprobe on files the recorder app made: the same frame count, each frame's
// PTS (from the first, to the µs TsReader rounds 90 kHz ticks down to), the
// same keyframes; and on the file cut mid-frame, the frames ffprobe decodes
// when it discards the one cut short.
describe("qcam:ts TsReader (runtime) against ffprobe, on recorder-made files", function () {
  this.timeout(600_000);
  const CLI = path.join(ROOT, "bin", "qcam.mjs");
  let image: string;
  before(async function () {
    this.timeout(300_000);
    image = (await fixture("ts")).image;
  });
  const tsRead = (sd: string, board: string, seek = 0) => tsReadWith(image, sd, board, seek);
  const probe = probePts;

  for (const bf of [0, 2]) {
    it(`probe() of a 10 s ffmpeg-made file (${bf} B-frames, PES without lengths, over 1 MiB: its first frame and its tail) gives TsReader's duration; both agree with ffprobe`, function () {
      const sd = tmpDir("qcam-tsprobe-");
      try {
        const file = path.join(sd, "big.ts");
        const mk = spawnSyncChild("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30", "-t", "10", "-c:v", "libx264", "-b:v", "4M", "-g", "30", "-bf", String(bf), "-threads", "1", "-f", "mpegts", file], { encoding: "utf8" });
        assert.equal(mk.status, 0, mk.stderr);
        assert.ok(fs.statSync(file).size > 2 << 20, `${fs.statSync(file).size} bytes: the tail window is used`);
        const ff = probe(file);
        const got = tsRead(sd, "/sdcard/big.ts");
        assert.equal(got.code, undefined, got.message);
        assert.equal(got.pts!.length, ff.length, "frames");
        assert.equal(got.pts!.length, 300);
        assert.deepEqual(got.pts, ff.map((p) => Math.floor(((p.pts - ff[0].pts) * 100) / 9)), "each frame's PTS");
        assert.deepEqual(got.keys, ff.flatMap((p, i) => (p.key ? [i] : [])), "keyframes");
        assert.ok(Math.abs(got.duration! - 10) < 1e-9, `duration ${got.duration}`);
        assert.deepEqual(got.probe, { codec: "h264", width: 640, height: 480, duration: got.duration }, "probe()");
      } finally {
        fs.rmSync(sd, { recursive: true, force: true });
      }
    });
  }

  for (const codec of ["h264", "h265"] as const) {
    it(`${codec}: frames, PTS and keyframes as ffprobe reads them; seek lands on a keyframe; a cut file reads its complete frames`, async function () {
      const sd = tmpDir("qcam-tsread-");
      try {
        const rec = await run(process.execPath, [CLI, "start", "--sdcard", sd, "--record", "3", "--codec", codec, "--container", "ts", "--resolution", "480p"], { cwd: ROOT });
        assert.equal(rec.code, 0, rec.stderr);
        const [name] = fs.readdirSync(path.join(sd, "video")).filter((f) => f.endsWith(".ts"));
        assert.ok(name, fs.readdirSync(path.join(sd, "video")).join(", "));
        const file = path.join(sd, "video", name);
        const ff = probe(file);
        assert.ok(ff.length >= 60, `${ff.length} frames`);
        const got = tsRead(sd, `/sdcard/video/${name}`, 1.5);
        assert.equal(got.code, undefined, got.message);
        assert.equal(got.pts!.length, ff.length, "frames: TsReader and ffprobe");
        assert.deepEqual(got.pts, ff.map((p) => Math.floor(((p.pts - ff[0].pts) * 100) / 9)), "each frame's PTS");
        assert.deepEqual(got.keys, ff.flatMap((p, i) => (p.key ? [i] : [])), "keyframes");
        assert.deepEqual([got.track!.codec, got.track!.width, got.track!.height, got.track!.samples, got.track!.keyframes], [codec, 854, 480, ff.length, got.keys!.length]);
        const last = ff[ff.length - 1].pts - ff[0].pts;
        assert.ok(Math.abs(got.duration! - (last + (ff[ff.length - 1].pts - ff[ff.length - 2].pts)) / 90000) < 1e-9, `duration ${got.duration}`);
        assert.deepEqual(got.probe, { codec, width: 854, height: 480, duration: got.duration }, "probe()");
        assert.ok(got.keys!.includes(got.seekFrame!), `seek(1.5) → frame ${got.seekFrame}, a keyframe`);
        assert.ok(got.seek! <= 1.5 && got.pts![got.seekFrame!] / 1e6 === got.seek, `seek(1.5) → ${got.seek} s`);
        // cut mid-frame: inside a multi-packet PES, at a packet boundary and not
        const whole = fs.readFileSync(file);
        const starts: number[] = [];
        const ends: number[] = [];
        for (let o = 0; o < whole.length; o += 188) {
          if ((((whole[o + 1] & 0x1f) << 8) | whole[o + 2]) !== 0x100) continue;
          if (whole[o + 1] & 0x40) starts.push(o);
          ends[starts.length - 1] = o + 188;
        }
        const next = rng(codec === "h264" ? 0x264 : 0x265);
        for (let i = 0; i < 3; i++) {
          const k = Math.floor(starts.length / 4 + next() * (starts.length / 2));
          const big = starts.findIndex((st, j) => j >= k && ends[j] - st > 3 * 188); // a frame of several packets
          const keep = starts[big] + 2 * 188; // its first two packets
          fs.writeFileSync(path.join(sd, `cut${i}.ts`), whole.subarray(0, keep));
          fs.writeFileSync(path.join(sd, `cut${i}b.ts`), whole.subarray(0, keep + 77)); // and a partial packet
          const ffCut = probe(path.join(sd, `cut${i}.ts`), ["-fflags", "+discardcorrupt"]);
          assert.equal(ffCut.length, big, `cut ${i} at ${keep}: ffprobe keeps the frames before the one cut`);
          for (const f of [`cut${i}.ts`, `cut${i}b.ts`]) {
            const c = tsRead(sd, `/sdcard/${f}`);
            assert.equal(c.code, undefined, c.message);
            assert.deepEqual(c.pts, got.pts!.slice(0, big), `${f}: the complete frames, at their times`);
          }
        }
      } finally {
        fs.rmSync(sd, { recursive: true, force: true });
      }
    });
  }
});

describe("qcam:ts remux() (runtime)", function () {
  let image: string;
  before(async function () {
    this.timeout(300_000);
    image = (await fixture("ts")).image;
  });

  for (const codec of ["h264", "h265"] as const) {
    it(`remux() of a ${codec} elementary stream: ffprobe sees every frame at 25 fps, a clean decode`, function () {
      const sd = tmpDir("qcam-sd-");
      try {
        const es = path.join(sd, `in.${codec}`);
        const enc = codec === "h264" ? ["-c:v", "libx264"] : ["-c:v", "libx265", "-x265-params", "log-level=error"];
        const mk = spawnSyncChild("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "75", ...enc, "-g", "25", "-bf", "0", "-f", codec === "h264" ? "h264" : "hevc", es], { encoding: "utf8" });
        assert.equal(mk.status, 0, mk.stderr);
        const cmd = runtimeCommand("host", image, { args: ["remux", "--in", `/sdcard/in.${codec}`, "--out", "/sdcard/video/out.ts", "--fps", "25"], sdcard: sd });
        const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120000 });
        assert.equal(r.status, 0, r.stderr);
        const res = JSON.parse(r.stdout.split("\n").find((l) => l.startsWith("remux "))!.slice(6)) as { frames: number; keyframes: number; duration: number; width: number; height: number; size: number };
        assert.deepEqual([res.frames, res.keyframes, res.duration, res.width, res.height], [75, 3, 3, 320, 240]);
        const file = path.join(sd, "video", "out.ts");
        assert.equal(fs.statSync(file).size, res.size);
        const p = ffprobe(file);
        assert.deepEqual([p.codec, p.width, p.height, p.frames, p.corrupt], [FF[codec], 320, 240, 75, 0]);
        const d = spawnSyncChild("ffprobe", ["-v", "error", "-show_entries", "stream=avg_frame_rate", "-of", "csv=p=0", file], { encoding: "utf8" });
        assert.equal(d.stdout.trim().split("\n")[0], "25/1");
        assertDecodesClean(file);
      } finally {
        fs.rmSync(sd, { recursive: true, force: true });
      }
    });
  }
});
