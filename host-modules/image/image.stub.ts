// qcam:image for tests on a PC. Mirrors mod_image.c: `new Image()` throws
// ERR_ILLEGAL_CONSTRUCTOR (images come from a Camera or a Decoder), members on
// something that is not an Image throw ERR_WRONG_THIS, after close() every
// member but close() throws ERR_CLOSED, close() is idempotent and is also
// [Symbol.dispose], and the prototype's toStringTag is "Image".
//
// Tests make images with makeImage() from "qcam:testing" (world.exposed("image.make")).
// Open images are tracked: world.openHandles("Image"). The other stubs make
// theirs through the same hook, with pixels drawn on first use and a release
// hook for their pool's buffer, and look at an argument's picture through
// world.exposed("image.picture") (qcam_js_image_picture: ERR_WRONG_THIS / ERR_CLOSED).
import type * as Api from "qcam:image";
import type * as Self from "./image.stub.ts";
import type { MintSpec, PictureView } from "../../build/testing/media.ts";
import { conforms, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";

conforms<typeof Api, typeof Self>(true);

interface Picture {
  width: number;
  height: number;
  format: Api.PixelFormat;
  timestampUs: number;
  seq: number;
  size: number;
  /** The pixels: given, or drawn on first use. */
  data: Uint8Array | null;
  render: (() => Uint8Array) | null;
  release: (() => void) | null;
  handle: Handle;
}

function pixels(p: Picture): Uint8Array {
  if (!p.data) {
    p.data = p.render ? p.render() : new Uint8Array(p.size);
    p.render = null;
  }
  return p.data;
}

const FORMATS: readonly Api.PixelFormat[] = ["nv21", "nv12", "yuv420p", "rgb888", "gray"];

/** qcam_pixfmt_size: bytes of a tightly packed picture; 0 when the size is not allowed. */
function pictureSize(format: Api.PixelFormat, width: number, height: number): number {
  if (!Number.isInteger(width) || !Number.isInteger(height)) return 0;
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) return 0;
  const px = width * height;
  switch (format) {
    case "nv21":
    case "nv12":
    case "yuv420p":
      return width % 2 || height % 2 ? 0 : px + px / 2;
    case "rgb888":
      return px * 3;
    case "gray":
      return px;
    default:
      return 0;
  }
}

/** this -> its picture (null once closed); only Images are keys. */
const pictures = new WeakMap<object, Picture | null>();
let minting = false;

/** qcam_handle(ctx, this, image_class, "Image"). */
function pictureOf(self: unknown): Picture {
  if ((typeof self !== "object" && typeof self !== "function") || self === null || !pictures.has(self))
    throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Image");
  const p = pictures.get(self);
  if (!p) throwQcam("TypeError", "ERR_CLOSED", "Image is closed");
  return p;
}

export class Image {
  constructor() {
    if (!minting) throwQcam("TypeError", "ERR_ILLEGAL_CONSTRUCTOR", "Images come from a Camera or a Decoder");
  }
  get width(): number {
    return pictureOf(this).width;
  }
  get height(): number {
    return pictureOf(this).height;
  }
  get format(): Api.PixelFormat {
    return pictureOf(this).format;
  }
  get timestampUs(): number {
    return pictureOf(this).timestampUs;
  }
  get seq(): number {
    return pictureOf(this).seq;
  }
  get size(): number {
    return pictureOf(this).size;
  }
  /** The board gives a zero-copy, immutable view; Node has no immutable
   * ArrayBuffer, so this is a copy: writing to it never changes the image. */
  toArrayBuffer(): ArrayBuffer {
    const p = pictureOf(this);
    return pixels(p).slice().buffer;
  }
  close(): void {
    if ((typeof this !== "object" && typeof this !== "function") || this === null || !pictures.has(this))
      throwQcam("TypeError", "ERR_WRONG_THIS", "expected a Image");
    const p = pictures.get(this);
    pictures.set(this, null);
    if (!p) return;
    p.handle.release();
    p.release?.();
  }
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(Image.prototype, Symbol.dispose, { value: Image.prototype.close, writable: true, configurable: true });
Object.defineProperty(Image.prototype, Symbol.toStringTag, { value: "Image", configurable: true });

/** Test side: an Image as a camera or decoder would hand it out. */
function makeImage(spec: MintSpec): Image {
  const format = spec.format ?? "nv21";
  if (!FORMATS.includes(format)) throw new TypeError(`makeImage: format must be one of ${FORMATS.join(", ")}`);
  const size = pictureSize(format, spec.width, spec.height);
  if (!size) throw new RangeError(`makeImage: ${spec.width}x${spec.height} is not a valid ${format} size (1..16384, even for 4:2:0)`);
  if (spec.data && spec.data.length !== size) throw new RangeError(`makeImage: data has ${spec.data.length} bytes, ${format} ${spec.width}x${spec.height} needs ${size}`);
  const counter = world.part("image", () => ({ nextSeq: 0 }));
  minting = true;
  let img: Image;
  try {
    img = new Image();
  } finally {
    minting = false;
  }
  const seq = spec.seq ?? counter.nextSeq;
  counter.nextSeq = seq + 1;
  pictures.set(img, {
    width: spec.width,
    height: spec.height,
    format,
    timestampUs: spec.timestampUs ?? world.monotonicUs(),
    seq,
    size,
    data: spec.data ? new Uint8Array(spec.data) : null,
    render: spec.render ?? null,
    release: spec.release ?? null,
    handle: world.track("Image", img),
  });
  return img;
}
world.expose("image.make", makeImage);

/** qcam_js_image_picture: the picture behind an Image argument. */
function pictureView(v: unknown): PictureView {
  const p = pictureOf(v);
  return {
    width: p.width,
    height: p.height,
    format: p.format,
    timestampUs: p.timestampUs,
    seq: p.seq,
    size: p.size,
    pixels: () => pixels(p),
  };
}
world.expose("image.picture", pictureView);
