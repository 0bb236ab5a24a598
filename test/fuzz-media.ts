// Media made by ffmpeg for the fuzz seeds (and the tests that reuse them),
// cached under out/fuzz/media/ by the arguments that make it.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { BuildError } from "../build/log.ts";
import { OUT } from "../build/paths.ts";
import { spawnSyncChild } from "./helpers.ts";

export const MEDIA = path.join(OUT, "fuzz", "media");

/** The path of the file `ffmpeg <args> <file>` writes, made once and kept
 * under a name hashed from `ext` and `args`. `ext` is the file's suffix; it
 * picks the muxer unless `args` name one with -f. */
export function ffmpegFile(args: string[], ext: string): string {
  const key = createHash("sha256").update([ext, ...args].join("\0")).digest("hex").slice(0, 20);
  const file = path.join(MEDIA, `${key}.${ext}`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(MEDIA, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp.${ext}`;
    const r = spawnSyncChild("ffmpeg", ["-nostdin", "-v", "error", "-y", ...args, tmp], { encoding: "utf8" });
    if (r.error) throw new BuildError(`cannot run ffmpeg (apt-get install ffmpeg): ${r.error.message}`);
    if (r.status !== 0 || !fs.existsSync(tmp)) {
      fs.rmSync(tmp, { force: true });
      throw new BuildError(`ffmpeg ${args.join(" ")} failed:\n${r.stderr}`);
    }
    fs.renameSync(tmp, file);
  }
  return file;
}
