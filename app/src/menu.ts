// The recorder on the board's screen, with keys or touch (the UI kit, app/ui).
//
// Home is the live preview, full screen, under a status bar (REC and the time
// recorded, resolution and codec, free space as minutes at the current
// bitrate, live viewers) and a bar of two buttons. `ok` (or the Record
// button) starts and stops recording; option, next or prev (or the Menu
// button) open the menu: resolution, frame rate, codec, bitrate, audio,
// segment length, loop recording, time stamp, container, RTSP, Recordings,
// Storage, About. Changes are saved on the card at once and apply to the next
// recording.
//
// RTSP is secure by default: with RTSP on, the menu shows the address, the user
// and the password made on the first start (settings.ts); "Open access" turns
// the password off, with a warning on the screen and the console.
//
// Record and preview at once: the camera's main output (the recording's size)
// feeds the encoder through a link, and a channel of the same camera at the
// screen's size is the display's video layer (display.show(channel)); both
// move on native threads, no JavaScript per frame.
import { app, time } from "qcam:app";
import { Camera, type Channel } from "qcam:camera";
import { Display } from "qcam:display";
import { removeTree, remove, space } from "qcam:fs";
import { Input } from "qcam:input";
import { link, type Pipe } from "qcam:link";
import { RtspServer, type RtspStream } from "qcam:rtsp";
import type { Overlay } from "qcam:overlay";
import { Encoder } from "qcam:video";
import { Choice, Item, Screen, Stepper, Text, Toggle, Ui, type Widget } from "qcam/ui";
import { repairFolder, settingsPath } from "./headless.ts";
import { maskUrl, RESOLUTION_SIZE, RTSP_PATH, RTSP_PORT, RTSP_USER, rtspAccess, rtspServerOptions, TIMESTAMP, type CommandLine } from "./options.ts";
import { Player, recordingDuration } from "./player.ts";
import { AUDIO_BITRATE, makeOverlay, Session } from "./session.ts";
import { FRAME_RATES, loadSettingsWithPassword, makePassword, RESOLUTIONS, saveSettings, type Settings } from "./settings.ts";
import { formatDate, formatDuration, formatSize, recordingInfos, recordings, type RecordingInfo } from "./storage.ts";

const RED = 0xffff4040;
const GREEN = 0xff60d060;
const SEGMENTS = [10, 30, 60, 120, 300, 600];
const BITRATES = { min: 1, max: 20 }; // Mbit/s

const even = (n: number) => Math.max(32, Math.round(n / 2) * 2);
const clock = (ms: number) => formatDuration(ms / 1000);
const segmentLabel = (s: number) => (s % 60 === 0 ? `${s / 60} min` : `${s} s`);

export class MenuRecorder {
  readonly disp: Display;
  readonly ui: Ui;
  readonly dir: string;
  /** Saved on the card; the command line's overrides apply on top for this run. */
  settings: Settings;
  overrides: Partial<Settings>;
  text: string | undefined;
  session: Session | null = null;
  player: Player | null = null;
  /** Where the settings are kept ("" when the card could not give the folder). */
  readonly settingsFile: string;
  /** Progress and results, one line each, on stdout. */
  readonly log = (line: string) => console.log(`  ${line}`);
  #cam: Camera | null = null;
  #preview: Channel | null = null;
  #cameraStale = false;
  /** RTSP: the server while RTSP is on; between recordings a link of its own feeds it. */
  #server: RtspServer | null = null;
  /** The access the server was opened with ("open", or the password): another one needs a new server. */
  #serverAccess = "";
  #idle: { enc: Encoder; stream: RtspStream; pipe: Pipe; overlay: Overlay | null } | null = null;
  #lastStatus = -1;
  #lastReport = -1;
  #infoCache = new Map<string, RecordingInfo>();
  // screens and the widgets that change
  readonly home: Screen;
  readonly menu: Screen;
  readonly recordingsScreen: Screen;
  readonly storageScreen: Screen;
  readonly aboutScreen: Screen;
  readonly playbackScreen: Screen;
  #recordButton: Item;
  #rtspUrl: Text;
  #rtspUser: Text;
  #rtspPassword: Text;
  #rtspOpen: Toggle;
  #newPassword: Item;

  constructor(disp: Display, cmd: CommandLine) {
    this.disp = disp;
    // A card that is missing or refuses its folders is a message on the screen, not a crash.
    let cardProblem: string | null = null;
    const tryPath = (get: () => string, fallback: string) => {
      try {
        return get();
      } catch (e) {
        cardProblem ??= `${(e as { code?: string }).code ?? "ERROR"}: ${(e as Error).message}`;
        return fallback;
      }
    };
    this.dir = tryPath(() => app.videoPath(), "/sdcard/video");
    this.settingsFile = tryPath(() => settingsPath(), "");
    const loaded = loadSettingsWithPassword(this.settingsFile); // (the first start makes the RTSP password)
    this.settings = loaded.settings;
    this.overrides = { ...cmd.overrides };
    this.text = cmd.text;

    this.#recordButton = new Item("Record", { onSelect: () => this.toggleRecording() });
    this.menu = new Screen({ title: "Settings" });
    this.home = new Screen({
      transparent: true,
      items: [this.#recordButton, new Item("Menu", { opens: this.menu })],
      onKey: (e, ui) => {
        if (e.action !== "press") return false;
        if (e.key === "ok") {
          this.toggleRecording();
          return true;
        }
        if (e.key === "option" || e.key === "next" || e.key === "prev") {
          ui.push(this.menu);
          return true;
        }
        return false;
      },
      onShow: () => this.home.focusOn(this.#recordButton),
    });
    this.recordingsScreen = new Screen({ title: "Recordings", onShow: () => this.#fillRecordings() });
    this.storageScreen = new Screen({ title: "Storage", onShow: () => this.#fillStorage() });
    this.aboutScreen = new Screen({ title: "About", onShow: () => this.log(`about: ${app.name} ${app.version}, runtime qcam ${RUNTIME_VERSION}, engine ${ENGINE}`) });
    this.playbackScreen = new Screen({
      transparent: true,
      items: [
        new Item("-10 s", { onSelect: () => this.player?.seek(-10) }),
        new Item("Pause", { onSelect: () => this.#togglePause() }),
        new Item("+10 s", { onSelect: () => this.player?.seek(10) }),
        new Item("Back", { onSelect: (ui) => ui.pop() }),
      ],
      onKey: (e, ui) => {
        if (e.action !== "press") return false;
        if (e.key === "ok") this.#togglePause();
        else if (e.key === "left") this.player?.seek(-10);
        else if (e.key === "right") this.player?.seek(10);
        else if (e.key === "option") ui.pop();
        else return false;
        return true;
      },
      onHide: () => this.stopPlayback(),
    });
    this.#rtspUrl = new Text("RTSP address", `rtsp://<board>:${RTSP_PORT}${RTSP_PATH}`);
    this.#rtspUser = new Text("RTSP user", RTSP_USER);
    this.#rtspPassword = new Text("RTSP password", this.settings.rtspPassword);
    this.#rtspOpen = new Toggle("Open access", this.effective.rtspOpen, (v, ui) => {
      this.#change("rtspOpen", v);
      if (v) ui.toast("Open access: anyone on the network can watch", 5000);
      this.#menuItems();
    });
    this.#newPassword = new Item("New RTSP password", {
      onSelect: (ui) =>
        ui.confirm({
          title: "Make a new RTSP password?",
          message: "Viewers need the new one from then on.",
          confirm: "New password",
          onConfirm: () => this.newPassword(),
        }),
    });
    this.#buildMenu();
    this.#fillAbout();

    this.ui = new Ui(disp, this.home);
    if (loaded.problem) {
      this.log(loaded.problem);
      this.ui.toast(loaded.problem.replace(/ \(.*\)/, ""), 6000);
      this.ui.status.set("msg", "SETTINGS RESET", { color: RED });
    }
    if (loaded.saveProblem) this.log(`a new RTSP password, for this run only: not saved (${loaded.saveProblem})`);
    if (cardProblem) {
      this.log(`card: ${cardProblem}`);
      this.ui.status.set("msg", "CARD ERROR", { color: RED });
      this.ui.alert({ title: "The SD card cannot be used", message: `Settings are not kept and recording will fail. ${cardProblem}` });
    } else {
      try {
        repairFolder(this.dir, this.log);
      } catch (e) {
        this.log(`repair: ${(e as Error).message}`);
      }
    }
    // Load the codec now (the first Encoder of a process loads it), not when recording starts.
    try {
      new Encoder({ codec: "h264", width: 64, height: 64 }).close();
    } catch {
      // a build without encoders (riscv64): recording says why when it is asked for
    }
    this.#openCamera();
    this.#syncLive();
    this.#updateStatus(true);
  }

  /** What the next recording uses: the saved settings under the command line's. */
  get effective(): Settings {
    const s = { ...this.settings, ...this.overrides };
    if (s.container === "ts") s.audio = false;
    return s;
  }

  // ------------------------------------------------------------------ the menu

  #change<K extends keyof Settings>(key: K, value: Settings[K]): void {
    this.settings = { ...this.settings, [key]: value };
    delete this.overrides[key]; // the menu wins over the command line from now on
    try {
      if (!this.settingsFile) throw Object.assign(new Error("the SD card cannot be used"), { code: "ECARD" });
      saveSettings(this.settingsFile, this.settings);
      this.log(`setting ${key} = ${key === "rtspPassword" ? "(secret)" : key === "publishUrl" ? maskUrl(String(value)) : JSON.stringify(value)} saved`);
    } catch (e) {
      // it applies to this run all the same; the card keeps what it had
      this.log(`setting ${key} not saved: ${(e as Error).message}`);
      this.ui.toast(`Not saved: ${(e as { code?: string }).code ?? "error"}`, 4000);
      if (this.session) return;
    }
    if (this.session) this.ui.toast("Saved: applies to the next recording");
    else if (key === "resolution" || key === "fps") this.#reopenCamera();
    else if (key === "codec" || key === "bitrate" || key === "rtsp" || key === "timestamp") this.#stopIdle();
    this.#syncLive();
    this.#updateStatus(true);
  }

  #buildMenu(): void {
    const s = this.effective;
    const fpsList = [...new Set([...FRAME_RATES, s.fps])].sort((a, b) => a - b);
    const segList = [...new Set([...SEGMENTS, s.segmentSeconds])].sort((a, b) => a - b);
    const audio = new Toggle("Audio", s.audio, (v, ui) => {
      if (v && this.effective.container === "ts") {
        container.index = 0;
        this.#change("container", "mp4");
        ui.toast("Audio needs MP4: container set to MP4");
      }
      this.#change("audio", v);
    });
    const container = new Choice("Container", ["MP4", "TS"], s.container === "ts" ? 1 : 0, (i, _v, ui) => {
      const c = i === 1 ? "ts" : "mp4";
      if (c === "ts" && this.effective.audio) {
        audio.value = false;
        this.#change("audio", false);
        ui.toast("TS has no audio track: audio off");
      }
      this.#change("container", c);
    });
    // Publish: push the recording to the media server given with --rtmp or --rtsp-push, or in
    // the settings file (publishUrl); the screen shows it masked (a stream key is a secret).
    const publishTo = new Text("Publish to", s.publishUrl ? maskUrl(s.publishUrl) : "none: --rtmp URL or the settings file");
    const publish = new Toggle("Publish", s.publish && s.publishUrl !== "", (v, ui) => {
      if (v && !this.effective.publishUrl) {
        publish.value = false;
        ui.toast("No server: give --rtmp or --rtsp-push URL, or publishUrl in the settings file", 5000);
        return;
      }
      this.#change("publish", v);
    });
    const rtsp = new Toggle("RTSP live view", s.rtsp, (v) => {
      this.#change("rtsp", v);
      this.#menuItems();
    });
    this.#allItems = [
      new Choice("Resolution", [...RESOLUTIONS], RESOLUTIONS.indexOf(s.resolution), (i) => this.#change("resolution", RESOLUTIONS[i])),
      new Choice("Frame rate", fpsList.map((f) => `${f} fps`), fpsList.indexOf(s.fps), (i) => this.#change("fps", fpsList[i])),
      new Choice("Codec", ["H.264", "H.265"], s.codec === "h264" ? 0 : 1, (i) => this.#change("codec", i === 0 ? "h264" : "h265")),
      new Stepper("Bitrate", {
        min: BITRATES.min,
        max: BITRATES.max,
        step: 1,
        value: Math.min(BITRATES.max, Math.max(BITRATES.min, Math.round(s.bitrate / 1e6))),
        format: (v) => `${v} Mb/s`,
        onChange: (v) => this.#change("bitrate", v * 1_000_000),
      }),
      audio,
      new Choice("Segment length", segList.map(segmentLabel), segList.indexOf(s.segmentSeconds), (i) => this.#change("segmentSeconds", segList[i])),
      new Toggle("Loop recording", s.loop, (v) => this.#change("loop", v)),
      new Toggle("Time stamp", s.timestamp, (v) => this.#change("timestamp", v)),
      container,
      rtsp,
      this.#rtspUrl,
      this.#rtspUser,
      this.#rtspPassword,
      this.#rtspOpen,
      this.#newPassword,
      publish,
      publishTo,
      new Item("Recordings", { opens: this.recordingsScreen }),
      new Item("Storage", { opens: this.storageScreen }),
      new Item("About", { opens: this.aboutScreen }),
    ];
    this.#menuItems();
  }
  #allItems: Widget[] = [];
  /** The menu's rows: the RTSP address and access only while RTSP is on, the user and password only without open access. */
  #menuItems(): void {
    const s = this.effective;
    const hidden = new Set<Widget>(s.rtsp ? (s.rtspOpen ? [this.#rtspUser, this.#rtspPassword, this.#newPassword] : []) : [this.#rtspUrl, this.#rtspUser, this.#rtspPassword, this.#rtspOpen, this.#newPassword]);
    this.menu.setItems(this.#allItems.filter((w) => !hidden.has(w)));
  }

  /** A new random RTSP password, saved; the server takes it now (after the recording, if one runs). */
  newPassword(): void {
    this.#change("rtspPassword", makePassword());
    this.#rtspPassword.detail = this.settings.rtspPassword;
  }

  #fillRecordings(): void {
    let infos: RecordingInfo[];
    try {
      infos = recordingInfos(this.dir, recordingDuration, this.#infoCache);
    } catch (e) {
      this.recordingsScreen.setItems([new Text("Card error", (e as { code?: string }).code ?? "")]);
      this.recordingsScreen.title = "Recordings";
      return;
    }
    const busy = this.session?.currentPath;
    const items: Widget[] = infos.map((r) => {
      const detail = [r.duration !== null ? formatDuration(r.duration) : r.container.toUpperCase(), formatSize(r.size)].join("  ");
      return new Item(formatDate(r.date), { detail, onSelect: (ui) => ui.push(this.#recordingScreen(r, r.path === busy)) });
    });
    this.recordingsScreen.setItems(items.length ? items : [new Text("No recordings yet")]);
    this.recordingsScreen.title = `Recordings (${infos.length})`;
  }

  #recordingScreen(r: RecordingInfo, busy: boolean): Screen {
    const screen = new Screen({ title: formatDate(r.date) });
    screen.setItems([
      new Text("File", r.name),
      new Text("Duration", r.duration !== null ? formatDuration(r.duration) : "-"),
      new Text("Size", formatSize(r.size)),
      new Item("Play", { onSelect: (ui) => this.play(r.path, ui) }),
      new Item("Delete", {
        onSelect: (ui) => {
          if (busy || r.path === this.session?.currentPath) return ui.toast("Being recorded: stop first");
          ui.confirm({
            title: "Delete this recording?",
            message: `${formatDate(r.date)}, ${formatSize(r.size)}`,
            confirm: "Delete",
            danger: true,
            onConfirm: (u) => this.deleteRecording(r.path, u),
          });
        },
      }),
    ]);
    return screen;
  }

  deleteRecording(path: string, ui: Ui): void {
    try {
      remove(path);
      this.#infoCache.delete(path);
      this.log(`deleted ${path}`);
      ui.pop();
      this.#fillRecordings();
      ui.toast("Deleted");
    } catch (e) {
      ui.toast(`Not deleted: ${(e as { code?: string }).code ?? (e as Error).message}`, 4000);
    }
  }

  #fillStorage(): void {
    let sp = { total: 0, available: 0 };
    let error: string | null = null;
    try {
      sp = space(this.dir);
    } catch (e) {
      error = (e as { code?: string }).code ?? "error";
    }
    let files: RecordingInfo[] = [];
    try {
      files = recordingInfos(this.dir, () => null, new Map());
    } catch (e) {
      error ??= (e as { code?: string }).code ?? "error";
    }
    const used = files.reduce((n, f) => n + f.size, 0);
    this.storageScreen.setItems([
      new Text("Free", error ? `card error (${error})` : `${formatSize(sp.available)} (${this.#minutesLeft(sp.available)} min)`),
      new Text("Total", formatSize(sp.total)),
      new Text("Recordings", `${files.length} files, ${formatSize(used)}`),
      new Item("Delete all recordings", {
        onSelect: (ui) => {
          if (files.length === 0) return ui.toast("No recordings");
          ui.confirm({
            title: "Delete all recordings?",
            message: `${files.length} files, ${formatSize(used)}`,
            confirm: "Delete all",
            danger: true,
            onConfirm: (u) => this.deleteAll(u),
          });
        },
      }),
    ]);
  }

  deleteAll(ui: Ui): void {
    const busy = this.session?.currentPath;
    let n = 0;
    let all: string[] = [];
    try {
      all = recordings(this.dir);
    } catch (e) {
      ui.toast(`Card error: ${(e as { code?: string }).code ?? "error"}`, 4000);
    }
    for (const p of all) {
      if (p === busy) continue;
      try {
        removeTree(p);
        n++;
      } catch (e) {
        this.log(`cannot delete ${p}: ${(e as Error).message}`);
      }
    }
    this.#infoCache.clear();
    this.log(`deleted ${n} recordings`);
    this.#fillStorage();
    ui.toast(`Deleted ${n} recordings`);
    this.#updateStatus(true);
  }

  #fillAbout(): void {
    this.aboutScreen.setItems([
      new Text("App", `${app.name} ${app.version}`),
      new Text("Runtime", `qcam ${RUNTIME_VERSION} (${app.platform})`),
      new Text("Engine", ENGINE),
      new Text("Screen", `${this.disp.board} ${this.disp.width}x${this.disp.height}`),
      new Text("Settings", this.settingsFile || "not kept (card error)"),
    ]);
  }

  // ------------------------------------------------------------------ camera

  #openCamera(): void {
    const s = this.effective;
    const { width, height } = RESOLUTION_SIZE[s.resolution];
    // The preview channel keeps the picture's shape and covers the screen ("fill" crops the rest).
    const k = Math.max(this.disp.width / width, this.disp.height / height);
    this.#cam = new Camera({ width, height, format: "nv21", fps: s.fps });
    this.#preview = this.#cam.addChannel({ width: Math.min(width, even(width * k)), height: Math.min(height, even(height * k)), format: "nv21", fps: Math.min(s.fps, 30) });
    this.#showPreview();
    this.#cameraStale = false;
  }
  #showPreview(): void {
    if (this.#preview) this.disp.show(this.#preview, { fit: "fill" });
  }
  #closeCamera(): void {
    this.disp.hide();
    this.#cam?.close();
    this.#cam = null;
    this.#preview = null;
  }
  #reopenCamera(): void {
    if (this.session) {
      this.#cameraStale = true;
      return;
    }
    this.#stopIdle();
    this.#closeCamera();
    this.#openCamera();
    this.#syncLive();
  }

  // ------------------------------------------------------------------ recording

  toggleRecording(): void {
    if (this.session) this.stopRecording(null);
    else this.startRecording();
  }

  startRecording(): void {
    if (this.session || this.player) return;
    if (this.#cameraStale || !this.#cam) this.#reopenCamera();
    const s = this.effective;
    const text = this.text ?? (s.timestamp ? TIMESTAMP : undefined);
    const opts = { ...s, publishUrl: s.publish && s.publishUrl ? s.publishUrl : null, recordSeconds: null, dir: this.dir, loop: s.loop, camera: this.#cam!, log: this.log, ...(text !== undefined ? { text } : {}) };
    let budget;
    try {
      if (s.loop) {
        const p = Session.prepare(opts);
        if (p.failure) return this.#problem(p.failure);
        budget = p.budget;
      } else {
        const need = (s.bitrate + (s.audio ? AUDIO_BITRATE : 0)) / 8; // a second of it, at least
        const free = space(this.dir).available;
        if (free < need) return this.#problem("ENOSPC: the SD card is full (loop recording is off)");
      }
      this.#stopIdle();
      this.session = new Session({ ...opts, ...(this.#server && s.rtsp ? { server: this.#server } : {}) }, budget);
    } catch (e) {
      const err = e as Error & { code?: string };
      // a camera whose link failed to start is reopened for the preview
      this.#reopenCamera();
      return this.#problem(`${err.code ?? "ERROR"}: ${err.message}`);
    }
    this.log(`recording started: ${s.resolution} ${s.fps} fps ${s.codec} ${s.container}${s.audio ? " audio" : ""}${s.rtsp ? " rtsp" : ""}`);
    this.ui.status.remove("msg");
    this.#recordButton.label = "Stop";
    this.#updateStatus(true);
  }

  /** Stop cleanly (the files are finished); `reason` says why when it was not the user. */
  stopRecording(reason: string | null): void {
    const s = this.session;
    if (!s) return;
    this.session = null;
    const r = s.stop();
    this.log(`recording stopped after ${(r.elapsedMs / 1000).toFixed(1)} s: ${r.saved.length} files, ${r.framesIn} pictures taken, ${r.stored} frames stored, ${r.lost} dropped (${r.sourceMissed} more missed by the camera)${reason ? `: ${reason}` : ""}`);
    this.#recordButton.label = "Record";
    if (reason) this.#problem(reason);
    else this.ui.toast(`Saved ${r.saved.length === 1 ? "1 file" : `${r.saved.length} files`}, ${clock(r.elapsedMs)}`);
    if (this.#cameraStale) this.#reopenCamera();
    this.#syncLive();
    this.#updateStatus(true);
  }

  /** A problem on the screen: a toast and a red status field until the next recording. */
  #problem(reason: string): void {
    this.log(`problem: ${reason}`);
    const code = reason.split(":")[0];
    const short = /encoder/i.test(reason) ? "ENCODER ERROR" : /camera|microphone/i.test(reason) ? "CAMERA ERROR"
      : code === "ENOSPC" ? "CARD FULL" : /^E(IO|ROFS|ACCES|NODEV)$/.test(code) ? "CARD ERROR" : "ERROR";
    const title = short === "CARD FULL" ? "Card full: recording stopped"
      : short === "CARD ERROR" ? "Card error: recording stopped"
      : short === "ENCODER ERROR" ? "Encoder error: recording stopped"
      : short === "CAMERA ERROR" ? "Camera error: recording stopped"
      : "Recording stopped";
    const detail = reason.slice(code.length + 1).trim();
    const message = short === "CARD FULL"
      ? `What was recorded is kept. Free some room (Storage) or turn loop recording on. (${detail})`
      : `What was recorded is kept. ${code}: ${detail}`;
    this.ui.alert({ title, message });
    this.ui.status.set("msg", short, { color: RED });
  }

  // ------------------------------------------------------------------ RTSP between recordings

  /** RTSP as the settings say: the server while on, and between recordings its own link. */
  #syncLive(): void {
    const s = this.effective;
    const access = s.rtspOpen ? "open" : s.rtspPassword;
    if (this.#server && !this.session && access !== this.#serverAccess) {
      // open access turned on or off: a server with the other access
      this.#stopIdle();
      this.#server.close();
      this.#server = null;
    }
    if (!s.rtsp) {
      this.#stopIdle();
      if (!this.session && this.#server) {
        this.#server.close();
        this.#server = null;
        this.log("live view off");
      }
      return;
    }
    if (!this.#server) {
      try {
        this.#server = new RtspServer(rtspServerOptions(s));
        this.#serverAccess = access;
      } catch (e) {
        this.log(`live view: ${(e as Error).message}`);
        this.ui.toast(`RTSP: ${(e as { code?: string }).code ?? "error"}`, 4000);
        return;
      }
      this.#rtspUrl.detail = this.#server.url(RTSP_PATH);
      this.log(`live at ${this.#rtspUrl.detail} (${rtspAccess(s)})`); // (never the password)
      if (s.rtspOpen) console.warn("warning: RTSP open access: the live view has no password");
    }
    if (this.session || this.#idle || !this.#cam) return;
    const { width, height } = RESOLUTION_SIZE[s.resolution];
    let enc: Encoder | null = null;
    let overlay: Overlay | null = null;
    try {
      enc = new Encoder({ codec: s.codec, width, height, fps: s.fps, bitrate: s.bitrate, gop: s.fps });
      const stream = this.#server.stream(RTSP_PATH, { video: enc });
      const text = this.text ?? (s.timestamp ? TIMESTAMP : undefined);
      overlay = makeOverlay(text, height);
      const onError = (e: Error & { code: string }) => {
        this.log(`live view stopped: ${e.code}: ${e.message}`);
        this.#stopIdle();
      };
      const pipe = link(this.#cam, enc, [stream], overlay ? { onError, overlay } : { onError });
      this.#idle = { enc, stream, pipe, overlay };
    } catch (e) {
      overlay?.close();
      enc?.close();
      this.log(`live view: ${(e as Error).message}`);
    }
  }
  #stopIdle(): void {
    const idle = this.#idle;
    if (!idle) return;
    this.#idle = null;
    idle.pipe.close();
    idle.stream.close();
    idle.overlay?.close();
    idle.enc.close();
  }

  // ------------------------------------------------------------------ playback

  play(path: string, ui: Ui): void {
    if (this.session) return ui.toast("Stop recording to play");
    if (!path.endsWith(".mp4") && !path.endsWith(".ts")) return ui.toast("Plays MP4 and TS recordings only");
    try {
      this.player = new Player(path, this.disp);
    } catch (e) {
      this.#showPreview();
      return ui.toast(`Cannot play: ${(e as Error).message}`, 4000);
    }
    this.log(`playing ${path}: ${this.player.codec} ${this.player.width}x${this.player.height}, ${this.player.duration.toFixed(1)} s`);
    ui.push(this.playbackScreen);
    this.#updateStatus(true);
  }
  #togglePause(): void {
    const p = this.player;
    if (!p) return;
    p.toggle();
    (this.playbackScreen.items[1] as Item).label = p.paused ? "Play" : "Pause";
    this.log(p.paused ? `paused at ${p.position.toFixed(1)} s` : `playing from ${p.position.toFixed(1)} s`);
  }
  stopPlayback(): void {
    const p = this.player;
    if (!p) return;
    this.player = null;
    this.log(`playback ended at ${p.position.toFixed(1)} s, ${p.decoded} pictures decoded, ${p.shown} shown`);
    p.close();
    (this.playbackScreen.items[1] as Item).label = "Pause";
    this.#showPreview();
    this.#updateStatus(true);
  }

  // ------------------------------------------------------------------ the loop

  #minutesLeft(available: number): number {
    const s = this.effective;
    return Math.floor(available / ((s.bitrate + (s.audio ? AUDIO_BITRATE : 0)) / 8) / 60);
  }

  #updateStatus(force = false): void {
    const now = time.ticksMs();
    const second = Math.floor(now / 500);
    if (!force && second === this.#lastStatus) return;
    this.#lastStatus = second;
    const st = this.ui.status;
    const s = this.effective;
    if (this.player) {
      const p = this.player;
      st.set("rec", `${p.ended ? "END" : p.paused ? "PAUSE" : "PLAY"} ${formatDuration(p.position)} / ${formatDuration(p.duration)}`, { color: GREEN });
    } else if (this.session) {
      st.set("rec", `\u25cf REC ${clock(this.session.elapsedMs)}`, { color: RED });
      const sec = Math.floor(this.session.elapsedMs / 1000);
      if (sec !== this.#lastReport) {
        this.#lastReport = sec;
        console.debug(`  encoded ${this.session.pipeStats().framesEncoded} frames`); // (headless says it too; the bench counts with it)
      }
    }
    else st.set("rec", "READY", { color: 0xffffffff });
    st.set("mode", `${s.resolution} ${s.fps} ${s.codec === "h264" ? "H.264" : "H.265"}`);
    let free: string;
    try {
      free = `${this.#minutesLeft(space(this.dir).available)} min left`;
    } catch {
      free = "card error";
    }
    st.set("free", free, { align: "right" });
    if (this.#server) {
      const n = this.#server.stats().clients.length;
      if (this.#serverAccess === "open") st.set("viewers", `OPEN ${n} live`, { align: "right", color: RED });
      else st.set("viewers", `${n} live`, { align: "right", color: 0xffffffff });
    }
    else st.remove("viewers");
  }

  /** One turn of the app's loop. */
  tick(): void {
    if (this.session?.stopReason) this.stopRecording(this.session.stopReason);
    if (this.player) {
      this.player.tick();
      if (this.player.ended) (this.playbackScreen.items[1] as Item).label = "Replay";
    }
    this.#updateStatus();
    this.ui.update();
    this.#logScreen();
  }

  #lastScreen = "";
  /** At log level debug: the screen on top and its touch targets (tools and tests click them). */
  #logScreen(): void {
    const ui = this.ui, top = ui.top;
    const sig = `${ui.depth}|${top.title}|${ui.dialogOpen}|${top.scroll}|${top.items.length}`;
    if (sig === this.#lastScreen) return;
    this.#lastScreen = sig;
    const targets = ui.targets().map((t) => {
      const m = /^item:(\d+)$/.exec(t.name);
      const r = t.rect;
      return { name: m ? top.items[Number(m[1])].label : t.name, x: r.x + (r.width >> 1), y: r.y + (r.height >> 1) };
    });
    console.debug(`screen ${JSON.stringify(ui.dialogOpen ? "dialog" : top.title || "home")} ${JSON.stringify(targets)}`);
  }

  close(): void {
    this.stopPlayback();
    if (this.session) this.stopRecording(null);
    this.#stopIdle();
    this.#server?.close();
    this.#server = null;
    this.#closeCamera();
  }
}

// Versions for About, put in by `qcam build` (the runtime refuses an image built
// for another engine, so they are the running runtime's); Node tests have none.
declare const QCAM_ENGINE_VERSION: string | undefined;
declare const QCAM_RUNTIME_VERSION: string | undefined;
const RUNTIME_VERSION = typeof QCAM_RUNTIME_VERSION === "string" ? QCAM_RUNTIME_VERSION : "(stub)";
const ENGINE = `quickjs-ng ${typeof QCAM_ENGINE_VERSION === "string" ? QCAM_ENGINE_VERSION : "(stub)"}`;

export function runMenu(cmd: CommandLine): void {
  makeOverlay(cmd.text)?.close(); // a --text the overlay refuses is an option error, before anything starts
  console.log(`${app.name} ${app.version} on ${app.platform}`);
  const disp = new Display();
  let rec: MenuRecorder | null = null;
  const input = new Input({
    onKey: (e) => rec?.ui.handleKey(e) ?? false,
    onTouch: (e) => void rec?.ui.handleTouch(e),
  });
  rec = new MenuRecorder(disp, cmd);
  console.log(`  menu ready on ${disp.board} ${disp.width}x${disp.height}${disp.url ? `: open ${disp.url}` : ""}`);
  while (!app.needExit()) {
    rec.tick();
    time.sleepMs(rec.player ? 5 : 10);
  }
  rec.close();
  console.log("bye");
  input.close();
  disp.close();
}

