// qcam:mp4's reader and repair on the real runtime (test/fixtures/mp4-reader),
// judged against tools we did not write: files made by ffmpeg (regular and
// fragmented, H.264/H.265, with G.711 audio in .mov — ffmpeg's mp4 muxer has
// no tag for it), ffprobe's packets (count, size, position, keyframe flag,
// timestamps) and ffmpeg decoding what read() hands out and what repair()
// leaves. Truncated and malformed files also run on the ASan+UBSan build and
// on riscv64 under qemu. The parser alone is fuzzed by
// test/integration/fuzz.test.ts (target host-modules/mp4/fuzz_mp4.c, seeds
// test/fuzz-mp4.ts); crash trials are in mp4-crash.test.ts.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, buildDir, type Flavor } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import { CLIPS, clipFile, fragments, mp4Seeds, prng, probePackets, topBoxes, type Clip, type Packet } from "../fuzz-mp4.ts";
import { assertDecodesClean, fixture, run as runChild, spawnSyncChild, tmpDir } from "../helpers.ts";

interface TrackInfo {
  id: number;
  kind: string;
  codec: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  timescale: number;
  duration: number;
  samples: number;
}
type Row = [index: number, dts: number, pts: number, dur: number, key: number, size: number, offset: number];

describe("qcam:mp4 Mp4Reader and repair (test/fixtures/mp4-reader)", function () {
  this.timeout(300000);
  let image: string;
  let sd: string;
  const board = (c: Clip) => `/sdcard/${c.name}.${c.ext}`;

  before(async function () {
    image = (await fixture("mp4-reader")).image;
    sd = tmpDir("qcam-mp4r-");
    for (const c of CLIPS) fs.copyFileSync(clipFile(c), path.join(sd, `${c.name}.${c.ext}`));
  });
  after(() => fs.rmSync(sd, { recursive: true, force: true }));

  let rvImage: string | undefined;
  function run(args: string[], opts: { flavor?: Flavor; sd?: string } = {}): unknown[] {
    const flavor = opts.flavor ?? "host";
    const cmd = runtimeCommand(flavor, flavor === "riscv64" ? rvImage! : image, { sdcard: opts.sd ?? sd, args });
    const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 240000, maxBuffer: 256 << 20 });
    if (r.error) throw r.error;
    assert.equal(r.status, 0, `${args.join(" ")}: exit ${r.status}\n${r.stdout.slice(-2000)}\n${r.stderr}`);
    assert.equal(r.stderr, "", `${args.join(" ")} wrote to stderr`);
    return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
  }

  const probeStreams = (file: string) => {
    const r = spawnSyncChild("ffprobe", ["-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height,sample_rate,channels,duration", "-of", "json", file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { streams: Record<string, string | number>[] }).streams;
  };

  const near = (a: number, b: number) => Math.abs(a - b) <= 2;

  for (const c of CLIPS) {
    it(`${c.name}: tracks and samples are what ffprobe finds`, function () {
      const file = path.join(sd, `${c.name}.${c.ext}`);
      const lines = run(["info", board(c)]);
      const info = lines[0] as { fragmented: boolean; duration: number; tracks: TrackInfo[] };
      const pk = probePackets(file);
      const st = probeStreams(file);
      assert.equal(info.fragmented, c.fragmented);
      assert.equal(info.tracks.length, c.audio ? 2 : 1);
      const v = info.tracks.find((t) => t.kind === "video")!;
      const vs = st.find((s) => s.codec_type === "video")!;
      assert.equal(v.codec, c.video);
      assert.equal(vs.codec_name, c.video === "h264" ? "h264" : "hevc");
      assert.equal(v.width, Number(vs.width));
      assert.equal(v.height, Number(vs.height));
      const vp = pk.filter((p) => p.stream === "video");
      assert.equal(v.samples, vp.length);
      const rows = (lines.find((l) => (l as { track?: number }).track === v.id) as { samples: Row[] }).samples;
      // Decode order, sizes, positions and keyframes: packet by packet.
      assert.deepEqual(rows.map((r) => r[5]), vp.map((p) => p.size));
      assert.deepEqual(rows.map((r) => r[6]), vp.map((p) => p.pos));
      assert.deepEqual(rows.map((r) => r[4] === 1), vp.map((p) => p.key));
      // Timestamps as ffprobe gives them: the edit list applied (the B-frame clip's
      // starts presenting at its reorder delay: pts from 0, dts below 0).
      rows.forEach((r, i) => {
        assert.ok(near(r[1], vp[i].dtsTime * 1e6), `dts of sample ${i}: ${r[1]} vs ffprobe ${vp[i].dtsTime}`);
        assert.ok(near(r[2], vp[i].ptsTime * 1e6), `pts of sample ${i}: ${r[2]} vs ffprobe ${vp[i].ptsTime}`);
        assert.equal(r[0], i);
      });
      if (c.name === "h264-regular-bframes") assert.ok(rows[0][1] < 0 && rows[0][2] === 0, `edit list applied: first dts ${rows[0][1]}, pts ${rows[0][2]}`);
      assert.ok(Math.abs(v.duration - Number(vs.duration)) < 1e-3, `video duration ${v.duration} vs ffprobe ${vs.duration}`);
      if (c.audio) {
        const a = info.tracks.find((t) => t.kind === "audio")!;
        const as = st.find((s) => s.codec_type === "audio")!;
        assert.equal(a.codec, c.audio);
        assert.equal(as.codec_name, c.audio === "alaw" ? "pcm_alaw" : "pcm_mulaw");
        assert.equal(a.sampleRate, Number(as.sample_rate));
        assert.equal(a.channels, Number(as.channels));
        const ap = pk.filter((p) => p.stream === "audio");
        const arows = (lines.find((l) => (l as { track?: number }).track === a.id) as { samples: Row[] }).samples;
        // The same bytes: one byte per sample, as many as ffprobe's packets hold, from the same places.
        assert.equal(arows.reduce((n, r) => n + r[5], 0), ap.reduce((n, p) => n + p.size, 0));
        assert.deepEqual(arows.map((r) => [r[5], r[6]]), ap.map((p) => [p.size, p.pos]));
        arows.forEach((r, i) => assert.ok(near(r[2], ap[i].ptsTime * 1e6), `audio pts of sample ${i}: ${r[2]} vs ffprobe ${ap[i].ptsTime}`));
        assert.ok(Math.abs(a.duration - Number(as.duration)) < 1e-3, `audio duration ${a.duration} vs ffprobe ${as.duration}`);
        assert.ok(Math.abs(info.duration - Math.max(a.duration, v.duration)) < 1e-9);
      }
      // samples() without a track: every sample once, by decode time.
      const all = (lines.at(-1) as { all: [number, number, number][] }).all;
      assert.equal(all.length, info.tracks.reduce((n, t) => n + t.samples, 0));
      for (let i = 1; i < all.length; i++) assert.ok(all[i][2] >= all[i - 1][2], "interleaved by decode time");
      for (const t of info.tracks) assert.deepEqual(all.filter((s) => s[0] === t.id).map((s) => s[1]), [...Array(t.samples).keys()]);
    });
  }

  for (const c of CLIPS) {
    it(`${c.name}: read() gives Annex B access units that ffmpeg decodes, parameter sets on keyframes`, function () {
      const es = `${c.name}.${c.video}`;
      const lines = run(["read", board(c), `/sdcard/${es}`]) as { codec: string; type: string; key: boolean; dts: number; seq: number; end?: boolean }[];
      assert.deepEqual(lines.at(-1), { end: true });
      const frames = lines.slice(0, -1);
      const vp = probePackets(path.join(sd, `${c.name}.${c.ext}`)).filter((p) => p.stream === "video");
      assert.ok(vp.length > 0, c.name);
      assert.equal(frames.length, vp.length);
      assert.deepEqual(frames.map((f) => f.seq), [...vp.keys()]);
      assert.deepEqual(frames.map((f) => f.key), vp.map((p) => p.key));
      assert.ok(frames.every((f) => f.codec === c.video && (f.key ? f.type === "I" : f.type !== "header")));
      const file = path.join(sd, es);
      const r = spawnSyncChild("ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=codec_name,width,height,nb_read_frames:frame=key_frame", "-of", "json", file], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { streams: { nb_read_frames: string; width: number }[]; frames: { key_frame: number }[] };
      assert.equal(Number(j.streams[0].nb_read_frames), vp.length);
      assert.equal(j.streams[0].width, 64);
      assertDecodesClean(file);
      // Each keyframe alone starts a decodable stream: its parameter sets are in-band.
      const b = fs.readFileSync(file);
      const sps = c.video === "h264" ? [0x67] : [0x40, 0x42, 0x44];
      for (const t of sps) assert.ok(b.includes(Buffer.from([0, 0, 0, 1, t])), `start code + NAL header ${t.toString(16)} in the stream`);
    });
  }

  it("files qcam's writer made (finalized and fragmented, with G.711 audio) read as ffprobe reads them", function () {
    const es = path.join(sd, "w-in.h264");
    let r = spawnSyncChild("ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "30", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-bf", "0", "-g", "10", es], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const tool = path.join(buildDir("host"), "qcam-test-mp4");
    for (const [name, audio, fin] of [["w-final.mp4", "alaw", "1"], ["w-frag.mp4", "ulaw", "0"]]) {
      r = spawnSyncChild(tool, ["write", sd, `/sdcard/${name}`, es, "h264", "30", "10", audio, "8000", `finalize=${fin}`], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const lines = run(["info", `/sdcard/${name}`]);
      const info = lines[0] as { fragmented: boolean; tracks: TrackInfo[] };
      assert.equal(info.fragmented, fin === "0");
      const pk = probePackets(path.join(sd, name));
      assert.deepEqual(info.tracks.map((t) => t.kind), ["video", "audio"], name);
      for (const t of info.tracks) {
        const rows = (lines.find((l) => (l as { track?: number }).track === t.id) as { samples: Row[] }).samples;
        const want = pk.filter((p) => p.stream === t.kind);
        assert.ok(want.length > 0, `${name} ${t.kind}: no packets`);
        assert.equal(t.codec, t.kind === "video" ? "h264" : audio);
        assert.deepEqual(rows.map((x) => [x[5], x[6], x[4] === 1]), want.map((p) => [p.size, p.pos, p.key]), `${name} ${t.kind}`);
        rows.forEach((x, i) => assert.ok(near(x[2], want[i].ptsTime * 1e6), `${name} ${t.kind} pts of sample ${i}: ${x[2]} vs ffprobe ${want[i].ptsTime}`));
        assert.ok(Math.abs(t.duration - 3) < 1e-6, `${name} ${t.kind} lasts ${t.duration} s`);
      }
    }
  });

  it("audio that starts 100 ms after the video: finalized (edit list) and fragmented (tfdt) read the same start times as ffprobe", function () {
    const es = path.join(sd, "w-in.h264");
    if (!fs.existsSync(es)) {
      const r = spawnSyncChild("ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "30", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-bf", "0", "-g", "10", es], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
    }
    const tool = path.join(buildDir("host"), "qcam-test-mp4");
    const starts: number[][] = [];
    for (const fin of ["1", "0"]) {
      const name = `w-late-${fin}.mp4`;
      const r = spawnSyncChild(tool, ["write", sd, `/sdcard/${name}`, es, "h264", "30", "10", "alaw", "8000", "audio-start=100000", `finalize=${fin}`], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const lines = run(["info", `/sdcard/${name}`]);
      const info = lines[0] as { fragmented: boolean; tracks: TrackInfo[] };
      assert.equal(info.fragmented, fin === "0");
      const pk = probePackets(path.join(sd, name));
      const first: number[] = [];
      for (const t of info.tracks) {
        const rows = (lines.find((l) => (l as { track?: number }).track === t.id) as { samples: Row[] }).samples;
        const want = pk.filter((p) => p.stream === t.kind);
        assert.equal(rows.length, want.length, `${name} ${t.kind}`);
        rows.forEach((x, i) => {
          assert.ok(near(x[2], want[i].ptsTime * 1e6), `${name} ${t.kind} pts of sample ${i}: ${x[2]} vs ffprobe ${want[i].ptsTime}`);
          assert.ok(near(x[1], want[i].dtsTime * 1e6), `${name} ${t.kind} dts of sample ${i}: ${x[1]} vs ffprobe ${want[i].dtsTime}`);
        });
        first.push(rows[0][2]);
      }
      assert.deepEqual(first, [0, 100000], `${name}: video at 0, audio at 100 ms`);
      starts.push(first);
    }
    assert.deepEqual(starts[0], starts[1]);
  });

  it("read() of a G.711 track gives alaw/ulaw Frames holding the track's bytes", function () {
    const withAudio = CLIPS.filter((x) => x.audio);
    assert.ok(withAudio.length >= 2, "clips with an audio track");
    for (const c of withAudio) {
      const info = run(["info", board(c)])[0] as { tracks: TrackInfo[] };
      const a = info.tracks.find((t) => t.kind === "audio")!;
      const lines = run(["read", board(c), `/sdcard/${c.name}.raw`, String(a.id)]) as { codec: string; type: string; key: boolean; pts: number }[];
      const frames = lines.slice(0, -1);
      assert.ok(frames.length > 0 && frames.every((f) => f.codec === c.audio && f.type === "audio" && f.key));
      for (let i = 1; i < frames.length; i++) assert.ok(frames[i].pts > frames[i - 1].pts);
      const ref = path.join(sd, `${c.name}.ref.raw`);
      const r = spawnSyncChild("ffmpeg", ["-v", "error", "-y", "-i", path.join(sd, `${c.name}.${c.ext}`), "-map", "0:a", "-c", "copy", "-f", c.audio === "alaw" ? "alaw" : "mulaw", ref], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(fs.readFileSync(path.join(sd, `${c.name}.raw`)).equals(fs.readFileSync(ref)), `${c.name}: audio bytes differ from ffmpeg's`);
    }
  });

  it("the qcam Decoder decodes what read() hands out", function () {
    const clips = CLIPS.filter((x) => ["h264-regular-bframes", "h265-regular", "h265-alaw-frag"].includes(x.name));
    assert.equal(clips.length, 3);
    for (const c of clips) {
      const vp = probePackets(path.join(sd, `${c.name}.${c.ext}`)).filter((p) => p.stream === "video");
      assert.ok(vp.length > 0, c.name);
      assert.deepEqual(run(["decode", board(c)])[0], { pictures: vp.length, sizes: ["64x48"] });
    }
  });

  it("seek() moves read() to the keyframe at or before a time", function () {
    const c = CLIPS.find((x) => x.name === "h264-frag")!; // keyframes at 0, 0.5, 1.0 s
    const lines = run(["seek", board(c), "0", "0.49", "0.5", "0.99", "1.05", "100", "-3", "0.7"]) as { to: number; at: number; pts: number; key: boolean; seq: number }[];
    assert.deepEqual(lines.map((l) => [l.to, l.at, l.pts, l.key, l.seq]), [
      [0, 0, 0, true, 0],
      [0.49, 0, 0, true, 0],
      [0.5, 0.5, 500000, true, 5],
      [0.99, 0.5, 500000, true, 5],
      [1.05, 1, 1000000, true, 10],
      [100, 1, 1000000, true, 10],
      [-3, 0, 0, true, 0],
      [0.7, 0.5, 500000, true, 5],
    ]);
  });

  it("argument checks, ENOENT, close twice, use after close", function () {
    const c = CLIPS.find((x) => x.name === "h264-frag")!;
    const [e, after] = run(["errors", board(c)]) as Record<string, string>[];
    assert.deepEqual(e, {
      noPath: "TypeError:ERR_INVALID_ARG:new Mp4Reader(path: string)",
      missing: "Error:ENOENT:open /sdcard/missing.mp4: No such file or directory",
      notBoard: "Error:EINVAL:open /etc/passwd: Invalid argument",
      badTrack: `RangeError:ERR_INVALID_ARG:samples: ${board(c)} has no track 99`,
      badSeek: "TypeError:ERR_INVALID_ARG:seek(seconds: number, track?: number)",
      badRepairOpt: "TypeError:ERR_INVALID_ARG:repair: finalize must be a boolean",
      repairMissing: "Error:ENOENT:repair /sdcard/missing.mp4: No such file or directory",
    });
    assert.deepEqual(after, { afterClose: "TypeError:ERR_CLOSED:Mp4Reader is closed", closeTwice: "ok" });
  });

  /** Files cut every `step` bytes, and what reading each must give. */
  function cuts(c: Clip, step: number): { name: string; want: number | "EBADMSG" }[] {
    const b = fs.readFileSync(clipFile(c));
    const frags = c.fragmented ? fragments(b, probePackets(clipFile(c))) : [];
    const moovEnd = topBoxes(b).find((x) => x.type === "moov")!.end;
    const out: { name: string; want: number | "EBADMSG" }[] = [];
    for (let at = 0; at < b.length; at += step) {
      const name = `cut-${c.name}-${at}.${c.ext}`;
      fs.writeFileSync(path.join(sd, name), b.subarray(0, at));
      if (!c.fragmented || at < moovEnd) out.push({ name, want: "EBADMSG" });
      else out.push({ name, want: frags.filter((f) => f.end <= at).reduce((n, f) => n + f.video, 0) });
    }
    return out;
  }

  for (const flavor of ["host", "asan", "riscv64"] as const) {
    it(`${flavor}: files truncated at many offsets read as their complete fragments, or fail with EBADMSG; never a crash`, async function () {
      if (flavor === "riscv64") rvImage ??= (await fixture("mp4-reader", "riscv64")).image;
      const clips = CLIPS.filter((c) => ["h264-frag", "h264-faststart", "h265-alaw-frag", "h264-ulaw-frag"].includes(c.name));
      assert.equal(clips.length, 4);
      const list = clips.flatMap((c) => cuts(c, flavor === "host" ? 53 : 211));
      assert.ok(list.some((x) => x.want === "EBADMSG") && list.some((x) => typeof x.want === "number" && x.want > 0), "cuts both before and after complete fragments");
      const got = run(["open", ...list.map((x) => `/sdcard/${x.name}`)], { flavor }) as { path: string; result: string; samples: number }[];
      assert.equal(got.length, list.length);
      list.forEach((x, i) => {
        const g = got[i];
        if (x.want === "EBADMSG") assert.match(g.result, /^Error:EBADMSG:mp4: .+, in \/sdcard\/cut-/, `${x.name}: ${g.result}`);
        else assert.deepEqual([g.result, g.samples], ["no error", x.want], x.name);
      });
    });

    it(`${flavor}: malformed files (bad sizes, loops, huge counts) fail with EBADMSG naming the problem`, async function () {
      if (flavor === "riscv64") rvImage ??= (await fixture("mp4-reader", "riscv64")).image;
      const bad = mp4Seeds().filter((s) => s.expect.result === -74);
      assert.ok(bad.length >= 20);
      for (const s of bad) fs.writeFileSync(path.join(sd, `bad-${s.name}`), s.data);
      const got = run(["open", ...bad.map((s) => `/sdcard/bad-${s.name}`)], { flavor }) as { path: string; result: string }[];
      bad.forEach((s, i) => assert.match(got[i].result, /^Error:EBADMSG:mp4: \S.+, in \/sdcard\/bad-/, s.name));
      const msg = (n: string) => got[bad.findIndex((s) => s.name === n)].result;
      assert.match(msg("h264-faststart-stts-count-plus-1"), /mp4: stsz sample count 12 does not match stts 13 \(track 1\)/);
      assert.match(msg("h264-faststart-stsz-count-plus-1"), /mp4: stsz sample count 13 at offset \d+ is more than its 48 bytes hold/);
      assert.match(msg("h264-faststart-stsz-count-huge"), /mp4: stsz sample count 4294967295 at offset \d+ is more than its \d+ bytes hold/);
      assert.match(msg("h264-faststart-stco-past-end"), /mp4: sample 0 of track 1 \(offset \d+, \d+ bytes\) lies past the end of the file/);
      assert.match(msg("h264-frag-trun-count-huge"), /mp4: trun sample count 4294967295 at offset \d+ is more than its box holds/);
      assert.match(msg("h264-frag-moof-before-moov"), /mp4: moof at offset \d+ before the moov/);
      assert.equal(msg("not-mp4"), "Error:EBADMSG:mp4: not an MP4 file (it starts with 'RIFF', not an ftyp box), in /sdcard/bad-not-mp4");
      assert.match(msg("empty"), /mp4: the file is empty/);
    });
  }

  it("asan: info, read(), seek(), the Decoder, errors and repair() run clean (no leak, no undefined behaviour)", function () {
    const asanSd = tmpDir("qcam-mp4r-asan-");
    try {
      for (const c of CLIPS) fs.copyFileSync(clipFile(c), path.join(asanSd, `${c.name}.${c.ext}`));
      const fr = CLIPS.find((x) => x.name === "h265-alaw-frag")!;
      const b = fs.readFileSync(clipFile(fr));
      fs.writeFileSync(path.join(asanSd, "torn.mov"), b.subarray(0, b.length - 999));
      for (const c of CLIPS) {
        run(["info", board(c)], { flavor: "asan", sd: asanSd });
        run(["read", board(c), "/sdcard/out.es"], { flavor: "asan", sd: asanSd });
      }
      run(["read", board(fr), "/sdcard/out.raw", "2"], { flavor: "asan", sd: asanSd });
      run(["seek", board(fr), "0", "0.7", "9"], { flavor: "asan", sd: asanSd });
      run(["decode", board(fr)], { flavor: "asan", sd: asanSd });
      run(["errors", board(fr)], { flavor: "asan", sd: asanSd });
      const [r] = run(["repair", "default", "/sdcard/torn.mov"], { flavor: "asan", sd: asanSd }) as { status: string }[];
      assert.equal(r.status, "repaired");
      assertDecodesClean(path.join(asanSd, "torn.mov"));
    } finally {
      fs.rmSync(asanSd, { recursive: true, force: true });
    }
  });

  it("repair of fragmented files cut at random offsets (seeded): the complete fragments, playable", function () {
    const rnd = prng(0x6d703472);
    const jobs: { name: string; c: Clip; at: number; want: number; finalize: boolean; status: string; end: number }[] = [];
    for (const c of CLIPS.filter((x) => x.fragmented)) {
      const b = fs.readFileSync(clipFile(c));
      const frags = fragments(b, probePackets(clipFile(c)));
      const moovEnd = topBoxes(b).find((x) => x.type === "moov")!.end;
      for (let k = 0; k < 12; k++) {
        const at = Math.floor(rnd() * b.length);
        const done = frags.filter((f) => f.end <= at);
        const want = done.reduce((n, f) => n + f.video, 0);
        const finalize = k % 3 !== 2;
        const name = `rep-${c.name}-${at}-${finalize}.${c.ext}`;
        fs.writeFileSync(path.join(sd, name), b.subarray(0, at));
        // The torn tail starts at the first incomplete fragment's moof, or else
        // at the first top-level box the cut runs through (e.g. the mfra).
        const cutBox = topBoxes(b).find((x) => x.start < at && x.end > at);
        const end = done.length < frags.length ? frags[done.length].moof : cutBox ? cutBox.start : at;
        const torn = end < at;
        const status = at < moovEnd ? "unrecoverable" : !torn && !finalize ? "ok" : want === 0 ? "unrecoverable" : "repaired";
        jobs.push({ name, c, at, want, finalize, status, end });
      }
    }
    for (const finalize of [true, false]) {
      const mine = jobs.filter((j) => j.finalize === finalize);
      assert.ok(["repaired", "unrecoverable"].every((st) => mine.some((j) => j.status === st)), `cuts that repair and cuts that cannot: ${mine.map((j) => j.status)}`);
      const before = new Map(mine.map((j) => [j.name, fs.readFileSync(path.join(sd, j.name))]));
      const got = run(["repair", String(finalize), ...mine.map((j) => `/sdcard/${j.name}`)]) as { status: string; droppedBytes: number; videoFrames: number; reason?: string }[];
      mine.forEach((j, i) => {
        const g = got[i];
        const file = path.join(sd, j.name);
        assert.equal(g.status, j.status, `${j.name}: ${JSON.stringify(g)}`);
        if (j.status !== "repaired") {
          if (j.status === "unrecoverable") assert.match(g.reason ?? "", /^(mp4: |no complete fragment)/);
          assert.ok(fs.readFileSync(file).equals(before.get(j.name)!), `${j.name} was changed`);
          return;
        }
        assert.equal(g.videoFrames, j.want, j.name);
        assert.equal(g.droppedBytes, j.at - j.end, j.name);
        if (!finalize) assert.equal(fs.statSync(file).size, j.end, `${j.name}: truncated at the torn fragment`);
        const pk = probePackets(file);
        assert.equal(pk.filter((p: Packet) => p.stream === "video").length, j.want, `${j.name}: ffprobe's video packets`);
        if (finalize) assert.equal(topBoxes(fs.readFileSync(file)).filter((x) => x.type === "moof").length, 0, `${j.name}: finalized`);
        assertDecodesClean(file);
      });
    }
  });

  it("qcam repair <file...>: says what it did per file; exit 1 when one cannot be mended", async function () {
    const dir = tmpDir("qcam-repair-cli-");
    try {
      const frag = fs.readFileSync(clipFile(CLIPS.find((x) => x.name === "h264-ulaw-frag")!));
      const pk = probePackets(clipFile(CLIPS.find((x) => x.name === "h264-ulaw-frag")!));
      const fr = fragments(frag, pk);
      const at = fr[1].end - 100; // inside the second fragment's mdat
      fs.writeFileSync(path.join(dir, "torn.mov"), frag.subarray(0, at));
      fs.writeFileSync(path.join(dir, "torn2.mov"), frag.subarray(0, at));
      fs.copyFileSync(clipFile(CLIPS.find((x) => x.name === "h265-regular")!), path.join(dir, "fine.mp4"));
      fs.writeFileSync(path.join(dir, "junk.mp4"), "not a video");
      const cli = async (args: string[]) => {
        const x = await runChild(process.execPath, [path.join(ROOT, "bin", "qcam.mjs"), "repair", ...args], { cwd: dir });
        return { status: x.code, stdout: x.stdout, stderr: x.stderr };
      };
      let r = await cli(["torn.mov", "fine.mp4"]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.match(lines[0], new RegExp(`^torn\\.mov: repaired: dropped ${at - fr[1].moof} bytes \\(incomplete fragment at offset ${fr[1].moof}: truncated mdat at offset \\d+ \\(\\d+ of \\d+ bytes\\)\\), finalized into a regular MP4; ${fr[0].video} video frames, ${fr[0].audio} audio frames, [\\d.]+ s$`));
      assert.equal(lines[1], "fine.mp4: ok: 12 video frames, 0 audio frames, 1.200 s");
      assert.equal(probePackets(path.join(dir, "torn.mov")).filter((p) => p.stream === "video").length, fr[0].video);
      assertDecodesClean(path.join(dir, "torn.mov"));
      r = await cli(["--no-finalize", path.join(dir, "torn2.mov"), "junk.mp4", "missing.mp4"]);
      assert.equal(r.status, 1);
      const l2 = r.stdout.trim().split("\n");
      assert.match(l2[0], /torn2\.mov: repaired: dropped \d+ bytes \(.*\), kept fragmented; /);
      assert.equal(fs.statSync(path.join(dir, "torn2.mov")).size, fr[1].moof);
      assert.equal(l2[1], "junk.mp4: unrecoverable: mp4: not an MP4 file (it starts with 'not ', not an ftyp box) (left as it was)");
      assert.equal(l2[2], "missing.mp4: error: No such file or directory");
      assert.equal(fs.readFileSync(path.join(dir, "junk.mp4"), "utf8"), "not a video");
      assert.deepEqual(fs.readdirSync(dir).sort(), ["fine.mp4", "junk.mp4", "torn.mov", "torn2.mov"]); // nothing left behind
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("repair leaves a regular file alone (ok), and a fragmented one ok with finalize: false", function () {
    const reg = CLIPS.find((x) => x.name === "h265-regular")!;
    const frag = CLIPS.find((x) => x.name === "h264-frag")!;
    const b = fs.readFileSync(path.join(sd, `${reg.name}.${reg.ext}`));
    const [r] = run(["repair", "default", board(reg)]) as { status: string; videoFrames: number }[];
    assert.deepEqual([r.status, r.videoFrames], ["ok", 12]);
    assert.ok(fs.readFileSync(path.join(sd, `${reg.name}.${reg.ext}`)).equals(b));
    const [f] = run(["repair", "false", board(frag)]) as { status: string; droppedBytes: number; videoFrames: number; audioFrames: number; duration: number }[];
    assert.deepEqual(f, { path: board(frag), status: "ok", droppedBytes: 0, videoFrames: 12, audioFrames: 0, duration: 1.2 });
  });
});
