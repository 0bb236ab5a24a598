// qcam:publish for tests on a PC. Mirrors mod_publish.c's API — the URL and
// options checked with the same messages, the masked URL, the publisher as a
// link sink (the qcam:link stub feeds it on virtual time) and pull-mode
// write(), stats(), close() with ERR_BUSY while linked — in a world with no
// network: no media server ever answers, so a publisher never publishes.
// RtspPublisher is the same with rtsp:// URLs; as on the board it starts its
// first attempt once it has the stream's parameter sets (a video keyframe:
// they go in its SDP), so it stays "connecting" until one is written.
// Its first attempt fails at the next loop turn (state "waiting", onState
// hears it with the reason "Connection refused", lastError says the same) and
// it stays waiting; every frame written is dropped and counted, as on the
// board while its server is down.
//
// Not modelled: servers, reconnect timing, bytes on the wire. Test an app's
// publishing against a real server on the runtime
// (test/integration/publish.test.ts runs nginx-rtmp,
// test/integration/rtsp-push.test.ts GStreamer's RTSP server in record mode).
import type * as Api from "qcam:publish";
import type { Frame } from "qcam:video";
import type * as Self from "./publish.stub.ts";
import { provide, providerOf, type LinkSink, type Packet } from "../../build/testing/media.ts";
import { checkKeys, conforms, describeValue, formatG, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";

conforms<typeof Api, typeof Self>(true);

const isObject = (v: unknown): v is Record<string, unknown> => (typeof v === "object" || typeof v === "function") && v !== null;
const REFUSED = "Connection refused";

type Kind = "RtmpPublisher" | "RtspPublisher";

interface PubState {
  who: Kind;
  url: string;
  video: "h264" | "h265" | null;
  audio: "alaw" | "ulaw" | null;
  state: Api.PublishState;
  dropped: number;
  lastError: string | null;
  onState?: (state: Api.PublishState, reason?: string) => void;
  sink: LinkSink;
  handle: Handle;
  open: boolean;
}

const pubs = new WeakMap<object, PubState>();

// ------------------------------------------------------------------ the URL (rtmp_proto.c qcam_rtmp_parse_url)

const URL_FORM = "RtmpPublisher url must be rtmp://[user:pass@]host[:port]/app/stream[?query]";

function maskQuery(q: string): string {
  return q
    .split("&")
    .map((kv) => (kv.includes("=") ? `${kv.slice(0, kv.indexOf("="))}=***` : kv))
    .join("&");
}

/** The masked URL, or null for a URL the runtime refuses. */
function parseUrl(url: string): string | null {
  if (!url.startsWith("rtmp://")) return null;
  const rest = url.slice(7);
  const slash = rest.indexOf("/");
  if (slash < 0) return null;
  let auth = rest.slice(0, slash);
  let user = "";
  let pass: string | null = null;
  const at = auth.lastIndexOf("@");
  if (at >= 0) {
    const cred = auth.slice(0, at);
    const colon = cred.indexOf(":");
    user = colon >= 0 ? cred.slice(0, colon) : cred;
    pass = colon >= 0 ? cred.slice(colon + 1) : null;
    if (!user || user.length >= 128 || (pass ?? "").length >= 128) return null;
    auth = auth.slice(at + 1);
  }
  let host: string;
  let port = 1935;
  let portPart: string | null = null;
  if (auth.startsWith("[")) {
    const rb = auth.indexOf("]");
    if (rb < 0) return null;
    host = auth.slice(1, rb);
    const after = auth.slice(rb + 1);
    if (after) {
      if (!after.startsWith(":")) return null;
      portPart = after.slice(1);
    }
  } else {
    const colon = auth.indexOf(":");
    host = colon >= 0 ? auth.slice(0, colon) : auth;
    if (colon >= 0) portPart = auth.slice(colon + 1);
  }
  if (!host || host.length >= 256 || !/^[A-Za-z0-9._:%-]+$/.test(host)) return null;
  if (portPart !== null) {
    if (!/^\d+$/.test(portPart) || portPart.length > 5 || Number(portPart) > 65535 || Number(portPart) < 1) return null;
    port = Number(portPart);
  }
  const path = rest.slice(slash + 1);
  const qi = path.indexOf("?");
  const bare = qi >= 0 ? path.slice(0, qi) : path;
  const query = qi >= 0 ? path.slice(qi + 1) : "";
  const last = bare.lastIndexOf("/");
  if (last <= 0 || last === bare.length - 1) return null;
  const app = bare.slice(0, last);
  const stream = bare.slice(last + 1);
  if (app.length >= 256 || stream.length >= 512) return null;
  if ([...url].some((c) => c.charCodeAt(0) <= 32 || c.charCodeAt(0) === 0x7f)) return null;
  const params: string[] = [];
  if (query) params.push(query);
  if (at >= 0) params.push(`user=${user}${pass ? `&pass=${pass}` : ""}`);
  const full = params.join("&");
  if (stream.length + (full ? full.length + 1 : 0) >= 512) return null;
  const v6 = host.includes(":");
  const tc = `rtmp://${v6 ? "[" : ""}${host}${v6 ? "]" : ""}${port !== 1935 ? `:${port}` : ""}/${app}`;
  return `${tc}/${stream}${full ? `?${maskQuery(full)}` : ""}`;
}

// ------------------------------------------------------------------ the RTSP URL (rtsp_push_proto.c qcam_rtsp_push_parse_url)

const RTSP_URL_FORM = "RtspPublisher url must be rtsp://[user[:pass]@]host[:port]/path";
const bytes = (x: string): number => new TextEncoder().encode(x).length;

/** Percent-decoded length in bytes, or null for a bad escape (or %00). */
function pctLen(x: string): number | null {
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === "%") {
      if (!/^[0-9A-Fa-f]{2}$/.test(x.slice(i + 1, i + 3)) || x.slice(i + 1, i + 3) === "00") return null;
      i += 2;
      n++;
    } else n += bytes(x[i]);
  }
  return n;
}

/** The masked RTSP URL, or null for a URL the runtime refuses. */
function parseRtspUrl(url: string): string | null {
  if (!url.toLowerCase().startsWith("rtsp://")) return null;
  const rest = url.slice(7);
  const slash = rest.indexOf("/");
  if (slash < 0) return null;
  const path = rest.slice(slash);
  if (path.length < 2) return null;
  if ([...url].some((c) => c.charCodeAt(0) <= 32 || c.charCodeAt(0) === 0x7f)) return null;
  const auth = rest.slice(0, slash);
  const at = auth.lastIndexOf("@");
  let user = "";
  let hasPass = false;
  if (at >= 0) {
    const cred = auth.slice(0, at);
    const colon = cred.indexOf(":");
    user = colon >= 0 ? cred.slice(0, colon) : cred;
    const pass = colon >= 0 ? cred.slice(colon + 1) : "";
    if (!user) return null;
    const ul = pctLen(user), pl = pctLen(pass);
    if (ul === null || pl === null || ul >= 128 || pl >= 128) return null;
    hasPass = pl > 0;
  }
  const hp = auth.slice(at + 1);
  let host: string;
  let port: string | null = null;
  if (hp.startsWith("[")) {
    const rb = hp.indexOf("]");
    if (rb < 0) return null;
    host = hp.slice(1, rb);
    const after = hp.slice(rb + 1);
    if (after) {
      if (!after.startsWith(":")) return null;
      port = after.slice(1);
    }
  } else {
    const colon = hp.indexOf(":");
    host = colon >= 0 ? hp.slice(0, colon) : hp;
    if (colon >= 0) port = hp.slice(colon + 1);
  }
  if (!host || bytes(host) >= 256) return null;
  if (port !== null) {
    if (!/^\d+$/.test(port)) return null;
    const v = Number(port);
    if (v < 1 || v > 65535) return null;
  }
  if (bytes(`rtsp://${hp}${path}`) >= 1024) return null;
  const masked = at >= 0 ? `rtsp://${user}${hasPass ? ":***" : ""}@${hp}${path}` : `rtsp://${hp}${path}`;
  return bytes(masked) >= 900 ? null : masked;
}

// ------------------------------------------------------------------ options (runtime/options.c wording)

function optInt(o: Record<string, unknown>, what: string, name: string, lo: number, hi: number, note = ""): number | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== "number") throwQcam("TypeError", "ERR_INVALID_ARG", `${what} ${name} must be an integer from ${lo} to ${hi}${note}, not ${describeValue(v)}`);
  if (!(v >= lo && v <= hi) || !Number.isInteger(v))
    throwQcam("RangeError", "ERR_INVALID_ARG", `${what} ${name} must be an integer from ${lo} to ${hi}${note}, not ${formatG(v)}`);
  return v;
}

const codecOf = (v: Record<string, unknown>): string => (typeof v.codec === "string" ? v.codec : "");

function videoOption(v: unknown, who: Kind): "h264" | "h265" {
  if (!isObject(v)) throwQcam("TypeError", "ERR_INVALID_ARG", `${who} video must be an Encoder or {codec, width?, height?, fps?}`);
  if (!providerOf(v)) checkKeys(v, `${who} video`, ["codec", "width", "height", "fps"]);
  const c = codecOf(v);
  if (c !== "h264" && c !== "h265") throwQcam("TypeError", "ERR_INVALID_ARG", `${who} video codec must be "h264" or "h265"`);
  optInt(v, `${who} video`, "width", 16, 8192);
  optInt(v, `${who} video`, "height", 16, 8192);
  optInt(v, `${who} video`, "fps", 1, 240);
  return c;
}

function audioOption(v: unknown, who: Kind): "alaw" | "ulaw" {
  if (!isObject(v)) throwQcam("TypeError", "ERR_INVALID_ARG", `${who} audio must be an AudioEncoder or {codec, sampleRate?}`);
  if (!providerOf(v)) checkKeys(v, `${who} audio`, ["codec", "sampleRate"]);
  const c = codecOf(v);
  if (c !== "alaw" && c !== "ulaw") throwQcam("TypeError", "ERR_INVALID_ARG", `${who} audio codec must be "alaw" or "ulaw"`);
  const note = who === "RtspPublisher" ? " (the RTSP publisher sends G.711 at 8 kHz only)" : " (FLV carries G.711 at 8 kHz only)";
  optInt(v, `${who} audio`, "sampleRate", 8000, 8000, note);
  return c;
}

// ------------------------------------------------------------------ RtmpPublisher

/** As mod_publish.c: the methods are the same for both classes and go by the class of `this`. */
function pubOf(self: unknown, closedOk = false, _who: Kind = "RtmpPublisher"): PubState {
  if (!isObject(self) || !pubs.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a RtmpPublisher");
  const p = pubs.get(self)!;
  if (!p.open && !closedOk) throwQcam("TypeError", "ERR_CLOSED", `${p.who} is closed`);
  return p;
}

function statsOf(p: PubState): Api.PublishStats {
  return {
    state: p.state,
    url: p.url,
    bytes: 0,
    videoFrames: 0,
    audioFrames: 0,
    dropped: p.dropped,
    connects: 0,
    reconnects: 0,
    queuedFrames: 0,
    queuedBytes: 0,
    lastError: p.lastError,
  };
}

function setState(p: PubState, s: Api.PublishState, reason?: string): void {
  if (p.state === s && reason === undefined) return;
  p.state = s;
  if (reason !== undefined) p.lastError = reason;
  const cb = p.onState;
  if (cb && s !== "closed") world.post(() => cb(s, reason)); // close() is not reported: the app did it
}

/** The constructor of both classes: URL, options, the sink. */
function openPublisher(self: object, who: Kind, args: IArguments, url: string, options: Api.RtmpPublisherOptions | Api.RtspPublisherOptions): void {
  const rtsp = who === "RtspPublisher";
  if (args.length < 1 || typeof url !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", `new ${who}(url: string, options)`);
  if (!isObject(options) || typeof options === "function" || Array.isArray(options))
    throwQcam("TypeError", "ERR_INVALID_ARG", `new ${who}(url, {video?, audio?, ...})`);
  if (new TextEncoder().encode(url).length >= 2048) throwQcam("TypeError", "ERR_INVALID_ARG", `${who} url is too long`);
  if (!rtsp && url.startsWith("rtmps://")) throwQcam("Error", "ERR_UNSUPPORTED", "rtmps:// (RTMP over TLS) is not supported; use rtmp://");
  if (rtsp && url.toLowerCase().startsWith("rtsps://")) throwQcam("Error", "ERR_UNSUPPORTED", "rtsps:// (RTSP over TLS) is not supported; use rtsp://");
  const masked = rtsp ? parseRtspUrl(url) : parseUrl(url);
  if (masked === null) throwQcam("TypeError", "ERR_INVALID_ARG", rtsp ? RTSP_URL_FORM : URL_FORM);
  const o = options as unknown as Record<string, unknown>;
  checkKeys(o, who, ["video", "audio", "queueBytes", "maxBackoffMs", "connectTimeoutMs", "onState"]);
  const video = o.video !== undefined ? videoOption(o.video, who) : null;
  const audio = o.audio !== undefined ? audioOption(o.audio, who) : null;
  if (!video && !audio) throwQcam("TypeError", "ERR_INVALID_ARG", `${who} needs a video or an audio track`);
  optInt(o, who, "queueBytes", 65536, 268435456);
  optInt(o, who, "maxBackoffMs", 500, 600000);
  optInt(o, who, "connectTimeoutMs", 100, 600000);
  if (o.onState !== undefined && typeof o.onState !== "function") throwQcam("TypeError", "ERR_INVALID_ARG", `${who} onState must be a function`);
  /** The first attempt: nobody listens in the stub's world. */
  const attempt = () =>
    world.post(() => {
      if (p.open) setState(p, "waiting", REFUSED);
    });
  let attempted = false;
  const p: PubState = {
    who,
    url: masked!,
    video,
    audio,
    state: "connecting",
    dropped: 0,
    lastError: null,
    onState: o.onState as PubState["onState"],
    handle: world.track(who, self),
    open: true,
    sink: {
      kind: rtsp ? "rtsp" : "rtmp",
      busy: 0,
      write(pkt: Packet) {
        const isAudio = pkt.codec === "alaw" || pkt.codec === "ulaw";
        if (isAudio ? pkt.codec !== p.audio : pkt.codec !== p.video) return "EINVAL";
        // RTSP describes the stream from its parameter sets: its first attempt waits for them
        if (rtsp && !attempted && !isAudio && (pkt.keyframe || pkt.type === "header")) {
          attempted = true;
          attempt();
        }
        if (!isAudio && pkt.type === "header") return 0; // parameter sets alone: learnt, not counted
        p.dropped++; // never publishing: dropped, as on the board while the server is down
        return 0;
      },
      flush: () => 0,
    },
  };
  pubs.set(self, p);
  provide(self, { sink: () => pubOf(self, false, who).sink });
  if (!rtsp || !video) {
    attempted = true;
    attempt();
  }
}

function statsOfOpen(self: unknown, who: Kind): Api.PublishStats {
  return statsOf(pubOf(self, false, who));
}

function writeTo(self: unknown, who: Kind, args: IArguments, frame: Frame): void {
  const p = pubOf(self, false, who);
  if (p.sink.busy) throwQcam("Error", "ERR_BUSY", "this publisher is fed by a link; write() is for pull mode");
  const get = args.length > 0 ? providerOf(frame)?.packet : undefined;
  if (!get) throwQcam("TypeError", "ERR_INVALID_ARG", "write(frame: Frame)");
  const pkt = get!();
  if (p.sink.write(pkt) === "EINVAL") throwQcam("TypeError", "ERR_INVALID_ARG", `this publisher has no track for ${pkt.codec} frames`);
}

function closePublisher(self: unknown, who: Kind): Api.PublishStats | undefined {
  const p = pubOf(self, true, who);
  if (!p.open) return undefined;
  if (p.sink.busy) throwQcam("Error", "ERR_BUSY", "close the link feeding this publisher first");
  p.open = false;
  setState(p, "closed");
  p.handle.release();
  return statsOf(p);
}

export class RtmpPublisher {
  constructor(url: string, options: Api.RtmpPublisherOptions) {
    openPublisher(this, "RtmpPublisher", arguments, url, options);
  }

  write(frame: Frame): void {
    writeTo(this, "RtmpPublisher", arguments, frame);
  }

  stats(): Api.PublishStats {
    return statsOfOpen(this, "RtmpPublisher");
  }

  close(): Api.PublishStats | undefined {
    return closePublisher(this, "RtmpPublisher");
  }

  get state(): Api.PublishState {
    return pubOf(this, true).state;
  }

  get url(): string {
    return pubOf(this).url;
  }

  declare readonly kind: "rtmp";
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(RtmpPublisher.prototype, "kind", { value: "rtmp", configurable: true, writable: false, enumerable: false });
Object.defineProperty(RtmpPublisher.prototype, Symbol.dispose, { value: RtmpPublisher.prototype.close, writable: true, configurable: true });

export class RtspPublisher {
  constructor(url: string, options: Api.RtspPublisherOptions) {
    openPublisher(this, "RtspPublisher", arguments, url, options);
  }

  write(frame: Frame): void {
    writeTo(this, "RtspPublisher", arguments, frame);
  }

  stats(): Api.PublishStats {
    return statsOfOpen(this, "RtspPublisher");
  }

  close(): Api.PublishStats | undefined {
    return closePublisher(this, "RtspPublisher");
  }

  get state(): Api.PublishState {
    return pubOf(this, true, "RtspPublisher").state;
  }

  get url(): string {
    return pubOf(this, false, "RtspPublisher").url;
  }

  declare readonly kind: "rtsp";
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(RtspPublisher.prototype, "kind", { value: "rtsp", configurable: true, writable: false, enumerable: false });
Object.defineProperty(RtspPublisher.prototype, Symbol.dispose, { value: RtspPublisher.prototype.close, writable: true, configurable: true });
