// The recorder without a screen: what the command line says, on top of the
// settings saved on the card, reported line by line on stdout.
import { app, time } from "qcam:app";
import { repair } from "qcam:mp4";
import { space } from "qcam:fs";
import { maskUrl } from "./defaults.ts";
import { commandError, Fleet, type CommandReply } from "./fleet.ts";
import { describePlan, recorderOptions, resolveSettings, RESOLUTION_SIZE, type CommandLine, type RecorderOptions } from "./options.ts";
import { Session, type SessionSummary } from "./session.ts";
import { applySettings, loadSettingsWithPassword, publicSettings } from "./settings.ts";
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
  let settings = resolveSettings(cmd, loaded.settings);
  let opts: RecorderOptions = recorderOptions(settings, cmd.recordSeconds, cmd.text);
  const dir = app.videoPath();
  const log = (line: string) => console.log(`  ${line}`);
  console.log(`${app.name} ${app.version} on ${app.platform}`);
  if (loaded.problem) log(loaded.problem);
  if (loaded.saveProblem) log(`a new RTSP password, for this run only: not saved (${loaded.saveProblem})`);
  if (opts.rtsp && opts.rtspOpen) console.warn("warning: RTSP open access (--rtsp-open or the menu's setting): the live view has no password");
  for (const line of describePlan(opts, dir)) log(line);
  repairFolder(dir, log);

  let s: Session | null = null;
  let failure: string | null = null;
  let lastReport = 0;
  let fleet: Fleet | null = null;

  /** Start a recording with `opts`: null, or why it could not start. */
  const begin = (): string | null => {
    const loop = opts.recordSeconds === null;
    let budget;
    if (loop) {
      const p = Session.prepare({ ...opts, dir, log });
      if (p.failure) return p.failure;
      budget = p.budget;
    }
    try {
      s = new Session({ ...opts, dir, loop, log, onEvent: (e) => fleet?.event(e as unknown as Record<string, unknown>) }, budget);
    } catch (e) {
      if (!fleet) throw e;
      return `${(e as { code?: string }).code ?? "ERROR"}: ${(e as Error).message}`;
    }
    lastReport = s.startMs;
    fleet?.changed();
    return null;
  };
  const finish = (): SessionSummary => {
    const r = s!.stop();
    s = null;
    log(`frames: ${r.framesIn} pictures taken, ${r.stored} stored, ${r.lost} dropped (${r.sourceMissed} more missed by the camera)`);
    if (r.audioDropped) log(`audio: ${r.audioDropped} blocks dropped`);
    console.log(`stopped after ${(r.elapsedMs / 1000).toFixed(1)} s`);
    failure = r.failure;
    fleet?.changed();
    return r;
  };
  const codeOf = (f: string) => /^([A-Z_]+):/.exec(f)?.[1] ?? "ERR_FAILED";

  if (cmd.mqtt) {
    const status = (): Record<string, unknown> => {
      const { width, height } = RESOLUTION_SIZE[opts.resolution];
      const cur = s as Session | null;
      const w = cur?.stats();
      const ps = cur?.pipeStats();
      const elapsed = cur ? cur.elapsedMs / 1000 : 0;
      const pub = cur?.publishStats();
      let card: Record<string, number> | null = null;
      try {
        const sp = space(dir);
        card = { freeBytes: sp.available, totalBytes: sp.total };
      } catch {
        // no card
      }
      return {
        recording: cur !== null,
        segment: cur && w ? { path: cur.currentPath, seconds: Math.round(elapsed * 10) / 10, frames: w.videoFrames } : null,
        card,
        video: {
          codec: opts.codec, width, height, fps: opts.fps,
          measuredFps: ps && elapsed > 0 ? Math.round((ps.framesEncoded / elapsed) * 10) / 10 : 0,
          drops: ps ? ps.drops.queue + ps.drops.encoder + ps.drops.source : 0,
        },
        rtsp: opts.rtsp ? { viewers: w?.viewers ?? 0 } : null,
        publish: opts.publishUrl
          ? { state: pub?.state ?? "off", url: maskUrl(opts.publishUrl), dropped: pub?.dropped ?? 0, reconnects: pub?.reconnects ?? 0 }
          : null,
        lastError: failure,
      };
    };
    const command = (name: string, args: Record<string, unknown>): CommandReply => {
      switch (name) {
        case "start": {
          if (s) return commandError("ERR_BUSY", "already recording");
          const keys = Object.keys(args).filter((k) => k !== "seconds");
          if (keys.length) return commandError("ERR_INVALID_ARG", `start takes only "seconds", not ${keys.join(", ")}`);
          const sec = args.seconds;
          if (sec !== undefined && (typeof sec !== "number" || !Number.isFinite(sec) || sec <= 0)) return commandError("ERR_INVALID_ARG", "seconds must be a number > 0");
          opts = { ...opts, recordSeconds: sec === undefined ? null : sec };
          const f = begin();
          if (f) {
            fleet?.event({ type: "error", code: codeOf(f), message: f });
            return commandError(codeOf(f), f);
          }
          return { ok: true, recording: true, path: (s as Session | null)?.currentPath ?? null };
        }
        case "stop": {
          if (!s) return commandError("ERR_NOT_RECORDING", "not recording");
          const r = finish();
          return { ok: true, recording: false, saved: r.saved.map((x) => ({ path: x.path, frames: x.frames, seconds: x.duration, bytes: x.size })), frames: r.stored, failure: r.failure };
        }
        case "apply": {
          const next = applySettings(settings, args);
          if (typeof next === "string") return commandError("ERR_INVALID_ARG", next);
          settings = next;
          const wasRecording = s !== null;
          if (wasRecording) finish();
          opts = recorderOptions(settings, opts.recordSeconds, cmd.text);
          for (const line of describePlan(opts, dir)) log(line);
          const f = wasRecording ? begin() : null;
          if (f) return commandError(codeOf(f), `settings applied, but the recording could not start again: ${f}`);
          return { ok: true, settings: publicSettings(settings), recording: s !== null };
        }
        default:
          return commandError("ERR_UNKNOWN_COMMAND", `no command "${name}" (start, stop, apply, status)`);
      }
    };
    fleet = new Fleet({ url: cmd.mqtt, boardId: cmd.boardId ?? `${app.platform}-board`, status, command, log });
  }

  const first = begin();
  if (first) {
    if (!fleet) {
      app.setExitMessage(1, `recording failed: ${first}`);
      return;
    }
    failure = first;
    log(`recording failed: ${first}`);
    fleet.event({ type: "error", code: codeOf(first), message: first });
  }
  while (!app.needExit()) {
    fleet?.tick();
    const cur = s as Session | null;
    if (cur) {
      const now = time.ticksMs();
      if (cur.stopReason || (opts.recordSeconds !== null && now - cur.startMs >= opts.recordSeconds * 1000)) {
        finish();
        if (!fleet) break; // in a fleet the board stays up for the next command
        continue;
      }
      if (now - lastReport >= 1000) {
        lastReport = now;
        const w = cur.stats();
        const clients = opts.rtsp ? `, ${w.viewers} live viewers` : "";
        log(`recording ${Math.round((now - cur.startMs) / 1000)} s, ${w.videoFrames} frames${opts.audio ? `, ${w.audioFrames} audio frames` : ""}${clients}`);
        console.debug(`  encoded ${cur.pipeStats().framesEncoded} frames`); // (the menu says it too; the bench counts with it)
      }
    }
    time.sleepMs(20);
  }
  if (s) finish();
  (fleet as Fleet | null)?.close();
  if (failure) app.setExitMessage(1, `recording failed: ${failure}`);
}
