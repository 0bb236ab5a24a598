// Signed app images: Ed25519 over the image's signing digest
// (docs/image-format.md, "Signature"). Keys are made and used with node's
// crypto (OpenSSL); the board verifies with libsodium (runtime/image.c).
// A private key is a PKCS#8 PEM file (mode 0600); a public key is 64 hex
// digits, the form a board's key list (/sdcard/qcam/keys) holds.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { BuildError } from "./log.ts";
import { DIGEST_SIZE, packImage, readImage, sealImage, SectionType } from "./image.ts";

export const PUBKEY_SIZE = 32;
export const SIG_SIZE = 64;
export const SIGNATURE_SECTION_SIZE = PUBKEY_SIZE + SIG_SIZE;

/** The raw 32-byte public key of an Ed25519 key, as hex. */
export function publicKeyHex(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  const jwk = pub.export({ format: "jwk" }) as { x?: string; crv?: string };
  if (jwk.crv !== "Ed25519" || !jwk.x) throw new BuildError("not an Ed25519 key");
  return Buffer.from(jwk.x, "base64url").toString("hex");
}

/** Make a key pair: FILE (private, 0600, never overwritten) and FILE.pub (hex). */
export function keygen(file: string): { file: string; pubFile: string; publicKey: string } {
  const out = path.resolve(file);
  if (fs.existsSync(out)) throw new BuildError(`${file} exists: a key is never overwritten (choose another --out)`);
  fs.mkdirSync(path.dirname(out), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  fs.writeFileSync(out, pem, { mode: 0o600, flag: "wx" });
  fs.chmodSync(out, 0o600);
  const publicKey = publicKeyHex(privateKey);
  const pubFile = `${out}.pub`;
  fs.writeFileSync(pubFile, publicKey + "\n");
  return { file: out, pubFile, publicKey };
}

export function readPrivateKey(file: string): KeyObject {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new BuildError(`cannot read the signing key ${file}: ${(e as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch {
    throw new BuildError(`${file} is not a private key (qcam keygen makes one)`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new BuildError(`${file} is not an Ed25519 key (qcam keygen makes one)`);
  return key;
}

/** A public key from a .pub file (64 hex digits) or given as hex. */
export function readPublicKey(fileOrHex: string): string {
  const text = /^[0-9a-fA-F]{64}$/.test(fileOrHex) ? fileOrHex : fs.existsSync(fileOrHex) ? fs.readFileSync(fileOrHex, "utf8").trim() : "";
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new BuildError(`${fileOrHex}: not a public key (64 hex digits, as qcam keygen writes KEY.pub)`);
  return text.toLowerCase();
}

/** The signing digest: SHA-256 of [0, size − 32) with the signature payload as zeros. */
export function signingDigest(buf: Buffer, sigOffset: number): Buffer {
  const h = createHash("sha256");
  h.update(buf.subarray(0, sigOffset));
  h.update(Buffer.alloc(SIGNATURE_SECTION_SIZE));
  h.update(buf.subarray(sigOffset + SIGNATURE_SECTION_SIZE, buf.length - DIGEST_SIZE));
  return h.digest();
}

/** Where the signature section's payload starts, or -1 when unsigned. */
export function signatureOffset(buf: Buffer): number {
  const count = buf.readUInt16LE(24);
  for (let i = 0; i < count; i++) {
    const e = 96 + i * 16;
    if (buf.readUInt32LE(e) === SectionType.Signature) return buf.readUInt32LE(e + 8);
  }
  return -1;
}

/** The image signed by `key` (a signature already there is replaced). */
export function signImage(image: Buffer, key: KeyObject): Buffer {
  const img = readImage(image);
  img.sections = img.sections.filter((s) => s.type !== SectionType.Signature);
  img.sections.push({ type: SectionType.Signature, data: Buffer.alloc(SIGNATURE_SECTION_SIZE) });
  const out = packImage(img);
  const off = signatureOffset(out);
  const sig = sign(null, signingDigest(out, off), key);
  Buffer.from(publicKeyHex(key), "hex").copy(out, off);
  sig.copy(out, off + PUBKEY_SIZE);
  sealImage(out);
  return out;
}

/** Sign the image file in place (written beside, then renamed). */
export function signImageFile(file: string, keyFile: string): string {
  const key = readPrivateKey(keyFile);
  const signed = signImage(fs.readFileSync(file), key);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, signed);
  fs.renameSync(tmp, file);
  return publicKeyHex(key);
}
