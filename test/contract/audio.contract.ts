// qcam:audio's contract, on a 1 MiB SD card. The microphone runs in real time
// on the runtime and on virtual time in the stub: cases read blocks and check
// what must hold either way — sample values (the tone formula, a WAV's exact
// samples), timestamps frameMs apart, a block never handed out before it is
// complete, counts that add up (captured = delivered + dropped + waiting) —
// and never how long anything took. G.711 bytes are held to hashes of what
// ffmpeg's pcm_alaw / pcm_mulaw give for all 65536 inputs.
import { app, time } from "qcam:app";
import * as audioModule from "qcam:audio";
import { AudioEncoder, AudioIn, Pcm, decodeFrame, g711Decode, g711Encode, type AudioInStats } from "qcam:audio";
import { Camera } from "qcam:camera";
import * as fs from "qcam:fs";
import { EsFileSink, link, type LinkStats, type Pipe } from "qcam:link";
import { Decoder, Encoder, splitAccessUnits } from "qcam:video";
import { contract, deepEq, descriptor, eq, ok, throws } from "./kit.ts";

type AnyFn = (...args: unknown[]) => unknown;
const dispose = (Symbol as unknown as { dispose: symbol }).dispose;
const TYPE = (message: string) => ({ name: "TypeError", code: "ERR_INVALID_ARG", message });
const RANGE = (message: string) => ({ name: "RangeError", code: "ERR_INVALID_ARG", message });
const BUSY = (message: string) => ({ name: "Error", code: "ERR_BUSY", message });

/** The sim's tone: round(16384 sin(2 pi f n / rate)), halves away from zero. */
function tone(hz: number, rate: number, n: number): number {
  const m = ((n % rate) * hz) % rate;
  const v = 16384 * Math.sin((2.0 * Math.PI * m) / rate);
  return Math.sign(v) * Math.round(Math.abs(v));
}

function fnv(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A WAV file: 16-bit PCM unless `tag`/`bits` say otherwise. */
function wav(rate: number, channels: number, samples: Int16Array, opts: { tag?: number; bits?: number; extra?: Uint8Array } = {}): Uint8Array {
  const bits = opts.bits ?? 16;
  const data = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  const extra = opts.extra ?? new Uint8Array(0);
  const out = new Uint8Array(44 + extra.length + data.length);
  const dv = new DataView(out.buffer);
  const put4 = (o: number, s: string) => [...s].forEach((c, i) => (out[o + i] = c.charCodeAt(0)));
  put4(0, "RIFF");
  dv.setUint32(4, out.length - 8, true);
  put4(8, "WAVE");
  put4(12, "fmt ");
  dv.setUint32(16, 16, true);
  dv.setUint16(20, opts.tag ?? 1, true);
  dv.setUint16(22, channels, true);
  dv.setUint32(24, rate, true);
  dv.setUint32(28, (rate * channels * bits) / 8, true);
  dv.setUint16(32, (channels * bits) / 8, true);
  dv.setUint16(34, bits, true);
  out.set(extra, 36); // e.g. a LIST chunk to skip
  put4(36 + extra.length, "data");
  dv.setUint32(40 + extra.length, data.length, true);
  out.set(data, 44 + extra.length);
  return out;
}

/** Samples whose every value differs: a file read back at the wrong place shows. */
function ramp(n: number): Int16Array {
  const s = new Int16Array(n);
  for (let i = 0; i < n; i++) s[i] = ((i * 2654435761) >>> 16) - 32768;
  return s;
}

function waitFor(done: () => boolean, ms = 10_000): void {
  const t0 = time.ticksMs();
  while (!done() && time.ticksMs() - t0 < ms) {
    app.needExit();
    time.sleepMs(5);
  }
}

function statsAddUp(st: AudioInStats, buffers: number, what = "stats"): void {
  const waiting = st.captured - st.delivered - st.dropped;
  ok(waiting >= 0 && waiting <= buffers, `${what}: captured ${st.captured} = delivered ${st.delivered} + dropped ${st.dropped} + waiting (0..${buffers})`);
}

function linkAddsUp(s: LinkStats): void {
  eq(s.framesIn, s.framesEncoded + s.drops.queue + s.drops.encoder, "framesIn = framesEncoded + drops.queue + drops.encoder");
  s.sinkFrames.forEach((w, i) => eq(s.framesEncoded, w + s.drops.sinks[i], `sink ${i}: framesEncoded = sinkFrames + drops.sinks`));
}

export default contract(
  "qcam:audio",
  (t) => {
    t.test("exports: AudioIn, Pcm, AudioEncoder and the G.711 functions, their shapes", () => {
      deepEq(Object.keys(audioModule).sort(), ["AudioEncoder", "AudioIn", "Pcm", "decodeFrame", "g711Decode", "g711Encode"]);
      deepEq([AudioIn.length, AudioEncoder.length, g711Encode.length, g711Decode.length, decodeFrame.length], [1, 1, 2, 2, 1]);
      const shapes: [object, string, string[], string[]][] = [
        [AudioIn.prototype, "AudioIn", ["buffers", "channels", "frameMs", "sampleRate", "samples", "source"], ["close", "read", "stats"]],
        [Pcm.prototype, "Pcm", ["channels", "sampleRate", "samples", "seq", "timestampUs"], ["close", "toInt16Array"]],
        [AudioEncoder.prototype, "AudioEncoder", ["codec", "sampleRate"], ["close", "encode"]],
      ];
      for (const [proto, tag, getters, methods] of shapes) {
        const p = proto as Record<string | symbol, unknown>;
        deepEq(Object.getOwnPropertyNames(p).filter((n) => n !== "constructor").sort(), [...getters, ...methods].sort(), tag);
        for (const g of getters) eq(descriptor(p, g), "get configurable", `${tag}.${g}`);
        for (const m of methods) eq(descriptor(p, m), "method writable configurable", `${tag}.${m}`);
        eq(p[dispose], p.close, `${tag}[Symbol.dispose]`);
        eq(Object.prototype.toString.call(p), `[object ${tag}]`);
      }
      throws(() => new (Pcm as unknown as new () => unknown)(), { name: "TypeError", code: "ERR_ILLEGAL_CONSTRUCTOR", message: "Pcm blocks come from an AudioIn" });
      throws(() => (AudioIn as unknown as AnyFn)(), { name: "TypeError", code: "ERR_CONSTRUCT_CALL_REQUIRED", message: "AudioIn must be called with new" });
    });

    t.test("AudioIn options: defaults, and a bad one is a TypeError/RangeError naming what is allowed", () => {
      const mic = new AudioIn();
      try {
        deepEq([mic.sampleRate, mic.channels, mic.frameMs, mic.samples, mic.buffers, mic.source], [8000, 1, 20, 160, 8, "tone"]);
        deepEq(Object.keys(mic), []);
      } finally {
        mic.close();
      }
      const m16 = new AudioIn({ sampleRate: 16000, frameMs: 10, buffers: 2, toneHz: 8000 });
      deepEq([m16.sampleRate, m16.frameMs, m16.samples, m16.buffers], [16000, 10, 160, 2]);
      m16.close();
      throws(() => new AudioIn(5 as never), TYPE("AudioIn options must be an object"));
      throws(() => new AudioIn([] as never), TYPE("AudioIn options must be an object"));
      throws(() => new AudioIn({ rate: 8000 } as never), TYPE('unknown AudioIn option "rate" (known: sampleRate, channels, source, toneHz, frameMs, buffers, loop)'));
      throws(() => new AudioIn({ sampleRate: 44100 as never }), RANGE("AudioIn sampleRate must be 8000 or 16000, not 44100"));
      throws(() => new AudioIn({ sampleRate: "8000" as never }), TYPE('AudioIn sampleRate must be 8000 or 16000, not "8000"'));
      throws(() => new AudioIn({ channels: 2 as never }), RANGE("AudioIn channels must be an integer from 1 to 1, not 2"));
      throws(() => new AudioIn({ frameMs: 5 }), RANGE("AudioIn frameMs must be an integer from 10 to 100, not 5"));
      throws(() => new AudioIn({ frameMs: 20.5 }), RANGE("AudioIn frameMs must be an integer from 10 to 100, not 20.5"));
      throws(() => new AudioIn({ buffers: 1 }), RANGE("AudioIn buffers must be an integer from 2 to 64, not 1"));
      throws(() => new AudioIn({ toneHz: 4001 }), RANGE("AudioIn toneHz must be an integer from 1 to 4000, not 4001"));
      throws(() => new AudioIn({ toneHz: NaN }), RANGE("AudioIn toneHz must be an integer from 1 to 4000, not nan"));
      throws(() => new AudioIn({ source: 5 as never }), TYPE('AudioIn source must be "tone" or the board path of a .wav file (at most 255 bytes)'));
      throws(() => new AudioIn({ source: "" }), TYPE('AudioIn source must be "tone" or the board path of a .wav file (at most 255 bytes)'));
      throws(() => new AudioIn({ loop: 1 as never }), TYPE("AudioIn loop must be a boolean"));
      throws(() => new AudioIn({ frameMs: 5, buffers: 1 }), RANGE("AudioIn frameMs must be an integer from 10 to 100, not 5"), "the first bad option is reported");
    });

    t.test("tone: the sim's samples, blocks in order frameMs apart, none handed out before it is complete", () => {
      const before = Math.floor(time.monotonicMs() * 1000);
      const mic = new AudioIn({ toneHz: 440, buffers: 64 });
      const after = Math.ceil(time.monotonicMs() * 1000);
      const seqs: number[] = [], stamps: number[] = [];
      let crossings = 0, prev = 0;
      try {
        for (let k = 0; k < 10; k++) {
          const p = mic.read()!;
          const now = time.monotonicMs() * 1000;
          ok(now + 1 >= p.timestampUs + 20_000, `block ${k} handed out once complete (now ${now}, block ${p.timestampUs})`);
          deepEq([p.sampleRate, p.channels, p.samples], [8000, 1, 160]);
          seqs.push(p.seq);
          stamps.push(p.timestampUs);
          const s = p.toInt16Array();
          eq(s.length, 160);
          let bad = -1;
          for (let i = 0; i < s.length; i++) {
            if (bad < 0 && s[i] !== tone(440, 8000, p.seq * 160 + i)) bad = i;
            if ((prev < 0) !== (s[i] < 0) && (i > 0 || k > 0)) crossings++;
            prev = s[i];
          }
          eq(bad, -1, `block ${k}: every sample is the tone's`);
          p.close();
          throws(() => p.seq, { name: "TypeError", code: "ERR_CLOSED", message: "Pcm is closed" });
          p.close(); // idempotent
        }
        deepEq(seqs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "in order, none skipped");
        ok(stamps[0] >= before && stamps[0] <= after, "block 0 was captured from the moment the input was made");
        deepEq(stamps.map((x) => x - stamps[0]), seqs.map((k) => k * 20_000), "timestamps frameMs apart");
        // 440 Hz for 0.2 s: 176 sign changes (give or take the edges).
        ok(crossings >= 174 && crossings <= 177, `zero crossings ${crossings}`);
        const st = mic.stats();
        eq(st.delivered, 10);
        eq(st.dropped, 0);
        statsAddUp(st, 64);
        const at16k = new AudioIn({ sampleRate: 16000, toneHz: 1000, frameMs: 10, buffers: 64 });
        const p = at16k.read()!;
        const s = p.toInt16Array();
        deepEq([p.samples, s[0], s[4], s[8], s[12]], [160, 0, 16384, 0, -16384], "1 kHz at 16 kHz: a period of 16 samples");
        p.close();
        at16k.close();
      } finally {
        mic.close();
      }
      throws(() => mic.read(), { name: "TypeError", code: "ERR_CLOSED", message: "AudioIn is closed" });
      throws(() => mic.stats(), { name: "TypeError", code: "ERR_CLOSED", message: "AudioIn is closed" });
      throws(() => AudioIn.prototype.read.call({} as AudioIn), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a AudioIn" });
      const d = new AudioIn();
      (d as unknown as Record<symbol, AnyFn>)[dispose]();
      throws(() => d.samples, { name: "TypeError", code: "ERR_CLOSED", message: "AudioIn is closed" }, "[Symbol.dispose] closes");
    });

    t.test("a late reader: the input keeps `buffers` blocks, drops older ones (counted), the rest come out in order", () => {
      // 100 ms blocks: the runtime has 300 ms between the two reads before another one is lost.
      const mic = new AudioIn({ buffers: 4, frameMs: 100 });
      try {
        time.sleepMs(1000); // 10 blocks fall due; 4 are kept
        const st0 = mic.stats();
        ok(st0.captured >= 10, `captured ${st0.captured}`);
        eq(st0.dropped, st0.captured - 4, "all but the newest 4 are lost");
        statsAddUp(st0, 4);
        const first = mic.read()!;
        ok(first.seq >= 6, `the oldest block still kept (seq ${first.seq})`);
        const s = first.toInt16Array();
        eq(s.length, 800);
        eq(s[7], tone(440, 8000, first.seq * 800 + 7), "its samples are its own");
        const next = mic.read()!;
        eq(next.seq, first.seq + 1, "then the next one, not the newest");
        eq(next.timestampUs - first.timestampUs, 100_000);
        const seq = first.seq;
        first.close();
        next.close();
        const st = mic.stats();
        ok(st.dropped >= seq, `dropped ${st.dropped} >= the blocks before seq ${seq}`);
        statsAddUp(st, 4);
      } finally {
        mic.close();
      }
    });

    t.test("every block held open: read() waits, then throws ERR_NO_BUFFER", () => {
      const mic = new AudioIn({ buffers: 2, frameMs: 10 });
      const a = mic.read()!, b = mic.read()!;
      try {
        throws(() => mic.read(), {
          name: "Error",
          code: "ERR_NO_BUFFER",
          message: "no free buffer: all 2 blocks of this AudioIn are still open; close() the ones you are done with (or declare them with `using`), or ask for more buffers",
        });
        a.close();
        const c = mic.read()!;
        ok(c.seq > b.seq, "reading again once a block is back");
        c.close();
        statsAddUp(mic.stats(), 2);
      } finally {
        a.close();
        b.close();
        mic.close();
      }
    });

    t.test("a WAV source: the file's samples exactly, in real time, null at its end; loop plays it again", () => {
      fs.mkdir("/sdcard/snd", { recursive: true });
      const samples = ramp(1000); // 6 blocks of 160 and one of 40
      const list = new Uint8Array([0x4c, 0x49, 0x53, 0x54, 3, 0, 0, 0, 1, 2, 3, 0]); // "LIST", 3 bytes, padded
      fs.writeFile("/sdcard/snd/ramp.wav", wav(8000, 1, samples, { extra: list }));
      const mic = new AudioIn({ source: "/sdcard/snd/ramp.wav", loop: false, buffers: 64 });
      try {
        eq(mic.source, "/sdcard/snd/ramp.wav");
        const got: number[] = [], sizes: number[] = [], seqs: number[] = [];
        for (let p = mic.read(); p; p = mic.read()) {
          sizes.push(p.samples);
          seqs.push(p.seq);
          got.push(...p.toInt16Array());
          p.close();
        }
        deepEq(sizes, [160, 160, 160, 160, 160, 160, 40]);
        deepEq(seqs, [0, 1, 2, 3, 4, 5, 6]);
        eq(got.length, 1000);
        let bad = -1;
        for (let i = 0; i < 1000 && bad < 0; i++) if (got[i] !== samples[i]) bad = i;
        eq(bad, -1, "sample for sample");
        eq(mic.read(), null, "still the end");
        const st = mic.stats();
        deepEq([st.captured, st.delivered, st.dropped], [7, 7, 0], "the file's blocks, no more");
      } finally {
        mic.close();
      }
      const looping = new AudioIn({ source: "/sdcard/snd/ramp.wav", buffers: 64 });
      try {
        const blocks: Pcm[] = [];
        for (let k = 0; k < 9; k++) blocks.push(looping.read()!);
        deepEq(blocks.map((p) => p.samples), [160, 160, 160, 160, 160, 160, 40, 160, 160]);
        deepEq([...blocks[7].toInt16Array().subarray(0, 4)], [...samples.subarray(0, 4)], "again from the start");
        deepEq([blocks[7].seq, blocks[7].timestampUs - blocks[0].timestampUs], [7, 140_000], "timestamps keep going");
        for (const p of blocks) p.close();
      } finally {
        looping.close();
      }
      fs.removeTree("/sdcard/snd");
    });

    t.test("WAV sources that cannot play: a clear error each", () => {
      fs.mkdir("/sdcard/snd", { recursive: true });
      const SRC = (file: string, message: string) => ({ name: "Error", code: "ERR_INVALID_SOURCE", message: `audio source /sdcard/snd/${file}: ${message}` });
      const put = (file: string, bytes: Uint8Array) => fs.writeFile(`/sdcard/snd/${file}`, bytes);
      const open = (file: string, o: object = {}) => () => new AudioIn({ source: `/sdcard/snd/${file}`, ...o });
      try {
        throws(open("none.wav"), { name: "Error", code: "ENOENT", message: "audio source /sdcard/snd/none.wav: No such file or directory" });
        throws(() => new AudioIn({ source: "/etc/passwd" }), { name: "Error", code: "EINVAL", message: "audio source /etc/passwd: Invalid argument" });
        put("text.wav", new Uint8Array([104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33, 33]));
        throws(open("text.wav"), SRC("text.wav", "not a WAV file (no RIFF/WAVE header)"));
        put("tiny.wav", new Uint8Array([82, 73, 70, 70]));
        throws(open("tiny.wav"), SRC("tiny.wav", "not a WAV file (4 bytes)"));
        put("16k.wav", wav(16000, 1, ramp(100)));
        throws(open("16k.wav"), RANGE("audio source /sdcard/snd/16k.wav: the file is 16000 Hz mono, the input was asked for 8000 Hz mono (no resampling)"));
        eq(new AudioIn({ source: "/sdcard/snd/16k.wav", sampleRate: 16000 }).close(), undefined, "at its own rate it plays");
        put("stereo.wav", wav(8000, 2, ramp(100)));
        throws(open("stereo.wav"), RANGE("audio source /sdcard/snd/stereo.wav: the file is 8000 Hz stereo, the input was asked for 8000 Hz mono (no resampling)"));
        put("8bit.wav", wav(8000, 1, ramp(100), { bits: 8 }));
        throws(open("8bit.wav"), SRC("8bit.wav", "8-bit WAV: only 16-bit PCM is supported"));
        put("alaw.wav", wav(8000, 1, ramp(100), { tag: 6, bits: 16 }));
        throws(open("alaw.wav"), SRC("alaw.wav", "A-law WAV: only 16-bit PCM is supported"));
        put("float.wav", wav(8000, 1, ramp(100), { tag: 3 }));
        throws(open("float.wav"), SRC("float.wav", "32-bit float WAV: only 16-bit PCM is supported"));
        put("empty.wav", wav(8000, 1, new Int16Array(0)));
        throws(open("empty.wav"), SRC("empty.wav", "the WAV file has no samples"));
        const cut = wav(8000, 1, ramp(400));
        put("nodata.wav", cut.subarray(0, 36));
        throws(open("nodata.wav"), SRC("nodata.wav", "no data chunk"));
        put("cut.wav", cut.subarray(0, 44 + 2 * 170)); // the recording stopped mid-way: play what is there
        const mic = new AudioIn({ source: "/sdcard/snd/cut.wav", loop: false });
        const a = mic.read()!, b = mic.read()!;
        deepEq([a.samples, b.samples, mic.read()], [160, 10, null]);
        a.close();
        b.close();
        mic.close();
      } finally {
        fs.removeTree("/sdcard/snd");
      }
    });

    t.test("G.711: ffmpeg's bytes for all 65536 inputs, the standard's levels, encode(decode(encode(x))) = encode(x)", () => {
      const all = new Int16Array(65536);
      for (let i = 0; i < 65536; i++) all[i] = i - 32768;
      const a = g711Encode(all, "alaw"), u = g711Encode(all, "ulaw");
      ok(a instanceof Uint8Array && a.length === 65536, "a byte per sample");
      eq(fnv(a), 0x163c1cf1, "A-law: the bytes of ffmpeg -c:a pcm_alaw");
      eq(fnv(u), 0x36ff2c91, "mu-law: the bytes of ffmpeg -c:a pcm_mulaw");
      const codes = new Uint8Array(256).map((_, i) => i);
      const da = g711Decode(codes, "alaw"), du = g711Decode(codes.buffer, "ulaw");
      ok(da instanceof Int16Array && da.length === 256, "a sample per byte");
      eq(fnv(new Uint8Array(da.buffer, da.byteOffset, 512)), 0x12fb6645, "A-law decoded as ffmpeg -f alaw decodes");
      eq(fnv(new Uint8Array(du.buffer, du.byteOffset, 512)), 0x715d95a8, "mu-law decoded as ffmpeg -f mulaw decodes");
      deepEq([da[0xd5], da[0x55], da[0xaa], da[0x2a], du[0xff], du[0x7f], du[0x80], du[0x00]], [8, -8, 32256, -32256, 0, 0, 32124, -32124]);
      for (const law of ["alaw", "ulaw"] as const) {
        const once = law === "alaw" ? a : u;
        const twice = g711Encode(g711Decode(once, law), law);
        let bad = -1;
        for (let i = 0; i < 65536 && bad < 0; i++) if (twice[i] !== once[i]) bad = i;
        eq(bad, -1, `${law}: stable through decode and encode again`);
      }
      deepEq([...g711Encode(new Int16Array(0), "alaw")], []);
      deepEq([...g711Encode(all.subarray(32768 + 1000, 32768 + 1003), "ulaw")], [...u.subarray(32768 + 1000, 32768 + 1003)], "a view: its own samples");
      deepEq([...g711Decode(codes.subarray(0xd5, 0xd7), "alaw")], [8, 56], "a view: its own bytes");
      const E = TYPE('g711Encode(samples: Int16Array, law: "alaw" | "ulaw")');
      throws(() => g711Encode(new Uint8Array(4) as never, "alaw"), E);
      throws(() => g711Encode(new Int16Array(4), "pcm" as never), E);
      throws(() => (g711Encode as AnyFn)(new Int16Array(4)), E);
      const D = TYPE('g711Decode(bytes: Uint8Array | ArrayBuffer, law: "alaw" | "ulaw")');
      throws(() => g711Decode(new Int16Array(4) as never, "alaw"), D);
      throws(() => g711Decode(new Uint8Array(4), "mulaw" as never), D);
    });

    t.test("AudioEncoder: one Frame per block (codec, type audio, keyframe, ptsUs, a byte per sample); decodeFrame", () => {
      throws(() => new AudioEncoder(undefined as never), TYPE('new AudioEncoder(options: {codec: "alaw" | "ulaw", sampleRate?})'));
      throws(() => new AudioEncoder({ codec: "g722" as never }), TYPE('AudioEncoder codec must be "alaw" or "ulaw"'));
      throws(() => new AudioEncoder({ codec: "alaw", rate: 8000 } as never), TYPE('unknown AudioEncoder option "rate" (known: codec, sampleRate)'));
      throws(() => new AudioEncoder({ codec: "alaw", sampleRate: 11025 as never }), RANGE("AudioEncoder sampleRate must be 8000 or 16000, not 11025"));
      const enc = new AudioEncoder({ codec: "alaw" });
      const mu = new AudioEncoder({ codec: "ulaw", sampleRate: 16000 });
      const mic = new AudioIn({ buffers: 64 });
      try {
        deepEq([enc.codec, enc.sampleRate, mu.codec, mu.sampleRate], ["alaw", 8000, "ulaw", 16000]);
        const p = mic.read()!;
        const f = enc.encode(p);
        deepEq([f.codec, f.type, f.keyframe, f.ptsUs, f.dtsUs, f.size, f.seq], ["alaw", "audio", true, p.timestampUs, p.timestampUs, 160, 0]);
        deepEq([...new Uint8Array(f.toArrayBuffer())], [...g711Encode(p.toInt16Array(), "alaw")], "the block's samples, G.711");
        deepEq([...decodeFrame(f)], [...g711Decode(g711Encode(p.toInt16Array(), "alaw"), "alaw")], "decodeFrame");
        const f2 = enc.encode(p, 5_000);
        deepEq([f2.ptsUs, f2.dtsUs, f2.seq], [5_000, 5_000, 1], "timestampUs overrides; seq counts per encoder");
        const g = mu.encode(new Int16Array([0, 1000, -1000]), 1234);
        deepEq([g.codec, g.type, g.ptsUs, g.size, g.seq, [...new Uint8Array(g.toArrayBuffer())]], ["ulaw", "audio", 1234, 3, 0, [...g711Encode(new Int16Array([0, 1000, -1000]), "ulaw")]]);
        eq(mu.encode(new Int16Array(2)).ptsUs, 0, "an Int16Array without timestampUs: 0");
        p.close();
        throws(() => enc.encode(p), { name: "TypeError", code: "ERR_CLOSED", message: "Pcm is closed" });
        const U = TYPE("encode(samples: Pcm | Int16Array, timestampUs?: number)");
        throws(() => enc.encode(new Uint8Array(3) as never), U);
        throws(() => enc.encode(5 as never), U);
        throws(() => (enc.encode as AnyFn).call(enc), U);
        throws(() => enc.encode(new Int16Array(3), "1" as never), TYPE("timestampUs must be a number"));
        throws(() => enc.encode(new Int16Array(3), 1.5), RANGE("timestampUs must be an integer"));
        throws(() => decodeFrame({} as never), TYPE("decodeFrame(frame: Frame)"));
        throws(() => decodeFrame(mic as never), TYPE("decodeFrame(frame: Frame)"));
        f.close();
        throws(() => decodeFrame(f), { name: "TypeError", code: "ERR_CLOSED", message: "Frame is closed" });
        f2.close();
        g.close();
      } finally {
        mic.close();
        enc.close();
        mu.close();
      }
      enc.close();
      throws(() => enc.codec, { name: "TypeError", code: "ERR_CLOSED", message: "AudioEncoder is closed" });
      throws(() => enc.encode(new Int16Array(1)), { name: "TypeError", code: "ERR_CLOSED", message: "AudioEncoder is closed" });
    });

    t.test("a G.711 Frame is no video: splitAccessUnits and a Decoder name its codec", () => {
      const enc = new AudioEncoder({ codec: "alaw" });
      const f = enc.encode(new Int16Array([1, 2, 3]));
      try {
        throws(() => splitAccessUnits(f as never, "h264"), TYPE("expected a h264 frame, got a alaw one"));
        const dec = new Decoder({ codec: "h265" });
        try {
          throws(() => dec.decode(f), TYPE("expected a h265 frame, got a alaw one"));
        } finally {
          dec.close();
        }
      } finally {
        f.close();
        enc.close();
      }
    }, { needs: ["decoder"] });

    t.test("link(mic, AudioEncoder, EsFileSink): raw G.711 on the card, counts that add up, linked parts busy", () => {
      fs.mkdir("/sdcard/snd", { recursive: true });
      const mic = new AudioIn({ buffers: 16 });
      const enc = new AudioEncoder({ codec: "ulaw" });
      const sink = new EsFileSink("/sdcard/snd/mic.ulaw");
      let pipe: Pipe | undefined;
      try {
        pipe = link(mic, enc, sink, { frames: 10, encodeQueue: 64 }); // a queue that holds every block: none dropped however busy the machine
        throws(() => mic.read(), BUSY("this AudioIn feeds a link: its blocks go there (close the link first)"));
        throws(() => mic.close(), BUSY("this AudioIn feeds a link (close the link first)"));
        throws(() => enc.encode(new Int16Array(1)), BUSY("this encoder is fed by a link; close the link first"));
        throws(() => enc.close(), BUSY("close the link this encoder feeds first"));
        throws(() => sink.write(null as never), BUSY("this sink is fed by a link; write() is for pull mode"));
        throws(() => sink.close(), BUSY("close the link feeding this sink first"));
        const other = new AudioIn();
        const enc2 = new AudioEncoder({ codec: "alaw" });
        const sink2 = new EsFileSink("/sdcard/snd/x.ulaw");
        throws(() => link(other, enc2, sink), BUSY("link: a sink is already fed by another audio link"));
        throws(() => link(other, enc, sink2), BUSY("this encoder already feeds a link"));
        other.read()!.close(); // the failed links let go of it
        other.close();
        enc2.encode(new Int16Array(1)).close(); // and of this one
        enc2.close();
        sink2.close();
        ok(mic.stats().captured >= 0, "stats() works while linked");
        waitFor(() => pipe!.stats().framesOut === 10);
        const final = pipe.close()!;
        linkAddsUp(final);
        deepEq([final.framesIn, final.framesEncoded, final.sinkFrames[0], final.finished], [10, 10, 10, true]);
        deepEq([sink.frames, sink.bytes], [10, 1600]);
        const bytes = new Uint8Array(fs.readFile("/sdcard/snd/mic.ulaw"));
        eq(bytes.length, 1600);
        const back = g711Decode(bytes, "ulaw");
        // The link's first block: whichever was due when it started; the tone continues from there.
        let first = -1;
        for (let k = 0; k < 64 && first < 0; k++) {
          let same = true;
          for (let i = 0; i < 40 && same; i++) same = back[i] === g711Decode(g711Encode(new Int16Array([tone(440, 8000, k * 160 + i)]), "ulaw"), "ulaw")[0];
          if (same) first = k;
        }
        ok(first >= 0, "the file is the tone, G.711-coded");
        const want = new Int16Array(1600);
        for (let i = 0; i < 1600; i++) want[i] = tone(440, 8000, first * 160 + i);
        deepEq([...bytes.subarray(0, 1600)].join(), [...g711Encode(want, "ulaw")].join(), "ten blocks in a row, none missing");
        eq(pipe.close(), undefined);
        const p = mic.read()!; // free again
        ok(p.seq >= first + 10, "reading goes on after the link's blocks");
        p.close();
      } finally {
        pipe?.close();
        sink.close();
        enc.close();
        mic.close();
        fs.removeTree("/sdcard/snd");
      }
    });

    t.test("link(): an audio source needs an AudioEncoder, a video one an Encoder; no capture for audio", () => {
      const mic = new AudioIn();
      const enc = new AudioEncoder({ codec: "alaw" });
      const cam = new Camera({ width: 64, height: 48 });
      const sink = new EsFileSink("/sdcard/args.alaw");
      try {
        throws(() => link({} as never, enc, sink), TYPE("link: the source must be a Camera, a Channel, an AudioIn or an RtspSource"));
        throws(() => link(mic, {} as never, sink), TYPE("link: the encoder must be an Encoder or an AudioEncoder"));
        throws(() => link(cam, enc, sink), TYPE("link: a video source needs an Encoder"));
        throws(() => link(mic, enc, sink, { capture: true }), TYPE("link: capture is for video links"));
        throws(() => new Camera({ format: "s16" as never }), TYPE('Camera format must be one of "nv21", "nv12", "yuv420p", "rgb888", "gray"'), "audio samples are no picture format");
        const img = cam.read(); // the failed links let go of everything
        img.close();
        mic.read()!.close();
        const f = enc.encode(new Int16Array(4));
        sink.write(f);
        f.close();
        eq(sink.frames, 1);
      } finally {
        sink.close();
        cam.close();
        enc.close();
        mic.close();
        fs.remove("/sdcard/args.alaw");
      }
    });

    t.test("one sink, two links: a video link and an audio link feed it at once; a second of a kind is ERR_BUSY", () => {
      const cam = new Camera({ width: 64, height: 48, fps: 30 });
      const venc = new Encoder({ codec: "h264", width: 64, height: 48 });
      const mic = new AudioIn({ buffers: 16 });
      const aenc = new AudioEncoder({ codec: "alaw" });
      const sink = new EsFileSink("/sdcard/both.bin");
      let v: Pipe | undefined, a: Pipe | undefined;
      try {
        v = link(cam, venc, sink, { frames: 5, encodeQueue: 64 });
        a = link(mic, aenc, sink, { frames: 8, encodeQueue: 64 });
        const mic2 = new AudioIn(), aenc2 = new AudioEncoder({ codec: "ulaw" });
        const ch = cam.addChannel(), venc2 = new Encoder({ codec: "h264", width: 64, height: 48 });
        throws(() => link(mic2, aenc2, sink), BUSY("link: a sink is already fed by another audio link"));
        throws(() => link(ch, venc2, sink), BUSY("link: a sink is already fed by another video link"));
        mic2.close();
        aenc2.close();
        venc2.close();
        ch.close();
        waitFor(() => v!.stats().framesOut === 5 && a!.stats().framesOut === 8);
        const vs = v.close()!;
        throws(() => sink.write(null as never), BUSY("this sink is fed by a link; write() is for pull mode"), "the audio link still holds it");
        const as = a.close()!;
        linkAddsUp(vs);
        linkAddsUp(as);
        deepEq([vs.sinkFrames[0], as.sinkFrames[0]], [5, 8]);
        eq(sink.frames, 13, "both links' frames in the one sink");
        eq(sink.bytes, fs.stat("/sdcard/both.bin").size);
        const f = aenc.encode(new Int16Array(4));
        sink.write(f); // pull mode again
        f.close();
        eq(sink.frames, 14);
      } finally {
        v?.close();
        a?.close();
        sink.close();
        aenc.close();
        mic.close();
        venc.close();
        cam.close();
        fs.remove("/sdcard/both.bin");
      }
    }, { needs: ["encoder"] });
  },
  { sdcardSizeMb: 1 },
);
