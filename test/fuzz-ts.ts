// Seeds for the ts fuzz target (host-modules/ts/fuzz_ts.c, registered in
// test/fuzz.ts): small transport streams made by ffmpeg, whole, cut and
// damaged. The whole files' expectations come from ffprobe (video packets,
// keyframes); the cuts' from the packets themselves.
import fs from "node:fs";
import { ffmpegFile } from "./fuzz-media.ts";
import { probePackets } from "./fuzz-mp4.ts";

const EBADMSG = 74;

export interface TsClip {
  name: string;
  codec: "h264" | "h265";
  /** PES packets carry their length (ffmpeg leaves it out for video by default). */
  bounded: boolean;
  args: string[];
}

const src = (frames: number, audio = false) => [
  "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
  ...(audio ? ["-f", "lavfi", "-i", "sine=f=440:r=8000"] : []),
  "-frames:v", String(frames), ...(audio ? ["-t", String(frames / 10)] : []), "-pix_fmt", "yuv420p",
];
const x264 = (extra: string[] = []) => ["-c:v", "libx264", "-g", "5", "-threads", "1", ...extra];
const x265 = ["-c:v", "libx265", "-x265-params", "log-level=none:keyint=5:bframes=0:pools=none:frame-threads=1"];
const TS = ["-f", "mpegts"];
const BOUNDED = ["-omit_video_pes_length", "0"];

/** Small clips (64x48, 10 fps, a keyframe every 5 frames). */
export const TS_CLIPS: TsClip[] = [
  { name: "h264", codec: "h264", bounded: false, args: [...src(12), ...x264(["-bf", "0"]), ...TS] },
  { name: "h264-bframes", codec: "h264", bounded: false, args: [...src(12), ...x264(), ...TS] },
  { name: "h264-bounded", codec: "h264", bounded: true, args: [...src(12), ...x264(["-bf", "0"]), ...TS, ...BOUNDED] },
  { name: "h265-bounded", codec: "h265", bounded: true, args: [...src(8), ...x265, ...TS, ...BOUNDED] },
  { name: "h264-mp2-audio", codec: "h264", bounded: false, args: [...src(12, true), ...x264(["-bf", "0"]), "-c:a", "mp2", ...TS] },
];

/** The clip's file (made once, cached under out/fuzz/media/). */
export function tsClipFile(c: TsClip): string {
  return ffmpegFile(c.args, "ts");
}

/** Offsets of the video PID's PES starts (ffmpeg's video PID is 0x100). */
export function videoPesStarts(b: Buffer): number[] {
  const out: number[] = [];
  for (let o = 0; o + 188 <= b.length; o += 188) if (b[o] === 0x47 && (b[o + 1] & 0x40) && ((b[o + 1] & 0x1f) << 8 | b[o + 2]) === 0x100) out.push(o);
  return out;
}

const edit = (b: Buffer, f: (c: Buffer) => void): Buffer => {
  const c = Buffer.from(b);
  f(c);
  return c;
};

export function tsSeeds(): { name: string; data: Buffer; expect: Record<string, string | number> }[] {
  const s: { name: string; data: Buffer; expect: Record<string, string | number> }[] = [];
  const add = (name: string, data: Buffer, expect: Record<string, string | number>) => s.push({ name, data, expect });
  const bad = { result: -EBADMSG };
  for (const c of TS_CLIPS) {
    const file = tsClipFile(c);
    const b = fs.readFileSync(file);
    const video = probePackets(file).filter((p) => p.stream === "video");
    if (b.length <= 4096) throw new Error(`${c.name}: ${b.length} bytes, too short for probe's tail path`);
    add(c.name, b, { result: 0, frames: video.length, keyframes: video.filter((p) => p.key).length, codec: c.codec, width: 64, height: 48, torn: 0, probe_same: 1 });
    const starts = videoPesStarts(b);
    starts.forEach((at, i) => {
      // a partial packet: frame i is cut; with lengths, frames 0 .. i-1 are whole
      add(`${c.name}-cut-${i}-partial`, b.subarray(0, at + 100), i === 0 ? bad : c.bounded ? { result: 0, frames: i, torn: 1 } : { result: 0 });
    });
    add(`${c.name}-cut-one-byte-short`, b.subarray(0, b.length - 1), { result: 0, torn: 1, probe_same: 1 });
    add(`${c.name}-sync-lost-mid`, edit(b, (x) => x.writeUInt8(0x46, starts[Math.floor(starts.length / 2)])), { result: 0, torn: 1 });
    add(`${c.name}-pes-length-huge`, edit(b, (x) => x.writeUInt16BE(0xfff0, starts[1] + 4 + (x[starts[1] + 3] & 0x20 ? 1 + x[starts[1] + 4] : 0) + 4)), { result: 0 });
  }
  const any = fs.readFileSync(tsClipFile(TS_CLIPS[0]));
  const pat = any.subarray(0, 188);
  add("empty", Buffer.alloc(0), bad);
  add("short", any.subarray(0, 187), bad);
  add("not-ts", Buffer.from("RIFF\0\0\0\0WAVEfmt this is not a transport stream ".repeat(8)), bad);
  const nulls = Buffer.alloc(188 * 3, 0xff);
  for (let o = 0; o < nulls.length; o += 188) nulls.set([0x47, 0x1f, 0xff, 0x10], o);
  add("null-packets", nulls, bad);
  // the PAT section is bytes 5 .. 20 of its packet, its CRC last
  const patAt = (x: Buffer) => [...Array(x.length / 188).keys()].map((i) => i * 188).filter((o) => x[o + 1] === 0x40 && x[o + 2] === 0);
  add("first-pat-crc-broken", edit(any, (x) => x.writeUInt8(x[20] ^ 1, 20)), { result: 0, codec: "h264" }); // ffmpeg repeats it
  add("every-pat-crc-broken", edit(any, (x) => patAt(x).forEach((o) => x.writeUInt8(x[o + 20] ^ 1, o + 20))), bad);
  add("pat-only", Buffer.concat([pat, nulls]), bad);
  return s;
}

export const TS_DICT = [
  Buffer.from([0x47, 0x40, 0x00, 0x10]), // PAT packet header
  Buffer.from([0x00, 0x00, 0x01, 0xe0]), // video PES start
  Buffer.from([0x00, 0x00, 0x00, 0x01, 0x09]), // H.264 AUD
  Buffer.from([0x00, 0x00, 0x00, 0x01, 0x46, 0x01]), // H.265 AUD
  Buffer.from([0x02, 0xb0]), // PMT table id
  Buffer.from([0x1b]), Buffer.from([0x24]),
];
