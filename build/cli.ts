// qcam — the command line: build, run, start, verify, test, repair, bench,
// and the dev link's board, push, stop, logs, dev (docs/dev-link.md), and fleet
// (boards reporting over MQTT, build/fleet.ts).
// Each command's flags are declared once in COMMANDS; node's util.parseArgs
// (strict) parses them and the same table writes the help. Unknown commands
// and flags, missing values and app arguments given without `--` are refused
// with a line that says what to type instead (exit 2).
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { PARTS } from "../bench/parts.ts";
import { BuildError } from "./log.ts";
import { ROOT, TARGETS, type Target } from "./paths.ts";

/** A command line we do not take; `command` names the command it was for. */
export class UsageError extends BuildError {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

interface Flag {
  type: "string" | "boolean";
  short?: string;
  value?: string; // the value's name in the help: DIR, MB, host|riscv64
  help: string;
}
type Flags = Record<string, Flag>;

interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  rest: string[]; // after `--`
  appArgs: string[]; // start: the recorder's own options, in the order given
}

interface Command {
  name: string;
  args: string; // the positionals, as the synopsis shows them
  summary: string;
  flags: Flags;
  positionals: [number, number];
  rest?: string; // what `-- ...` passes on, when the command passes anything on
  more?: string; // a paragraph after the flags
  run(p: Parsed): Promise<number>;
}

const TARGET: Flag = { type: "string", value: "host|riscv64", help: "which runtime: host (x86-64) or riscv64 (under qemu-riscv64); default host" };
const SDCARD: Flag = { type: "string", value: "DIR", help: "the folder standing in for the SD card (default out/sdcard)" };
const SDCARD_SIZE: Flag = { type: "string", value: "MB", help: "make the SD card that small, in MiB (a card you can fill)" };
const LOG_LEVEL: Flag = { type: "string", value: "LEVEL", help: "the runtime's log level: debug, info, warn, error or silent (default info, or $QCAM_LOG_LEVEL)" };
const BOARD: Flag = { type: "string", value: "BOARD", help: "the sim's panel: maixcam (552x368, default), maixcam-pro (640x480), k230-lcd (800x480), k230-hdmi (1280x720)" };
const DISPLAY_PORT: Flag = { type: "string", value: "PORT", help: "serve the sim screen's page on 127.0.0.1:PORT (default: any free port)" };
const NO_DISPLAY_URL: Flag = { type: "boolean", help: "do not print the sim screen page's URL" };
const ASAN: Flag = { type: "boolean", help: "run on the ASan+UBSan build of the host runtime" };
const NO_TYPECHECK: Flag = { type: "boolean", help: "skip the tsc type-check (TypeScript apps; JavaScript is never type-checked)" };
const HELP: Flag = { type: "boolean", short: "h", help: "this help" };
const SIGN: Flag = { type: "string", value: "KEY", help: "sign the image with this private key (qcam keygen makes one; docs/app-store.md)" };
const LINK: Flag = { type: "string", value: "PATH", help: "where to link the sim board's host end (default out/board.tty): a stable port path across board restarts" };
const PORT: Flag = { type: "string", value: "PATH", help: "the board's serial port (default: the one board present, see `qcam ports`)" };

function targetOf(v: string | boolean | undefined): Target {
  const t = typeof v === "string" ? v : "host";
  if (!TARGETS.includes(t as Target)) throw new UsageError(`unknown target '${t}' (host or riscv64)`);
  return t as Target;
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === "string" ? v : undefined);

// ---- the recorder's own options (qcam start) ---------------------------------------
// Read from app/src/options.ts: the flags its parser switches on, and whether
// each takes a value (asked of the parser itself). The words here only explain them.

const OPTIONS_TS = path.join(ROOT, "app", "src", "options.ts");
/** `example`: a command line the recorder accepts with the option (for options whose value the help only names). */
export const RECORDER_HELP: Record<string, { value?: string; help: string; example?: string[] }> = {
  record: { value: "SECONDS", help: "record this long into one file, then exit" },
  segment: { value: "SECONDS", help: "without --record: the length of each segment, recorded until stopped (default 60)" },
  codec: { value: "h264|h265", help: "the video codec (default h265)" },
  container: { value: "mp4|ts", help: "the file format: MP4 (default) or MPEG-TS (video only)" },
  text: { value: "TEXT", help: "burn this text into the video, bottom left (strftime fields in UTC, {frame}, {fps})" },
  audio: { help: "add a G.711 A-law track from the sim microphone (a tone)" },
  rtsp: { help: "also serve rtsp://127.0.0.1:8554/live (ffplay, VLC, ...), user admin, the password made on the first start (on the board's screen, menu > RTSP, and in the settings file)" },
  "rtsp-open": { help: "--rtsp without a password: anyone on the network can watch (for this run; the menu's Open access keeps it)" },
  resolution: { value: "1080p|720p|480p", help: "the picture size (default 720p)" },
  fps: { value: "N", help: "frames per second, 1..60 (default 30)" },
  bitrate: { value: "MBITS", help: "video megabits per second (default 3)" },
  rtmp: { value: "URL", example: ["--rtmp", "rtmp://media.lan/live/board7"], help: "also push the recording to rtmp://host[:port]/app/stream[?key] (nginx-rtmp, SRS, mediamtx, ...): the same encoder as the card; a server that is down never stops the recording; logged and reported masked" },
  "rtsp-push": { value: "URL", example: ["--rtsp-push", "rtsp://media.lan:8554/board7"], help: "or push it to an RTSP server that takes ANNOUNCE + RECORD (mediamtx, an NVR): rtsp://[user:pass@]host[:port]/path, Digest or Basic; logged and reported masked" },
  mqtt: { value: "URL", example: ["--mqtt", "mqtt://broker.lan"], help: "report to this broker and take its commands (start, stop, apply, status): mqtt://[user:password@]host[:port]; the board stays up between recordings (docs/api/mqtt.md, qcam fleet)" },
  "board-id": { value: "ID", example: ["--mqtt", "mqtt://broker.lan", "--board-id", "board7"], help: "with --mqtt: the board's name in the topics qcam/<ID>/... (default <platform>-board)" },
  headless: { help: "record without the screen's menu (what any other option does too)" },
  menu: { help: "the menu on the screen even with other options (they override the saved settings, unsaved)" },
};

export interface RecorderFlag {
  name: string;
  takesValue: boolean;
  value?: string;
  help?: string;
}

export async function recorderFlags(): Promise<RecorderFlag[]> {
  const source = fs.readFileSync(OPTIONS_TS, "utf8");
  const names = [...source.matchAll(/case\s+"--([a-z][\w-]*)"\s*:/g)].map((m) => m[1]);
  const { parseOptions } = (await import("../app/src/options.ts")) as { parseOptions: (a: readonly string[]) => unknown };
  return [...new Set(names)].map((name) => {
    let takesValue = false;
    try {
      parseOptions([`--${name}`]);
    } catch {
      takesValue = true; // refused on its own: it wants a value
    }
    return { name, takesValue, ...RECORDER_HELP[name] };
  });
}

// ---- the commands ----------------------------------------------------------------

const COMMANDS: Command[] = [
  {
    name: "build",
    args: "<app-dir | file.ts | file.js>",
    summary: "type-check (TypeScript), bundle, compile to bytecode and pack an app image",
    flags: {
      target: TARGET,
      out: { type: "string", short: "o", value: "FILE", help: "write the image there (default out/apps/<id>/<target>/<id>.qcam)" },
      sign: SIGN,
      "no-typecheck": NO_TYPECHECK,
      help: HELP,
    },
    positionals: [1, 1],
    more: "An unchanged app is not rebuilt: the image is reused while it is newer than everything it was made from.",
    async run(p) {
      const { buildApp } = await import("./app-build.ts");
      const built = await buildApp(p.positionals[0], {
        target: targetOf(p.values.target),
        out: str(p.values.out),
        typecheck: !p.values["no-typecheck"],
      });
      if (typeof p.values.sign === "string") {
        const { signImageFile } = await import("./sign.ts");
        const pub = signImageFile(built.image, p.values.sign);
        process.stderr.write(`signed by ${pub}\n`);
      }
      process.stdout.write(`${path.relative(process.cwd(), built.image)}\n`);
      return 0;
    },
  },
  {
    name: "run",
    args: "<app-dir | file.ts | file.js | image>",
    summary: "build the app if it is source, then run it on the sim runtime (or, with --port, on a board)",
    flags: {
      port: { ...PORT, help: "run it on the board on this serial port instead: push, run, show its console until it ends" },
      target: TARGET,
      asan: ASAN,
      sdcard: SDCARD,
      "sdcard-size": SDCARD_SIZE,
      "log-level": LOG_LEVEL,
      board: BOARD,
      "display-port": DISPLAY_PORT,
      "no-display-url": NO_DISPLAY_URL,
      "no-typecheck": NO_TYPECHECK,
      help: HELP,
    },
    positionals: [1, 1],
    rest: "app args",
    more:
      "An image is recognised by its magic, whatever its name. The app's exit code and output pass\n" +
      "through; stack traces come back with TypeScript file:line. Arguments for the app go after `--`.",
    async run(p) {
      if (p.values.port !== undefined) {
        const { runOnBoard } = await import("./devlink/commands.ts");
        return runOnBoard(p.positionals[0], { port: str(p.values.port), typecheck: !p.values["no-typecheck"] });
      }
      const { runApp } = await import("./run.ts");
      return runApp(p.positionals[0], { ...runtimeOptions(p), typecheck: !p.values["no-typecheck"], args: p.rest });
    },
  },
  {
    name: "start",
    args: "",
    summary: "start the sim board running the recorder app (app/), menu-driven: what `npm start` runs",
    flags: { target: TARGET, asan: ASAN, sdcard: SDCARD, "sdcard-size": SDCARD_SIZE, "log-level": LOG_LEVEL, board: BOARD, "display-port": DISPLAY_PORT, "no-display-url": NO_DISPLAY_URL, link: LINK, help: HELP },
    positionals: [0, 0],
    rest: "recorder args",
    more:
      "With no recorder option it is the sim board at power-on (qcam board) with the recorder flashed onto its\n" +
      "card as the autostart app: menu-driven on the board's screen (open the page whose address it prints), the\n" +
      "dev link up on out/board.tty (qcam logs, qcam ls /video, qcam get, qcam dev app). Ctrl-C stops the board;\n" +
      "a recording under way is finished first.\n" +
      "Any recorder option runs the recorder once on the sim runtime instead (no dev link): headless, or with\n" +
      "--menu menu-driven; options override the settings saved on the card for that run.\n" +
      "The recorder's own options may come before or after `--` (npm start -- --record 5 --sdcard-size 12).",
    async run(p) {
      const args = [...p.appArgs, ...p.rest];
      const opts = runtimeOptions(p);
      if (args.length) {
        const { runApp } = await import("./run.ts");
        return runApp(path.join(ROOT, "app"), { ...opts, args });
      }
      const { flash } = await import("./flash.ts");
      const { board } = await import("./devlink/commands.ts");
      // What this checkout holds is what the board runs, even over a newer version flashed by hand.
      const code = await flash(path.join(ROOT, "app"), { sdcard: opts.sdcard, target: opts.target, autostart: true, allowDowngrade: true, typecheck: true });
      if (code !== 0) return code;
      return board(boardOptions(p));
    },
  },
  {
    name: "verify",
    args: "<image>",
    summary: "check an image as the runtime does before it runs one (magic, digest, engine, target, ABI)",
    flags: { target: TARGET, help: HELP },
    positionals: [1, 1],
    async run(p) {
      const { runImage } = await import("./run.ts");
      const { ensureFlavor } = await import("./app-build.ts");
      const target = targetOf(p.values.target);
      ensureFlavor(target);
      return runImage(target, p.positionals[0], { runtimeArgs: ["--verify"] });
    },
  },
  {
    name: "test",
    args: "[app-dir]",
    summary: "run the app's own test/**/*.test.ts with mocha, in Node, against the qcam:* stubs",
    flags: { "no-typecheck": { type: "boolean", help: "skip type-checking the tests" }, help: HELP },
    positionals: [0, 1],
    rest: "mocha options",
    async run(p) {
      const { runAppTests } = await import("./testing/app-tests.ts");
      return runAppTests([...p.positionals, ...(p.values["no-typecheck"] ? ["--no-typecheck"] : []), "--", ...p.rest]);
    },
  },
  {
    name: "repair",
    args: "<file.mp4...>",
    summary: "make recordings cut short playable (exit 1 if one cannot be mended)",
    flags: { "no-finalize": { type: "boolean", help: "mend the fragments only; leave the file fragmented" }, help: HELP },
    positionals: [0, Infinity],
    rest: "more files",
    async run(p) {
      // qcam:mp4's repair (host-modules/mp4/mp4_repair.c) on host files, by the
      // host build's qcam-repair tool (runtime/repair.c).
      const files = [...p.positionals, ...p.rest];
      if (files.length === 0) throw new UsageError("needs at least one file (qcam repair FILE.mp4...)", "repair");
      const { ensureFlavor } = await import("./app-build.ts");
      const { buildDir } = await import("./paths.ts");
      const { spawnSync } = await import("node:child_process");
      ensureFlavor("host");
      const tool = path.join(buildDir("host"), "qcam-repair");
      const r = spawnSync(tool, [...(p.values["no-finalize"] ? ["--no-finalize"] : []), "--", ...files], { stdio: "inherit" });
      if (r.error) throw new BuildError(`cannot run ${tool}: ${r.error.message}`);
      return r.status ?? 1;
    },
  },
  {
    name: "flash",
    args: "<app-dir | file.ts | image>",
    summary: "install an app into a card's app store (a new version runs on trial, docs/app-store.md)",
    flags: {
      sdcard: { type: "string", value: "DIR", help: "the card: a mounted SD card's folder, or the sim's (default out/sdcard)" },
      port: { ...PORT, help: "flash the board on this serial port over the dev link instead (resumable; `qcam board` is the sim)" },
      autostart: { type: "boolean", help: "make it the app the board starts at power-on" },
      "allow-downgrade": { type: "boolean", help: "accept a lower version than the one installed" },
      sign: SIGN,
      target: TARGET,
      "no-typecheck": NO_TYPECHECK,
      help: HELP,
    },
    positionals: [1, 1],
    more:
      "Source is built first (for the board's target with --port). The runtime's own store code writes\n" +
      "the card: the inactive slot, verified,\n" +
      "then the state record. Refusals (wrong target or ABI, no space for twice the image, a downgrade,\n" +
      "an unsigned image or an unknown key on a card that holds keys) change nothing and exit with their own code.",
    async run(p) {
      const { flash } = await import("./flash.ts");
      return flash(p.positionals[0], {
        sdcard: str(p.values.sdcard),
        port: str(p.values.port),
        target: targetOf(p.values.target),
        autostart: p.values.autostart === true,
        allowDowngrade: p.values["allow-downgrade"] === true,
        typecheck: !p.values["no-typecheck"],
        sign: str(p.values.sign),
      });
    },
  },
  {
    name: "apps",
    args: "",
    summary: "list the apps installed on a card: good and on-trial versions, tries left, the last rollback",
    flags: {
      sdcard: { type: "string", value: "DIR", help: "the card's folder (default out/sdcard)" },
      json: { type: "boolean", help: "one JSON object a line, as the runtime prints them" },
      port: { ...PORT, help: "ask the board on this serial port over the dev link instead" },
      target: TARGET,
      help: HELP,
    },
    positionals: [0, 0],
    async run(p) {
      const { listApps, storePort } = await import("./flash.ts");
      if (typeof p.values.port === "string") return storePort("apps", undefined, { port: p.values.port, json: p.values.json === true });
      return listApps({ sdcard: str(p.values.sdcard), target: targetOf(p.values.target), json: p.values.json === true });
    },
  },
  {
    name: "rollback",
    args: "<id>",
    summary: "go back to an app's other version: drop the one on trial, or return to the previous good one",
    flags: { sdcard: { type: "string", value: "DIR", help: "the card's folder (default out/sdcard)" }, port: { ...PORT, help: "on the board on this serial port, over the dev link" }, target: TARGET, help: HELP },
    positionals: [1, 1],
    more: "One atomic write of the app's state record; the previous version must still verify.",
    async run(p) {
      const { storeCommand, storePort } = await import("./flash.ts");
      if (typeof p.values.port === "string") return storePort("rollback", p.positionals[0], { port: p.values.port });
      return storeCommand("rollback", p.positionals[0], { sdcard: str(p.values.sdcard), target: targetOf(p.values.target) });
    },
  },
  {
    name: "remove",
    args: "<id>",
    summary: "remove an app from a card's app store (its data folder stays)",
    flags: { sdcard: { type: "string", value: "DIR", help: "the card's folder (default out/sdcard)" }, port: { ...PORT, help: "on the board on this serial port, over the dev link" }, target: TARGET, help: HELP },
    positionals: [1, 1],
    async run(p) {
      const { storeCommand, storePort } = await import("./flash.ts");
      if (typeof p.values.port === "string") return storePort("remove", p.positionals[0], { port: p.values.port });
      return storeCommand("remove", p.positionals[0], { sdcard: str(p.values.sdcard), target: targetOf(p.values.target) });
    },
  },
  {
    name: "keygen",
    args: "",
    summary: "make an Ed25519 signing key pair: FILE (private, mode 0600) and FILE.pub",
    flags: { out: { type: "string", short: "o", value: "FILE", help: "the private key's file (default ~/.qcam/signing.key); never overwritten" }, help: HELP },
    positionals: [0, 0],
    more: "Prints the public key. Keep the private key out of any repository; give boards the .pub (qcam trust).",
    async run(p) {
      const { keygen } = await import("./sign.ts");
      const os = await import("node:os");
      const k = keygen(str(p.values.out) ?? path.join(os.homedir(), ".qcam", "signing.key"));
      process.stderr.write(`private key: ${k.file} (mode 0600)\npublic key:  ${k.pubFile}\n`);
      process.stdout.write(`${k.publicKey}\n`);
      return 0;
    },
  },
  {
    name: "trust",
    args: "<KEY.pub | hex>",
    summary: "add a public key to a card: from then on it installs and runs only images signed by its keys",
    flags: { sdcard: { type: "string", value: "DIR", help: "the card's folder (default out/sdcard)" }, target: TARGET, help: HELP },
    positionals: [1, 1],
    async run(p) {
      const { readPublicKey } = await import("./sign.ts");
      const { storeCommand } = await import("./flash.ts");
      return storeCommand("trust", readPublicKey(p.positionals[0]), { sdcard: str(p.values.sdcard), target: targetOf(p.values.target) });
    },
  },
  {
    name: "package",
    args: "<app-dir | file.ts | image>",
    summary: "make a board package: a MaixCAM app zip, or a K230 SD-card overlay (docs/boards.md)",
    flags: {
      board: { type: "string", value: "maixcam|k230", help: "which board's package (required)" },
      out: { type: "string", short: "o", value: "PATH", help: "where to write it (default out/package/<id>-<version>-<board>[.zip])" },
      "no-typecheck": NO_TYPECHECK,
      help: HELP,
    },
    positionals: [1, 1],
    more:
      "Source is built for riscv64. maixcam: a zip of <id>/ with app.yaml, main.sh, icon.png, the runtime and\n" +
      "the image, for MaixCAM's app store. k230: sdcard/ (the runtime and a card app store with the app\n" +
      "installed, autostart) and rootfs/etc/init.d/S99qcam (starts qcam-runtime --boot at power-on).",
    async run(p) {
      const board = str(p.values.board);
      if (board !== "maixcam" && board !== "k230") throw new UsageError("qcam package needs --board maixcam or --board k230", "package");
      const { packageApp } = await import("./package.ts");
      const out = await packageApp(p.positionals[0], { board, out: str(p.values.out), typecheck: !p.values["no-typecheck"] });
      process.stdout.write(`${path.relative(process.cwd(), out) || out}\n`);
      return 0;
    },
  },
  {
    name: "board",
    args: "",
    summary: "start a sim board: the runtime serving the dev link on a fresh pseudo-terminal",
    flags: {
      target: TARGET,
      asan: ASAN,
      sdcard: SDCARD,
      baud: { type: "string", value: "N", help: "pace the line to N baud (8N1), like a USB-UART bridge; default: pty speed, like USB CDC" },
      "skip-autostart": { type: "boolean", help: "the key held at power-on: start no app (safe mode), only serve the link" },
      link: LINK,
      board: BOARD,
      "display-port": DISPLAY_PORT,
      "no-display-url": NO_DISPLAY_URL,
      "log-level": LOG_LEVEL,
      "sdcard-size": SDCARD_SIZE,
      help: HELP,
    },
    positionals: [0, 0],
    more:
      "Starts like a board at power-on: the card's autostart app runs through trial boot (qcam-runtime\n" +
      "--boot), the dev link up throughout; with nothing to run it stays in safe mode, serving the link.\n" +
      "Prints the host end's path (also linked as out/board.tty, or --link PATH) and runs until Ctrl-C. Every dev-link\n" +
      "command talks to it as to a real board's serial port (docs/dev-link.md).",
    async run(p) {
      const { board } = await import("./devlink/commands.ts");
      return board({ ...boardOptions(p), baud: str(p.values.baud), skipAutostart: p.values["skip-autostart"] === true });
    },
  },
  {
    name: "push",
    args: "<app-dir | file.ts | file.js | image>",
    summary: "build the app for the board if it is source and push its image over the dev link",
    flags: { port: PORT, "no-typecheck": NO_TYPECHECK, help: HELP },
    positionals: [1, 1],
    more: "An image the board already holds (same SHA-256) is not sent again. The running app is not touched.",
    async run(p) {
      const { push } = await import("./devlink/commands.ts");
      return push(p.positionals[0], { port: str(p.values.port), typecheck: !p.values["no-typecheck"] });
    },
  },
  {
    name: "stop",
    args: "",
    summary: "stop the app running on the board (a busy loop too: interrupted within 100 ms)",
    flags: { port: PORT, help: HELP },
    positionals: [0, 0],
    async run(p) {
      const { stop } = await import("./devlink/commands.ts");
      return stop({ port: str(p.values.port) });
    },
  },
  {
    name: "logs",
    args: "",
    summary: "show the board's console as it comes, stack traces mapped to TypeScript (Ctrl-C ends)",
    flags: { port: PORT, help: HELP },
    positionals: [0, 0],
    async run(p) {
      const { logs } = await import("./devlink/commands.ts");
      return logs({ port: str(p.values.port) });
    },
  },
  {
    name: "ports",
    args: "",
    summary: "list serial ports that may be boards, marking the boards (* : a known board, or one that answered)",
    flags: { help: HELP },
    positionals: [0, 0],
    more: "Looks at /dev/ttyACM*, /dev/ttyUSB* (K230 CanMV: USB 1209:abd1) and the sim board's out/board.tty, and says hello on each.",
    async run() {
      const { ports } = await import("./devlink/tools.ts");
      return ports();
    },
  },
  {
    name: "ls",
    args: "[board-path]",
    summary: "list a folder on the board's storage (default /, the SD card)",
    flags: { port: PORT, long: { type: "boolean", short: "l", help: "type, size and time too" }, help: HELP },
    positionals: [0, 1],
    async run(p) {
      const { lsCmd } = await import("./devlink/tools.ts");
      return lsCmd(p.positionals[0], { port: str(p.values.port), long: p.values.long === true });
    },
  },
  {
    name: "stat",
    args: "<board-path>",
    summary: "a file's or folder's type, size, time (and a file's SHA-256) on the board",
    flags: { port: PORT, help: HELP },
    positionals: [1, 1],
    async run(p) {
      const { statCmd } = await import("./devlink/tools.ts");
      return statCmd(p.positionals[0], { port: str(p.values.port) });
    },
  },
  {
    name: "get",
    args: "<board-path> [local-path]",
    summary: "copy a file from the board; an interrupted get goes on where it stopped",
    flags: { port: PORT, help: HELP },
    positionals: [1, 2],
    more: "Written to LOCAL.part first and renamed when its SHA-256 matches the board's. Shows progress for long transfers.",
    async run(p) {
      const { getCmd } = await import("./devlink/tools.ts");
      return getCmd(p.positionals[0], p.positionals[1], { port: str(p.values.port) });
    },
  },
  {
    name: "put",
    args: "<local-file> [board-path]",
    summary: "copy a file to the board (default: its name in /); an interrupted put goes on where it stopped",
    flags: { port: PORT, help: HELP },
    positionals: [1, 2],
    more:
      "The board stages the bytes and puts the file in place only when its SHA-256 matches; a file the\n" +
      "board already holds is not sent again. Paths are on the board's storage (the SD card); a path\n" +
      "leading out of it is refused (status outside). Shows progress for long transfers.",
    async run(p) {
      const { putCmd } = await import("./devlink/tools.ts");
      return putCmd(p.positionals[0], p.positionals[1], { port: str(p.values.port) });
    },
  },
  {
    name: "rm",
    args: "<board-path...>",
    summary: "remove files or empty folders on the board",
    flags: { port: PORT, help: HELP },
    positionals: [1, 64],
    async run(p) {
      const { rmCmd } = await import("./devlink/tools.ts");
      return rmCmd(p.positionals, { port: str(p.values.port) });
    },
  },
  {
    name: "mkdir",
    args: "<board-path...>",
    summary: "make folders on the board (with their parents)",
    flags: { port: PORT, help: HELP },
    positionals: [1, 64],
    async run(p) {
      const { mkdirCmd } = await import("./devlink/tools.ts");
      return mkdirCmd(p.positionals, { port: str(p.values.port) });
    },
  },
  {
    name: "repl",
    args: "",
    summary: "evaluate expressions in the app running on the board (on its loop), print results or errors",
    flags: { port: PORT, eval: { type: "string", short: "e", value: "EXPR", help: "evaluate EXPR, print its value and exit (status 1 if it threw)" }, help: HELP },
    positionals: [0, 0],
    more:
      "Expressions run in the app's global scope: the app shares state with `globalThis.name = ...`.\n" +
      "Errors show their stack mapped to TypeScript when the image was pushed from here.",
    async run(p) {
      const { repl } = await import("./devlink/tools.ts");
      const e = str(p.values.eval);
      return repl({ port: str(p.values.port), eval: e !== undefined ? [e] : undefined });
    },
  },
  {
    name: "dev",
    args: "[app-dir | file.ts | file.js]",
    summary: "build, push and run the app on the board, then rebuild and reload it on every save",
    flags: { port: PORT, "no-typecheck": NO_TYPECHECK, help: HELP },
    positionals: [0, 1],
    more:
      "Default app: app/ (the recorder). Shows the board's console with stack traces mapped to TypeScript.\n" +
      "A build or type error is shown with file:line and the board keeps running the last good app.\n" +
      "On a terminal, a line typed is evaluated in the running app (as `qcam repl` does; the port is qcam dev's).",
    async run(p) {
      const { dev } = await import("./devlink/commands.ts");
      return dev(p.positionals[0] ?? path.join(ROOT, "app"), { port: str(p.values.port), typecheck: !p.values["no-typecheck"] });
    },
  },
  {
    name: "fleet",
    args: "[send <board-id|all> start|stop|apply|status ['<json>']]",
    summary: "list the boards a broker knows (recorders started with --mqtt) or send them a command",
    flags: {
      broker: { type: "string", value: "URL", help: "the MQTT broker: mqtt://[user:password@]host[:port] (required)" },
      user: { type: "string", value: "U", help: "the broker account's user name" },
      password: { type: "string", value: "P", help: "its password" },
      timeout: { type: "string", value: "SECONDS", help: "how long to wait for statuses and answers (default 5)" },
      help: HELP,
    },
    positionals: [0, 4],
    more:
      "Without words it prints one line per board from the statuses the boards keep on the broker (retained): online, recording, segment, fps, drops, live viewers, publish state, free space. " +
      "`send` publishes the command to qcam/<id>/cmd/<name> (to every online board with `all`) and prints each answer; a board that does not answer in time is named and the exit code is 1. " +
      "apply takes settings as JSON, e.g. '{\"fps\": 15, \"publish\": null}' (docs/api/mqtt.md).",
    async run(p) {
      const broker = str(p.values.broker);
      if (!broker) throw new UsageError("qcam fleet needs --broker mqtt://host[:port]", "fleet");
      const t = str(p.values.timeout);
      const timeout = t === undefined ? 5 : Number(t);
      if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout needs seconds > 0, not ${t}`, "fleet");
      const { runFleet } = await import("./fleet.ts");
      return runFleet({ broker, user: str(p.values.user), password: str(p.values.password), timeoutMs: timeout * 1000, words: p.positionals });
    },
  },
  {
    name: "bench",
    args: "",
    summary: "run the benchmarks (what `npm run bench` runs) and write docs/benchmarks.md",
    flags: {
      runs: { type: "string", value: "N", help: "runs per measurement, each cell is their median (default 20)" },
      "no-docs": { type: "boolean", help: "print the table only; leave docs/benchmarks.md alone" },
      only: { type: "string", value: "PART[,PART]", help: `run only these parts (${PARTS.join(", ")}) and only print` },
      help: HELP,
    },
    positionals: [0, 0],
    async run(p) {
      const { runBenchmarks } = await import("../bench/run.ts");
      const args: string[] = [];
      if (p.values.runs !== undefined) args.push("--runs", String(p.values.runs));
      if (p.values["no-docs"]) args.push("--no-docs");
      if (p.values.only !== undefined) args.push("--only", String(p.values.only));
      return runBenchmarks(args);
    },
  },
];

function runtimeOptions(p: Parsed) {
  return {
    target: targetOf(p.values.target),
    asan: p.values.asan === true,
    sdcard: str(p.values.sdcard),
    sdcardSize: str(p.values["sdcard-size"]),
    logLevel: str(p.values["log-level"]),
    runtimeArgs: [
      ...(p.values.board !== undefined ? ["--board", String(p.values.board)] : []),
      ...(p.values["display-port"] !== undefined ? ["--display-port", String(p.values["display-port"])] : []),
      ...(p.values["no-display-url"] ? ["--no-display-url"] : []),
    ],
  };
}

/** A sim board's options (qcam board, qcam start): the runtime's flags for the apps it runs, and where its line is. */
function boardOptions(p: Parsed) {
  const o = runtimeOptions(p);
  const runtimeArgs = [
    ...o.runtimeArgs,
    ...(o.logLevel !== undefined ? ["--log-level", o.logLevel] : []),
    ...(o.sdcardSize !== undefined ? ["--sdcard-size", o.sdcardSize] : []),
  ];
  return { target: o.target, asan: o.asan, sdcard: o.sdcard, link: str(p.values.link), runtimeArgs };
}

// ---- help ---------------------------------------------------------------------------

function flagWords(name: string, f: { short?: string; value?: string; type?: string; takesValue?: boolean }): string {
  const long = `--${name}${f.value ? ` ${f.value}` : f.type === "string" || f.takesValue ? " VALUE" : ""}`;
  return f.short ? `-${f.short}, ${long}` : long;
}

function synopsis(c: Command, extra: RecorderFlag[] = []): string {
  const flags = Object.entries(c.flags)
    .filter(([n]) => n !== "help")
    .map(([n, f]) => `[${flagWords(n, { ...f, short: undefined })}]`);
  const own = extra.map((r) => `[${flagWords(r.name, r)}]`);
  return ["qcam", c.name, c.args, ...flags, ...own, c.rest ? `[-- ${c.rest}]` : ""].filter(Boolean).join(" ");
}

function table(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([a]) => a.length)) + 2;
  return rows.map(([a, b]) => `  ${a.padEnd(w)}${b}`).join("\n");
}

async function commandHelp(c: Command): Promise<string> {
  const extra = c.name === "start" ? await recorderFlags() : [];
  const parts = [`usage: ${synopsis(c, extra)}`, "", `${c.summary}.`, "", "options:", table(Object.entries(c.flags).map(([n, f]) => [flagWords(n, f), f.help]))];
  if (extra.length)
    parts.push(
      "",
      `the recorder's options (${path.relative(process.cwd(), OPTIONS_TS) || OPTIONS_TS}):`,
      table(extra.map((r) => [flagWords(r.name, r), r.help ?? ""])),
    );
  if (c.more) parts.push("", c.more);
  return parts.join("\n");
}

export async function usage(): Promise<string> {
  const extra = await recorderFlags();
  return [
    "usage: qcam <command> [options]        (qcam <command> --help for one command)",
    "",
    "commands:",
    table(COMMANDS.map((c) => [c.name, c.summary])),
    "",
    ...COMMANDS.map((c) => `  ${synopsis(c, c.name === "start" ? extra : [])}`),
    "",
    "npm start -- ARGS runs qcam start ARGS; npm run bench -- ARGS runs qcam bench ARGS.",
  ].join("\n");
}

// ---- parsing ------------------------------------------------------------------------

/** Edit distance (a swap of two neighbours counts as one edit), for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1); // two letters swapped: one edit
    }
  return d[a.length][b.length];
}

function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

function parseCommand(c: Command, argv: string[], extra: RecorderFlag[]): Parsed {
  const sep = argv.indexOf("--");
  const ours = sep >= 0 ? argv.slice(0, sep) : argv;
  const rest = sep >= 0 ? argv.slice(sep + 1) : [];
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [n, f] of Object.entries(c.flags)) options[n] = f.short ? { type: f.type, short: f.short } : { type: f.type };
  const recorder = new Set<string>();
  for (const r of extra)
    if (!(r.name in options)) {
      options[r.name] = { type: r.takesValue ? "string" : "boolean" };
      recorder.add(r.name);
    }
  const known = Object.keys(options);
  const valueName = (n: string) => c.flags[n]?.value ?? extra.find((r) => r.name === n)?.value ?? "a value";
  const fail = (msg: string): never => {
    throw new UsageError(`${msg}\n  (qcam ${c.name} --help lists its options)`, c.name);
  };
  // Where app arguments were given without `--`: the command line that was meant.
  const meant = (from: number) =>
    ["qcam", c.name, ...ours.slice(0, from), "--", ...ours.slice(from), ...rest].map(quote).join(" ");

  // A first, lenient pass finds what is wrong and says it in our words; the
  // strict pass below is the parse itself.
  const lenient = parseArgs({ args: ours, options, strict: false, allowPositionals: true, tokens: true });
  let positionalCount = 0;
  for (const t of lenient.tokens) {
    if (t.kind === "option") {
      const spec = options[t.name];
      if (!spec) {
        const guess = nearest(t.name, known.filter((n) => n !== "help"));
        let msg = `unknown option '${t.rawName}'`;
        if (guess) msg += ` (did you mean '--${guess}'?)`;
        if (c.rest) msg += `\n  ${c.rest} go after '--': ${meant(t.index)}`;
        fail(msg);
      } else if (spec.type === "string" && t.value === undefined) {
        fail(`${t.rawName} needs a value (${valueName(t.name)})`);
      } else if (spec.type === "string" && !t.inlineValue && t.value !== undefined && t.value.startsWith("-")) {
        // parseArgs (strict) will not take "-x" as a value: the flag was probably left without one.
        const eq = t.rawName.startsWith("--") ? `${t.rawName}=${t.value}` : `--${t.name}=${t.value}`;
        fail(`${t.rawName} needs a value (${valueName(t.name)}); a value that starts with '-' is written ${eq}`);
      } else if (spec.type === "boolean" && t.value !== undefined) {
        fail(`${t.rawName} takes no value (got '${t.value}')`);
      }
    } else if (t.kind === "positional") {
      positionalCount++;
      if (positionalCount > c.positionals[1]) {
        let msg = `unexpected argument '${t.value}'`;
        if (c.rest) msg += `\n  ${c.rest} go after '--': ${meant(t.index)}`;
        fail(msg);
      }
    }
  }
  let strict;
  try {
    strict = parseArgs({ args: ours, options, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    fail(`${(e as Error).message.split("\n")[0]}`);
    throw e;
  }
  if (strict.values.help) return { values: strict.values, positionals: [], rest: [], appArgs: [] };
  if (strict.positionals.length < c.positionals[0])
    fail(`missing ${c.args || "argument"}\n  usage: ${synopsis(c, extra)}`);
  const appArgs: string[] = [];
  for (const t of strict.tokens)
    if (t.kind === "option" && recorder.has(t.name)) appArgs.push(`--${t.name}`, ...(t.value !== undefined ? [t.value] : []));
  const values: Parsed["values"] = {};
  for (const [k, v] of Object.entries(strict.values)) if (!recorder.has(k)) values[k] = v as string | boolean;
  return { values, positionals: strict.positionals, rest, appArgs };
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const which = name === "help" ? args[0] : undefined;
    const c = which === undefined ? undefined : COMMANDS.find((x) => x.name === which);
    if (which !== undefined && !c) return main([which, "--help"]);
    process.stdout.write(`${c ? await commandHelp(c) : await usage()}\n`);
    return 0;
  }
  const c = COMMANDS.find((x) => x.name === name);
  if (!c) {
    const guess = nearest(name, COMMANDS.map((x) => x.name));
    const what = name.startsWith("-") ? `unknown option '${name}' before the command` : `unknown command '${name}'`;
    throw new UsageError(
      `${what}${guess ? ` — did you mean '${guess}'?` : ""}\n  commands: ${COMMANDS.map((x) => x.name).join(", ")} (qcam --help)`,
    );
  }
  const extra = c.name === "start" ? await recorderFlags() : [];
  const p = parseCommand(c, args, extra);
  if (p.values.help) {
    process.stdout.write(`${await commandHelp(c)}\n`);
    return 0;
  }
  return c.run(p);
}

/** bin/qcam.mjs: run the command line and exit with its code; a refused command line or a failed build is one message and exit 2, no stack. */
export function cli(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof UsageError && e.command) process.stderr.write(`qcam ${e.command}: ${e.message}\n`);
      else if (e instanceof BuildError) process.stderr.write(`qcam: ${e.message}\n`);
      else throw e;
      process.exit(2);
    },
  );
}
