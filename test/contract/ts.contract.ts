// qcam:ts's contract, on a 1 MiB SD card. The video comes from the two small
// Annex B streams in es-streams.ts read with EsReader, so every side writes
// the same frames with the same timestamps (riscv64 included, which has no
// encoder) and the writer's files must come out the same size on both
// sides, packet for packet the same.
import * as fs from "qcam:fs";
import * as tsModule from "qcam:ts";
import { TsWriter, remux } from "qcam:ts";
import { Encoder, EsReader, type Frame } from "qcam:video";
import { H264_B64, H265_B64 } from "./es-streams.ts";
import { contract, deepEq, eq, ok, throws } from "./kit.ts";
import { base64, RANGE, TYPE, VIDEO, writeAll, writerCases, writerDir } from "./writer-kit.ts";

const DIR = "/sdcard/tsc";
const streams = writerDir(DIR, { keepStreams: false });
const { frames, inDir } = streams;
const cases = writerCases(streams, DIR, { name: "TsWriter", ext: "ts", cls: TsWriter as unknown as new (...a: unknown[]) => TsWriter });

/** Sizes of the writer's files for the embedded streams (the same on every side). */
const EXPECT = { h264: 6204, h265: 10904 };

/** The packet layer: whole 188-byte packets, sync bytes, continuity per PID; packets per PID. */
function packets(path: string): Record<number, number> {
  const b = new Uint8Array(fs.readFile(path));
  eq(b.length % 188, 0, "whole packets");
  const cc = new Map<number, number>();
  const count: Record<number, number> = {};
  for (let o = 0; o < b.length; o += 188) {
    eq(b[o], 0x47, `sync byte at ${o}`);
    const pid = ((b[o + 1] & 0x1f) << 8) | b[o + 2];
    const c = b[o + 3] & 15;
    if (cc.has(pid)) eq(c, (cc.get(pid)! + 1) & 15, `continuity of PID ${pid} at ${o}`);
    cc.set(pid, c);
    count[pid] = (count[pid] ?? 0) + 1;
  }
  return count;
}

/** PES starts (payload_unit_start on the video PID): one per frame. */
function pesStarts(path: string): number {
  const b = new Uint8Array(fs.readFile(path));
  let n = 0;
  for (let o = 0; o < b.length; o += 188) if (b[o + 1] === 0x41 && b[o + 2] === 0x00) n++;
  return n;
}

export default contract("qcam:ts", (t) => {
  t.test("exports; TsWriter's shape", () => {
    deepEq(Object.keys(tsModule).sort(), ["TsWriter", "remux"]);
    cases.shape();
  });

  t.test("bad options: the first one is reported; an audio track is refused (no standard G.711 mapping)", () => {
    const W = TsWriter as unknown as new (...a: unknown[]) => TsWriter;
    const p = `${DIR}/x.ts`;
    cases.badOptions();
    throws(() => new W(p), TYPE("new TsWriter(path, {video, segment?, ...})"));
    throws(() => new W(p, {}), TYPE("TsWriter needs a video track"));
    throws(() => new W(p, { video: VIDEO("h264"), audio: { codec: "alaw", sampleRate: 8000 } }),
      TYPE("TsWriter has no audio: G.711 has no standard MPEG-TS mapping (record audio with Mp4Writer)"));
    throws(() => new W(p, { video: { ...VIDEO("h264"), parameterSets: { sps: new Uint8Array([0x67, 1]).buffer, pps: new Uint8Array([0x68, 1]).buffer } } }),
      TYPE("video.parameterSets: not a usable SPS/PPS"));
    eq(fs.exists(DIR), false, "nothing was created");
  });

  t.test("unknown option keys are refused, naming the key: TsWriter, its video and segment", () => {
    const W = TsWriter as unknown as new (...a: unknown[]) => TsWriter;
    const p = `${DIR}/x.ts`;
    throws(() => new W(p, { video: VIDEO("h264"), fragmentMs: 100 }), { name: "TypeError", code: "ERR_INVALID_ARG" });
    throws(() => new W(p, { video: { ...VIDEO("h264"), fps: 30 } }), { name: "TypeError", code: "ERR_INVALID_ARG" });
    throws(() => new W(p, { video: VIDEO("h264"), segment: { minutes: 1 } }), { name: "TypeError", code: "ERR_INVALID_ARG" });
    eq(fs.exists(DIR), false);
  });

  t.test("missing folders are made; a file that cannot be created throws its code", () => cases.missingFolders());

  for (const codec of ["h264", "h265"] as const) {
    t.test(`pull mode, ${codec}: buffered, flush writes whole packets; PAT/PMT at each keyframe; the same bytes on both sides`, () =>
      inDir(() => {
        const path = `${DIR}/a.ts`;
        const w = new TsWriter(path, { video: VIDEO(codec) });
        eq(w.path, path);
        eq(w.kind, "ts");
        const fr = frames(codec);
        eq(fr.length, 20);
        writeAll(w, fr.slice(0, 12));
        deepEq(w.stats(), { videoFrames: 0, bytes: 0, segments: 0, dropped: 0 }, "under a second: still buffered");
        w.flush();
        const mid = w.stats();
        eq(mid.videoFrames, 12);
        eq(mid.bytes % 188, 0);
        ok(mid.bytes > 0);
        writeAll(w, fr.slice(12));
        const info = w.close()!;
        deepEq({ ...info, size: 0 }, { path, index: 0, duration: 20 / 30, size: 0, frames: 20, full: false });
        eq(info.size, fs.stat(path).size);
        eq(info.size, EXPECT[codec], `the same bytes on both sides (${info.size})`);
        const pids = packets(path);
        eq(pids[0], 2, "a PAT per keyframe");
        eq(pids[0x1000], 2, "a PMT per keyframe");
        eq(pesStarts(path), 20, "a PES per frame");
        eq(w.close(), undefined, "close twice");
        throws(() => w.stats(), { name: "TypeError", code: "ERR_CLOSED", message: "TsWriter is closed" });
        throws(() => w.path, { name: "TypeError", code: "ERR_CLOSED", message: "TsWriter is closed" });
      }),
    );
  }

  t.test("written at least once a second of video: 20 frames at 10 fps go out in two writes", () =>
    inDir(() => {
      const w = new TsWriter(`${DIR}/s.ts`, { video: VIDEO("h264") });
      const fr = frames("h264", { fps: 10 });
      writeAll(w, fr.slice(0, 11));
      eq(w.stats().videoFrames, 10, "the first second went out when frame 10 came");
      writeAll(w, fr.slice(11));
      const info = w.close()!;
      eq(info.frames, 20);
      eq(info.duration, 2);
    }),
  );

  t.test("frames before the first keyframe are dropped and counted; time starts at the keyframe", () =>
    inDir(() => {
      const w = new TsWriter(`${DIR}/d.ts`, { video: VIDEO("h264") });
      writeAll(w, frames("h264", { skip: 3 }));
      eq(w.stats().dropped, 7);
      const info = w.close()!;
      eq(info.frames, 10);
      eq(info.duration, 10 / 30);
      eq(pesStarts(`${DIR}/d.ts`), 10);
    }),
  );

  t.test("write(): what is not a frame, another codec, a writer closed; nothing recorded: no file", () => cases.writeErrors());

  t.test("segments by size: split at keyframes; onSegment at a loop turn, close() returns the last", () =>
    cases.segmentsBySize((path) => {
      eq(packets(path)[0], 1, "each file starts with its PAT");
      eq(pesStarts(path), 10);
    }),
  );

  t.test("segments by time; close() delivers the reports the loop has not yet", () => cases.segmentsByTime());

  t.test("a full card: ENOSPC to onError at a loop turn (or thrown without it), the file cut back to whole packets", () =>
    inDir(() => {
      const filler = `${DIR}/filler`;
      // what the first second takes (it goes out when frame 10 comes)
      const probe = new TsWriter(`${DIR}/probe.ts`, { video: VIDEO("h264") });
      writeAll(probe, frames("h264", { fps: 10 }).slice(0, 11));
      const room = probe.stats().bytes + 500;
      probe.close();
      fs.remove(`${DIR}/probe.ts`);
      const fr1 = frames("h264", { fps: 10 }), fr2 = frames("h264", { fps: 10 });
      fs.writeFile(filler, new Uint8Array(Math.max(0, fs.space().free - room)));
      try {
        const errors: string[] = [];
        const w = new TsWriter(`${DIR}/full.ts`, { video: VIDEO("h264"), onError: (e) => errors.push(`${e.code} ${e.message}`) });
        writeAll(w, fr1);
        const info = w.close()!;
        deepEq(errors, [`ENOSPC cannot write ${DIR}/full.ts: No space left on device`]);
        eq(info.size, fs.stat(`${DIR}/full.ts`).size);
        eq(info.size % 188, 0);
        eq(pesStarts(`${DIR}/full.ts`), info.frames);
        eq(info.frames, 10, "the first second is on the card, the second did not fit");
        fs.remove(`${DIR}/full.ts`);
        fs.writeFile(`${DIR}/more`, new Uint8Array(Math.max(0, fs.space().free - room)));
        const w2 = new TsWriter(`${DIR}/full2.ts`, { video: VIDEO("h264") });
        let thrown = "";
        for (const f of fr2) {
          try {
            w2.write(f);
          } catch (e) {
            thrown ||= `${(e as { code: string }).code} ${(e as Error).message}`;
          }
          f.close();
        }
        if (!thrown) {
          try {
            w2.close();
          } catch (e) {
            thrown = `${(e as { code: string }).code} ${(e as Error).message}`;
          }
        }
        eq(thrown, `ENOSPC cannot finish ${DIR}/full2.ts: No space left on device`, "the second second did not fit: close() throws it");
        w2.close();
      } finally {
        fs.remove(filler);
      }
    }),
  );

  t.test("linked: camera → encoder → TsWriter; ERR_BUSY while linked; every frame the link wrote is in the file", () =>
    cases.linked({}, (path) => {
      eq(pesStarts(path), 20);
      eq(packets(path)[0], 2, "a PAT per keyframe");
    }), { needs: ["encoder"] });
  t.test("remux(): shape and bad arguments, the first one reported", () =>
    inDir(() => {
      eq(remux.name, "remux");
      eq(remux.length, 2);
      const R = remux as unknown as (...a: unknown[]) => unknown;
      const usage = 'remux(input: string, output: string, options?: {fps?: number, codec?: "h264" | "h265"})';
      const input = `${DIR}/in.h264`;
      throws(() => R(input), TYPE(usage));
      throws(() => R(input, 5), TYPE(usage));
      throws(() => R(input, `${DIR}/o.ts`, 5), TYPE(usage));
      throws(() => R(input, `${DIR}/o.ts`, { speed: 2 }), TYPE('unknown remux option "speed" (known: fps, codec)'));
      throws(() => R(input, `${DIR}/o.ts`, { fps: "30" }), TYPE("remux: fps must be a number (0 < fps <= 240)"));
      throws(() => R(input, `${DIR}/o.ts`, { fps: 0 }), RANGE("remux: fps must be a number (0 < fps <= 240)"));
      throws(() => R(input, `${DIR}/o.ts`, { codec: "vp9" }), TYPE('remux: codec must be "h264" or "h265"'));
      throws(() => R(`${DIR}/in.bin`, `${DIR}/o.ts`), TYPE('remux: cannot tell the codec from the file name: pass {codec: "h264" | "h265"}'));
      throws(() => R(`${DIR}/none.h264`, `${DIR}/o.ts`), { name: "Error", code: "ENOENT", message: `cannot remux ${DIR}/none.h264 to ${DIR}/o.ts: No such file or directory` });
      fs.writeFile(`${DIR}/junk.h264`, new Uint8Array(1000).fill(7));
      throws(() => R(`${DIR}/junk.h264`, `${DIR}/o.ts`), { name: "Error", code: "EBADMSG", message: `no keyframe with usable parameter sets in ${DIR}/junk.h264 (not an H.264 elementary stream, or cut before its first picture)` });
      deepEq(fs.list(DIR).sort(), ["junk.h264"], "a failed remux leaves nothing behind");
    }),
  );

  for (const codec of ["h264", "h265"] as const) {
    t.test(`remux(): ${codec} stream → the packets a TsWriter writes, in one go; the same bytes on both sides`, () =>
      inDir(() => {
        const input = `${DIR}/in.${codec}`;
        fs.writeFile(input, base64(codec === "h264" ? H264_B64 : H265_B64));
        const out = `${DIR}/sub/out.ts`;
        const res = remux(input, out);
        deepEq(res, { frames: 20, keyframes: 2, dropped: 0, duration: 20 / 30, size: EXPECT[codec], codec, width: 64, height: 48 });
        eq(fs.stat(out).size, res.size);
        const pids = packets(out);
        eq(pids[0], 2, "a PAT per keyframe");
        eq(pesStarts(out), 20, "a PES per frame");
        deepEq(fs.list(`${DIR}/sub`), ["out.ts"], "the temporary file was renamed over the output");
        const slow = remux(input, `${DIR}/slow.ts`, { fps: 10 });
        eq(slow.duration, 2);
      }),
    );
  }
}, { sdcardSizeMb: 1 });
