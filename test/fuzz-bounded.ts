// A bounded libFuzzer run of a target that lives beside its parser
// (host-modules/<mod>/fuzz_*.c), as a mocha suite: build it with Debian's
// clang (ASan + UBSan; test/fuzz.ts's compileFuzzer, so the same flags and a
// rebuild when a file the compile reads changes), run the seeds once, then
// 200000 inputs mutated from them or 5 s of them (QCAM_FUZZ_SECONDS), whichever
// ends first.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { FUZZ_DIR, FUZZ_SECONDS as SECONDS, compileFuzzer } from "./fuzz.ts";
import { spawnSyncChild } from "./helpers.ts";

export { FUZZ_DIR };

/** The mutated run stops at RUNS inputs or FUZZ_SECONDS, whichever comes first. */
const RUNS = 200000;

export interface BoundedFuzz {
  title: string;
  name: string; // out/fuzz/fuzz_<name>, out/fuzz/corpus-<name>/, out/fuzz/artifacts/<name>-*
  sources: string[]; // C files, from the root
  seeds: () => Buffer[];
  seedsAre: string; // "what mosquitto says to a client, and malformed packets"
}

export function boundedFuzz(f: BoundedFuzz): void {
  const bin = path.join(FUZZ_DIR, `fuzz_${f.name.replace(/-/g, "_")}`);
  const corpus = path.join(FUZZ_DIR, `corpus-${f.name}`);
  describe(f.title, function () {
    this.timeout(300_000);
    before(function () {
      assert.equal(spawnSyncChild("clang", ["--version"]).status, 0, "clang (installed by node bin/setup.mjs test) builds the fuzzer");
      fs.mkdirSync(corpus, { recursive: true });
      fs.mkdirSync(path.join(FUZZ_DIR, "artifacts"), { recursive: true });
      f.seeds().forEach((b, i) => fs.writeFileSync(path.join(corpus, `seed-${i}`), b));
      compileFuzzer(bin, f.sources);
    });

    it(`the seeds (${f.seedsAre}) run clean`, function () {
      const r = spawnSyncChild(bin, ["-runs=0", corpus], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr.slice(-4000));
    });

    it(`${RUNS} inputs mutated from them (or ${SECONDS} s of them) break no invariant`, function () {
      const r = spawnSyncChild(bin, [`-runs=${RUNS}`, `-max_total_time=${SECONDS}`, "-max_len=8192", `-artifact_prefix=${path.join(FUZZ_DIR, "artifacts", `${f.name}-`)}`, corpus], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr.slice(-4000));
      const done = Number(/Done (\d+) runs/.exec(r.stderr)?.[1] ?? 0);
      console.log(`      ${done} inputs`);
      assert.ok(done >= 10000, `the fuzzer ran ${done} inputs:\n${r.stderr.slice(-4000)}`);
    });
  });
}
