// Proof that the contract suites have teeth: load a stub with one deliberate
// bug (its source changed in memory by the test loader, see
// build/testing/loader.mjs ?qcam-mutant) and run its module's contract suite
// against it. Each mutant must make the suite fail, in the case that guards
// against that bug. (contract.test.ts shows the unchanged stubs pass.)
import assert from "node:assert/strict";
import { world } from "../../build/testing/index.ts";
import { contractFiles, loadSuite, runStubSide } from "./harness.ts";

interface Mutant {
  bug: string;
  module: string;
  /** [regex source, flags, replacement] on the stub's JavaScript (after the TypeScript transform). */
  replace: [string, string, string][];
  /** The cases that must fail. */
  caught: string[];
}

const MUTANTS: Mutant[] = [
  {
    bug: "ticks go backwards",
    module: "qcam:time",
    replace: [[String.raw`return world\.ticksUs\(\);`, "", "return 1e12 - world.ticksUs();"]],
    caught: ["ticks never go backwards"],
  },
  {
    bug: "sleepMs sleeps half as long",
    module: "qcam:time",
    replace: [[String.raw`world\.sleepUs\(Math\.trunc\(v \* Math\.pow\(10, magic\)\)\)`, "", "world.sleepUs(Math.trunc(v * Math.pow(10, magic) / 2))"]],
    caught: ["sleepMs() lasts at least what was asked"],
  },
  {
    bug: "a missing duration throws the wrong code",
    module: "qcam:time",
    replace: [[String.raw`"ERR_INVALID_ARG", "sleep needs a duration"`, "", '"ERR_BAD_ARG", "sleep needs a duration"']],
    caught: ["sleep() rejects a missing, negative or non-finite duration"],
  },
  {
    bug: "needExit() ignores the exit flag",
    module: "qcam:app",
    replace: [[String.raw`return world\.turn\(\);`, "", "return world.turn(), false;"]],
    caught: ["setExitFlag(true) makes needExit() true; setExitFlag(false) takes it back", "setExitFlag(true) in a timer: the same needExit() returns true"],
  },
  {
    bug: "setExitFlag takes any value",
    module: "qcam:app",
    replace: [[String.raw`arguments\.length < 1 \|\| typeof flag !== "boolean"`, "", "false"]],
    caught: ["setExitFlag needs a boolean"],
  },
  {
    bug: "an exit code out of range is a TypeError",
    module: "qcam:app",
    replace: [[String.raw`throwQcam\("RangeError", "ERR_INVALID_ARG", "exit code must be 0\.\.255"\)`, "", 'throwQcam("TypeError", "ERR_INVALID_ARG", "exit code must be 0..255")']],
    caught: ["setExitMessage checks its arguments"],
  },
  {
    bug: "a closed Image still answers",
    module: "qcam:image",
    replace: [[String.raw`if \(!p\) throwQcam\("TypeError", "ERR_CLOSED", "Image is closed"\);`, "", ""]],
    caught: ["close(): idempotent; afterwards every member but close throws ERR_CLOSED"],
  },
  {
    bug: "close() is not [Symbol.dispose]",
    module: "qcam:image",
    replace: [[String.raw`value: Image\.prototype\.close, writable`, "", "value: function close() {}, writable"]],
    caught: ["the prototype: read-only getters, methods, close as [Symbol.dispose]", "[Symbol.dispose]() closes"],
  },
];

const files = contractFiles();

describe("contract suites catch a stub that drifts (mutants)", function () {
  for (const m of MUTANTS) {
    it(`${m.module}: "${m.bug}" fails ${m.caught.map((c) => `"${c}"`).join(", ")}`, async function () {
      const file = files.get(m.module.slice("qcam:".length));
      assert.ok(file, `no contract suite for ${m.module}`);
      const makeImage = world.exposed("image.make");
      try {
        const suite = await loadSuite(file, { module: m.module, replace: m.replace });
        const results = await runStubSide(suite);
        const failed = results.filter((r) => r.status === "fail").map((r) => r.name);
        assert.ok(failed.length > 0, `the ${m.module} contract passed against a stub where ${m.bug}`);
        for (const c of m.caught) assert.ok(failed.includes(c), `"${c}" did not fail; failed: ${failed.join("; ")}`);
      } finally {
        world.expose("image.make", makeImage); // the mutant offered its own
      }
    });
  }
});
