// What the recording writers' contract suites (mp4, ts) share: the embedded
// streams (es-streams.ts) on the card read with EsReader, a case's folder,
// the expected errors and loop turns, and the cases every writer passes the
// same way (writerCases: the class binding and the segmenting core are
// shared, media/writer_js.c and media/segmenter.c), each with the checks of
// its own container.
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import * as fs from "qcam:fs";
import { link, type Pipe, type Sink } from "qcam:link";
import { Encoder, EsReader, type Frame } from "qcam:video";
import { H264_B64, H265_B64 } from "./es-streams.ts";
import { deepEq, descriptor, eq, ok, throws } from "./kit.ts";

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

// ------------------------------------------------------------------ cases every writer passes

interface Info {
  path: string;
  index: number;
  duration: number;
  size: number;
  frames: number;
}
interface AnyWriter {
  readonly path: string;
  write(frame: Frame): void;
  close(): Info | undefined;
  stats(): { segments: number; videoFrames: number };
}

export interface WriterUnderTest {
  /** "Mp4Writer" */
  name: string;
  /** The files' extension: "mp4" */
  ext: string;
  /** The class, taken as one whose options are not checked by the compiler. */
  cls: new (...args: unknown[]) => AnyWriter;
}

export function writerCases(d: WriterDir, dir: string, W: WriterUnderTest) {
  const file = (name: string) => `${dir}/${name}.${W.ext}`;
  const open = (...a: unknown[]) => new W.cls(...a);
  return {
    /** The class: its name and length; its prototype's methods, `path`, `kind`, Symbol.dispose. */
    shape(): void {
      eq(W.cls.name, W.name);
      eq(W.cls.length, 2);
      const proto = W.cls.prototype as unknown as Record<string | symbol, unknown>;
      deepEq(Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor").sort(), ["close", "flush", "kind", "path", "stats", "write"]);
      eq(descriptor(proto, "path"), "get configurable");
      eq(descriptor(proto, "write"), "method writable configurable");
      eq((proto.write as AnyFn).length, 1);
      eq(descriptor(proto, "kind"), "value configurable");
      eq(proto.kind, W.ext);
      eq(proto[dispose], proto.close);
    },

    /** Bad options every writer reports the same way: the arguments, `video`,
     * `segment`, the callbacks, a segment path pattern. */
    badOptions(): void {
      const p = file("x");
      throws(() => open(), TYPE(`new ${W.name}(path: string, options)`));
      throws(() => open(p, { video: 5 }), TYPE("video must be an Encoder or {codec, width, height, parameterSets?}"));
      throws(() => open(p, { video: { codec: "vp9", width: 64, height: 48 } }), TYPE('video.codec must be "h264" or "h265"'));
      throws(() => open(p, { video: { codec: "h264", width: 8, height: 48 } }), RANGE("video.width must be an integer 16..8192"));
      throws(() => open(p, { video: { codec: "h264", width: 64 } }), TYPE("video needs width and height"));
      throws(() => open(p, { video: VIDEO("h264"), segment: {} }), TYPE("segment needs seconds or bytes"));
      throws(() => open(p, { video: VIDEO("h264"), segment: { seconds: -1 } }), RANGE("segment.seconds must be a number > 0"));
      throws(() => open(p, { video: VIDEO("h264"), segment: { bytes: 0.5 } }), RANGE("segment.bytes must be an integer >= 1"));
      for (const name of ["onSegment", "onError", "onFull"]) throws(() => open(p, { video: VIDEO("h264"), [name]: 1 }), TYPE(`${name} must be a function`));
      throws(() => open(file("%q"), { video: VIDEO("h264"), segment: { seconds: 1 } }), TYPE("path pattern: %i, %03i, %Y %m %d %H %M %S or %% only"));
    },

    missingFolders(): void {
      d.inDir(() => {
        const w = open(file("a/b/c"), { video: VIDEO("h264") });
        ok(fs.stat(`${dir}/a/b`).isDirectory, "the folders were made");
        w.close();
        fs.writeFile(`${dir}/file`, "x");
        throws(() => open(file("file/a"), { video: VIDEO("h264") }), { name: "Error", code: "ENOTDIR", message: `cannot open ${file("file/a")}: Not a directory` });
      });
    },

    /** write() of what is not a frame, of another codec, after close(); a file with nothing recorded is removed. */
    writeErrors(): void {
      d.inDir(() => {
        const w = open(file("w"), { video: VIDEO("h264") });
        throws(() => (w.write as AnyFn)(), TYPE("write(frame: Frame)"));
        throws(() => w.write({} as Frame), TYPE("write(frame: Frame)"));
        const f265 = d.frames("h265")[0];
        throws(() => w.write(f265), TYPE("this writer has no track for h265 frames"));
        f265.close();
        const info = w.close()!;
        eq(info.frames, 0);
        eq(info.size, 0);
        eq(fs.exists(file("w")), false, "nothing recorded: no file");
        const f = d.frames("h264")[0];
        throws(() => w.write(f), { name: "TypeError", code: "ERR_CLOSED", message: `${W.name} is closed` });
        f.close();
        (w as unknown as Record<symbol, AnyFn>)[dispose]();
      });
    },

    /** Two segments of 10 frames by size; `check` looks into each file. */
    segmentsBySize(check: (path: string) => void): void {
      d.inDir(() => {
        const seen: Info[] = [];
        const w = open(`${dir}/s_%02i.${W.ext}`, { video: VIDEO("h264"), segment: { bytes: 1000 }, onSegment: (s: Info) => seen.push(s) });
        eq(w.path, file("s_00"));
        writeAll(w, d.frames("h264"));
        eq(w.path, file("s_01"));
        eq(seen.length, 0, "events wait for the loop");
        turns();
        eq(seen.length, 1);
        eq(w.stats().segments, 1);
        const last = w.close()!;
        turns();
        eq(seen.length, 1, "the last file is close()'s to tell");
        deepEq([...seen, last].map((s) => [s.path, s.index, s.frames]), [[file("s_00"), 0, 10], [file("s_01"), 1, 10]]);
        for (const s of [...seen, last]) {
          eq(s.size, fs.stat(s.path).size);
          eq(s.duration, 10 / 30);
          check(s.path);
        }
      });
    },

    segmentsByTime(): void {
      d.inDir(() => {
        const seen: Info[] = [];
        const w = open(`${dir}/t%i.${W.ext}`, { video: VIDEO("h265"), segment: { seconds: 0.3 }, onSegment: (s: Info) => seen.push(s) });
        writeAll(w, d.frames("h265"));
        eq(seen.length, 0);
        const last = w.close()!;
        deepEq(seen.map((s) => [s.path, s.frames]), [[file("t0"), 10]], "delivered inside close()");
        deepEq([last.path, last.frames], [file("t1"), 10]);
        turns();
        eq(seen.length, 1, "and only once");
      });
    },

    /** camera → encoder → writer for 20 frames (`options` beside the
     * encoder); `check` looks into the file. */
    linked(options: Record<string, unknown>, check: (path: string) => void): void {
      d.inDir(() => {
        const cam = new Camera({ width: 64, height: 48, fps: 30 });
        const enc = new Encoder({ codec: "h264", width: 64, height: 48, gop: 10 });
        const w = open(file("l"), { video: enc, ...options });
        let p: Pipe | undefined;
        try {
          p = link(cam, enc, w as unknown as Sink, { frames: 20, encodeQueue: 64 });
          const busy = { name: "Error", code: "ERR_BUSY" };
          throws(() => w.close(), { ...busy, message: "close the link feeding this writer first" });
          const f = d.frames("h264")[0];
          throws(() => w.write(f), { ...busy, message: "this writer is fed by a link; write() is for pull mode" });
          f.close();
          const t0 = time.ticksMs();
          while (!(p.stats().finished && p.stats().framesOut === 20) && time.ticksMs() - t0 < 10_000) {
            app.needExit();
            time.sleepMs(5);
          }
          const st = p.close()!;
          p = undefined;
          eq(st.framesOut, 20);
          eq(w.stats().videoFrames, 20, "the link's flush wrote the rest");
          const info = w.close()!;
          eq(info.frames, 20);
          check(file("l"));
        } finally {
          p?.close();
          w.close();
          enc.close();
          cam.close();
        }
      });
    },
  };
}
