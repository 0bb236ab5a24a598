// Bounded libFuzzer run over the image verifier (runtime/fuzz/fuzz_image.c).
// QCAM_FUZZ_SECONDS overrides the length (default 20 s); the long run is
// test/fuzz-long.ts.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { tmpDir } from "../helpers.ts";
import { SEED_CORPUS, Status, describeRun, hasClang, prepareFuzz, runFuzzer, traceStatuses, type Seed } from "../fuzz.ts";

const SECONDS = Number(process.env.QCAM_FUZZ_SECONDS ?? 20);

describe("fuzz: image verifier (libFuzzer, ASan, UBSan)", function () {
  this.timeout((SECONDS + 150) * 1000);
  let seeds: Seed[] = [];

  before(function () {
    if (!hasClang()) {
      console.log("      skipped: clang is not installed (bin/setup.mjs test installs clang and libclang-rt-14-dev)");
      this.skip();
    }
    seeds = prepareFuzz().seeds;
  });

  it("verifies each seed with the status it was made for", function () {
    const files = seeds.map((s) => path.join(SEED_CORPUS, `seed-${s.name}`));
    const got = traceStatuses(files);
    for (const s of seeds) {
      const file = path.join(SEED_CORPUS, `seed-${s.name}`);
      const r = got.get(file);
      assert.ok(r, `no trace for seed ${s.name}`);
      assert.equal(r.status, s.status, `seed ${s.name}: ${r.line}`);
    }
    // The compiled-in expectations match what packImage wrote for this build.
    assert.ok(seeds.some((s) => s.status === Status.ok));
  });

  it(`survives ${SECONDS} s of fuzzing without a crash`, async function () {
    const work = tmpDir("qcam-fuzz-");
    try {
      const r = await runFuzzer({ seconds: SECONDS, corpus: [work, SEED_CORPUS] });
      console.log(`      ${describeRun(r)}`);
      const tail = r.output.split("\n").slice(-60).join("\n");
      assert.deepEqual(r.newArtifacts, [], `fuzzer wrote ${r.newArtifacts.join(", ")}:\n${tail}`);
      assert.equal(r.code, 0, `fuzzer exited ${r.code ?? r.signal}:\n${tail}`);
      assert.ok(r.execs > 0, `no executions reported:\n${tail}`);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
