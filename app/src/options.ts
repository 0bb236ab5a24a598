// The recorder's command line: npm start -- [--record SECONDS] [--codec h264|h265]
// [--container mp4|ts] [--audio] [--rtsp] [--segment SECONDS] [--text TEXT]
export type Codec = "h264" | "h265";
export type Container = "mp4" | "ts";

export interface RecorderOptions {
  recordSeconds: number | null; // null: record in segments until stopped
  codec: Codec;
  container: Container;
  audio: boolean;
  rtsp: boolean;
  segmentSeconds: number;
  /** Text burned into the video (qcam:overlay fields, e.g. "%Y-%m-%d %H:%M:%S"); absent: none. */
  text?: string;
}

export class OptionError extends Error {}

const DEFAULTS: RecorderOptions = { recordSeconds: null, codec: "h265", container: "mp4", audio: false, rtsp: false, segmentSeconds: 60 };

function positive(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n <= 0) throw new OptionError(`${flag} needs a number of seconds > 0`);
  return n;
}

export function parseOptions(args: readonly string[]): RecorderOptions {
  const o = { ...DEFAULTS };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case "--record":
        o.recordSeconds = positive(a, args[++i]);
        break;
      case "--segment":
        o.segmentSeconds = positive(a, args[++i]);
        break;
      case "--codec": {
        const c = args[++i];
        if (c !== "h264" && c !== "h265") throw new OptionError(`--codec must be h264 or h265, not ${c ?? "nothing"}`);
        o.codec = c;
        break;
      }
      case "--container": {
        const c = args[++i];
        if (c !== "mp4" && c !== "ts") throw new OptionError(`--container must be mp4 or ts, not ${c ?? "nothing"}`);
        o.container = c;
        break;
      }
      case "--audio":
        o.audio = true;
        break;
      case "--rtsp":
        o.rtsp = true;
        break;
      case "--text": {
        const t = args[++i];
        if (!t) throw new OptionError('--text needs the text to burn in, e.g. "%Y-%m-%d %H:%M:%S"');
        o.text = t;
        break;
      }
      default:
        throw new OptionError(`unknown option ${a}`);
    }
  }
  if (o.audio && o.container === "ts") throw new OptionError("--audio needs --container mp4 (G.711 has no standard MPEG-TS mapping)");
  return o;
}

/** The audio track: G.711 A-law at 8 kHz, mono (the K230's combination). */
export const AUDIO = { codec: "alaw", sampleRate: 8000 } as const;
export const RTSP_PORT = 8554;
export const RTSP_PATH = "/live";

export function describePlan(o: RecorderOptions, videoDir: string): string[] {
  const lines = [
    `video: 1280x720 nv21 30 fps -> ${o.codec.toUpperCase()} -> ${o.container.toUpperCase()} in ${videoDir}`,
    o.recordSeconds === null
      ? `length: segments of ${o.segmentSeconds} s until stopped (Ctrl-C)`
      : `length: ${o.recordSeconds} s`,
    `audio: ${o.audio ? `G.711 ${AUDIO.codec === "alaw" ? "A-law" : "mu-law"} ${AUDIO.sampleRate} Hz mono` : "off"}`,
  ];
  if (o.rtsp) lines.push(`live: RTSP on port ${RTSP_PORT}, path ${RTSP_PATH}`);
  if (o.text !== undefined) lines.push(`text: ${JSON.stringify(o.text)} burned in, bottom left (times in UTC)`);
  return lines;
}

const two = (n: number) => String(n).padStart(2, "0");

/** rec_YYYYMMDD_HHMMSS_NNN.mp4 — UTC wall-clock start and segment index. */
export function segmentName(start: Date, index: number, ext: string): string {
  const d = start;
  const stamp = `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}_${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
  return `rec_${stamp}_${String(index).padStart(3, "0")}.${ext}`;
}

/** The same names, as a writer's segment pattern (the writer fills in the time and index). */
export function segmentPattern(dir: string, ext = "mp4"): string {
  return `${dir}/rec_%Y%m%d_%H%M%S_%03i.${ext}`;
}
