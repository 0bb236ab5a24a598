/**
 * MP4 recording and reading — the K230's `Mp4Container` / `kd_mp4_*`, and what
 * MaixPy users do with ffmpeg after the fact. Files survive a crash: while
 * recording, an `Mp4Writer` writes a fragmented MP4 (ftyp, moov with mvex,
 * then moof+mdat every `fragmentMs`), each fragment flushed to storage, so a
 * power cut loses at most the fragment in progress. A clean `close()` turns
 * it into a regular MP4 with the moov at the front. `repair()` makes a file
 * cut mid-recording playable. Details: docs/api/mp4.md.
 */
declare module "qcam:mp4" {
  import type { Encoder, Frame, Codec, ParameterSets } from "qcam:video";

  export type AudioCodec = "alaw" | "ulaw";

  export interface Mp4VideoTrack {
    codec: Codec;
    width: number;
    height: number;
    /** Parameter sets; default: taken from the first keyframe's in-band ones. */
    parameterSets?: ParameterSets;
  }

  export interface Mp4AudioTrack {
    /** G.711 A-law or µ-law, the K230's combination. */
    codec: AudioCodec;
    sampleRate: 8000 | 16000;
    channels?: 1;
  }

  export interface SegmentOptions {
    /** Start a new file after this many seconds (at the next video keyframe). */
    seconds?: number;
    /** Start a new file once the current one reaches this many bytes (at the next video keyframe). */
    bytes?: number;
  }

  export interface SegmentInfo {
    /** Board path of the finished file. */
    path: string;
    /** 0, 1, 2, ... */
    index: number;
    /** Seconds of media in it (video track; audio when there is no video). */
    duration: number;
    /** Bytes on storage. */
    size: number;
    /** Video frames (samples) in it. */
    frames: number;
    /** It ended early because the card was full (see `segment`). */
    full: boolean;
  }

  export interface Mp4WriterOptions {
    /** A video track: the encoder that feeds the writer, or the track described. */
    video?: Encoder | Mp4VideoTrack;
    /** A G.711 audio track. */
    audio?: Mp4AudioTrack;
    /** Target fragment length, milliseconds (100..10000, default 1000); cut at the next keyframe when one comes within it. */
    fragmentMs?: number;
    /** On a clean close (and per finished segment), make a regular MP4 (default true): the moov first, by a copy written beside the file and renamed over it, when the card has room for the copy; else in place, the moov at the end (docs/api/mp4.md). false keeps the fragmented file. */
    finalize?: boolean;
    /**
     * Split the recording into files. The path then is a pattern: `%i` (or
     * `%03i`, any width) becomes the segment index, and strftime-style `%Y %m
     * %d %H %M %S` the wall-clock time (UTC, like the boards' clocks) the
     * segment starts; `%%` is a percent sign.
     *
     * A full card does not stop a segmented writer: `onFull` hears of it
     * (the moment to delete old recordings), the fragment that did not fit
     * is dropped, the segment ends at its last complete fragment (reported
     * to `onSegment` with `full: true`; a file without one is removed), and
     * the next segment starts at the first keyframe a second or more later
     * for which there is room (`onFull` again each time there is none).
     * Frames lost meanwhile count in `stats().dropped`. `onError` does not
     * hear of it.
     */
    segment?: SegmentOptions;
    /** A segment was finished (finalized when `finalize`) and the next one started. Not called for the file `close()` finishes: `close()` returns that one's info. Reports the loop has not delivered yet when `close()` is called are delivered by it. */
    onSegment?: (info: SegmentInfo) => void;
    /** Segments: the card was full; `path` is the file that was cut short or could not start. Frames are dropped until there is room (see `segment`). */
    onFull?: (path: string) => void;
    /** Writing failed (e.g. code ENOSPC: the card is full). What was written stays playable; the writer stops writing. Without it the error is thrown by the next `write()`, or is fatal in a link. */
    onError?: (error: Error & { code: string }) => void;
  }

  export interface Mp4WriterStats {
    /** Samples written to storage (in complete fragments), per track. */
    videoFrames: number;
    audioFrames: number;
    /** Complete fragments on storage in the current file. */
    fragments: number;
    /** Bytes of the current file on storage. */
    bytes: number;
    /** Segments finished so far. */
    segments: number;
    /** Video frames not written: before a file's first keyframe, and (segments) lost to a full card. */
    dropped: number;
  }

  /**
   * Writes an MP4 on the board's storage: a sink for `link(cam, enc, writer)`
   * and `link(mic, g711, writer)` (one video link and one audio link may feed
   * the same writer), or pull mode with `write(frame)`. Timestamps come from the
   * frames (variable frame rate is kept as it was captured).
   * Missing folders in the path are made.
   * @throws TypeError/RangeError ERR_INVALID_ARG for bad options (no track, a
   *   bad fragmentMs, an unknown key here or in video/audio/segment, ...), Error with a POSIX code (ENOTDIR, EACCES, ENOSPC) when
   *   the file cannot be created.
   */
  export class Mp4Writer {
    constructor(path: string, options: Mp4WriterOptions);
    readonly kind: "mp4";
    /** The file being written (for segments: the current segment). */
    readonly path: string;
    stats(): Mp4WriterStats;
    /**
     * Add one frame: H.264/H.265 access units to the video track, alaw/ulaw
     * frames to the audio track. Video before the first keyframe is dropped
     * (counted). @throws ERR_INVALID_ARG for a codec that has no track; ERR_BUSY
     * while a link feeds the writer; the pending write error (ENOSPC...).
     */
    write(frame: Frame): void;
    /** Write out the fragment in progress now (and flush it to storage). */
    flush(): void;
    /**
     * Write the last fragment and finalize (unless `finalize: false`). Returns
     * the last file's info (undefined if already closed). Throws ERR_BUSY while
     * a link feeds the writer. Idempotent.
     */
    close(): SegmentInfo | undefined;
    [Symbol.dispose](): void;
  }

  export interface Mp4TrackInfo {
    id: number;
    kind: "video" | "audio";
    codec: Codec | AudioCodec;
    /** Video only. */
    width?: number;
    height?: number;
    /** Audio only. */
    sampleRate?: number;
    channels?: number;
    timescale: number;
    /** Seconds. */
    duration: number;
    samples: number;
  }

  export interface Mp4Sample {
    track: number;
    /** Index in the track, decode order. */
    index: number;
    ptsUs: number;
    dtsUs: number;
    durationUs: number;
    keyframe: boolean;
    size: number;
    /** Byte offset in the file. */
    offset: number;
  }

  /**
   * Reads a regular or a fragmented MP4 (a finished file, or one still being
   * written up to its last complete fragment).
   * @throws Error EBADMSG naming what is wrong for a malformed or truncated
   *   file (never a crash), ENOENT etc. from storage.
   */
  export class Mp4Reader {
    constructor(path: string);
    readonly path: string;
    readonly fragmented: boolean;
    /** Seconds, the longest track. */
    readonly duration: number;
    readonly tracks: Mp4TrackInfo[];
    /** Samples of one track in decode order (all tracks interleaved by decode time when omitted). */
    samples(track?: number): Mp4Sample[];
    /** The next sample of `track` (default: the first video track) as a Frame: video as Annex B with in-band parameter sets on keyframes; null at the end. */
    read(track?: number): Frame | null;
    /** Move `read()` of `track` (default: the first video track) to the keyframe at or before `seconds`; returns that sample's time, seconds. */
    seek(seconds: number, track?: number): number;
    /** Idempotent. */
    close(): void;
    [Symbol.dispose](): void;
  }

  export interface RemuxOptions {
    /** Frame rate of the stream, frames per second (0 < fps <= 240, default 30; fractional rates such as 30000 / 1001 are kept). An elementary stream carries no timestamps: frame i is shown at i / fps seconds. */
    fps?: number;
    /** Default: from the input's extension (.h264/.264/.avc, .h265/.265/.hevc), as `EsReader`. */
    codec?: Codec;
  }

  export interface RemuxResult {
    /** Frames (samples) in the MP4. */
    frames: number;
    /** Of them, keyframes (H.264 IDR, H.265 IRAP pictures): the points a player can seek to. */
    keyframes: number;
    /** Frames before the first keyframe, left out (a decoder cannot show them). */
    dropped: number;
    /** Seconds: frames / fps. */
    duration: number;
    /** Bytes of the MP4. */
    size: number;
    codec: Codec;
    /** Picture size, from the sequence parameter set. */
    width: number;
    height: number;
  }

  /**
   * Convert a finished H.264 / H.265 elementary stream (Annex B, e.g. a raw
   * recording) into a regular MP4 with the moov first — what `ffmpeg -f h265
   * -i in.h265 -c copy out.mp4` does, in one pass and bounded memory. The
   * input is scanned once and indexed (parameter sets and access unit
   * delimiters go into the sample entry), then the MP4 is written beside
   * `output`, synced and renamed over it: on any error no output file is left
   * (an existing one stays as it was). Missing folders in `output` are made.
   * A stream cut short (power lost while recording) converts up to where it
   * ends. `input` and `output` are board paths (/sdcard/..., /tmp/...).
   * @throws TypeError/RangeError ERR_INVALID_ARG for bad arguments (an unknown option key too) or a codec
   *   the file name does not tell; Error EBADMSG "no keyframe in ..." when the
   *   input has no picture a decoder can start from (garbage, or cut before
   *   its first frame); ENOENT etc. from storage; ENOSPC when the card fills
   *   (nothing is left behind).
   */
  export function remux(input: string, output: string, options?: RemuxOptions): RemuxResult;

  export interface RepairResult {
    /** "ok": nothing to do; "repaired": a torn tail was dropped and the file made playable; "unrecoverable": not an MP4 this can mend (the file is left as it was). */
    status: "ok" | "repaired" | "unrecoverable";
    /** Bytes cut off the end. */
    droppedBytes: number;
    /** Samples per track in the mended file. */
    videoFrames: number;
    audioFrames: number;
    /** Seconds. */
    duration: number;
    /** For "unrecoverable": why. */
    reason?: string;
  }

  /**
   * Make a recording cut short (power cut, crash, full card) playable: drop
   * a torn last fragment, rebuild the index, and finalize it into a regular MP4
   * (`finalize: false` keeps it fragmented). Files that are fine are left alone.
   * A file that is not an MP4 is "unrecoverable", its `reason` naming its first
   * bytes ("mp4: not an MP4 file (it starts with 'RIFF', not an ftyp box)").
   * @throws TypeError ERR_INVALID_ARG for bad arguments or an unknown option key.
   */
  export function repair(path: string, options?: { finalize?: boolean }): RepairResult;
}
