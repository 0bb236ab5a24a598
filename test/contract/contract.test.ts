// Contract tests: every suite in test/contract/<mod>.contract.ts runs against
// the stub in Node and, bundled into an app image, against the C module in the
// real runtime (x86-64, riscv64 under qemu, and the ASan+UBSan build). A stub
// that does something else than its C module fails here.
import assert from "node:assert/strict";
import type { Flavor } from "../../build/paths.ts";
import { contractFiles, loadSuite, runRuntimeSides, runStubSide, type RuntimeRun } from "./harness.ts";
import type { CaseResult } from "./kit.ts";

const FLAVORS: Flavor[] = ["host", "riscv64", "asan"];

for (const [mod, file] of contractFiles()) {
  const suite = await loadSuite(file);

  describe(`${suite.module} contract`, function () {
    describe(`stub (host-modules/${mod}/${mod}.stub.ts)`, function () {
      let results: CaseResult[];
      before(async function () {
        results = await runStubSide(suite);
      });
      suite.cases.forEach((c, i) => {
        it(c.name, function () {
          const r = results[i];
          assert.equal(r.name, c.name);
          if (r.status === "skip") this.skip();
          assert.equal(r.status, "pass", r.message);
        });
      });
    });

    describe(`C module (${FLAVORS.join(", ")})`, function () {
      const runs = new Map<Flavor, RuntimeRun>();
      before(async function () {
        this.timeout(300_000);
        for (const r of await runRuntimeSides(mod, suite, FLAVORS)) runs.set(r.flavor, r);
      });

      it("the app ran every case and exited 0", function () {
        for (const [flavor, r] of runs) {
          assert.equal(r.code, 0, `${flavor}: exit ${r.code}\n${r.stderr}`);
          assert.ok(r.report, `${flavor}: no results printed\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
          assert.deepEqual(r.report.results.map((x) => x.name), suite.cases.map((c) => c.name), `${flavor}: the cases that ran`);
          assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error/, flavor);
        }
      });

      suite.cases.forEach((c, i) => {
        it(c.name, function () {
          const failures: string[] = [];
          let skipped = 0;
          for (const [flavor, r] of runs) {
            const res = r.report?.results[i];
            if (!res) failures.push(`${flavor}: did not run`);
            else if (res.status === "skip") skipped++;
            else if (res.status === "fail") failures.push(`${flavor}: ${res.message}`);
          }
          assert.deepEqual(failures, [], failures.join("\n"));
          if (skipped === runs.size) {
            this.test!.title += ` (skipped: ${[...runs.values()][0].report?.results[i].message})`;
            this.skip();
          }
        });
      });
    });
  });
}
