// What the media stubs (qcam:camera, qcam:video, qcam:link, qcam:fs) share,
// as their C modules share media.h, link_js.h and the fs HAL: encoded
// packets, pooled pictures, and a registry through which an object offers
// itself to link() as a source, an encoder or a sink (the C modules register
// providers per class; here each object registers when it is made).
//
// Kept on globalThis so that every copy of a stub module (a mutated one in
// test/contract/mutation.test.ts) and every copy of this file share it.
import type { PixelFormat } from "qcam:image";
import type { Image } from "qcam:image";
import type { ImageSpec } from "./images.ts";
import { world } from "./world.ts";

export type Codec = "h264" | "h265" | "alaw" | "ulaw";
export type PacketType = "header" | "I" | "P" | "B" | "audio";

/** What another stub sees of an Image argument. */
export interface PictureView {
  readonly width: number;
  readonly height: number;
  readonly format: PixelFormat;
  readonly timestampUs: number;
  readonly seq: number;
  readonly size: number;
  pixels(): Uint8Array;
}

/** makeImage's spec, plus what camera and decoder stubs add. */
export interface MintSpec extends ImageSpec {
  /** Draws the pixels the first time they are asked for (instead of `data`). */
  render?: () => Uint8Array;
  /** Called once when the Image is closed (a pool buffer goes back). */
  release?: () => void;
}

/** One access unit (qcam_packet), or one block of G.711 audio. */
export interface Packet {
  codec: Codec;
  type: PacketType;
  keyframe: boolean;
  data: Uint8Array;
  ptsUs: number;
  dtsUs: number;
  seq: number;
  /** Audio only: samples per second, samples per channel. */
  sampleRate?: number;
  samples?: number;
}

/** What a link carries (qcam_link_media); also the bits of LinkSink.busy. */
export const LINK_VIDEO = 1;
export const LINK_AUDIO = 2;

/** Anything held by a reference that a link moves (qcam_picture). */
export interface LinkPicture {
  readonly ptsUs: number;
  readonly seq: number;
  ref(): void;
  unref(): void;
}

/** A picture held by a reference (qcam_picture): a camera pool buffer. */
export interface SourcePicture extends LinkPicture {
  readonly width: number;
  readonly height: number;
  readonly format: PixelFormat;
  /** An Image holding a reference of its own (capture()). */
  image(): Image;
}

/** A block of samples held by a reference (an S16 qcam_picture): a microphone pool buffer. */
export interface AudioPicture extends LinkPicture {
  readonly sampleRate: number;
  readonly channels: number;
  /** Interleaved samples (a view: do not keep it past unref). */
  readonly pcm: Int16Array;
}

/** What a link's capture side reads (qcam_link_source), driven on virtual time. */
export interface LinkSource {
  /** LINK_AUDIO for a microphone (its pictures are AudioPictures); absent: video. */
  media?: number;
  /** Audio: the rate the link stamps on packets that carry none. */
  sampleRate?: number;
  /** Monotonic µs at which the next frame falls due. */
  nextDueUs(): number;
  /** The frame due now, if any: null when none is due or the pool is dry
   * (the frame was dropped and counted), "end" when the source ended, or an
   * errno name when it failed. */
  read(): LinkPicture | null | "end" | { errno: string; message: string };
  /** Frames the source itself dropped. */
  dropped(): number;
  /** The link lets go: the object may be read and closed again. */
  release(): void;
}

export interface LinkEncoder {
  /** LINK_AUDIO for a G.711 encoder (it takes AudioPictures); absent: video. */
  media?: number;
  /** A packet, or an errno name (the encoder failed on this picture). */
  encode(pic: LinkPicture): Packet | { errno: string };
  /** Modelled time inside the encoder for one picture, µs (stats only: no virtual time passes). */
  costUs(pic: LinkPicture): number;
  release(): void;
}

/** A destination for packets (qcam_sink): pull mode and link mode share it. */
export interface LinkSink {
  readonly kind: string;
  /** LINK_VIDEO | LINK_AUDIO bits of the links feeding it (0: pull mode; writes and close are refused otherwise). */
  busy: number;
  /** 0, or the errno name it failed with. */
  write(pkt: Packet): 0 | string;
  flush(): 0 | string;
}

/** An object's offer to link() (link_js.h providers). Each `attach` throws
 * as the C provider does (ERR_CLOSED, ERR_BUSY) and marks the object linked. */
export interface Provider {
  source?: () => LinkSource;
  encoder?: () => LinkEncoder;
  sink?: () => LinkSink;
  /** A Frame's packet (throws ERR_CLOSED for a closed one). */
  packet?: () => Packet;
}

interface Shared {
  providers: WeakMap<object, Provider>;
}
const KEY = Symbol.for("qcam.testing.media");
const shared: Shared = ((globalThis as Record<symbol, Shared>)[KEY] ??= { providers: new WeakMap() });

export function provide(obj: object, p: Provider): void {
  shared.providers.set(obj, { ...shared.providers.get(obj), ...p });
}

export function providerOf(v: unknown): Provider | undefined {
  return (typeof v === "object" || typeof v === "function") && v !== null ? shared.providers.get(v) : undefined;
}

/** qcam_media_count_copy / qcam_media_copy_count: copies of pixel data, per world. */
export function countCopy(): void {
  world.part("media", () => ({ copies: 0 })).copies++;
}
export function copyCount(): number {
  return world.part("media", () => ({ copies: 0 })).copies;
}

/** qcam_pixfmt_size: bytes of a tightly packed picture. */
export function pictureBytes(format: PixelFormat, width: number, height: number): number {
  const px = width * height;
  return format === "rgb888" ? px * 3 : format === "gray" ? px : px + px / 2;
}

/** What the fs stub's card offers the other stubs (the fs HAL, fs.h): board
 * paths, a size cap, ENOSPC with partial writes. Offered as world.exposed("fs.hal"). */
export interface FsHal {
  /** An open descriptor, or an errno name. */
  open(path: string, mode: "r" | "r+" | "w" | "a" | "wx"): FsFd | string;
  /** The whole file, or an errno name. */
  readFile(path: string): Uint8Array | string;
}

export interface FsFd {
  /** Bytes read into buf, or an errno name. */
  read(buf: Uint8Array, pos: number): number | string;
  /** Write all of data at the file position; on failure the bytes that fit are written. */
  write(data: Uint8Array): { written: number; errno?: string };
  /** The file's bytes now (a view: copy it to keep it). */
  bytes(): Uint8Array;
  close(): void;
}

/** The fs HAL; loads the qcam:fs stub when nothing offered it yet. */
export function fsHal(): FsHal {
  const hal = world.exposed<FsHal>("fs.hal");
  if (!hal) throw new Error("qcam testing: the qcam:fs stub is not loaded (import it: import \"qcam:fs\")");
  return hal;
}
