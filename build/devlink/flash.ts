// The app store over the dev link (docs/app-store.md, "Over the dev link"):
// `qcam flash --port` pushes the image on the push channel (resumable: a
// push cut off goes on from the board's last verified byte, an image the
// board holds is not sent again), then asks the board's store to install it
// (runtime/devlink/install.c) and prints its answer; `qcam apps|rollback|
// remove --port` ask the same store. An app running on the board is stopped
// first when the request writes (the store answers `busy` to those while one
// runs); `apps` only reads and leaves it running.
import fs from "node:fs";
import path from "node:path";
import { readImage, SectionType } from "../image.ts";
import { BuildError } from "../log.ts";
import type { Target } from "../paths.ts";
import { BoardLink, LinkError, parseKv, Status } from "./link.ts";
import { progressBar } from "./progress.ts";

export const STORE = 16; // the `store` control message (runtime/devlink/serve.h DL_STORE)

export interface StoreAnswer {
  ok: boolean;
  code: number; // the store's exit code (0 when ok)
  text: string; // JSON lines when ok, the message when refused
}

/** The store's exit codes travel in the reply; a refusal keeps its code. */
export class StoreRefusal extends BuildError {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

async function waitIdle(link: BoardLink, timeoutMs = 30000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if ((await link.hello()).state === "idle") return;
    if (Date.now() > end) throw new LinkError("the board's app did not stop");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One store request; an app running is stopped first when the store says `busy` (a request that writes). */
export async function storeRequest(link: BoardLink, fields: Record<string, string>, log: (s: string) => void = () => undefined): Promise<StoreAnswer> {
  const body = Buffer.from(Object.entries(fields).map(([k, v]) => `${k}=${v}\n`).join(""));
  for (let attempt = 0; ; attempt++) {
    const r = await link.request(STORE, body, 60_000);
    const text = r.body.toString("utf8");
    if (r.status === Status.busy && attempt < 5) {
      log(`[flash] stopping the app running on the board\n`);
      await link.stop();
      await waitIdle(link);
      continue;
    }
    if (r.status === Status.ok) return { ok: true, code: 0, text };
    if (r.status === Status.refused) {
      const kv = parseKv(text);
      return { ok: false, code: Number(kv.code ?? 1), text: kv.message ?? text };
    }
    if (r.status === Status.unknown) throw new LinkError("the board's runtime has no app store over the link (update it: qcam flash --sdcard)");
    throw new LinkError(`store: status ${r.status}: ${text}`);
  }
}

export interface PortFlashOptions {
  autostart: boolean;
  allowDowngrade: boolean;
}

/** The app id in an image's manifest, if it has one. */
function appIdOf(bytes: Buffer): string | undefined {
  try {
    const man = readImage(bytes).sections.find((s) => s.type === SectionType.Manifest);
    const id = man ? (JSON.parse(man.data.toString("utf8")) as { id?: unknown }).id : undefined;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The sha256 of the image the board has installed for app `id` (its good
 * slot, else the one on trial), now also in the board's push cache so a push
 * may be a delta against it; undefined when there is none (or the board's
 * runtime does not know the question). */
export async function installedBase(link: BoardLink, id: string): Promise<string | undefined> {
  const r = await link.request(STORE, Buffer.from(`op=base\nid=${id}\n`), 60_000).catch(() => undefined);
  if (r?.status !== Status.ok) return undefined;
  const hash = parseKv(r.body.toString("utf8")).image;
  return hash && /^[0-9a-f]{64}$/.test(hash) ? hash : undefined;
}

/** Push and install `image` on the board behind `link`: the store's state of
 * the app. The push goes as a delta against the version installed for the
 * same app id when the board has one and we kept its bytes (delta.ts). */
export async function flashOverLink(link: BoardLink, image: string, opts: PortFlashOptions, log: (s: string) => void): Promise<{ state: string; skipped: boolean; resumedAt: number; bytes: number; delta?: number }> {
  const bytes = fs.readFileSync(image);
  const id = appIdOf(bytes);
  const base = id ? await installedBase(link, id) : undefined;
  const bar = progressBar(`[flash] ${path.basename(image)}`);
  const pushed = await link.push(bytes, bar.update, base ? { base } : {}).finally(bar.end);
  if (pushed.skipped) log(`[flash] ${path.basename(image)}: the board has it already\n`);
  else {
    if (pushed.resumedAt) log(`[flash] resumed at byte ${pushed.resumedAt} of ${pushed.delta ?? bytes.length}\n`);
    log(`[flash] sent ${pushed.bytes} bytes${pushed.delta !== undefined ? ` (a delta against the installed version; the image is ${bytes.length})` : ` of ${bytes.length}`}\n`);
  }
  const fields: Record<string, string> = { op: "install", image: pushed.hash };
  if (opts.autostart) fields.autostart = "1";
  if (opts.allowDowngrade) fields.allow_downgrade = "1";
  const a = await storeRequest(link, fields, log);
  if (!a.ok) throw new StoreRefusal(`qcam: refusing ${path.basename(image)}: ${a.text}`, a.code);
  return { state: a.text.trim(), skipped: pushed.skipped, resumedAt: pushed.resumedAt, bytes: pushed.bytes, ...(pushed.delta !== undefined ? { delta: pushed.delta } : {}) };
}

export type { Target };
