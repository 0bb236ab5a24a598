// qcam:video's contract. Images come from qcam:camera on both sides. What a
// real encoder makes depends on the picture, so the cases hold both sides to
// what does not: one access unit per image, keyframes and GOP order, types,
// timestamps, in-band parameter sets, sizes that follow the rate (a keyframe
// outweighs its P frames; more bits, more bytes), what a decoder gets back,
// and every error. Streams made by hand (splitting, the replay encoder) must
// come out byte for byte the same. riscv64 has no encoder or decoder: the
// cases that need one are skipped there.
import { Camera } from "qcam:camera";
import * as fs from "qcam:fs";
import type { Image } from "qcam:image";
import * as video from "qcam:video";
import { Decoder, Encoder, EsReader, Frame, splitAccessUnits, type Codec } from "qcam:video";
import { contract, deepEq, descriptor, eq, ok, throws } from "./kit.ts";

type AnyFn = (...args: unknown[]) => unknown;
const dispose = (Symbol as unknown as { dispose: symbol }).dispose;
const CODECS: Codec[] = ["h264", "h265"];
const TYPE = (message: string | RegExp) => ({ name: "TypeError", code: "ERR_INVALID_ARG", message });
const RANGE = (message: string | RegExp) => ({ name: "RangeError", code: "ERR_INVALID_ARG", message });

const CLASSES: Record<string, { length: number; getters: string[]; methods: Record<string, number> }> = {
  Frame: { length: 0, getters: ["type", "keyframe", "ptsUs", "dtsUs", "size", "seq", "codec"], methods: { toArrayBuffer: 0, close: 0 } },
  Encoder: { length: 1, getters: ["codec", "width", "height", "fps", "gop", "bitrate", "replay"], methods: { encode: 1, requestIdr: 0, parameterSets: 0, close: 0 } },
  Decoder: { length: 1, getters: ["codec"], methods: { decode: 1, flush: 0, close: 0 } },
  EsReader: { length: 1, getters: ["codec", "path"], methods: { read: 0, rewind: 0, close: 0 } },
};

/** NAL unit types of an access unit, in order. */
function nalTypes(ab: ArrayBuffer, codec: Codec): number[] {
  const b = new Uint8Array(ab);
  const types: number[] = [];
  for (let i = 0; i + 3 < b.length; i++)
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) {
      types.push(codec === "h264" ? b[i + 3] & 0x1f : (b[i + 3] >> 1) & 0x3f);
      i += 2;
    }
  return types;
}

/** Where `needle` starts in `hay`, or -1. */
function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const concat = (parts: number[][]) => Uint8Array.from(parts.flat());

// A stream made by hand: what the parser must split the same on both sides.
const H264_AUS = [
  [0, 0, 0, 1, 0x67, 0x42, 0x00, 0x1e, 0xab, 0xcd, 0, 0, 0, 1, 0x68, 0xce, 0x38, 0x80, 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0xff, 0xee],
  [0, 0, 0, 1, 0x41, 0x9a, 0x02, 0x03, 0x04],
  [0, 0, 1, 0x41, 0x9a, 0x05, 0x06],
  [0, 0, 0, 1, 0x67, 0x42, 0x00, 0x1e, 0xab, 0xcd, 0, 0, 0, 1, 0x68, 0xce, 0x38, 0x80, 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x10, 0xfe],
  [0, 0, 1, 0x41, 0x9a, 0x07],
];
const H265_AUS = [
  [0, 0, 0, 1, 0x40, 0x01, 0x0c, 0x01, 0xff, 0, 0, 0, 1, 0x42, 0x01, 0x01, 0x01, 0x60, 0, 0, 0, 1, 0x44, 0x01, 0xc1, 0x72, 0, 0, 0, 1, 0x26, 0x01, 0xaf, 0x09, 0x40],
  [0, 0, 0, 1, 0x02, 0x01, 0xd0, 0x11, 0x22],
  [0, 0, 1, 0x02, 0x01, 0xd0, 0x33],
];

export default contract("qcam:video", (t) => {
  t.test("exports: Encoder, Decoder, Frame, EsReader, splitAccessUnits; prototypes", () => {
    deepEq(Object.keys(video).sort(), ["Decoder", "Encoder", "EsReader", "Frame", "splitAccessUnits"]);
    eq(splitAccessUnits.name, "splitAccessUnits");
    eq(splitAccessUnits.length, 2);
    for (const [name, c] of Object.entries(CLASSES)) {
      const C = (video as unknown as Record<string, AnyFn & { prototype: Record<string | symbol, unknown> }>)[name];
      eq(C.name, name);
      eq(C.length, c.length, `${name}.length`);
      const proto = C.prototype;
      eq(proto.constructor, C);
      deepEq(Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor").sort(), [...c.getters, ...Object.keys(c.methods)].sort(), `${name}.prototype`);
      for (const g of c.getters) eq(descriptor(proto, g), "get configurable", `${name}.${g}`);
      for (const [m, length] of Object.entries(c.methods)) {
        eq(descriptor(proto, m), "method writable configurable", `${name}.${m}`);
        eq((proto[m] as AnyFn).length, length, `${name}.${m}.length`);
      }
      eq(proto[dispose], proto.close, `${name}: [Symbol.dispose] is close`);
      eq(Object.prototype.toString.call(proto), `[object ${name}]`);
    }
    throws(() => new (Frame as unknown as new () => unknown)(), { name: "TypeError", code: "ERR_ILLEGAL_CONSTRUCTOR", message: "Frames come from an Encoder or an EsReader" });
  });

  t.test("Encoder options: a missing or bad one is a TypeError/RangeError naming what is allowed", () => {
    const base = { codec: "h264", width: 320, height: 240 };
    const cases: [unknown, ReturnType<typeof TYPE>][] = [
      [undefined, TYPE("new Encoder(options: {codec, width, height, fps?, bitrate?, ...})")],
      [42, TYPE("new Encoder(options: {codec, width, height, fps?, bitrate?, ...})")],
      [{ width: 320, height: 240 }, TYPE('option `codec` is required ("h264" or "h265")')],
      [{ ...base, codec: "vp8" }, TYPE('option `codec` must be "h264" or "h265", got "vp8"')],
      [{ ...base, codec: 264 }, TYPE("option `codec` must be a string")],
      [{ codec: "h264", height: 240 }, TYPE("option `width` is required")],
      [{ ...base, width: "320" }, TYPE("option `width` must be an integer")],
      [{ ...base, width: 100000 }, RANGE("option `width` must be 16..8192, got 100000")],
      [{ ...base, height: 8 }, RANGE("option `height` must be 16..8192, got 8")],
      [{ ...base, width: 321 }, RANGE("width and height must be even, got 321x240")],
      [{ ...base, width: 321, fps: 0 }, RANGE("option `fps` must be 1..240, got 0")],
      [{ ...base, fps: 29.97 }, TYPE("option `fps` must be an integer")],
      [{ ...base, gop: 0 }, RANGE("option `gop` must be 1..100000, got 0")],
      [{ ...base, bitrate: 5 }, RANGE("option `bitrate` must be 10000..200000000, got 5")],
      [{ ...base, rateControl: "crf" }, TYPE('option `rateControl` must be "cbr" or "vbr", got "crf"')],
      [{ ...base, profile: "extended" }, TYPE('option `profile` must be "baseline", "main" or "high", got "extended"')],
      [{ ...base, codec: "h265", profile: "extended" }, TYPE('option `profile` must be "main", got "extended"')],
      [{ ...base, codec: "h265", profile: "high" }, TYPE('option `profile` must be "main" for h265')],
      [{ ...base, format: "rgb888" }, TYPE('option `format` must be "nv21", "nv12" or "yuv420p", got "rgb888"')],
      [{ ...base, replay: 5 }, TYPE("option `replay` must be a string")],
    ];
    for (const [opts, e] of cases) throws(() => new Encoder(opts as never), e, JSON.stringify(opts) ?? "no options");
    const outside = throws(() => new Encoder({ ...base, codec: "h264", replay: "/etc/passwd" }), { name: "Error", code: "EINVAL", message: "/etc/passwd is not on the SD card or in /tmp: Invalid argument" });
    eq((outside as { errno?: number }).errno, 22);
    const missing = throws(() => new Encoder({ ...base, codec: "h264", replay: "/sdcard/none.h264" }), { name: "Error", code: "ENOENT", message: "cannot replay /sdcard/none.h264: No such file or directory" });
    eq((missing as { errno?: number }).errno, 2);
  });

  t.test("Decoder and EsReader options", () => {
    throws(() => new (Decoder as unknown as new () => unknown)(), TYPE("new Decoder(options: {codec})"));
    throws(() => new Decoder({} as never), TYPE('option `codec` is required ("h264" or "h265")'));
    throws(() => new Decoder({ codec: "mjpeg" as Codec }), TYPE('option `codec` must be "h264" or "h265", got "mjpeg"'));
    throws(() => new (EsReader as unknown as new () => unknown)(), TYPE("new EsReader(path: string, options?: {codec?, fps?})"));
    throws(() => new EsReader(5 as unknown as string), TYPE("new EsReader(path: string, options?: {codec?, fps?})"));
    throws(() => new EsReader("/sdcard/clip.bin"), TYPE('cannot tell the codec from the file name: pass {codec: "h264" | "h265"}'));
    throws(() => new EsReader("/sdcard/clip.h264", { fps: 0 }), RANGE("option `fps` must be 1..240, got 0"));
    throws(() => new EsReader("/sdcard/clip.h264", { codec: "vp9" as Codec }), TYPE('option `codec` must be "h264" or "h265", got "vp9"'));
    throws(() => new EsReader("/sdcard/none.h265"), { name: "Error", code: "ENOENT", message: "cannot open /sdcard/none.h265: No such file or directory" });
    throws(() => new EsReader("/etc/x.264"), { name: "Error", code: "EINVAL", message: "/etc/x.264 is not on the SD card or in /tmp: Invalid argument" });
  });

  t.test("unknown option keys are refused, naming the key: Encoder, Decoder, EsReader", () => {
    const unknown = (what: string, key: string, known: string) => TYPE(`unknown ${what} option "${key}" (known: ${known})`);
    const ENC = "codec, width, height, fps, bitrate, rateControl, gop, profile, format, replay";
    const base = { codec: "h264", width: 320, height: 240 };
    throws(() => new Encoder({ ...base, bitRate: 1_000_000 } as never), unknown("Encoder", "bitRate", ENC));
    throws(() => new Encoder({ ...base, keyint: 30 } as never), unknown("Encoder", "keyint", ENC));
    throws(() => new Encoder({ codec: "vp8", qp: 20 } as never), unknown("Encoder", "qp", ENC), "before the other checks");
    throws(() => new Decoder({ codec: "h264", threads: 2 } as never), unknown("Decoder", "threads", "codec"));
    fs.writeFile("/sdcard/uk.h264", new Uint8Array([0, 0, 0, 1, 0x09, 0xf0]));
    try {
      throws(() => new EsReader("/sdcard/uk.h264", { fps: 25, loop: true } as never), unknown("EsReader", "loop", "codec, fps"));
      new EsReader("/sdcard/uk.h264", { codec: undefined, fps: 25 }).close();
    } finally {
      fs.remove("/sdcard/uk.h264");
    }
  });

  t.test("splitAccessUnits: access units as the standards delimit them, junk skipped, errors", () => {
    for (const [codec, aus] of [["h264", H264_AUS], ["h265", H265_AUS]] as const) {
      const bytes = concat([[9, 9, 9], ...aus]);
      const units = splitAccessUnits(bytes.buffer, codec);
      deepEq(units.map((u) => u.byteLength), aus.map((a) => a.length), `${codec}: the units`);
      units.forEach((u, i) => deepEq(Array.from(new Uint8Array(u)), aus[i], `${codec} unit ${i}`));
      ok(units.every((u) => u instanceof ArrayBuffer), "ArrayBuffers");
      const view = new Uint8Array(bytes.buffer, 3, bytes.length - 3);
      eq(splitAccessUnits(view, codec).length, aus.length, "a Uint8Array view");
      eq(splitAccessUnits(new Uint8Array(bytes.buffer, 0, aus[0].length + 4), codec).length, 1, "a unit cut short is still one");
    }
    deepEq(splitAccessUnits(new ArrayBuffer(0), "h264"), []);
    deepEq(splitAccessUnits(new Uint8Array([1, 2, 3, 0, 0, 1]), "h264"), [], "a start code with nothing after it");
    deepEq(splitAccessUnits(new Uint8Array([0, 0, 1, 0x67, 1, 2]), "h264").map((u) => u.byteLength), [6], "parameter sets alone");
    const usage = 'splitAccessUnits(bytes: ArrayBuffer | Uint8Array, codec: "h264" | "h265")';
    throws(() => splitAccessUnits(new ArrayBuffer(4), "mjpeg" as Codec), TYPE(usage));
    throws(() => (splitAccessUnits as AnyFn)(new ArrayBuffer(4)), TYPE(usage));
    throws(() => splitAccessUnits("00 00 01" as unknown as ArrayBuffer, "h264"), TYPE(usage));
    throws(() => splitAccessUnits(new Uint16Array(4) as unknown as Uint8Array, "h264"), TYPE(usage));
  });

  t.test("EsReader reads a file access unit by access unit: types, keyframes, decoding-order times", () => {
    fs.writeFile("/sdcard/hand.h264", concat([[9, 9], ...H264_AUS]));
    const rd = new EsReader("/sdcard/hand.h264", { fps: 25 });
    try {
      deepEq([rd.codec, rd.path], ["h264", "/sdcard/hand.h264"]);
      const got: string[] = [];
      for (let f = rd.read(); f; f = rd.read()) {
        got.push(`${f.seq}:${f.type}${f.keyframe ? "*" : ""}:${f.size}:${f.ptsUs}:${f.dtsUs}:${f.codec}`);
        f.close();
      }
      deepEq(got, ["0:I*:28:0:0:h264", "1:P:9:40000:40000:h264", "2:P:7:80000:80000:h264", "3:I*:27:120000:120000:h264", "4:P:6:160000:160000:h264"]);
      eq(rd.read(), null, "still the end");
      rd.rewind();
      const again = rd.read()!;
      deepEq([again.seq, again.type, again.ptsUs], [0, "I", 0], "rewound");
      again.close();
      const h5 = new EsReader("/sdcard/hand.h264", { codec: "h265" });
      eq(h5.codec, "h265", "the codec option wins over the name");
      h5.close();
    } finally {
      rd.close();
    }
    rd.close();
    throws(() => rd.read(), { name: "TypeError", code: "ERR_CLOSED", message: "EsReader is closed" });
    throws(() => rd.path, { name: "TypeError", code: "ERR_CLOSED", message: "EsReader is closed" });
    throws(() => EsReader.prototype.read.call({} as EsReader), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a EsReader" });
    fs.writeFile("/sdcard/hand.hevc", concat(H265_AUS));
    const r5 = new EsReader("/sdcard/hand.hevc");
    const types: string[] = [];
    for (let f = r5.read(); f; f = r5.read()) types.push(f.type + (f.keyframe ? "*" : "")), f.close();
    r5.close();
    deepEq(types, ["I*", "P", "P"]);
    fs.remove("/sdcard/hand.h264");
    fs.remove("/sdcard/hand.hevc");
  });

  t.test("the replay encoder plays a file one access unit per image, looping; requestIdr skips to a keyframe", () => {
    fs.writeFile("/sdcard/replay.h264", concat(H264_AUS));
    const cam = new Camera({ width: 64, height: 48, fps: 120 });
    const enc = new Encoder({ codec: "h264", width: 64, height: 48, replay: "/sdcard/replay.h264" });
    try {
      deepEq([enc.replay, enc.codec, enc.width, enc.height, enc.fps, enc.gop, enc.bitrate], [true, "h264", 64, 48, 30, 30, 2000000]);
      eq(enc.parameterSets(), null, "none before the first keyframe");
      const got: string[] = [];
      for (let i = 0; i < 9; i++) {
        if (i === 6) enc.requestIdr();
        const img = cam.read();
        const f = enc.encode(img);
        ok(f.ptsUs === img.timestampUs && f.dtsUs === img.timestampUs, "the image's timestamp");
        got.push(`${f.seq}:${f.type}${f.keyframe ? "*" : ""}:${f.size}`);
        img.close();
        f.close();
      }
      deepEq(got, ["0:I*:28", "1:P:9", "2:P:7", "3:I*:27", "4:P:6", "5:I*:28", "6:I*:27", "7:P:6", "8:I*:28"]);
      const ps = enc.parameterSets()!;
      deepEq(Object.keys(ps), ["sps", "pps"], "h264: no vps");
      deepEq(Array.from(new Uint8Array(ps.sps)), [0x67, 0x42, 0x00, 0x1e, 0xab, 0xcd], "the file's SPS, without its start code");
      deepEq(Array.from(new Uint8Array(ps.pps)), [0x68, 0xce, 0x38, 0x80]);
    } finally {
      enc.close();
      cam.close();
      fs.remove("/sdcard/replay.h264");
    }
  });

  for (const codec of CODECS)
    t.test(`${codec}: one frame per image; keyframes on the first, every gop and after requestIdr(); pts from the image`, () => {
      const cam = new Camera({ width: 64, height: 48, fps: 120 });
      const enc = new Encoder({ codec, width: 64, height: 48, gop: 4, bitrate: 200_000 });
      try {
        deepEq([enc.codec, enc.width, enc.height, enc.fps, enc.gop, enc.bitrate, enc.replay], [codec, 64, 48, 30, 4, 200000, false]);
        eq(enc.parameterSets(), null, "none before the first keyframe");
        const got: string[] = [];
        let first: ArrayBuffer | null = null;
        for (let i = 0; i < 12; i++) {
          if (i === 6) enc.requestIdr();
          const img = cam.read();
          const f = enc.encode(img);
          ok(f instanceof Frame, "a Frame");
          eq(f.ptsUs, img.timestampUs, "ptsUs is the image's timestampUs");
          eq(f.dtsUs, f.ptsUs, "no B-frames");
          eq(f.codec, codec);
          eq(f.seq, i);
          eq(f.type, f.keyframe ? "I" : "P");
          const types = nalTypes(f.toArrayBuffer(), codec);
          const params = codec === "h264" ? [7, 8] : [32, 33, 34];
          if (f.keyframe) {
            deepEq(types.filter((x) => params.includes(x)), params, `frame ${i}: the parameter sets in-band`);
            eq(types[0], params[0], `frame ${i}: parameter sets first`);
          } else ok(!types.some((x) => params.includes(x)), `frame ${i}: no parameter sets`);
          if (i === 0) first = f.toArrayBuffer();
          got.push(f.keyframe ? "K" : "-");
          img.close();
          f.close();
        }
        eq(got.join(""), "K---K-K---K-", "gop 4; an IDR at 6 restarts the GOP");
        const ps = enc.parameterSets()!;
        deepEq(Object.keys(ps), codec === "h264" ? ["sps", "pps"] : ["vps", "sps", "pps"]);
        const sps = new Uint8Array(ps.sps);
        eq(codec === "h264" ? sps[0] & 0x1f : (sps[0] >> 1) & 0x3f, codec === "h264" ? 7 : 33, "an SPS, NAL header first");
        eq(codec === "h264" ? new Uint8Array(ps.pps)[0] & 0x1f : (new Uint8Array(ps.pps)[0] >> 1) & 0x3f, codec === "h264" ? 8 : 34);
        if (ps.vps) eq((new Uint8Array(ps.vps)[0] >> 1) & 0x3f, 32);
        ok(indexOf(new Uint8Array(first!), sps) > 0, "exactly what the keyframe carries");
      } finally {
        enc.close();
        cam.close();
      }
    }, { needs: ["encoder"] });

  t.test("frame sizes follow the rate: a keyframe outweighs its P frames; more bits, more bytes", () => {
    for (const codec of CODECS) {
      const cam = new Camera({ width: 160, height: 120, fps: 120 });
      const low = new Encoder({ codec, width: 160, height: 120, gop: 10, bitrate: 50_000 });
      const high = new Encoder({ codec, width: 160, height: 120, gop: 10, bitrate: 2_000_000 });
      const sizes = { low: [] as number[], high: [] as number[] };
      try {
        for (let i = 0; i < 10; i++) {
          const img = cam.read();
          for (const [k, e] of [["low", low], ["high", high]] as const) {
            const f = e.encode(img);
            sizes[k].push(f.size);
            f.close();
          }
          img.close();
        }
      } finally {
        low.close();
        high.close();
        cam.close();
      }
      const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
      for (const k of ["low", "high"] as const) {
        const [key, ...p] = sizes[k];
        ok(p.every((s) => s < key), `${codec} ${k}: the keyframe (${key}) is bigger than every P frame (${p})`);
        ok(p.every((s) => s > 0), "no empty frames");
      }
      const [key, ...p] = sizes.low;
      ok(key >= (3 * sum(p)) / p.length, `${codec}: where the rate binds (50 kbit/s), a keyframe (${key}) weighs at least 3 P frames (${p})`);
      ok(sum(sizes.high) > sum(sizes.low), `${codec}: 2 Mbit/s (${sum(sizes.high)} bytes) > 50 kbit/s (${sum(sizes.low)} bytes)`);
      ok(sum(sizes.high) <= 2 * (2_000_000 / 8) * (10 / 30), `${codec}: ${sum(sizes.high)} bytes for 10 frames at 2 Mbit/s and 30 fps`);
    }
  }, { needs: ["encoder"] });

  t.test("encode() takes only Images of its size in nv21, nv12 or yuv420p", () => {
    const cam = new Camera({ width: 64, height: 48, fps: 120 });
    const img = cam.read();
    cam.close();
    const enc = new Encoder({ codec: "h264", width: 64, height: 48, format: "yuv420p" });
    try {
      const frame = enc.encode(img);
      throws(() => (enc.encode as AnyFn)(), TYPE("encode(image: Image)"));
      throws(() => enc.encode(5 as unknown as Image), TYPE("encode(image: Image)"));
      throws(() => enc.encode({} as Image), TYPE("encode(image: Image)"));
      throws(() => enc.encode(frame as unknown as Image), TYPE("encode(image: Image)"));
      for (const [w, h, format] of [[32, 32, "nv21"], [64, 48, "rgb888"], [64, 48, "gray"]] as const) {
        const c = new Camera({ width: w, height: h, format, fps: 120 });
        const other = c.read();
        c.close();
        throws(() => enc.encode(other), TYPE(`this encoder takes 64x48 images in nv21, nv12 or yuv420p, got ${w}x${h} ${format}`));
        other.close();
      }
      img.close();
      throws(() => enc.encode(img), { name: "TypeError", code: "ERR_CLOSED", message: "Image is closed" });
      frame.close();
    } finally {
      img.close();
      enc.close();
    }
  }, { needs: ["encoder"] });

  t.test("Frame: bytes, close, ERR_CLOSED; Encoder: close twice, ERR_CLOSED, wrong this", () => {
    const cam = new Camera({ width: 64, height: 48, fps: 120 });
    const img = cam.read();
    cam.close();
    const enc = new Encoder({ codec: "h265", width: 64, height: 48 });
    const f = enc.encode(img);
    img.close();
    const ab = f.toArrayBuffer();
    eq(ab.byteLength, f.size);
    deepEq(Array.from(new Uint8Array(ab, 0, 4)), [0, 0, 0, 1], "Annex B: a start code first");
    deepEq(Object.keys(f), [], "no own properties");
    eq(String(f), "[object Frame]");
    f.close();
    f.close();
    const CLOSED = { name: "TypeError", code: "ERR_CLOSED", message: "Frame is closed" };
    for (const g of CLASSES.Frame.getters) throws(() => (f as unknown as Record<string, unknown>)[g], CLOSED, g);
    throws(() => f.toArrayBuffer(), CLOSED);
    eq(new Uint8Array(ab)[3], 1, "the bytes outlive the Frame");
    throws(() => Object.getOwnPropertyDescriptor(Frame.prototype, "size")!.get!.call(enc), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Frame" });
    throws(() => Encoder.prototype.encode.call(f as unknown as Encoder, img), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Encoder" });
    throws(() => Encoder.prototype.close.call({} as Encoder), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Encoder" });
    enc.close();
    enc.close();
    const ECLOSED = { name: "TypeError", code: "ERR_CLOSED", message: "Encoder is closed" };
    throws(() => enc.encode(img), ECLOSED);
    throws(() => enc.requestIdr(), ECLOSED);
    throws(() => enc.parameterSets(), ECLOSED);
    throws(() => enc.width, ECLOSED);
    const e2 = new Encoder({ codec: "h264", width: 64, height: 48 });
    (e2 as unknown as Record<symbol, AnyFn>)[dispose]();
    throws(() => e2.gop, ECLOSED, "[Symbol.dispose] closes");
  }, { needs: ["encoder"] });

  for (const codec of CODECS)
    t.test(`${codec}: decode what was encoded: one yuv420p Image per unit, of the encoded size, with its pts`, () => {
      const cam = new Camera({ width: 160, height: 120, fps: 120 });
      const enc = new Encoder({ codec, width: 160, height: 120, gop: 3 });
      const dec = new Decoder({ codec });
      try {
        eq(dec.codec, codec);
        for (let i = 0; i < 5; i++) {
          const img = cam.read();
          const f = enc.encode(img);
          const pics = i === 4 ? dec.decode(f.toArrayBuffer(), 1234) : dec.decode(f);
          eq(pics.length, 1, `unit ${i}: one picture at once`);
          const p = pics[0];
          deepEq([p.width, p.height, p.format, p.size, p.seq], [160, 120, "yuv420p", 160 * 120 * 1.5, i], `unit ${i}`);
          eq(p.timestampUs, i === 4 ? 1234 : img.timestampUs, "the frame's pts (or the one given)");
          p.close();
          img.close();
          f.close();
        }
        deepEq(dec.flush(), [], "nothing held back");
        deepEq(dec.decode(new Uint8Array(0)), [], "no bytes, no pictures");
      } finally {
        dec.close();
        enc.close();
        cam.close();
      }
    }, { needs: ["encoder", "decoder"] });

  t.test("Decoder errors: other codec, not bytes, ptsUs, data it rejects, closed", () => {
    const dec = new Decoder({ codec: "h264" });
    const usage = "decode(frame: Frame | ArrayBuffer | Uint8Array, ptsUs?: number)";
    throws(() => (dec.decode as AnyFn)(), TYPE(usage));
    throws(() => dec.decode(42 as unknown as ArrayBuffer), TYPE(usage));
    throws(() => dec.decode(new Int8Array(4) as unknown as Uint8Array), TYPE(usage));
    throws(() => dec.decode(new ArrayBuffer(4), "5" as unknown as number), TYPE("ptsUs must be a number"));
    throws(
      () => {
        dec.decode(new Uint8Array([0, 0, 0, 1, 0x65, 0xff, 0xff, 0xff, 0xff, 0xff]));
        dec.flush();
      },
      { name: "Error", code: "EBADMSG", message: /^the h264 decoder rejects (this access unit|the stream)$/ },
    );
    dec.close();
    dec.close();
    throws(() => dec.decode(new ArrayBuffer(8)), { name: "TypeError", code: "ERR_CLOSED", message: "Decoder is closed" });
    throws(() => dec.codec, { name: "TypeError", code: "ERR_CLOSED", message: "Decoder is closed" });
    throws(() => Decoder.prototype.flush.call({} as Decoder), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Decoder" });
    const cam = new Camera({ width: 64, height: 48, fps: 120 });
    const img = cam.read();
    cam.close();
    const enc = new Encoder({ codec: "h264", width: 64, height: 48 });
    const f = enc.encode(img);
    const d5 = new Decoder({ codec: "h265" });
    throws(() => d5.decode(f), TYPE("expected a h265 frame, got a h264 one"));
    f.close();
    throws(() => d5.decode(f), { name: "TypeError", code: "ERR_CLOSED", message: "Frame is closed" });
    d5.close();
    enc.close();
    img.close();
  }, { needs: ["encoder", "decoder"] });

  t.test("what an encoder wrote reads back: EsReader and splitAccessUnits see the same units", () => {
    for (const codec of CODECS) {
      const cam = new Camera({ width: 64, height: 48, fps: 120 });
      const enc = new Encoder({ codec, width: 64, height: 48, gop: 3 });
      const path = `/sdcard/back.${codec}`;
      const file = fs.open(path, "w");
      const written: string[] = [];
      try {
        for (let i = 0; i < 7; i++) {
          const img = cam.read();
          const f = enc.encode(img);
          file.write(f.toArrayBuffer());
          written.push(`${f.type}${f.keyframe ? "*" : ""}:${f.size}`);
          img.close();
          f.close();
        }
      } finally {
        file.close();
        enc.close();
        cam.close();
      }
      const rd = new EsReader(path);
      const read: string[] = [];
      for (let f = rd.read(); f; f = rd.read()) read.push(`${f.type}${f.keyframe ? "*" : ""}:${f.size}`), f.close();
      rd.close();
      deepEq(read, written, `${codec}: EsReader`);
      deepEq(splitAccessUnits(fs.readFile(path), codec).map((u) => u.byteLength), written.map((w) => Number(w.split(":")[1])), `${codec}: splitAccessUnits`);
      deepEq(written.map((w) => w.split(":")[0]), ["I*", "P", "P", "I*", "P", "P", "I*"]);
      fs.remove(path);
    }
  }, { needs: ["encoder"] });
});
