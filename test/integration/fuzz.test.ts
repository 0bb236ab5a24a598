// Bounded libFuzzer runs (ASan + UBSan) over every parser of untrusted input:
// one per target of test/fuzz.ts (each beside its parser: runtime/fuzz_image.c,
// host-modules/mp4/fuzz_mp4.c, ...). Each target's seeds are
// first run once with tracing, to show they reach what they were made for.
// QCAM_FUZZ_SECONDS overrides the length of each run (default 5 s); the
// long run is `npm run fuzz` (test/fuzz-long.ts).
import assert from "node:assert/strict";
import fs from "node:fs";
import { tmpDir } from "../helpers.ts";
import { FUZZ_SECONDS as SECONDS, Status, TARGET_NAMES, checkSeeds, describeRun, hasClang, prepareFuzz, runFuzzer, targetTitle, type Prepared } from "../fuzz.ts";

for (const name of TARGET_NAMES) {
  describe(`fuzz: ${targetTitle(name)} (libFuzzer, ASan, UBSan)`, function () {
    this.timeout((SECONDS + 150) * 1000);
    let prepared: Prepared;

    before(function () {
      if (!hasClang()) {
        console.log("      skipped: clang is not installed (bin/setup.mjs test installs clang and libclang-rt-14-dev)");
        this.skip();
      }
      prepared = prepareFuzz(name);
    });

    it("each seed traces what it was made for", function () {
      assert.deepEqual(checkSeeds(name, prepared.seeds), []);
      if (name === "image") {
        // The compiled-in expectations match what packImage wrote for this build.
        assert.ok(prepared.seeds.some((s) => s.expect.status === Status.ok));
      }
    });

    it(`survives ${SECONDS} s of fuzzing without a crash`, async function () {
      const work = tmpDir(`qcam-fuzz-${name}-`);
      try {
        const r = await runFuzzer({ target: name, seconds: SECONDS, corpus: [work, prepared.paths.seeds] });
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
}
