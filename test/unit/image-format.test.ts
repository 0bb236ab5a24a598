// The TypeScript packer and the C header describe the same layout.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { DIGEST_SIZE, ENTRY_NAME_LEN, FORMAT_VERSION, HEADER_SIZE, MAGIC, OFF, SECTION_SIZE, SectionType, TARGET_IDS, packImage, readImage } from "../../build/image.ts";
import { ROOT } from "../../build/paths.ts";
import { createHash } from "node:crypto";

const header = fs.readFileSync(path.join(ROOT, "firmware", "qcam_image.h"), "utf8");
const define = (name: string) => {
  const m = header.match(new RegExp(`#define ${name}\\s+(\\S+)`));
  assert.ok(m, `${name} in qcam_image.h`);
  return m[1];
};

describe("image format", function () {
  it("sizes and magic match firmware/qcam_image.h", function () {
    assert.equal(Number(define("QCAM_IMAGE_FORMAT_VERSION")), FORMAT_VERSION);
    assert.equal(Number(define("QCAM_IMAGE_HEADER_SIZE")), HEADER_SIZE);
    assert.equal(Number(define("QCAM_IMAGE_SECTION_SIZE")), SECTION_SIZE);
    assert.equal(Number(define("QCAM_IMAGE_DIGEST_SIZE")), DIGEST_SIZE);
    assert.equal(Number(define("QCAM_IMAGE_ENTRY_NAME_LEN")), ENTRY_NAME_LEN);
    assert.equal(define("QCAM_IMAGE_MAGIC"), JSON.stringify(MAGIC.toString("latin1")).replace("\\u001a", "\\x1a"));
  });

  it("header offsets match", function () {
    const names: Record<keyof typeof OFF, string> = {
      magic: "MAGIC", formatVersion: "FORMAT_VERSION", headerSize: "HEADER_SIZE", imageSize: "IMAGE_SIZE",
      engineMajor: "ENGINE_MAJOR", engineMinor: "ENGINE_MINOR", enginePatch: "ENGINE_PATCH", bytecodeVersion: "BYTECODE_VER",
      target: "TARGET", flags: "FLAGS", sectionCount: "SECTION_COUNT", entrySection: "ENTRY_SECTION", reserved: "RESERVED",
      abiHash: "ABI_HASH", entryName: "ENTRY_NAME",
    };
    for (const [k, c] of Object.entries(names)) assert.equal(Number(define(`QCAM_IMG_OFF_${c}`)), OFF[k as keyof typeof OFF], k);
  });

  it("section types and targets match", function () {
    assert.match(header, new RegExp(`QCAM_SECTION_BYTECODE = ${SectionType.Bytecode}`));
    assert.match(header, new RegExp(`QCAM_SECTION_MANIFEST = ${SectionType.Manifest}`));
    assert.match(header, new RegExp(`QCAM_SECTION_SOURCEMAP_ID = ${SectionType.SourceMapId}`));
    assert.match(header, new RegExp(`QCAM_TARGET_SIM_X86_64 = ${TARGET_IDS["sim-x86_64"]}`));
    assert.match(header, new RegExp(`QCAM_TARGET_SIM_RISCV64 = ${TARGET_IDS["sim-riscv64"]}`));
  });

  it("pack -> read round trip, 8-byte aligned sections, digest over everything before it", function () {
    const img = {
      formatVersion: 1, engine: "0.17.0", bytecodeVersion: 28, targetId: 2, flags: 1,
      abiHash: "ab".repeat(32), entryName: "x.js", entrySection: 0,
      sections: [
        { type: SectionType.Bytecode, flags: 0, data: Buffer.from([28, 1, 2, 3, 4]) },
        { type: SectionType.Manifest, flags: 0, data: Buffer.from('{"id":"x"}') },
      ],
    };
    const buf = packImage(img);
    assert.equal(buf.readUInt32LE(OFF.imageSize), buf.length);
    const back = readImage(buf);
    assert.deepEqual({ ...back, sections: back.sections.map((s) => ({ ...s, data: Buffer.from(s.data) })) }, img);
    for (let i = 0; i < 2; i++) assert.equal(buf.readUInt32LE(HEADER_SIZE + i * SECTION_SIZE + 8) % 8, 0);
    const digest = createHash("sha256").update(buf.subarray(0, buf.length - 32)).digest();
    assert.ok(digest.equals(buf.subarray(buf.length - 32)));
  });

  it("rejects what it cannot represent", function () {
    const base = { formatVersion: 1, engine: "0.17.0", bytecodeVersion: 28, targetId: 1, flags: 0, abiHash: "00".repeat(32), entrySection: 0 };
    assert.throws(() => packImage({ ...base, entryName: "x".repeat(33), sections: [{ type: 1, data: Buffer.alloc(1) }] }), /entry name/);
    assert.throws(() => packImage({ ...base, entryName: "x", sections: [] }), /1\.\.64 sections/);
    assert.throws(() => readImage(Buffer.from("nope")), /not a qcam app image/);
  });
});
