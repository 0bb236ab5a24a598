// Source-map decoding against maps esbuild writes.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
import { SourceMap, mapStackLine } from "../../build/sourcemap.ts";
import { tmpDir } from "../helpers.ts";

describe("source maps", function () {
  const dir = tmpDir("qcam-map-");
  let map: SourceMap;
  let bundle: string[];

  before(async function () {
    fs.writeFileSync(path.join(dir, "a.ts"), "export function alpha(n: number): number {\n  const x: number = n * 2;\n  return beta(x);\n}\nimport { beta } from './b.ts';\n");
    fs.writeFileSync(path.join(dir, "b.ts"), "\n\nexport function beta(v: number): number {\n  if (v > 10) throw new Error('big');\n  return v;\n}\n");
    fs.writeFileSync(path.join(dir, "main.ts"), "import { alpha } from './a.ts';\nconsole.log(alpha(3));\n");
    await esbuild.build({ entryPoints: [path.join(dir, "main.ts")], bundle: true, format: "esm", sourcemap: "external", outfile: path.join(dir, "out.js"), logLevel: "silent" });
    map = SourceMap.load(path.join(dir, "out.js.map"));
    bundle = fs.readFileSync(path.join(dir, "out.js"), "utf8").split("\n");
  });

  it("maps a bundle line back to its TypeScript file and line", function () {
    const throwAt = bundle.findIndex((l) => l.includes("throw new Error")) + 1;
    const col = bundle[throwAt - 1].indexOf("throw") + 1;
    const hit = map.lookup(throwAt, col);
    assert.ok(hit);
    assert.equal(path.basename(hit.source), "b.ts");
    assert.equal(hit.line, 4);
    assert.equal(hit.column, 15);
  });

  it("rewrites every frame of a stack line that names the bundle", function () {
    const ret = bundle.findIndex((l) => l.includes("return beta")) + 1;
    const line = `    at alpha (out.js:${ret}:3)`;
    assert.equal(mapStackLine(line, "out.js", map, dir), "    at alpha (a.ts:3:3)");
    assert.equal(mapStackLine("    at native (other.js:1:1)", "out.js", map, dir), "    at native (other.js:1:1)");
  });

  it("leaves lines with no mapping alone", function () {
    assert.equal(mapStackLine("at x (out.js:9999:1)", "out.js", map, dir), "at x (out.js:9999:1)");
  });
});
