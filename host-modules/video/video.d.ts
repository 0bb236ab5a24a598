/**
 * Video encoding and decoding — MaixPy's `maix.video`, CanMV's `Encoder` /
 * `Decoder` (media.vencoder / vdecoder). H.264 and H.265 as Annex B access
 * units that stay in native memory: an app moves `Frame`s from an `Encoder` to
 * a sink (an MP4 writer, an RTSP stream, an `EsFileSink`) without the bytes
 * entering the JavaScript heap; `toArrayBuffer()` is there when it asks.
 *
 * On the sim platform the encoders are libx264/libx265 and the decoders
 * FFmpeg's, configured for zero latency: one image in, one access unit out.
 * A build without them (riscv64 under qemu) replays a recorded stream instead
 * (see `EncoderOptions.replay`). Details and the MaixPy/CanMV mapping:
 * docs/api/video.md.
 */
declare module "qcam:video" {
  import type { Image } from "qcam:image";

  /** Video codecs: what an `Encoder`, a `Decoder` and an `EsReader` take. */
  export type Codec = "h264" | "h265";
  /** What a `Frame` may carry: video, or G.711 audio from qcam:audio's `AudioEncoder`. */
  export type FrameCodec = Codec | "alaw" | "ulaw";
  /**
   * "header": parameter sets only; "I": an intra picture (an IDR when `keyframe`); "P", "B";
   * "audio": a block of G.711 samples (always a keyframe).
   */
  export type FrameType = "header" | "I" | "P" | "B" | "audio";

  /**
   * One access unit: Annex B bytes (start codes included) in a pooled,
   * reference-counted native buffer — or, with codec "alaw"/"ulaw", one block
   * of G.711 audio (one byte per sample). Close it when done (or `using`);
   * after `close()` every member throws a TypeError with code ERR_CLOSED.
   */
  export class Frame {
    private constructor();
    readonly codec: FrameCodec;
    readonly type: FrameType;
    /** A picture a decoder can start at (H.264 IDR, H.265 IRAP). Keyframes carry the parameter sets in-band. */
    readonly keyframe: boolean;
    /** Presentation time, µs: the encoded Image's `timestampUs` (audio: the block's first sample's). */
    readonly ptsUs: number;
    /** Decoding time, µs; equal to `ptsUs` (no B-frames). */
    readonly dtsUs: number;
    /** Bytes. */
    readonly size: number;
    /** 0, 1, 2, ... per encoder (per file for an EsReader). */
    readonly seq: number;
    /** A read-only view of the bytes, without copying. It keeps the buffer alive by itself. */
    toArrayBuffer(): ArrayBuffer;
    /** Give the buffer back. Idempotent. */
    close(): void;
    [Symbol.dispose](): void;
  }

  export interface ParameterSets {
    /** H.265 only. Each one a NAL unit without its start code (what MP4 `avcC`/`hvcC` and SDP take). */
    vps?: ArrayBuffer;
    sps: ArrayBuffer;
    pps: ArrayBuffer;
  }

  export interface EncoderOptions {
    codec: Codec;
    /** Pixels, even, 16..8192; images passed to `encode()` must have this size. */
    width: number;
    height: number;
    /** Frames per second the rate control plans for, 1..240. Default 30. */
    fps?: number;
    /** Bits per second, 10 000..200 000 000. Default 2 000 000. */
    bitrate?: number;
    /** "cbr" (default): held at `bitrate`; "vbr": `bitrate` on average, peaks up to twice that. */
    rateControl?: "cbr" | "vbr";
    /** Frames from one keyframe (IDR) to the next, 1..100000. Default `fps` (one a second). */
    gop?: number;
    /** h264: "baseline" | "main" | "high" (default high); h265: "main". */
    profile?: "baseline" | "main" | "high";
    /**
     * The pixel format images will come in (default "nv21", the cameras'). Any of
     * nv21/nv12/yuv420p is accepted at every call; this one goes in without a copy.
     */
    format?: "nv21" | "nv12" | "yuv420p";
    /**
     * Replay encoder: instead of encoding, play this Annex B file (a board path,
     * e.g. "/sdcard/clip.h265") one access unit per `encode()` call, looping, with
     * the image's timestamps; types come from the NAL units. A build without an
     * encoder (riscv64) uses "/sdcard/qcam/replay.h264" / ".h265" when that exists.
     */
    replay?: string;
  }

  /**
   * A hardware (board) or software (sim) encoder. Several may run at once.
   * @throws TypeError/RangeError ERR_INVALID_ARG for a missing, bad or unknown option, naming
   *   what is allowed; Error ENOTSUP when this build cannot encode `codec` and there is
   *   no replay file; ENOENT etc. for a replay file.
   */
  export class Encoder {
    constructor(options: EncoderOptions);
    readonly codec: Codec;
    readonly width: number;
    readonly height: number;
    readonly fps: number;
    readonly gop: number;
    readonly bitrate: number;
    /** True when this encoder replays a file. */
    readonly replay: boolean;
    /**
     * Encode one image (nv21, nv12 or yuv420p, `width`x`height`) into the access
     * unit for it: zero latency, one image in, one Frame out. The first Frame is a
     * keyframe with the parameter sets (SPS/PPS, and VPS for h265) in-band, and so
     * is every later keyframe. The image is only read; close it yourself.
     * @throws TypeError ERR_INVALID_ARG for another size or format, naming the expected
     *   one; Error ERR_BUSY while the encoder feeds a link.
     */
    encode(image: Image): Frame;
    /** Make the next frame an IDR (the GOP restarts there). */
    requestIdr(): void;
    /** The stream's parameter sets; null before the first keyframe has been encoded. */
    parameterSets(): ParameterSets | null;
    /** Idempotent. Throws ERR_BUSY while a link uses the encoder. Afterwards every other member throws ERR_CLOSED. */
    close(): void;
    [Symbol.dispose](): void;
  }

  export interface DecoderOptions {
    codec: Codec;
  }

  /**
   * Decodes access units into yuv420p Images (8-bit 4:2:0 streams).
   * @throws Error ENOTSUP when this build has no decoder (riscv64).
   */
  export class Decoder {
    constructor(options: DecoderOptions);
    readonly codec: Codec;
    /**
     * Feed one access unit; returns the pictures it completed (usually one; none
     * while a stream with B-frames fills its reorder buffer). `ptsUs` defaults to
     * the Frame's, or 0 for bytes; the Images carry it as `timestampUs`.
     * @throws Error EBADMSG for data the decoder rejects.
     */
    decode(frame: Frame | ArrayBuffer | Uint8Array, ptsUs?: number): Image[];
    /** End of stream: the pictures still held back. The decoder then takes a new stream. */
    flush(): Image[];
    /** Idempotent. */
    close(): void;
    [Symbol.dispose](): void;
  }

  export interface EsReaderOptions {
    /** Default: from the extension (.h264/.264/.avc, .h265/.265/.hevc). */
    codec?: Codec;
    /**
     * Frames' ptsUs = dtsUs = seq * 1e6 / fps (decoding order: right for streams without
     * B-frames). Default 30.
     */
    fps?: number;
  }

  /** Reads an Annex B elementary-stream file access unit by access unit, without loading it whole. */
  export class EsReader {
    /** `path` is a board path (/sdcard/..., /tmp/...). */
    constructor(path: string, options?: EsReaderOptions);
    readonly codec: Codec;
    readonly path: string;
    /** The next access unit, or null at the end of the file. */
    read(): Frame | null;
    /** Back to the start. */
    rewind(): void;
    /** Idempotent. */
    close(): void;
    [Symbol.dispose](): void;
  }

  /**
   * Split an Annex B byte stream into access units (copies). Bytes before the
   * first start code are skipped; a damaged stream gives fewer or odd units, never
   * an exception.
   */
  export function splitAccessUnits(bytes: ArrayBuffer | Uint8Array, codec: Codec): ArrayBuffer[];
}
