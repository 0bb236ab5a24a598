// Seeds for the mp4 fuzz target (host-modules/mp4/fuzz_mp4.c, registered in
// test/fuzz.ts), and the ffmpeg-made MP4/MOV clips the reader's tests use.
// Every seed's expectations come from tools we did not write: ffprobe's
// packet counts and positions, and a plain walk over the top-level boxes.
import fs from "node:fs";
import { ffmpegFile, MEDIA } from "./fuzz-media.ts";
import { spawnSyncChild } from "./helpers.ts";

const EBADMSG = 74;

/** Seeded PRNG (mulberry32): reruns cut at the same places. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Clip {
  name: string;
  /** File extension: mp4, or mov for G.711 audio (ffmpeg's mp4 muxer has no tag for it). */
  ext: "mp4" | "mov";
  video: "h264" | "h265";
  audio?: "alaw" | "ulaw";
  fragmented: boolean;
  args: string[];
}

const x265 = (extra = "") => ["-c:v", "libx265", "-x265-params", `log-level=none:keyint=5:bframes=0:pools=none:frame-threads=1${extra}`];
const x264 = (extra: string[] = []) => ["-c:v", "libx264", "-g", "5", "-threads", "1", ...extra];
const FRAG = ["-movflags", "frag_keyframe+empty_moov"];
const src = (frames: number, audio: boolean, audioDelay = 0) => [
  "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
  ...(audio ? [...(audioDelay ? ["-itsoffset", String(audioDelay)] : []), "-f", "lavfi", "-i", "sine=f=440:r=8000"] : []),
  "-frames:v", String(frames), ...(audio ? ["-t", String(frames / 10)] : []), "-pix_fmt", "yuv420p",
];

/** Small clips (64x48, 10 fps, a keyframe every 5 frames). */
export const CLIPS: Clip[] = [
  { name: "h264-regular-bframes", ext: "mp4", video: "h264", fragmented: false, args: [...src(12, false), ...x264()] },
  { name: "h264-faststart", ext: "mp4", video: "h264", fragmented: false, args: [...src(12, false), ...x264(["-bf", "0"]), "-movflags", "+faststart"] },
  { name: "h264-frag", ext: "mp4", video: "h264", fragmented: true, args: [...src(12, false), ...x264(["-bf", "0"]), ...FRAG] },
  { name: "h264-frag-base-moof", ext: "mp4", video: "h264", fragmented: true, args: [...src(12, false), ...x264(), "-movflags", "frag_keyframe+empty_moov+default_base_moof"] },
  { name: "h265-regular", ext: "mp4", video: "h265", fragmented: false, args: [...src(12, false), ...x265(), "-tag:v", "hvc1"] },
  { name: "h265-frag-every-frame", ext: "mp4", video: "h265", fragmented: true, args: [...src(8, false), ...x265(), "-movflags", "frag_every_frame+empty_moov"] },
  { name: "h264-alaw-regular", ext: "mov", video: "h264", audio: "alaw", fragmented: false, args: [...src(12, true), ...x264(["-bf", "0"]), "-c:a", "pcm_alaw"] },
  { name: "h264-ulaw-frag", ext: "mov", video: "h264", audio: "ulaw", fragmented: true, args: [...src(12, true), ...x264(["-bf", "0"]), "-c:a", "pcm_mulaw", ...FRAG] },
  { name: "h265-alaw-frag", ext: "mov", video: "h265", audio: "alaw", fragmented: true, args: [...src(12, true), ...x265(), "-c:a", "pcm_alaw", ...FRAG] },
  // Audio 100 ms after the video: an empty edit in the audio track's edit list.
  { name: "h264-alaw-late-audio", ext: "mov", video: "h264", audio: "alaw", fragmented: false, args: [...src(12, true, 0.1), ...x264(["-bf", "0"]), "-c:a", "pcm_alaw"] },
];

/** The clip's file (made once, cached under out/fuzz/media/). */
export function clipFile(c: Clip): string {
  return ffmpegFile(c.args, c.ext);
}

export interface Packet {
  stream: "video" | "audio";
  pos: number;
  size: number;
  key: boolean;
  dtsTime: number;
  ptsTime: number;
}

/** ffprobe's packets of a file (decode order per stream). */
export function probePackets(file: string): Packet[] {
  const r = spawnSyncChild("ffprobe", ["-v", "error", "-show_entries", "packet=codec_type,pos,size,flags,dts_time,pts_time", "-of", "json", file], { encoding: "utf8", maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`ffprobe ${file}: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { packets: { codec_type: string; pos: string; size: string; flags: string; dts_time: string; pts_time: string }[] };
  return j.packets.map((p) => ({ stream: p.codec_type === "video" ? "video" : "audio", pos: Number(p.pos), size: Number(p.size), key: p.flags.includes("K"), dtsTime: Number(p.dts_time), ptsTime: Number(p.pts_time) }));
}

export interface TopBox {
  type: string;
  start: number;
  end: number;
}

/** The top-level boxes of a file (stops at one that runs past the end). */
export function topBoxes(b: Buffer): TopBox[] {
  const out: TopBox[] = [];
  for (let at = 0; at + 8 <= b.length; ) {
    let size = b.readUInt32BE(at);
    if (size === 1) size = Number(b.readBigUInt64BE(at + 8));
    else if (size === 0) size = b.length - at;
    if (size < 8 || at + size > b.length) break;
    out.push({ type: b.toString("latin1", at + 4, at + 8), start: at, end: at + size });
    at += size;
  }
  return out;
}

export interface Fragment {
  moof: number;
  /** End of the mdat that holds its samples. */
  end: number;
  video: number;
  audio: number;
}

/** The fragments of a fragmented file: each moof, the mdat after it, and
 * how many of ffprobe's packets lie in that mdat. */
export function fragments(b: Buffer, packets: Packet[]): Fragment[] {
  const boxes = topBoxes(b);
  const out: Fragment[] = [];
  boxes.forEach((m, i) => {
    if (m.type !== "moof") return;
    const mdat = boxes.slice(i + 1).find((x) => x.type === "mdat");
    if (!mdat) return;
    const inside = packets.filter((p) => p.pos >= mdat.start && p.pos < mdat.end);
    out.push({ moof: m.start, end: mdat.end, video: inside.filter((p) => p.stream === "video").length, audio: inside.filter((p) => p.stream === "audio").length });
  });
  return out;
}

/** Byte offset of the first `type` box inside the file (its size field). */
function findBox(b: Buffer, type: string, from = 0): number {
  const i = b.indexOf(Buffer.from(type, "latin1"), from);
  if (i < 4) throw new Error(`no ${type} box`);
  return i - 4;
}

function edit(b: Buffer, f: (c: Buffer) => void): Buffer {
  const c = Buffer.from(b);
  f(c);
  return c;
}

/** Intact clips, each cut at the fragment boundaries and inside them, and
 * damaged files (bad sizes, loops, huge counts). Cuts expect what the
 * complete fragments before the cut hold. */
export function mp4Seeds(): { name: string; data: Buffer; expect: Record<string, string | number> }[] {
  const s: { name: string; data: Buffer; expect: Record<string, string | number> }[] = [];
  const add = (name: string, data: Buffer, expect: Record<string, number>) => s.push({ name, data, expect });
  const bad = { result: -EBADMSG };
  for (const c of CLIPS) {
    const file = clipFile(c);
    const b = fs.readFileSync(file);
    const pk = probePackets(file);
    const v = pk.filter((p) => p.stream === "video").length;
    const a = c.audio ? pk.filter((p) => p.stream === "audio").length : -1;
    const tracks = c.audio ? 2 : 1;
    const frags = c.fragmented ? fragments(b, pk) : [];
    add(c.name, b, { result: 0, tracks, video: v, audio: a, fragments: frags.length, torn: 0, frag: c.fragmented ? 1 : 0 });
    if (c.ext === "mov" && !c.fragmented) continue;
    if (!c.fragmented) {
      const moov = topBoxes(b).find((x) => x.type === "moov")!;
      const mdat = topBoxes(b).find((x) => x.type === "mdat")!;
      add(`${c.name}-cut-in-last-box`, b.subarray(0, b.length - 7), bad);
      add(`${c.name}-cut-in-mdat`, b.subarray(0, (mdat.start + mdat.end) >> 1), bad); // samples past the end, or no moov
      const stsz = findBox(b, "stsz");
      add(`${c.name}-stsz-count-plus-1`, edit(b, (x) => x.writeUInt32BE(x.readUInt32BE(stsz + 16) + 1, stsz + 16)), bad);
      add(`${c.name}-stsz-count-huge`, edit(b, (x) => x.writeUInt32BE(0xffffffff, stsz + 16)), bad);
      const stts = findBox(b, "stts");
      add(`${c.name}-stts-count-plus-1`, edit(b, (x) => x.writeUInt32BE(x.readUInt32BE(stts + 16) + 1, stts + 16)), bad);
      add(`${c.name}-stts-entries-huge`, edit(b, (x) => x.writeUInt32BE(0x7fffffff, stts + 12)), bad);
      const stco = findBox(b, "stco");
      add(`${c.name}-stco-past-end`, edit(b, (x) => x.writeUInt32BE(b.length, stco + 16)), bad);
      add(`${c.name}-moov-size-small`, edit(b, (x) => x.writeUInt32BE(7, moov.start)), bad);
      const trak = findBox(b, "trak");
      add(`${c.name}-trak-size-past-moov`, edit(b, (x) => x.writeUInt32BE(moov.end - trak + 1, trak)), bad);
      continue;
    }
    // Cut at each fragment's start, inside its moof header, inside its mdat.
    frags.forEach((f, i) => {
      const before = frags.slice(0, i);
      const want = { result: 0, tracks, video: before.reduce((n, x) => n + x.video, 0), fragments: i, torn: 1, frag: 1, ...(c.audio ? { audio: before.reduce((n, x) => n + x.audio, 0) } : { audio: -1 }) };
      add(`${c.name}-cut-moof-${i}-header`, b.subarray(0, f.moof + 5), want);
      add(`${c.name}-cut-moof-${i}-body`, b.subarray(0, f.moof + 40), want);
      add(`${c.name}-cut-fragment-${i}-data`, b.subarray(0, f.end - 3), want);
    });
    const moov = topBoxes(b).find((x) => x.type === "moov")!;
    add(`${c.name}-cut-in-moov`, b.subarray(0, moov.end - 10), bad);
    add(`${c.name}-only-moov`, b.subarray(0, moov.end), { result: 0, tracks, video: 0, fragments: 0, torn: 0, frag: 1 });
    const trun = findBox(b, "trun");
    add(`${c.name}-trun-count-huge`, edit(b, (x) => x.writeUInt32BE(0xffffffff, trun + 12)), bad);
    const moof = frags[0].moof;
    add(`${c.name}-trun-size-past-traf`, edit(b, (x) => x.writeUInt32BE(0x7ffffff0, trun)), bad);
    add(`${c.name}-moof-size-past-end`, edit(b, (x) => x.writeUInt32BE(b.length, moof)), { result: 0, tracks, video: 0, fragments: 0, torn: 1, frag: 1 });
    add(`${c.name}-moof-before-moov`, Buffer.concat([b.subarray(0, moov.start), b.subarray(moof, frags[0].end), b.subarray(moov.start)]), bad);
  }
  // Edit lists (elst): damaged ones are refused.
  for (const name of ["h264-regular-bframes", "h264-alaw-late-audio"]) {
    const b = fs.readFileSync(clipFile(CLIPS.find((c) => c.name === name)!));
    let elst = findBox(b, "elst");
    if (name.includes("late")) elst = findBox(b, "elst", elst + 8); // the audio track's: an empty edit first
    add(`${name}-elst-count-huge`, edit(b, (x) => x.writeUInt32BE(0x10000000, elst + 12)), bad);
    add(`${name}-elst-count-plus-1`, edit(b, (x) => x.writeUInt32BE(x.readUInt32BE(elst + 12) + 1, elst + 12)), bad);
    add(`${name}-elst-version-2`, edit(b, (x) => x.writeUInt8(2, elst + 8)), bad);
    add(`${name}-elst-media-time-negative`, edit(b, (x) => x.writeInt32BE(-2, elst + 16 + 4 + (name.includes("late") ? 12 : 0))), bad);
  }
  const any = fs.readFileSync(clipFile(CLIPS[0]));
  add("empty", Buffer.alloc(0), bad);
  add("seven-bytes", any.subarray(0, 7), bad);
  add("not-mp4", Buffer.from("RIFF\0\0\0\0WAVEfmt this is not an mp4 file"), bad);
  add("ftyp-size-0", Buffer.from([0, 0, 0, 0, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]), bad);
  add("ftyp-size-4", edit(any, (x) => x.writeUInt32BE(4, 0)), bad);
  add("ftyp-largesize-huge", Buffer.concat([Buffer.from([0, 0, 0, 1, 0x66, 0x74, 0x79, 0x70, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), any.subarray(8)]), bad);
  return s;
}

export const MP4_DICT = ["ftyp", "moov", "mvhd", "trak", "tkhd", "mdia", "mdhd", "hdlr", "vide", "soun", "minf", "stbl", "stsd", "avc1", "avcC", "hvc1", "hev1", "hvcC", "alaw", "ulaw", "stts", "ctts", "stss", "stsz", "stz2", "stsc", "stco", "co64", "edts", "elst", "mvex", "trex", "moof", "mfhd", "traf", "tfhd", "tfdt", "trun", "mdat", "free"].map((t) => Buffer.from(t, "latin1"));
