// Build and run the libFuzzer targets listed below, with Debian's clang
// (ASan + UBSan + libFuzzer). One target per parser of untrusted input, each
// beside its parser as fuzz_NAME.c (runtime/fuzz_image.c,
// host-modules/mp4/fuzz_mp4.c, ...; CMake leaves fuzz_* out of the runtime),
// sharing test/c/fuzz_common.h:
//   image    qcam_image_verify (runtime/image.c): app images
//   annexb   the Annex B splitter and EsReader (host-modules/video/annexb.c,
//            es_reader.c): .h264/.h265 files and bytes from JavaScript
//   y4m      the sim camera's Y4M reader (host-modules/camera/backend_sim.c)
//   mp4      the MP4 reader (host-modules/mp4/mp4_read.c): .mp4/.mov files
//            (seeds: test/fuzz-mp4.ts)
//   rtsp     RTSP requests, Transport, '$' frames, Digest, RTP depacketizer
//            (host-modules/rtsp/): bytes from the network (seeds: test/fuzz-rtsp.ts)
//   wav      the sim microphone's WAV reader and G.711 (host-modules/audio/wav.c,
//            backend_sim.c, g711.c): .wav files on the card (seeds: test/fuzz-wav.ts)
//   ts       the MPEG-TS reader (host-modules/ts/ts_read.c): .ts files
//            (seeds: test/fuzz-ts.ts)
//   store    the app store's state record, key list and dev-link store requests
//            (runtime/store/store_text.c; seeds: test/fuzz-store.ts)
// Layout, for a target NAME:
//   out/fuzz/fuzz_NAME            the target
//   out/fuzz/corpus-NAME/         seed corpus (seed-* files are rewritten; others kept)
//   out/fuzz/corpus-work-NAME/    what long runs (test/fuzz-long.ts) add
//                                 (the image target's is out/fuzz/corpus-work/)
//   out/fuzz/NAME.dict            libFuzzer dictionary, when the target has one
//   out/fuzz/media/               ffmpeg-made clips the seeds are cut from (cache)
//   out/fuzz/artifacts/NAME-*     crash-*, leak-*, timeout-*, oom-* inputs
// Every target prints one "qcam-fuzz: key=value ..." line per input when
// QCAM_FUZZ_TRACE=1; each seed says which values it must produce, so the
// seeds are known to reach what they were made for.
// The image target's expectations come from the host build's build-info.json,
// the same facts packImage writes, so its seeds verify.
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildFlavor, readBuildInfo, type BuildInfo } from "../build/cmake.ts";
import { packImage, sealImage, OFF, DIGEST_SIZE, FLAG_DEBUG_INFO, type AppImage } from "../build/image.ts";
import { BuildError, step } from "../build/log.ts";
import { signatureOffset, signImage } from "../build/sign.ts";
import { OUT, ROOT } from "../build/paths.ts";
import { ffmpegFile, MEDIA } from "./fuzz-media.ts";
import { MP4_DICT, mp4Seeds } from "./fuzz-mp4.ts";
import { RTSP_DICT, rtspSeeds } from "./fuzz-rtsp.ts";
import { WAV_DICT, wavSeeds } from "./fuzz-wav.ts";
import { STORE_DICT, storeSeeds } from "./fuzz-store.ts";
import { TS_DICT, tsSeeds } from "./fuzz-ts.ts";
import { envCount, spawnChild, spawnSyncChild, tmpDir } from "./helpers.ts";

export type TargetName = "image" | "annexb" | "y4m" | "mp4" | "ts" | "rtsp" | "wav" | "store";
export const TARGET_NAMES: readonly TargetName[] = ["image", "annexb", "y4m", "mp4", "ts", "rtsp", "wav", "store"];

export const FUZZ_DIR = path.join(OUT, "fuzz");
/** How long each bounded fuzz run of npm test lasts (QCAM_FUZZ_SECONDS, default 5): at least a second, as 0 would run nothing and pass. */
export const FUZZ_SECONDS = envCount("QCAM_FUZZ_SECONDS", 5, 1);
export const ARTIFACTS = path.join(FUZZ_DIR, "artifacts");
export const MEDIA_CACHE = MEDIA;

export interface TargetPaths {
  binary: string;
  seeds: string;
  work: string;
  dict: string;
  /** libFuzzer -artifact_prefix. */
  artifactPrefix: string;
}

export function targetPaths(name: TargetName): TargetPaths {
  return {
    binary: path.join(FUZZ_DIR, `fuzz_${name}`),
    seeds: path.join(FUZZ_DIR, `corpus-${name}`),
    work: path.join(FUZZ_DIR, name === "image" ? "corpus-work" : `corpus-work-${name}`),
    dict: path.join(FUZZ_DIR, `${name}.dict`),
    artifactPrefix: path.join(ARTIFACTS, `${name}-`),
  };
}

// The image target's paths, as before the other targets came.
export const FUZZ_BINARY = targetPaths("image").binary;
export const SEED_CORPUS = targetPaths("image").seeds;
export const WORK_CORPUS = targetPaths("image").work;

const CFLAGS = [
  "-fsanitize=fuzzer,address,undefined",
  "-fno-sanitize-recover=all", // undefined behaviour is a crash, not a warning
  "-g",
  "-O1",
  "-std=c11",
  "-D_POSIX_C_SOURCE=200809L",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-Wshadow",
  "-Wstrict-prototypes",
  "-I",
  "test/c", // fuzz_common.h
];

/** A seed: the bytes the target reads (control bytes first) and the values
 * its trace line must show for them. */
export interface Seed {
  name: string;
  data: Buffer;
  expect: Record<string, string | number>;
}

interface TargetDef {
  /** What is fuzzed, for messages. */
  title: string;
  sources: string[];
  includes: string[];
  libs: string[];
  maxLen: number;
  /** Dictionary entries (raw bytes). */
  dict: Buffer[];
  defines(ctx: Context): string[];
  seeds(ctx: Context): Seed[];
}

/** What building and seeding may need; filled lazily. */
interface Context {
  info(): BuildInfo;
}

export function hasClang(): boolean {
  const r = spawnSyncChild("clang", ["--version"], { encoding: "utf8" });
  return r.status === 0;
}

/** Build info of the host flavor (building it if it is missing). */
export function hostBuildInfo(): BuildInfo {
  try {
    return readBuildInfo("host");
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    return buildFlavor("host");
  }
}

function context(info?: BuildInfo): Context {
  let cached = info;
  return { info: () => (cached ??= hostBuildInfo()) };
}

// ---- image: qcam_image_verify (runtime/fuzz_image.c) ----------------------

// Status codes of enum qcam_image_status (runtime/image.h).
export const Status = {
  ok: 0,
  magic: 11,
  format: 12,
  truncated: 13,
  checksum: 14,
  engine: 15,
  bytecode: 16,
  target: 17,
  abi: 18,
  sections: 19,
  signature: 24,
} as const;

/** The image target's control byte (see runtime/fuzz_image.c). */
export const Mode = { raw: 0, seal: 1, sizeSeal: 2, any: 3 } as const;

export function expectDefines(info: BuildInfo): string[] {
  const [major, minor, patch] = info.engine.split(".").map(Number);
  if (![major, minor, patch].every((n) => Number.isInteger(n) && n >= 0 && n <= 255))
    throw new BuildError(`bad engine version in build info: ${info.engine}`);
  if (!/^[0-9a-f]{64}$/.test(info.abi)) throw new BuildError(`bad ABI hash in build info: ${info.abi}`);
  return [
    `-DQCAM_ENGINE_MAJOR=${major}`,
    `-DQCAM_ENGINE_MINOR=${minor}`,
    `-DQCAM_ENGINE_PATCH=${patch}`,
    `-DQCAM_BC_VERSION=${info.bytecode}`,
    `-DQCAM_TARGET_ID=${info.targetId}`,
    `-DQCAM_ABI_HASH="${info.abi}"`,
  ];
}

export interface ImageSeed extends Seed {
  /** Status the target's verify call must return for it. */
  status: number;
}

const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);
const withMode = (mode: number, img: Buffer) => Buffer.concat([Buffer.from([mode]), img]);

/** Apply an edit to a packed image and recompute its digest. */
function edit(img: Buffer, f: (b: Buffer) => void, seal = true): Buffer {
  const b = Buffer.from(img);
  f(b);
  if (seal) sealImage(b);
  return b;
}

/** Valid images for `info` and broken variants of them, one per check. */
export function seeds(info: BuildInfo): ImageSeed[] {
  const base: Omit<AppImage, "sections"> = {
    formatVersion: 1,
    engine: info.engine,
    bytecodeVersion: info.bytecode,
    targetId: info.targetId,
    flags: 0,
    abiHash: info.abi,
    entryName: "main.js",
    entrySection: 0,
  };
  const manifest = Buffer.from(JSON.stringify({ id: "fuzz.seed", name: "Seed", version: "1.0.0", builtAt: "2024-01-01T00:00:00Z" }));
  const minimal = packImage({ ...base, sections: [{ type: 1, data: Buffer.from([info.bytecode, 1, 2, 3, 4, 5]) }] });
  const full = packImage({
    ...base,
    flags: FLAG_DEBUG_INFO,
    entryName: "app/entry-module-with-long-name.js".slice(0, 32),
    entrySection: 1,
    sections: [
      { type: 2, data: manifest },
      { type: 1, data: bytes(37, 0xb1) },
      { type: 1, flags: 7, data: bytes(64, 0xb2) },
      { type: 3, data: Buffer.from(`sha256:${"0".repeat(64)}`, "latin1") },
      { type: 4, data: Buffer.alloc(0) },
      { type: 99, data: bytes(3, 0xff) },
    ],
  });
  const many = packImage({
    ...base,
    entrySection: 63,
    sections: Array.from({ length: 64 }, (_, i) => ({ type: i === 63 ? 1 : (i % 4) + 1, data: bytes(i === 63 ? 4 : i % 3, i) })),
  });
  const sec = (i: number) => 96 + 16 * i; // section table entry i
  const s: ImageSeed[] = [];
  const add = (name: string, status: number, img: Buffer, mode: number = Mode.raw) => s.push({ name, status, data: withMode(mode, img), expect: { status } });

  add("valid-minimal", Status.ok, minimal);
  add("valid-full", Status.ok, full);
  add("valid-64-sections", Status.ok, many);
  add("valid-minimal-seal", Status.ok, minimal, Mode.seal);
  add("valid-full-size-seal", Status.ok, full, Mode.sizeSeal);
  add("valid-full-any", Status.ok, edit(full, (b) => b.writeUInt8(200, OFF.engineMajor)), Mode.any);
  add("valid-minimal-msg1", Status.ok, minimal, Mode.raw | (1 << 2));

  add("empty", Status.truncated, Buffer.alloc(0));
  add("magic-only", Status.truncated, minimal.subarray(0, 8));
  add("bad-magic", Status.magic, edit(minimal, (b) => (b[3] ^= 0x20)));
  add("bad-magic-short-msg", Status.magic, edit(minimal, (b) => (b[0] = 0)), Mode.raw | (5 << 2));
  add("format-2", Status.format, edit(minimal, (b) => b.writeUInt16LE(2, OFF.formatVersion)));
  add("header-size-64", Status.format, edit(minimal, (b) => b.writeUInt16LE(64, OFF.headerSize)));
  add("truncated", Status.truncated, minimal.subarray(0, minimal.length - 1));
  add("oversized", Status.truncated, Buffer.concat([minimal, Buffer.alloc(8)]));
  add("size-field-huge", Status.truncated, edit(minimal, (b) => b.writeUInt32LE(0xffffffff, OFF.imageSize)));
  add("digest-flipped", Status.checksum, edit(minimal, (b) => (b[b.length - 1] ^= 1), false));
  add("payload-flipped", Status.checksum, edit(full, (b) => (b[b.length - DIGEST_SIZE - 1] ^= 1), false));
  add("engine-other", Status.engine, edit(minimal, (b) => b.writeUInt8((b[OFF.enginePatch] + 1) & 0xff, OFF.enginePatch)));
  add("bytecode-other", Status.bytecode, edit(minimal, (b) => b.writeUInt8((info.bytecode + 1) & 0xff, OFF.bytecodeVersion)));
  add("target-other", Status.target, edit(minimal, (b) => b.writeUInt16LE(info.targetId === 1 ? 2 : 1, OFF.target)));
  add("target-maixcam", Status.target, edit(minimal, (b) => b.writeUInt16LE(info.targetId === 3 ? 4 : 3, OFF.target)));
  add("target-k230", Status.target, edit(minimal, (b) => b.writeUInt16LE(info.targetId === 4 ? 3 : 4, OFF.target)));
  add("target-unknown", Status.target, edit(minimal, (b) => b.writeUInt16LE(0xbeef, OFF.target)));
  add("abi-other", Status.abi, edit(minimal, (b) => (b[OFF.abiHash + 31] ^= 1)));
  add("sections-0", Status.sections, edit(minimal, (b) => b.writeUInt16LE(0, OFF.sectionCount)));
  add("sections-65", Status.sections, edit(many, (b) => b.writeUInt16LE(65, OFF.sectionCount)));
  add("table-past-end", Status.sections, edit(minimal, (b) => b.writeUInt16LE(40, OFF.sectionCount)));
  add("section-in-table", Status.sections, edit(full, (b) => b.writeUInt32LE(sec(2), sec(1) + 8)));
  add("section-in-header", Status.sections, edit(full, (b) => b.writeUInt32LE(0, sec(1) + 8)));
  add("section-past-end", Status.sections, edit(full, (b) => b.writeUInt32LE(b.length, sec(1) + 8)));
  add("section-into-digest", Status.sections, edit(minimal, (b) => b.writeUInt32LE(b.readUInt32LE(sec(0) + 12) + 64, sec(0) + 12)));
  add("section-size-wraps", Status.sections, edit(full, (b) => b.writeUInt32LE(0xffffffff, sec(1) + 12)));
  add("section-offset-wraps", Status.sections, edit(full, (b) => b.writeUInt32LE(0xfffffff8, sec(1) + 8)));
  add("entry-out-of-range", Status.sections, edit(full, (b) => b.writeUInt16LE(6, OFF.entrySection)));
  add("entry-not-bytecode", Status.sections, edit(full, (b) => b.writeUInt16LE(0, OFF.entrySection)));
  add("entry-empty", Status.sections, edit(minimal, (b) => b.writeUInt32LE(0, sec(0) + 12)));
  add("entry-no-name", Status.sections, edit(minimal, (b) => b.fill(0, OFF.entryName, OFF.entryName + 32)));
  add("entry-name-32", Status.ok, edit(minimal, (b) => b.fill(0x61, OFF.entryName, OFF.entryName + 32)));
  add("size-seal-fixes-size", Status.ok, edit(minimal, (b) => b.writeUInt32LE(1, OFF.imageSize), false), Mode.sizeSeal);
  add("seal-fixes-digest", Status.ok, edit(full, (b) => b.fill(0, b.length - DIGEST_SIZE), false), Mode.seal);
  // Signed images (Ed25519 over the signing digest, build/sign.ts): a key made for the run.
  const key = generateKeyPairSync("ed25519").privateKey;
  const signedFull = signImage(full, key);
  const sigAt = signatureOffset(signedFull);
  add("signed-valid", Status.ok, signedFull);
  add("signed-payload-changed", Status.signature, edit(signedFull, (b) => (b[sigAt - 9] ^= 1)));
  add("signed-signature-changed", Status.signature, edit(signedFull, (b) => (b[sigAt + 32] ^= 1)));
  add("signed-key-changed", Status.signature, edit(signedFull, (b) => (b[sigAt] ^= 1)));
  add("signed-section-short", Status.sections, edit(signedFull, (b) => b.writeUInt32LE(95, 96 + 16 * 6 + 12)));
  add("signed-twice", Status.sections, edit(signedFull, (b) => b.writeUInt32LE(5, 96 + 16 * 5)));
  add("seal-then-sections", Status.sections, edit(full, (b) => b.writeUInt32LE(b.length, sec(3) + 8), false), Mode.seal);
  return s;
}

// ---- clips made by ffmpeg (cached under out/fuzz/media/) ------------------

/** The output of `ffmpeg <args> <file>`, made once and kept by its arguments.
 * `args` must name the output format (-f), the file has no telling suffix. */
function ffmpegBytes(args: string[]): Buffer {
  return fs.readFileSync(ffmpegFile(args, "bin"));
}

/** ffprobe's count of frames and key frames in a raw stream (cached too). */
function probeEs(data: Buffer, format: "h264" | "hevc"): { frames: number; keyframes: number } {
  const key = createHash("sha256").update(data).digest("hex").slice(0, 20);
  const json = path.join(MEDIA_CACHE, `${key}.probe.json`);
  if (fs.existsSync(json)) return JSON.parse(fs.readFileSync(json, "utf8"));
  fs.mkdirSync(MEDIA_CACHE, { recursive: true });
  const es = path.join(MEDIA_CACHE, `${key}.${format}`);
  fs.writeFileSync(es, data);
  const r = spawnSyncChild("ffprobe", ["-v", "error", "-f", format, "-show_entries", "frame=key_frame", "-of", "csv=p=0", es], { encoding: "utf8" });
  fs.rmSync(es, { force: true });
  if (r.error || r.status !== 0) throw new BuildError(`ffprobe on a ${format} clip failed: ${r.error?.message ?? r.stderr}`);
  const flags = r.stdout.split("\n").map((l) => l.trim().replace(/,+$/, "")).filter((l) => l !== "");
  const out = { frames: flags.length, keyframes: flags.filter((f) => f === "1").length };
  fs.writeFileSync(json, JSON.stringify(out));
  return out;
}

const testsrc = (size: string, rate: string, frames: number) => ["-f", "lavfi", "-i", `testsrc=size=${size}:rate=${rate}`, "-frames:v", String(frames)];

// ---- annexb: the Annex B splitter and EsReader (host-modules/video/fuzz_annexb.c)

type EsCodec = "h264" | "h265";

/** Control byte: bit 0 the codec, bits 1..7 the streaming chunk size. */
export function annexbControl(codec: EsCodec, chunk: number): number {
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > 127) throw new Error(`chunk ${chunk} outside 1..127`);
  return (chunk << 1) | (codec === "h265" ? 1 : 0);
}

const ES_CLIPS: { name: string; codec: EsCodec; frames: number; args: string[] }[] = [
  { name: "h264-baseline", codec: "h264", frames: 4, args: ["-c:v", "libx264", "-profile:v", "baseline", "-g", "2", "-threads", "1"] },
  { name: "h264-bframes-aud-slices", codec: "h264", frames: 6, args: ["-c:v", "libx264", "-bf", "2", "-g", "4", "-threads", "1", "-x264-params", "aud=1:slices=2"] },
  { name: "h264-slices-repeat-headers", codec: "h264", frames: 3, args: ["-c:v", "libx264", "-threads", "1", "-x264-params", "slices=3:repeat-headers=1"] },
  { name: "h265-main", codec: "h265", frames: 4, args: ["-c:v", "libx265", "-x265-params", "log-level=none:keyint=2:bframes=0:pools=none:frame-threads=1"] },
  { name: "h265-bframes-aud", codec: "h265", frames: 6, args: ["-c:v", "libx265", "-x265-params", "log-level=none:bframes=2:keyint=4:aud=1:repeat-headers=1:pools=none:frame-threads=1"] },
  { name: "h265-slices", codec: "h265", frames: 3, args: ["-c:v", "libx265", "-x265-params", "log-level=none:ctu=16:slices=3:pools=none:frame-threads=1"] },
];

function replaceAll(b: Buffer, from: Buffer, to: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (let i = b.indexOf(from, at); i >= 0; i = b.indexOf(from, at)) {
    parts.push(b.subarray(at, i), to);
    at = i + from.length;
  }
  parts.push(b.subarray(at));
  return Buffer.concat(parts);
}

/** libx264/libx265 clips (64x48) in several shapes, as they are and damaged.
 * An intact clip must split into as many access units as ffprobe finds
 * frames, with as many key frames. */
export function annexbSeeds(): Seed[] {
  const s: Seed[] = [];
  const add = (name: string, codec: EsCodec, chunk: number, es: Buffer, expect: Record<string, number> = {}) =>
    s.push({ name, data: Buffer.concat([Buffer.from([annexbControl(codec, chunk)]), es]), expect: { codec, ...expect } });
  const clips = new Map<string, { es: Buffer; codec: EsCodec; frames: number; keyframes: number }>();
  for (const c of ES_CLIPS) {
    const es = ffmpegBytes([...testsrc("64x48", "10", c.frames), "-pix_fmt", "yuv420p", ...c.args, "-f", c.codec === "h264" ? "h264" : "hevc"]);
    const p = probeEs(es, c.codec === "h264" ? "h264" : "hevc");
    if (p.frames !== c.frames) throw new BuildError(`ffprobe finds ${p.frames} frames in the ${c.name} seed clip, made with ${c.frames}`);
    clips.set(c.name, { es, codec: c.codec, frames: p.frames, keyframes: p.keyframes });
    add(c.name, c.codec, 16, es, { aus: p.frames, keyframes: p.keyframes });
  }
  const four = Buffer.from([0, 0, 0, 1]), three = Buffer.from([0, 0, 1]);
  for (const name of ["h264-bframes-aud-slices", "h265-bframes-aud"]) {
    const c = clips.get(name)!;
    const same = { aus: c.frames, keyframes: c.keyframes };
    add(`${name}-chunk-127`, c.codec, 127, c.es, same);
    add(`${name}-junk-before`, c.codec, 7, Buffer.concat([Buffer.from("qcam junk before the first start code"), c.es]), same);
    add(`${name}-3-byte-start-codes`, c.codec, 5, replaceAll(c.es, four, three), same);
    add(`${name}-trailing-zeros`, c.codec, 9, Buffer.concat([c.es, Buffer.alloc(9)]), same);
    add(`${name}-cut`, c.codec, 16, c.es.subarray(0, c.es.length - 3));
    add(`${name}-cut-half`, c.codec, 3, c.es.subarray(0, c.es.length >> 1));
    add(`${name}-other-codec`, c.codec === "h264" ? "h265" : "h264", 16, c.es);
  }
  // Every split point (chunk 1) costs time quadratic in the unit size: small clips only.
  for (const [name, chunk] of [["h264-slices-repeat-headers", 1], ["h265-slices", 2]] as const) {
    const c = clips.get(name)!;
    add(`${name}-chunk-${chunk}`, c.codec, chunk, c.es, { aus: c.frames, keyframes: c.keyframes });
  }
  const a = clips.get("h264-baseline")!, b = clips.get("h264-slices-repeat-headers")!;
  add("h264-two-streams", "h264", 32, Buffer.concat([a.es, b.es]), { aus: a.frames + b.frames, keyframes: a.keyframes + b.keyframes });
  const h = clips.get("h265-slices")!;
  add("h265-two-streams", "h265", 32, Buffer.concat([h.es, h.es]), { aus: 2 * h.frames, keyframes: 2 * h.keyframes });
  for (const codec of ["h264", "h265"] as const) {
    add(`${codec}-empty`, codec, 1, Buffer.alloc(0), { aus: 0 });
    add(`${codec}-no-start-code`, codec, 4, Buffer.from("no start code in here, only text"), { aus: 0 });
    add(`${codec}-start-codes-only`, codec, 2, Buffer.from([0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1]));
    add(`${codec}-zeros`, codec, 3, Buffer.alloc(64));
  }
  add("h264-lone-aud", "h264", 1, Buffer.from([0, 0, 0, 1, 0x09, 0x10]), { aus: 1, keyframes: 0 });
  add("h265-lone-aud", "h265", 1, Buffer.from([0, 0, 0, 1, 0x46, 0x01, 0x10]), { aus: 1, keyframes: 0 });
  return s;
}

const ANNEXB_DICT = [
  [0, 0, 1],
  [0, 0, 0, 1],
  [0, 0, 3],
  [0x09, 0x10], // H.264 AUD
  [0x67], [0x68], [0x65, 0x88], [0x41, 0x9a], [0x06, 0x05], // H.264 SPS, PPS, IDR, P, SEI
  [0x46, 0x01], [0x40, 0x01], [0x42, 0x01], [0x44, 0x01], [0x26, 0x01], [0x02, 0x01], [0x4e, 0x01], // H.265 AUD VPS SPS PPS IDR TRAIL SEI
].map((b) => Buffer.from(b));

// ---- y4m: the sim camera's Y4M reader (host-modules/camera/fuzz_y4m.c) ----

const PIXFMTS = ["nv21", "nv12", "yuv420p", "rgb888", "gray"] as const;
type PixFmt = (typeof PIXFMTS)[number];

export interface Y4mControl {
  main: PixFmt;
  /** The extra channel's format; undefined: none. */
  extra?: PixFmt;
  /** Extra channel size: the file's, half, double, or 32 + 8a by 32 + 8b. */
  size?: "same" | "half" | "double" | [number, number];
  loop?: boolean;
  /** Shrink the file by a quarter once the camera has opened it. */
  shrink?: boolean;
}

/** The two control bytes of host-modules/camera/fuzz_y4m.c. */
export function y4mControl(c: Y4mControl): Buffer {
  const fmt = (f: PixFmt) => PIXFMTS.indexOf(f);
  const size = c.size ?? "same";
  let c1 = size === "same" ? 0 : size === "half" ? 1 : size === "double" ? 2 : 3;
  if (Array.isArray(size)) {
    const [a, b] = size;
    if (![a, b].every((v) => Number.isInteger(v) && v >= 0 && v <= 7)) throw new Error(`y4m size ${size} outside 0..7`);
    c1 |= (a << 2) | (b << 5);
  }
  const c0 = fmt(c.main) | ((c.extra === undefined ? 7 : fmt(c.extra)) << 3) | (c.loop ? 0x40 : 0) | (c.shrink ? 0x80 : 0);
  return Buffer.from([c0, c1]);
}

const { EILSEQ, ENOTSUP, EINVAL } = os.constants.errno;

/** A .y4m file cut into its header line and frames (with their FRAME lines). */
function splitY4m(file: Buffer, frameSize: number): { header: Buffer; frames: Buffer[] } {
  const eol = file.indexOf(0x0a);
  const header = file.subarray(0, eol + 1);
  const frames: Buffer[] = [];
  for (let at = eol + 1; at < file.length; ) {
    const fe = file.indexOf(0x0a, at);
    if (file.subarray(at, at + 5).toString("latin1") !== "FRAME" || fe < 0) throw new BuildError("unexpected ffmpeg y4m output");
    frames.push(file.subarray(fe + 1, fe + 1 + frameSize));
    at = fe + 1 + frameSize;
  }
  return { header, frames };
}

const y4m = (header: string, frames: Buffer[], frameLine = "FRAME\n") =>
  Buffer.concat([Buffer.from(header, "latin1"), ...frames.flatMap((f) => [Buffer.from(frameLine, "latin1"), f])]);

/** ffmpeg-made .y4m files (4:2:0 in three chroma sitings, mono, interlaced,
 * sizes the camera takes and sizes it refuses), damaged ones, and hand-made
 * headers for each check of the reader. Every seed says what the reader must
 * make of it: open (0 or -errno), size, frames indexed, how indexing ended
 * (0 clean, -errno), and what qcam_camera_open said (1: not tried, no frame). */
export function y4mSeeds(): Seed[] {
  const s: Seed[] = [];
  const add = (name: string, ctl: Y4mControl, file: Buffer, expect: Record<string, string | number>) =>
    s.push({ name, data: Buffer.concat([y4mControl(ctl), file]), expect });
  const ff = (size: string, rate: string, frames: number, pixFmt: string, extra: string[] = []) =>
    ffmpegBytes([...testsrc(size, rate, frames), "-pix_fmt", pixFmt, ...extra, "-f", "yuv4mpegpipe"]);
  const ok = (size: string, frames: number, mono = 0, cam = 0) => ({ open: 0, size, mono, frames, end: 0, cam });
  const bad = (errno: number) => ({ open: -errno, frames: 0, cam: 1 });

  const v420 = ff("32x32", "5", 3, "yuv420p"); // C420jpeg
  const mono = ff("32x32", "5", 3, "gray");
  add("420jpeg-nv21-nv21", { main: "nv21", extra: "nv21" }, v420, ok("32x32", 3));
  add("420jpeg-yuv420p-nv12-half", { main: "yuv420p", extra: "nv12", size: "half" }, v420, ok("32x32", 3));
  add("420jpeg-rgb-gray-double-loop", { main: "rgb888", extra: "gray", size: "double", loop: true }, v420, ok("32x32", 3));
  add("420jpeg-gray-yuv420p-40x56", { main: "gray", extra: "yuv420p", size: [1, 3] }, v420, ok("32x32", 3));
  add("420jpeg-nv12-rgb-shrink", { main: "nv12", extra: "rgb888", size: [7, 0], shrink: true }, v420, ok("32x32", 3));
  add("mono-yuv420p-rgb-double", { main: "yuv420p", extra: "rgb888", size: "double" }, mono, ok("32x32", 3, 1));
  add("mono-nv12-nv21-loop", { main: "nv12", extra: "nv21", loop: true }, mono, ok("32x32", 3, 1));
  add("mono-gray", { main: "gray" }, mono, ok("32x32", 3, 1));
  add("420mpeg2-nv21-yuv420p-half", { main: "nv21", extra: "yuv420p", size: "half" }, ff("32x32", "5", 3, "yuv420p", ["-chroma_sample_location", "left"]), ok("32x32", 3));
  add("420paldv-yuv420p-nv12", { main: "yuv420p", extra: "nv12", size: [2, 2] }, ff("32x32", "5", 3, "yuv420p", ["-chroma_sample_location", "topleft"]), ok("32x32", 3));
  add("interlaced-ntsc-yuv420p-gray", { main: "yuv420p", extra: "gray", size: [4, 1] }, ff("32x32", "30000/1001", 2, "yuv420p", ["-vf", "setfield=tff"]), ok("32x32", 2));
  add("64x48-60fps-rgb-nv21-half", { main: "rgb888", extra: "nv21", size: "half", loop: true }, ff("64x48", "60", 2, "yuv420p"), ok("64x48", 2));
  // Files the reader takes and the camera refuses (smaller than 32x32).
  add("420jpeg-32x24", { main: "yuv420p" }, ff("32x24", "5", 3, "yuv420p"), ok("32x24", 3, 0, -EINVAL));
  add("mono-32x24", { main: "gray" }, ff("32x24", "5", 3, "gray"), ok("32x24", 3, 1, -EINVAL));
  add("tiny-2x2", { main: "nv21" }, y4m("YUV4MPEG2 W2 H2 F25:1\n", [Buffer.from([1, 2, 3, 4, 5, 6]), Buffer.from([6, 5, 4, 3, 2, 1])]), ok("2x2", 2, 0, -EINVAL));
  // Files it refuses.
  add("422", { main: "nv21" }, ff("32x32", "5", 2, "yuv422p"), bad(ENOTSUP));
  add("420p10", { main: "nv21" }, ff("32x32", "5", 1, "yuv420p10le", ["-strict", "-1"]), bad(ENOTSUP));
  add("odd-33x25", { main: "nv21" }, ff("33x25", "5", 1, "yuv420p"), bad(ENOTSUP));

  // Damage to the 32x32 4:2:0 file.
  const { header, frames } = splitY4m(v420, 32 * 32 * 3 / 2);
  const hdr = header.toString("latin1");
  const ctl: Y4mControl = { main: "nv21", extra: "yuv420p", size: "half" };
  add("truncated-last-frame", ctl, v420.subarray(0, v420.length - 100), { open: 0, frames: 2, end: -EILSEQ, cam: 0 });
  add("frame-marker-broken", ctl, Buffer.concat([y4m(hdr, frames.slice(0, 1)), y4m("", frames.slice(1), "FRAMX\n")]), { open: 0, frames: 1, end: -EILSEQ, cam: 0 });
  add("frame-params", ctl, y4m(hdr, frames, "FRAME Ip XCOMMENT=fuzz\n"), ok("32x32", 3));
  add("frame-line-255", ctl, y4m(hdr, frames, `FRAME X${"x".repeat(248)}\n`), ok("32x32", 3));
  add("frame-line-unterminated", ctl, y4m(hdr, frames, `FRAME X${"x".repeat(300)}\n`), { open: 0, frames: 0, end: -EILSEQ, cam: 1 });
  add("frame-marker-glued", ctl, y4m(hdr, frames, "FRAMEX\n"), { open: 0, frames: 0, end: -EILSEQ, cam: 1 });
  add("frame-then-eof", { ...ctl, loop: true }, Buffer.concat([v420, Buffer.from("FRAME\n")]), { open: 0, frames: 3, end: -EILSEQ, cam: 0 });
  add("trailing-junk", ctl, Buffer.concat([v420, Buffer.from("junk")]), { open: 0, frames: 3, end: -EILSEQ, cam: 0 });
  add("header-only", ctl, header, ok("32x32", 0, 0, 1));
  add("odd-spacing-unknown-tags", ctl, y4m("YUV4MPEG2  W32   H32 Zzz Ibad A0:0 XCOMMENT=1 \n", frames), ok("32x32", 3));
  add("no-rate", { main: "rgb888", extra: "nv12", size: "same" }, y4m("YUV4MPEG2 W32 H32\n", frames), ok("32x32", 3));
  add("rate-slowest", ctl, y4m("YUV4MPEG2 W32 H32 F1:1000000\n", frames), ok("32x32", 3));
  add("rate-fastest", ctl, y4m("YUV4MPEG2 W32 H32 F1000000:1 C420\n", frames), ok("32x32", 3));
  add("mono-frames-as-420", ctl, y4m("YUV4MPEG2 W32 H32 Cmono\n", frames), { open: 0, mono: 1, frames: 1, end: -EILSEQ, cam: 0 });
  add("max-size-short-frame", ctl, y4m("YUV4MPEG2 W16384 H16384 Cmono\n", [Buffer.alloc(64)]), { open: 0, size: "16384x16384", frames: 0, end: -EILSEQ, cam: 1 });
  // Headers it refuses.
  const refuse = (name: string, h: string, errno = EILSEQ) => add(name, ctl, y4m(h, frames), bad(errno));
  refuse("no-width", "YUV4MPEG2 H32 F5:1\n");
  refuse("no-height", "YUV4MPEG2 W32 F5:1\n");
  refuse("width-0", "YUV4MPEG2 W0 H32\n");
  refuse("width-16386", "YUV4MPEG2 W16386 H32\n");
  refuse("width-plus", "YUV4MPEG2 W+32 H32\n");
  refuse("height-minus", "YUV4MPEG2 W32 H-32\n");
  refuse("height-empty", "YUV4MPEG2 W32 H\n");
  refuse("width-99999999999", "YUV4MPEG2 W99999999999 H32\n");
  refuse("rate-0", "YUV4MPEG2 W32 H32 F0:1\n");
  refuse("rate-no-colon", "YUV4MPEG2 W32 H32 F30\n");
  refuse("rate-den-0", "YUV4MPEG2 W32 H32 F30:0\n");
  refuse("crlf", "YUV4MPEG2 W32 H32\r\n");
  refuse("colour-unknown", "YUV4MPEG2 W32 H32 C444\n", ENOTSUP);
  refuse("colour-prefix", "YUV4MPEG2 W32 H32 C420jpegx\n", ENOTSUP);
  refuse("odd-width", "YUV4MPEG2 W31 H32\n", ENOTSUP);
  refuse("magic-no-space", "YUV4MPEG2\nW32 H32\n");
  refuse("magic-lowercase", "yuv4mpeg2 W32 H32\n");
  refuse("header-1100", `YUV4MPEG2 W32 H32 X${"x".repeat(1080)}\n`);
  add("header-unterminated", ctl, Buffer.from("YUV4MPEG2 W32 H32 F5:1"), bad(EILSEQ));
  add("empty", ctl, Buffer.alloc(0), bad(EILSEQ));
  add("not-y4m", ctl, Buffer.from("\x89PNG\r\n\x1a\n", "latin1"), bad(EILSEQ));
  return s;
}

const Y4M_DICT = ["YUV4MPEG2 ", "FRAME\n", "FRAME ", " W", " H", " F", ":", " C420jpeg", " C420paldv", " C420mpeg2", " C420", " Cmono", " Ip", " A1:1", " X", "\n", "16384"].map((t) => Buffer.from(t, "latin1"));

// ---- the targets ------------------------------------------------------------

const TARGETS: Record<TargetName, TargetDef> = {
  image: {
    title: "qcam_image_verify (runtime/image.c)",
    sources: ["runtime/image.c", "runtime/sha256.c", "runtime/fuzz_image.c"],
    includes: ["-I", "runtime", "-I", "firmware"],
    libs: ["-lsodium"],
    maxLen: 4096,
    dict: [],
    defines: (ctx) => expectDefines(ctx.info()),
    seeds: (ctx) => seeds(ctx.info()),
  },
  annexb: {
    title: "Annex B splitter and EsReader (host-modules/video/annexb.c, es_reader.c)",
    sources: ["host-modules/video/annexb.c", "host-modules/video/es_reader.c", "host-modules/media/media.c", "host-modules/video/fuzz_annexb.c"],
    includes: [],
    libs: ["-lpthread"],
    maxLen: 8192,
    dict: ANNEXB_DICT,
    defines: () => [],
    seeds: () => annexbSeeds(),
  },
  y4m: {
    title: "sim camera Y4M reader (host-modules/camera/backend_sim.c)",
    // backend_sim.c is #included by the target (its reader is static).
    sources: ["host-modules/media/media.c", "host-modules/time/backend_posix.c", "host-modules/camera/fuzz_y4m.c"],
    includes: [],
    libs: ["-lpthread"],
    maxLen: 16384,
    dict: Y4M_DICT,
    defines: () => [],
    seeds: () => y4mSeeds(),
  },
  mp4: {
    title: "MP4 reader (host-modules/mp4/mp4_read.c)",
    sources: ["host-modules/mp4/mp4_read.c", "host-modules/mp4/mp4_index.c", "host-modules/video/annexb.c", "host-modules/media/media.c", "host-modules/mp4/fuzz_mp4.c"],
    includes: [],
    libs: ["-lpthread"],
    maxLen: 32768,
    dict: MP4_DICT,
    defines: () => [],
    seeds: () => mp4Seeds(),
  },
  ts: {
    title: "MPEG-TS reader (host-modules/ts/ts_read.c)",
    sources: ["host-modules/ts/ts_read.c", "host-modules/ts/ts_mux.c", "host-modules/video/annexb.c", "host-modules/video/sps.c", "host-modules/media/media.c", "host-modules/ts/fuzz_ts.c"],
    includes: [],
    libs: ["-lpthread"],
    maxLen: 32768,
    dict: TS_DICT,
    defines: () => ["-DQCAM_TS_PROBE_TAIL=1024"], // files over 4 KiB take probe's head + tail path
    seeds: () => tsSeeds(),
  },
  rtsp: {
    title: "RTSP requests, Transport, interleaved frames, Digest, RTP depacketizer (host-modules/rtsp/)",
    sources: ["host-modules/rtsp/rtsp_msg.c", "host-modules/rtsp/digest.c", "host-modules/rtsp/rtp.c", "host-modules/video/annexb.c", "host-modules/rtsp/fuzz_rtsp.c"],
    includes: [],
    libs: [],
    maxLen: 16384,
    dict: RTSP_DICT,
    defines: () => [],
    seeds: () => rtspSeeds(),
  },
  wav: {
    title: "sim microphone WAV reader and G.711 (host-modules/audio/wav.c, backend_sim.c, g711.c)",
    // backend_sim.c is #included by the target (its reader is static).
    sources: ["host-modules/audio/wav.c", "host-modules/audio/g711.c", "host-modules/media/media.c", "host-modules/fs/backend_sim.c", "host-modules/app/backend_sim.c", "host-modules/time/backend_posix.c", "host-modules/audio/fuzz_wav.c"],
    includes: [],
    libs: ["-lpthread", "-lm"],
    maxLen: 8192,
    dict: WAV_DICT,
    defines: () => [],
    seeds: () => wavSeeds(),
  },
  store: {
    title: "app store state record, key list and store requests (runtime/store/store_text.c)",
    sources: ["runtime/store/store_text.c", "runtime/store/fuzz_store.c"],
    includes: [],
    libs: [],
    maxLen: 4096,
    dict: STORE_DICT,
    defines: () => [],
    seeds: () => storeSeeds(),
  },
};

export function targetTitle(name: TargetName): string {
  return TARGETS[name].title;
}

export function isTargetName(s: string): s is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(s);
}

/** Project files the compile reads (clang -MM), so edits there rebuild. */
function dependencies(args: string[]): string[] {
  const r = spawnSyncChild("clang", ["-MM", ...args.filter((a) => !a.startsWith("-fsanitize") && !a.startsWith("-l"))], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) return [];
  const deps = r.stdout.replace(/\\\n/g, " ").split(/\s+/).filter((t) => t !== "" && !t.endsWith(":"));
  return [...new Set(deps)].sort();
}

/** Compile out/fuzz/fuzz_NAME (skipped when sources and flags are unchanged). */
export function buildFuzzer(name: TargetName = "image", info?: BuildInfo): string {
  const t = TARGETS[name];
  return compileFuzzer(targetPaths(name).binary, [...t.includes, ...t.defines(context(info)), ...t.sources, ...t.libs]);
}

/** clang with the flags above (ASan, UBSan, libFuzzer; -I test/c) and `rest`
 * (includes, defines, C files from the root, libraries) into `binary`; skipped
 * while the arguments and every project file the compile reads (clang -MM)
 * are as recorded in binary.stamp. Also used by test/fuzz-bounded.ts. */
export function compileFuzzer(binary: string, rest: string[]): string {
  const args = [...CFLAGS, ...rest];
  const h = createHash("sha256").update(args.join("\0"));
  for (const f of dependencies(args)) {
    h.update(f);
    h.update(fs.readFileSync(path.join(ROOT, f)));
  }
  const digest = h.digest("hex");
  const stamp = `${binary}.stamp`;
  if (fs.existsSync(binary) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === digest) return binary;

  step(`clang: building ${path.relative(ROOT, binary)}`);
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  const tmp = `${binary}.${process.pid}.tmp`;
  const r = spawnSyncChild("clang", [...args, "-o", tmp], { cwd: ROOT, encoding: "utf8", timeout: 900_000 });
  if (r.error) throw new BuildError(`cannot run clang: ${r.error.message}`);
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    let hint = "";
    if (/libclang_rt\.fuzzer|libclang_rt\.asan/.test(r.stderr)) hint = "\n(the sanitizer runtimes are missing: apt-get install libclang-rt-14-dev)";
    throw new BuildError(`clang ${args.join(" ")} failed:\n${r.stdout}${r.stderr}${hint}`);
  }
  fs.renameSync(tmp, binary);
  fs.writeFileSync(stamp, digest);
  return binary;
}

/** A libFuzzer run of `bin` for FUZZ_SECONDS over `corpus` (its first folder takes what the run
 * adds), leaks reported, for a target built by compileFuzzer outside the TARGETS table: no crash
 * input left, exit 0, more than `minInputs` inputs run. `env` adds to the fuzzer's environment. */
export async function assertTimedFuzzClean(bin: string, opts: { corpus: string[]; maxLen: number; minInputs: number; env?: NodeJS.ProcessEnv }): Promise<void> {
  const artifacts = tmpDir("qcam-fuzz-art-");
  try {
    const fuzz = spawnChild(bin, [`-max_total_time=${FUZZ_SECONDS}`, `-max_len=${opts.maxLen}`, "-timeout=10", `-artifact_prefix=${artifacts}/`, ...opts.corpus], {
      stdout: "ignore",
      env: { ...process.env, ...opts.env, ASAN_OPTIONS: "detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS: "print_stacktrace=1" },
      timeoutMs: (FUZZ_SECONDS + 60) * 1000,
    });
    const { code, stderr } = await fuzz.done;
    const tail = stderr.slice(-20000).split("\n").slice(-40).join("\n");
    const execs = Number(/Done (\d+) runs/.exec(stderr.slice(-20000))?.[1] ?? 0);
    console.log(`      ${execs} inputs in ${FUZZ_SECONDS} s`);
    assert.deepEqual(fs.readdirSync(artifacts), [], tail);
    assert.equal(code, 0, tail);
    assert.ok(execs > opts.minInputs, "the fuzzer ran");
  } finally {
    fs.rmSync(artifacts, { recursive: true, force: true });
  }
}

/** libFuzzer dictionary syntax: one "\xNN"-escaped string per line. */
function writeDict(name: TargetName): string | undefined {
  const { dict } = targetPaths(name);
  const entries = TARGETS[name].dict;
  if (entries.length === 0) return undefined;
  const esc = (b: Buffer) => [...b].map((c) => (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`)).join("");
  const text = entries.map((b) => `"${esc(b)}"\n`).join("");
  if (!fs.existsSync(dict) || fs.readFileSync(dict, "utf8") !== text) fs.writeFileSync(dict, text);
  return dict;
}

/** Rewrite out/fuzz/corpus-NAME/seed-* (other files there are kept). */
export function writeSeedCorpus(name: TargetName = "image", info?: BuildInfo): Seed[] {
  const t = TARGETS[name];
  const dir = targetPaths(name).seeds;
  fs.mkdirSync(dir, { recursive: true });
  const list = t.seeds(context(info));
  const names = new Set<string>();
  for (const x of list) {
    if (names.has(x.name)) throw new Error(`duplicate ${name} seed ${x.name}`);
    names.add(x.name);
    if (x.data.length > t.maxLen) throw new Error(`${name} seed ${x.name} is ${x.data.length} bytes, over -max_len=${t.maxLen}`);
  }
  for (const f of fs.readdirSync(dir)) if (f.startsWith("seed-") && !names.has(f.slice(5))) fs.rmSync(path.join(dir, f), { force: true });
  for (const x of list) {
    const file = path.join(dir, `seed-${x.name}`);
    if (!fs.existsSync(file) || !fs.readFileSync(file).equals(x.data)) fs.writeFileSync(file, x.data);
  }
  writeDict(name);
  return list;
}

export interface Prepared {
  name: TargetName;
  binary: string;
  seeds: Seed[];
  paths: TargetPaths;
}

/** Build a target and write its seed corpus and dictionary. */
export function prepareFuzz(name: TargetName = "image"): Prepared {
  const ctx = context();
  const info = name === "image" ? ctx.info() : undefined;
  return { name, binary: buildFuzzer(name, info), seeds: writeSeedCorpus(name, info), paths: targetPaths(name) };
}

/** The seed's file in the target's seed corpus. */
export function seedFile(name: TargetName, seed: Seed): string {
  return path.join(targetPaths(name).seeds, `seed-${seed.name}`);
}

const ARTIFACT_RE = /^(?:[a-z0-9]+-)?(crash|leak|timeout|oom|slow-unit)-/;
function artifacts(): Set<string> {
  if (!fs.existsSync(ARTIFACTS)) return new Set();
  return new Set(fs.readdirSync(ARTIFACTS).filter((f) => ARTIFACT_RE.test(f)));
}

function sanitizerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ASAN_OPTIONS: "detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1",
    UBSAN_OPTIONS: "halt_on_error=1:print_stacktrace=1",
    ...extra,
  };
}

export interface Trace {
  /** key=value pairs of the target's "qcam-fuzz:" line (values up to a space). */
  fields: Record<string, string>;
  line: string;
}

/** Run a target once on each file and return the line it traced for it. */
export function traceRun(name: TargetName, files: string[]): Map<string, Trace> {
  const r = spawnSyncChild(targetPaths(name).binary, files, { cwd: FUZZ_DIR, encoding: "utf8", env: sanitizerEnv({ QCAM_FUZZ_TRACE: "1" }), maxBuffer: 64 << 20, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`fuzz_${name} on seeds exited ${r.status ?? r.signal}:\n${r.stderr.split("\n").slice(-60).join("\n")}`);
  const out = new Map<string, Trace>();
  let current: string | undefined;
  for (const line of r.stderr.split("\n")) {
    const run = /^Running: (.*)$/.exec(line);
    if (run) current = run[1];
    if (line.startsWith("qcam-fuzz: ") && current !== undefined) {
      const fields: Record<string, string> = {};
      for (const m of line.slice(11).matchAll(/(\w+)=(\S*)/g)) if (!(m[1] in fields)) fields[m[1]] = m[2];
      out.set(current, { fields, line });
      current = undefined;
    }
  }
  return out;
}

/** Seeds whose trace differs from what they were made for (empty: all good). */
export function checkSeeds(name: TargetName, list: Seed[]): string[] {
  const got = traceRun(name, list.map((s) => seedFile(name, s)));
  const bad: string[] = [];
  for (const s of list) {
    const t = got.get(seedFile(name, s));
    if (!t) {
      bad.push(`${s.name}: no trace line`);
      continue;
    }
    const diff = Object.entries(s.expect).filter(([k, v]) => t.fields[k] !== String(v));
    if (diff.length > 0) bad.push(`${s.name}: want ${diff.map(([k, v]) => `${k}=${v}`).join(" ")}, got ${t.line}`);
  }
  return bad;
}

/** The image target's status per file (see traceRun). */
export function traceStatuses(files: string[]): Map<string, { status: number; line: string }> {
  const out = new Map<string, { status: number; line: string }>();
  for (const [f, t] of traceRun("image", files)) out.set(f, { status: Number(t.fields.status), line: t.line });
  return out;
}

export interface FuzzOptions {
  /** Which target (default image). */
  target?: TargetName;
  /** -max_total_time in seconds. */
  seconds?: number;
  /** -runs (stops early when reached). */
  runs?: number;
  /** Corpus folders; new inputs go into the first. Default: work + seeds. */
  corpus?: string[];
  /** Stream the fuzzer's output to this process's stderr. */
  echo?: boolean;
  extraArgs?: string[];
}

export interface FuzzResult {
  target: TargetName;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Wall time of the run, seconds. */
  wallSeconds: number;
  /** Inputs executed (stat::number_of_executed_units). */
  execs: number;
  execsPerSecond: number;
  newUnits: number;
  peakRssMb: number;
  /** Final coverage line ("cov: N ft: M"), when printed. */
  coverage: string;
  /** Files libFuzzer wrote to out/fuzz/artifacts/ during this run. */
  newArtifacts: string[];
  output: string;
}

export function runFuzzer(opts: FuzzOptions = {}): Promise<FuzzResult> {
  const target = opts.target ?? "image";
  const t = TARGETS[target];
  const p = targetPaths(target);
  const corpus = opts.corpus ?? [p.work, p.seeds];
  for (const d of corpus) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const dict = writeDict(target);
  const before = artifacts();
  const args = [
    `-artifact_prefix=${p.artifactPrefix}`,
    "-rss_limit_mb=1024",
    "-timeout=10",
    `-max_len=${t.maxLen}`,
    "-use_value_profile=1",
    "-print_final_stats=1",
    ...(dict ? [`-dict=${dict}`] : []),
    ...(opts.seconds !== undefined ? [`-max_total_time=${opts.seconds}`] : []),
    ...(opts.runs !== undefined ? [`-runs=${opts.runs}`] : []),
    ...(opts.extraArgs ?? []),
    ...corpus,
  ];
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const { child } = spawnChild(p.binary, args, { cwd: FUZZ_DIR, env: sanitizerEnv(), onData: opts.echo ? (d) => process.stderr.write(d) : undefined });
    let output = "";
    const take = (d: string) => (output += d);
    child.stdout!.on("data", take);
    child.stderr!.on("data", take);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const stat = (name: string) => Number(new RegExp(`^stat::${name}:\\s*(\\d+)`, "m").exec(output)?.[1] ?? NaN);
      const covs = [...output.matchAll(/\bcov: (\d+) ft: (\d+)/g)];
      const last = covs[covs.length - 1];
      resolve({
        target,
        code,
        signal,
        wallSeconds,
        execs: stat("number_of_executed_units"),
        execsPerSecond: stat("average_exec_per_sec"),
        newUnits: stat("new_units_added"),
        peakRssMb: stat("peak_rss_mb"),
        coverage: last ? `cov: ${last[1]} ft: ${last[2]}` : "",
        newArtifacts: [...artifacts()].filter((f) => !before.has(f)).map((f) => path.join(ARTIFACTS, f)),
        output,
      });
    });
  });
}

/** One-line summary of a run. */
export function describeRun(r: FuzzResult): string {
  return `${r.target}: ${r.execs} execs in ${r.wallSeconds.toFixed(1)} s (${r.execsPerSecond}/s), ${r.coverage || "no coverage line"}, ${r.newUnits} new units, peak RSS ${r.peakRssMb} MB, exit ${r.code ?? r.signal}`;
}
