// The recorder's command line: npm start -- [--record SECONDS] [--codec h264|h265]
// [--container mp4|ts] [--audio] [--rtsp] [--rtsp-open] [--segment SECONDS] [--text TEXT]
// [--resolution 1080p|720p|480p] [--fps N] [--bitrate MBITS] [--rtmp URL | --rtsp-push URL]
// [--mqtt URL [--board-id ID]] [--headless] [--menu]
//
// Started with no recorder option (plain `npm start`), or with --menu, the
// recorder is menu-driven on the board's screen; any other option (or
// --headless) runs it headless, as before the menu existed. Either way the
// options given override the settings saved on the card for this run (they are
// not saved).
//
// There is deliberately no option for the RTSP password: a command line is
// readable by every process on the board (ps, /proc) and stays in shell
// histories. The password is made on the first start and kept in the settings
// file (settings.ts); the menu shows it on the screen.
import { checkPublishUrl, DEFAULT_SETTINGS, maskUrl, publishProtocol, RESOLUTIONS, type Codec, type Container, type Resolution, type Settings } from "./defaults.ts";

export type { Codec, Container } from "./defaults.ts";
export { maskUrl } from "./defaults.ts";

export interface RecorderOptions {
  recordSeconds: number | null; // null: record in segments until stopped
  codec: Codec;
  container: Container;
  audio: boolean;
  rtsp: boolean;
  /** RTSP without a password (else Digest, user RTSP_USER, `rtspPassword`). */
  rtspOpen: boolean;
  /** A secret: never logged. */
  rtspPassword: string;
  segmentSeconds: number;
  /** Text burned into the video (qcam:overlay fields, e.g. "%Y-%m-%d %H:%M:%S"); absent: none. */
  text?: string;
  resolution: Resolution;
  fps: number;
  /** Video bits per second. */
  bitrate: number;
  /** Push the recording to this RTMP URL (a secret: logged masked), or null. */
  publishUrl: string | null;
}

/** What the command line said: the run's mode and the settings it overrides. */
export interface CommandLine {
  /** Run without the screen (any recorder option but --menu, or --headless). */
  headless: boolean;
  recordSeconds: number | null;
  /** Settings given on the command line: they win over the saved ones for this run. */
  overrides: Partial<Settings>;
  text?: string;
  /** --mqtt: report to this broker and take its commands (fleet.ts). A secret: logged masked. */
  mqtt?: string;
  /** --board-id: the board's name in the fleet's topics. */
  boardId?: string;
}

export class OptionError extends Error {}

function positive(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n <= 0) throw new OptionError(`${flag} needs a number of seconds > 0`);
  return n;
}

export function parseCommandLine(args: readonly string[]): CommandLine {
  const o: CommandLine = { headless: false, recordSeconds: null, overrides: {} };
  const set = o.overrides;
  let menu = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case "--record":
        o.recordSeconds = positive(a, args[++i]);
        break;
      case "--segment":
        set.segmentSeconds = positive(a, args[++i]);
        break;
      case "--codec": {
        const c = args[++i];
        if (c !== "h264" && c !== "h265") throw new OptionError(`--codec must be h264 or h265, not ${c ?? "nothing"}`);
        set.codec = c;
        break;
      }
      case "--container": {
        const c = args[++i];
        if (c !== "mp4" && c !== "ts") throw new OptionError(`--container must be mp4 or ts, not ${c ?? "nothing"}`);
        set.container = c;
        break;
      }
      case "--audio":
        set.audio = true;
        break;
      case "--rtsp":
        set.rtsp = true;
        break;
      case "--rtsp-open":
        set.rtsp = true;
        set.rtspOpen = true;
        break;
      case "--text": {
        const t = args[++i];
        if (!t) throw new OptionError('--text needs the text to burn in, e.g. "%Y-%m-%d %H:%M:%S"');
        o.text = t;
        break;
      }
      case "--resolution": {
        const r = args[++i];
        if (!(RESOLUTIONS as readonly string[]).includes(r)) throw new OptionError(`--resolution must be ${RESOLUTIONS.join(", ")}, not ${r ?? "nothing"}`);
        set.resolution = r as Resolution;
        break;
      }
      case "--fps": {
        const v = args[++i];
        const n = Number(v);
        if (v === undefined || !Number.isInteger(n) || n < 1 || n > 60) throw new OptionError(`--fps needs a whole number of frames per second from 1 to 60, not ${v ?? "nothing"}`);
        set.fps = n;
        break;
      }
      case "--bitrate": {
        const v = args[++i];
        const n = Number(v);
        if (v === undefined || !Number.isFinite(n) || n < 0.1 || n > 50) throw new OptionError(`--bitrate needs megabits per second from 0.1 to 50, not ${v ?? "nothing"}`);
        set.bitrate = Math.round(n * 1e6);
        break;
      }
      case "--rtmp":
      case "--rtsp-push": {
        const u = args[++i];
        const rtmp = a === "--rtmp";
        const bad = u === undefined ? "nothing" : rtmp === /^rtmps?:/i.test(u) ? checkPublishUrl(u) : `not an ${rtmp ? "rtmp" : "rtsp"}:// URL`;
        if (bad) throw new OptionError(`${a} needs an ${rtmp ? "rtmp://host[:port]/app/stream" : "rtsp://host[:port]/path"} URL: ${bad}`);
        set.publish = true;
        set.publishUrl = u;
        break;
      }
      case "--mqtt": {
        const u = args[++i];
        if (u !== undefined && /^mqtts:\/\//i.test(u)) throw new OptionError("--mqtt: mqtts:// is not supported (no TLS in the runtime yet): use mqtt://");
        if (u === undefined || !/^mqtt:\/\/[^/\s]+\/?$/i.test(u)) throw new OptionError("--mqtt needs the broker as mqtt://[user:password@]host[:port]");
        o.mqtt = u;
        break;
      }
      case "--board-id": {
        const v = args[++i];
        if (v === undefined || !/^[A-Za-z0-9_.-]{1,64}$/.test(v)) throw new OptionError(`--board-id needs 1 to 64 letters, digits, '.', '_' or '-', not ${v ?? "nothing"}`);
        o.boardId = v;
        break;
      }
      case "--headless":
        o.headless = true;
        break;
      case "--menu":
        menu = true;
        break;
      default:
        throw new OptionError(`unknown option ${a}`);
    }
  }
  if (set.audio && set.container === "ts") throw new OptionError("--audio needs --container mp4 (G.711 has no standard MPEG-TS mapping)");
  if (o.boardId !== undefined && o.mqtt === undefined) throw new OptionError("--board-id goes with --mqtt");
  if (menu && o.mqtt !== undefined) throw new OptionError("--mqtt runs with the headless recorder: not with --menu");
  if (menu && (o.headless || o.recordSeconds !== null)) throw new OptionError("--menu runs the recorder on the screen: not with --headless or --record");
  if (!menu && args.length > 0) o.headless = true;
  return o;
}

/** The settings a run uses: the saved ones, then the command line's. A transport stream
 * has no audio track, so audio saved as on is left out when the container is TS. */
export function resolveSettings(cmd: CommandLine, saved: Settings = DEFAULT_SETTINGS): Settings {
  const s = { ...saved, ...cmd.overrides };
  if (s.container === "ts") s.audio = false;
  return s;
}

/** The headless recorder's options: the saved settings under the command line's. */
export function parseOptions(args: readonly string[], saved: Settings = DEFAULT_SETTINGS): RecorderOptions {
  const cmd = parseCommandLine(args);
  return recorderOptions(resolveSettings(cmd, saved), cmd.recordSeconds, cmd.text);
}

/** A recording's options from the settings in force (and --record, --text). */
export function recorderOptions(s: Settings, recordSeconds: number | null, text?: string): RecorderOptions {
  const o: RecorderOptions = {
    recordSeconds,
    codec: s.codec,
    container: s.container,
    audio: s.audio,
    rtsp: s.rtsp,
    rtspOpen: s.rtspOpen,
    rtspPassword: s.rtspPassword,
    segmentSeconds: s.segmentSeconds,
    resolution: s.resolution,
    fps: s.fps,
    bitrate: s.bitrate,
    publishUrl: s.publish && s.publishUrl ? s.publishUrl : null,
  };
  const t = text ?? (s.timestamp ? TIMESTAMP : undefined);
  if (t !== undefined) o.text = t;
  return o;
}

/** The time stamp the menu's "Time stamp" setting burns in. */
export const TIMESTAMP = "%Y-%m-%d %H:%M:%S";

/** The audio track: G.711 A-law at 8 kHz, mono (the K230's combination). */
export const AUDIO = { codec: "alaw", sampleRate: 8000 } as const;
export const RTSP_PORT = 8554;
export const RTSP_PATH = "/live";
/** The RTSP user name (HTTP Digest); the password is the settings' rtspPassword. */
export const RTSP_USER = "admin";

/** qcam:rtsp's RtspServer options for these settings: Digest auth unless open access is on. */
export function rtspServerOptions(s: Pick<Settings, "rtspOpen" | "rtspPassword">): { port: number; auth?: { user: string; password: string } } {
  return s.rtspOpen ? { port: RTSP_PORT } : { port: RTSP_PORT, auth: { user: RTSP_USER, password: s.rtspPassword } };
}

/** How to log in, for the console: never the password itself. */
export function rtspAccess(s: Pick<Settings, "rtspOpen">): string {
  return s.rtspOpen ? "OPEN ACCESS: no password, anyone on the network can watch" : `user ${RTSP_USER}, password: see the board's screen or settings`;
}

export function describePlan(o: RecorderOptions, videoDir: string): string[] {
  const { width, height } = RESOLUTION_SIZE[o.resolution];
  const lines = [
    `video: ${width}x${height} nv21 ${o.fps} fps -> ${o.codec.toUpperCase()} -> ${o.container.toUpperCase()} in ${videoDir}`,
    o.recordSeconds === null
      ? `length: segments of ${o.segmentSeconds} s until stopped (Ctrl-C)`
      : `length: ${o.recordSeconds} s`,
    `audio: ${o.audio ? `G.711 ${AUDIO.codec === "alaw" ? "A-law" : "mu-law"} ${AUDIO.sampleRate} Hz mono` : "off"}`,
  ];
  if (o.rtsp) lines.push(`live: RTSP on port ${RTSP_PORT}, path ${RTSP_PATH}, ${rtspAccess(o)}`);
  if (o.publishUrl) lines.push(`publish: ${publishProtocol(o.publishUrl)} to ${maskUrl(o.publishUrl)}`);
  if (o.text !== undefined) lines.push(`text: ${JSON.stringify(o.text)} burned in, bottom left (times in UTC)`);
  return lines;
}

/** Pixels of each resolution the menu offers (16:9). */
export const RESOLUTION_SIZE: Record<Resolution, { width: number; height: number }> = {
  "1080p": { width: 1920, height: 1080 },
  "720p": { width: 1280, height: 720 },
  "480p": { width: 854, height: 480 },
};

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
