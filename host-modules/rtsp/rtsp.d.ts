/**
 * An RTSP server — MaixPy's `maix.rtsp.Rtsp`, CanMV's RTSP server. Streams
 * H.264 / H.265 video (and G.711 audio) to VLC, ffmpeg, GStreamer and NVRs over
 * RTP over TCP (interleaved) or UDP unicast, from a server thread of its own:
 * no JavaScript runs per frame or per packet. A stream is a sink, so
 * `link(cam, enc, server.stream("live", { video: enc }))` moves frames from
 * the camera to every client without JavaScript, and `stream.write(frame)`
 * serves pull mode. `RtspSource` is the other direction: an RTSP client that
 * reads an IP camera, a link source of encoded frames (`link(src, sinks)`).
 * Details and the MaixPy/CanMV mapping: docs/api/rtsp.md.
 */
declare module "qcam:rtsp" {
  import type { Encoder, Frame, Codec, ParameterSets } from "qcam:video";
  import type { Sink } from "qcam:link";

  export interface RtspServerOptions {
    /** TCP port, 0..65535 (0: any free port, see `port`). Default 8554. */
    port?: number;
    /** Address to listen on (numeric IPv4/IPv6). Default "0.0.0.0" (every interface). */
    host?: string;
    /** Require HTTP Digest authentication (RFC 2617) for everything but OPTIONS. */
    auth?: { user: string; password: string };
    /** Connections served at once, 1..1024 (default 16); one more is answered 503. */
    maxClients?: number;
    /** A session with no request and no RTCP from its client for this long ends, 1..86400 s (default 60). */
    sessionTimeoutS?: number;
    /** A client whose connection takes no data for this long is disconnected, 100..600000 ms (default 10000). */
    stallTimeoutMs?: number;
  }

  export interface RtspVideoTrack {
    codec: Codec;
    /** Announced until a keyframe written to the stream brings its own (in-band ones win). Default: from the first keyframe. */
    parameterSets?: ParameterSets;
  }

  export interface RtspAudioTrack {
    /** G.711 A-law (PCMA) or µ-law (PCMU). */
    codec: "alaw" | "ulaw";
    sampleRate: 8000 | 16000;
  }

  export interface RtspStreamOptions {
    /** The encoder that feeds the stream (its codec and parameter sets; asked for an IDR when a client starts), or the track described. */
    video: Encoder | RtspVideoTrack;
    audio?: RtspAudioTrack;
    /**
     * Keep the frames since the last keyframe and send them to a client that
     * starts playing, so its first picture needs no wait for the next
     * keyframe; with nothing cached the encoder is asked for an IDR. Default true.
     */
    fastStart?: boolean;
  }

  export interface RtspClientStats {
    /** "ip:port" of the client. */
    address: string;
    /** The stream it set up ("/live"), "" before SETUP. */
    path: string;
    transport: "tcp" | "udp";
    state: "init" | "ready" | "playing" | "paused";
    /** Video frames whose last RTP packet has been written to it. */
    framesSent: number;
    /** Bytes written to it (RTP, RTCP, RTSP). */
    bytesSent: number;
    /** Video frames it did not get: its queue was full (it lost whole GOPs) or it waited for a keyframe. */
    drops: number;
    /** Frames waiting in its send queue. */
    queued: number;
  }

  export interface RtspStreamStats {
    path: string;
    /** Clients playing it. */
    clients: number;
    /** Access units written to the stream. */
    videoFrames: number;
    audioFrames: number;
    bytesIn: number;
    /** From a frame handed to the stream to its last RTP packet written, per client, µs. */
    latencyUs: { p50: number; p99: number };
  }

  export interface RtspServerStats {
    /** Connected clients (not counting those refused over maxClients). */
    clients: RtspClientStats[];
    streams: RtspStreamStats[];
    /** Sessions set up since the start. */
    sessions: number;
    /** Connections refused or answered 503 (maxClients). */
    rejected: number;
    /** Clients disconnected because they stopped taking data (stallTimeoutMs). */
    droppedClients: number;
    /** Over every stream, µs. */
    latencyUs: { p50: number; p99: number };
  }

  /**
   * One path on the server ("/live"): a sink for `link()` (one video link and
   * one audio link may feed it) or for `write(frame)` in pull mode.
   */
  export class RtspStream implements Sink {
    private constructor();
    readonly kind: "rtsp";
    /** "/live". */
    readonly path: string;
    /** What a player opens, e.g. "rtsp://192.168.1.20:8554/live". */
    readonly url: string;
    /**
     * Send one frame to every playing client (video access units, or G.711
     * frames for the audio track). Never waits for a client.
     * @throws ERR_BUSY while a link feeds the stream; ERR_INVALID_ARG for a
     *   frame of a codec the stream has no track for.
     */
    write(frame: Frame): void;
    /** Disconnect its clients and remove the path. Throws ERR_BUSY while linked. Idempotent. */
    close(): void;
    [Symbol.dispose](): void;
  }

  /**
   * Listens at once; clients are served on a thread of the server's own. A
   * running server keeps the app alive until `close()`.
   * @throws TypeError/RangeError ERR_INVALID_ARG for a bad or unknown option (in `auth` too); Error
   *   EADDRINUSE / EACCES when the port cannot be had.
   */
  export class RtspServer {
    constructor(options?: RtspServerOptions);
    /** The port listened on (the one the system chose for port 0). */
    readonly port: number;
    readonly host: string;
    /**
     * Add a stream at `path` ("live" or "/live").
     * @throws ERR_EXISTS for a path taken; ERR_INVALID_ARG for bad or unknown options (in `video`, `audio` too).
     */
    stream(path: string, options: RtspStreamOptions): RtspStream;
    /** "rtsp://<address>:<port>/<path>"; for a wildcard host the address of the default route's interface. */
    url(path: string): string;
    stats(): RtspServerStats;
    /**
     * Stop accepting, send what the clients' queues still hold (up to 2 s),
     * disconnect everyone and close every stream. Returns the final stats
     * (undefined if already closed). Throws ERR_BUSY while a link feeds one of
     * its streams.
     */
    close(): RtspServerStats | undefined;
    [Symbol.dispose](): void;
  }

  export interface RtspSourceOptions {
    /** RTP over the RTSP connection ("tcp", interleaved: works through NAT and firewalls) or over UDP. Default "tcp". */
    transport?: "tcp" | "udp";
    /** Credentials for Basic or Digest (MD5) authentication, answered when the camera asks; override the URL's user:password. */
    user?: string;
    password?: string;
    /** Connecting and each reply, and (twice this) the first keyframe when the SDP has no parameter sets; 100..600000 ms, default 5000. */
    timeoutMs?: number;
    /** A playing session that brings no media for this long is dropped and made again; 100..600000 ms, default 5000. */
    stallTimeoutMs?: number;
    /** Reconnect back-off: the first wait, doubling up to the last; 10..600000 ms, defaults 500 and 8000. */
    reconnectMinMs?: number;
    reconnectMaxMs?: number;
    /** Frames waiting for the reader before the newest are dropped (to the next keyframe); 1..4096, default 64. */
    queue?: number;
    /** Also receive the camera's G.711 (PCMA/PCMU) track when it has one (`readAudio()`). Default true. */
    audio?: boolean;
  }

  export interface RtspSourceStats {
    /** The URL with its password masked ("rtsp://admin:***@cam/stream"). */
    url: string;
    /** A session is playing now (false while reconnecting). */
    connected: boolean;
    transport: "tcp" | "udp";
    /** Video access units received whole and queued. */
    frames: number;
    audioFrames: number;
    /** RTP payload bytes received. */
    bytes: number;
    /** Access units lost: RTP loss, malformed packets, a full queue (dropped to the next keyframe). */
    dropped: number;
    /** Sessions made again after the first (camera dropped, restarted, stalled). */
    reconnects: number;
    /** RTCP sender reports received. */
    senderReports: number;
    /** The camera's wall clock at its last sender report, ms since 1970; null before one. */
    cameraTimeMs: number | null;
    /** The last failure's code (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EACCES, ENOENT, EPROTO, ...); null once playing again. */
    lastError: string | null;
  }

  /**
   * Input from an IP camera: an RTSP client (RFC 2326) on a thread of its own,
   * RTP over TCP (interleaved) or UDP, Basic and Digest authentication, H.264
   * (RFC 6184) and H.265 (RFC 7798) video, G.711 audio when the camera has it.
   *
   * It is a link source of encoded frames: `link(src, [mp4, rtspStream])`
   * records or restreams without decoding or re-encoding, with no JavaScript
   * per frame. In pull mode `read()` gives Frames (Annex B; keyframes carry
   * their parameter sets) that a `Decoder` turns into pictures for an
   * overlay, a re-encode or a preview. Timestamps follow the camera's RTP
   * clock. A camera that drops or restarts is reconnected with back-off;
   * reads meanwhile return null (a link just waits), and frames resume at the
   * next keyframe, so a recording goes on with a gap and never breaks.
   *
   * The constructor connects and waits (up to `timeoutMs`) until the camera
   * plays and its picture size is known. The password never appears in
   * `url`, `stats()` or error messages.
   * @throws TypeError ERR_INVALID_ARG for a URL that is not rtsp://... or a
   *   bad option; Error ECONNREFUSED, ENOENT (unknown host, 404), ETIMEDOUT,
   *   EACCES (credentials missing or refused), EPROTO (a malformed or
   *   unexpected reply), ENOTSUP (no H.264/H.265 track, transport refused).
   */
  export class RtspSource {
    constructor(url: string, options?: RtspSourceOptions);
    /** The URL with its password masked. */
    readonly url: string;
    readonly codec: Codec;
    /** Picture size from the sequence parameter set. */
    readonly width: number;
    readonly height: number;
    /** The track as Mp4Writer / TsWriter take it: `new TsWriter(path, { video: src.video })`. */
    readonly video: { codec: Codec; width: number; height: number; parameterSets?: ParameterSets };
    /** The camera's G.711 track, or null (none, or `audio: false`). */
    readonly audio: { codec: "alaw" | "ulaw"; sampleRate: number } | null;
    /**
     * The next video access unit, waiting up to `timeoutMs` (default 1000);
     * null when none came (also while reconnecting).
     * @throws ERR_BUSY while a link reads it.
     */
    read(timeoutMs?: number): Frame | null;
    /** The next G.711 block (default: no wait); null when none is waiting. */
    readAudio(timeoutMs?: number): Frame | null;
    stats(): RtspSourceStats;
    /** TEARDOWN and disconnect. Throws ERR_BUSY while linked. Idempotent. */
    close(): void;
    [Symbol.dispose](): void;
  }
}
