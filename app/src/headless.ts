// The recorder without a screen: what the command line says, on top of the
// settings saved on the card, reported line by line on stdout.
import { app, time } from "qcam:app";
import { repair } from "qcam:mp4";
import { describePlan, parseOptions, resolveSettings, type CommandLine, type RecorderOptions } from "./options.ts";
import { Session } from "./session.ts";
import { loadSettingsWithPassword } from "./settings.ts";
import { recordings } from "./storage.ts";

export const settingsPath = () => `${app.dataPath()}/settings.json`;

/** Mend what an earlier run left cut short (killed, power cut, full card). */
export function repairFolder(dir: string, log: (line: string) => void): void {
  for (const path of recordings(dir).filter((p) => p.endsWith(".mp4"))) {
    const r = repair(path);
    if (r.status === "repaired")
      log(`repaired ${path}: ${r.videoFrames} frames, ${r.duration.toFixed(1)} s kept, ${r.droppedBytes} bytes of torn tail dropped`);
    else if (r.status === "unrecoverable") log(`cannot repair ${path}: ${r.reason ?? "not an MP4"}`);
  }
}

export function recordHeadless(cmd: CommandLine): void {
  let loaded: ReturnType<typeof loadSettingsWithPassword>;
  try {
    loaded = loadSettingsWithPassword(settingsPath());
  } catch (e) {
    // no card: a password for this run only
    loaded = { ...loadSettingsWithPassword(""), problem: `settings not read (${(e as Error).message}): defaults used` };
  }
  const base = resolveSettings({ ...cmd, overrides: {} }, loaded.settings);
  const opts: RecorderOptions = parseOptions(app.args, base);
  const dir = app.videoPath();
  const log = (line: string) => console.log(`  ${line}`);
  console.log(`${app.name} ${app.version} on ${app.platform}`);
  if (loaded.problem) log(loaded.problem);
  if (loaded.saveProblem) log(`a new RTSP password, for this run only: not saved (${loaded.saveProblem})`);
  if (opts.rtsp && opts.rtspOpen) console.warn("warning: RTSP open access (--rtsp-open or the menu's setting): the live view has no password");
  for (const line of describePlan(opts, dir)) log(line);
  repairFolder(dir, log);

  const loop = opts.recordSeconds === null;
  let budget;
  if (loop) {
    const p = Session.prepare({ ...opts, dir, log });
    if (p.failure) {
      app.setExitMessage(1, `recording failed: ${p.failure}`);
      return;
    }
    budget = p.budget;
  }
  const s = new Session({ ...opts, dir, loop, log }, budget);
  let lastReport = s.startMs;
  while (!s.stopReason && !app.needExit()) {
    const now = time.ticksMs();
    if (!loop && now - s.startMs >= opts.recordSeconds! * 1000) break;
    if (now - lastReport >= 1000) {
      lastReport = now;
      const w = s.stats();
      const clients = opts.rtsp ? `, ${w.viewers} live viewers` : "";
      log(`recording ${Math.round((now - s.startMs) / 1000)} s, ${w.videoFrames} frames${opts.audio ? `, ${w.audioFrames} audio frames` : ""}${clients}`);
      console.debug(`  encoded ${s.pipeStats().framesEncoded} frames`); // (the menu says it too; the bench counts with it)
    }
    time.sleepMs(20);
  }
  const r = s.stop();
  log(`frames: ${r.framesIn} pictures taken, ${r.stored} stored, ${r.lost} dropped (${r.sourceMissed} more missed by the camera)`);
  if (r.audioDropped) log(`audio: ${r.audioDropped} blocks dropped`);
  console.log(`stopped after ${(r.elapsedMs / 1000).toFixed(1)} s`);
  if (r.failure) app.setExitMessage(1, `recording failed: ${r.failure}`);
}
