// qcam:ts's contract, on a 1 MiB SD card. The video comes from the two small
// Annex B streams in es-streams.ts read with EsReader, so every side writes
// the same frames with the same timestamps (riscv64 included, which has no
// encoder) and the writer's files must come out the same size on both
// sides, packet for packet the same.
import * as fs from "qcam:fs";
import * as tsModule from "qcam:ts";
import { probe, TsReader, TsWriter, remux } from "qcam:ts";
import { Encoder, EsReader, type Frame } from "qcam:video";
import { H264_B64, H265_B64 } from "./es-streams.ts";
import { contract, deepEq, eq, ok, throws } from "./kit.ts";
import { base64, dispose, RANGE, TYPE, VIDEO, writeAll, writerCases, writerDir } from "./writer-kit.ts";

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

/** Offsets of the video PID's PES starts. */
function pesOffsets(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let o = 0; o + 188 <= b.length; o += 188) if (b[o + 1] === 0x41 && b[o + 2] === 0x00) out.push(o);
  return out;
}

/** Write the embedded stream's 20 frames (30 fps) to `path`: the writer's info, each frame's bytes and time. */
function record(codec: "h264" | "h265", path: string): { info: { duration: number; frames: number; size: number }; written: { bytes: Uint8Array; ptsUs: number; keyframe: boolean }[] } {
  const w = new TsWriter(path, { video: VIDEO(codec) });
  const fr = frames(codec);
  const written = fr.map((f) => ({ bytes: new Uint8Array(f.toArrayBuffer()).slice(), ptsUs: f.ptsUs, keyframe: f.keyframe }));
  writeAll(w, fr);
  return { info: w.close()!, written };
}

/** Every frame a reader gives. */
function readAll(r: TsReader): Frame[] {
  const out: Frame[] = [];
  for (let f = r.read(); f; f = r.read()) out.push(f);
  return out;
}

/** CRC-32/MPEG-2 of a PSI section. */
function crc32(p: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of p) {
    crc = (crc ^ (byte << 24)) >>> 0;
    for (let k = 0; k < 8; k++) crc = crc & 0x80000000 ? ((crc << 1) ^ 0x04c11db7) >>> 0 : (crc << 1) >>> 0;
  }
  return crc;
}

const endsWith = (a: Uint8Array, b: Uint8Array) => a.length >= b.length && b.every((x, i) => a[a.length - b.length + i] === x);

/** PES starts (payload_unit_start on the video PID): one per frame. */
function pesStarts(path: string): number {
  const b = new Uint8Array(fs.readFile(path));
  let n = 0;
  for (let o = 0; o < b.length; o += 188) if (b[o + 1] === 0x41 && b[o + 2] === 0x00) n++;
  return n;
}

export default contract("qcam:ts", (t) => {
  t.test("exports; TsWriter's shape", () => {
    deepEq(Object.keys(tsModule).sort(), ["TsReader", "TsWriter", "probe", "remux"]);
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
  for (const codec of ["h264", "h265"] as const) {
    t.test(`TsReader, ${codec}: reads back what TsWriter wrote: frames, keyframes, times, bytes, duration; seek to a keyframe`, () =>
      inDir(() => {
        const path = `${DIR}/r.ts`;
        const { info, written } = record(codec, path);
        const r = new TsReader(path);
        eq(String(r), "[object TsReader]");
        eq(r.path, path);
        eq(r.duration, info.duration, "the writer's duration");
        deepEq(probe(path), { codec, width: 64, height: 48, duration: info.duration }, "probe()");
        deepEq(r.tracks, [{ id: 256, kind: "video", codec, width: 64, height: 48, timescale: 90000, duration: info.duration, samples: 20, keyframes: 2 }]);
        const got = readAll(r);
        eq(got.length, 20, "every frame");
        eq(r.read(), null, "then null");
        deepEq(got.map((f) => f.keyframe), written.map((f) => f.keyframe), "keyframes where they were");
        eq(got[0].ptsUs, 0, "times from the first frame");
        got.forEach((f, i) => {
          eq(f.codec, codec);
          eq(f.seq, i);
          eq(f.dtsUs, f.ptsUs);
          ok(Math.abs(f.ptsUs - (written[i].ptsUs - written[0].ptsUs)) <= 11, `frame ${i}: ${f.ptsUs} µs, written at ${written[i].ptsUs - written[0].ptsUs} µs (to a 90 kHz tick)`);
          if (i) ok(f.ptsUs > got[i - 1].ptsUs, `pts order at ${i}`);
          ok(endsWith(new Uint8Array(f.toArrayBuffer()), written[i].bytes), `frame ${i}: its bytes (after the AUD the muxer puts first)`);
          eq(f.type, f.keyframe ? "I" : "P");
        });
        for (const f of got) f.close();
        const at = r.seek(0.5);
        ok(Math.abs(at - 1 / 3) < 2e-5, `seek(0.5) → the keyframe at 1/3 s (${at})`);
        const f10 = r.read()!;
        eq(f10.keyframe, true);
        eq(f10.seq, 10);
        eq(f10.ptsUs / 1e6, at);
        f10.close();
        eq(r.seek(0.2), 0, "before the second keyframe: the first");
        eq(r.read()!.seq, 0);
        eq(r.seek(-3), 0, "before the start: the first keyframe");
        eq(r.seek(99), at, "past the end: the last keyframe");
        r.close();
      }),
    );
  }

  t.test("TsReader: a file cut mid-frame (SIGKILL, power cut) reads its complete frames; probe() gives their duration", () =>
    inDir(() => {
      const path = `${DIR}/c.ts`;
      record("h264", path);
      const b = new Uint8Array(fs.readFile(path));
      const starts = pesOffsets(b);
      eq(starts.length, 20);
      const count = (cut: number) => {
        fs.writeFile(`${DIR}/cut.ts`, b.subarray(0, cut));
        const r = new TsReader(`${DIR}/cut.ts`);
        eq(probe(`${DIR}/cut.ts`).duration, r.duration, "probe() and TsReader");
        const n = readAll(r);
        const keys = n.filter((f) => f.keyframe).length;
        for (const f of n) f.close();
        r.close();
        return [n.length, keys];
      };
      deepEq(count(starts[19] + 100), [19, 2], "a partial packet in the last frame");
      ok(starts[10] + 188 < pesOffsets(b).filter((o) => o > starts[10])[0], "the second keyframe spans packets");
      deepEq(count(starts[10] + 188), [10, 1], "whole packets, the keyframe's PES short of its length");
      deepEq(count(b.length - 1), [19, 2], "one byte short");
      deepEq(count(b.length), [20, 2], "the whole file");
    }),
  );

  t.test("TsReader: bad arguments; not a transport stream, no video, no frame → EBADMSG; missing → ENOENT", () =>
    inDir(() => {
      const R = TsReader as unknown as new (...a: unknown[]) => TsReader;
      throws(() => new R(), TYPE("new TsReader(path: string)"));
      throws(() => new R(5), TYPE("new TsReader(path: string)"));
      throws(() => new R(`${DIR}/none.ts`), { name: "Error", code: "ENOENT", message: `open ${DIR}/none.ts: No such file or directory` });
      throws(() => probe(`${DIR}/none.ts`), { name: "Error", code: "ENOENT", message: `open ${DIR}/none.ts: No such file or directory` });
      throws(() => (probe as (...a: unknown[]) => unknown)(), TYPE("probe(path: string)"));
      const bad = (name: string, bytes: Uint8Array, why: string) => {
        fs.writeFile(`${DIR}/${name}`, bytes);
        throws(() => new R(`${DIR}/${name}`), { name: "Error", code: "EBADMSG", message: `ts: ${why}, in ${DIR}/${name}` });
        throws(() => probe(`${DIR}/${name}`), { name: "Error", code: "EBADMSG", message: `ts: ${why}, in ${DIR}/${name}` }, "probe()");
      };
      bad("junk.ts", new Uint8Array(1000).fill(7), "not an MPEG transport stream (no sync byte at offset 0)");
      bad("empty.ts", new Uint8Array(0), "not an MPEG transport stream (shorter than one packet)");
      const nulls = new Uint8Array(188 * 4);
      for (let o = 0; o < nulls.length; o += 188) nulls.set([0x47, 0x1f, 0xff, 0x10], o);
      bad("nulls.ts", nulls, "no program (no PAT naming a PMT)");
      const path = `${DIR}/ok.ts`;
      record("h265", path);
      const b = new Uint8Array(fs.readFile(path));
      bad("head.ts", b.subarray(0, 188 * 2 + 100), "no complete video frame");
      const noVideo = b.slice(0, 188 * 2);
      const pmt = 188 + 5; // the PMT section: 17 bytes, then its CRC
      noVideo[pmt + 12] = 0x0f; // stream_type: AAC
      const crc = crc32(noVideo.subarray(pmt, pmt + 17));
      noVideo.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], pmt + 17);
      bad("novideo.ts", noVideo, "no H.264 or H.265 video stream (the PMT names none)");
      const r = new TsReader(path);
      throws(() => (r.read as (t: unknown) => unknown)("x"), TYPE("read: track must be a track id (a number)"));
      throws(() => r.read(7), RANGE(`read: ${path} has no track 7`));
      eq(r.read(256)!.keyframe, true, "the video's id");
      throws(() => (r.seek as (s: unknown) => number)("1"), TYPE("seek(seconds: number, track?: number)"));
      throws(() => r.seek(NaN), TYPE("seek(seconds: number, track?: number)"));
      throws(() => r.seek(0, 9), RANGE(`seek: ${path} has no track 9`));
      r.close();
    }),
  );

  t.test("TsReader: close() is idempotent, Symbol.dispose closes; then ERR_CLOSED", () =>
    inDir(() => {
      const path = `${DIR}/x.ts`;
      record("h264", path);
      const r = new TsReader(path);
      const d = (r as unknown as Record<symbol, () => void>)[dispose];
      eq(d, r.close, "Symbol.dispose is close");
      d.call(r);
      r.close();
      const CLOSED = { name: "TypeError", code: "ERR_CLOSED", message: "TsReader is closed" };
      throws(() => r.read(), CLOSED);
      throws(() => r.seek(0), CLOSED);
      throws(() => r.path, CLOSED);
      throws(() => r.duration, CLOSED);
      throws(() => r.tracks, CLOSED);
    }),
  );
}, { sdcardSizeMb: 1 });
