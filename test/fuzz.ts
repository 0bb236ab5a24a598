// Build and run the libFuzzer target for the image verifier
// (runtime/fuzz/fuzz_image.c), with Debian's clang:
//   out/fuzz/fuzz_image        the target (ASan + UBSan + libFuzzer)
//   out/fuzz/corpus-image/     seed corpus: images packed by build/image.ts
//   out/fuzz/corpus-work/      what long runs (test/fuzz-long.ts) add
//   out/fuzz/artifacts/        crash-*, leak-*, timeout-*, oom-* inputs
// The expectations compiled into the target come from the host build's
// build-info.json, the same facts packImage writes, so the seeds verify.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { buildFlavor, readBuildInfo, type BuildInfo } from "../build/cmake.ts";
import { packImage, sealImage, OFF, DIGEST_SIZE, FLAG_DEBUG_INFO, type AppImage } from "../build/image.ts";
import { BuildError, step } from "../build/log.ts";
import { OUT, ROOT } from "../build/paths.ts";

export const FUZZ_DIR = path.join(OUT, "fuzz");
export const FUZZ_BINARY = path.join(FUZZ_DIR, "fuzz_image");
export const SEED_CORPUS = path.join(FUZZ_DIR, "corpus-image");
export const WORK_CORPUS = path.join(FUZZ_DIR, "corpus-work");
export const ARTIFACTS = path.join(FUZZ_DIR, "artifacts");

const SOURCES = ["runtime/image.c", "runtime/sha256.c", "runtime/fuzz/fuzz_image.c"];
const HEADERS = ["runtime/image.h", "runtime/sha256.h", "firmware/qcam_image.h"];
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
  "runtime",
  "-I",
  "firmware",
];

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
} as const;

/** The fuzz target's control byte (see runtime/fuzz/fuzz_image.c). */
export const Mode = { raw: 0, seal: 1, sizeSeal: 2, any: 3 } as const;

export function hasClang(): boolean {
  const r = spawnSync("clang", ["--version"], { encoding: "utf8" });
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

/** Compile out/fuzz/fuzz_image (skipped when sources and flags are unchanged). */
export function buildFuzzer(info: BuildInfo = hostBuildInfo()): string {
  const args = [...CFLAGS, ...expectDefines(info), ...SOURCES];
  const h = createHash("sha256").update(args.join("\0"));
  for (const f of [...SOURCES, ...HEADERS]) h.update(fs.readFileSync(path.join(ROOT, f)));
  const digest = h.digest("hex");
  const stamp = `${FUZZ_BINARY}.stamp`;
  if (fs.existsSync(FUZZ_BINARY) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === digest) return FUZZ_BINARY;

  step("clang: building out/fuzz/fuzz_image");
  fs.mkdirSync(FUZZ_DIR, { recursive: true });
  const tmp = `${FUZZ_BINARY}.${process.pid}.tmp`;
  const r = spawnSync("clang", [...args, "-o", tmp], { cwd: ROOT, encoding: "utf8" });
  if (r.error) throw new BuildError(`cannot run clang: ${r.error.message}`);
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    let hint = "";
    if (/libclang_rt\.fuzzer|libclang_rt\.asan/.test(r.stderr)) hint = "\n(the sanitizer runtimes are missing: apt-get install libclang-rt-14-dev)";
    throw new BuildError(`clang ${args.join(" ")} failed:\n${r.stdout}${r.stderr}${hint}`);
  }
  fs.renameSync(tmp, FUZZ_BINARY);
  fs.writeFileSync(stamp, digest);
  return FUZZ_BINARY;
}

export interface Seed {
  name: string;
  /** Control byte + image, as the target reads it. */
  data: Buffer;
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
export function seeds(info: BuildInfo): Seed[] {
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
  const s: Seed[] = [];
  const add = (name: string, status: number, img: Buffer, mode: number = Mode.raw) => s.push({ name, status, data: withMode(mode, img) });

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
  add("seal-then-sections", Status.sections, edit(full, (b) => b.writeUInt32LE(b.length, sec(3) + 8), false), Mode.seal);
  return s;
}

/** Rewrite out/fuzz/corpus-image/seed-* (other files there are kept). */
export function writeSeedCorpus(info: BuildInfo = hostBuildInfo()): Seed[] {
  fs.mkdirSync(SEED_CORPUS, { recursive: true });
  const list = seeds(info);
  const want = new Set(list.map((x) => `seed-${x.name}`));
  for (const f of fs.readdirSync(SEED_CORPUS)) if (f.startsWith("seed-") && !want.has(f)) fs.rmSync(path.join(SEED_CORPUS, f), { force: true });
  for (const x of list) {
    const file = path.join(SEED_CORPUS, `seed-${x.name}`);
    if (!fs.existsSync(file) || !fs.readFileSync(file).equals(x.data)) fs.writeFileSync(file, x.data);
  }
  return list;
}

/** Build the target and write the seed corpus. */
export function prepareFuzz(): { binary: string; seeds: Seed[]; info: BuildInfo } {
  const info = hostBuildInfo();
  return { binary: buildFuzzer(info), seeds: writeSeedCorpus(info), info };
}

const ARTIFACT_RE = /^(crash|leak|timeout|oom|slow-unit)-/;
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

/** Run the target once on each file and return the status it traced for it. */
export function traceStatuses(files: string[]): Map<string, { status: number; line: string }> {
  const r = spawnSync(FUZZ_BINARY, files, { cwd: FUZZ_DIR, encoding: "utf8", env: sanitizerEnv({ QCAM_FUZZ_TRACE: "1" }), maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`fuzz_image on seeds exited ${r.status ?? r.signal}:\n${r.stderr}`);
  const out = new Map<string, { status: number; line: string }>();
  let current: string | undefined;
  for (const line of r.stderr.split("\n")) {
    const run = /^Running: (.*)$/.exec(line);
    if (run) current = run[1];
    const t = /^qcam-fuzz: mode=\d+ len=\d+ status=(\d+)/.exec(line);
    if (t && current !== undefined) {
      out.set(current, { status: Number(t[1]), line });
      current = undefined;
    }
  }
  return out;
}

export interface FuzzOptions {
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
  const corpus = opts.corpus ?? [WORK_CORPUS, SEED_CORPUS];
  for (const d of corpus) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const before = artifacts();
  const args = [
    `-artifact_prefix=${ARTIFACTS}/`,
    "-rss_limit_mb=1024",
    "-timeout=10",
    "-max_len=4096",
    "-use_value_profile=1",
    "-print_final_stats=1",
    ...(opts.seconds !== undefined ? [`-max_total_time=${opts.seconds}`] : []),
    ...(opts.runs !== undefined ? [`-runs=${opts.runs}`] : []),
    ...(opts.extraArgs ?? []),
    ...corpus,
  ];
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(FUZZ_BINARY, args, { cwd: FUZZ_DIR, env: sanitizerEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const take = (d: Buffer) => {
      output += d.toString("utf8");
      if (opts.echo) process.stderr.write(d);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const stat = (name: string) => Number(new RegExp(`^stat::${name}:\\s*(\\d+)`, "m").exec(output)?.[1] ?? NaN);
      const covs = [...output.matchAll(/\bcov: (\d+) ft: (\d+)/g)];
      const last = covs[covs.length - 1];
      resolve({
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
  return `${r.execs} execs in ${r.wallSeconds.toFixed(1)} s (${r.execsPerSecond}/s), ${r.coverage || "no coverage line"}, ${r.newUnits} new units, peak RSS ${r.peakRssMb} MB, exit ${r.code ?? r.signal}`;
}
