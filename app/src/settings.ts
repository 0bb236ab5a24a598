// The recorder's settings: what the menu changes, kept on the SD card as JSON
// and restored at start. Saving is atomic (qcam:fs writeFile: the new text is
// written beside the old file, synced, and renamed over it, then the folder
// is synced), so a power cut leaves the old settings or the new, never half.
// A file that cannot be read or makes no sense gives the defaults and a
// message for the screen, never an exception.
import { exists, readText, writeFile } from "qcam:fs";

import { DEFAULT_SETTINGS, RESOLUTIONS, type Settings } from "./defaults.ts";

export { DEFAULT_SETTINGS, FRAME_RATES, RESOLUTIONS, type Codec, type Container, type Resolution, type Settings } from "./defaults.ts";

export const SETTINGS_VERSION = 1;

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
};

export interface Loaded {
  settings: Settings;
  /** Why the saved file was not used (shown on the screen); absent when it was, or there was none. */
  problem?: string;
}

/** Check a parsed settings object: every field present and valid, or the reason it is not. */
export function validate(value: unknown): Settings | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const o = value as Record<string, unknown>;
  if (o.version !== SETTINGS_VERSION) return `version ${JSON.stringify(o.version)}, not ${SETTINGS_VERSION}`;
  const out = {} as Record<string, unknown>;
  for (const k of Object.keys(CHECKS) as (keyof Settings)[]) {
    if (!(k in o)) return `${k} is missing`;
    if (!CHECKS[k](o[k])) return `${k} is ${JSON.stringify(o[k])}`;
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
    return { settings: { ...DEFAULT_SETTINGS }, problem: "the settings file is damaged: defaults used" };
  }
  const v = validate(parsed);
  if (typeof v === "string") return { settings: { ...DEFAULT_SETTINGS }, problem: `the settings file is damaged (${v}): defaults used` };
  return { settings: v };
}

/** Save atomically. Throws the card's error (ENOSPC, EIO, ...): the old file is then untouched. */
export function saveSettings(path: string, s: Settings): void {
  writeFile(path, JSON.stringify({ version: SETTINGS_VERSION, ...s }, null, 1) + "\n");
}
