// What `npm start`, `npm test` and `npm run bench` need built, after
// bin/setup.mjs has installed system packages and node_modules.
import { buildFlavor } from "./cmake.ts";
import { BuildError, step } from "./log.ts";
import type { Flavor } from "./paths.ts";

const NEEDS: Record<string, Flavor[]> = {
  start: ["host"],
  test: ["host", "riscv64", "asan"],
  bench: ["host", "lean"],
};

export function setup(purpose: string): void {
  const flavors = NEEDS[purpose] ?? NEEDS.start;
  for (const f of flavors) {
    const info = buildFlavor(f);
    step(`${f}: quickjs-ng ${info.engine}, bytecode v${info.bytecode}, target ${info.target}, abi ${info.abi.slice(0, 12)}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    setup(process.argv[2] ?? "start");
  } catch (e) {
    if (e instanceof BuildError) {
      process.stderr.write(`[qcam] ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}
