/**
 * An RTSP server — MaixPy's `maix.rtsp.Rtsp`, CanMV's RTSP server. Streams
 * H.264 / H.265 video (and G.711 audio) to VLC, ffmpeg, GStreamer and NVRs over
 * RTP over TCP (interleaved) or UDP unicast, from a server thread of its own:
 * no JavaScript runs per frame or per packet. A stream is a sink, so
 * `link(cam, enc, server.stream("live", { video: enc }))` moves frames from
 * the camera to every client without JavaScript, and `stream.write(frame)`
 * serves pull mode. Details and the MaixPy/CanMV mapping: docs/api/rtsp.md.
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
}
