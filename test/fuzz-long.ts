// Longer fuzz run of every target of test/fuzz.ts:
//   node --import tsx test/fuzz-long.ts [seconds] [target...]   (default 300 s, all targets)
//   npm run fuzz -- 600 y4m
// The seconds are split evenly between the targets, which run one after the
// other. Inputs that add coverage accumulate in each target's
// out/fuzz/corpus-work*/ across runs; crashing inputs land in
// out/fuzz/artifacts/<target>-*. Exits non-zero when any target crashed.
import { BuildError } from "../build/log.ts";
import { TARGET_NAMES, describeRun, hasClang, isTargetName, prepareFuzz, runFuzzer, targetTitle, type FuzzResult, type TargetName } from "./fuzz.ts";

function usage(msg: string): number {
  process.stderr.write(`${msg}\nusage: node --import tsx test/fuzz-long.ts [seconds] [target...]   (targets: ${TARGET_NAMES.join(", ")})\n`);
  return 2;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let seconds = 300;
  if (args.length > 0 && /^\d+$/.test(args[0])) seconds = Number(args.shift());
  const targets: TargetName[] = [];
  for (const a of args) {
    if (!isTargetName(a)) return usage(`unknown target or bad seconds '${a}'`);
    if (!targets.includes(a)) targets.push(a);
  }
  if (targets.length === 0) targets.push(...TARGET_NAMES);
  const each = Math.floor(seconds / targets.length);
  if (!Number.isInteger(seconds) || each < 1) return usage(`need at least 1 second per target (got ${seconds} s for ${targets.length})`);
  if (!hasClang()) {
    process.stderr.write("[qcam] clang is not installed: apt-get install clang libclang-rt-14-dev\n");
    return 1;
  }

  // Build everything first, so a build error stops the run before any fuzzing.
  const prepared = targets.map((name) => prepareFuzz(name));
  const results: FuzzResult[] = [];
  for (const p of prepared) {
    process.stderr.write(`[qcam] fuzzing ${targetTitle(p.name)} for ${each} s (${p.seeds.length} seeds, corpus ${p.paths.work})\n`);
    const r = await runFuzzer({ target: p.name, seconds: each, corpus: [p.paths.work, p.paths.seeds], echo: true });
    process.stderr.write(`[qcam] ${describeRun(r)}\n`);
    results.push(r);
  }

  process.stderr.write(`[qcam] summary (${seconds} s over ${targets.length} target${targets.length > 1 ? "s" : ""}):\n`);
  let failed = 0;
  for (const r of results) {
    const ok = r.newArtifacts.length === 0 && r.code === 0;
    process.stderr.write(`[qcam]   ${ok ? "ok  " : "FAIL"} ${describeRun(r)}\n`);
    if (ok) continue;
    failed++;
    for (const f of r.newArtifacts) process.stderr.write(`[qcam]        crashing input: ${f}\n`);
    process.stderr.write(`[qcam]        reproduce: out/fuzz/fuzz_${r.target} <file>\n`);
  }
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof BuildError) {
      process.stderr.write(`[qcam] ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  },
);
