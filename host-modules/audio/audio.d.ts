/**
 * Audio capture and G.711 — MaixPy's `maix.audio.Recorder`, CanMV's
 * `PyAudio` / `media.pyaudio` input streams and its G.711 encoder
 * (`media.media.g711`). An `AudioIn` hands out blocks of 16-bit samples
 * (`Pcm`) paced by the clock like a camera's frames; an `AudioEncoder` turns
 * them into G.711 `Frame`s (qcam:video) that go to the same sinks as video —
 * an `EsFileSink` (raw .alaw/.ulaw), an MP4 writer, an RTSP stream — in pull
 * mode or through `link(mic, encoder, sinks)`.
 *
 * On the sim platform the microphone is a sine tone or a WAV file on the SD
 * card played in real time. Details and the MaixPy/CanMV mapping:
 * docs/api/audio.md.
 */
declare module "qcam:audio" {
  import type { Frame } from "qcam:video";

  /** G.711 A-law (Europe, the K230's default) or µ-law (North America, Japan). */
  export type G711Law = "alaw" | "ulaw";

  export interface AudioInOptions {
    /** Samples per second: 8000 (default; telephone band, what G.711 is for) or 16000. */
    sampleRate?: 8000 | 16000;
    /** 1 (mono). */
    channels?: 1;
    /**
     * Milliseconds of audio per block, 10..100 (default 20): `read()` returns
     * one block every `frameMs`; `samples = sampleRate * frameMs / 1000`.
     */
    frameMs?: number;
    /**
     * Blocks the input keeps for a reader that is late (2..64, default 8):
     * fall further behind and the oldest are dropped (counted). Also the number
     * of blocks that may be open at once.
     */
    buffers?: number;
    /**
     * sim: "tone" (default), a sine of `toneHz` at half of full scale; or the
     * board path of a WAV file (16-bit PCM at `sampleRate`, mono; "/sdcard/..."),
     * played in real time. A file at another rate or channel count is refused
     * (RangeError ERR_INVALID_ARG naming both): there is no resampling.
     * Boards: must be absent (the microphone).
     */
    source?: string;
    /** The tone's frequency, Hz: an integer 1..sampleRate/2. Default 440. */
    toneHz?: number;
    /** A WAV source: start again at its end (default true); false: `read()` returns null there. */
    loop?: boolean;
  }

  export interface AudioInStats {
    /** Blocks that fell due since the input started. */
    captured: number;
    /** Blocks lost because the reader was more than `buffers` blocks behind. */
    dropped: number;
    /** Blocks handed out by `read()` (or to a link). */
    delivered: number;
  }

  /**
   * A microphone. Capturing starts when it is made: block k holds samples
   * k·N .. k·N+N−1 (N = `samples`), its first sample was captured at
   * t₀ + k·`frameMs` and it is complete at t₀ + (k+1)·`frameMs` on the
   * monotonic clock, whether anybody reads or not. `captured = delivered +
   * dropped + (blocks waiting, at most buffers)`.
   * @throws TypeError/RangeError ERR_INVALID_ARG for a bad option (naming what
   *   is allowed); Error ENOENT/EACCES/... for a WAV source that cannot be
   *   opened; Error ERR_INVALID_SOURCE for a file that is not a 16-bit PCM WAV.
   */
  export class AudioIn {
    constructor(options?: AudioInOptions);
    readonly sampleRate: number;
    readonly channels: number;
    readonly frameMs: number;
    /** Samples per channel in a block. */
    readonly samples: number;
    readonly buffers: number;
    /** "tone" or the WAV file's board path. */
    readonly source: string;
    /**
     * The oldest block not read yet, in order (audio is never skipped the way
     * late video frames are, unless the reader fell more than `buffers` blocks
     * behind); waits for the next one when there is none. Null at the end of a
     * WAV source without `loop` (its last block may be shorter).
     * @throws ERR_NO_BUFFER when all `buffers` blocks are still open (close
     *   them); ERR_BUSY while the input feeds a link.
     */
    read(): Pcm | null;
    stats(): AudioInStats;
    /** Stop capturing. Idempotent; ERR_BUSY while it feeds a link. Afterwards every other member throws ERR_CLOSED. */
    close(): void;
    [Symbol.dispose](): void;
  }

  /**
   * One block of samples in a pooled native buffer: 16-bit signed,
   * interleaved by channel. Close it when done (or `using`); after `close()`
   * every member throws a TypeError with code ERR_CLOSED.
   */
  export class Pcm {
    private constructor();
    readonly sampleRate: number;
    readonly channels: number;
    /** Samples per channel. */
    readonly samples: number;
    /** Capture time of the first sample, µs on CLOCK_MONOTONIC (as `time.monotonicMs() * 1000`): blocks are `frameMs` apart. */
    readonly timestampUs: number;
    /** Block number since the input started: 0, 1, 2, ... (a gap is a drop). */
    readonly seq: number;
    /** The samples: a read-only view without copying. It keeps the buffer alive by itself. */
    toInt16Array(): Int16Array;
    /** Give the buffer back. Idempotent. */
    close(): void;
    [Symbol.dispose](): void;
  }

  export interface AudioEncoderOptions {
    codec: G711Law;
    /** The rate stamped on frames encoded from a plain Int16Array: 8000 (default) or 16000. A `Pcm` carries its own. */
    sampleRate?: 8000 | 16000;
  }

  /**
   * G.711 (ITU-T G.711): one byte per sample, every frame independent.
   * Also a `link()` encoder for an `AudioIn`.
   */
  export class AudioEncoder {
    constructor(options: AudioEncoderOptions);
    readonly codec: G711Law;
    readonly sampleRate: number;
    /**
     * Encode a block (or samples) into one Frame: codec "alaw"/"ulaw", type
     * "audio", keyframe true, `ptsUs = dtsUs` = `timestampUs` if given, else the
     * block's timestamp (0 for an Int16Array), `size` = one byte per sample,
     * `seq` 0, 1, 2, ... per encoder. The block is only read; close it yourself.
     * @throws TypeError ERR_INVALID_ARG for anything else; ERR_BUSY while the encoder feeds a link.
     */
    encode(samples: Pcm | Int16Array, timestampUs?: number): Frame;
    /** Idempotent; ERR_BUSY while it feeds a link. Afterwards every other member throws ERR_CLOSED. */
    close(): void;
    [Symbol.dispose](): void;
  }

  /** G.711-encode samples: one byte each (the same bytes as ffmpeg's pcm_alaw / pcm_mulaw). */
  export function g711Encode(samples: Int16Array, law: G711Law): Uint8Array;
  /** G.711-decode bytes into samples (ITU-T G.711's output levels). */
  export function g711Decode(bytes: Uint8Array | ArrayBuffer, law: G711Law): Int16Array;
  /** The samples of an "alaw"/"ulaw" Frame (a copy). @throws TypeError ERR_INVALID_ARG for a video Frame. */
  export function decodeFrame(frame: Frame): Int16Array;
}
