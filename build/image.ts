// The app image writer and reader (format v1). The layout is defined once in
// firmware/qcam_image.h and described in docs/image-format.md.
import { createHash } from "node:crypto";

export const MAGIC = Buffer.from("QCAMAPP\x1a", "latin1");
export const FORMAT_VERSION = 1;
export const HEADER_SIZE = 96;
export const SECTION_SIZE = 16;
export const DIGEST_SIZE = 32;
export const ENTRY_NAME_LEN = 32;

export const enum SectionType {
  Bytecode = 1,
  Manifest = 2,
  SourceMapId = 3,
  Assets = 4,
  Signature = 5, // Ed25519: public key (32) + signature (64), build/sign.ts
}

export const TARGET_IDS = { "sim-x86_64": 1, "sim-riscv64": 2, maixcam: 3, k230: 4 } as const;
export const FLAG_DEBUG_INFO = 0x0001;

export const OFF = {
  magic: 0,
  formatVersion: 8,
  headerSize: 10,
  imageSize: 12,
  engineMajor: 16,
  engineMinor: 17,
  enginePatch: 18,
  bytecodeVersion: 19,
  target: 20,
  flags: 22,
  sectionCount: 24,
  entrySection: 26,
  reserved: 28,
  abiHash: 32,
  entryName: 64,
} as const;

export interface Section {
  type: number;
  flags?: number;
  data: Buffer;
}

export interface ImageHeader {
  formatVersion: number;
  engine: string; // "0.17.0"
  bytecodeVersion: number;
  targetId: number;
  flags: number;
  abiHash: string; // hex
  entryName: string;
  entrySection: number;
}

export interface AppImage extends ImageHeader {
  sections: Section[];
}

const align8 = (n: number) => (n + 7) & ~7;

export function packImage(img: AppImage): Buffer {
  if (img.sections.length === 0 || img.sections.length > 64) throw new Error("an image holds 1..64 sections");
  const nameBytes = Buffer.from(img.entryName, "utf8");
  if (nameBytes.length === 0 || nameBytes.length > ENTRY_NAME_LEN) throw new Error(`entry name must be 1..${ENTRY_NAME_LEN} bytes`);
  const [maj, min, pat] = img.engine.split(".").map(Number);
  const tableEnd = HEADER_SIZE + SECTION_SIZE * img.sections.length;
  const offsets: number[] = [];
  let pos = align8(tableEnd);
  for (const s of img.sections) {
    offsets.push(pos);
    pos = align8(pos + s.data.length);
  }
  const size = pos + DIGEST_SIZE;
  const buf = Buffer.alloc(size);
  MAGIC.copy(buf, OFF.magic);
  buf.writeUInt16LE(img.formatVersion, OFF.formatVersion);
  buf.writeUInt16LE(HEADER_SIZE, OFF.headerSize);
  buf.writeUInt32LE(size, OFF.imageSize);
  buf.writeUInt8(maj, OFF.engineMajor);
  buf.writeUInt8(min, OFF.engineMinor);
  buf.writeUInt8(pat, OFF.enginePatch);
  buf.writeUInt8(img.bytecodeVersion, OFF.bytecodeVersion);
  buf.writeUInt16LE(img.targetId, OFF.target);
  buf.writeUInt16LE(img.flags, OFF.flags);
  buf.writeUInt16LE(img.sections.length, OFF.sectionCount);
  buf.writeUInt16LE(img.entrySection, OFF.entrySection);
  Buffer.from(img.abiHash, "hex").copy(buf, OFF.abiHash);
  nameBytes.copy(buf, OFF.entryName);
  img.sections.forEach((s, i) => {
    const e = HEADER_SIZE + i * SECTION_SIZE;
    buf.writeUInt32LE(s.type, e);
    buf.writeUInt32LE(s.flags ?? 0, e + 4);
    buf.writeUInt32LE(offsets[i], e + 8);
    buf.writeUInt32LE(s.data.length, e + 12);
    s.data.copy(buf, offsets[i]);
  });
  sealImage(buf);
  return buf;
}

/** Recompute the trailing SHA-256 (after editing a packed image). */
export function sealImage(buf: Buffer): void {
  createHash("sha256").update(buf.subarray(0, buf.length - DIGEST_SIZE)).digest().copy(buf, buf.length - DIGEST_SIZE);
}

/** Read an image's header and sections. Checks structure only (the runtime
 * is the one that decides whether it will run it). */
export function readImage(buf: Buffer): AppImage {
  if (buf.length < HEADER_SIZE + DIGEST_SIZE || !buf.subarray(0, 8).equals(MAGIC)) throw new Error("not a qcam app image");
  const count = buf.readUInt16LE(OFF.sectionCount);
  const sections: Section[] = [];
  for (let i = 0; i < count; i++) {
    const e = HEADER_SIZE + i * SECTION_SIZE;
    if (e + SECTION_SIZE > buf.length) throw new Error("section table runs past the end");
    const off = buf.readUInt32LE(e + 8);
    const len = buf.readUInt32LE(e + 12);
    if (off + len > buf.length) throw new Error(`section ${i} lies outside the image`);
    sections.push({ type: buf.readUInt32LE(e), flags: buf.readUInt32LE(e + 4), data: buf.subarray(off, off + len) });
  }
  const nameRaw = buf.subarray(OFF.entryName, OFF.entryName + ENTRY_NAME_LEN);
  const nul = nameRaw.indexOf(0);
  return {
    formatVersion: buf.readUInt16LE(OFF.formatVersion),
    engine: `${buf[OFF.engineMajor]}.${buf[OFF.engineMinor]}.${buf[OFF.enginePatch]}`,
    bytecodeVersion: buf[OFF.bytecodeVersion],
    targetId: buf.readUInt16LE(OFF.target),
    flags: buf.readUInt16LE(OFF.flags),
    abiHash: buf.subarray(OFF.abiHash, OFF.abiHash + 32).toString("hex"),
    entryName: nameRaw.subarray(0, nul < 0 ? ENTRY_NAME_LEN : nul).toString("utf8"),
    entrySection: buf.readUInt16LE(OFF.entrySection),
    sections,
  };
}

export function sourceMapIdOf(img: AppImage): string | undefined {
  return img.sections.find((s) => s.type === SectionType.SourceMapId)?.data.toString("latin1");
}
