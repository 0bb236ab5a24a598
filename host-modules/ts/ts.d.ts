/**
 * MPEG-TS recording: a transport stream needs nothing written at its end,
 * so whatever part of a file reached the card plays, however the recording
 * stopped. H.264 and H.265 video (no audio: G.711 has no standard MPEG-TS
 * mapping; record audio with qcam:mp4's Mp4Writer). Details: docs/api/ts.md.
 */
declare module "qcam:ts" {
  import type { Encoder, Frame, Codec, ParameterSets } from "qcam:video";

  export interface TsVideoTrack {
    codec: Codec;
    width: number;
    height: number;
    /** Parameter sets for keyframes that carry none in-band; default: the encoder's, or the last in-band ones. */
    parameterSets?: ParameterSets;
  }

  export interface TsSegmentOptions {
    /** Start a new file after this many seconds (at the next keyframe). */
    seconds?: number;
    /** Start a new file once the current one reaches this many bytes (at the next keyframe). */
    bytes?: number;
  }

  export interface TsSegmentInfo {
    /** Board path of the finished file. */
    path: string;
    /** 0, 1, 2, ... */
    index: number;
    /** Seconds of video in it. */
    duration: number;
    /** Bytes on storage (a multiple of 188). */
    size: number;
    /** Video frames in it. */
    frames: number;
    /** It ended early because the card was full (see `segment`). */
    full: boolean;
  }

  export interface TsWriterOptions {
    /** The video: the encoder that feeds the writer, or the track described. */
    video: Encoder | TsVideoTrack;
    /** Refused (ERR_INVALID_ARG): there is no standard G.711 mapping in MPEG-TS. */
    audio?: never;
    /**
     * Split the recording into files; the path is then a pattern, as for
     * Mp4Writer: `%i` (or `%03i`), `%Y %m %d %H %M %S` (UTC), `%%`.
     * A full card does not stop a segmented writer: `onFull` hears of it,
     * the frames not yet written are dropped, the file ends at its last
     * complete write (`onSegment` with `full: true`; a file with nothing in
     * it is removed), and the next file starts at the first keyframe a
     * second or more later for which there is room.
     */
    segment?: TsSegmentOptions;
    /** A segment was finished and the next one started. Not called for the file `close()` finishes (its return value). */
    onSegment?: (info: TsSegmentInfo) => void;
    /** Segments: the card was full; `path` is the file that was cut short or could not start. */
    onFull?: (path: string) => void;
    /** Writing failed (e.g. code ENOSPC). What was written stays playable; the writer stops. Without it the error is thrown by the next `write()`, or is fatal in a link. */
    onError?: (error: Error & { code: string }) => void;
  }

  export interface TsWriterStats {
    /** Frames on storage, all files. */
    videoFrames: number;
    /** Bytes of the current file on storage. */
    bytes: number;
    /** Segments finished so far. */
    segments: number;
    /** Frames not written: before a file's first keyframe, and (segments) lost to a full card. */
    dropped: number;
  }

  /**
   * Writes an MPEG transport stream (188-byte packets; PAT and PMT before
   * every keyframe; PCR on the video PID) on the board's storage: a sink for
   * `link(cam, enc, writer)`, or pull mode with `write(frame)`. What is
   * written goes to storage (write + fsync) at least once per second of
   * video. Timestamps come from the frames. Missing folders are made.
   * @throws TypeError/RangeError ERR_INVALID_ARG for bad options (no video,
   *   an audio track, an unknown key, ...), Error with a POSIX code when the
   *   file cannot be created.
   */
  export class TsWriter {
    constructor(path: string, options: TsWriterOptions);
    readonly kind: "ts";
    /** The file being written (for segments: the current segment). */
    readonly path: string;
    stats(): TsWriterStats;
    /**
     * Add one access unit. Frames before the first keyframe are dropped
     * (counted). @throws ERR_INVALID_ARG for a frame of another codec;
     * ERR_BUSY while a link feeds the writer; the pending write error (ENOSPC...).
     */
    write(frame: Frame): void;
    /** Write out what is buffered now (and flush it to storage). */
    flush(): void;
    /** Write the rest and close. Returns the last file's info (undefined if already closed). Throws ERR_BUSY while a link feeds the writer. Idempotent. */
    close(): TsSegmentInfo | undefined;
    [Symbol.dispose](): void;
  }

  export interface TsRemuxOptions {
    /** Frames per second (an elementary stream has no timestamps), 0 < fps <= 240. Default 30. */
    fps?: number;
    /** Default: from the input's extension (.h264/.264/.avc, .h265/.265/.hevc). */
    codec?: Codec;
  }

  export interface TsRemuxResult {
    frames: number;
    keyframes: number;
    /** Access units before the first keyframe with parameter sets (not decodable): left out. */
    dropped: number;
    /** Seconds: frames / fps. */
    duration: number;
    /** Bytes of the TS file. */
    size: number;
    codec: Codec;
    width: number;
    height: number;
  }

  /**
   * Turn a finished H.264 / H.265 elementary stream into MPEG-TS in one pass
   * (qcam:mp4's `remux`, for TS): the same packets a TsWriter writes, but one
   * sync at the end instead of one per second of video; written beside
   * `output` and renamed over it, so a failure leaves nothing behind.
   * @throws TypeError ERR_INVALID_ARG (bad arguments, unknown option, codec
   *   not given and not in the name); Error EBADMSG (no keyframe with usable
   *   parameter sets); POSIX codes from storage (ENOENT, ENOSPC, ...).
   */
  export function remux(input: string, output: string, options?: TsRemuxOptions): TsRemuxResult;

  export interface TsTrackInfo {
    /** The video's PID. */
    id: number;
    kind: "video";
    codec: Codec;
    /** From the first SPS; 0 when there is none the reader can parse. */
    width: number;
    height: number;
    /** 90000: PTS / DTS units. */
    timescale: number;
    /** Seconds, as the reader's `duration`. */
    duration: number;
    /** Complete frames (access units). */
    samples: number;
    /** Of them, keyframes: random_access_indicator, or an H.264 IDR / H.265 IRAP picture. */
    keyframes: number;
  }

  /**
   * Reads an MPEG transport stream's video (qcam:mp4's `Mp4Reader`, for TS):
   * the first H.264 / H.265 stream of the first program. One pass over the
   * file at construction indexes its frames (about 40 bytes each); `read()`
   * then reads one frame's packets. A file cut anywhere (SIGKILL, power
   * cut, still being written) reads up to its last complete frame.
   * Times are from the first frame's PTS (33-bit wraps unwrapped).
   * @throws TypeError ERR_INVALID_ARG (no path); Error EBADMSG naming what is
   *   wrong (not a transport stream, no H.264/H.265 stream, no complete
   *   frame); ENOENT etc. from storage.
   */
  export class TsReader {
    constructor(path: string);
    readonly path: string;
    /** Seconds: last PTS - first PTS + the last frame interval (what TsWriter's `close()` reports). */
    readonly duration: number;
    /** One: the video. */
    readonly tracks: TsTrackInfo[];
    /** The next frame, Annex B as stored (TsWriter's keyframes carry their parameter sets); null at the end. `track`, when given, must be the video's id. */
    read(track?: number): Frame | null;
    /** Move `read()` to the keyframe at or before `seconds` (else the first keyframe); returns its time, seconds. */
    seek(seconds: number, track?: number): number;
    /** Idempotent; then every other call throws ERR_CLOSED. */
    close(): void;
    [Symbol.dispose](): void;
  }

  export interface TsProbe {
    codec: Codec;
    /** From the first frame's SPS; 0 when none parses. */
    width: number;
    height: number;
    /** Seconds, as `TsReader`'s `duration`. */
    duration: number;
  }

  /**
   * A transport stream's video codec, size and duration without reading the
   * whole file (for a list of recordings): its first complete frame, and
   * the last ones from a window at its end (256 KiB, grown while it holds
   * fewer than two frames). A file of 1 MiB or less is read whole. The
   * duration is `TsReader`'s for a file not damaged in the middle.
   * @throws as `new TsReader(path)`.
   */
  export function probe(path: string): TsProbe;
}
