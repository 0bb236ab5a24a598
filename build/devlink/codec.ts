// The dev link's frame codec (docs/dev-link.md), host side: pure code, no I/O.
// The board's twin is runtime/devlink/devlink_proto.h; one table of frames
// (test/fixtures/devlink/frames.json) tests both.
//
// On the wire a frame is 00 COBS(header | payload | crc32) 00; everything
// between two 00 bytes is one span, which decodes to a frame or is junk
// (text the board printed, or garbage). The next 00 always starts afresh.

export const VERSION = 1;
export const HEADER = 7;
export const CRC = 4;
export const MAX_PAYLOAD = 4096;
export const MAX_RAW = HEADER + MAX_PAYLOAD + CRC;
export const MAX_SPAN = MAX_RAW + Math.floor(MAX_RAW / 254) + 1;

export const Channel = { control: 0, push: 1, console: 2, repl: 3, files: 4 } as const;
export const FLAG_REPLY = 0x01;

export interface Frame {
  version: number;
  channel: number;
  flags: number;
  seq: number;
  payload: Buffer;
}

export type JunkReason = "toolong" | "cobs" | "short" | "crc" | "version" | "length";

export type DecodeEvent =
  | { kind: "frame"; frame: Frame }
  | { kind: "junk"; why: JunkReason; length: number; bytes: Buffer };

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib's crc32). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function cobsEncode(src: Buffer): Buffer {
  const out = Buffer.alloc(src.length + Math.floor(src.length / 254) + 1);
  let o = 1;
  let codeAt = 0;
  let code = 1;
  for (let i = 0; i < src.length; i++) {
    if (src[i] === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    } else {
      out[o++] = src[i];
      if (++code === 0xff) {
        out[codeAt] = code;
        codeAt = o++;
        code = 1;
      }
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** undefined when malformed or longer than MAX_RAW. */
function cobsDecode(span: Buffer): Buffer | undefined {
  const out = Buffer.alloc(MAX_RAW);
  let i = 0;
  let o = 0;
  while (i < span.length) {
    const code = span[i++];
    if (code - 1 > span.length - i || code - 1 > MAX_RAW - o) return undefined;
    span.copy(out, o, i, i + code - 1);
    o += code - 1;
    i += code - 1;
    if (code !== 0xff && i < span.length) {
      if (o === MAX_RAW) return undefined;
      out[o++] = 0;
    }
  }
  return out.subarray(0, o);
}

/** 00 COBS(header | payload | crc32) 00. Throws when the payload is too long. */
export function encodeFrame(f: { channel: number; flags?: number; seq: number; payload?: Uint8Array; version?: number }): Buffer {
  const payload = f.payload ?? Buffer.alloc(0);
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`dev-link payload of ${payload.length} bytes (at most ${MAX_PAYLOAD})`);
  const raw = Buffer.alloc(HEADER + payload.length + CRC);
  raw[0] = f.version ?? VERSION;
  raw[1] = f.channel;
  raw[2] = f.flags ?? 0;
  raw.writeUInt16LE(f.seq & 0xffff, 3);
  raw.writeUInt16LE(payload.length, 5);
  raw.set(payload, HEADER);
  raw.writeUInt32LE(crc32(raw.subarray(0, HEADER + payload.length)), HEADER + payload.length);
  return Buffer.concat([Buffer.of(0), cobsEncode(raw), Buffer.of(0)]);
}

/** A streaming decoder: push() the bytes as they come, get the events. */
export class Decoder {
  private span = Buffer.alloc(MAX_SPAN);
  private n = 0;
  private total = 0;

  push(data: Uint8Array): DecodeEvent[] {
    const events: DecodeEvent[] = [];
    for (let i = 0; i < data.length; i++) {
      const b = data[i];
      if (b !== 0) {
        if (this.n < MAX_SPAN) this.span[this.n++] = b;
        this.total++;
        continue;
      }
      if (this.total === 0) continue;
      events.push(this.finish());
      this.n = 0;
      this.total = 0;
    }
    return events;
  }

  private finish(): DecodeEvent {
    const span = Buffer.from(this.span.subarray(0, this.n));
    const junk = (why: JunkReason): DecodeEvent => ({ kind: "junk", why, length: this.total, bytes: span });
    if (this.total > MAX_SPAN) return junk("toolong");
    const raw = cobsDecode(span);
    if (!raw) return junk("cobs");
    if (raw.length < HEADER + CRC) return junk("short");
    const body = raw.length - CRC;
    if (crc32(raw.subarray(0, body)) !== raw.readUInt32LE(body)) return junk("crc");
    if (raw[0] !== VERSION) return junk("version");
    const len = raw.readUInt16LE(5);
    if (len !== body - HEADER) return junk("length");
    return {
      kind: "frame",
      frame: { version: raw[0], channel: raw[1], flags: raw[2], seq: raw.readUInt16LE(3), payload: Buffer.from(raw.subarray(HEADER, body)) },
    };
  }
}
