// Serial ports for the dev link: which there are (qcam ports), which one a
// command uses when no --port is given, and the lock that keeps two qcam
// commands from interleaving frames on one port.
//
// The lock is the UUCP-style lock file serial tools (minicom, picocom, cu)
// share: /run/lock/LCK..<device> holding the holder's pid as ten ASCII
// digits, created with O_EXCL, so it names its holder and a lock whose
// holder is gone is taken over. (Node has no flock(2) or TIOCEXCL; a lock
// file needs neither and also keeps those other tools off the port.)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BuildError } from "../log.ts";
import { OUT } from "../paths.ts";

/** The host end of the sim board's line, while `qcam board` runs. */
export const BOARD_LINK = path.join(OUT, "board.tty");

/** USB boards we know by VID:PID. */
export const KNOWN_USB: Record<string, string> = { "1209:abd1": "K230 (CanMV)" };

export class PortBusyError extends BuildError {}

function lockDir(): string {
  for (const d of [process.env.QCAM_LOCK_DIR, "/run/lock", "/var/lock"]) {
    if (!d) continue;
    try {
      fs.accessSync(d, fs.constants.W_OK);
      return d;
    } catch {
      // not there or not ours to write
    }
  }
  return os.tmpdir();
}

/** The lock file of a port. */
export function lockPath(port: string): string {
  let real = port;
  try {
    real = fs.realpathSync(port);
  } catch {
    // a port that is gone: its own name
  }
  return path.join(lockDir(), `LCK..${real.replace(/^\/dev\//, "").replace(/\//g, "_")}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function describePid(pid: number): string {
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const shown = cmd.map((a) => (a.includes("/") && !a.startsWith("-") ? path.basename(a) : a)).join(" ");
    return `pid ${pid}${shown ? ` (${shown.length > 80 ? `${shown.slice(0, 77)}...` : shown})` : ""}`;
  } catch {
    return `pid ${pid}`;
  }
}

/** Who holds the port's lock, or undefined. */
export function lockHolder(port: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(lockPath(port), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

const held = new Map<string, string>(); // lock file -> port, held by this process
let exitHook = false;

function releaseAll(): void {
  for (const file of held.keys()) fs.rmSync(file, { force: true });
  held.clear();
}

/** Take the port's lock for this process; throws PortBusyError naming the holder. */
export function lockPort(port: string): () => void {
  const file = lockPath(port);
  if (held.has(file)) throw new PortBusyError(`${port} is in use by this process already`);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(file, "wx", 0o644);
      fs.writeSync(fd, `${String(process.pid).padStart(10)}\n`);
      fs.closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new BuildError(`cannot lock ${port} (${file}): ${(e as Error).message}`);
      const holder = lockHolder(port);
      if (holder !== undefined || attempt > 0) {
        throw new PortBusyError(`${port} is in use by ${holder !== undefined ? describePid(holder) : "another program"} (lock ${file}); stop it first`);
      }
      fs.rmSync(file, { force: true }); // its holder is gone: a stale lock
    }
  }
  if (!exitHook) {
    exitHook = true;
    process.once("exit", releaseAll);
  }
  held.set(file, port);
  return () => {
    if (held.delete(file)) fs.rmSync(file, { force: true });
  };
}

export interface PortInfo {
  path: string;
  /** What it is, when we can tell: "sim board", "K230 (CanMV)", a USB product name. */
  kind?: string;
  usb?: string; // VID:PID
  known: boolean; // a board we know
  busy?: string; // who holds its lock
}

function readSys(dir: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, file), "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The USB device a tty hangs off (sysfs), if any. */
function usbOf(dev: string): { usb: string; product?: string } | undefined {
  let dir: string;
  try {
    dir = fs.realpathSync(`/sys/class/tty/${path.basename(dev)}/device`);
  } catch {
    return undefined;
  }
  for (; dir !== "/" && dir.startsWith("/sys"); dir = path.dirname(dir)) {
    const vid = readSys(dir, "idVendor");
    const pid = readSys(dir, "idProduct");
    if (vid && pid) return { usb: `${vid}:${pid}`.toLowerCase(), product: readSys(dir, "product") };
  }
  return undefined;
}

/** Serial ports that may be boards: /dev/ttyACM*, /dev/ttyUSB*, and the sim board's line. */
export function listPorts(): PortInfo[] {
  const out: PortInfo[] = [];
  let devs: string[] = [];
  try {
    devs = fs.readdirSync("/dev").filter((n) => /^tty(ACM|USB)\d+$/.test(n)).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  } catch {
    // no /dev
  }
  for (const n of devs) {
    const p = `/dev/${n}`;
    const u = usbOf(p);
    const known = u ? KNOWN_USB[u.usb] : undefined;
    out.push({ path: p, usb: u?.usb, kind: known ?? u?.product, known: known !== undefined });
  }
  if (fs.existsSync(BOARD_LINK)) out.push({ path: BOARD_LINK, kind: "sim board (qcam board)", known: true });
  for (const p of out) {
    const holder = lockHolder(p.path);
    if (holder !== undefined && holder !== process.pid) p.busy = describePid(holder);
  }
  return out;
}
