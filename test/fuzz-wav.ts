// Seeds for the wav fuzz target (host-modules/audio/fuzz_wav.c, registered in
// test/fuzz.ts): WAV files made by ffmpeg, and broken variants of them. The
// expectations of intact files come from ffprobe (sample rate, channels, and
// duration_ts: the sample frames in the file).
import fs from "node:fs";
import path from "node:path";
import { BuildError } from "../build/log.ts";
import { ffmpegFile, MEDIA } from "./fuzz-media.ts";
import { spawnSyncChild } from "./helpers.ts";

const EILSEQ = 84, ENOTSUP = 95, ERANGE = 34, EIO = 5;

export interface WavSeed {
  name: string;
  data: Buffer;
  expect: Record<string, string | number>;
}

/** The control byte (see fuzz_wav.c). */
export function wavControl(c: { rate16k?: boolean; loop?: boolean; frameMs?: 10 | 20 | 50 | 100; failAfter?: number }): number {
  const fms = { 10: 0, 20: 1, 50: 2, 100: 3 }[c.frameMs ?? 20];
  let b = (c.rate16k ? 1 : 0) | (c.loop ? 2 : 0) | (fms << 2);
  if (c.failAfter !== undefined) b |= 0x10 | ((c.failAfter & 7) << 5);
  return b;
}

/** A WAV ffmpeg writes (cached under out/fuzz/media/). */
function ffmpegWav(args: string[]): Buffer {
  return fs.readFileSync(ffmpegFile([...args, "-f", "wav"], "wav"));
}

/** ffprobe's view of a WAV: rate, channels, sample frames. */
function probe(data: Buffer): { rate: number; channels: number; frames: number } {
  // From a file, not a pipe: ffprobe gives duration_ts only for what it can seek in.
  const file = path.join(MEDIA, `probe-${process.pid}.wav`);
  fs.mkdirSync(MEDIA, { recursive: true });
  fs.writeFileSync(file, data);
  const r = spawnSyncChild("ffprobe", ["-v", "error", "-show_entries", "stream=sample_rate,channels,duration_ts", "-of", "json", file], { encoding: "utf8" });
  fs.rmSync(file, { force: true });
  if (r.status !== 0) throw new BuildError(`ffprobe on a seed WAV: ${r.stderr}`);
  const st = (JSON.parse(r.stdout) as { streams: { sample_rate: string; channels: number; duration_ts: number }[] }).streams[0];
  return { rate: Number(st.sample_rate), channels: st.channels, frames: Number(st.duration_ts) };
}

const sine = (rate: number, seconds: number, channels = 1, codec = "pcm_s16le", extra: string[] = []) =>
  ffmpegWav(["-f", "lavfi", "-i", `sine=f=440:r=${rate}:d=${seconds}`, "-ac", String(channels), "-c:a", codec, ...extra]);

/** Where the "data" chunk's payload starts (ffmpeg's files: after any LIST chunk). */
const dataAt = (b: Buffer) => b.indexOf("data", 12, "latin1") + 8;

export function wavSeeds(): WavSeed[] {
  const s: WavSeed[] = [];
  const add = (name: string, control: number, data: Buffer, expect: Record<string, string | number>) =>
    s.push({ name, data: Buffer.concat([Buffer.from([control]), data]), expect });
  const intact = (name: string, control: number, data: Buffer, block: number, inputRate: number) => {
    const p = probe(data);
    const opens = p.rate === inputRate && p.channels === 1;
    const blocks = Math.ceil(p.frames / block);
    add(name, control, data, {
      parse: 0,
      rate: p.rate,
      channels: p.channels,
      frames: p.frames,
      open: opens ? 0 : -ERANGE,
      ...(opens ? { blocks, last: p.frames - (blocks - 1) * block } : {}),
    });
  };
  const m8 = sine(8000, 0.25), m16 = sine(16000, 0.2), st8 = sine(8000, 0.1, 2);
  const titled = sine(8000, 0.05, 1, "pcm_s16le", ["-metadata", "title=qcam seed", "-metadata", "artist=fuzz"]);
  intact("mono-8k", wavControl({}), m8, 160, 8000);
  intact("mono-8k-loop", wavControl({ loop: true, frameMs: 50 }), m8, 400, 8000);
  intact("mono-16k-10ms", wavControl({ rate16k: true, frameMs: 10 }), m16, 160, 16000);
  intact("mono-16k-at-8k", wavControl({}), m16, 160, 8000);
  intact("stereo-8k", wavControl({}), st8, 160, 8000);
  intact("list-chunk", wavControl({ frameMs: 100 }), titled, 800, 8000);

  // WAVE_FORMAT_EXTENSIBLE with a PCM sub-format: the 16-byte fmt chunk made 40.
  const ext = (() => {
    const at = dataAt(m8) - 8;
    const fmt = Buffer.alloc(8 + 40);
    fmt.write("fmt ", 0, "latin1");
    fmt.writeUInt32LE(40, 4);
    m8.copy(fmt, 8, 20, 36);
    fmt.writeUInt16LE(0xfffe, 8);
    fmt.writeUInt16LE(22, 24); // cbSize
    fmt.writeUInt16LE(16, 26); // valid bits
    fmt.writeUInt32LE(4, 28); // front centre
    Buffer.from("0100000000001000800000aa00389b71", "hex").copy(fmt, 32);
    const b = Buffer.concat([m8.subarray(0, 12), fmt, m8.subarray(at)]);
    b.writeUInt32LE(b.length - 8, 4);
    return b;
  })();
  intact("extensible", wavControl({}), ext, 160, 8000);

  // Formats it does not play.
  add("float", wavControl({}), sine(8000, 0.05, 1, "pcm_f32le"), { parse: -ENOTSUP });
  add("alaw", wavControl({}), sine(8000, 0.05, 1, "pcm_alaw"), { parse: -ENOTSUP });
  add("u8", wavControl({}), sine(8000, 0.05, 1, "pcm_u8"), { parse: -ENOTSUP });
  add("s24", wavControl({}), sine(8000, 0.05, 1, "pcm_s24le"), { parse: -ENOTSUP });
  const ext24 = Buffer.from(ext);
  ext24.writeUInt16LE(12, 12 + 8 + 18); // valid bits 12 in 16-bit samples
  add("extensible-12-valid-bits", wavControl({}), ext24, { parse: -ENOTSUP });

  // Damaged files.
  const d = dataAt(m8);
  const frames8 = probe(m8).frames;
  add("cut-in-header", wavControl({}), m8.subarray(0, 30), { parse: -EILSEQ });
  add("cut-before-data", wavControl({}), m8.subarray(0, d - 8), { parse: -EILSEQ });
  const cut = m8.subarray(0, d + 2 * 1001 + 1); // mid-sample
  add("cut-in-data", wavControl({}), cut, { parse: 0, frames: 1001, open: 0, blocks: 7, last: 41 });
  const lying = Buffer.from(m8);
  lying.writeUInt32LE(0xffffffff, 4);
  lying.writeUInt32LE(0xffffffff, d - 4); // a streamed file: sizes unknown
  add("sizes-unknown", wavControl({}), lying, { parse: 0, frames: frames8, open: 0 });
  const small = Buffer.from(m8);
  small.writeUInt32LE(20, 4); // RIFF says less than the header holds
  add("riff-size-small", wavControl({}), small, { parse: 0, frames: frames8 });
  const oddList = Buffer.concat([m8.subarray(0, 12), Buffer.from("LIST\x03\x00\x00\x00abc\x00", "latin1"), m8.subarray(12)]);
  add("odd-chunk-padded", wavControl({}), oddList, { parse: 0, frames: frames8, open: 0 });
  const hugeList = Buffer.concat([m8.subarray(0, 12), Buffer.from("LIST\xf0\xff\xff\x7f", "latin1"), m8.subarray(12)]);
  add("chunk-past-end", wavControl({}), hugeList, { parse: -EILSEQ });
  const noFmt = Buffer.concat([m8.subarray(0, 12), m8.subarray(d - 8)]);
  add("no-fmt", wavControl({}), noFmt, { parse: -EILSEQ });
  const twoFmt = Buffer.concat([m8.subarray(0, 36), m8.subarray(12)]);
  add("two-fmt", wavControl({}), twoFmt, { parse: -EILSEQ });
  const badAlign = Buffer.from(m8);
  badAlign.writeUInt16LE(4, 32);
  add("bad-block-align", wavControl({}), badAlign, { parse: -EILSEQ });
  const rate0 = Buffer.from(m8);
  rate0.writeUInt32LE(0, 24);
  add("rate-0", wavControl({}), rate0, { parse: -EILSEQ });
  const ch3 = Buffer.from(m8);
  ch3.writeUInt16LE(3, 22);
  add("three-channels", wavControl({}), ch3, { parse: -ENOTSUP });
  const fmt8 = Buffer.from(m8);
  fmt8.writeUInt32LE(8, 16);
  add("fmt-too-short", wavControl({}), fmt8, { parse: -EILSEQ });
  const empty = Buffer.from(m8.subarray(0, d));
  empty.writeUInt32LE(0, d - 4);
  add("no-samples", wavControl({}), empty, { parse: 0, frames: 0, open: -EILSEQ });
  add("empty", wavControl({}), Buffer.alloc(0), { parse: -EILSEQ });
  add("rifx", wavControl({}), Buffer.concat([Buffer.from("RIFX"), m8.subarray(4)]), { parse: -EILSEQ });
  add("read-fails", wavControl({ failAfter: 2 }), m8, { parse: -EIO });
  return s;
}

export const WAV_DICT = ["RIFF", "WAVE", "fmt ", "data", "LIST", "INFO", "fact", "\x01\x00", "\xfe\xff", "\x10\x00", "\x40\x1f\x00\x00", "\x80\x3e\x00\x00", "\xff\xff\xff\xff"].map((t) =>
  Buffer.from(t, "latin1"),
);
