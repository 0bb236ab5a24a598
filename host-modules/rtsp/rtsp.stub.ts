// qcam:rtsp for tests on a PC. Mirrors mod_rtsp.c's API — options checked
// with the same messages, ports (port 0 picks a free one; a port taken by
// another server of the world is EADDRINUSE), url(), streams as link sinks
// (the qcam:link stub feeds them on virtual time) and pull-mode write(),
// stats(), close() with ERR_BUSY while linked — in a world with no network.
//
// Not modelled: clients. Nobody connects to a stub server, so `stats().clients`
// stays empty, `sessions`, `rejected` and `droppedClients` stay 0 and the
// latency percentiles 0; what reaches a stream is counted (videoFrames,
// audioFrames, bytesIn) as on the board. Test an app's RTSP behaviour with
// real clients on the runtime (test/integration/rtsp.test.ts shows how).
//
// Faults: none of its own (a stream write cannot fail on the board either,
// short of running out of memory).
import type * as Api from "qcam:rtsp";
import type { Frame } from "qcam:video";
import type * as Self from "./rtsp.stub.ts";
import { provide, providerOf, type LinkSink, type Packet } from "../../build/testing/media.ts";
import { checkKeys, conforms, errnoError, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";

conforms<typeof Api, typeof Self>(true);

const isObject = (v: unknown): v is Record<string, unknown> => (typeof v === "object" || typeof v === "function") && v !== null;

interface StreamState {
  path: string;
  video: "h264" | "h265";
  audio: "alaw" | "ulaw" | null;
  videoFrames: number;
  audioFrames: number;
  bytesIn: number;
  sink: LinkSink;
  server: ServerState;
  open: boolean;
}

interface ServerState {
  port: number;
  host: string;
  streams: StreamState[];
  handle: Handle;
  open: boolean;
}

interface RtspWorld {
  ports: Set<number>;
  nextPort: number;
}
const state = (): RtspWorld => world.part("rtsp", () => ({ ports: new Set<number>(), nextPort: 40000 }));

const servers = new WeakMap<object, ServerState>();
const streams = new WeakMap<object, StreamState>();

// ------------------------------------------------------------------ options (mod_rtsp.c opt_uint / opt_string)

function optUint(o: Record<string, unknown>, name: string, def: number, min: number, max: number): number {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== "number" || !Number.isInteger(v)) throwQcam("TypeError", "ERR_INVALID_ARG", `option \`${name}\` must be an integer`);
  if (v < min || v > max) throwQcam("RangeError", "ERR_INVALID_ARG", `option \`${name}\` must be ${min}..${max}, got ${v.toFixed(0)}`);
  return v;
}

function optString(o: Record<string, unknown>, name: string, def: string, cap: number): string {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", `option \`${name}\` must be a string`);
  if (new TextEncoder().encode(v).length >= cap || v.includes("\0"))
    throwQcam("RangeError", "ERR_INVALID_ARG", `option \`${name}\` is too long (at most ${cap - 1} characters)`);
  return v;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const isNumericHost = (h: string) => IPV4.test(h) || (/^[0-9a-fA-F:.]+$/.test(h) && h.includes(":") && h.split("::").length <= 2);

function publicHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1"; // the stub's world has only loopback
  return host.includes(":") ? `[${host}]` : host;
}

/** server.c's path rules: a leading '/' added, trailing ones dropped, 1..126 characters, no spaces, ?, #, %. */
function normPath(p: string): string | null {
  let n = `/${p.replace(/^\/+/, "")}`;
  if (n.length <= 1 || new TextEncoder().encode(n).length >= 128) return null;
  n = n.replace(/\/+$/, "") || "/";
  if (n.length <= 1) return null;
  for (const ch of n) {
    const c = ch.codePointAt(0) ?? 0;
    if (c <= 32 || c >= 127 || "?#%".includes(ch)) return null;
  }
  return n;
}

// ------------------------------------------------------------------ RtspStream

function streamOf(self: unknown): StreamState {
  if (!isObject(self) || !streams.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a RtspStream");
  const s = streams.get(self)!;
  if (!s.open) throwQcam("TypeError", "ERR_CLOSED", "RtspStream is closed");
  return s;
}

let minting = false;

export class RtspStream {
  private constructor() {
    if (!minting) throwQcam("TypeError", "ERR_ILLEGAL_CONSTRUCTOR", "RtspStream: use server.stream(path, options)");
  }
  write(frame: Frame): void {
    const s = streamOf(this);
    if (s.sink.busy) throwQcam("Error", "ERR_BUSY", "this stream is fed by a link; write() is for pull mode");
    const get = arguments.length > 0 ? providerOf(frame)?.packet : undefined;
    if (!get) throwQcam("TypeError", "ERR_INVALID_ARG", "write(frame: Frame)");
    const r = s.sink.write(get!());
    if (r === "EINVAL") throwQcam("TypeError", "ERR_INVALID_ARG", "this stream has no track for that frame's codec");
  }
  close(): void {
    if (!isObject(this) || !streams.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a RtspStream");
    const s = streams.get(this)!;
    if (!s.open) return;
    if (s.sink.busy) throwQcam("Error", "ERR_BUSY", "close the link feeding this stream first");
    closeStream(s);
  }
  get path(): string {
    return streamOf(this).path;
  }
  get url(): string {
    const s = streamOf(this);
    return `rtsp://${publicHost(s.server.host)}:${s.server.port}${s.path}`;
  }
  declare readonly kind: "rtsp";
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(RtspStream.prototype, "kind", { value: "rtsp", configurable: true, writable: false, enumerable: false });
Object.defineProperty(RtspStream.prototype, Symbol.dispose, { value: RtspStream.prototype.close, writable: true, configurable: true });

function closeStream(s: StreamState): void {
  s.open = false;
  const i = s.server.streams.indexOf(s);
  if (i >= 0) s.server.streams.splice(i, 1);
}

// ------------------------------------------------------------------ RtspServer

function serverOf(self: unknown): ServerState {
  if (!isObject(self) || !servers.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a RtspServer");
  const s = servers.get(self)!;
  if (!s.open) throwQcam("TypeError", "ERR_CLOSED", "RtspServer is closed");
  return s;
}

function statsOf(s: ServerState): Api.RtspServerStats {
  return {
    clients: [],
    streams: s.streams.map((x) => ({
      path: x.path,
      clients: 0,
      videoFrames: x.videoFrames,
      audioFrames: x.audioFrames,
      bytesIn: x.bytesIn,
      latencyUs: { p50: 0, p99: 0 },
    })),
    sessions: 0,
    rejected: 0,
    droppedClients: 0,
    latencyUs: { p50: 0, p99: 0 },
  };
}

function codecOf(o: Record<string, unknown>, what: string, audio: boolean): string {
  const name = optString(o, "codec", "", 16);
  const ok = audio ? name === "alaw" || name === "ulaw" : name === "h264" || name === "h265";
  if (!ok) throwQcam("TypeError", "ERR_INVALID_ARG", `${what}.codec must be ${audio ? '"alaw" or "ulaw"' : '"h264" or "h265"'}`);
  return name;
}

function paramBytes(ps: Record<string, unknown>, name: string): number {
  const v = ps[name];
  if (v === undefined) return 0;
  const n = v instanceof ArrayBuffer ? v.byteLength : ArrayBuffer.isView(v) ? v.byteLength : 0;
  if (!n) throwQcam("TypeError", "ERR_INVALID_ARG", `parameterSets.${name} must be a non-empty ArrayBuffer`);
  return n;
}

export class RtspServer {
  constructor(options?: Api.RtspServerOptions) {
    const o = options as unknown;
    if (o !== undefined && !isObject(o))
      throwQcam("TypeError", "ERR_INVALID_ARG", "new RtspServer(options?: {port, host, auth, maxClients, sessionTimeoutS})");
    let port = 8554;
    let host = "0.0.0.0";
    if (isObject(o)) {
      checkKeys(o, "RtspServer", ["port", "host", "auth", "maxClients", "sessionTimeoutS", "stallTimeoutMs"]);
      port = optUint(o, "port", 8554, 0, 65535);
      host = optString(o, "host", "0.0.0.0", 64);
      optUint(o, "maxClients", 16, 1, 1024);
      optUint(o, "sessionTimeoutS", 60, 1, 86400);
      optUint(o, "stallTimeoutMs", 10000, 100, 600000);
      const a = o.auth;
      if (a !== undefined) {
        if (!isObject(a)) throwQcam("TypeError", "ERR_INVALID_ARG", "option `auth` must be {user, password}");
        checkKeys(a, "RtspServer auth", ["user", "password"]);
        const user = optString(a, "user", "", 128);
        const password = optString(a, "password", "", 128);
        if (!user) throwQcam("TypeError", "ERR_INVALID_ARG", "option `auth.user` must be a non-empty string");
        if (/["\r\n:]/.test(user) || /["\r\n]/.test(password))
          throwQcam("RangeError", "ERR_INVALID_ARG", "auth.user/password must not contain quotes, ':' (user) or line breaks");
      }
    }
    if (!isNumericHost(host))
      throwQcam("RangeError", "ERR_INVALID_ARG", `option \`host\` must be a numeric IPv4 or IPv6 address, got "${host}"`);
    const w = state();
    if (port !== 0 && w.ports.has(port)) throw errnoError("EADDRINUSE", `RtspServer: cannot listen on ${host}:${port}`);
    if (port === 0) {
      while (w.ports.has(w.nextPort)) w.nextPort++;
      port = w.nextPort++;
    }
    w.ports.add(port);
    servers.set(this, { port, host, streams: [], handle: world.track("RtspServer", this, true), open: true });
  }

  stream(path: string, options: Api.RtspStreamOptions): RtspStream {
    const s = serverOf(this);
    if (arguments.length < 2 || typeof path !== "string" || !isObject(options))
      throwQcam("TypeError", "ERR_INVALID_ARG", "stream(path: string, {video: Encoder | {codec, parameterSets?}, audio?, fastStart?})");
    const o = options as unknown as Record<string, unknown>;
    checkKeys(o, "stream", ["video", "audio", "fastStart"]);
    const video = o.video;
    if (!isObject(video)) throwQcam("TypeError", "ERR_INVALID_ARG", "option `video` must be an Encoder or {codec, parameterSets?}");
    let codec: string;
    const p = providerOf(video);
    // In C any native object but an open Encoder is refused here (a closed one reads as a description).
    if ((p && !p.encoder) || servers.has(video) || streams.has(video)) throwQcam("TypeError", "ERR_INVALID_ARG", "option `video` must be an open Encoder or {codec, parameterSets?}");
    if (p?.encoder) {
      codec = String(video.codec); // an Encoder (a closed one throws ERR_CLOSED here, as in C)
    } else {
      checkKeys(video, "stream video", ["codec", "parameterSets"]);
      codec = codecOf(video, "video", false);
      const ps = video.parameterSets;
      if (ps !== undefined) {
        if (!isObject(ps)) throwQcam("TypeError", "ERR_INVALID_ARG", "video.parameterSets must be {vps?, sps, pps}");
        checkKeys(ps, "video.parameterSets", ["vps", "sps", "pps"]);
        const vps = paramBytes(ps, "vps");
        const sps = paramBytes(ps, "sps");
        const pps = paramBytes(ps, "pps");
        if (!sps || !pps || (codec === "h265" && !vps))
          throwQcam("TypeError", "ERR_INVALID_ARG", `video.parameterSets needs sps and pps${codec === "h265" ? " and vps" : ""}`);
      }
    }
    let audio: "alaw" | "ulaw" | null = null;
    if (o.audio !== undefined) {
      const a = o.audio;
      if (!isObject(a)) throwQcam("TypeError", "ERR_INVALID_ARG", "option `audio` must be {codec, sampleRate}");
      checkKeys(a, "stream audio", ["codec", "sampleRate"]);
      audio = codecOf(a, "audio", true) as "alaw" | "ulaw";
      const rate = optUint(a, "sampleRate", 8000, 8000, 16000);
      if (rate !== 8000 && rate !== 16000) throwQcam("RangeError", "ERR_INVALID_ARG", "audio.sampleRate must be 8000 or 16000");
    }
    if (o.fastStart !== undefined && typeof o.fastStart !== "boolean")
      throwQcam("TypeError", "ERR_INVALID_ARG", "option `fastStart` must be a boolean");
    const norm = normPath(path);
    if (norm === null)
      throwQcam("RangeError", "ERR_INVALID_ARG", `bad stream path "${path}" (1..126 characters, no spaces, '?', '#' or '%')`);
    if (s.streams.some((x) => x.path === norm)) throwQcam("Error", "ERR_EXISTS", `a stream "${path}" exists already`);
    const st: StreamState = {
      path: norm!,
      video: codec as "h264" | "h265",
      audio,
      videoFrames: 0,
      audioFrames: 0,
      bytesIn: 0,
      server: s,
      open: true,
      sink: {
        kind: "rtsp",
        busy: 0,
        write(pkt: Packet) {
          const isAudio = pkt.codec === "alaw" || pkt.codec === "ulaw";
          if (isAudio ? pkt.codec !== st.audio : pkt.codec !== st.video) return "EINVAL";
          if (!isAudio && pkt.type === "header" && !pkt.keyframe) return 0; // parameter sets alone: remembered, not counted
          if (isAudio) st.audioFrames++;
          else st.videoFrames++;
          st.bytesIn += pkt.data.length;
          return 0;
        },
        flush: () => 0,
      },
    };
    s.streams.push(st);
    minting = true;
    let obj: RtspStream;
    try {
      obj = new (RtspStream as unknown as new () => RtspStream)();
    } finally {
      minting = false;
    }
    streams.set(obj, st);
    provide(obj, { sink: () => streamOf(obj).sink });
    return obj;
  }

  url(path: string): string {
    const s = serverOf(this);
    if (arguments.length < 1 || typeof path !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", "url(path: string)");
    return `rtsp://${publicHost(s.host)}:${s.port}/${path.replace(/^\/+/, "")}`;
  }

  stats(): Api.RtspServerStats {
    return statsOf(serverOf(this));
  }

  close(): Api.RtspServerStats | undefined {
    if (!isObject(this) || !servers.has(this)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a RtspServer");
    const s = servers.get(this)!;
    if (!s.open) return undefined;
    const linked = s.streams.find((x) => x.sink.busy);
    if (linked) throwQcam("Error", "ERR_BUSY", `close the link feeding ${linked.path} first`);
    const final = statsOf(s);
    for (const x of [...s.streams]) closeStream(x);
    s.open = false;
    state().ports.delete(s.port);
    s.handle.release();
    return final;
  }

  get port(): number {
    return serverOf(this).port;
  }
  get host(): string {
    return serverOf(this).host;
  }
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(RtspServer.prototype, Symbol.dispose, { value: RtspServer.prototype.close, writable: true, configurable: true });

// ------------------------------------------------------------------ RtspSource (source_js.c, client.c)
//
// What the stub can model without a network: the constructor's checks (the
// URL, every option, in mod order) and its failure. The stub's world has no
// cameras, so every well-formed URL is refused with ECONNREFUSED, as the
// runtime refuses a port nobody listens on; no RtspSource object is ever
// made, so read(), stats() and link(src, sinks) cannot be reached here. Test
// an app's camera input on the runtime against a real server
// (test/integration/rtsp-source.test.ts runs GStreamer's and ours).

/** qcam_rtsp_url_parse: the masked URL, or null when it is not rtsp://... */
function parseRtspUrl(url: string): string | null {
  if (!/^rtsp:\/\//i.test(url)) return null;
  for (const ch of url) {
    const c = ch.codePointAt(0) ?? 0;
    if (c <= 0x20 || c === 0x7f) return null;
  }
  const a = url.slice(7);
  const slash = a.indexOf("/");
  const auth = slash >= 0 ? a.slice(0, slash) : a;
  const at = auth.lastIndexOf("@");
  const pctOk = (s: string) => /^([^%]|%[0-9a-fA-F]{2})*$/.test(s) && !/%00/.test(s);
  let hp = a;
  let masked = "";
  if (at >= 0) {
    const info = auth.slice(0, at);
    const colon = info.indexOf(":");
    const user = colon >= 0 ? info.slice(0, colon) : info;
    if (!pctOk(user) || user === "" || (colon >= 0 && !pctOk(info.slice(colon + 1)))) return null;
    hp = a.slice(at + 1);
    masked = `rtsp://${a.slice(0, Math.min(...[a.indexOf(":"), a.indexOf("@")].filter((i) => i >= 0)))}${colon >= 0 ? ":***" : ""}@${hp}`;
  }
  const hostPort = at >= 0 ? auth.slice(at + 1) : auth;
  let host: string;
  let port: string | null = null;
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) return null;
    host = hostPort.slice(1, close);
    const rest = hostPort.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return null;
      port = rest.slice(1);
    }
  } else {
    const colon = hostPort.indexOf(":");
    host = colon >= 0 ? hostPort.slice(0, colon) : hostPort;
    if (colon >= 0) port = hostPort.slice(colon + 1);
  }
  if (host === "" || new TextEncoder().encode(host).length >= 256) return null;
  if (port !== null && (!/^\d{1,9}$/.test(port) || Number(port) < 1 || Number(port) > 65535)) return null;
  return masked || `rtsp://${hp}`;
}

function sourceStr(o: Record<string, unknown>, name: string, cap: number): void {
  const v = o[name];
  if (v === undefined) return;
  if (typeof v !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", `option \`${name}\` must be a string`);
  if (new TextEncoder().encode(v).length >= cap || v.includes("\0") || /[\r\n]/.test(v))
    throwQcam("RangeError", "ERR_INVALID_ARG", `option \`${name}\` must be at most ${cap - 1} characters, no line breaks`);
}

export class RtspSource {
  constructor(url: string, options?: Api.RtspSourceOptions) {
    const usage =
      "new RtspSource(url: string, options?: {transport, user, password, timeoutMs, stallTimeoutMs, reconnectMinMs, reconnectMaxMs, queue, audio})";
    if (arguments.length < 1 || typeof url !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", usage);
    const o = options as unknown;
    if (o !== undefined && (!isObject(o) || typeof o === "function" || Array.isArray(o))) throwQcam("TypeError", "ERR_INVALID_ARG", usage);
    if (isObject(o)) {
      checkKeys(o, "RtspSource", ["transport", "user", "password", "timeoutMs", "stallTimeoutMs", "reconnectMinMs", "reconnectMaxMs", "queue", "audio"]);
      sourceStr(o, "transport", 8);
      sourceStr(o, "user", 128);
      sourceStr(o, "password", 128);
      optUint(o, "timeoutMs", 5000, 100, 600000);
      optUint(o, "stallTimeoutMs", 5000, 100, 600000);
      const min = optUint(o, "reconnectMinMs", 500, 10, 600000);
      const max = optUint(o, "reconnectMaxMs", 8000, 10, 600000);
      optUint(o, "queue", 64, 1, 4096);
      if (o.audio !== undefined && typeof o.audio !== "boolean") throwQcam("TypeError", "ERR_INVALID_ARG", "RtspSource audio must be a boolean");
      const t = o.transport ?? "tcp";
      if (t !== "tcp" && t !== "udp") throwQcam("RangeError", "ERR_INVALID_ARG", 'option `transport` must be "tcp" or "udp"');
      if (max < min) throwQcam("RangeError", "ERR_INVALID_ARG", "option `reconnectMaxMs` must be at least reconnectMinMs");
    }
    const masked = parseRtspUrl(url);
    if (masked === null) throwQcam("TypeError", "ERR_INVALID_ARG", "RtspSource: the URL must be rtsp://[user[:password]@]host[:port]/path");
    throw errnoError("ECONNREFUSED", `RtspSource: ${masked}: cannot connect`);
  }
  get url(): string {
    return noSource();
  }
  get codec(): "h264" | "h265" {
    return noSource();
  }
  get width(): number {
    return noSource();
  }
  get height(): number {
    return noSource();
  }
  get video(): Api.RtspSource["video"] {
    return noSource();
  }
  get audio(): Api.RtspSource["audio"] {
    return noSource();
  }
  read(_timeoutMs?: number): Frame | null {
    return noSource();
  }
  readAudio(_timeoutMs?: number): Frame | null {
    return noSource();
  }
  stats(): Api.RtspSourceStats {
    return noSource();
  }
  close(): void {
    noSource();
  }
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(RtspSource.prototype, Symbol.dispose, { value: RtspSource.prototype.close, writable: true, configurable: true });

/** Every method of an RtspSource the stub never made: as C for a foreign `this`. */
function noSource(): never {
  throwQcam("TypeError", "ERR_WRONG_THIS", "expected a RtspSource");
}
Object.defineProperty(RtspSource.prototype, Symbol.toStringTag, { value: "RtspSource", configurable: true });
