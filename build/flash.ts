// qcam flash / qcam apps: an app straight onto a card folder, through the
// runtime's own store code (qcam-runtime --install / --apps; docs/app-store.md),
// so the host never writes the store by itself.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildApp, ensureFlavor, isImageFile } from "./app-build.ts";
import { BuildError } from "./log.ts";
import { OUT, runtimeBinary, type Target } from "./paths.ts";

export interface AppState {
  id: string;
  active: string | null;
  activeVersion: string | null;
  pending: string | null;
  pendingVersion: string | null;
  tries: number;
  rollback: string | null;
  error?: string;
}

function store(target: Target, sdcard: string | undefined, args: string[]): { code: number; stdout: string; stderr: string } {
  ensureFlavor(target);
  const argv = [runtimeBinary(target), "--sdcard", path.resolve(sdcard ?? path.join(OUT, "sdcard")), ...args];
  const cmd = target === "riscv64" ? ["qemu-riscv64", ...argv] : argv;
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120_000 });
  if (r.error) throw new BuildError(`cannot run ${cmd[0]}: ${r.error.message}`);
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** One line about an app's state, as `qcam apps` and `qcam flash` show it. */
export function describe(s: AppState): string {
  if (s.error) return `${s.id}: ${s.error}`;
  const parts = [s.id];
  parts.push(s.active ? `good ${s.activeVersion} (slot ${s.active})` : "no good version");
  if (s.pending) parts.push(`on trial ${s.pendingVersion} (slot ${s.pending}, ${s.tries} ${s.tries === 1 ? "try" : "tries"} left)`);
  if (s.rollback) parts.push(`last rollback: ${s.rollback}`);
  return parts.join(" · ");
}

/** The image to flash: built from source, and signed with --sign (into a copy). */
export async function imageFor(input: string, opts: { target: Target; typecheck: boolean; sign?: string }): Promise<string> {
  let image = isImageFile(input) ? path.resolve(input) : (await buildApp(input, { target: opts.target, typecheck: opts.typecheck })).image;
  if (opts.sign) {
    const { readPrivateKey, signImage } = await import("./sign.ts");
    const signed = signImage(fs.readFileSync(image), readPrivateKey(opts.sign));
    const dir = path.join(OUT, "signed");
    fs.mkdirSync(dir, { recursive: true });
    image = path.join(dir, path.basename(image));
    fs.writeFileSync(image, signed);
  }
  return image;
}

// ---- over the dev link (--port) ------------------------------------------------------

async function onBoard<T>(port: string, f: (link: import("./devlink/link.ts").BoardLink, target: Target) => Promise<T>): Promise<T> {
  const { connect } = await import("./devlink/commands.ts");
  const { link, caps } = await connect(port, { text: () => undefined });
  try {
    const target: Target = caps.target === "sim-riscv64" ? "riscv64" : caps.target === "sim-x86_64" ? "host" : (() => {
      throw new BuildError(`the board runs images for ${caps.target}, which qcam cannot build yet`);
    })();
    return await f(link, target);
  } finally {
    await link.close();
  }
}

async function refusalCode(e: unknown): Promise<number> {
  const { StoreRefusal } = await import("./devlink/flash.ts");
  if (e instanceof StoreRefusal) {
    process.stderr.write(`${e.message}\n`);
    return e.code;
  }
  throw e;
}

async function flashPort(
  input: string,
  opts: { port: string; autostart: boolean; allowDowngrade: boolean; typecheck: boolean; sign?: string },
): Promise<number> {
  const { flashOverLink } = await import("./devlink/flash.ts");
  try {
    return await onBoard(opts.port, async (link, target) => {
      const image = await imageFor(input, { target, typecheck: opts.typecheck, sign: opts.sign });
      const r = await flashOverLink(link, image, opts, (m) => process.stderr.write(m));
      process.stdout.write(`flashed ${describe(JSON.parse(r.state) as AppState)}${opts.autostart ? " · autostart" : ""}\n`);
      return 0;
    });
  } catch (e) {
    return refusalCode(e);
  }
}

/** qcam apps / rollback / remove --port: the board's store over the link. */
export async function storePort(what: "apps" | "rollback" | "remove", arg: string | undefined, opts: { port: string; json?: boolean }): Promise<number> {
  const { storeRequest } = await import("./devlink/flash.ts");
  return onBoard(opts.port, async (link) => {
    const a = await storeRequest(link, what === "apps" ? { op: "apps" } : { op: what, id: arg ?? "" }, (m) => process.stderr.write(m));
    if (!a.ok) {
      process.stderr.write(`qcam: refusing ${arg ?? what}: ${a.text}\n`);
      return a.code;
    }
    const states = a.text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as AppState);
    if (what === "apps") process.stdout.write(opts.json ? a.text : states.length ? states.map((s) => describe(s) + "\n").join("") : "no apps installed\n");
    else if (what === "rollback") process.stdout.write(`rolled back ${describe(states[0])}\n`);
    else process.stdout.write(`removed ${arg}\n`);
    return 0;
  });
}

export async function flash(
  input: string,
  opts: { sdcard?: string; port?: string; target: Target; autostart: boolean; allowDowngrade: boolean; typecheck: boolean; sign?: string },
): Promise<number> {
  if (opts.port !== undefined) {
    if (opts.sdcard !== undefined) throw new BuildError("flash onto --port or --sdcard, not both");
    return flashPort(input, { ...opts, port: opts.port });
  }
  const image = await imageFor(input, opts);
  const args = ["--install", image, ...(opts.autostart ? ["--autostart"] : []), ...(opts.allowDowngrade ? ["--allow-downgrade"] : [])];
  const r = store(opts.target, opts.sdcard, args);
  process.stderr.write(r.stderr);
  if (r.code !== 0) return r.code;
  const s = JSON.parse(r.stdout) as AppState;
  process.stdout.write(`flashed ${describe(s)}${opts.autostart ? " · autostart" : ""}\n`);
  return 0;
}

export function listApps(opts: { sdcard?: string; target: Target; json: boolean }): number {
  const r = store(opts.target, opts.sdcard, ["--apps"]);
  process.stderr.write(r.stderr);
  if (r.code !== 0) return r.code;
  if (opts.json) {
    process.stdout.write(r.stdout);
    return 0;
  }
  const states = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as AppState);
  process.stdout.write(states.length ? states.map((s) => describe(s) + "\n").join("") : "no apps installed\n");
  return 0;
}

/** qcam rollback / remove / trust on a card folder. */
export function storeCommand(
  what: "rollback" | "remove" | "trust",
  arg: string,
  opts: { sdcard?: string; target: Target },
): number {
  const r = store(opts.target, opts.sdcard, [`--${what}`, arg]);
  process.stderr.write(r.stderr);
  if (r.code !== 0) return r.code;
  if (what === "rollback") process.stdout.write(`rolled back ${describe(JSON.parse(r.stdout) as AppState)}\n`);
  else if (what === "remove") process.stdout.write(`removed ${arg}\n`);
  else process.stdout.write(`the card now takes only images signed by a key it holds (added ${arg.slice(0, 16)}...)\n`);
  return 0;
}
