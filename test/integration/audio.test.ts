// qcam:audio on the real runtime: G.711 judged byte for byte against ffmpeg,
// the sim microphone's tone (frequency by zero crossings, timestamps, pacing
// against the runtime's own clock), a WAV source read back exactly, and audio
// through link() into files ffprobe/ffmpeg read.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runtimeCommand } from "../../build/run.ts";
import { assertLinkAddsUp, fixture, type LinkStats, reportLine, spawnSyncChild, tmpDir } from "../helpers.ts";

interface Stats extends LinkStats {
  finished: boolean;
}

function run(flavor: "host" | "asan", image: string, args: string[], sdcard = tmpDir("qcam-sd-")) {
  const cmd = runtimeCommand(flavor, image, { args, sdcard });
  const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120_000 });
  return { ...r, sdcard };
}

function ffmpeg(args: string[]): void {
  const r = spawnSyncChild("ffmpeg", ["-v", "error", "-y", ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, `ffmpeg ${args.join(" ")}: ${r.stderr}`);
}

function samplesOf(file: string): Int16Array {
  const b = fs.readFileSync(file);
  return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function tone(hz: number, rate: number, n: number): number {
  const m = ((n % rate) * hz) % rate;
  const v = 16384 * Math.sin((2.0 * Math.PI * m) / rate);
  return Math.sign(v) * Math.round(Math.abs(v));
}

function zeroCrossings(s: Int16Array): number {
  let n = 0;
  for (let i = 1; i < s.length; i++) if (s[i - 1] < 0 !== s[i] < 0) n++;
  return n;
}

describe("qcam:audio", function () {
  let image: string;
  before(async function () {
    image = (await fixture("audio")).image;
  });

  for (const flavor of ["host", "asan"] as const) {
    it(`G.711 (${flavor}): ffmpeg's bytes for a recording and for all 65536 inputs; our decoding of ffmpeg's bytes is ffmpeg's`, function () {
      const sd = tmpDir("qcam-sd-");
      // Speech-like input: a sweep, noise and every 16-bit value once.
      const sweep = path.join(sd, "sweep.raw");
      ffmpeg(["-f", "lavfi", "-i", "aevalsrc=0.6*sin(2*PI*(200+1800*t)*t)+0.3*(random(0)-0.5):s=8000:d=1", "-f", "s16le", "-ac", "1", "-ar", "8000", sweep]);
      const every = Buffer.alloc(65536 * 2);
      for (let i = 0; i < 65536; i++) every.writeInt16LE(i - 32768, i * 2);
      fs.writeFileSync(path.join(sd, "in.raw"), Buffer.concat([fs.readFileSync(sweep), every]));
      fs.rmSync(sweep);
      const input = path.join(sd, "in.raw");
      for (const [law, fmt, codec] of [["alaw", "alaw", "pcm_alaw"], ["ulaw", "mulaw", "pcm_mulaw"]] as const) {
        ffmpeg(["-f", "s16le", "-ar", "8000", "-ac", "1", "-i", input, "-c:a", codec, "-f", fmt, path.join(sd, `ff.${law}`)]);
      }
      const r = run(flavor, image, ["g711"], sd);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error/);
      const n = fs.statSync(input).size / 2;
      for (const [law, fmt] of [["alaw", "alaw"], ["ulaw", "mulaw"]] as const) {
        const ours = fs.readFileSync(path.join(sd, `ours.${law}`));
        const theirs = fs.readFileSync(path.join(sd, `ff.${law}`));
        assert.equal(ours.length, n);
        assert.ok(ours.equals(theirs), `${law}: our bytes are ffmpeg's (first difference at ${ours.findIndex((b, i) => b !== theirs[i])})`);
        ffmpeg(["-f", fmt, "-ar", "8000", "-ac", "1", "-i", path.join(sd, `ff.${law}`), "-f", "s16le", path.join(sd, `ffdec.${law}.raw`)]);
        const dec = fs.readFileSync(path.join(sd, `ours-dec.${law}.raw`));
        assert.ok(dec.equals(fs.readFileSync(path.join(sd, `ffdec.${law}.raw`))), `${law}: our decoding is ffmpeg's`);
        const f = reportLine<{ codec: string; type: string; size: number; ptsUs: number; same: boolean; decoded: number }>(r.stdout, `frame.${law}`);
        assert.deepEqual(f, { codec: law, type: "audio", size: n, ptsUs: 42, same: true, decoded: n });
      }
    });
  }

  for (const [rate, hz, frameMs] of [[8000, 440, 20], [16000, 1000, 10]] as const) {
    it(`AudioIn tone ${hz} Hz at ${rate} Hz: the frequency, blocks frameMs apart, paced by the runtime's clock`, function () {
      const blocks = 50;
      const r = run("host", image, ["tone", String(rate), String(hz), String(frameMs), String(blocks)]);
      assert.equal(r.status, 0, r.stderr);
      const t = reportLine<{ before: number; after: number; seqs: number[]; stamps: number[]; minLate: number; stats: { captured: number; dropped: number; delivered: number }; tA: number; tB: number; samples: number }>(r.stdout, "tone");
      assert.equal(t.samples, (rate * frameMs) / 1000);
      assert.deepEqual(t.seqs, [...Array(blocks).keys()], "every block, in order");
      assert.deepEqual(t.stamps.map((s) => s - t.stamps[0]), t.seqs.map((k) => k * frameMs * 1000), "timestamps frameMs apart");
      assert.ok(t.stamps[0] >= Math.floor(t.before) && t.stamps[0] <= Math.ceil(t.after), "block 0 starts when the input was made");
      assert.ok(t.minLate >= -1, "no block handed out before it was complete");
      // Captured blocks follow the clock: those complete between the input's start and the stats() call.
      const t0 = t.stamps[0], F = frameMs * 1000;
      assert.ok(t.stats.captured >= Math.floor((t.tA - t0) / F) && t.stats.captured <= Math.floor((t.tB - t0) / F),
        `captured ${t.stats.captured}: between ${Math.floor((t.tA - t0) / F)} and ${Math.floor((t.tB - t0) / F)} by the runtime's clock`);
      assert.ok(t.stats.captured >= blocks + Math.floor(300_000 / F), "blocks fell due while nobody read");
      const waiting = t.stats.captured - t.stats.delivered - t.stats.dropped;
      assert.equal(t.stats.delivered, blocks);
      assert.ok(waiting >= 0 && waiting <= 64, `captured = delivered + dropped + waiting (${waiting})`);
      const s = samplesOf(path.join(r.sdcard, "tone.raw"));
      assert.equal(s.length, blocks * t.samples);
      const seconds = s.length / rate;
      const crossings = zeroCrossings(s);
      assert.ok(Math.abs(crossings - 2 * hz * seconds) <= 2, `${crossings} zero crossings in ${seconds} s: ${crossings / 2 / seconds} Hz`);
      let bad = -1;
      for (let i = 0; i < s.length && bad < 0; i++) if (s[i] !== tone(hz, rate, i)) bad = i;
      assert.equal(bad, -1, "the sim's tone, sample for sample");
      // ffmpeg hears the same frequency: its astats zero-crossing rate.
      const wavFile = path.join(r.sdcard, "tone.wav");
      ffmpeg(["-f", "s16le", "-ar", String(rate), "-ac", "1", "-i", path.join(r.sdcard, "tone.raw"), wavFile]);
      const st = spawnSyncChild("ffmpeg", ["-v", "info", "-i", wavFile, "-af", "astats=measure_overall=Zero_crossings_rate", "-f", "null", "-"], { encoding: "utf8" });
      const zcr = Number(/Zero crossings rate: ([\d.]+)/.exec(st.stderr)?.[1]);
      assert.ok(Math.abs((zcr * rate) / 2 - hz) < hz * 0.01, `ffmpeg: zero-crossing rate ${zcr} → ${(zcr * rate) / 2} Hz`);
    });
  }

  it("a WAV source plays the file's samples exactly (ffmpeg writes it, ffmpeg decodes it)", function () {
    const sd = tmpDir("qcam-sd-");
    ffmpeg(["-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*300*t)+0.2*sin(2*PI*2100*t):s=16000:d=0.73", "-metadata", "title=qcam", "-c:a", "pcm_s16le", "-ac", "1", path.join(sd, "in.wav")]);
    ffmpeg(["-i", path.join(sd, "in.wav"), "-f", "s16le", path.join(sd, "ff.raw")]);
    const r = run("host", image, ["wav", "/sdcard/in.wav", "16000"], sd);
    assert.equal(r.status, 0, r.stderr);
    const w = reportLine<{ blocks: number; sizes: number[]; stats: { captured: number; dropped: number; delivered: number } }>(r.stdout, "wav");
    const want = fs.readFileSync(path.join(sd, "ff.raw"));
    const got = fs.readFileSync(path.join(sd, "wav-out.raw"));
    assert.equal(got.length, want.length, "every sample");
    assert.ok(got.equals(want), "sample for sample");
    assert.equal(w.blocks, Math.ceil(want.length / 2 / 320));
    assert.deepEqual(w.stats, { captured: w.blocks, dropped: 0, delivered: w.blocks });
  });

  for (const [codec, fmt, name] of [["alaw", "alaw", "pcm_alaw"], ["ulaw", "mulaw", "pcm_mulaw"]] as const) {
    it(`link(mic, ${codec} encoder, EsFileSink): a ${codec} file ffprobe reads, one second of the tone, counts that add up`, function () {
      const r = run("host", image, ["link", codec, "50"]);
      assert.equal(r.status, 0, r.stderr);
      const s = reportLine<Stats>(r.stdout, "final");
      assertLinkAddsUp(s);
      assert.deepEqual([s.framesIn, s.framesEncoded, s.framesOut, s.finished], [50, 50, 50, true]);
      assert.deepEqual(reportLine<{ frames: number; bytes: number }>(r.stdout, "sink").frames, 50);
      const file = path.join(r.sdcard, `mic.${codec}`);
      assert.equal(fs.statSync(file).size, 50 * 160);
      const p = spawnSyncChild("ffprobe", ["-v", "error", "-f", fmt, "-ar", "8000", "-ac", "1", "-show_entries", "stream=codec_name,sample_rate,channels,duration", "-of", "json", file], { encoding: "utf8" });
      assert.equal(p.status, 0, p.stderr);
      const st = (JSON.parse(p.stdout) as { streams: { codec_name: string; sample_rate: string; channels: number; duration: string }[] }).streams[0];
      assert.deepEqual([st.codec_name, st.sample_rate, st.channels, Number(st.duration)], [name, "8000", 1, 1]);
      ffmpeg(["-f", fmt, "-ar", "8000", "-ac", "1", "-i", file, "-f", "s16le", `${file}.raw`]);
      const dec = samplesOf(`${file}.raw`);
      assert.equal(dec.length, 8000);
      assert.ok(Math.abs(zeroCrossings(dec) - 880) <= 2, `440 Hz: ${zeroCrossings(dec)} zero crossings in 1 s`);
    });
  }

  for (const flavor of ["host", "asan"] as const) {
    it(`one EsFileSink fed by a video link and an audio link at once (${flavor})`, function () {
      const r = run(flavor, image, ["both"]);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error/);
      const v = reportLine<Stats>(r.stdout, "video"), a = reportLine<Stats>(r.stdout, "audio");
      assertLinkAddsUp(v);
      assertLinkAddsUp(a);
      assert.deepEqual([v.sinkFrames[0], a.sinkFrames[0]], [20, 25]);
      const sink = reportLine<{ frames: number; bytes: number }>(r.stdout, "sink");
      assert.equal(sink.frames, 45);
      assert.equal(fs.statSync(path.join(r.sdcard, "both.bin")).size, sink.bytes);
    });
  }

  it("the runtime under ASan: tone, WAV and link modes leave no leak and no UB", function () {
    const sd = tmpDir("qcam-sd-");
    ffmpeg(["-f", "lavfi", "-i", "sine=f=500:r=8000:d=0.3", "-c:a", "pcm_s16le", "-ac", "1", path.join(sd, "in.wav")]);
    for (const args of [["tone", "8000", "440", "20", "10"], ["wav", "/sdcard/in.wav", "8000"], ["link", "alaw", "10"]]) {
      const r = run("asan", image, args, sd);
      assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error/, args.join(" "));
    }
  });
});
