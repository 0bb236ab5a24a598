// qcam:image's contract. Images come from a source (a Camera on the runtime
// side when the build has qcam:camera; makeImage() on the stub side): the
// cases that need one say so and are skipped where there is none.
import { Image } from "qcam:image";
import { time } from "qcam:app";
import { IMAGE_SPEC, contract, deepEq, descriptor, eq, ok, throws } from "./kit.ts";

const GETTERS = ["width", "height", "format", "timestampUs", "seq", "size"];
const METHODS: Record<string, number> = { toArrayBuffer: 0, close: 0 };
const WRONG_THIS = { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Image" };
const CLOSED = { name: "TypeError", code: "ERR_CLOSED", message: "Image is closed" };

type AnyFn = (...args: unknown[]) => unknown;
const proto = Image.prototype as unknown as Record<string | symbol, unknown>;
const getter = (name: string) => Object.getOwnPropertyDescriptor(Image.prototype, name)!.get as AnyFn;

export default contract("qcam:image", (t) => {
  t.test("new Image() is not allowed: images come from a camera or a decoder", () => {
    throws(() => new (Image as unknown as new () => unknown)(), {
      name: "TypeError",
      code: "ERR_ILLEGAL_CONSTRUCTOR",
      message: "Images come from a Camera or a Decoder",
    });
    throws(() => (Image as unknown as AnyFn)(), { name: "TypeError", code: undefined }, "Image() without new");
  });

  t.test("the class: name, length, prototype and constructor", () => {
    eq(Image.name, "Image");
    eq(Image.length, 0);
    eq(Image.prototype.constructor, Image);
    eq(Object.prototype.toString.call(Image.prototype), "[object Image]");
    eq(Object.getPrototypeOf(Image.prototype), Object.prototype);
  });

  t.test("the prototype: read-only getters, methods, close as [Symbol.dispose]", () => {
    const names = Object.getOwnPropertyNames(Image.prototype).filter((n) => n !== "constructor").sort();
    deepEq(names, [...GETTERS, ...Object.keys(METHODS)].sort());
    for (const name of GETTERS) {
      eq(descriptor(Image.prototype, name), "get configurable", name);
      eq(getter(name).name, `get ${name}`, `${name} getter's name`);
    }
    for (const [name, length] of Object.entries(METHODS)) {
      eq(descriptor(Image.prototype, name), "method writable configurable", name);
      eq((proto[name] as AnyFn).length, length, `${name}.length`);
    }
    eq(proto[Symbol.dispose], Image.prototype.close, "[Symbol.dispose] is close");
    eq(descriptor(Image.prototype, Symbol.dispose), "method writable configurable", "[Symbol.dispose]");
    eq(descriptor(Image.prototype, Symbol.toStringTag), "value configurable", "[Symbol.toStringTag]");
  });

  t.test("members used on something that is not an Image throw ERR_WRONG_THIS", () => {
    for (const self of [Image.prototype, {}, null, undefined, 1, Object.create(Image.prototype)]) {
      for (const name of GETTERS) throws(() => getter(name).call(self), WRONG_THIS, `${name} on ${String(self)}`);
      throws(() => Image.prototype.toArrayBuffer.call(self), WRONG_THIS, "toArrayBuffer");
      throws(() => Image.prototype.close.call(self), WRONG_THIS, "close");
    }
  });

  t.test("an image: its size, format and pixels", (env) => {
    const img = env.image!();
    try {
      ok(img instanceof Image, "instanceof Image");
      eq(img.width, IMAGE_SPEC.width);
      eq(img.height, IMAGE_SPEC.height);
      eq(img.format, IMAGE_SPEC.format);
      eq(img.size, (IMAGE_SPEC.width * IMAGE_SPEC.height * 3) / 2, "nv21: w*h*3/2 bytes");
      ok(Number.isInteger(img.seq) && img.seq >= 0, "seq is an integer >= 0");
      ok(Number.isInteger(img.timestampUs), "timestampUs is an integer");
      ok(img.timestampUs <= time.monotonicMs() * 1000 + 1, "captured before now, on the monotonic clock");
      deepEq(Object.keys(img), [], "no own enumerable properties");
      eq(String(img), "[object Image]");
      const ab = img.toArrayBuffer();
      ok(ab instanceof ArrayBuffer, "toArrayBuffer() gives an ArrayBuffer");
      eq(ab.byteLength, img.size, "of size bytes");
    } finally {
      img.close();
    }
  }, { needs: ["image"] });

  t.test("close(): idempotent; afterwards every member but close throws ERR_CLOSED", (env) => {
    const img = env.image!();
    img.close();
    img.close();
    for (const name of GETTERS) throws(() => (img as unknown as Record<string, unknown>)[name], CLOSED, name);
    throws(() => img.toArrayBuffer(), CLOSED, "toArrayBuffer");
  }, { needs: ["image"] });

  t.test("[Symbol.dispose]() closes", (env) => {
    const img = env.image!();
    (img as unknown as Record<symbol, AnyFn>)[Symbol.dispose]();
    throws(() => img.width, CLOSED);
  }, { needs: ["image"] });

  t.test("the pixels from toArrayBuffer() outlive close()", (env) => {
    const img = env.image!();
    const ab = img.toArrayBuffer();
    const before = Array.from(new Uint8Array(ab, 0, 16));
    img.close();
    eq(ab.byteLength, (IMAGE_SPEC.width * IMAGE_SPEC.height * 3) / 2);
    deepEq(Array.from(new Uint8Array(ab, 0, 16)), before, "still readable");
  }, { needs: ["image"] });

  t.test("images from one source count seq up", (env) => {
    const a = env.image!();
    const b = env.image!();
    try {
      ok(b.seq > a.seq, `seq ${a.seq} then ${b.seq}`);
      ok(b.timestampUs >= a.timestampUs, "timestamps do not go back");
    } finally {
      a.close();
      b.close();
    }
  }, { needs: ["image"] });
});
