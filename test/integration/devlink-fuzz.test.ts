// A bounded libFuzzer run (ASan + UBSan) over the dev link's frame decoder,
// runtime/devlink/fuzz_devlink.c, seeded with the wire bytes of the shared
// frame table (test/fixtures/devlink/frames.json). QCAM_FUZZ_SECONDS sets
// the length of the run (default 10 s).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { OUT, ROOT } from "../../build/paths.ts";
import { spawnChild, spawnSyncChild, tmpDir } from "../helpers.ts";
import { hasClang } from "../fuzz.ts";

const SECONDS = Number(process.env.QCAM_FUZZ_SECONDS ?? 10);
const DIR = path.join(OUT, "fuzz");
const BIN = path.join(DIR, "fuzz_devlink");
const SOURCES = ["runtime/devlink/fuzz_devlink.c", "runtime/devlink/devlink_proto.c"];

function build(): void {
  fs.mkdirSync(DIR, { recursive: true });
  const newest = Math.max(...[...SOURCES, "runtime/devlink/devlink_proto.h"].map((f) => fs.statSync(path.join(ROOT, f)).mtimeMs));
  if (fs.existsSync(BIN) && fs.statSync(BIN).mtimeMs > newest) return;
  const args = ["-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all", "-g", "-O1", "-std=c11", "-D_POSIX_C_SOURCE=200809L",
    "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes", ...SOURCES, "-o", `${BIN}.tmp`];
  const r = spawnSyncChild("clang", args, { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, `clang ${args.join(" ")}:\n${r.stderr}`);
  fs.renameSync(`${BIN}.tmp`, BIN);
}

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
