/**
 * Publishing a live stream to a media server (nginx-rtmp, SRS, mediamtx,
 * YouTube/Twitch ingest): MaixPy's RTMP push. A publisher is a sink like
 * Mp4Writer and RtspStream, so one encoder can feed the card, the RTSP
 * server and the push at once: `link(cam, enc, [mp4, rtsp.stream("live"), pub])`.
 * Frames are queued and sent by the publisher's own thread: a server that is
 * down, slow or restarting never blocks the camera or the other sinks. The
 * publisher reconnects by itself (back-off from 0.5 s, doubling up to
 * `maxBackoffMs`) and resumes at the next keyframe. RtspPublisher does the
 * same to a server that takes RTSP ingest (ANNOUNCE + RECORD: mediamtx,
 * GStreamer's RTSP server, Wowza). Details: docs/api/publish.md.
 */
declare module "qcam:publish" {
  import type { Frame } from "qcam:video";

  /** connecting: TCP, handshake, connect/createStream/publish (RTSP: the
   * stream's first keyframe, then ANNOUNCE/SETUP/RECORD); publishing:
   * the server accepted the stream; waiting: the last attempt failed, the
   * next one comes after a back-off; closed: after close(). */
  export type PublishState = "connecting" | "publishing" | "waiting" | "closed";

  export interface PublishVideoTrack {
    /** h264 (FLV codec 7) or h265 (Enhanced RTMP, FourCC hvc1: the server must support it). */
    codec: "h264" | "h265";
    /** For the stream's metadata (16..8192). */
    width?: number;
    height?: number;
    /** For the stream's metadata (1..240). */
    fps?: number;
  }

  export interface PublishAudioTrack {
    /** G.711 (FLV sound formats 7 and 8). */
    codec: "alaw" | "ulaw";
    /** FLV carries G.711 at 8 kHz only: anything else is refused (RangeError). */
    sampleRate?: number;
  }

  export interface RtmpPublisherOptions {
    /** The video: an Encoder (its codec, size and rate are read) or the track described. */
    video?: PublishVideoTrack;
    /** G.711 audio: an AudioEncoder or the track described. */
    audio?: PublishAudioTrack;
    /** Bound of the send queue in bytes (65536..268435456, default 4 MiB). When it is full, what is queued is dropped and sending resumes at the next keyframe. */
    queueBytes?: number;
    /** Longest wait between connection attempts, ms (500..600000, default 8000). */
    maxBackoffMs?: number;
    /** TCP connect + handshake + publish must finish within this, ms (100..600000, default 5000). */
    connectTimeoutMs?: number;
    /** Called on the app's loop at each state change but the last (close() is the app's own doing); `reason` says why an attempt failed ("Connection refused", "NetStream.Publish.BadName", ...). */
    onState?: (state: PublishState, reason?: string) => void;
  }

  /** RtspPublisher's options: the same as RtmpPublisher's. */
  export type RtspPublisherOptions = RtmpPublisherOptions;

  export interface PublishStats {
    state: PublishState;
    /** The URL with the password and query values replaced by `***`. */
    url: string;
    /** Bytes sent to the server (all connections). */
    bytes: number;
    /** Video access units / audio blocks sent. */
    videoFrames: number;
    audioFrames: number;
    /** Frames dropped: while not publishing, a full queue, waiting for a keyframe. */
    dropped: number;
    /** Publications the server accepted; reconnects = connects after the first. */
    connects: number;
    reconnects: number;
    /** What waits in the queue now. */
    queuedFrames: number;
    queuedBytes: number;
    /** Why the last attempt or connection failed (no credentials in it), or null. */
    lastError: string | null;
  }

  /**
   * Pushes H.264 / H.265 and G.711 to `rtmp://[user:pass@]host[:port]/app/stream[?query]`.
   * `user:pass@` is sent as `user=` and `pass=` query parameters of the
   * stream name (what nginx-rtmp's on_publish and mediamtx read); neither
   * ever appears in `url`, stats, errors or logs.
   * @throws TypeError/RangeError ERR_INVALID_ARG for a bad URL or options;
   *   Error ERR_UNSUPPORTED for rtmps://.
   */
  export class RtmpPublisher {
    constructor(url: string, options: RtmpPublisherOptions);
    readonly kind: "rtmp";
    /** The masked URL. */
    readonly url: string;
    readonly state: PublishState;
    /** Queue one frame (never waits for the network). Frames before the first keyframe, and while not publishing, are dropped (counted).
     * @throws ERR_INVALID_ARG for a frame of a codec without a track; ERR_BUSY while a link feeds the publisher. */
    write(frame: Frame): void;
    stats(): PublishStats;
    /** Send what is queued (up to 2 s), end the publication and close. Returns the final stats (undefined if already closed). ERR_BUSY while a link feeds it. Idempotent. */
    close(): PublishStats | undefined;
    [Symbol.dispose](): void;
  }

  /**
   * Pushes H.264 / H.265 and G.711 (8 kHz) to `rtsp://[user[:pass]@]host[:port]/path`
   * (RFC 2326 §10.11): ANNOUNCE with the stream's SDP, SETUP per track with
   * RTP over the RTSP connection (TCP interleaved, mode=record), RECORD, then
   * RTP (RFC 6184 / RFC 7798 / PCMA, PCMU); OPTIONS keeps the session alive;
   * close() sends TEARDOWN. The SDP carries the parameter sets, so a video
   * publisher starts its first attempt at the stream's first keyframe and
   * queues the frames meanwhile. A 401 is answered with `user:pass@`
   * (Digest, or Basic when that is all the server offers; %-escapes
   * decoded); the password never appears in `url`, stats, errors or logs.
   * The queue, drops, reconnects and stats are RtmpPublisher's.
   * @throws TypeError/RangeError ERR_INVALID_ARG for a bad URL or options;
   *   Error ERR_UNSUPPORTED for rtsps://.
   */
  export class RtspPublisher {
    constructor(url: string, options: RtspPublisherOptions);
    readonly kind: "rtsp";
    /** The masked URL. */
    readonly url: string;
    readonly state: PublishState;
    /** As RtmpPublisher's. */
    write(frame: Frame): void;
    stats(): PublishStats;
    /** Send what is queued (up to 2 s), TEARDOWN and close. Returns the final stats (undefined if already closed). ERR_BUSY while a link feeds it. Idempotent. */
    close(): PublishStats | undefined;
    [Symbol.dispose](): void;
  }
}
