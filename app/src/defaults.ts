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
});

