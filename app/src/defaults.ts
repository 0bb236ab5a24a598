// The recorder's settings and their defaults: plain data, no host module, so the
// command line (options.ts) can be read by the host tools too (qcam start --help).
export type Codec = "h264" | "h265";
export type Container = "mp4" | "ts";
export const RESOLUTIONS = ["1080p", "720p", "480p"] as const;
export type Resolution = (typeof RESOLUTIONS)[number];
export const FRAME_RATES = [15, 25, 30] as const;

export interface Settings {
  resolution: Resolution;
  fps: number;
  codec: Codec;
  /** Video bits per second. */
  bitrate: number;
  audio: boolean;
  /** Each file's length. */
  segmentSeconds: number;
  /** When the card fills, delete the oldest recordings and carry on (else: stop). */
  loop: boolean;
  /** Burn the date and time into the video. */
  timestamp: boolean;
  container: Container;
  rtsp: boolean;
  /** RTSP without a password: anyone on the network may watch. Never the default. */
  rtspOpen: boolean;
  /** The RTSP password (user RTSP_USER), made on the first start (settings.ts); "" until then. A secret: never logged. */
  rtspPassword: string;
  /** Push the recording to a media server (RTMP) while it records. */
  publish: boolean;
  /** rtmp://host[:port]/app/stream[?key]: "" until given (--rtmp, the settings file). May hold a stream key or a password: a secret, shown and logged masked only. */
  publishUrl: string;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  resolution: "720p",
  fps: 30,
  codec: "h265",
  bitrate: 3_000_000,
  audio: false,
  segmentSeconds: 60,
  loop: true,
  timestamp: false,
  container: "mp4",
  rtsp: false,
  rtspOpen: false,
  rtspPassword: "",
  publish: false,
  publishUrl: "",
});

/** What the recorder takes as a publish URL: rtmp://host/app/stream (RTMP) or rtsp://host/path
 * (RTSP ANNOUNCE + RECORD); rtmps:// needs TLS, which the runtime lacks. Else the reason. */
export function checkPublishUrl(v: unknown): string | null {
  if (typeof v !== "string") return "not a string";
  if (/^rtmps:\/\//i.test(v)) return "rtmps:// is not supported (no TLS in the runtime yet): use rtmp://";
  if (/^rtsp:\/\//i.test(v)) return /^rtsp:\/\/[^/\s]+\/\S+$/i.test(v) ? null : "not an rtsp://host[:port]/path URL";
  if (!/^rtmp:\/\/[^/\s]+\/[^/\s]+\/\S+$/i.test(v)) return "not an rtmp://host[:port]/app/stream URL";
  return null;
}

/** The protocol a publish URL pushes with. */
export const publishProtocol = (url: string): "RTMP" | "RTSP" => (/^rtsp:/i.test(url) ? "RTSP" : "RTMP");

/** A URL as it may be shown or logged: no user:password, no query values (stream keys). */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, "$1***@").replace(/([?&][^=&#]+)=[^&#]*/g, "$1=***");
}

