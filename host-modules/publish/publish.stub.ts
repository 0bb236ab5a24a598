// qcam:publish for tests on a PC. Mirrors mod_publish.c's API — the URL and
// options checked with the same messages, the masked URL, the publisher as a
// link sink (the qcam:link stub feeds it on virtual time) and pull-mode
// write(), stats(), close() with ERR_BUSY while linked — in a world with no
// network: no media server ever answers, so a publisher never publishes.
// Its first attempt fails at the next loop turn (state "waiting", onState
// hears it with the reason "Connection refused", lastError says the same) and
// it stays waiting; every frame written is dropped and counted, as on the
// board while its server is down.
//
// Not modelled: servers, reconnect timing, bytes on the wire. Test an app's
// publishing against a real server on the runtime
// (test/integration/publish.test.ts runs nginx-rtmp).
import type * as Api from "qcam:publish";
import type { Frame } from "qcam:video";
import type * as Self from "./publish.stub.ts";
import { provide, providerOf, type LinkSink, type Packet } from "../../build/testing/media.ts";
import { checkKeys, conforms, describeValue, formatG, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";

conforms<typeof Api, typeof Self>(true);

const isObject = (v: unknown): v is Record<string, unknown> => (typeof v === "object" || typeof v === "function") && v !== null;
const REFUSED = "Connection refused";

interface PubState {
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

function videoOption(v: unknown): "h264" | "h265" {
  if (!isObject(v)) throwQcam("TypeError", "ERR_INVALID_ARG", "RtmpPublisher video must be an Encoder or {codec, width?, height?, fps?}");
  if (!providerOf(v)) checkKeys(v, "RtmpPublisher video", ["codec", "width", "height", "fps"]);
  const c = codecOf(v);
  if (c !== "h264" && c !== "h265") throwQcam("TypeError", "ERR_INVALID_ARG", 'RtmpPublisher video codec must be "h264" or "h265"');
  optInt(v, "RtmpPublisher video", "width", 16, 8192);
  optInt(v, "RtmpPublisher video", "height", 16, 8192);
  optInt(v, "RtmpPublisher video", "fps", 1, 240);
  return c;
}

function audioOption(v: unknown): "alaw" | "ulaw" {
  if (!isObject(v)) throwQcam("TypeError", "ERR_INVALID_ARG", "RtmpPublisher audio must be an AudioEncoder or {codec, sampleRate?}");
  if (!providerOf(v)) checkKeys(v, "RtmpPublisher audio", ["codec", "sampleRate"]);
  const c = codecOf(v);
  if (c !== "alaw" && c !== "ulaw") throwQcam("TypeError", "ERR_INVALID_ARG", 'RtmpPublisher audio codec must be "alaw" or "ulaw"');
  optInt(v, "RtmpPublisher audio", "sampleRate", 8000, 8000, " (FLV carries G.711 at 8 kHz only)");
  return c;
}

// ------------------------------------------------------------------ RtmpPublisher

function pubOf(self: unknown, closedOk = false): PubState {
  if (!isObject(self) || !pubs.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a RtmpPublisher");
  const p = pubs.get(self)!;
  if (!p.open && !closedOk) throwQcam("TypeError", "ERR_CLOSED", "RtmpPublisher is closed");
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

export class RtmpPublisher {
  constructor(url: string, options: Api.RtmpPublisherOptions) {
    if (arguments.length < 1 || typeof url !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", "new RtmpPublisher(url: string, options)");
    if (!isObject(options) || typeof options === "function" || Array.isArray(options))
      throwQcam("TypeError", "ERR_INVALID_ARG", "new RtmpPublisher(url, {video?, audio?, ...})");
    if (new TextEncoder().encode(url).length >= 2048) throwQcam("TypeError", "ERR_INVALID_ARG", "RtmpPublisher url is too long");
    if (url.startsWith("rtmps://")) throwQcam("Error", "ERR_UNSUPPORTED", "rtmps:// (RTMP over TLS) is not supported; use rtmp://");
    const masked = parseUrl(url);
    if (masked === null) throwQcam("TypeError", "ERR_INVALID_ARG", URL_FORM);
    const o = options as unknown as Record<string, unknown>;
    checkKeys(o, "RtmpPublisher", ["video", "audio", "queueBytes", "maxBackoffMs", "connectTimeoutMs", "onState"]);
    const video = o.video !== undefined ? videoOption(o.video) : null;
    const audio = o.audio !== undefined ? audioOption(o.audio) : null;
    if (!video && !audio) throwQcam("TypeError", "ERR_INVALID_ARG", "RtmpPublisher needs a video or an audio track");
    optInt(o, "RtmpPublisher", "queueBytes", 65536, 268435456);
    optInt(o, "RtmpPublisher", "maxBackoffMs", 500, 600000);
    optInt(o, "RtmpPublisher", "connectTimeoutMs", 100, 600000);
    if (o.onState !== undefined && typeof o.onState !== "function")
      throwQcam("TypeError", "ERR_INVALID_ARG", "RtmpPublisher onState must be a function");
    const p: PubState = {
      url: masked!,
      video,
      audio,
      state: "connecting",
      dropped: 0,
      lastError: null,
      onState: o.onState as PubState["onState"],
      handle: world.track("RtmpPublisher", this),
      open: true,
      sink: {
        kind: "rtmp",
        busy: 0,
        write(pkt: Packet) {
          const isAudio = pkt.codec === "alaw" || pkt.codec === "ulaw";
          if (isAudio ? pkt.codec !== p.audio : pkt.codec !== p.video) return "EINVAL";
          if (!isAudio && pkt.type === "header") return 0; // parameter sets alone: learnt, not counted
          p.dropped++; // never publishing: dropped, as on the board while the server is down
          return 0;
        },
        flush: () => 0,
      },
    };
    pubs.set(this, p);
    provide(this, { sink: () => pubOf(this).sink });
    world.post(() => {
      if (p.open) setState(p, "waiting", REFUSED); // the first attempt: nobody listens in the stub's world
    });
  }

  write(frame: Frame): void {
    const p = pubOf(this);
    if (p.sink.busy) throwQcam("Error", "ERR_BUSY", "this publisher is fed by a link; write() is for pull mode");
    const get = arguments.length > 0 ? providerOf(frame)?.packet : undefined;
    if (!get) throwQcam("TypeError", "ERR_INVALID_ARG", "write(frame: Frame)");
    const pkt = get!();
    if (p.sink.write(pkt) === "EINVAL") throwQcam("TypeError", "ERR_INVALID_ARG", `this publisher has no track for ${pkt.codec} frames`);
  }

  stats(): Api.PublishStats {
    return statsOf(pubOf(this));
  }

  close(): Api.PublishStats | undefined {
    const p = pubOf(this, true);
    if (!p.open) return undefined;
    if (p.sink.busy) throwQcam("Error", "ERR_BUSY", "close the link feeding this publisher first");
    p.open = false;
    setState(p, "closed");
    p.handle.release();
    return statsOf(p);
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
