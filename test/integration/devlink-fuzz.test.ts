// Bounded libFuzzer runs (ASan + UBSan) over the dev link's frame decoder and
// push deltas, runtime/devlink/fuzz_devlink.c, seeded with the wire bytes of
// the shared frame table (test/fixtures/devlink/frames.json), and over the
// files channel's requests, runtime/devlink/fuzz_files.c. QCAM_FUZZ_SECONDS sets
// the length of the run (default 5 s).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { spawnChild, tmpDir } from "../helpers.ts";
import { FUZZ_DIR, FUZZ_SECONDS as SECONDS, compileFuzzer, hasClang } from "../fuzz.ts";

const BIN = path.join(FUZZ_DIR, "fuzz_devlink");
const SOURCES = ["runtime/devlink/fuzz_devlink.c", "runtime/devlink/devlink_proto.c"];

/** Built by test/fuzz.ts's compileFuzzer: its flags, rebuilt when any file the compile reads changes. */
const build = () => compileFuzzer(BIN, SOURCES);

describe("fuzz: dev-link frame decoder (libFuzzer, ASan, UBSan)", function () {
  this.timeout((SECONDS + 150) * 1000);

  before(function () {
    if (!hasClang()) {
      console.log("      skipped: clang is not installed (bin/setup.mjs test installs clang and libclang-rt-14-dev)");
      this.skip();
    }
    build();
  });

  it(`survives ${SECONDS} s of fuzzing from the frame table's seeds`, async function () {
    const seeds = tmpDir("qcam-fuzz-devlink-seeds-");
    const work = tmpDir("qcam-fuzz-devlink-");
    const artifacts = tmpDir("qcam-fuzz-devlink-art-");
    try {
      const table = JSON.parse(fs.readFileSync(path.join(ROOT, "test/fixtures/devlink/frames.json"), "utf8")) as { cases: { wire: string }[] };
      table.cases.forEach((c, i) => fs.writeFileSync(path.join(seeds, `seed-${i}`), Buffer.concat([Buffer.of(i * 13), Buffer.from(c.wire, "hex")])));
      const fuzz = spawnChild(BIN, [`-max_total_time=${SECONDS}`, "-max_len=12000", "-timeout=10", `-artifact_prefix=${artifacts}/`, work, seeds], {
        stdout: "ignore",
        env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS: "print_stacktrace=1" },
        timeoutMs: (SECONDS + 60) * 1000,
      });
      const { code, stderr } = await fuzz.done;
      const out = stderr.slice(-20000);
      const execs = Number(/Done (\d+) runs/.exec(out)?.[1] ?? 0);
      console.log(`      ${execs} inputs in ${SECONDS} s`);
      assert.deepEqual(fs.readdirSync(artifacts), [], out.split("\n").slice(-40).join("\n"));
      assert.equal(code, 0, out.split("\n").slice(-40).join("\n"));
      assert.ok(execs > 1000, "the fuzzer ran");
    } finally {
      for (const d of [seeds, work, artifacts]) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

// The files channel's requests (runtime/devlink/fuzz_files.c) against a real
// storage root with a symbolic link leading out of it: nothing may land outside.
const FILES_BIN = path.join(FUZZ_DIR, "fuzz_files");
const FILES_SOURCES = ["runtime/devlink/fuzz_files.c", "runtime/devlink/files.c", "runtime/devlink/devlink_proto.c", "runtime/sha256.c"];

const buildFiles = () => compileFuzzer(FILES_BIN, ["-Ithird_party/quickjs-ng", ...FILES_SOURCES]);

/** One fuzz input: frames as a length byte and the payload (type, body). */
function framesInput(...payloads: Buffer[]): Buffer {
  return Buffer.concat(payloads.flatMap((p) => [Buffer.of(p.length), p]));
}
const req = (type: number, head: number[], p: string) => Buffer.concat([Buffer.of(type, ...head), Buffer.from(p)]);

describe("fuzz: dev-link files channel (libFuzzer, ASan, UBSan)", function () {
  this.timeout((SECONDS + 150) * 1000);

  before(function () {
    if (!hasClang()) this.skip();
    buildFiles();
  });

  it(`survives ${SECONDS} s of fuzzing; nothing lands outside the storage root`, async function () {
    const seeds = tmpDir("qcam-fuzz-files-seeds-");
    const work = tmpDir("qcam-fuzz-files-");
    const artifacts = tmpDir("qcam-fuzz-files-art-");
    const scratch = tmpDir("qcam-fuzz-files-root-"); // where the target makes its storage roots
    try {
      const u32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24];
      const zeros = (n: number) => new Array<number>(n).fill(0);
      const seedList = [
        framesInput(req(16, u32(0), "/"), req(17, [], "clip.mp4"), req(18, u32(0xffffffff), "clip.mp4")),
        framesInput(req(22, [], "a/b/c"), req(21, [], "a/b/c"), req(17, [], "escape/x"), req(22, [], "escape/new")),
        framesInput(req(19, [...u32(0), ...u32(100)], "clip.mp4"), req(19, [...u32(4), ...u32(4)], "../x")),
        framesInput(req(20, [...zeros(32), ...u32(8)], "video/p.bin"), Buffer.of(1, ...u32(0), 65, 66, 67, 68), Buffer.of(1, ...u32(4), 69, 70, 71, 72)),
        framesInput(req(20, [...zeros(32), ...u32(4)], "escape/p.bin"), req(21, [], "/")),
      ];
      seedList.forEach((s, i) => fs.writeFileSync(path.join(seeds, `seed-${i}`), s));
      const fuzz = spawnChild(FILES_BIN, [`-max_total_time=${SECONDS}`, "-max_len=2048", "-timeout=10", `-artifact_prefix=${artifacts}/`, work, seeds], {
        stdout: "ignore",
        env: { ...process.env, TMPDIR: scratch, ASAN_OPTIONS: "detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS: "print_stacktrace=1" },
        timeoutMs: (SECONDS + 60) * 1000,
      });
      const { code, stderr } = await fuzz.done;
      const out = stderr.slice(-20000);
      const execs = Number(/Done (\d+) runs/.exec(out)?.[1] ?? 0);
      console.log(`      ${execs} inputs in ${SECONDS} s`);
      assert.deepEqual(fs.readdirSync(artifacts), [], out.split("\n").slice(-40).join("\n"));
      assert.equal(code, 0, out.split("\n").slice(-40).join("\n"));
      assert.ok(execs > 100, "the fuzzer ran");
    } finally {
      for (const d of [seeds, work, artifacts, scratch]) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
