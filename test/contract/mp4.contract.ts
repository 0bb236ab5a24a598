// qcam:mp4's contract, on a 1 MiB SD card (the runtime's --sdcard-size 1).
// The video comes from two small Annex B streams (es-streams.ts: 64x48, 20
// frames, keyframes at 0 and 10; made once with ffmpeg: libx264 / libx265,
// no B-frames) read with EsReader, so every side writes the same frames with
// the same timestamps — riscv64 included, which has no encoder — and the
// writer's files must come out the same size on both sides, byte for byte
// the same layout. Audio frames come from qcam:audio's AudioEncoder.
import { AudioEncoder } from "qcam:audio";
import * as fs from "qcam:fs";
import * as mp4Module from "qcam:mp4";
import { Mp4Reader, Mp4Writer, remux, repair, type SegmentInfo } from "qcam:mp4";
import { EsReader, splitAccessUnits } from "qcam:video";
import { H264_B64 } from "./es-streams.ts";
import { contract, deepEq, eq, ok, throws } from "./kit.ts";
import { RANGE, TYPE, VIDEO, base64, turns, writeAll, writerCases, writerDir } from "./writer-kit.ts";

const DIR = "/sdcard/mp4c";
/** The streams stay on the card while a case runs (the full-card cases count their room). */
const streams = writerDir(DIR, { keepStreams: true });
const { stream, frames, inDir } = streams;
const cases = writerCases(streams, DIR, { name: "Mp4Writer", ext: "mp4", cls: Mp4Writer as unknown as new (...a: unknown[]) => Mp4Writer });

function bytesOf(path: string): Uint8Array {
  return new Uint8Array(fs.readFile(path));
}
function has(path: string, type: string): boolean {
  const b = bytesOf(path);
  const t = [...type].map((c) => c.charCodeAt(0));
  for (let i = 0; i + 4 <= b.length; i++) if (b[i] === t[0] && b[i + 1] === t[1] && b[i + 2] === t[2] && b[i + 3] === t[3]) return true;
  return false;
}

/** The file's top-level box types. */
function topBoxes(path: string): string[] {
  const b = bytesOf(path);
  const out: string[] = [];
  for (let at = 0; at + 8 <= b.length; ) {
    let size = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
    if (size === 1) size = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(at + 8));
    out.push(String.fromCharCode(...b.subarray(at + 4, at + 8)));
    if (size < 8) break;
    at += size;
  }
  return out;
}

/** The loop-recording case's segments ([index, frames, full]; the last is
 * close()'s) and the files onFull named. */
const EXPECT_LOOP: [number, number, boolean][] = [[0, 10, false], [1, 10, false], [2, 10, false], [3, 10, false], [4, 6, true], [5, 10, false], [6, 10, false], [7, 10, false]];
const EXPECT_FULL = ["s003.mp4", "s004.mp4", "s004.mp4", "s006.mp4", "s007.mp4"];

export default contract(
  "qcam:mp4",
  (t) => {
    t.test("exports; Mp4Writer's shape", () => {
      deepEq(Object.keys(mp4Module).sort(), ["Mp4Reader", "Mp4Writer", "remux", "repair"]);
      cases.shape();
    });

    t.test("bad options: the first one is reported", () => {
      const W = Mp4Writer as unknown as new (...a: unknown[]) => Mp4Writer;
      const p = `${DIR}/x.mp4`;
      cases.badOptions();
      throws(() => new W(p), TYPE("new Mp4Writer(path, {video?, audio?, ...})"));
      throws(() => new W(p, {}), TYPE("Mp4Writer needs a video or an audio track"));
      throws(() => new W(p, { video: { codec: "h264", width: 64, height: 48, parameterSets: { sps: "x", pps: new ArrayBuffer(4) } } }), TYPE("video.parameterSets: each one an ArrayBuffer with a NAL unit"));
      throws(() => new W(p, { audio: { codec: "opus", sampleRate: 8000 } }), TYPE('audio.codec must be "alaw" or "ulaw"'));
      throws(() => new W(p, { audio: { codec: "alaw", sampleRate: 11025 } }), RANGE("audio.sampleRate must be 8000 or 16000"));
      throws(() => new W(p, { audio: { codec: "alaw" } }), TYPE("audio.sampleRate must be 8000 or 16000"));
      throws(() => new W(p, { audio: { codec: "alaw", sampleRate: 8000, channels: 2 } }), RANGE("audio.channels must be 1"));
      throws(() => new W(p, { video: VIDEO("h264"), fragmentMs: 50 }), RANGE("fragmentMs must be an integer 100..10000"));
      throws(() => new W(p, { video: VIDEO("h264"), fragmentMs: "1000" }), TYPE("fragmentMs must be an integer 100..10000"));
      throws(() => new W(p, { video: VIDEO("h264"), finalize: 1 }), TYPE("finalize must be a boolean"));
      throws(() => new W(p, { video: VIDEO("h264"), onError: "x" }), TYPE("onError must be a function"));
      eq(fs.exists(DIR), false, "nothing was created");
    });

    t.test("video: an Encoder, or else read as a track description (another native object too)", () =>
      inDir(() => {
        const es = new EsReader(stream("h264"));
        const W = Mp4Writer as unknown as new (...a: unknown[]) => Mp4Writer;
        throws(() => new W(`${DIR}/x.mp4`, { video: es }), TYPE("video needs width and height"));
        es.close();
        throws(() => new W(`${DIR}/x.mp4`, { video: es }), { name: "TypeError", code: "ERR_CLOSED" });
      }),
    );

    t.test("missing folders are made; a file that cannot be created throws its code", () => cases.missingFolders());

    for (const codec of ["h264", "h265"] as const) {
      t.test(`pull mode, ${codec}: fragments, flush, close → a regular MP4 the reader reads back`, () =>
        inDir(() => {
          const path = `${DIR}/a.mp4`;
          const w = new Mp4Writer(path, { video: VIDEO(codec), fragmentMs: 200 });
          eq(w.path, path);
          eq(w.kind, "mp4");
          const fr = frames(codec);
          eq(fr.length, 20);
          writeAll(w, fr.slice(0, 12));
          const mid = w.stats();
          // 200 ms fragments: the first is cut before frame 6; the keyframe at 10 comes too early to end the second
          deepEq({ ...mid, bytes: mid.bytes > 0 }, { videoFrames: 6, audioFrames: 0, fragments: 1, bytes: true, segments: 0, dropped: 0 });
          w.flush();
          eq(w.stats().videoFrames, 12, "flush writes the held-back frame too");
          writeAll(w, fr.slice(12));
          const info = w.close();
          ok(info);
          eq(info!.path, path);
          eq(info!.index, 0);
          eq(info!.frames, 20);
          eq(info!.duration, 20 / 30);
          eq(info!.size, fs.stat(path).size);
          eq(info!.size, codec === "h264" ? EXPECT.h264.finalSize : EXPECT.h265.finalSize, "the same bytes on both sides");
          eq(has(path, "moof"), false);
          eq(w.close(), undefined, "close twice");
          throws(() => w.stats(), { name: "TypeError", code: "ERR_CLOSED", message: "Mp4Writer is closed" });
          throws(() => w.path, { name: "TypeError", code: "ERR_CLOSED", message: "Mp4Writer is closed" });

          const r = new Mp4Reader(path);
          eq(r.fragmented, false);
          deepEq(r.tracks, [{ id: 1, kind: "video", codec, width: 64, height: 48, timescale: 90000, duration: 20 / 30, samples: 20 }]);
          const s = r.samples();
          eq(s.length, 20);
          deepEq(s.filter((x) => x.keyframe).map((x) => x.index), [0, 10]);
          deepEq(s.slice(0, 3).map((x) => [x.ptsUs, x.dtsUs, x.durationUs]), [[0, 0, 33333], [33333, 33333, 33333], [66666, 66666, 33333]]);
          let n = 0;
          for (let f = r.read(); f; f = r.read(), n++) {
            if (n === 0 || n === 10) {
              ok(f.keyframe, `frame ${n} is a keyframe`);
              const b = new Uint8Array(f.toArrayBuffer());
              deepEq([...b.subarray(0, 4)], [0, 0, 0, 1], "Annex B");
            }
            eq(f.ptsUs, s[n].ptsUs);
            f.close();
          }
          eq(n, 20);
          eq(r.seek(0.5), s[10].ptsUs / 1e6, "the keyframe before 0.5 s");
          eq(r.read()!.keyframe, true);
          r.close();
        }),
      );
    }

    t.test("finalize: false keeps the fragmented file (moof boxes, mvex); the reader reads it", () =>
      inDir(() => {
        const path = `${DIR}/f.mp4`;
        const w = new Mp4Writer(path, { video: VIDEO("h264"), finalize: false });
        writeAll(w, frames("h264"));
        const info = w.close()!;
        eq(info.frames, 20);
        eq(info.size, EXPECT.h264.fragmentedSize, "the same bytes on both sides");
        ok(has(path, "moof") && has(path, "mvex"));
        const r = new Mp4Reader(path);
        eq(r.fragmented, true);
        eq(r.tracks[0].samples, 20);
        eq(r.duration, 20 / 30);
        r.close();
      }),
    );

    t.test("frames before the first keyframe are dropped and counted", () =>
      inDir(() => {
        const w = new Mp4Writer(`${DIR}/d.mp4`, { video: VIDEO("h264") });
        writeAll(w, frames("h264", { skip: 3 }));
        eq(w.stats().dropped, 7);
        const info = w.close()!;
        eq(info.frames, 10);
        const r = new Mp4Reader(`${DIR}/d.mp4`);
        eq(r.samples()[0].keyframe, true);
        eq(r.samples()[0].ptsUs, 0, "time starts at the first keyframe");
        r.close();
      }),
    );

    t.test("parameter sets given up front: frames before the first keyframe are still dropped", () =>
      inDir(() => {
        // The SPS and PPS of the stream's first keyframe (Annex B, 4-byte start codes).
        const key = frames("h264");
        const b = new Uint8Array(key[0].toArrayBuffer());
        key.forEach((f) => f.close());
        const units: Uint8Array[] = [];
        for (let i = 0, start = -1; i <= b.length; i++) {
          const sc = i + 4 <= b.length && b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 0 && b[i + 3] === 1;
          if (sc || i === b.length) {
            if (start >= 0) units.push(b.slice(start, i));
            start = i + 4;
            i += 3;
          }
        }
        const nal = (type: number) => units.find((u) => (u[0] & 0x1f) === type)!.slice().buffer;
        const w = new Mp4Writer(`${DIR}/p.mp4`, { video: { ...VIDEO("h264"), parameterSets: { sps: nal(7), pps: nal(8) } } });
        writeAll(w, frames("h264", { skip: 3 }));
        eq(w.stats().dropped, 7);
        eq(w.close()!.frames, 10);
        const r = new Mp4Reader(`${DIR}/p.mp4`);
        deepEq([r.samples()[0].keyframe, r.samples()[0].ptsUs], [true, 0]);
        r.close();
      }),
    );

    t.test("write(): what is not a frame, a codec without a track, a writer closed", () => cases.writeErrors());

    t.test("segments by size: split at keyframes; onSegment for each finished file at a loop turn, close() returns the last", () =>
      cases.segmentsBySize((path) => {
        const r = new Mp4Reader(path);
        eq(r.tracks[0].samples, 10);
        eq(r.samples()[0].keyframe, true);
        r.close();
      }),
    );

    t.test("segments by time; close() delivers the reports the loop has not yet", () => cases.segmentsByTime());

    t.test("video and G.711 audio: both tracks, in sync from the first keyframe", () =>
      inDir(() => {
        const path = `${DIR}/av.mp4`;
        const w = new Mp4Writer(path, { video: VIDEO("h264"), audio: { codec: "alaw", sampleRate: 8000 } });
        const enc = new AudioEncoder({ codec: "alaw" });
        const pcm = new Int16Array(160);
        const fr = frames("h264");
        const t0 = fr[0].ptsUs;
        let audio = 0;
        for (const f of fr) {
          // 20 ms audio frames up to this video frame's time
          while (t0 + audio * 20000 <= f.ptsUs) {
            const a = enc.encode(pcm, t0 + audio * 20000);
            w.write(a);
            a.close();
            audio++;
          }
          w.write(f);
          f.close();
        }
        enc.close();
        const info = w.close()!;
        eq(info.frames, 20);
        const r = new Mp4Reader(path);
        eq(r.tracks.length, 2);
        const a = r.tracks[1];
        deepEq([a.id, a.kind, a.codec, a.sampleRate, a.channels, a.timescale], [2, "audio", "alaw", 8000, 1, 8000]);
        eq(a.duration, (audio * 160) / 8000);
        const bytes = r.samples(2).reduce((n, s) => n + s.size, 0);
        eq(bytes, audio * 160);
        eq(r.samples(2)[0].ptsUs, 0, "audio starts with the video");
        r.close();
      }),
    );

    t.test("audio that starts 100 ms after the video: the same start times read back finalized (edit list) and fragmented (tfdt)", () =>
      inDir(() => {
        const starts: number[][] = [];
        for (const finalize of [true, false]) {
          const path = `${DIR}/late-${finalize}.mp4`;
          const w = new Mp4Writer(path, { video: VIDEO("h264"), audio: { codec: "alaw", sampleRate: 8000 }, finalize });
          const enc = new AudioEncoder({ codec: "alaw" });
          const pcm = new Int16Array(160);
          const fr = frames("h264");
          const t0 = fr[0].ptsUs;
          let audio = 0;
          for (const f of fr) {
            while (t0 + 100_000 + audio * 20_000 <= f.ptsUs) {
              const a = enc.encode(pcm, t0 + 100_000 + audio * 20_000);
              w.write(a);
              a.close();
              audio++;
            }
            w.write(f);
            f.close();
          }
          enc.close();
          w.close();
          eq(has(path, "elst"), finalize, "an empty edit in the finalized file only");
          eq(has(path, "moof"), !finalize);
          const r = new Mp4Reader(path);
          eq(r.fragmented, !finalize);
          const a = r.samples(2);
          eq(a.reduce((n, x) => n + x.size, 0), audio * 160, "every audio byte");
          eq(a[0].ptsUs, 100_000, `audio starts at 100 ms, finalize: ${finalize}`);
          eq(a[0].dtsUs, 100_000);
          eq(r.tracks[1].duration, (audio * 160) / 8000, "the delay is not part of the track's duration");
          const f = r.read(2)!;
          eq(f.ptsUs, 100_000, "read() says the same");
          f.close();
          const before = a.filter((x) => x.ptsUs <= 150_000).at(-1)!;
          eq(r.seek(0.15, 2), before.ptsUs / 1e6, "seek on the audio track: the sample at or before");
          const g = r.read(2)!;
          eq(g.ptsUs, before.ptsUs);
          g.close();
          eq(r.seek(0.3), 0, "seek on the video: the keyframe at or before 0.3 s, not the one after (1/3 s)");
          starts.push([r.samples(1)[0].ptsUs, a[0].ptsUs, a.at(-1)!.ptsUs + a.at(-1)!.durationUs]);
          r.close();
        }
        deepEq(starts[0], starts[1], "finalized and fragmented read the same");
        eq(starts[0][0], 0, "video starts at 0");
        // The audio edit's media time (0 as written) says where presentation starts:
        // 800 units (100 ms) cancel the empty edit; 1600 present the first audio 100 ms before 0.
        const b = bytesOf(`${DIR}/late-true.mp4`);
        const e = b.findIndex((_, i) => b[i] === 0x65 && b[i + 1] === 0x6c && b[i + 2] === 0x73 && b[i + 3] === 0x74); // 'elst'
        deepEq([b[e + 4], b[e + 11]], [1, 2], "a version 1 elst, two entries: the empty edit, then the media");
        for (const [media, want] of [[800, 0], [1600, -100_000]]) {
          const c = b.slice();
          new DataView(c.buffer).setUint32(e + 44, media); // the second entry's media_time (64 bits, high half 0)
          fs.writeFile(`${DIR}/late-edit.mp4`, c);
          const r = new Mp4Reader(`${DIR}/late-edit.mp4`);
          deepEq([r.samples(1)[0].ptsUs, r.samples(2)[0].ptsUs, r.samples(2)[0].dtsUs], [0, want, want], `media_time ${media}`);
          r.close();
        }
      }),
    );

    t.test("audio only: µ-law at 16 kHz, fragments by its own clock, the same bytes on both sides", () =>
      inDir(() => {
        const path = `${DIR}/a.mp4`;
        const w = new Mp4Writer(path, { audio: { codec: "ulaw", sampleRate: 16000 }, fragmentMs: 500 });
        const enc = new AudioEncoder({ codec: "ulaw", sampleRate: 16000 });
        const pcm = new Int16Array(320).map((_, i) => Math.round(8000 * Math.sin(i / 5)));
        for (let i = 0; i < 150; i++) {
          const f = enc.encode(pcm, 1_000_000 + i * 20_000);
          w.write(f);
          f.close();
          if (i === 50) eq(w.stats().audioFrames, 50, "two 500 ms fragments are out when frame 50 comes");
        }
        enc.close();
        const info = w.close()!;
        deepEq([info.frames, info.duration], [0, 3], "duration: the audio's without video");
        eq(info.size, EXPECT.ulaw16k.finalSize, "the same bytes on both sides");
        const r = new Mp4Reader(path);
        deepEq(r.tracks.map((t) => [t.id, t.kind, t.codec, t.sampleRate, t.timescale, t.duration]), [[1, "audio", "ulaw", 16000, 16000, 3]]);
        eq(r.samples(1).reduce((n, x) => n + x.size, 0), 150 * 320);
        const f = r.read(1)!;
        eq(f.codec as string, "ulaw");
        eq(f.ptsUs, 0);
        f.close();
        r.close();
      }),
    );

    t.test("linked: camera → encoder → Mp4Writer; ERR_BUSY while linked; every frame the link wrote is in the file", () =>
      cases.linked({ fragmentMs: 100 }, (path) => {
        const r = new Mp4Reader(path);
        deepEq(r.tracks.map((x) => [x.codec, x.width, x.height, x.samples]), [["h264", 64, 48, 20]]);
        deepEq(r.samples().filter((x) => x.keyframe).map((x) => x.index), [0, 10]);
        r.close();
      }), { needs: ["encoder"] });

    t.test("a full card: ENOSPC to onError at a loop turn, the writer stops, what was written reads back", () =>
      inDir(() => {
        const filler = `${DIR}/filler`;
        const fr1 = frames("h264"), fr2 = frames("h264");
        fs.writeFile(filler, new Uint8Array(Math.max(0, fs.space().free - 2600)));
        try {
          const errors: string[] = [];
          const w = new Mp4Writer(`${DIR}/full.mp4`, { video: VIDEO("h264"), fragmentMs: 100, finalize: false, onError: (e) => errors.push(`${e.code} ${e.message}`) });
          writeAll(w, fr1);
          eq(errors.length, 0);
          turns();
          deepEq(errors, [`ENOSPC cannot write ${DIR}/full.mp4: No space left on device`]);
          const st = w.stats();
          ok(st.videoFrames > 0 && st.videoFrames < 20, `${st.videoFrames} frames fit`);
          const info = w.close()!;
          eq(info.frames, st.videoFrames);
          eq(info.size, fs.stat(`${DIR}/full.mp4`).size);
          const r = new Mp4Reader(`${DIR}/full.mp4`);
          eq(r.tracks[0].samples, info.frames);
          r.close();
          // without onError, write() throws it
          fs.remove(`${DIR}/full.mp4`);
          fs.writeFile(`${DIR}/more`, new Uint8Array(Math.max(0, fs.space().free - 2600)));
          const w2 = new Mp4Writer(`${DIR}/full2.mp4`, { video: VIDEO("h264"), fragmentMs: 100, finalize: false });
          let thrown = "";
          for (const f of fr2) {
            try {
              w2.write(f);
            } catch (e) {
              thrown ||= `${(e as { code: string }).code} ${(e as Error).message}`;
            }
            f.close();
          }
          eq(thrown, `ENOSPC cannot write ${DIR}/full2.mp4: No space left on device`);
          w2.close();
        } finally {
          fs.remove(filler);
        }
      }),
    );

    t.test("finalize on a card without room for a copy: in place, the moov at the end; every frame reads back", () =>
      inDir(() => {
        // the fragmented file's size, from a writer that keeps it so
        const ref = new Mp4Writer(`${DIR}/ref.mp4`, { video: VIDEO("h264"), fragmentMs: 100, finalize: false });
        writeAll(ref, frames("h264"));
        const fragmented = ref.close()!.size;
        fs.remove(`${DIR}/ref.mp4`);
        const filler = `${DIR}/filler`;
        fs.writeFile(filler, new Uint8Array(Math.max(0, fs.space().free - fragmented - (fragmented >> 1))));
        const errors: string[] = [];
        const w = new Mp4Writer(`${DIR}/tight.mp4`, { video: VIDEO("h264"), fragmentMs: 100, onError: (e) => errors.push(e.code) });
        writeAll(w, frames("h264"));
        ok(fs.space().free < fragmented, `${fs.space().free} bytes free: no room for a second copy`);
        const info = w.close()!;
        turns();
        deepEq(errors, []);
        eq(info.frames, 20);
        eq(info.size, fs.stat(info.path).size);
        deepEq(topBoxes(info.path), ["ftyp", "mdat", "moov"], "one mdat over what the fragments were, the index after it");
        deepEq(fs.list(DIR).sort(), ["filler", "in.h264", "tight.mp4"], "no copy beside it");
        const r = new Mp4Reader(info.path);
        eq(r.fragmented, false);
        deepEq(r.tracks.map((x) => [x.codec, x.samples, x.duration]), [["h264", 20, 20 / 30]]);
        deepEq(r.samples().filter((x) => x.keyframe).map((x) => x.index), [0, 10]);
        const back: number[] = [];
        for (let f = r.read(); f; f = r.read()) {
          back.push(f.size);
          f.close();
        }
        eq(back.length, 20);
        r.close();
        deepEq(repair(info.path), { status: "ok", droppedBytes: 0, videoFrames: 20, audioFrames: 0, duration: 20 / 30 });
        // with room, the same frames go moov first
        fs.remove(filler);
        const roomy = new Mp4Writer(`${DIR}/roomy.mp4`, { video: VIDEO("h264"), fragmentMs: 100 });
        writeAll(roomy, frames("h264"));
        deepEq(topBoxes(roomy.close()!.path), ["ftyp", "moov", "mdat"]);
      }),
    );

    t.test("an in-place finalize cut before its last write (the new moov whole or in part): repair finalizes the fragments again", () =>
      inDir(() => {
        // what a cut leaves: the fragments whole, then the new moov (here a regular file's, from a finalized copy)
        const fin = new Mp4Writer(`${DIR}/fin.mp4`, { video: VIDEO("h264"), fragmentMs: 100 });
        writeAll(fin, frames("h264"));
        fin.close();
        const done = bytesOf(`${DIR}/fin.mp4`);
        const ftyp = (done[0] << 24) | (done[1] << 16) | (done[2] << 8) | done[3];
        const moov = done.subarray(ftyp, ftyp + ((done[ftyp] << 24) | (done[ftyp + 1] << 16) | (done[ftyp + 2] << 8) | done[ftyp + 3]));
        for (const cut of [moov.length, moov.length >> 1, 5]) {
          const path = `${DIR}/cut${cut}.mp4`;
          const w = new Mp4Writer(path, { video: VIDEO("h264"), fragmentMs: 100, finalize: false });
          writeAll(w, frames("h264"));
          const fragmented = w.close()!.size;
          fs.appendFile(path, moov.subarray(0, cut));
          const r = repair(path);
          deepEq([r.status, r.droppedBytes, r.videoFrames], ["repaired", cut, 20], `cut after ${cut} of ${moov.length} bytes`);
          const back = new Mp4Reader(path);
          eq(back.fragmented, false);
          eq(back.tracks[0].samples, 20);
          back.close();
          ok(fs.stat(path).size < fragmented + moov.length, "the stray moov went");
        }
      }),
    );

    t.test("loop recording on a nearly full card: segments finalize (in place when no copy fits); a full card ends one early, onError never hears of it, and the writer goes on once room is made", () =>
      inDir(() => {
        // 12 copies of the stream: 240 frames (8 s), a keyframe every 10
        const one = base64(H264_B64);
        const input = `${DIR}/long.h264`;
        const all = new Uint8Array(one.length * 12);
        for (let i = 0; i < 12; i++) all.set(one, i * one.length);
        fs.writeFile(input, all);
        fs.mkdir(`${DIR}/rec`);
        const filler = `${DIR}/filler`;
        fs.writeFile(filler, new Uint8Array(Math.max(0, fs.space().free - 9000)));
        const seen: SegmentInfo[] = [];
        const errors: string[] = [];
        const full: string[] = [];
        let deleted = 0;
        const w = new Mp4Writer(`${DIR}/rec/s%03i.mp4`, {
          video: VIDEO("h264"),
          fragmentMs: 100,
          segment: { seconds: 0.3 },
          onError: (e) => errors.push(e.code),
          onSegment: (s) => seen.push(s),
          onFull: (path) => {
            full.push(path);
            // what a loop recorder does: the oldest recording goes, never the one being written
            for (const name of fs.list(`${DIR}/rec`).filter((n) => `${DIR}/rec/${n}` !== w.path).slice(0, 1)) {
              fs.remove(`${DIR}/rec/${name}`);
              deleted++;
            }
          },
        });
        const es = new EsReader(input, { fps: 30 });
        let n = 0;
        for (let f = es.read(); f; f = es.read(), n++) {
          w.write(f);
          f.close();
          turns(1); // the app's loop
        }
        es.close();
        eq(n, 240);
        const dropped = w.stats().dropped;
        const last = w.close()!;
        const files = [...seen, last];
        deepEq(errors, [], "a full card is not an error when recording in segments");
        ok(full.length > 0, "the card filled up at least once");
        ok(deleted > 0, "room was made");
        deepEq(full.map((p) => p.slice(-8)), EXPECT_FULL, `onFull named the file cut short or not started: ${JSON.stringify(full.map((p) => p.slice(-8)))}`);
        const framesIn = files.reduce((a, s) => a + s.frames, 0);
        eq(framesIn + dropped, 240, `every frame is in a file or counted as dropped: ${framesIn} + ${dropped}`);
        deepEq(files.map((s) => [s.index, s.frames, s.full]), EXPECT_LOOP, `the same segments on both sides: ${JSON.stringify(files.map((s) => [s.index, s.frames, s.full]))}`);
        eq(framesIn, EXPECT_LOOP.reduce((a, x) => a + x[1], 0), "the frames recorded; the rest were lost while the card was full");
        let inPlace = 0;
        const left = fs.list(`${DIR}/rec`);
        ok(left.length >= 3, `${left.length} recordings left`);
        for (const name of left) {
          const path = `${DIR}/rec/${name}`;
          const info = files.filter((s) => s.path === path).pop()!;
          ok(info !== undefined, `${name} was reported`);
          eq(fs.stat(path).size, info.size);
          const r = new Mp4Reader(path);
          eq(r.tracks[0].samples, info.frames);
          eq(r.samples()[0].keyframe, true);
          r.close();
          if (topBoxes(path).join() === "ftyp,mdat,moov") inPlace++;
        }
        ok(inPlace > 0, "some segment was finalized in place");
        fs.remove(filler);
      }),
    );

    t.test("remux(): shape and bad arguments, the first one reported", () =>
      inDir(() => {
        eq(remux.name, "remux");
        eq(remux.length, 2);
        const R = remux as unknown as (...a: unknown[]) => unknown;
        const usage = 'remux(input: string, output: string, options?: {fps?: number, codec?: "h264" | "h265"})';
        const input = stream("h264");
        throws(() => R(), TYPE(usage));
        throws(() => R(input), TYPE(usage));
        throws(() => R(1, `${DIR}/o.mp4`), TYPE(usage));
        throws(() => R(input, 2), TYPE(usage));
        throws(() => R(input, `${DIR}/o.mp4`, "30"), TYPE(usage));
        throws(() => R(input, `${DIR}/o.mp4`, { fps: "30" }), TYPE("remux: fps must be a number (0 < fps <= 240)"));
        throws(() => R(input, `${DIR}/o.mp4`, { fps: 0 }), RANGE("remux: fps must be a number (0 < fps <= 240)"));
        throws(() => R(input, `${DIR}/o.mp4`, { fps: 241 }), RANGE("remux: fps must be a number (0 < fps <= 240)"));
        throws(() => R(input, `${DIR}/o.mp4`, { fps: NaN }), RANGE("remux: fps must be a number (0 < fps <= 240)"));
        throws(() => R(input, `${DIR}/o.mp4`, { codec: "vp9" }), TYPE('remux: codec must be "h264" or "h265"'));
        throws(() => R(`${DIR}/in.bin`, `${DIR}/o.mp4`), TYPE('remux: cannot tell the codec from the file name: pass {codec: "h264" | "h265"}'));
        deepEq(fs.list(DIR), ["in.h264"], "nothing written");
      }),
    );

    for (const codec of ["h264", "h265"] as const) {
      t.test(`remux(): ${codec} stream → a regular MP4, moov first, every frame with its time, the same bytes on both sides`, () =>
        inDir(() => {
          const input = stream(codec);
          const out = `${DIR}/new/r.mp4`;
          const res = remux(input, out);
          deepEq(res, { frames: 20, keyframes: 2, dropped: 0, duration: 20 / 30, size: EXPECT.remux[codec], codec, width: 64, height: 48 });
          eq(fs.stat(out).size, res.size, "size is the file's");
          deepEq(fs.list(`${DIR}/new`), ["r.mp4"], "the folder made, nothing else left in it");
          const b = bytesOf(out);
          const ftyp = (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
          eq(String.fromCharCode(...b.subarray(ftyp + 4, ftyp + 8)), "moov", "the moov right after the ftyp");
          eq(has(out, "moof"), false);
          const r = new Mp4Reader(out);
          eq(r.fragmented, false);
          deepEq(r.tracks.map((x) => [x.codec, x.width, x.height, x.samples, x.duration]), [[codec, 64, 48, 20, 20 / 30]]);
          const s = r.samples();
          deepEq(s.filter((x) => x.keyframe).map((x) => x.index), [0, 10]);
          deepEq(s.map((x) => x.ptsUs), s.map((_, i) => Math.floor((i * 1e6) / 30)), "frame i at i / 30 s (whole µs)");
          // the pictures are the stream's: the same access units back (parameter sets in-band on keyframes)
          const aus = splitAccessUnits(bytesOf(input), codec);
          for (let i = 0; i < 20; i++) {
            const f = r.read()!;
            const got = new Uint8Array(f.toArrayBuffer());
            const want = new Uint8Array(aus[i]);
            eq(f.keyframe, i % 10 === 0);
            f.close();
            ok(got.length > 0 && got.length <= want.length + 16, `frame ${i}: ${got.length} bytes for an access unit of ${want.length}`);
          }
          eq(r.read(), null);
          r.close();
        }),
      );
    }

    t.test("remux(): fps sets the timing (25, 30000/1001); frames before the first keyframe are left out and counted", () =>
      inDir(() => {
        const input = stream("h264");
        const a = remux(input, `${DIR}/a.mp4`, { fps: 25 });
        eq(a.duration, 20 / 25);
        const ra = new Mp4Reader(`${DIR}/a.mp4`);
        deepEq(ra.samples().slice(0, 3).map((x) => [x.ptsUs, x.durationUs]), [[0, 40000], [40000, 40000], [80000, 40000]]);
        ra.close();
        const b = remux(input, `${DIR}/b.mp4`, { fps: 30000 / 1001 });
        ok(Math.abs(b.duration - (20 * 1001) / 30000) < 1e-9, `duration ${b.duration}`);
        const rb = new Mp4Reader(`${DIR}/b.mp4`);
        eq(rb.samples()[1].durationUs, 33366);
        rb.close();
        // a stream that starts three frames in: frames 3..9 come before the keyframe at 10
        const aus = splitAccessUnits(bytesOf(input), "h264");
        const cut = aus.slice(3).map((x) => new Uint8Array(x));
        const joined = new Uint8Array(cut.reduce((n, x) => n + x.length, 0));
        cut.reduce((at, x) => (joined.set(x, at), at + x.length), 0);
        fs.writeFile(`${DIR}/cut.bin`, joined);
        const c = remux(`${DIR}/cut.bin`, `${DIR}/c.mp4`, { codec: "h264" });
        deepEq([c.frames, c.keyframes, c.dropped, c.duration], [10, 1, 7, 10 / 30]);
        const rc = new Mp4Reader(`${DIR}/c.mp4`);
        deepEq([rc.samples()[0].keyframe, rc.samples()[0].ptsUs], [true, 0]);
        rc.close();
      }),
    );

    t.test("remux(): no input, garbage, a stream cut before its first picture, no keyframe: clear errors and no file left", () =>
      inDir(() => {
        const input = stream("h264");
        const out = `${DIR}/o.mp4`;
        throws(() => remux(`${DIR}/none.h264`, out), { name: "Error", code: "ENOENT", message: `cannot remux ${DIR}/none.h264 to ${out}: No such file or directory` });
        fs.writeFile(`${DIR}/junk.h264`, new Uint8Array(5000).fill(7));
        const bad = (p: string, what = "no keyframe") => ({ name: "Error", code: "EBADMSG", message: `${what} in ${p} (not an H.264 elementary stream, or cut before its first picture)` });
        throws(() => remux(`${DIR}/junk.h264`, out), bad(`${DIR}/junk.h264`));
        fs.writeFile(`${DIR}/empty.h264`, new Uint8Array(0));
        throws(() => remux(`${DIR}/empty.h264`, out), bad(`${DIR}/empty.h264`));
        fs.writeFile(`${DIR}/short.h264`, bytesOf(input).subarray(0, 20)); // inside the SPS
        throws(() => remux(`${DIR}/short.h264`, out), bad(`${DIR}/short.h264`));
        const aus = splitAccessUnits(bytesOf(input), "h264");
        fs.writeFile(`${DIR}/p.h264`, new Uint8Array(aus[1]));
        throws(() => remux(`${DIR}/p.h264`, out), bad(`${DIR}/p.h264`));
        eq(fs.exists(out), false);
        // a keyframe without usable parameter sets: just the IDR slice, its SPS and PPS cut away
        const key = new Uint8Array(aus[0]);
        let at = key.length - 4;
        while (at > 0 && !(key[at] === 0 && key[at + 1] === 0 && key[at + 2] === 1 && (key[at + 3] & 0x1f) === 5)) at--;
        fs.writeFile(`${DIR}/idr.h264`, key.subarray(at));
        throws(() => remux(`${DIR}/idr.h264`, out), bad(`${DIR}/idr.h264`, "no keyframe with usable parameter sets"));
        // a failed remux leaves an existing output as it was
        fs.writeFile(out, new Uint8Array([1, 2, 3]));
        throws(() => remux(`${DIR}/junk.h264`, out), { name: "Error", code: "EBADMSG" });
        deepEq([...bytesOf(out)], [1, 2, 3]);
        deepEq(fs.list(DIR), ["empty.h264", "idr.h264", "in.h264", "junk.h264", "o.mp4", "p.h264", "short.h264"], "no temporary file");
      }),
    );

    t.test("remux(): a full card: ENOSPC, no output and no temporary file left, an existing output kept", () =>
      inDir(() => {
        const input = stream("h265");
        const out = `${DIR}/full.mp4`;
        fs.writeFile(out, new Uint8Array([9]));
        const filler = `${DIR}/filler`;
        fs.writeFile(filler, new Uint8Array(Math.max(0, fs.space().free - 4000)));
        try {
          throws(() => remux(input, out), { name: "Error", code: "ENOSPC", message: `cannot remux ${input} to ${out}: No space left on device` });
          deepEq([...bytesOf(out)], [9]);
          deepEq(fs.list(DIR), ["filler", "full.mp4", "in.h265"]);
          fs.remove(out);
          throws(() => remux(input, out), { name: "Error", code: "ENOSPC" });
          deepEq(fs.list(DIR), ["filler", "in.h265"]);
        } finally {
          fs.remove(filler);
        }
        eq(remux(input, out).frames, 20, "with room it works");
      }),
    );

    t.test("unknown option keys are refused, naming the key: Mp4Writer (and its video, audio, segment, parameterSets), remux, repair", () =>
      inDir(() => {
        const W = Mp4Writer as unknown as new (...a: unknown[]) => Mp4Writer;
        const p = `${DIR}/u.mp4`;
        const unknown = (what: string, key: string, known: string) => TYPE(`unknown ${what} option "${key}" (known: ${known})`);
        const TOP = "video, audio, fragmentMs, finalize, segment, onSegment, onFull, onError";
        throws(() => new W(p, { video: VIDEO("h264"), fragmentMS: 500 }), unknown("Mp4Writer", "fragmentMS", TOP));
        // before any other check: the misspelt key is what is wrong
        throws(() => new W(p, { vidoe: VIDEO("h264") }), unknown("Mp4Writer", "vidoe", TOP));
        throws(() => new W(p, { video: VIDEO("h264"), finalize: 1, x: undefined }), unknown("Mp4Writer", "x", TOP));
        throws(() => new W(p, { video: { ...VIDEO("h264"), fps: 30 } }), unknown("Mp4Writer video", "fps", "codec, width, height, parameterSets"));
        const ps = { sps: new ArrayBuffer(4), pps: new ArrayBuffer(4), sei: new ArrayBuffer(4) };
        throws(() => new W(p, { video: { ...VIDEO("h264"), parameterSets: ps } }), unknown("video.parameterSets", "sei", "vps, sps, pps"));
        throws(() => new W(p, { audio: { codec: "alaw", sampleRate: 8000, rate: 8000 } }), unknown("Mp4Writer audio", "rate", "codec, sampleRate, channels"));
        throws(() => new W(p, { video: VIDEO("h264"), segment: { seconds: 1, minutes: 1 } }), unknown("Mp4Writer segment", "minutes", "seconds, bytes"));
        const R = remux as unknown as (...a: unknown[]) => unknown;
        throws(() => R(stream("h264"), `${DIR}/o.mp4`, { fps: 25, rate: 25 }), unknown("remux", "rate", "fps, codec"));
        const Rp = repair as unknown as (...a: unknown[]) => unknown;
        throws(() => Rp(`${DIR}/none.mp4`, { finalise: false }), unknown("repair", "finalise", "finalize"));
        deepEq(fs.list(DIR), ["in.h264"], "nothing written");
        // every known key is taken, an undefined one too
        const w = new Mp4Writer(p, { video: VIDEO("h264"), fragmentMs: 500, finalize: true, segment: undefined, onFull: undefined, onError: undefined });
        w.close();
      }),
    );

    t.test("not an MP4: Mp4Reader and repair name the file's first bytes (its first 4, as text or hex)", () =>
      inDir(() => {
        const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));
        const cases: [string, Uint8Array, string][] = [
          ["wav", new Uint8Array([...ascii("RIFF"), 36, 8, 0, 0, ...ascii("WAVEfmt ")]), "mp4: not an MP4 file (it starts with 'RIFF', not an ftyp box)"],
          ["text", new Uint8Array(ascii("not a video")), "mp4: not an MP4 file (it starts with 'not ', not an ftyp box)"],
          ["mkv", new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 1, 0, 0, 0]), "mp4: not an MP4 file (it starts with 0x1a45dfa3, not an ftyp box)"],
          ["short", new Uint8Array([0, 0, 0, 8, 0x66]), "mp4: not an MP4 file (5 bytes, no ftyp box)"],
          ["empty", new Uint8Array(0), "mp4: the file is empty"],
        ];
        for (const [name, bytes, why] of cases) {
          const path = `${DIR}/${name}.mp4`;
          fs.writeFile(path, bytes);
          throws(() => new Mp4Reader(path), { name: "Error", code: "EBADMSG", message: `${why}, in ${path}` }, name);
          const r = repair(path);
          eq(r.status, "unrecoverable", name);
          eq(r.reason, why, name);
          eq(fs.stat(path).size, bytes.length, `${name}: left as it was`);
        }
      }),
    );

    t.test("remux(): missing folders of the output are made (as every writer's); a missing input folder is ENOENT", () =>
      inDir(() => {
        const out = `${DIR}/new/day/o.mp4`;
        const r = remux(stream("h264"), out);
        eq(r.frames, 20);
        eq(fs.stat(out).size, r.size);
        throws(() => remux(`${DIR}/nofolder/in.h264`, `${DIR}/o2.mp4`), { name: "Error", code: "ENOENT" });
        eq(fs.exists(`${DIR}/nofolder`), false, "a reader makes no folder");
      }),
    );

    t.test("repair: a torn tail is cut off, a fragmented file finalized, a good one left alone", () =>
      inDir(() => {
        const path = `${DIR}/r.mp4`;
        const w = new Mp4Writer(path, { video: VIDEO("h264"), fragmentMs: 100, finalize: false });
        writeAll(w, frames("h264"));
        const size = w.close()!.size;
        const f = fs.open(path, "r+");
        f.truncate(size - 50); // the last fragment (2 frames) torn
        f.close();
        const cut = repair(path, { finalize: false });
        eq(cut.status, "repaired");
        eq(cut.videoFrames, 18);
        eq(cut.audioFrames, 0);
        eq(cut.droppedBytes, size - 50 - fs.stat(path).size);
        eq(cut.duration, 18 / 30);
        const again = repair(path, { finalize: false });
        eq(again.status, "ok");
        eq(again.droppedBytes, 0);
        const fin = repair(path);
        eq(fin.status, "repaired");
        eq(fin.videoFrames, 18);
        const r = new Mp4Reader(path);
        eq(r.fragmented, false);
        eq(r.tracks[0].samples, 18);
        r.close();
        eq(repair(path).status, "ok");
        fs.writeFile(`${DIR}/junk.mp4`, new Uint8Array(100).fill(7));
        const junk = repair(`${DIR}/junk.mp4`);
        eq(junk.status, "unrecoverable");
        ok(typeof junk.reason === "string" && junk.reason.length > 0, "says why");
        eq(fs.stat(`${DIR}/junk.mp4`).size, 100, "left as it was");
        throws(() => new Mp4Reader(`${DIR}/junk.mp4`), { name: "Error", code: "EBADMSG" });
        throws(() => repair(`${DIR}/none.mp4`), { name: "Error", code: "ENOENT" });
      }),
    );
  },
  { sdcardSizeMb: 1 },
);

/** Sizes of the writer's files for the embedded streams (the same on every side). */
const EXPECT = {
  h264: { finalSize: 3818, fragmentedSize: 4070 },
  remux: { h264: 3794, h265: 8854 },
  h265: { finalSize: 8878 },
  ulaw16k: { finalSize: 48573 },
};
