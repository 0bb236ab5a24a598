// The same TypeScript program, bundled once, prints the same lines on qcam
// (x86-64, riscv64 under qemu, and the ASan+UBSan build) as on Node.
import assert from "node:assert/strict";
import fs from "node:fs";
import type { Flavor } from "../../build/paths.ts";
import { fixture, runSync, spawnSyncChild } from "../helpers.ts";

describe("language coverage", function () {
  let nodeOut: string;

  before(async function () {
    const built = await fixture("language");
    const r = spawnSyncChild(process.execPath, [built.bundle], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    nodeOut = r.stdout;
    assert.ok(nodeOut.split("\n").length > 40, "the program prints its checks");
  });

  const runs: [string, Flavor, "host" | "riscv64"][] = [
    ["x86-64", "host", "host"],
    ["riscv64 (qemu-riscv64)", "riscv64", "riscv64"],
    ["x86-64 with ASan+UBSan", "asan", "host"],
  ];
  for (const [label, flavor, target] of runs) {
    it(`${label}: output identical to Node`, async function () {
      const built = await fixture("language", target);
      const r = runSync(flavor, built.image);
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      assert.deepEqual(r.stdout.split("\n"), nodeOut.split("\n"));
    });
  }

  it("bytecode is byte-identical for host and riscv64", async function () {
    const [h, r] = await Promise.all([fixture("language", "host"), fixture("language", "riscv64")]);
    const bc = (f: string) => fs.readFileSync(f.replace(/\.qcam$/, ".bc"));
    assert.ok(bc(h.image).equals(bc(r.image)));
  });
});
