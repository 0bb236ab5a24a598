// qcam:publish's contract. No media server takes part: the publishers point
// at 127.0.0.1:9, where nobody listens, so on every side a publisher never
// publishes — its first attempt fails ("Connection refused"), every frame
// written is dropped and counted. The frames are the small Annex B streams
// of es-streams.ts read with EsReader (riscv64 included, which has no
// encoder). Publishing itself is tested against nginx-rtmp in
// test/integration/publish.test.ts, and RtspPublisher against GStreamer's
// RTSP server in record mode in test/integration/rtsp-push.test.ts.
import { app, time } from "qcam:app";
import * as fs from "qcam:fs";
import * as publishModule from "qcam:publish";
import { RtmpPublisher, RtspPublisher, type PublishState } from "qcam:publish";
import { EsReader, type Frame } from "qcam:video";
import { H264_B64, H265_B64 } from "./es-streams.ts";
import { contract, deepEq, descriptor, eq, ok, throws } from "./kit.ts";

type AnyFn = (...args: unknown[]) => unknown;
const dispose = (Symbol as unknown as { dispose: symbol }).dispose;
const TYPE = (message: string) => ({ name: "TypeError", code: "ERR_INVALID_ARG", message });
const RANGE = (message: string) => ({ name: "RangeError", code: "ERR_INVALID_ARG", message });
const CLOSED = { name: "TypeError", code: "ERR_CLOSED", message: "RtmpPublisher is closed" };
const NOBODY = "rtmp://127.0.0.1:9/live/cam";
const URL_FORM = "RtmpPublisher url must be rtmp://[user:pass@]host[:port]/app/stream[?query]";

function base64(s: string): Uint8Array {
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

function frames(codec: "h264" | "h265"): Frame[] {
  const path = `/sdcard/pubc-in.${codec}`;
  fs.writeFile(path, base64(codec === "h264" ? H264_B64 : H265_B64));
  const es = new EsReader(path, { fps: 30 });
  const out: Frame[] = [];
  for (let f = es.read(); f; f = es.read()) out.push(f);
  es.close();
  fs.remove(path);
  return out;
}

/** Turn the loop (sleeping a little) until `done()` or about 3 s. */
function until(done: () => boolean): void {
  for (let i = 0; i < 300 && !done(); i++) {
    app.needExit();
    time.sleepMs(10);
  }
}

export default contract("qcam:publish", (t) => {
  t.test("exports; RtmpPublisher's shape", () => {
    deepEq(Object.keys(publishModule).sort(), ["RtmpPublisher", "RtspPublisher"]);
    eq(RtmpPublisher.name, "RtmpPublisher");
    eq(RtmpPublisher.length, 2);
    const proto = RtmpPublisher.prototype as unknown as Record<string | symbol, unknown>;
    deepEq(Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor").sort(), ["close", "kind", "state", "stats", "url", "write"]);
    eq(descriptor(proto, "url"), "get configurable");
    eq(descriptor(proto, "state"), "get configurable");
    eq(descriptor(proto, "write"), "method writable configurable");
    eq((proto.write as AnyFn).length, 1);
    eq(proto.kind, "rtmp");
    eq(proto[dispose], proto.close);
  });

  t.test("bad URLs and options: the first one is reported", () => {
    const P = RtmpPublisher as unknown as new (...a: unknown[]) => RtmpPublisher;
    const V = { codec: "h264" };
    throws(() => new P(), TYPE("new RtmpPublisher(url: string, options)"));
    throws(() => new P(NOBODY), TYPE("new RtmpPublisher(url, {video?, audio?, ...})"));
    throws(() => new P(NOBODY, [V]), TYPE("new RtmpPublisher(url, {video?, audio?, ...})"));
    throws(() => new P("rtmps://h/live/cam", { video: V }), { name: "Error", code: "ERR_UNSUPPORTED", message: "rtmps:// (RTMP over TLS) is not supported; use rtmp://" });
    for (const bad of ["http://h/live/cam", "rtmp://h/live", "rtmp://h/live/", "rtmp:///live/cam", "rtmp://h:0/live/cam", "rtmp://h:70000/live/cam",
      "rtmp://h/live/c am", "rtmp://:pw@h/live/cam", "rtmp://h$/live/cam"])
      throws(() => new P(bad, { video: V }), TYPE(URL_FORM), bad);
    throws(() => new P(NOBODY, {}), TYPE("RtmpPublisher needs a video or an audio track"));
    throws(() => new P(NOBODY, { video: 5 }), TYPE("RtmpPublisher video must be an Encoder or {codec, width?, height?, fps?}"));
    throws(() => new P(NOBODY, { video: { codec: "vp9" } }), TYPE('RtmpPublisher video codec must be "h264" or "h265"'));
    throws(() => new P(NOBODY, { video: { codec: "h264", size: 1 } }), TYPE('unknown RtmpPublisher video option "size" (known: codec, width, height, fps)'));
    throws(() => new P(NOBODY, { video: { codec: "h264", width: 8 } }), RANGE("RtmpPublisher video width must be an integer from 16 to 8192, not 8"));
    throws(() => new P(NOBODY, { video: { codec: "h264", fps: "30" } }), TYPE('RtmpPublisher video fps must be an integer from 1 to 240, not "30"'));
    throws(() => new P(NOBODY, { audio: { codec: "aac" } }), TYPE('RtmpPublisher audio codec must be "alaw" or "ulaw"'));
    throws(() => new P(NOBODY, { audio: { codec: "alaw", sampleRate: 16000 } }),
      RANGE("RtmpPublisher audio sampleRate must be an integer from 8000 to 8000 (FLV carries G.711 at 8 kHz only), not 16000"));
    throws(() => new P(NOBODY, { video: V, queueBytes: 10 }), RANGE("RtmpPublisher queueBytes must be an integer from 65536 to 268435456, not 10"));
    throws(() => new P(NOBODY, { video: V, maxBackoffMs: 1.5 }), RANGE("RtmpPublisher maxBackoffMs must be an integer from 500 to 600000, not 1.5"));
    throws(() => new P(NOBODY, { video: V, onState: 1 }), TYPE("RtmpPublisher onState must be a function"));
    throws(() => new P(NOBODY, { video: V, server: "x" }),
      TYPE('unknown RtmpPublisher option "server" (known: video, audio, queueBytes, maxBackoffMs, connectTimeoutMs, onState)'));
  });

  t.test("the URL is masked: a password, a user and query values never show", () => {
    const cases: [string, string][] = [
      ["rtmp://bob:pw@127.0.0.1:9/live/cam?key=k1&x", "rtmp://127.0.0.1:9/live/cam?key=***&x&user=***&pass=***"],
      ["rtmp://127.0.0.1:1935/app/inst/cam", "rtmp://127.0.0.1/app/inst/cam"],
      ["rtmp://[::1]:9/live/cam", "rtmp://[::1]:9/live/cam"],
    ];
    for (const [url, masked] of cases) {
      const p = new RtmpPublisher(url, { video: { codec: "h264" } });
      eq(p.url, masked);
      eq(p.stats().url, masked);
      eq(p.close()!.url, masked);
    }
  });

  t.test("nobody listening: every frame is dropped and counted, never thrown; onState hears why at a loop turn", () => {
    const seen: string[] = [];
    const p = new RtmpPublisher(NOBODY, { video: { codec: "h264", width: 64, height: 48 }, onState: (s: PublishState, r?: string) => seen.push(`${s}:${r}`) });
    const fr = frames("h264");
    for (const f of fr) {
      p.write(f);
      f.close();
    }
    const st = p.stats();
    eq(st.dropped, fr.length, "every frame dropped");
    eq(st.videoFrames, 0);
    eq(st.connects, 0);
    ok(st.state === "connecting" || st.state === "waiting", st.state);
    until(() => seen.length > 0);
    eq(seen[0], "waiting:Connection refused");
    eq(p.stats().lastError, "Connection refused");
    ok(p.state === "waiting" || p.state === "connecting", p.state); /* the next attempt may have begun */
    const final = p.close()!;
    eq(final.state, "closed");
    eq(final.dropped, fr.length);
    eq(p.state, "closed");
  });

  t.test("write(): what is not a frame, another codec; close twice; ERR_CLOSED after", () => {
    const p = new RtmpPublisher(NOBODY, { video: { codec: "h264" } });
    throws(() => (p.write as AnyFn).call(p), TYPE("write(frame: Frame)"));
    throws(() => p.write({} as Frame), TYPE("write(frame: Frame)"));
    const f265 = frames("h265");
    throws(() => p.write(f265[0]), TYPE("this publisher has no track for h265 frames"));
    for (const f of f265) f.close();
    const a = new RtmpPublisher(NOBODY, { audio: { codec: "alaw" } });
    const f264 = frames("h264");
    throws(() => a.write(f264[0]), TYPE("this publisher has no track for h264 frames"));
    a.close();
    ok(p.close() !== undefined);
    eq(p.close(), undefined, "close twice");
    throws(() => p.write(f264[0]), CLOSED);
    throws(() => p.stats(), CLOSED);
    throws(() => p.url, CLOSED);
    (p as unknown as Record<symbol, AnyFn>)[dispose]();
    throws(() => (RtmpPublisher.prototype.stats as AnyFn).call({}), { name: "TypeError", code: "ERR_WRONG_THIS" });
    for (const f of f264) f.close();
  });

  // ---- RtspPublisher: the same core, rtsp:// URLs

  const RTSP_NOBODY = "rtsp://127.0.0.1:9/cam";
  const RTSP_URL_FORM = "RtspPublisher url must be rtsp://[user[:pass]@]host[:port]/path";

  t.test("RtspPublisher's shape", () => {
    eq(RtspPublisher.name, "RtspPublisher");
    eq(RtspPublisher.length, 2);
    const proto = RtspPublisher.prototype as unknown as Record<string | symbol, unknown>;
    deepEq(Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor").sort(), ["close", "kind", "state", "stats", "url", "write"]);
    eq(descriptor(proto, "url"), "get configurable");
    eq(proto.kind, "rtsp");
    eq(proto[dispose], proto.close);
  });

  t.test("RtspPublisher: bad URLs and options", () => {
    const P = RtspPublisher as unknown as new (...a: unknown[]) => RtspPublisher;
    const V = { codec: "h264" };
    throws(() => new P(), TYPE("new RtspPublisher(url: string, options)"));
    throws(() => new P(RTSP_NOBODY), TYPE("new RtspPublisher(url, {video?, audio?, ...})"));
    throws(() => new P("rtsps://h/cam", { video: V }), { name: "Error", code: "ERR_UNSUPPORTED", message: "rtsps:// (RTSP over TLS) is not supported; use rtsp://" });
    for (const bad of ["rtmp://h/live/cam", "rtsp://h", "rtsp://h/", "rtsp:///cam", "rtsp://h:0/cam", "rtsp://h:70000/cam", "rtsp://h:/cam",
      "rtsp://h/c am", "rtsp://:pw@h/cam", "rtsp://u:p%zz@h/cam", "rtsp://u:%00@h/cam", "rtsp://[::1/cam"])
      throws(() => new P(bad, { video: V }), TYPE(RTSP_URL_FORM), bad);
    throws(() => new P(RTSP_NOBODY, {}), TYPE("RtspPublisher needs a video or an audio track"));
    throws(() => new P(RTSP_NOBODY, { video: { codec: "vp9" } }), TYPE('RtspPublisher video codec must be "h264" or "h265"'));
    throws(() => new P(RTSP_NOBODY, { video: { codec: "h264", size: 1 } }), TYPE('unknown RtspPublisher video option "size" (known: codec, width, height, fps)'));
    throws(() => new P(RTSP_NOBODY, { audio: { codec: "alaw", sampleRate: 16000 } }),
      RANGE("RtspPublisher audio sampleRate must be an integer from 8000 to 8000 (the RTSP publisher sends G.711 at 8 kHz only), not 16000"));
    throws(() => new P(RTSP_NOBODY, { video: V, queueBytes: 10 }), RANGE("RtspPublisher queueBytes must be an integer from 65536 to 268435456, not 10"));
    throws(() => new P(RTSP_NOBODY, { video: V, server: "x" }),
      TYPE('unknown RtspPublisher option "server" (known: video, audio, queueBytes, maxBackoffMs, connectTimeoutMs, onState)'));
  });

  t.test("RtspPublisher: the URL is masked: a password never shows", () => {
    const cases: [string, string][] = [
      ["rtsp://bob:pw@127.0.0.1:9/cam?x=1", "rtsp://bob:***@127.0.0.1:9/cam?x=1"],
      ["rtsp://bob%40home:p%3Aw@127.0.0.1:9/live/cam", "rtsp://bob%40home:***@127.0.0.1:9/live/cam"],
      ["rtsp://bob@127.0.0.1:9/cam", "rtsp://bob@127.0.0.1:9/cam"],
      ["RTSP://[::1]:9/cam", "rtsp://[::1]:9/cam"],
      ["rtsp://127.0.0.1/cam", "rtsp://127.0.0.1/cam"],
    ];
    for (const [url, masked] of cases) {
      const p = new RtspPublisher(url, { video: { codec: "h264" } });
      eq(p.url, masked);
      eq(p.stats().url, masked);
      eq(p.close()!.url, masked);
    }
  });

  t.test("RtspPublisher, nobody listening: it tries once it has a keyframe; every frame ends up dropped and counted", () => {
    const seen: string[] = [];
    const p = new RtspPublisher(RTSP_NOBODY, { video: { codec: "h265" }, onState: (s: PublishState, r?: string) => seen.push(`${s}:${r}`) });
    for (let i = 0; i < 20; i++) { // a few loop turns: nothing to try with yet
      app.needExit();
      time.sleepMs(5);
    }
    eq(p.state, "connecting", "no attempt before the stream's parameter sets");
    eq(seen.length, 0);
    const fr = frames("h265");
    for (const f of fr) {
      p.write(f);
      f.close();
    }
    until(() => seen.length > 0);
    eq(seen[0], "waiting:Connection refused");
    until(() => p.stats().dropped === fr.length);
    const st = p.stats();
    eq(st.dropped, fr.length, "every frame dropped");
    eq(st.videoFrames, 0);
    eq(st.connects, 0);
    eq(st.lastError, "Connection refused");
    const final = p.close()!;
    eq(final.state, "closed");
    eq(final.dropped, fr.length);
    throws(() => p.url, { name: "TypeError", code: "ERR_CLOSED", message: "RtspPublisher is closed" });
    eq(p.close(), undefined, "close twice");
  });
});
