// Push deltas (build/devlink/delta.ts; the board's side is qcam_dl_apply_delta,
// fuzzed in runtime/devlink/fuzz_devlink.c): every delta rebuilds its image.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { applyDelta, makeDelta } from "../../build/devlink/delta.ts";

describe("dev link: push deltas", function () {
  it("an edited image: a small delta that rebuilds it exactly", function () {
    const base = randomBytes(10000);
    const image = Buffer.concat([base.subarray(0, 3000), Buffer.from("an inserted statement"), base.subarray(3000, 9000), randomBytes(40), base.subarray(9040)]);
    const d = makeDelta(base, image);
    assert.ok(d.length < 200, `${d.length} bytes`);
    assert.deepEqual(applyDelta(base, d, image.length), image);
  });

  it("unrelated, empty and repetitive inputs round-trip too", function () {
    const cases: [Buffer, Buffer][] = [
      [randomBytes(5000), randomBytes(5000)],
      [Buffer.alloc(0), randomBytes(100)],
      [randomBytes(100), Buffer.alloc(0)],
      [Buffer.alloc(4000, 7), Buffer.alloc(9000, 7)],
      [Buffer.from("abcabcabcabcabcabc".repeat(50)), Buffer.from("abcabcXabcabcabcabc".repeat(60))],
    ];
    for (const [base, image] of cases) assert.deepEqual(applyDelta(base, makeDelta(base, image), image.length), image);
  });

  it("a delta that reads outside its base or makes the wrong length is refused", function () {
    const base = Buffer.from("0123456789");
    assert.throws(() => applyDelta(base, Buffer.from([1, 5, 0, 0, 0, 6, 0, 0, 0]), 6), /out of range/);
    assert.throws(() => applyDelta(base, Buffer.from([2, 3, 0, 0, 0, 65, 66]), 3), /out of range/);
    assert.throws(() => applyDelta(base, Buffer.from([1, 0, 0, 0, 0, 4, 0, 0, 0]), 5), /wrong length/);
    assert.throws(() => applyDelta(base, Buffer.from([9]), 0), /unknown op/);
  });
});
