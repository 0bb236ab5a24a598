// The recorder's settings: what the menu changes, kept on the SD card as JSON
// and restored at start. Saving is atomic (qcam:fs writeFile: the new text is
// written beside the old file, synced, and renamed over it, then the folder
// is synced), so a power cut leaves the old settings or the new, never half.
// A file that cannot be read or makes no sense gives the defaults and a
// message for the screen, never an exception.
//
// Secure by default: the first start makes a random RTSP password
// (makePassword, from crypto.getRandomValues) and saves it here at once, so
// that it stays the same from one start to the next; the menu shows it on the
// board's screen. An older file (version 1) keeps its settings and gets one; a
// damaged file is kept beside as settings.json.damaged. The password is never
// logged.
import { exists, readText, rename, writeFile } from "qcam:fs";

import { checkPublishUrl, DEFAULT_SETTINGS, maskUrl, RESOLUTIONS, type Settings } from "./defaults.ts";

export { DEFAULT_SETTINGS, FRAME_RATES, RESOLUTIONS, type Codec, type Container, type Resolution, type Settings } from "./defaults.ts";

export const SETTINGS_VERSION = 2;

/** Letters and digits nobody mistakes for one another on a small screen (no 0/O/o, 1/l/I, 2/Z, 5/S, 8/B, 9/g/q, u/v). */
export const PASSWORD_ALPHABET = "abcdefhijkmnprstwxyzACDEFGHJKLMNPRTUVWXY3467";
export const PASSWORD_LENGTH = 12;

/** A password of PASSWORD_LENGTH characters, uniformly from PASSWORD_ALPHABET (about 65 bits). */
export function makePassword(): string {
  const n = PASSWORD_ALPHABET.length;
  const limit = 256 - (256 % n); // bytes at or above it would favour the first letters
  let out = "";
  while (out.length < PASSWORD_LENGTH) {
    for (const b of crypto.getRandomValues(new Uint8Array(32)))
      if (b < limit && out.length < PASSWORD_LENGTH) out += PASSWORD_ALPHABET[b % n];
  }
  return out;
}

/** What qcam:rtsp takes as a Digest password: 8 to 64 printable ASCII characters, no quotes or backslashes. */
export const goodPassword = (v: unknown): v is string => typeof v === "string" && /^[!#-[\]-~]{8,64}$/.test(v);

type Check = (v: unknown) => boolean;
const CHECKS: { [K in keyof Settings]: Check } = {
  resolution: (v) => typeof v === "string" && (RESOLUTIONS as readonly string[]).includes(v),
  fps: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 60,
  codec: (v) => v === "h264" || v === "h265",
  bitrate: (v) => Number.isInteger(v) && (v as number) >= 100_000 && (v as number) <= 50_000_000,
  audio: (v) => typeof v === "boolean",
  segmentSeconds: (v) => typeof v === "number" && Number.isFinite(v) && v >= 1 && v <= 3600,
  loop: (v) => typeof v === "boolean",
  timestamp: (v) => typeof v === "boolean",
  container: (v) => v === "mp4" || v === "ts",
  rtsp: (v) => typeof v === "boolean",
  rtspOpen: (v) => typeof v === "boolean",
  rtspPassword: goodPassword,
  publish: (v) => typeof v === "boolean",
  publishUrl: (v) => v === "" || checkPublishUrl(v) === null,
};
/** Fields added after version 2 was first written: a file without them takes the default. */
const LATER: readonly (keyof Settings)[] = ["publish", "publishUrl"];

export interface Loaded {
  settings: Settings;
  /** Why the saved file was not used (shown on the screen); absent when it was, or there was none. */
  problem?: string;
  /** The file is there but makes no sense (kept as <path>.damaged when a password is saved over it). */
  damaged?: boolean;
  /** A password was made at this start (first start, a version 1 file, a damaged one). */
  newPassword?: boolean;
  /** Why the new password could not be saved (it then holds for this run only). */
  saveProblem?: string;
}

/** Check a parsed settings object: every field present and valid, or the reason it is not. */
export function validate(value: unknown): Settings | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  let o = value as Record<string, unknown>;
  const v1 = o.version === 1; // before the RTSP password: it keeps its settings and gets one
  if (v1) o = { ...o, rtspOpen: false };
  else if (o.version !== SETTINGS_VERSION) return `version ${JSON.stringify(o.version)}, not ${SETTINGS_VERSION}`;
  const out = {} as Record<string, unknown>;
  for (const k of Object.keys(CHECKS) as (keyof Settings)[]) {
    if (v1 && k === "rtspPassword") {
      out[k] = ""; // made by loadSettingsWithPassword
      continue;
    }
    if (!(k in o) && LATER.includes(k)) {
      out[k] = DEFAULT_SETTINGS[k];
      continue;
    }
    if (!(k in o)) return `${k} is missing`;
    if (!CHECKS[k](o[k])) return k === "rtspPassword" ? "rtspPassword is not 8 to 64 printable characters without quotes" : k === "publishUrl" ? "publishUrl is not an rtmp:// URL" : `${k} is ${JSON.stringify(o[k])}`; // (secrets: not shown)
    out[k] = o[k];
  }
  const s = out as unknown as Settings;
  if (s.audio && s.container === "ts") return "audio is on with the TS container (it has no audio track)";
  return s;
}

/** The settings saved at `path`, or the defaults (with the reason when the file was bad). */
export function loadSettings(path: string): Loaded {
  let text: string;
  try {
    if (!exists(path)) return { settings: { ...DEFAULT_SETTINGS } };
    text = readText(path);
  } catch (e) {
    return { settings: { ...DEFAULT_SETTINGS }, problem: `settings could not be read (${(e as Error).message}): defaults used` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { settings: { ...DEFAULT_SETTINGS }, problem: "the settings file is damaged: defaults used", damaged: true };
  }
  const v = validate(parsed);
  if (typeof v === "string") return { settings: { ...DEFAULT_SETTINGS }, problem: `the settings file is damaged (${v}): defaults used`, damaged: true };
  return { settings: v };
}

/** Save atomically. Throws the card's error (ENOSPC, EIO, ...): the old file is then untouched. */
export function saveSettings(path: string, s: Settings): void {
  writeFile(path, JSON.stringify({ version: SETTINGS_VERSION, ...s }, null, 1) + "\n");
}

/**
 * The settings saved at `path`, with an RTSP password: when there is none yet
 * (no file, a version 1 file, a damaged one: kept as <path>.damaged), one is
 * made and saved at once, so that it is the same at the next start. A card that
 * refuses says so in `saveProblem`; the password then holds for this run. With
 * `path` "" (no card) nothing is read or saved.
 */
export function loadSettingsWithPassword(path: string): Loaded {
  const loaded: Loaded = path ? loadSettings(path) : { settings: { ...DEFAULT_SETTINGS } };
  if (loaded.settings.rtspPassword) return loaded;
  loaded.settings = { ...loaded.settings, rtspPassword: makePassword() };
  loaded.newPassword = true;
  if (!path) return loaded;
  try {
    if (loaded.damaged) {
      try {
        rename(path, `${path}.damaged`);
      } catch {
        // unreadable junk that cannot be moved is overwritten
      }
    }
    saveSettings(path, loaded.settings);
  } catch (e) {
    loaded.saveProblem = `${(e as { code?: string }).code ?? "ERROR"}: ${(e as Error).message}`;
  }
  return loaded;
}

/** The settings a fleet's `apply` command may change (never the RTSP password or open access). */
const REMOTE_SETTINGS = ["resolution", "fps", "bitrate", "codec", "segmentSeconds", "container", "audio", "timestamp", "publish"] as const;

/** The settings as the fleet may see them: no password, the publish URL masked. */
export function publicSettings(s: Settings): Record<string, unknown> {
  const { rtspPassword: _secret, publishUrl, ...rest } = s;
  return { ...rest, publishUrl: publishUrl ? maskUrl(publishUrl) : "" };
}

/** `apply`'s arguments over the settings in force: the new settings, or what is wrong. */
export function applySettings(s: Settings, args: Record<string, unknown>): Settings | string {
  const next: Record<string, unknown> = { ...s };
  for (const [k, v] of Object.entries(args)) {
    if (!(REMOTE_SETTINGS as readonly string[]).includes(k)) return `${k} cannot be set (settings: ${REMOTE_SETTINGS.join(", ")})`;
    if (k === "publish") {
      if (v === null || v === false) next.publish = false;
      else if (v === true) next.publish = true;
      else if (typeof v === "string") {
        const bad = checkPublishUrl(v);
        if (bad) return `publish: ${bad}`;
        next.publish = true;
        next.publishUrl = v;
      } else return "publish is an rtmp:// URL, true, false or null";
    } else next[k] = v;
  }
  if (next.publish && !next.publishUrl) return "publish: no URL known: give one";
  return validate({ version: SETTINGS_VERSION, ...next });
}
