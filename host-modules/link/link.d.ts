/** Bound mode: frames move camera → encoder → sinks (or microphone → G.711 → sinks) on native threads. */
declare module "qcam:link" {
  import type { AudioEncoder, AudioIn } from "qcam:audio";
  import type { Camera, Channel } from "qcam:camera";
  import type { Encoder, Frame } from "qcam:video";
  import type { Image } from "qcam:image";
  import type { Overlay } from "qcam:overlay";
  import type { RtspSource } from "qcam:rtsp";

  /** Something a link (or the app, in pull mode) writes encoded frames to. */
  export interface Sink {
    readonly kind: string;
  }

  /**
   * Writes frames back to back as a raw Annex-B elementary stream (.h264 /
   * .h265), starting at the first keyframe — or G.711 frames as raw .alaw /
   * .ulaw (ffmpeg `-f alaw` / `-f mulaw`). Board path, e.g.
   * "/sdcard/video/clip.h265"; missing folders are made (as every writer's,
   * see qcam:fs). Pull mode: `write(frame)`; in a link, the link
   * writes and `write` throws ERR_BUSY. Like every sink it may be fed by one
   * video link and one audio link at once (their bytes interleave, so that is
   * for sinks that keep tracks apart, such as an MP4 writer).
   */
  export class EsFileSink implements Sink {
    constructor(path: string);
    readonly kind: "es";
    readonly path: string;
    /** Frames and bytes written so far. */
    readonly frames: number;
    readonly bytes: number;
    write(frame: Frame): void;
    /** Flush to storage and close. Throws ERR_BUSY while a link feeds it. Idempotent. */
    close(): void;
    [Symbol.dispose](): void;
  }

  export interface LinkOptions {
    /** Pictures waiting for the encoder before new ones are dropped (1..64, default 4). */
    encodeQueue?: number;
    /** Frames waiting per sink before it drops to the next keyframe (1..4096, default 64). */
    sinkQueue?: number;
    /** Stop capturing after this many pictures (e.g. "save 200 frames"); `stats().finished` turns true. */
    frames?: number;
    /** Keep the most recently encoded picture for `pipe.capture()` (MaixPy's
     * `Encoder(capture=True)`); holds one camera buffer. Default false. Video links only. */
    capture?: boolean;
    /** Text burned into every picture on the link's encode thread, just before
     * the encoder (see qcam:overlay); the link holds it until it closes. Not an
     * Overlay: TypeError ERR_INVALID_ARG; a closed one: ERR_CLOSED. Video links only. */
    overlay?: Overlay;
    /** A sink, the camera or the encoder failed (e.g. code ENOSPC). Without it the error is fatal. */
    onError?: (error: Error & { code: string }) => void;
  }

  export interface LinkStats {
    /** Frames written by every sink per second, over the last second. */
    fps: number;
    /** Pictures (audio: blocks) the link took from the source. */
    framesIn: number;
    /** Pictures the encoder turned into frames. */
    framesEncoded: number;
    /** Frames every sink wrote (the smallest count over the sinks). */
    framesOut: number;
    drops: {
      /** Dropped by the source itself while linked (camera: late reader, no free buffer; microphone:
       * ring overrun); what it dropped before the link started (a camera nobody read) is not counted. */
      source: number;
      /** The encode queue was full. */
      queue: number;
      /** The encoder failed on a picture or produced nothing. */
      encoder: number;
      /** Per sink: frames dropped because its queue was full (to the next keyframe). */
      sinks: number[];
    };
    queues: { encode: number; sinks: number[] };
    /** Frames written, per sink. */
    sinkFrames: number[];
    /** Time inside the encoder, microseconds. */
    encodeUs: { p50: number; p99: number };
    /** Capture timestamp to the last sink's write, microseconds. */
    latencyUs: { p50: number; p99: number };
    /**
     * CPU time (user + sys, whole microseconds) each of the link's own threads
     * has used since the link started, from the thread's CPU clock: the
     * capture thread (reading the source), the encode thread (the encoder
     * call and handing frames on; threads an encoder library starts for
     * itself are not counted) and, per sink in the order given, its writer
     * thread (every write and the final flush). The figures only grow; a
     * thread that has ended (all of them by the time `close()` returns) keeps
     * the figure it ended with.
     */
    cpuUs: { capture: number; encode: number; sinks: number[] };
    /** Copies of pixel data made anywhere in the process so far (0 on the bound path). */
    pixelCopies: number;
    /** Capturing has ended: `frames` reached, or a file source ended (loop: false). Close the pipe to drain it. */
    finished: boolean;
  }

  export interface Pipe {
    stats(): LinkStats;
    /** The picture most recently encoded (null before the first). Needs
     * `{ capture: true }`, else throws ERR_NO_CAPTURE. Close it when done. */
    capture(): Image | null;
    /** Stop the camera side, encode and write what is queued, flush every sink;
     * returns the final stats (undefined if already closed). The camera,
     * encoder and sinks stay open: close them after. */
    close(): LinkStats | undefined;
    [Symbol.dispose](): void;
  }

  /**
   * Start moving frames: no JavaScript runs per frame, and pictures go from
   * the camera's pool to the encoder without a copy. A video link is a Camera
   * or Channel with an `Encoder`; an audio link an `AudioIn` with an
   * `AudioEncoder` (else TypeError ERR_INVALID_ARG; a bad or unknown option is
   * ERR_INVALID_ARG too, before anything starts). While linked, the source,
   * encoder and sinks refuse `close()` with ERR_BUSY. A sink takes one video
   * link and one audio link at the same time; a second link of the same kind
   * is refused with ERR_BUSY. Counts add up:
   * framesIn = framesEncoded + drops.queue + drops.encoder once closed.
   */
  export function link(
    source: Camera | Channel | AudioIn,
    encoder: Encoder | AudioEncoder,
    sinks: Sink | Sink[],
    options?: LinkOptions,
  ): Pipe;

  /**
   * A source of encoded frames (an `RtspSource`: an IP camera) linked
   * straight to sinks, without an encoder: frames are recorded or restreamed
   * as the camera sent them, on native threads. `framesEncoded` counts the
   * frames passed on; `capture` and `overlay` need pictures and are refused
   * (TypeError ERR_INVALID_ARG): decode in pull mode for those. A Camera
   * here (no encoder) is refused the same way.
   */
  export function link(
    source: RtspSource,
    sinks: Sink | Sink[],
    options?: Omit<LinkOptions, "capture" | "overlay" | "encodeQueue">,
  ): Pipe;
}
