// Bounded libFuzzer runs (ASan + UBSan) over the dev link's frame decoder and
// push deltas, runtime/devlink/fuzz_devlink.c, seeded with the wire bytes of
// the shared frame table (test/fixtures/devlink/frames.json), and over the
// files channel's requests, runtime/devlink/fuzz_files.c. QCAM_FUZZ_SECONDS sets
// the length of the run (default 5 s).
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { tmpDir } from "../helpers.ts";
import { FUZZ_DIR, FUZZ_SECONDS as SECONDS, assertTimedFuzzClean, compileFuzzer, hasClang } from "../fuzz.ts";

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
    try {
      const table = JSON.parse(fs.readFileSync(path.join(ROOT, "test/fixtures/devlink/frames.json"), "utf8")) as { cases: { wire: string }[] };
      table.cases.forEach((c, i) => fs.writeFileSync(path.join(seeds, `seed-${i}`), Buffer.concat([Buffer.of(i * 13), Buffer.from(c.wire, "hex")])));
      await assertTimedFuzzClean(BIN, { corpus: [work, seeds], maxLen: 12000, minInputs: 1000 });
    } finally {
      for (const d of [seeds, work]) fs.rmSync(d, { recursive: true, force: true });
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
      await assertTimedFuzzClean(FILES_BIN, { corpus: [work, seeds], maxLen: 2048, minInputs: 100, env: { TMPDIR: scratch } });
    } finally {
      for (const d of [seeds, work, scratch]) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
