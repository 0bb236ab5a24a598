// Test-side images: what a Camera or Decoder would hand the app, made without one.
import { Image, type PixelFormat } from "qcam:image";
import { world } from "./world.ts";

export interface ImageSpec {
  width: number;
  height: number;
  /** Default "nv21". */
  format?: PixelFormat;
  /** Capture time on the monotonic clock, µs (default: the world's monotonic clock now). */
  timestampUs?: number;
  /** Sequence number at the source (default: counting up from 0 in this world). */
  seq?: number;
  /** The pixels (default: zeros); as many bytes as the format needs (4:2:0: w*h*3/2). */
  data?: Uint8Array;
}

/** A qcam:image Image from the stub, tracked in world.openHandles("Image") until closed. */
export function makeImage(spec: ImageSpec): Image {
  void Image; // the import loads the stub, which offers "image.make"
  const make = world.exposed<(s: ImageSpec) => Image>("image.make");
  if (!make) throw new Error("qcam testing: the qcam:image stub is not loaded");
  return make(spec);
}
