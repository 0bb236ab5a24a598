// A bad app image is refused before the engine reads a byte of it: a one-line
// message naming the problem, a distinct exit code, never a signal.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { OFF, HEADER_SIZE, readImage, sealImage } from "../../build/image.ts";
import type { Flavor } from "../../build/paths.ts";
import { fixture, runSync, tmpDir } from "../helpers.ts";

interface Case {
  name: string;
  code: number;
  message: RegExp;
  make: (good: Buffer) => Buffer;
}

const edit = (fn: (b: Buffer) => void, reseal = true) => (good: Buffer) => {
  const b = Buffer.from(good);
  fn(b);
  if (reseal) sealImage(b);
  return b;
};

const CASES: Case[] = [
  { name: "empty file", code: 13, message: /truncated image: 0 bytes/, make: () => Buffer.alloc(0) },
  { name: "wrong magic", code: 11, message: /not a qcam app image \(bad magic\)/, make: edit((b) => (b[0] ^= 0xff), false) },
  { name: "an ELF file", code: 11, message: /bad magic/, make: () => Buffer.from("\x7fELF\x02\x01\x01\x00" + "\0".repeat(200), "latin1") },
  { name: "truncated mid-bytecode", code: 13, message: /truncated image: header says \d+ bytes, file has \d+/, make: (g) => g.subarray(0, g.length - 100) },
  { name: "truncated inside the header", code: 13, message: /truncated image: 40 bytes/, make: (g) => g.subarray(0, 40) },
  { name: "bytes appended", code: 13, message: /oversized image/, make: (g) => Buffer.concat([g, Buffer.from("extra")]) },
  { name: "flipped byte in the bytecode", code: 14, message: /corrupt image: SHA-256 does not match/, make: edit((b) => (b[b.length - 200] ^= 0x01), false) },
  { name: "flipped byte in the header", code: 14, message: /corrupt image/, make: edit((b) => (b[OFF.flags] ^= 0x80), false) },
  { name: "flipped byte in the digest", code: 14, message: /corrupt image/, make: edit((b) => (b[b.length - 1] ^= 0x01), false) },
  { name: "format version 2", code: 12, message: /unsupported image format version 2 \(this runtime reads 1\)/, make: edit((b) => b.writeUInt16LE(2, OFF.formatVersion)) },
  { name: "other engine version", code: 15, message: /built for engine quickjs-ng 0\.16\.\d+, this runtime has 0\.17\.\d+/, make: edit((b) => (b[OFF.engineMinor] = 16)) },
  { name: "other bytecode version", code: 16, message: /bytecode version 27, this runtime reads \d+/, make: edit((b) => (b[OFF.bytecodeVersion] = 27)) },
  { name: "other host-module ABI", code: 18, message: /other host-module declarations \(ABI hash differs\)/, make: edit((b) => (b[OFF.abiHash] ^= 1)) },
  { name: "section outside the image", code: 19, message: /section 0 \(type 1\) lies outside the image/, make: edit((b) => b.writeUInt32LE(b.length, HEADER_SIZE + 8)) },
  { name: "entry section not bytecode", code: 19, message: /entry section 1 is not bytecode/, make: edit((b) => b.writeUInt16LE(1, OFF.entrySection)) },
  { name: "no sections", code: 19, message: /bad section count 0/, make: edit((b) => b.writeUInt16LE(0, OFF.sectionCount)) },
  { name: "section table past the end", code: 19, message: /bad section count|section table runs past/, make: edit((b) => b.writeUInt16LE(64, OFF.sectionCount)) },
  { name: "empty entry name", code: 19, message: /entry module has no name/, make: edit((b) => b.fill(0, OFF.entryName, OFF.entryName + 32)) },
];

function expectRefusal(flavor: Flavor, file: string, c: { code: number; message: RegExp }) {
  const r = runSync(flavor, file);
  assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
  assert.equal(r.code, c.code, r.stderr);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0], /^qcam: refusing .*: /);
  assert.match(lines[0], c.message);
}

describe("app image verification", function () {
  let good: Buffer;
  let goodRiscv: string;
  const dir = tmpDir("qcam-img-");

  before(async function () {
    good = fs.readFileSync((await fixture("hello")).image);
    goodRiscv = (await fixture("hello", "riscv64")).image;
  });

  it("runs the good image", function () {
    const f = path.join(dir, "good.qcam");
    fs.writeFileSync(f, good);
    const r = runSync("host", f, { args: ["a b", "c"] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from hello ["a b","c"]\n');
    assert.equal(readImage(good).sections.length, 3);
  });

  for (const flavor of ["host", "asan"] as const) {
    describe(`refused by the ${flavor} runtime`, function () {
      for (const c of CASES) {
        it(`${c.name} -> exit ${c.code}`, function () {
          const f = path.join(dir, `${flavor}-${c.name.replace(/\W+/g, "-")}.qcam`);
          fs.writeFileSync(f, c.make(good));
          expectRefusal(flavor, f, c);
        });
      }
    });
  }

  it("a riscv64 image on the x86-64 runtime -> exit 17", function () {
    expectRefusal("host", goodRiscv, { code: 17, message: /built for target sim-riscv64, this runtime is sim-x86_64/ });
  });

  it("an x86-64 image on the riscv64 runtime (qemu) -> exit 17", async function () {
    expectRefusal("riscv64", (await fixture("hello")).image, { code: 17, message: /built for target sim-x86_64, this runtime is sim-riscv64/ });
  });

  it("a missing file -> exit 10", function () {
    const r = runSync("host", path.join(dir, "nope.qcam"));
    assert.equal(r.code, 10);
    assert.match(r.stderr, /^qcam: cannot read .*nope\.qcam: No such file or directory\n$/);
  });

  it("section table entries are 16 bytes after a 96-byte header", function () {
    // Read from the bytes with the documented numbers, not the builder's
    // constants: the header says it is 96 bytes; entry i at 96 + 16 i holds
    // type, flags, offset, length; the sections lie after the table, inside
    // the file, without overlapping; the entry section starts with the
    // bytecode version byte (offset 19).
    assert.equal(good.readUInt16LE(10), 96, "header size field");
    const count = good.readUInt16LE(24);
    assert.equal(count, 3);
    const tableEnd = 96 + 16 * count;
    const spans = Array.from({ length: count }, (_, i) => [good.readUInt32LE(96 + 16 * i + 8), good.readUInt32LE(96 + 16 * i + 12)] as const);
    const sorted = [...spans].sort((x, y) => x[0] - y[0]);
    sorted.forEach(([off, len], i) => {
      assert.ok(off >= tableEnd && off + len <= good.length, `section at ${off}+${len} outside ${tableEnd}..${good.length}`);
      if (i > 0) assert.ok(off >= sorted[i - 1][0] + sorted[i - 1][1], "sections overlap");
    });
    const entry = good.readUInt16LE(26);
    assert.equal(good[spans[entry][0]], good[19], "the entry section starts with the bytecode version");
    const img = readImage(good);
    assert.equal(img.entryName, "hello.js");
    assert.deepEqual(img.sections.map((x) => x.data.length), spans.map(([, len]) => len), "readImage agrees");
  });
});
