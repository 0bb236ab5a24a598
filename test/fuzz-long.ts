// Longer fuzz run of the image verifier:
//   node --import tsx test/fuzz-long.ts [seconds]     (default 300)
// Inputs that add coverage accumulate in out/fuzz/corpus-work/ across runs;
// crashing inputs land in out/fuzz/artifacts/. Exits non-zero on a crash.
import { BuildError } from "../build/log.ts";
import { SEED_CORPUS, WORK_CORPUS, describeRun, hasClang, prepareFuzz, runFuzzer } from "./fuzz.ts";

async function main(): Promise<number> {
  const arg = process.argv[2];
  const seconds = arg === undefined ? 300 : Number(arg);
  if (!Number.isInteger(seconds) || seconds <= 0) {
    process.stderr.write(`usage: node --import tsx test/fuzz-long.ts [seconds]   (got '${arg}')\n`);
    return 2;
  }
  if (!hasClang()) {
    process.stderr.write("[qcam] clang is not installed: apt-get install clang libclang-rt-14-dev\n");
    return 1;
  }
  const { seeds } = prepareFuzz();
  process.stderr.write(`[qcam] fuzzing qcam_image_verify for ${seconds} s (${seeds.length} seeds, corpus ${WORK_CORPUS})\n`);
  const r = await runFuzzer({ seconds, corpus: [WORK_CORPUS, SEED_CORPUS], echo: true });
  process.stderr.write(`[qcam] ${describeRun(r)}\n`);
  if (r.newArtifacts.length > 0 || r.code !== 0) {
    for (const f of r.newArtifacts) process.stderr.write(`[qcam] crashing input: ${f}\n`);
    process.stderr.write(`[qcam] reproduce: out/fuzz/fuzz_image <file>\n`);
    return 1;
  }
  return 0;
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
