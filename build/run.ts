// Run an app image on the sim runtime (riscv64 through qemu-riscv64), passing
// stdout through and mapping stack frames on stderr back to TypeScript.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { buildApp, ensureFlavor, isImageFile } from "./app-build.ts";
import { readImage, sourceMapIdOf } from "./image.ts";
import { OUT, runtimeBinary, type Flavor, type Target } from "./paths.ts";
import { SourceMap, mapStackLine } from "./sourcemap.ts";
import { createHash } from "node:crypto";

export interface RunOptions {
  target?: Target;
  asan?: boolean; // host only: the ASan+UBSan runtime
  sdcard?: string;
  sdcardSize?: string; // MiB: the runtime's --sdcard-size (a card small enough to fill)
  logLevel?: string; // the runtime's --log-level: debug|info|warn|error|silent
  args?: string[];
  runtimeArgs?: string[]; // extra runtime flags (--repeat, --stats, ...)
  stdout?: (chunk: Buffer) => void; // default: this process's stdout
  stderr?: (line: string) => void; // default: this process's stderr
  typecheck?: boolean;
  signal?: AbortSignal; // runImage: SIGKILL the runtime when it fires (a caller's time limit)
}

/** The command line that runs `image` on `flavor`. */
export function runtimeCommand(flavor: Flavor, image: string, opts: RunOptions = {}): string[] {
  const bin = runtimeBinary(flavor);
  const argv = [bin, "--sdcard", path.resolve(opts.sdcard ?? path.join(OUT, "sdcard"))];
  if (opts.sdcardSize !== undefined) argv.push("--sdcard-size", opts.sdcardSize);
  if (opts.logLevel !== undefined) argv.push("--log-level", opts.logLevel);
  argv.push(...(opts.runtimeArgs ?? []), image);
  if (opts.args?.length) argv.push("--", ...opts.args);
  return flavor === "riscv64" ? ["qemu-riscv64", ...argv] : argv;
}

/** Load the source map beside an image if its id matches the image's. */
export function mapperFor(image: string): ((line: string) => string) | undefined {
  const mapFile = `${image}.map`;
  if (!fs.existsSync(mapFile)) return undefined;
  let img;
  try {
    img = readImage(fs.readFileSync(image));
  } catch {
    return undefined;
  }
  const text = fs.readFileSync(mapFile, "utf8");
  if (sourceMapIdOf(img) !== "sha256:" + createHash("sha256").update(text).digest("hex")) return undefined;
  const map = new SourceMap(JSON.parse(text), path.dirname(mapFile));
  return (line) => mapStackLine(line, img.entryName, map);
}

export async function runApp(input: string, opts: RunOptions = {}): Promise<number> {
  const target = opts.target ?? "host";
  const flavor: Flavor = opts.asan ? "asan" : target;
  // An image is an image by its magic, whatever its name; a .qcam that is not
  // one goes to the runtime too, which says what is wrong with it.
  let image = input;
  if (!input.endsWith(".qcam") && !isImageFile(input)) image = (await buildApp(input, { target, typecheck: opts.typecheck })).image;
  ensureFlavor(flavor);
  return runImage(flavor, image, opts);
}

export function runImage(flavor: Flavor, image: string, opts: RunOptions = {}): Promise<number> {
  // --with-parent: killed outright, we leave no runtime behind in its own group
  const cmd = runtimeCommand(flavor, path.resolve(image), { ...opts, runtimeArgs: ["--with-parent", ...(opts.runtimeArgs ?? [])] });
  const map = mapperFor(path.resolve(image));
  // Own process group: a terminal's Ctrl-C reaches only us, and we forward it
  // once (the runtime treats a second SIGINT as "exit now").
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ["inherit", "pipe", "pipe"], detached: true });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  opts.signal?.addEventListener("abort", killOnExit, { once: true });
  child.stdout.on("data", opts.stdout ?? ((c: Buffer) => process.stdout.write(c)));
  const errOut = opts.stderr ?? ((l: string) => process.stderr.write(l + "\n"));
  const rl = readline.createInterface({ input: child.stderr, crlfDelay: Infinity });
  rl.on("line", (l) => errOut(map ? map(l) : l));
  const closed = new Promise<void>((r) => rl.on("close", () => r()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", async (code, signal) => {
      await closed;
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      process.off("exit", killOnExit);
      opts.signal?.removeEventListener("abort", killOnExit);
      if (signal) {
        const { constants } = await import("node:os");
        resolve(128 + (constants.signals[signal] ?? 0));
      } else resolve(code ?? 1);
    });
  });
}
