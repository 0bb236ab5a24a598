// qcam:rtsp's contract: the API's shape, option checks with their exact
// errors, ports, url(), stats() with no clients, streams as sinks (pull mode
// and link), ERR_BUSY while linked, close(). No client connects here (the
// stub has no network); behaviour with real clients is in
// test/integration/rtsp.test.ts.
import { app, time } from "qcam:app";
import { AudioEncoder } from "qcam:audio";
import { Camera } from "qcam:camera";
import { link, type Pipe } from "qcam:link";
import * as rtspModule from "qcam:rtsp";
import { RtspServer, RtspSource, RtspStream, type RtspServerStats } from "qcam:rtsp";
import { Encoder } from "qcam:video";
import { contract, deepEq, descriptor, eq, ok, throws } from "./kit.ts";

type AnyFn = (...args: unknown[]) => unknown;
const dispose = (Symbol as unknown as { dispose: symbol }).dispose;
const TYPE = (message: string) => ({ name: "TypeError", code: "ERR_INVALID_ARG", message });
const RANGE = (message: string) => ({ name: "RangeError", code: "ERR_INVALID_ARG", message });
const BUSY = (message: string) => ({ name: "Error", code: "ERR_BUSY", message });
const CLOSED = (what: string) => ({ name: "TypeError", code: "ERR_CLOSED", message: `${what} is closed` });
const LOCAL = { port: 0, host: "127.0.0.1" };

function waitFor(done: () => boolean, ms = 10_000): void {
  const t0 = time.ticksMs();
  while (!done() && time.ticksMs() - t0 < ms) {
    app.needExit();
    time.sleepMs(5);
  }
}

const emptyStream = (path: string) => ({ path, clients: 0, videoFrames: 0, audioFrames: 0, bytesIn: 0, latencyUs: { p50: 0, p99: 0 } });

export default contract("qcam:rtsp", (t) => {
  t.test("exports: RtspServer and RtspStream, their shapes", () => {
    deepEq(Object.keys(rtspModule).sort(), ["RtspServer", "RtspSource", "RtspStream"]);
    eq(RtspServer.name, "RtspServer");
    eq(RtspServer.length, 1);
    const sp = RtspServer.prototype as unknown as Record<string | symbol, unknown>;
    deepEq(Object.getOwnPropertyNames(sp).filter((n) => n !== "constructor").sort(), ["close", "host", "port", "stats", "stream", "url"]);
    for (const m of ["stream", "url", "stats", "close"]) eq(descriptor(sp, m), "method writable configurable", m);
    deepEq([(sp.stream as AnyFn).length, (sp.url as AnyFn).length, (sp.stats as AnyFn).length, (sp.close as AnyFn).length], [2, 1, 0, 0]);
    for (const g of ["port", "host"]) eq(descriptor(sp, g), "get configurable", g);
    eq(sp[dispose], sp.close);
    const tp = RtspStream.prototype as unknown as Record<string | symbol, unknown>;
    deepEq(Object.getOwnPropertyNames(tp).filter((n) => n !== "constructor").sort(), ["close", "kind", "path", "url", "write"]);
    eq(descriptor(tp, "kind"), "value configurable");
    eq(tp.kind, "rtsp");
    eq((tp.write as AnyFn).length, 1);
    eq(tp[dispose], tp.close);
    throws(() => new (RtspStream as unknown as new () => unknown)(), { name: "TypeError", code: "ERR_ILLEGAL_CONSTRUCTOR", message: "RtspStream: use server.stream(path, options)" });
    throws(() => (sp.stats as AnyFn).call({}), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a RtspServer" });
    throws(() => (tp.close as AnyFn).call({}), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a RtspStream" });
  });

  t.test("server options are checked, the first bad one named", () => {
    const mk = (o: unknown) => () => new RtspServer(o as never);
    throws(mk(5), TYPE("new RtspServer(options?: {port, host, auth, maxClients, sessionTimeoutS})"));
    throws(mk({ port: "80" }), TYPE("option `port` must be an integer"));
    throws(mk({ port: 1.5 }), TYPE("option `port` must be an integer"));
    throws(mk({ port: 70000 }), RANGE("option `port` must be 0..65535, got 70000"));
    throws(mk({ port: -1 }), RANGE("option `port` must be 0..65535, got -1"));
    throws(mk({ port: 0, host: 7 }), TYPE("option `host` must be a string"));
    throws(mk({ port: 0, host: "camera.local" }), RANGE('option `host` must be a numeric IPv4 or IPv6 address, got "camera.local"'));
    throws(mk({ port: 0, host: "127.0.0.1", maxClients: 0 }), RANGE("option `maxClients` must be 1..1024, got 0"));
    throws(mk({ port: 0, host: "127.0.0.1", sessionTimeoutS: 0 }), RANGE("option `sessionTimeoutS` must be 1..86400, got 0"));
    throws(mk({ port: 0, host: "127.0.0.1", stallTimeoutMs: 50 }), RANGE("option `stallTimeoutMs` must be 100..600000, got 50"));
    throws(mk({ ...LOCAL, auth: "user:pass" }), TYPE("option `auth` must be {user, password}"));
    throws(mk({ ...LOCAL, auth: { user: "", password: "x" } }), TYPE("option `auth.user` must be a non-empty string"));
    throws(mk({ ...LOCAL, auth: { user: 5, password: "x" } }), TYPE("option `user` must be a string"));
    throws(mk({ ...LOCAL, auth: { user: "a:b", password: "x" } }), RANGE("auth.user/password must not contain quotes, ':' (user) or line breaks"));
    throws(mk({ ...LOCAL, auth: { user: "a", password: 'x"y' } }), RANGE("auth.user/password must not contain quotes, ':' (user) or line breaks"));
  });

  t.test("unknown option keys are refused, naming the key: server, auth, stream, its video, audio and parameterSets", () => {
    const unknown = (what: string, key: string, known: string) => TYPE(`unknown ${what} option "${key}" (known: ${known})`);
    const SERVER = "port, host, auth, maxClients, sessionTimeoutS, stallTimeoutMs";
    // refused before anything listens (the misspelt port would have meant 8554)
    throws(() => new RtspServer({ prot: 1 } as never), unknown("RtspServer", "prot", SERVER));
    throws(() => new RtspServer({ ...LOCAL, maxclients: 4 } as never), unknown("RtspServer", "maxclients", SERVER));
    throws(() => new RtspServer({ port: "80", x: 1 } as never), unknown("RtspServer", "x", SERVER), "before the other checks");
    throws(() => new RtspServer({ ...LOCAL, auth: { user: "a", password: "b", realm: "r" } } as never), unknown("RtspServer auth", "realm", "user, password"));
    const srv = new RtspServer({ ...LOCAL, auth: undefined, maxClients: undefined });
    try {
      const V = { codec: "h264" } as const;
      throws(() => srv.stream("live", { video: V, fastStrat: false } as never), unknown("stream", "fastStrat", "video, audio, fastStart"));
      throws(() => srv.stream("live", { vidoe: V } as never), unknown("stream", "vidoe", "video, audio, fastStart"));
      throws(() => srv.stream("live", { video: { codec: "h264", width: 64 } } as never), unknown("stream video", "width", "codec, parameterSets"));
      const ps = { sps: new ArrayBuffer(4), pps: new ArrayBuffer(4), sei: new ArrayBuffer(4) };
      throws(() => srv.stream("live", { video: { codec: "h264", parameterSets: ps } } as never), unknown("video.parameterSets", "sei", "vps, sps, pps"));
      throws(() => srv.stream("live", { video: V, audio: { codec: "alaw", sampleRate: 8000, channels: 1 } } as never), unknown("stream audio", "channels", "codec, sampleRate"));
      eq(srv.stats().streams.length, 0, "no stream was added by a refused call");
      eq(srv.stream("live", { video: V, audio: undefined, fastStart: true }).path, "/live");
    } finally {
      srv.close();
    }
  });

  t.test("port 0 picks a free port; a port in use is EADDRINUSE; url() and the stream's url", () => {
    const a = new RtspServer({ ...LOCAL, auth: { user: "viewer", password: "pw" } });
    try {
      ok(a.port > 0 && a.port <= 65535, `port ${a.port}`);
      eq(a.host, "127.0.0.1");
      const e = throws(() => new RtspServer({ port: a.port, host: "127.0.0.1" }), { name: "Error", code: "EADDRINUSE", message: `RtspServer: cannot listen on 127.0.0.1:${a.port}: Address already in use` });
      eq((e as { errno?: number }).errno, 98);
      eq(a.url("live"), `rtsp://127.0.0.1:${a.port}/live`);
      eq(a.url("/live"), `rtsp://127.0.0.1:${a.port}/live`);
      eq(a.url("a/b"), `rtsp://127.0.0.1:${a.port}/a/b`);
      throws(() => (a.url as AnyFn)(), TYPE("url(path: string)"));
      throws(() => a.url(5 as never), TYPE("url(path: string)"));
      const s = a.stream("live", { video: { codec: "h264" } });
      eq(s.url, `rtsp://127.0.0.1:${a.port}/live`);
      deepEq(Object.keys(s), []);
    } finally {
      a.close();
    }
    const w = new RtspServer({ port: 0 });
    try {
      eq(w.host, "0.0.0.0");
      // A wildcard host is not an address a client can connect to: url() names an interface's.
      const u = w.url("x");
      ok(/^rtsp:\/\/\d+\.\d+\.\d+\.\d+:\d+\/x$/.test(u), u);
      ok(!u.startsWith("rtsp://0.0.0.0:"), `${u}: not the wildcard`);
      ok(u.endsWith(`:${w.port}/x`), `${u}: the server's port`);
      eq(w.stream("x", { video: { codec: "h264" } }).url, u, "the stream's url is the server's url() of its path");
    } finally {
      w.close();
    }
  });

  t.test("stream(): paths and track options are checked", () => {
    const srv = new RtspServer(LOCAL);
    try {
      throws(() => (srv.stream as AnyFn)("live"), TYPE("stream(path: string, {video: Encoder | {codec, parameterSets?}, audio?, fastStart?})"));
      throws(() => srv.stream(5 as never, { video: { codec: "h264" } }), TYPE("stream(path: string, {video: Encoder | {codec, parameterSets?}, audio?, fastStart?})"));
      throws(() => srv.stream("live", {} as never), TYPE("option `video` must be an Encoder or {codec, parameterSets?}"));
      throws(() => srv.stream("live", { video: { codec: "vp8" } } as never), TYPE('video.codec must be "h264" or "h265"'));
      throws(() => srv.stream("live", { video: { codec: 264 } } as never), TYPE("option `codec` must be a string"));
      throws(() => srv.stream("live", { video: srv } as never), TYPE("option `video` must be an open Encoder or {codec, parameterSets?}"));
      throws(() => srv.stream("live", { video: { codec: "h264", parameterSets: 1 } } as never), TYPE("video.parameterSets must be {vps?, sps, pps}"));
      throws(() => srv.stream("live", { video: { codec: "h264", parameterSets: { sps: new ArrayBuffer(4) } } } as never), TYPE("video.parameterSets needs sps and pps"));
      throws(() => srv.stream("live", { video: { codec: "h265", parameterSets: { sps: new ArrayBuffer(4), pps: new ArrayBuffer(2) } } } as never), TYPE("video.parameterSets needs sps and pps and vps"));
      throws(() => srv.stream("live", { video: { codec: "h264", parameterSets: { sps: new ArrayBuffer(0), pps: new ArrayBuffer(2) } } } as never), TYPE("parameterSets.sps must be a non-empty ArrayBuffer"));
      throws(() => srv.stream("live", { video: { codec: "h264" }, audio: "alaw" } as never), TYPE("option `audio` must be {codec, sampleRate}"));
      throws(() => srv.stream("live", { video: { codec: "h264" }, audio: { codec: "opus", sampleRate: 8000 } } as never), TYPE('audio.codec must be "alaw" or "ulaw"'));
      throws(() => srv.stream("live", { video: { codec: "h264" }, audio: { codec: "alaw", sampleRate: 44100 } } as never), RANGE("option `sampleRate` must be 8000..16000, got 44100"));
      throws(() => srv.stream("live", { video: { codec: "h264" }, audio: { codec: "alaw", sampleRate: 12000 } } as never), RANGE("audio.sampleRate must be 8000 or 16000"));
      throws(() => srv.stream("live", { video: { codec: "h264" }, fastStart: 1 } as never), TYPE("option `fastStart` must be a boolean"));
      for (const bad of ["", "/", "///", "a b", "a?b", "a#b", "100%", "x".repeat(130)])
        throws(() => srv.stream(bad, { video: { codec: "h264" } }), RANGE(`bad stream path "${bad}" (1..126 characters, no spaces, '?', '#' or '%')`), JSON.stringify(bad));
      eq(srv.stats().streams.length, 0, "no stream was added by a bad call");
      const a = srv.stream("live/", { video: { codec: "h265", parameterSets: { vps: new ArrayBuffer(3), sps: new Uint8Array([1, 2, 3]) as unknown as ArrayBuffer, pps: new ArrayBuffer(2) } } });
      eq(a.path, "/live");
      eq(a.kind, "rtsp");
      throws(() => srv.stream("/live", { video: { codec: "h264" } }), { name: "Error", code: "ERR_EXISTS", message: 'a stream "/live" exists already' });
      const b = srv.stream("/cams/sub", { video: { codec: "h264" }, audio: { codec: "ulaw", sampleRate: 16000 }, fastStart: false });
      eq(b.path, "/cams/sub");
      deepEq(srv.stats().streams.map((s) => s.path), ["/live", "/cams/sub"], "in the order added");
      a.close();
      a.close();
      throws(() => a.path, CLOSED("RtspStream"));
      throws(() => a.write({} as never), CLOSED("RtspStream"));
      deepEq(srv.stats().streams.map((s) => s.path), ["/cams/sub"]);
      const again = srv.stream("live", { video: { codec: "h264" } });
      eq(again.path, "/live", "a closed stream's path can be used again");
    } finally {
      srv.close();
    }
  });

  t.test("stats(): the shape with no clients; close() returns the final stats, then undefined; closes its streams", () => {
    const srv = new RtspServer(LOCAL);
    const s = srv.stream("live", { video: { codec: "h264" } });
    const st: RtspServerStats = srv.stats();
    deepEq(Object.keys(st), ["clients", "streams", "sessions", "rejected", "droppedClients", "latencyUs"]);
    deepEq(st, { clients: [], streams: [emptyStream("/live")], sessions: 0, rejected: 0, droppedClients: 0, latencyUs: { p50: 0, p99: 0 } });
    throws(() => s.write({} as never), TYPE("write(frame: Frame)"));
    throws(() => (s.write as AnyFn).call(s), TYPE("write(frame: Frame)"));
    const final = srv.close();
    deepEq(final, st);
    eq(srv.close(), undefined);
    throws(() => srv.stats(), CLOSED("RtspServer"));
    throws(() => srv.port, CLOSED("RtspServer"));
    throws(() => srv.stream("x", { video: { codec: "h264" } }), CLOSED("RtspServer"));
    throws(() => s.path, CLOSED("RtspStream"), "the server's close closed its streams");
    s.close();
    const d = new RtspServer(LOCAL);
    const port = d.port;
    (d as unknown as Record<symbol, AnyFn>)[dispose]();
    throws(() => d.url("x"), CLOSED("RtspServer"), "[Symbol.dispose] closes");
    const again = new RtspServer({ port, host: "127.0.0.1" });
    eq(again.port, port, "a closed server's port is free again");
    again.close();
  });

  t.test("pull mode: write(frame) counts what reaches the stream; a codec without a track is refused", () => {
    const cam = new Camera({ width: 64, height: 48, fps: 30 });
    const enc = new Encoder({ codec: "h264", width: 64, height: 48, gop: 4 });
    const other = new Encoder({ codec: "h265", width: 64, height: 48 });
    const srv = new RtspServer(LOCAL);
    try {
      const s = srv.stream("live", { video: enc });
      let bytes = 0;
      for (let i = 0; i < 5; i++) {
        const img = cam.read();
        const f = enc.encode(img);
        bytes += f.size;
        s.write(f);
        f.close();
        img.close();
      }
      const img = cam.read();
      const h265 = other.encode(img);
      throws(() => s.write(h265), TYPE("this stream has no track for that frame's codec"));
      h265.close();
      img.close();
      deepEq(srv.stats().streams, [{ ...emptyStream("/live"), videoFrames: 5, bytesIn: bytes }]);
      const byEnc = srv.stream("enc", { video: other });
      eq(byEnc.path, "/enc", "an Encoder gives the stream its codec");
      other.close();
      throws(() => srv.stream("closed", { video: other }), CLOSED("Encoder"));
    } finally {
      srv.close();
      enc.close();
      other.close();
      cam.close();
    }
  }, { needs: ["encoder"] });

  t.test("pull mode: audio frames count as audioFrames (not video); a law without a track is refused", () => {
    const alaw = new AudioEncoder({ codec: "alaw" });
    const ulaw = new AudioEncoder({ codec: "ulaw" });
    const srv = new RtspServer(LOCAL);
    try {
      const s = srv.stream("av", { video: { codec: "h264" }, audio: { codec: "alaw", sampleRate: 8000 } });
      const v = srv.stream("v", { video: { codec: "h264" } });
      const samples = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin(i / 5)));
      for (let i = 0; i < 3; i++) {
        const f = alaw.encode(samples, i * 20_000);
        s.write(f);
        f.close();
      }
      const u = ulaw.encode(samples, 0);
      throws(() => s.write(u), TYPE("this stream has no track for that frame's codec"), "ulaw into an alaw track");
      u.close();
      const a = alaw.encode(samples, 0);
      throws(() => v.write(a), TYPE("this stream has no track for that frame's codec"), "audio into a stream without audio");
      a.close();
      deepEq(srv.stats().streams, [{ ...emptyStream("/av"), audioFrames: 3, bytesIn: 3 * 160 }, emptyStream("/v")]);
    } finally {
      srv.close();
      alaw.close();
      ulaw.close();
    }
  });

  t.test("a stream as a link's sink: ERR_BUSY while linked (stream and server), frames counted, closes after", () => {
    const cam = new Camera({ width: 64, height: 48, fps: 30 });
    const enc = new Encoder({ codec: "h264", width: 64, height: 48, gop: 4 });
    const srv = new RtspServer(LOCAL);
    let pipe: Pipe | undefined;
    try {
      const s = srv.stream("live", { video: enc });
      pipe = link(cam, enc, s, { frames: 6, encodeQueue: 64 });
      throws(() => s.close(), BUSY("close the link feeding this stream first"));
      throws(() => s.write(null as never), BUSY("this stream is fed by a link; write() is for pull mode"));
      throws(() => srv.close(), BUSY("close the link feeding /live first"));
      waitFor(() => pipe!.stats().finished);
      const final = pipe.close()!;
      deepEq(final.sinkFrames, [6]);
      eq(srv.stats().streams[0].videoFrames, 6);
      const last = srv.close()!;
      eq(last.streams[0].videoFrames, 6);
      throws(() => s.path, CLOSED("RtspStream"));
    } finally {
      pipe?.close();
      srv.close();
      enc.close();
      cam.close();
    }
  }, { needs: ["encoder"] });

  // RtspSource: what both sides can show without a camera. The stub's world
  // has no network (every well-formed URL is refused, as the runtime's is for
  // a port nobody listens on); reading a camera is tested on the runtime
  // against GStreamer's server and ours (test/integration/rtsp-source.test.ts).
  t.test("RtspSource: its shape; methods on something else are ERR_WRONG_THIS", () => {
    eq(RtspSource.name, "RtspSource");
    eq(RtspSource.length, 2);
    const p = RtspSource.prototype as unknown as Record<string | symbol, unknown>;
    deepEq(Object.getOwnPropertyNames(p).filter((n) => n !== "constructor").sort(), ["audio", "close", "codec", "height", "read", "readAudio", "stats", "url", "video", "width"]);
    for (const m of ["read", "readAudio", "stats", "close"]) eq(descriptor(p, m), "method writable configurable", m);
    deepEq([(p.read as AnyFn).length, (p.readAudio as AnyFn).length, (p.stats as AnyFn).length, (p.close as AnyFn).length], [1, 1, 0, 0]);
    for (const g of ["url", "codec", "width", "height", "video", "audio"]) eq(descriptor(p, g), "get configurable", g);
    eq(p[dispose], p.close);
    throws(() => (p.read as AnyFn).call({}), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a RtspSource" });
    throws(() => (p.close as AnyFn).call({}), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a RtspSource" });
  });

  t.test("RtspSource: the URL and every option are checked before connecting, the first bad one named", () => {
    const mk = (url: unknown, o?: unknown) => () => new RtspSource(url as never, o as never);
    const usage = "new RtspSource(url: string, options?: {transport, user, password, timeoutMs, stallTimeoutMs, reconnectMinMs, reconnectMaxMs, queue, audio})";
    throws(mk(5), TYPE(usage));
    throws(mk("rtsp://127.0.0.1:1/live", 5), TYPE(usage));
    throws(mk("rtsp://127.0.0.1:1/live", [1]), TYPE(usage));
    throws(mk("rtsp://127.0.0.1:1/live", { latency: 200 }), TYPE('unknown RtspSource option "latency" (known: transport, user, password, timeoutMs, stallTimeoutMs, reconnectMinMs, reconnectMaxMs, queue, audio)'));
    throws(mk("rtsp://127.0.0.1:1/live", { transport: 1 }), TYPE("option `transport` must be a string"));
    throws(mk("rtsp://127.0.0.1:1/live", { transport: "http" }), RANGE('option `transport` must be "tcp" or "udp"'));
    throws(mk("rtsp://127.0.0.1:1/live", { user: "a\nb" }), RANGE("option `user` must be at most 127 characters, no line breaks"));
    throws(mk("rtsp://127.0.0.1:1/live", { timeoutMs: 50 }), RANGE("option `timeoutMs` must be 100..600000, got 50"));
    throws(mk("rtsp://127.0.0.1:1/live", { queue: 1.5 }), TYPE("option `queue` must be an integer"));
    throws(mk("rtsp://127.0.0.1:1/live", { audio: 1 }), TYPE("RtspSource audio must be a boolean"));
    throws(mk("rtsp://127.0.0.1:1/live", { reconnectMinMs: 1000, reconnectMaxMs: 500 }), RANGE("option `reconnectMaxMs` must be at least reconnectMinMs"));
    const badUrl = TYPE("RtspSource: the URL must be rtsp://[user[:password]@]host[:port]/path");
    for (const u of ["http://127.0.0.1/live", "rtsp://", "rtsp://h:0/x", "rtsp://h:70000/x", "rtsp://h x/", "rtsp://:pw@h/", "rtsp://u:%zz@h/"]) throws(mk(u), badUrl);
  });

  t.test("RtspSource: nobody listening is ECONNREFUSED, the password masked in the message", () => {
    throws(() => new RtspSource("rtsp://127.0.0.1:1/live"), { name: "Error", code: "ECONNREFUSED", message: "RtspSource: rtsp://127.0.0.1:1/live: cannot connect: Connection refused" });
    throws(() => new RtspSource("rtsp://admin:hunter2@127.0.0.1:1/live", { transport: "udp" }), {
      name: "Error",
      code: "ECONNREFUSED",
      message: "RtspSource: rtsp://admin:***@127.0.0.1:1/live: cannot connect: Connection refused",
    });
  });

  t.test("link(source, sinks) is for sources of encoded frames: a camera there needs its encoder", () => {
    const cam = new Camera({ width: 64, height: 48, fps: 30 });
    const srv = new RtspServer(LOCAL);
    try {
      const s = srv.stream("live", { video: { codec: "h264" } });
      throws(() => (link as AnyFn)(cam, [s]), TYPE("link: this source needs an encoder: link(source, encoder, sinks, options?)"));
      throws(() => (link as AnyFn)(cam, s, {}), TYPE("link: this source needs an encoder: link(source, encoder, sinks, options?)"));
      // Nothing was claimed: the camera and the stream are free.
      s.close();
      cam.read().close();
    } finally {
      srv.close();
      cam.close();
    }
  });
});
