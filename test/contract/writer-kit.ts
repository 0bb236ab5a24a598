// What the recording writers' contract suites (mp4, ts) share: the embedded
// streams (es-streams.ts) on the card read with EsReader, a case's folder,
// the expected errors and loop turns.
import { app } from "qcam:app";
import * as fs from "qcam:fs";
import { EsReader, type Frame } from "qcam:video";
import { H264_B64, H265_B64 } from "./es-streams.ts";

export type AnyFn = (...args: unknown[]) => unknown;
export const dispose = (Symbol as unknown as { dispose: symbol }).dispose;
export const TYPE = (message: string) => ({ name: "TypeError", code: "ERR_INVALID_ARG", message });
export const RANGE = (message: string) => ({ name: "RangeError", code: "ERR_INVALID_ARG", message });
export const VIDEO = (codec: "h264" | "h265") => ({ codec, width: 64, height: 48 });

export function base64(s: string): Uint8Array {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const clean = s.replace(/=+$/, "");
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0, acc = 0, o = 0;
  for (const c of clean) {
    acc = (acc << 6) | abc.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

export interface WriterDir {
  /** The embedded stream on the card, as `dir`/in.<codec>. */
  stream(codec: "h264" | "h265"): string;
  /** The stream's frames at `fps` (30), the first `skip` closed. The stream
   * file stays on the card (its room counts) when the dir keeps streams. */
  frames(codec: "h264" | "h265", opts?: { skip?: number; fps?: number }): Frame[];
  /** Run `fn` with the folder made and removed afterwards, whatever happens. */
  inDir(fn: () => void): void;
}

export function writerDir(dir: string, { keepStreams }: { keepStreams: boolean }): WriterDir {
  const stream = (codec: "h264" | "h265"): string => {
    const path = `${dir}/in.${codec}`;
    fs.writeFile(path, base64(codec === "h264" ? H264_B64 : H265_B64));
    return path;
  };
  return {
    stream,
    frames(codec, opts = {}) {
      const path = stream(codec);
      const es = new EsReader(path, { fps: opts.fps ?? 30 });
      const out: Frame[] = [];
      for (let f = es.read(), i = 0; f; f = es.read(), i++) {
        if (i < (opts.skip ?? 0)) f.close();
        else out.push(f);
      }
      es.close();
      if (!keepStreams) fs.remove(path);
      return out;
    },
    inDir(fn) {
      fs.mkdir(dir, { recursive: true });
      try {
        fn();
      } finally {
        fs.removeTree(dir);
      }
    },
  };
}

/** Write each frame and close it. */
export function writeAll(w: { write(f: Frame): void }, fr: Frame[]): void {
  for (const f of fr) {
    w.write(f);
    f.close();
  }
}

/** Let posted events (onSegment, onError, onFull) run. */
export function turns(n = 3): void {
  for (let i = 0; i < n; i++) app.needExit();
}
