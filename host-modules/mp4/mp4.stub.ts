// qcam:mp4 for tests on a PC. Mirrors mod_mp4.c (mp4_writer_js.c and
// mp4_reader_js.c) over the qcam:fs stub's card: the Mp4Writer writes real
// MP4 bytes, laid out exactly as mp4_write.c and mp4_finalize.c lay them out
// (so sizes, fragment boundaries and what a full card cuts off match the
// runtime's byte for byte; only creation times differ), and Mp4Reader and
// repair() parse real MP4 (regular and fragmented, also files put on the
// card with `sdcard.write`). Test files can be taken off the card
// (`sdcard.read`) and given to ffprobe. remux() writes the same bytes as
// mp4_remux.c (the whole input read at once: memory is not modelled).
//
// The writer: fragments every `fragmentMs` (cut before the first frame at or
// past it, early at a keyframe within half a frame of it), one write per
// fragment; frames before the first keyframe dropped and counted; audio that
// comes before the first keyframe kept (the newest 64 frames) and written
// from the keyframe's pts on; segments split at keyframes, `%i`/`%03i` and
// `%Y %m %d %H %M %S` (the world's wall clock, UTC) in the path;
// onSegment and onError posted to the app's loop (they run at the next
// needExit() turn, and close() delivers what is still queued before it returns;
// the last file is close()'s return value); a full card (world.sdcardSizeMb, or the fs.write fault)
// cuts the file back to its last complete fragment, reports ENOSPC (onError,
// else thrown by write(), else the link's error), and the writer stops.
//
// Files, segments, a full card, errors and the class shell are the writers'
// shared part (media/writer.stub.ts, as media/segmenter.c and writer_js.c).
//
// Not modelled: threads (a link's writes run on virtual time, see
// qcam:link's stub), fsync (the card is memory).
//
// Faults: fs.write (see qcam:fs) fails the next write of a fragment.
import type * as Api from "qcam:mp4";
import type { Frame } from "qcam:video";
import type * as Self from "./mp4.stub.ts";
import "qcam:video";
import { open as fsOpen, readFile as fsReadFile, remove as fsRemove, rename as fsRename, space as fsSpace, type File as FsFile } from "qcam:fs";
import { findParams, nals, parseH264Sps, parseH265Sps, splitAus } from "../../build/testing/annexb.ts";
import { provide, type Packet } from "../../build/testing/media.ts";
import { checkKeys, conforms, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";
import { bad, codeOf, errnoOf, intProp, isObject, parseSegmentAndCallbacks, parseVideo, Segmenter, WriterClass, type PendingEvent, type SegmenterCfg } from "../media/writer.stub.ts";

conforms<typeof Api, typeof Self>(true);

// ------------------------------------------------------------------ boxes (mp4_box.c)

class Buf {
  b = new Uint8Array(4096);
  len = 0;
  reserve(n: number): void {
    if (this.b.length - this.len >= n) return;
    let cap = this.b.length;
    while (cap - this.len < n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.b.subarray(0, this.len));
    this.b = nb;
  }
  u8(v: number): void {
    this.reserve(1);
    this.b[this.len++] = v & 0xff;
  }
  u16(v: number): void {
    this.u8(v >>> 8);
    this.u8(v);
  }
  u32(v: number): void {
    this.reserve(4);
    this.b[this.len++] = (v >>> 24) & 0xff;
    this.b[this.len++] = (v >>> 16) & 0xff;
    this.b[this.len++] = (v >>> 8) & 0xff;
    this.b[this.len++] = v & 0xff;
  }
  u64(v: number | bigint): void {
    const x = BigInt(v);
    this.u32(Number((x >> 32n) & 0xffffffffn));
    this.u32(Number(x & 0xffffffffn));
  }
  bytes(p: Uint8Array): void {
    this.reserve(p.length);
    this.b.set(p, this.len);
    this.len += p.length;
  }
  zeros(n: number): void {
    this.reserve(n);
    this.b.fill(0, this.len, this.len + n);
    this.len += n;
  }
  fourcc(s: string): void {
    for (let i = 0; i < 4; i++) this.u8(s.charCodeAt(i));
  }
  patch32(at: number, v: number): void {
    this.b[at] = (v >>> 24) & 0xff;
    this.b[at + 1] = (v >>> 16) & 0xff;
    this.b[at + 2] = (v >>> 8) & 0xff;
    this.b[at + 3] = v & 0xff;
  }
  box(type: string): number {
    const at = this.len;
    this.u32(0);
    this.fourcc(type);
    return at;
  }
  full(type: string, version: number, flags: number): number {
    const at = this.box(type);
    this.u32(((version << 24) | (flags & 0xffffff)) >>> 0);
    return at;
  }
  end(at: number): void {
    this.patch32(at, this.len - at);
  }
  view(): Uint8Array {
    return this.b.subarray(0, this.len);
  }
}

type Mp4Codec = "h264" | "h265" | "alaw" | "ulaw";
interface Sample {
  offset: number;
  size: number;
  duration: number;
  cts: number;
  key: boolean;
}
interface Track {
  id: number;
  codec: Mp4Codec;
  timescale: number;
  width: number;
  height: number;
  config: Uint8Array | null;
  sampleRate: number;
  channels: number;
  samples: Sample[];
  baseDts: number;
}
interface Index {
  tracks: Track[];
  creationTime: number;
}

const isVideo = (t: Track) => t.codec === "h264" || t.codec === "h265";
const trackDuration = (t: Track) => t.samples.reduce((n, s) => n + s.duration, 0);
const movieUnits = (t: Track, v: number) => (t.timescale ? Math.floor((v * 1000 + t.timescale - 1) / t.timescale) : 0);
const UNITY = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];

function writeFtyp(b: Buf, idx: Index): void {
  const at = b.box("ftyp");
  b.fourcc("isom");
  b.u32(0x200);
  b.fourcc("isom");
  b.fourcc("iso6");
  b.fourcc("iso2");
  if (idx.tracks.some((t) => t.codec === "h264")) b.fourcc("avc1");
  b.fourcc("mp41");
  b.end(at);
}

function writeMvhd(b: Buf, idx: Index, duration: number): void {
  const v1 = duration > 0xffffffff || idx.creationTime > 0xffffffff;
  const at = b.full("mvhd", v1 ? 1 : 0, 0);
  const w = (x: number) => (v1 ? b.u64(x) : b.u32(x));
  w(idx.creationTime);
  w(idx.creationTime);
  b.u32(1000);
  w(duration);
  b.u32(0x00010000);
  b.u16(0x0100);
  b.zeros(10);
  UNITY.forEach((x) => b.u32(x));
  b.zeros(24);
  b.u32(Math.max(0, ...idx.tracks.map((t) => t.id)) + 1);
  b.end(at);
}

function writeSampleEntry(b: Buf, t: Track): void {
  const at = b.box(t.codec === "h264" ? "avc1" : t.codec === "h265" ? "hvc1" : t.codec);
  b.zeros(6);
  b.u16(1);
  if (isVideo(t)) {
    b.zeros(16);
    b.u16(t.width);
    b.u16(t.height);
    b.u32(0x00480000);
    b.u32(0x00480000);
    b.u32(0);
    b.u16(1);
    const name = new Uint8Array(32);
    name[0] = 4;
    name.set([0x71, 0x63, 0x61, 0x6d], 1); // "qcam"
    b.bytes(name);
    b.u16(0x0018);
    b.u16(0xffff);
    const c = b.box(t.codec === "h264" ? "avcC" : "hvcC");
    b.bytes(t.config ?? new Uint8Array(0));
    b.end(c);
  } else {
    b.zeros(8);
    b.u16(t.channels || 1);
    b.u16(16);
    b.u16(0);
    b.u16(0);
    b.u32((t.sampleRate << 16) >>> 0);
  }
  b.end(at);
}

interface Chunks {
  first: number[];
  offset: number[];
  co64: boolean;
}

function writeChunkOffsets(b: Buf, ch: Chunks | null): void {
  const co64 = !!ch?.co64;
  const at = b.full(co64 ? "co64" : "stco", 0, 0);
  b.u32(ch ? ch.first.length : 0);
  for (const o of ch?.offset ?? []) co64 ? b.u64(o) : b.u32(o);
  b.end(at);
}

function writeG711Tables(b: Buf, t: Track, ch: Chunks): void {
  const per = t.channels || 1;
  const total = t.samples.reduce((n, s) => n + Math.floor(s.size / per), 0);
  let at = b.full("stts", 0, 0);
  b.u32(1);
  b.u32(total);
  b.u32(1);
  b.end(at);
  at = b.full("stsc", 0, 0);
  const countAt = b.len;
  b.u32(0);
  let runs = 0, prev = 0;
  ch.first.forEach((first, c) => {
    const end = c + 1 < ch.first.length ? ch.first[c + 1] : t.samples.length;
    let bytes = 0;
    for (let i = first; i < end; i++) bytes += t.samples[i].size;
    const samples = Math.floor(bytes / per);
    if (samples !== prev) {
      b.u32(c + 1);
      b.u32(samples);
      b.u32(1);
      runs++;
      prev = samples;
    }
  });
  b.patch32(countAt, runs);
  b.end(at);
  at = b.full("stsz", 0, 0);
  b.u32(per);
  b.u32(total);
  b.end(at);
  writeChunkOffsets(b, ch);
}

function runs<T>(items: T[], put: (count: number, v: T) => void): number {
  let n = 0;
  for (let i = 0; i < items.length; ) {
    let j = i + 1;
    while (j < items.length && items[j] === items[i]) j++;
    put(j - i, items[i]);
    n++;
    i = j;
  }
  return n;
}

function writeStbl(b: Buf, t: Track, ch: Chunks | null): void {
  const stbl = b.box("stbl");
  let at = b.full("stsd", 0, 0);
  b.u32(1);
  writeSampleEntry(b, t);
  b.end(at);
  const s = ch ? t.samples : [];
  if (!isVideo(t) && s.length) {
    writeG711Tables(b, t, ch!);
    b.end(stbl);
    return;
  }
  at = b.full("stts", 0, 0);
  let countAt = b.len;
  b.u32(0);
  b.patch32(countAt, runs(s.map((x) => x.duration), (n, d) => (b.u32(n), b.u32(d))));
  b.end(at);
  if (s.some((x) => x.cts !== 0)) {
    at = b.full("ctts", 1, 0);
    countAt = b.len;
    b.u32(0);
    b.patch32(countAt, runs(s.map((x) => x.cts), (n, c) => (b.u32(n), b.u32(c >>> 0))));
    b.end(at);
  }
  if (isVideo(t)) {
    const keys = s.filter((x) => x.key).length;
    if (keys < s.length || s.length === 0) {
      at = b.full("stss", 0, 0);
      b.u32(keys);
      s.forEach((x, i) => x.key && b.u32(i + 1));
      b.end(at);
    }
  }
  at = b.full("stsc", 0, 0);
  countAt = b.len;
  b.u32(0);
  let n = 0, prev = 0;
  (ch?.first ?? []).forEach((first, c) => {
    const end = c + 1 < ch!.first.length ? ch!.first[c + 1] : s.length;
    const per = end - first;
    if (per !== prev) {
      b.u32(c + 1);
      b.u32(per);
      b.u32(1);
      n++;
      prev = per;
    }
  });
  b.patch32(countAt, n);
  b.end(at);
  at = b.full("stsz", 0, 0);
  const same = s.length > 0 && s.every((x) => x.size === s[0].size);
  b.u32(same ? s[0].size : 0);
  b.u32(s.length);
  if (!same) s.forEach((x) => b.u32(x.size));
  b.end(at);
  writeChunkOffsets(b, ch);
  b.end(stbl);
}

function writeTrak(b: Buf, idx: Index, t: Track, ch: Chunks | null, duration: number, delay: number): void {
  const video = isVideo(t);
  const trak = b.box("trak");
  let v1 = duration + delay > 0xffffffff;
  let at = b.full("tkhd", v1 ? 1 : 0, 3);
  const w = (x: number) => (v1 ? b.u64(x) : b.u32(x));
  w(idx.creationTime);
  w(idx.creationTime);
  b.u32(t.id);
  b.u32(0);
  w(duration + delay);
  b.zeros(8);
  b.u16(0);
  b.u16(0);
  b.u16(video ? 0 : 0x0100);
  b.u16(0);
  UNITY.forEach((x) => b.u32(x));
  b.u32(video ? (t.width << 16) >>> 0 : 0);
  b.u32(video ? (t.height << 16) >>> 0 : 0);
  b.end(at);
  if (delay > 0 && ch) {
    const edts = b.box("edts");
    at = b.full("elst", 1, 0);
    b.u32(2);
    b.u64(delay);
    b.u64(0xffffffffffffffffn);
    b.u32(0x00010000);
    b.u64(duration);
    b.u64(0);
    b.u32(0x00010000);
    b.end(at);
    b.end(edts);
  }
  const mdia = b.box("mdia");
  const mediaDur = ch ? trackDuration(t) : 0;
  v1 = mediaDur > 0xffffffff;
  at = b.full("mdhd", v1 ? 1 : 0, 0);
  const w2 = (x: number) => (v1 ? b.u64(x) : b.u32(x));
  w2(idx.creationTime);
  w2(idx.creationTime);
  b.u32(t.timescale);
  w2(mediaDur);
  b.u16(0x55c4);
  b.u16(0);
  b.end(at);
  at = b.full("hdlr", 0, 0);
  b.u32(0);
  b.fourcc(video ? "vide" : "soun");
  b.zeros(12);
  for (const c of video ? "VideoHandler" : "SoundHandler") b.u8(c.charCodeAt(0));
  b.u8(0);
  b.end(at);
  const minf = b.box("minf");
  at = video ? b.full("vmhd", 0, 1) : b.full("smhd", 0, 0);
  b.zeros(video ? 8 : 4);
  b.end(at);
  const dinf = b.box("dinf");
  const dref = b.full("dref", 0, 0);
  b.u32(1);
  b.end(b.full("url ", 0, 1));
  b.end(dref);
  b.end(dinf);
  writeStbl(b, t, ch);
  b.end(minf);
  b.end(mdia);
  b.end(trak);
}

// ------------------------------------------------------------------ avcC / hvcC (sps.c)

function unescape(nal: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const x of nal) {
    if (zeros >= 2 && x === 3) {
      zeros = 0;
      continue;
    }
    zeros = x === 0 ? zeros + 1 : 0;
    out.push(x);
  }
  return Uint8Array.from(out);
}

function makeConfig(codec: "h264" | "h265", vps: Uint8Array | undefined, sps: Uint8Array, pps: Uint8Array): { config: Uint8Array; width: number; height: number } | null {
  const info = codec === "h264" ? parseH264Sps(sps) : parseH265Sps(sps);
  if (!info || (codec === "h265" && !vps)) return null;
  const b = new Buf();
  if (codec === "h264") {
    const profile = sps[1];
    const ext = profile === 100 || profile === 110 || profile === 122 || profile === 144;
    b.u8(1);
    b.u8(sps[1]);
    b.u8(sps[2]);
    b.u8(sps[3]);
    b.u8(0xff);
    b.u8(0xe1);
    b.u16(sps.length);
    b.bytes(sps);
    b.u8(1);
    b.u16(pps.length);
    b.bytes(pps);
    if (ext) {
      b.u8(0xfc | (info.chromaFormat & 3));
      b.u8(0xf8 | ((info.bitDepth - 8) & 7));
      b.u8(0xf8 | ((info.bitDepth - 8) & 7));
      b.u8(0);
    }
  } else {
    const r = unescape(sps);
    if (r.length < 15) return null;
    const maxSub = (r[2] >> 1) & 7;
    const nesting = r[2] & 1;
    b.u8(1);
    b.bytes(r.subarray(3, 15)); // profile_space..level_idc, as in the SPS
    b.u8(0xf0);
    b.u8(0);
    b.u8(0xfc);
    b.u8(0xfc | (info.chromaFormat & 3));
    b.u8(0xf8 | ((info.bitDepth - 8) & 7));
    b.u8(0xf8 | ((info.bitDepth - 8) & 7));
    b.u16(0);
    b.u8((((maxSub + 1) & 7) << 3) | (nesting << 2) | 3);
    b.u8(3);
    for (const [type, nal] of [[32, vps!], [33, sps], [34, pps]] as const) {
      b.u8(0x80 | type);
      b.u16(1);
      b.u16(nal.length);
      b.bytes(nal);
    }
  }
  return { config: b.view().slice(), width: info.width, height: info.height };
}

// ------------------------------------------------------------------ finalize (mp4_finalize.c)

/** build_moov: the moov of a regular file; per track, chunk c starts at
 * sample first[t][c] and file offset offset[t][c]. */
function writeMoov(b: Buf, idx: Index, first: number[][], offset: number[][], co64: boolean): void {
  const moov = b.box("moov");
  let movie = 0;
  const durs = idx.tracks.map((t) => movieUnits(t, trackDuration(t)));
  const delays = idx.tracks.map((t) => (t.baseDts ? movieUnits(t, t.baseDts) : 0));
  durs.forEach((d, i) => (movie = Math.max(movie, d + delays[i])));
  writeMvhd(b, idx, movie);
  idx.tracks.forEach((t, i) => writeTrak(b, idx, t, { first: first[i], offset: offset[i], co64 }, durs[i], delays[i]));
  b.end(moov);
}

/** qcam_mp4_write_head (mp4_box.h): ftyp, moov and the mdat header of a
 * regular file whose payload follows; per track, chunk c starts at sample
 * first[t][c] and payload byte rel[t][c]. Shared by finalize and remux. */
function writeHead(idx: Index, first: number[][], rel: number[][], payload: number): Buf {
  const large = payload + 8 > 0xffffffff;
  const co64 = payload + (1 << 26) > 0xffffffff;
  const build = (start: number) => {
    const b = new Buf();
    writeFtyp(b, idx);
    writeMoov(b, idx, first, rel.map((r) => r.map((x) => start + x)), co64);
    return b;
  };
  const b = build(build(0).len + (large ? 16 : 8));
  if (large) {
    b.u32(1);
    b.fourcc("mdat");
    b.u64(payload + 16);
  } else {
    b.u32(payload + 8);
    b.fourcc("mdat");
  }
  return b;
}

/** A fragmented file's chunks (runs of one track's samples contiguous in
 * the file), in file order: per track where each starts in the file (src)
 * and in the payload of the moov-first copy (rel). */
interface FileChunks {
  all: { src: number; size: number; track: number; first: number }[];
  first: number[][];
  rel: number[][];
  src: number[][];
  payload: number;
  firstSample: number;
  end: number;
}

function chunksOf(idx: Index): FileChunks {
  const all: FileChunks["all"] = [];
  idx.tracks.forEach((t, ti) => {
    t.samples.forEach((s, i) => {
      const p = t.samples[i - 1];
      if (i === 0 || s.offset !== p.offset + p.size) all.push({ src: s.offset, size: s.size, track: ti, first: i });
      else all[all.length - 1].size += s.size;
    });
  });
  all.sort((a, b) => a.src - b.src);
  const c: FileChunks = { all, first: idx.tracks.map(() => []), rel: idx.tracks.map(() => []), src: idx.tracks.map(() => []), payload: 0, firstSample: Infinity, end: 0 };
  for (const k of all) {
    c.first[k.track].push(k.first);
    c.rel[k.track].push(c.payload);
    c.src[k.track].push(k.src);
    c.payload += k.size;
    c.firstSample = Math.min(c.firstSample, k.src);
    c.end = Math.max(c.end, k.src + k.size);
  }
  return c;
}

/** The moov-first copy of a fragmented file's bytes. */
function finalizeBytes(src: Uint8Array, idx: Index, c: FileChunks = chunksOf(idx)): Uint8Array {
  const b = writeHead(idx, c.first, c.rel, c.payload);
  if (c.end > src.length) throw Object.assign(new Error("the index points past the end"), { code: "EIO" });
  const out = new Uint8Array(b.len + c.payload);
  out.set(b.view());
  let pos = b.len;
  for (const k of c.all) {
    out.set(src.subarray(k.src, k.src + k.size), pos);
    pos += k.size;
  }
  return out;
}

/** Offset and size of the first top-level moov in src's first `limit` bytes. */
function findMoov(src: Uint8Array, limit: number): [number, number] | null {
  const v = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let pos = 0; pos + 8 <= limit && pos + 8 <= src.length; ) {
    let n = v.getUint32(pos);
    if (n === 1) {
      if (pos + 16 > src.length) return null;
      n = Number(v.getBigUint64(pos + 8));
    }
    if (n < 8) return null;
    if (String.fromCharCode(...src.subarray(pos + 4, pos + 8)) === "moov") return [pos, n];
    pos += n;
  }
  return null;
}

/** finalize_in_place: a moov after the last fragment, then the fragmented
 * moov's header becomes an mdat header spanning up to it. */
function finalizeInPlace(path: string, src: Uint8Array, idx: Index, c: FileChunks): void {
  const einval = () => Object.assign(new Error("cannot finalize in place"), { code: "EINVAL" });
  if (!c.all.length) throw einval();
  const old = findMoov(src, c.firstSample);
  if (!old || old[0] + old[1] > c.firstSample) throw einval();
  const moov = new Buf();
  writeMoov(moov, idx, c.first, c.src, c.end + (1 << 26) > 0xffffffff);
  const f = fsOpen(path, "r+");
  try {
    f.truncate(c.end);
    try {
      f.write(moov.view(), c.end);
    } catch (e) {
      f.truncate(c.end);
      throw e;
    }
    const h = new Buf();
    const span = c.end - old[0];
    if (span <= 0xffffffff) {
      h.u32(span);
      h.fourcc("mdat");
    } else {
      h.u32(1);
      h.fourcc("mdat");
      h.u64(span);
    }
    f.write(h.view(), old[0]);
  } finally {
    f.close();
  }
}

/** qcam_mp4_finalize: moov first, written beside and renamed over, when the
 * card has room for the copy; else (or when the copy runs out of room) in
 * place. Throws the fs error (ENOSPC: not even the moov fits). */
function finalizeFile(path: string, idx: Index): void {
  const src = new Uint8Array(fsReadFile(path));
  const c = chunksOf(idx);
  if (c.end > src.length) throw Object.assign(new Error("the index points past the end"), { code: "EIO" });
  const head = writeHead(idx, c.first, c.rel, c.payload);
  if (fsSpace(path).available >= head.len + c.payload) {
    const slash = path.lastIndexOf("/");
    const tmp = `${path.slice(0, slash)}/.${path.slice(slash + 1)}.final`;
    let f: FsFile | null = null;
    try {
      f = fsOpen(tmp, "w");
      f.write(finalizeBytes(src, idx, c), 0);
      f.close();
      f = null;
      fsRename(tmp, path);
      return;
    } catch (e) {
      try {
        f?.close();
        fsRemove(tmp);
      } catch {
        /* gone already */
      }
      if (codeOf(e) !== "ENOSPC") throw e;
    }
  }
  finalizeInPlace(path, src, idx, c);
}

// ------------------------------------------------------------------ the writer (mp4_write.c)

const VIDEO_TIMESCALE = 90000;
const FLAGS_SYNC = 0x02000000;
const FLAGS_NON_SYNC = 0x01010000;
const EARLY_AUDIO = 64;

interface FragSample {
  size: number;
  duration: number;
  key: boolean;
}
interface WTrack {
  on: boolean;
  video: boolean;
  t: Track | null;
  data: Uint8Array[];
  dataLen: number;
  fs: FragSample[];
  fragDts: number;
  nextDts: number;
  pending: boolean;
  provisional: boolean;
  started: boolean;
  lastDur: number;
  written: number;
}

interface Cfg extends SegmenterCfg {
  videoCodec: "h264" | "h265" | null;
  width: number;
  height: number;
  params: { vps?: Uint8Array; sps: Uint8Array; pps: Uint8Array } | null;
  encoder: { parameterSets(): Api.Mp4VideoTrack["parameterSets"] | null } | null;
  audioCodec: "alaw" | "ulaw" | null;
  sampleRate: number;
  fragmentMs: number;
  finalize: boolean;
}

/** The MP4 part of the segmenting core (media/writer.stub.ts). */
class Writer extends Segmenter<Cfg> {
  mehdAt = 0;
  seq = 0;
  idx: Index = { tracks: [], creationTime: 0 };
  tracks: [WTrack, WTrack];
  config: { config: Uint8Array; width: number; height: number } | null = null;
  fragments = 0;
  early: Packet[] = [];

  constructor(cfg: Cfg, post: (ev: PendingEvent) => void) {
    super("mp4", cfg, post);
    const mk = (on: boolean, video: boolean): WTrack => ({ on, video, t: null, data: [], dataLen: 0, fs: [], fragDts: 0, nextDts: 0, pending: false, provisional: false, started: false, lastDur: 0, written: 0 });
    this.tracks = [mk(!!cfg.videoCodec, true), mk(!!cfg.audioCodec, false)];
    if (cfg.params && cfg.videoCodec) {
      this.config = makeConfig(cfg.videoCodec, cfg.params.vps, cfg.params.sps, cfg.params.pps);
      if (!this.config) throw Object.assign(new Error("bad parameter sets"), { code: "EINVAL" });
    }
    this.openFile(); // throws the fs error
  }

  protected resetFile(): void {
    this.idx = { tracks: [], creationTime: 0 };
    this.seq = 0;
    this.fragments = 0;
    for (const k of this.tracks) {
      Object.assign(k, { data: [], dataLen: 0, fs: [], fragDts: 0, nextDts: 0, pending: false, provisional: false, started: false, lastDur: 0, t: null });
      if (!k.on) continue;
      const t: Track = {
        id: this.idx.tracks.length + 1,
        codec: k.video ? this.cfg.videoCodec! : this.cfg.audioCodec!,
        timescale: k.video ? VIDEO_TIMESCALE : this.cfg.sampleRate,
        width: k.video ? this.cfg.width : 0,
        height: k.video ? this.cfg.height : 0,
        config: null,
        sampleRate: k.video ? 0 : this.cfg.sampleRate,
        channels: k.video ? 0 : 1,
        samples: [],
        baseDts: 0,
      };
      k.t = t;
      this.idx.tracks.push(t);
    }
  }

  writeOut(bytes: Uint8Array): 0 | string {
    try {
      this.file!.write(bytes, this.fileLen);
    } catch (e) {
      try {
        this.file!.truncate(this.fileLen);
      } catch {
        /* as in C: best effort */
      }
      return codeOf(e);
    }
    this.fileLen += bytes.length;
    return 0;
  }

  writeInit(): 0 | string {
    const b = new Buf();
    writeFtyp(b, this.idx);
    const moov = b.box("moov");
    writeMvhd(b, this.idx, 0);
    for (const t of this.idx.tracks) writeTrak(b, this.idx, t, null, 0, 0);
    const mvex = b.box("mvex");
    const mehd = b.full("mehd", 1, 0);
    this.mehdAt = b.len;
    b.u64(0);
    b.end(mehd);
    for (const t of this.idx.tracks) {
      const at = b.full("trex", 0, 0);
      b.u32(t.id);
      b.u32(1);
      b.u32(0);
      b.u32(0);
      b.u32(0);
      b.end(at);
    }
    b.end(mvex);
    b.end(moov);
    return this.writeOut(b.view());
  }

  emitFragment(withPending: boolean): 0 | string {
    if (this.error) return this.error;
    if (!this.started) return 0;
    const n = [0, 0], bytes = [0, 0];
    this.tracks.forEach((k, i) => {
      if (!k.on) return;
      n[i] = k.fs.length;
      if (k.pending && n[i] > 0) {
        if (withPending) k.fs[n[i] - 1].duration = k.lastDur || 3000;
        else n[i]--;
      }
      for (let s = 0; s < n[i]; s++) bytes[i] += k.fs[s].size;
    });
    if (!n[0] && !n[1]) return 0;
    const b = new Buf();
    const moof = b.box("moof");
    let at = b.full("mfhd", 0, 0);
    b.u32(++this.seq);
    b.end(at);
    const dataOffAt = [0, 0];
    this.tracks.forEach((k, i) => {
      if (!n[i]) return;
      const traf = b.box("traf");
      at = b.full("tfhd", 0, k.video ? 0x020000 : 0x020020);
      b.u32(k.t!.id);
      if (!k.video) b.u32(FLAGS_SYNC);
      b.end(at);
      at = b.full("tfdt", 1, 0);
      b.u64(k.fragDts);
      b.end(at);
      at = b.full("trun", 0, k.video ? 0x000701 : 0x000301);
      b.u32(n[i]);
      dataOffAt[i] = b.len;
      b.u32(0);
      for (let s = 0; s < n[i]; s++) {
        b.u32(k.fs[s].duration);
        b.u32(k.fs[s].size);
        if (k.video) b.u32(k.fs[s].key ? FLAGS_SYNC : FLAGS_NON_SYNC);
      }
      b.end(at);
      b.end(traf);
    });
    b.end(moof);
    const moofLen = b.len;
    b.u32(8 + bytes[0] + bytes[1]);
    b.fourcc("mdat");
    const off = [moofLen + 8, moofLen + 8 + bytes[0]];
    this.tracks.forEach((k, i) => {
      if (!n[i]) return;
      b.patch32(dataOffAt[i], off[i]);
      const all = concat(k.data, k.dataLen);
      b.bytes(all.subarray(0, bytes[i]));
      k.data = [all.subarray(bytes[i])];
    });
    const base = this.fileLen;
    const r = this.writeOut(b.view());
    if (r) return this.fail(r);
    this.fragments++;
    this.tracks.forEach((k, i) => {
      if (!n[i]) return;
      let o = base + off[i];
      if (k.t!.samples.length === 0) k.t!.baseDts = k.fragDts;
      for (let s = 0; s < n[i]; s++) {
        k.t!.samples.push({ offset: o, size: k.fs[s].size, duration: k.fs[s].duration, cts: 0, key: k.fs[s].key });
        o += k.fs[s].size;
        k.fragDts += k.fs[s].duration;
      }
      k.written += n[i];
      k.dataLen -= bytes[i];
      k.fs = k.fs.slice(n[i]);
      if (k.pending && withPending) {
        k.pending = false;
        k.provisional = true;
      }
    });
    return 0;
  }

  patchDuration(): void {
    let dur = 0;
    for (const t of this.idx.tracks) dur = Math.max(dur, movieUnits(t, t.baseDts + trackDuration(t)));
    try {
      const f = fsOpen(this.path, "r+");
      const b = new Buf();
      b.u64(dur);
      f.write(b.view(), this.mehdAt);
      f.close();
    } catch {
      /* best effort, as in C */
    }
  }

  protected emit(): 0 | string {
    return this.emitFragment(true);
  }

  /** Forget the samples of the fragment in progress (a full card). */
  protected drop(): void {
    for (const k of this.tracks) {
      if (k.video) this.dropped += k.fs.length;
      Object.assign(k, { data: [], dataLen: 0, fs: [], pending: false });
    }
  }

  /** A file is kept once it has its origin (and init segment); it has media once a fragment went out. */
  protected kept(): boolean {
    return this.started;
  }
  protected hasMedia(): boolean {
    return this.fragments > 0;
  }

  /** The closed file: finalized (or its mehd given the duration), described. */
  protected finished(info: Api.SegmentInfo, _end: number, kept: boolean): 0 | string {
    let r: 0 | string = 0;
    if (!kept) {
      /* nothing was recorded: removed */
    } else if (this.cfg.finalize && this.fragments > 0) {
      try {
        finalizeFile(this.path, this.idx);
      } catch (e) {
        // it stays fragmented (and playable); segments on a full card carry on
        const code = codeOf(e);
        if (!this.error && !(code === "ENOSPC" && this.segmented)) r = this.fail(code);
        this.patchDuration();
      }
    } else if (this.fragments > 0) this.patchDuration();
    const main = this.tracks[0].on ? this.tracks[0] : this.tracks[1];
    if (kept) info.size = this.fileSize();
    info.duration = main.t && main.t.timescale ? trackDuration(main.t) / main.t.timescale : 0;
    info.frames = this.tracks[0].t ? this.tracks[0].t.samples.length : 0;
    return r;
  }

  setConfig(pkt: Packet): boolean {
    const codec = this.cfg.videoCodec!;
    if (this.cfg.params) return !!this.config;
    const p = findParams(codec, pkt.data);
    let c = p.sps && p.pps && (codec === "h264" || p.vps) ? makeConfig(codec, p.vps, p.sps, p.pps) : null;
    if (!c && this.cfg.encoder) {
      const ps = this.cfg.encoder.parameterSets();
      if (ps) c = makeConfig(codec, ps.vps ? new Uint8Array(ps.vps) : undefined, new Uint8Array(ps.sps), new Uint8Array(ps.pps));
    }
    if (!c) return false;
    this.config = c;
    return true;
  }

  /** The file's origin: the video track's configuration and the init segment. */
  protected begin(): 0 | string {
    this.idx.creationTime = Math.floor(world.wallUs() / 1e6) + 2082844800;
    if (this.tracks[0].on) {
      const t = this.tracks[0].t!;
      t.config = this.config!.config;
      t.width = this.config!.width;
      t.height = this.config!.height;
    }
    this.started = true; // before the write: an init segment that did not fit ends a started file
    const r = this.writeInit();
    return r ? this.fail(r) : 0;
  }

  due(k: WTrack, dts: number): boolean {
    return this.segmentDue(dts, k.t!.timescale, this.tracks[0].dataLen + this.tracks[1].dataLen);
  }

  appendVideo(k: WTrack, pkt: Packet): number {
    let size = 0;
    const codec = this.cfg.videoCodec!;
    for (const { type, bytes } of nals(codec, pkt.data)) {
      if (codec === "h264" ? type === 7 || type === 8 || type === 9 || type === 13 : type >= 32 && type <= 35) continue;
      const hdr = new Uint8Array(4);
      new DataView(hdr.buffer).setUint32(0, bytes.length);
      k.data.push(hdr, bytes.slice());
      size += 4 + bytes.length;
    }
    k.dataLen += size;
    return size;
  }

  writeVideo(pkt: Packet): 0 | string {
    const k = this.tracks[0];
    if (!this.started || !k.started) {
      if (!pkt.keyframe || !this.setConfig(pkt)) {
        this.dropped++;
        return 0;
      }
      if (!this.started) {
        let r = this.startFile(pkt.ptsUs);
        for (const a of this.early) if (!r) r = this.writeAudio(a);
        this.early = [];
        if (r) return r;
      }
    }
    const rel = pkt.ptsUs - this.originUs;
    let dts = rel <= 0 ? 0 : Math.floor((rel * VIDEO_TIMESCALE + 500000) / 1000000);
    if (k.started && dts <= k.nextDts) dts = k.nextDts + 1;
    if (k.pending) {
      const d = dts - k.nextDts;
      k.fs[k.fs.length - 1].duration = d;
      k.lastDur = d;
      k.pending = false;
    } else if (k.provisional) {
      const d = dts - k.nextDts;
      const s = k.t!.samples;
      if (s.length) s[s.length - 1].duration = d;
      k.lastDur = d;
      k.fragDts = dts;
      k.provisional = false;
    }
    if (pkt.keyframe && k.started && this.segmented && this.due(k, dts)) {
      const r = this.nextSegment(pkt.ptsUs, 0);
      if (r) return r;
      dts = 0;
    } else if (k.fs.length > 0) {
      const limit = this.cfg.fragmentMs * (VIDEO_TIMESCALE / 1000);
      const elapsed = dts - k.fragDts;
      if (elapsed >= limit || (pkt.keyframe && elapsed + Math.floor(k.lastDur / 2) >= limit)) {
        const r = this.emitFragment(false);
        if (r) return r;
      }
    }
    const size = this.appendVideo(k, pkt);
    k.fs.push({ size, duration: 0, key: pkt.keyframe });
    if (k.fs.length === 1) k.fragDts = dts;
    k.nextDts = dts;
    k.pending = true;
    k.started = true;
    return 0;
  }

  writeAudio(pkt: Packet): 0 | string {
    const k = this.tracks[1];
    if (!this.started) {
      if (this.tracks[0].on) {
        if (this.early.length === EARLY_AUDIO) this.early.shift();
        this.early.push(pkt);
        return 0;
      }
      const r = this.startFile(pkt.ptsUs);
      if (r) return r;
    }
    const rate = this.cfg.sampleRate;
    const n = pkt.samples || pkt.data.length;
    if (n === 0 || pkt.data.length !== n) return 0;
    const rel = pkt.ptsUs - this.originUs;
    if (!k.started) {
      if (rel < 0) return 0;
      k.nextDts = Math.floor((rel * rate + 500000) / 1000000);
    }
    const video = this.tracks[0].on;
    if (!video && k.started && this.segmented && this.due(k, k.nextDts)) {
      const r = this.nextSegment(pkt.ptsUs, 0);
      if (r) return r;
      k.nextDts = 0;
    } else if (k.fs.length > 0) {
      let limit = Math.floor((this.cfg.fragmentMs * rate) / 1000);
      if (video) limit *= 2;
      if (k.nextDts - k.fragDts >= limit) {
        const r = this.emitFragment(false);
        if (r) return r;
      }
    }
    k.data.push(pkt.data.slice());
    k.dataLen += pkt.data.length;
    k.fs.push({ size: pkt.data.length, duration: n, key: true });
    if (k.fs.length === 1) k.fragDts = k.nextDts;
    k.nextDts += n;
    k.started = true;
    return 0;
  }

  protected track(pkt: Packet): 0 | 1 | 2 {
    if (pkt.codec === this.cfg.videoCodec) return 1;
    return pkt.codec === this.cfg.audioCodec ? 2 : 0;
  }

  protected writePacket(pkt: Packet, video: boolean): 0 | string {
    return video ? this.writeVideo(pkt) : this.writeAudio(pkt);
  }

  close(): { r: 0 | string; info: Api.SegmentInfo } {
    const out = super.close();
    this.early = [];
    return out;
  }
}

function concat(parts: Uint8Array[], len: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ------------------------------------------------------------------ Mp4Writer (mp4_writer_js.c)

function parseOptions(opts: Record<string, unknown>, path: string): Cfg {
  const cfg: Cfg = { pattern: path, videoCodec: null, width: 0, height: 0, params: null, encoder: null, audioCodec: null, sampleRate: 0, fragmentMs: 1000, finalize: true, segSeconds: 0, segBytes: 0, onSegment: undefined, onError: undefined, onFull: undefined };
  checkKeys(opts, "Mp4Writer", ["video", "audio", "fragmentMs", "finalize", "segment", "onSegment", "onFull", "onError"]);
  if (opts.video !== undefined) {
    const v = parseVideo(opts.video, "Mp4Writer");
    cfg.videoCodec = v.codec;
    cfg.width = v.width;
    cfg.height = v.height;
    cfg.encoder = v.encoder as Cfg["encoder"];
    cfg.params = v.params;
  }
  const a = opts.audio;
  if (a !== undefined) {
    if (!isObject(a)) bad("TypeError", "audio must be {codec, sampleRate, channels?}");
    const ao = a as Record<string, unknown>;
    checkKeys(ao, "Mp4Writer audio", ["codec", "sampleRate", "channels"]);
    cfg.audioCodec = ao.codec === "alaw" || ao.codec === "ulaw" ? ao.codec : null;
    if (!cfg.audioCodec) bad("TypeError", "audio.codec must be \"alaw\" or \"ulaw\"");
    const rate = intProp(ao, "sampleRate", 8000, 16000, "audio.sampleRate must be 8000 or 16000");
    if (rate !== 8000 && rate !== 16000) bad(rate === undefined ? "TypeError" : "RangeError", "audio.sampleRate must be 8000 or 16000");
    intProp(ao, "channels", 1, 1, "audio.channels must be 1");
    cfg.sampleRate = rate!;
  }
  if (!cfg.videoCodec && !cfg.audioCodec) bad("TypeError", "Mp4Writer needs a video or an audio track");
  cfg.fragmentMs = intProp(opts, "fragmentMs", 100, 10000, "fragmentMs must be an integer 100..10000") ?? 1000;
  const fin = opts.finalize;
  if (fin !== undefined && typeof fin !== "boolean") bad("TypeError", "finalize must be a boolean");
  cfg.finalize = fin === undefined || fin === true;
  parseSegmentAndCallbacks(opts, "Mp4Writer", cfg);
  return cfg;
}

const cls = new WriterClass<Writer>("Mp4Writer");

export class Mp4Writer {
  constructor(path: string, options: Api.Mp4WriterOptions) {
    cls.checkArgs(arguments.length, path, options, "{video?, audio?, ...}");
    const cfg = parseOptions(options as unknown as Record<string, unknown>, path);
    cls.checkPattern(path, cfg);
    cls.open(this, cfg, (post) => new Writer(cfg, post), (e) => {
      const code = codeOf(e);
      if (code === "EINVAL" && cfg.params) throwQcam("TypeError", "ERR_INVALID_ARG", "video.parameterSets: not a usable SPS/PPS");
      throw errnoOf(code, `cannot open ${path}`);
    });
    provide(this, { sink: () => cls.of(this).sink });
  }
  get path(): string {
    return cls.of(this).path;
  }
  stats(): Api.Mp4WriterStats {
    const w = cls.of(this);
    return { videoFrames: w.tracks[0].written, audioFrames: w.tracks[1].written, fragments: w.fragments, bytes: w.fileLen, segments: w.segments, dropped: w.dropped };
  }
  write(frame: Frame): void {
    cls.write(this, arguments.length, frame);
  }
  flush(): void {
    cls.flush(this);
  }
  close(): Api.SegmentInfo | undefined {
    return cls.close(this);
  }
  declare readonly kind: "mp4";
  declare [Symbol.dispose]: () => void;
}
WriterClass.finish(Mp4Writer, "mp4");

// ------------------------------------------------------------------ reading (mp4_read.c)

class BadMp4 extends Error {}

interface ReadResult {
  idx: Index;
  fragmented: boolean;
  end: number;
  torn: boolean;
  fragments: number;
  /** Per track: the media time its edit list presents first (mp4_read.h media_start). */
  mediaStart: number[];
}

function u32(b: Uint8Array, at: number): number {
  if (at + 4 > b.length) throw new BadMp4("mp4: a box runs past its end");
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}
const u16 = (b: Uint8Array, at: number): number => {
  if (at + 2 > b.length) throw new BadMp4("mp4: a box runs past its end");
  return (b[at] << 8) | b[at + 1];
};
const u64 = (b: Uint8Array, at: number): number => u32(b, at) * 2 ** 32 + u32(b, at + 4);
const typeAt = (b: Uint8Array, at: number) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);

/** Child boxes of b[from, to): [type, payload start, end]. */
function boxes(b: Uint8Array, from: number, to: number): [string, number, number][] {
  const out: [string, number, number][] = [];
  let at = from;
  while (at + 8 <= to) {
    let size = u32(b, at);
    let hdr = 8;
    if (size === 1) {
      size = u64(b, at + 8);
      hdr = 16;
    } else if (size === 0) size = to - at;
    if (size < hdr || at + size > to) throw new BadMp4(`mp4: box ${typeAt(b, at + 4)} at offset ${at} runs past its parent`);
    out.push([typeAt(b, at + 4), at + hdr, at + size]);
    at += size;
  }
  return out;
}
const child = (b: Uint8Array, from: number, to: number, type: string) => boxes(b, from, to).find((x) => x[0] === type);

function readTrak(b: Uint8Array, from: number, to: number): Track | null {
  const tkhd = child(b, from, to, "tkhd");
  const mdia = child(b, from, to, "mdia");
  if (!tkhd || !mdia) throw new BadMp4("mp4: a trak without tkhd or mdia");
  const id = u32(b, tkhd[1] + (b[tkhd[1]] === 1 ? 20 : 12));
  const mdhd = child(b, mdia[1], mdia[2], "mdhd");
  const minf = child(b, mdia[1], mdia[2], "minf");
  if (!mdhd || !minf) throw new BadMp4("mp4: a mdia without mdhd or minf");
  const timescale = u32(b, mdhd[1] + (b[mdhd[1]] === 1 ? 20 : 12));
  const stbl = child(b, minf[1], minf[2], "stbl");
  if (!stbl) throw new BadMp4("mp4: no stbl");
  const stsd = child(b, stbl[1], stbl[2], "stsd");
  if (!stsd) throw new BadMp4("mp4: no stsd");
  const entry = boxes(b, stsd[1] + 8, stsd[2])[0];
  if (!entry) return null;
  const kind = entry[0];
  const codec: Mp4Codec | null = kind === "avc1" || kind === "avc3" ? "h264" : kind === "hvc1" || kind === "hev1" ? "h265" : kind === "alaw" || kind === "ulaw" ? kind : null;
  if (!codec || !timescale) return null;
  const t: Track = { id, codec, timescale, width: 0, height: 0, config: null, sampleRate: 0, channels: 0, samples: [], baseDts: 0 };
  if (codec === "h264" || codec === "h265") {
    t.width = u16(b, entry[1] + 24);
    t.height = u16(b, entry[1] + 26);
    const cfg = child(b, entry[1] + 78, entry[2], codec === "h264" ? "avcC" : "hvcC");
    if (!cfg) throw new BadMp4(`mp4: ${kind} without its configuration`);
    t.config = b.slice(cfg[1], cfg[2]);
  } else {
    t.channels = u16(b, entry[1] + 16);
    t.sampleRate = u32(b, entry[1] + 24) >>> 16;
  }
  // sample tables (regular files)
  const tab = (type: string) => child(b, stbl[1], stbl[2], type);
  const stsz = tab("stsz");
  const count = stsz ? u32(b, stsz[1] + 8) : 0;
  if (!count) return t;
  const fixed = u32(b, stsz![1] + 4);
  if (!fixed && count * 4 > b.length) throw new BadMp4("mp4: stsz counts more samples than the file holds");
  const sizes = fixed ? [] : Array.from({ length: count }, (_, i) => u32(b, stsz![1] + 12 + 4 * i));
  const durs: number[] = [];
  const stts = tab("stts");
  if (stts) for (let e = 0, n = u32(b, stts[1] + 4); e < n; e++) {
    const c = u32(b, stts[1] + 8 + 8 * e), d = u32(b, stts[1] + 12 + 8 * e);
    for (let k = 0; k < c && durs.length < count; k++) durs.push(d);
  }
  const ctts: number[] = [];
  const ct = tab("ctts");
  if (ct) for (let e = 0, n = u32(b, ct[1] + 4); e < n; e++) {
    const c = u32(b, ct[1] + 8 + 8 * e), d = u32(b, ct[1] + 12 + 8 * e) | 0;
    for (let k = 0; k < c && ctts.length < count; k++) ctts.push(d);
  }
  const stss = tab("stss");
  const keys = new Set<number>();
  if (stss) for (let e = 0, n = u32(b, stss[1] + 4); e < n; e++) keys.add(u32(b, stss[1] + 8 + 4 * e) - 1);
  const co = tab("stco") ?? tab("co64");
  if (!co) throw new BadMp4("mp4: no chunk offsets");
  const wide = co[0] === "co64";
  const nChunks = u32(b, co[1] + 4);
  const offsets = Array.from({ length: nChunks }, (_, i) => (wide ? u64(b, co[1] + 8 + 8 * i) : u32(b, co[1] + 8 + 4 * i)));
  const stsc = tab("stsc");
  const entries = stsc ? Array.from({ length: u32(b, stsc[1] + 4) }, (_, e) => [u32(b, stsc[1] + 8 + 12 * e), u32(b, stsc[1] + 12 + 12 * e)]) : [];
  let s = 0;
  const pcm = !isVideo(t) && fixed > 0 && fixed <= t.channels; // a sample per audio frame: records of up to 1024 per chunk
  for (let c = 0; c < nChunks && s < count; c++) {
    let per = 0;
    for (const [first, n] of entries) if (first - 1 <= c) per = n;
    let off = offsets[c];
    if (pcm) {
      for (let left = Math.min(per, count - s); left > 0; ) {
        const n = Math.min(left, 1024);
        t.samples.push({ offset: off, size: n * fixed, duration: durs.slice(s, s + n).reduce((x, y) => x + y, 0), cts: 0, key: true });
        s += n;
        off += n * fixed;
        left -= n;
      }
      continue;
    }
    for (let k = 0; k < per && s < count; k++, s++) {
      const size = fixed || sizes[s];
      t.samples.push({ offset: off, size, duration: durs[s] ?? 0, cts: ctts[s] ?? 0, key: !stss || keys.has(s) });
      off += size;
    }
  }
  for (const x of t.samples) if (x.offset + x.size > b.length) throw new BadMp4("mp4: a sample lies past the end of the file");
  return t;
}

/** A trak's edit list (mp4_read.c parse_edts): leading empty edits delay the
 * track (track units, rounded to the nearest); the first normal edit's
 * media_time is presented first. Later edits are not applied. */
function readEdits(b: Uint8Array, from: number, to: number, movieTs: number, ts: number): { delay: number; media: number } {
  const out = { delay: 0, media: 0 };
  const edts = child(b, from, to, "edts");
  const elst = edts && child(b, edts[1], edts[2], "elst");
  if (!elst) return out;
  const v = b[elst[1]];
  if (v > 1) throw new BadMp4(`mp4: elst at offset ${elst[1] - 8} has version ${v}`);
  const n = u32(b, elst[1] + 4);
  const size = v === 1 ? 20 : 12;
  if (n * size > elst[2] - elst[1] - 8) throw new BadMp4(`mp4: elst entry count ${n} at offset ${elst[1] - 8} is more than its box holds`);
  let delay = 0;
  for (let i = 0; i < n; i++) {
    const p = elst[1] + 8 + size * i;
    const dur = v === 1 ? u64(b, p) : u32(b, p);
    const hi = u32(b, p + (v === 1 ? 8 : 4));
    const empty = v === 1 ? hi === 0xffffffff && u32(b, p + 12) === 0xffffffff : hi === 0xffffffff;
    if (empty) {
      delay += dur;
      continue;
    }
    if (hi >= 0x80000000) throw new BadMp4(`mp4: elst at offset ${elst[1] - 8}: entry ${i} has a negative media time`);
    out.media = v === 1 ? u64(b, p + 8) : hi;
    break;
  }
  if (delay > 0 && movieTs > 0) out.delay = Math.floor(delay / movieTs) * ts + Math.floor(((delay % movieTs) * ts + Math.floor(movieTs / 2)) / movieTs);
  return out;
}

/** A four-byte code as mp4_read.c's fcc() prints it: 'abcd' when printable (no quote), else 0x%08x. */
function fccOf(b: Uint8Array, at: number): string {
  const c = [...b.subarray(at, at + 4)];
  return c.every((x) => x >= 0x20 && x <= 0x7e && x !== 0x27) ? `'${String.fromCharCode(...c)}'` : `0x${u32(b, at).toString(16).padStart(8, "0")}`;
}

function readMp4(b: Uint8Array): ReadResult {
  if (b.length === 0) throw new BadMp4("mp4: the file is empty");
  if (b.length < 8) throw new BadMp4(`mp4: not an MP4 file (${b.length} bytes, no ftyp box)`);
  if (typeAt(b, 4) !== "ftyp") throw new BadMp4(`mp4: not an MP4 file (it starts with ${fccOf(b, 0)}, not an ftyp box)`);
  // top level: stop at the first box that runs past the end (a torn tail)
  const top: [string, number, number][] = [];
  let at = 0;
  let end = b.length;
  while (at + 8 <= b.length) {
    let size = u32(b, at);
    let hdr = 8;
    if (size === 1) {
      if (at + 16 > b.length) break;
      size = u64(b, at + 8);
      hdr = 16;
    } else if (size === 0) size = b.length - at;
    if (size < hdr) throw new BadMp4(`mp4: bad box size at offset ${at}`);
    if (at + size > b.length) break;
    top.push([typeAt(b, at + 4), at + hdr, at + size]);
    at += size;
  }
  if (!top.length || (top[0][0] !== "ftyp" && !top.some((x) => x[0] === "moov"))) throw new BadMp4("mp4: not an MP4 file (no ftyp or moov)");
  const moov = top.find((x) => x[0] === "moov");
  if (!moov) throw new BadMp4("mp4: no moov box");
  const fragmented = !!child(b, moov[1], moov[2], "mvex");
  const idx: Index = { tracks: [], creationTime: 0 };
  const mvhd = child(b, moov[1], moov[2], "mvhd");
  const movieTs = mvhd ? u32(b, mvhd[1] + (b[mvhd[1]] === 1 ? 20 : 12)) : 0;
  const edits: { delay: number; media: number }[] = [];
  for (const [type, s, e] of boxes(b, moov[1], moov[2])) {
    if (type !== "trak") continue;
    const t = readTrak(b, s, e);
    if (t && idx.tracks.length < 2 && !idx.tracks.some((x) => isVideo(x) === isVideo(t))) {
      idx.tracks.push(t);
      edits.push(readEdits(b, s, e, movieTs, t.timescale));
    }
  }
  if (!idx.tracks.length) throw new BadMp4("mp4: no H.264, H.265 or G.711 track");
  let fragments = 0;
  const nextDts = new Map<number, number>();
  end = at;
  for (let i = 0; i < top.length; i++) {
    const [type, s, e] = top[i];
    if (type !== "moof") continue;
    const start = s - 8;
    const added: [Track, Sample[], number][] = [];
    let ok = true;
    for (const [tt, ts, te] of boxes(b, s, e)) {
      if (tt !== "traf") continue;
      const tfhd = child(b, ts, te, "tfhd");
      if (!tfhd) throw new BadMp4("mp4: traf without tfhd");
      const flags = u32(b, tfhd[1]) & 0xffffff;
      const id = u32(b, tfhd[1] + 4);
      let p = tfhd[1] + 8;
      let base = start;
      if (flags & 1) (base = u64(b, p)), (p += 8);
      if (flags & 2) p += 4;
      let defDur = 0, defSize = 0, defFlags = 0;
      if (flags & 8) (defDur = u32(b, p)), (p += 4);
      if (flags & 0x10) (defSize = u32(b, p)), (p += 4);
      if (flags & 0x20) defFlags = u32(b, p);
      const t = idx.tracks.find((x) => x.id === id);
      if (!t) continue;
      const tfdt = child(b, ts, te, "tfdt");
      let dts = tfdt ? (b[tfdt[1]] === 1 ? u64(b, tfdt[1] + 4) : u32(b, tfdt[1] + 4)) : nextDts.get(id) ?? 0;
      const samples: Sample[] = [];
      const first = dts;
      for (const [rt, rs] of boxes(b, ts, te)) {
        if (rt !== "trun") continue;
        const rf = u32(b, rs) & 0xffffff;
        const n = u32(b, rs + 4);
        let q = rs + 8;
        let off = base;
        if (rf & 1) (off = base + (u32(b, q) | 0)), (q += 4);
        let firstFlags: number | null = null;
        if (rf & 4) (firstFlags = u32(b, q)), (q += 4);
        for (let k = 0; k < n; k++) {
          const dur = rf & 0x100 ? u32(b, (q += 4) - 4) : defDur;
          const size = rf & 0x200 ? u32(b, (q += 4) - 4) : defSize;
          const sf = rf & 0x400 ? u32(b, (q += 4) - 4) : k === 0 && firstFlags !== null ? firstFlags : defFlags;
          const cts = rf & 0x800 ? u32(b, (q += 4) - 4) | 0 : 0;
          if (off + size > b.length) ok = false;
          samples.push({ offset: off, size, duration: dur, cts, key: !(sf & 0x10000) });
          off += size;
          dts += dur;
        }
      }
      added.push([t, samples, first]);
      nextDts.set(id, dts);
    }
    if (!ok) {
      end = start;
      break;
    }
    for (const [t, samples, first] of added) {
      if (!t.samples.length) t.baseDts = first;
      t.samples.push(...samples);
    }
    fragments++;
    end = e;
  }
  if (fragmented) {
    // the end of the playable part: after the last complete fragment's mdat
    let last = 0;
    for (const t of idx.tracks) for (const s of t.samples) last = Math.max(last, s.offset + s.size);
    const lastTop = top.filter((x) => x[2] <= Math.max(last, moov[2])).pop();
    end = lastTop ? Math.max(lastTop[2], moov[2]) : moov[2];
  } else end = b.length;
  // The edit lists: a delayed track starts later (as a tfdt says it in a fragmented file).
  idx.tracks.forEach((t, i) => (t.baseDts += edits[i].delay));
  return { idx, fragmented, end, torn: end < b.length, fragments, mediaStart: edits.map((x) => x.media) };
}

function readFileOrThrow(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(fsReadFile(path));
  } catch (e) {
    throw errnoOf(codeOf(e), `${what} ${path}`);
  }
}

// ------------------------------------------------------------------ Mp4Reader (mp4_reader_js.c)

interface ReaderState {
  path: string;
  bytes: Uint8Array;
  r: ReadResult;
  dtsUs: number[][];
  cursor: number[];
  handle: Handle;
}
const readers = new WeakMap<object, ReaderState | null>();

function readerOf(self: unknown): ReaderState {
  if (!isObject(self) || !readers.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Mp4Reader");
  const s = readers.get(self);
  if (!s) throwQcam("TypeError", "ERR_CLOSED", "Mp4Reader is closed");
  return s;
}

const toUs = (v: number, ts: number) => Math.sign(v) * (Math.floor(Math.abs(v) / ts) * 1e6 + Math.floor(((Math.abs(v) % ts) * 1e6) / ts));

function trackIndex(s: ReaderState, track: unknown, given: boolean, fn: string): number {
  const tracks = s.r.idx.tracks;
  if (!given || track === undefined) {
    const v = tracks.findIndex(isVideo);
    return v >= 0 ? v : 0;
  }
  if (typeof track !== "number") throwQcam("TypeError", "ERR_INVALID_ARG", `${fn}: track must be a track id (a number)`);
  const i = tracks.findIndex((t) => t.id === track);
  if (i < 0) throwQcam("RangeError", "ERR_INVALID_ARG", `${fn}: ${s.path} has no track ${track}`);
  return i;
}

export class Mp4Reader {
  constructor(path: string) {
    if (arguments.length < 1 || typeof path !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", "new Mp4Reader(path: string)");
    const bytes = readFileOrThrow(path, "open");
    let r: ReadResult;
    try {
      r = readMp4(bytes);
    } catch (e) {
      if (e instanceof BadMp4) throwQcam("Error", "EBADMSG", `${e.message}, in ${path}`);
      throw e;
    }
    const dtsUs = r.idx.tracks.map((t, i) => {
      let d = t.baseDts;
      return t.samples.map((s) => {
        const us = toUs(d - r.mediaStart[i], t.timescale);
        d += s.duration;
        return us;
      });
    });
    readers.set(this, { path, bytes, r, dtsUs, cursor: r.idx.tracks.map(() => 0), handle: world.track("Mp4Reader", this) });
  }
  get path(): string {
    return readerOf(this).path;
  }
  get fragmented(): boolean {
    return readerOf(this).r.fragmented;
  }
  get duration(): number {
    return Math.max(0, ...readerOf(this).r.idx.tracks.map((t) => trackDuration(t) / t.timescale));
  }
  get tracks(): Api.Mp4TrackInfo[] {
    return readerOf(this).r.idx.tracks.map((t) => {
      const o: Record<string, unknown> = { id: t.id, kind: isVideo(t) ? "video" : "audio", codec: t.codec };
      if (isVideo(t)) Object.assign(o, { width: t.width, height: t.height });
      else Object.assign(o, { sampleRate: t.sampleRate, channels: t.channels });
      Object.assign(o, { timescale: t.timescale, duration: trackDuration(t) / t.timescale, samples: t.samples.length });
      return o as unknown as Api.Mp4TrackInfo;
    });
  }
  samples(track?: number): Api.Mp4Sample[] {
    const s = readerOf(this);
    const only = track === undefined ? -1 : trackIndex(s, track, true, "samples");
    const at = s.r.idx.tracks.map(() => 0);
    const out: Api.Mp4Sample[] = [];
    for (;;) {
      let pick = -1;
      s.r.idx.tracks.forEach((t, i) => {
        if ((only >= 0 && i !== only) || at[i] >= t.samples.length) return;
        if (pick < 0 || s.dtsUs[i][at[i]] < s.dtsUs[pick][at[pick]]) pick = i;
      });
      if (pick < 0) break;
      const t = s.r.idx.tracks[pick], k = at[pick]++, x = t.samples[k];
      const dts = s.dtsUs[pick][k];
      out.push({ track: t.id, index: k, ptsUs: dts + toUs(x.cts, t.timescale), dtsUs: dts, durationUs: toUs(x.duration, t.timescale), keyframe: x.key, size: x.size, offset: x.offset });
    }
    return out;
  }
  read(track?: number): Frame | null {
    const s = readerOf(this);
    const ti = trackIndex(s, track, arguments.length > 0, "read");
    const t = s.r.idx.tracks[ti];
    const k = s.cursor[ti];
    if (k >= t.samples.length) return null;
    const x = t.samples[k];
    const raw = s.bytes.subarray(x.offset, x.offset + x.size);
    const dts = s.dtsUs[ti][k];
    let pkt: Packet;
    if (isVideo(t)) {
      const parts: Uint8Array[] = [];
      const sc = Uint8Array.of(0, 0, 0, 1);
      let hasSps = false;
      const units: Uint8Array[] = [];
      for (let p = 0; p + 4 <= raw.length; ) {
        const n = u32(raw, p);
        if (p + 4 + n > raw.length) throwQcam("Error", "EBADMSG", `mp4: sample ${k} of track ${t.id} has a NAL unit length running past its end, in ${s.path}`);
        const nal = raw.subarray(p + 4, p + 4 + n);
        const type = t.codec === "h264" ? nal[0] & 0x1f : (nal[0] >> 1) & 0x3f;
        if (type === (t.codec === "h264" ? 7 : 33)) hasSps = true;
        units.push(nal);
        p += 4 + n;
      }
      if (x.key && !hasSps && t.config) for (const ps of configNals(t)) parts.push(sc, ps);
      for (const u of units) parts.push(sc, u);
      const data = concat(parts, parts.reduce((n, p) => n + p.length, 0));
      pkt = { codec: t.codec, type: x.key ? "I" : "P", keyframe: x.key, data: data.slice(), ptsUs: dts + toUs(x.cts, t.timescale), dtsUs: dts, seq: k };
    } else {
      pkt = { codec: t.codec, type: "audio", keyframe: true, data: raw.slice(), ptsUs: dts, dtsUs: dts, seq: k, sampleRate: t.sampleRate, samples: Math.floor(x.size / (t.channels || 1)) };
    }
    s.cursor[ti] = k + 1;
    return world.exposed<(p: Packet) => Frame>("video.frame")!(pkt);
  }
  seek(seconds: number, track?: number): number {
    const s = readerOf(this);
    if (arguments.length < 1 || typeof seconds !== "number" || !Number.isFinite(seconds)) throwQcam("TypeError", "ERR_INVALID_ARG", "seek(seconds: number, track?: number)");
    const ti = trackIndex(s, track, arguments.length > 1, "seek");
    const t = s.r.idx.tracks[ti];
    let best = 0, found = false;
    t.samples.forEach((x, k) => {
      if (!x.key) return;
      const pts = s.dtsUs[ti][k] + toUs(x.cts, t.timescale);
      if (!found || pts <= seconds * 1e6) best = k;
      found = true;
    });
    s.cursor[ti] = best;
    return t.samples.length ? (s.dtsUs[ti][best] + toUs(t.samples[best].cts, t.timescale)) / 1e6 : 0;
  }
  close(): void {
    if (!isObject(this) || !readers.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Mp4Reader");
    const s = readers.get(this);
    if (!s) return;
    readers.set(this, null);
    s.handle.release();
  }
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(Mp4Reader.prototype, Symbol.dispose, { value: Mp4Reader.prototype.close, writable: true, configurable: true });
Object.defineProperty(Mp4Reader.prototype, Symbol.toStringTag, { value: "Mp4Reader", configurable: true });

/** The parameter sets in an avcC / hvcC record. */
function configNals(t: Track): Uint8Array[] {
  const c = t.config!;
  const out: Uint8Array[] = [];
  if (t.codec === "h264") {
    let p = 5;
    const nSps = c[p++] & 0x1f;
    for (let i = 0; i < nSps; i++) {
      const n = u16(c, p);
      out.push(c.subarray(p + 2, p + 2 + n));
      p += 2 + n;
    }
    const nPps = c[p++];
    for (let i = 0; i < nPps; i++) {
      const n = u16(c, p);
      out.push(c.subarray(p + 2, p + 2 + n));
      p += 2 + n;
    }
  } else {
    let p = 23;
    const arrays = c[22];
    for (let a = 0; a < arrays; a++) {
      const n = u16(c, p + 1);
      p += 3;
      for (let i = 0; i < n; i++) {
        const len = u16(c, p);
        out.push(c.subarray(p + 2, p + 2 + len));
        p += 2 + len;
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------ repair (mp4_repair.c)

export function repair(path: string, options?: { finalize?: boolean }): Api.RepairResult {
  const usage = "repair(path: string, options?: {finalize?: boolean})";
  if (arguments.length < 1 || typeof path !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", usage);
  let finalize = true;
  if (options !== undefined) {
    if (!isObject(options)) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
    checkKeys(options, "repair", ["finalize"]);
    const f = (options as Record<string, unknown>).finalize;
    if (f !== undefined) {
      if (typeof f !== "boolean") throwQcam("TypeError", "ERR_INVALID_ARG", "repair: finalize must be a boolean");
      finalize = f;
    }
  }
  const bytes = readFileOrThrow(path, "repair");
  const unrecoverable = (reason: string): Api.RepairResult => ({ status: "unrecoverable", droppedBytes: 0, videoFrames: 0, audioFrames: 0, duration: 0, reason });
  let r: ReadResult;
  try {
    r = readMp4(bytes);
  } catch (e) {
    if (e instanceof BadMp4) return unrecoverable(e.message);
    throw e;
  }
  const count = (video: boolean) => r.idx.tracks.filter((t) => isVideo(t) === video).reduce((n, t) => n + t.samples.length, 0);
  const result = (status: "ok" | "repaired", dropped: number): Api.RepairResult => ({
    status,
    droppedBytes: dropped,
    videoFrames: count(true),
    audioFrames: count(false),
    duration: Math.max(0, ...r.idx.tracks.map((t) => trackDuration(t) / t.timescale)),
  });
  if (r.fragmented && r.fragments === 0) return unrecoverable("mp4: no complete fragment");
  if (!r.fragmented || (!finalize && !r.torn)) return result("ok", 0);
  const dropped = bytes.length - r.end;
  try {
    if (finalize) finalizeFile(path, r.idx);
    else {
      const f = fsOpen(path, "r+");
      f.truncate(r.end);
      f.close();
    }
  } catch (e) {
    throw errnoOf(codeOf(e), `repair ${path}`);
  }
  return result("repaired", dropped);
}

// ------------------------------------------------------------------ remux (mp4_remux.c)

/** remux(): the same samples, chunks (about a second of frames each) and bytes as qcam_mp4_remux; written beside the output and renamed over it. */
export function remux(input: string, output: string, ...rest: [options?: Api.RemuxOptions]): Api.RemuxResult {
  const options = rest[0];
  const usage = 'remux(input: string, output: string, options?: {fps?: number, codec?: "h264" | "h265"})';
  if (arguments.length < 2) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
  let fps = 30;
  let codec: "h264" | "h265" | undefined;
  if (options !== undefined) {
    if (!isObject(options)) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
    const o = options as Record<string, unknown>;
    checkKeys(o, "remux", ["fps", "codec"]);
    if (o.fps !== undefined) {
      if (typeof o.fps !== "number") bad("TypeError", "remux: fps must be a number (0 < fps <= 240)");
      if (!((o.fps as number) > 0 && (o.fps as number) <= 240)) bad("RangeError", "remux: fps must be a number (0 < fps <= 240)");
      fps = o.fps as number;
    }
    if (o.codec !== undefined) {
      if (o.codec !== "h264" && o.codec !== "h265") bad("TypeError", 'remux: codec must be "h264" or "h265"');
      codec = o.codec as "h264" | "h265";
    }
  }
  for (const p of [input, output]) {
    if (typeof p !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", usage);
    if (p.includes("\0")) bad("TypeError", "remux: a path contains a NUL byte");
  }
  if (!codec) {
    const dot = input.lastIndexOf(".");
    const ext = dot >= 0 && !input.slice(dot).includes("/") ? input.slice(dot) : "";
    codec = [".h264", ".264", ".avc"].includes(ext) ? "h264" : [".h265", ".265", ".hevc"].includes(ext) ? "h265" : undefined;
  }
  if (!codec) bad("TypeError", 'remux: cannot tell the codec from the file name: pass {codec: "h264" | "h265"}');
  const c = codec!;
  const failed = (e: unknown): never => {
    throw errnoOf(codeOf(e), `cannot remux ${input} to ${output}`);
  };
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fsReadFile(input));
  } catch (e) {
    return failed(e);
  }

  // pass 1: the index
  const whole = Math.floor(fps);
  const timescale = fps === whole && 90000 % whole !== 0 ? whole * 1000 : 90000;
  const dts = (i: number) => Math.round((i * timescale) / fps);
  const t: Track = { id: 1, codec: c, timescale, width: 0, height: 0, config: null, sampleRate: 0, channels: 0, samples: [], baseDts: 0 };
  const parts: Uint8Array[] = [];
  let payload = 0, keyframes = 0, dropped = 0, badParams = false;
  for (const au of splitAus(c, bytes)) {
    let vcl = false, key = false, size = 0;
    const kept: Uint8Array[] = [];
    for (const { type, bytes: nal } of nals(c, au)) {
      if (c === "h264" ? type === 7 || type === 8 || type === 9 || type === 13 : type >= 32 && type <= 35) continue;
      if (c === "h264" ? type >= 1 && type <= 5 : type <= 31) vcl = true;
      if (c === "h264" ? type === 5 : type >= 16 && type <= 23) key = true;
      kept.push(nal);
      size += 4 + nal.length;
    }
    if (!vcl) continue;
    if (!t.config) {
      const p = key ? findParams(c, au) : {};
      const cfg = p.sps && p.pps && (c === "h264" || p.vps) ? makeConfig(c, p.vps, p.sps, p.pps) : null;
      if (!cfg || cfg.width <= 0 || cfg.height <= 0) {
        if (key) badParams = true;
        dropped++;
        continue;
      }
      t.config = cfg.config;
      t.width = cfg.width;
      t.height = cfg.height;
    }
    const i = t.samples.length;
    t.samples.push({ offset: payload, size, duration: dts(i + 1) - dts(i), cts: 0, key });
    for (const nal of kept) {
      const hdr = new Uint8Array(4);
      new DataView(hdr.buffer).setUint32(0, nal.length);
      parts.push(hdr, nal);
    }
    payload += size;
    if (key) keyframes++;
  }
  if (!t.samples.length)
    throwQcam("Error", "EBADMSG", `${badParams ? "no keyframe with usable parameter sets" : "no keyframe"} in ${input} (not an ${c === "h264" ? "H.264" : "H.265"} elementary stream, or cut before its first picture)`);

  // the file: head, then the samples
  const n = t.samples.length;
  const per = fps >= 1.5 ? Math.round(fps) : 1;
  const first: number[] = [];
  for (let k = 0; k < n; k += per) first.push(k);
  const idx: Index = { tracks: [t], creationTime: Math.floor(world.wallUs() / 1e6) + 2082844800 };
  const head = writeHead(idx, [first], [first.map((k) => t.samples[k].offset)], payload);
  const out = new Uint8Array(head.len + payload);
  out.set(head.view());
  let pos = head.len;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  const slash = output.lastIndexOf("/");
  const dir = slash > 0 ? output.slice(0, slash) : "/";
  const base = output.slice(slash + 1);
  if (!base) failed(Object.assign(new Error("a folder"), { code: "EISDIR" }));
  const tmp = `${dir === "/" ? "" : dir}/.${base}.remux`;
  let f: FsFile | null = null; // (a writer's open makes missing folders)
  try {
    f = fsOpen(tmp, "w");
    f.write(out, 0);
    f.close();
    f = null;
    fsRename(tmp, output);
  } catch (e) {
    try {
      f?.close();
      fsRemove(tmp);
    } catch {
      /* not made, or gone already */
    }
    failed(e);
  }
  return { frames: n, keyframes, dropped, duration: trackDuration(t) / timescale, size: out.length, codec: c, width: t.width, height: t.height };
}
