// qcam:mqtt for tests on a PC. Mirrors mod_mqtt.c's API — the URL and options
// checked with the same messages, the masked URL, publish/subscribe argument
// checks, stats(), close() — in a world with no network: no broker ever
// answers, so a client never connects. Its first attempt fails at the next
// loop turn (state "waiting", onState hears "Connection refused", lastError
// says the same) and it stays waiting. What the app publishes waits in the
// queue (`queued`) with the runtime's bound (queueBytes: the oldest go first,
// counted in `dropped`), and is dropped at close() (counted), as on the
// board while its broker is down.
//
// Not modelled: brokers, messages in, reconnect timing. Test an app's MQTT
// behaviour against mosquitto on the runtime (test/integration/mqtt.test.ts).
import type * as Api from "qcam:mqtt";
import type * as Self from "./mqtt.stub.ts";
import { checkKeys, conforms, describeValue, formatG, throwQcam, world, type Handle } from "../../build/testing/stub-kit.ts";

conforms<typeof Api, typeof Self>(true);

const isObject = (v: unknown): v is Record<string, unknown> => (typeof v === "object" || typeof v === "function") && v !== null;
const plainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const utf8 = (s: string) => new TextEncoder().encode(s);
const REFUSED = "Connection refused";

/** The masked URL, or null for one the runtime refuses (mqtt_proto.c qcam_mqtt_parse_url). */
function parseUrl(url: string): { masked: string } | null {
  if (!url.startsWith("mqtt://")) return null;
  let a = url.slice(7);
  if (a.endsWith("/")) a = a.slice(0, -1);
  if ([...a].some((c) => c.charCodeAt(0) <= 32 || c.charCodeAt(0) === 0x7f || "/?#".includes(c))) return null;
  let user = "";
  const at = a.lastIndexOf("@");
  if (at >= 0) {
    const cred = a.slice(0, at);
    const colon = cred.indexOf(":");
    user = colon >= 0 ? cred.slice(0, colon) : cred;
    const pass = colon >= 0 ? cred.slice(colon + 1) : "";
    if (!user || utf8(user).length >= 256 || utf8(pass).length >= 256) return null;
    a = a.slice(at + 1);
  }
  let host: string;
  let portPart: string | null = null;
  if (a.startsWith("[")) {
    const rb = a.indexOf("]");
    if (rb < 0) return null;
    host = a.slice(1, rb);
    const after = a.slice(rb + 1);
    if (after) {
      if (!after.startsWith(":")) return null;
      portPart = after.slice(1);
    }
  } else {
    const colon = a.indexOf(":");
    host = colon >= 0 ? a.slice(0, colon) : a;
    if (colon >= 0) portPart = a.slice(colon + 1);
  }
  if (!host || host.length >= 256 || !/^[A-Za-z0-9._:%-]+$/.test(host)) return null;
  let port = 1883;
  if (portPart !== null) {
    if (!/^\d{1,5}$/.test(portPart) || Number(portPart) < 1 || Number(portPart) > 65535) return null;
    port = Number(portPart);
  }
  const v6 = host.includes(":");
  return { masked: `mqtt://${user ? "***@" : ""}${v6 ? `[${host}]` : host}${port !== 1883 ? `:${port}` : ""}` };
}

function utf8Ok(s: string): boolean {
  return !s.includes("\0") && !/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""));
}
const topicOk = (t: string) => t.length > 0 && utf8(t).length <= 65535 && utf8Ok(t) && !/[+#]/.test(t);
function filterOk(f: string): boolean {
  if (!f.length || utf8(f).length > 65535 || !utf8Ok(f)) return false;
  const levels = f.split("/");
  return levels.every((l, i) => (!l.includes("+") || l === "+") && (!l.includes("#") || (l === "#" && i === levels.length - 1)));
}

function optInt(o: Record<string, unknown>, what: string, name: string, lo: number, hi: number): number | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== "number") throwQcam("TypeError", "ERR_INVALID_ARG", `${what} ${name} must be an integer from ${lo} to ${hi}, not ${describeValue(v)}`);
  if (!(v >= lo && v <= hi) || !Number.isInteger(v))
    throwQcam("RangeError", "ERR_INVALID_ARG", `${what} ${name} must be an integer from ${lo} to ${hi}, not ${formatG(v)}`);
  return v;
}

function optBool(o: Record<string, unknown>, what: string, name: string): boolean | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throwQcam("TypeError", "ERR_INVALID_ARG", `${what} ${name} must be a boolean`);
  return v;
}

function optString(o: Record<string, unknown>, what: string, name: string, expected: string, size: number): string | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !v || utf8(v).length >= size) throwQcam("TypeError", "ERR_INVALID_ARG", `${what} ${name} must be ${expected} (at most ${size - 1} bytes)`);
  return v;
}

/** Bytes of a payload (a string as UTF-8), or null when it is neither. */
function bytesOf(v: unknown): number | null {
  if (typeof v === "string") return utf8(v).length;
  if (v instanceof ArrayBuffer) return v.byteLength;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  return null;
}

interface Queued { topic: string; bytes: number }
interface ClientState {
  url: string;
  clientId: string;
  state: Api.MqttState;
  queueBytes: number;
  queue: Queued[];
  dropped: number;
  lastError: string | null;
  onState?: (s: Api.MqttState, reason?: string) => void;
  handle: Handle;
  open: boolean;
}

const clients = new WeakMap<object, ClientState>();
let nextId = 0;

function clientOf(self: unknown, closedOk = false): ClientState {
  if (!isObject(self) || !clients.has(self)) throwQcam("TypeError", "ERR_WRONG_THIS", "expected a MqttClient");
  const c = clients.get(self)!;
  if (!c.open && !closedOk) throwQcam("TypeError", "ERR_CLOSED", "MqttClient is closed");
  return c;
}

function statsOf(c: ClientState): Api.MqttStats {
  return {
    state: c.state, url: c.url, clientId: c.clientId, sent: 0, acked: 0, received: 0, dropped: c.dropped, droppedIn: 0,
    queued: c.queue.length, connects: 0, reconnects: 0, lastError: c.lastError,
  };
}

function setState(c: ClientState, s: Api.MqttState, reason?: string): void {
  if (c.state === s && reason === undefined) return;
  c.state = s;
  if (reason !== undefined) c.lastError = reason;
  const cb = c.onState;
  if (cb && s !== "closed") world.post(() => cb(s, reason)); // close() is not reported: the app did it
}

export class MqttClient {
  constructor(url: string, options?: Api.MqttClientOptions) {
    if (arguments.length < 1 || typeof url !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", "new MqttClient(url: string, options?)");
    const o = options as unknown;
    if (o !== undefined && !plainObject(o)) throwQcam("TypeError", "ERR_INVALID_ARG", "new MqttClient(url, {clientId?, will?, onMessage?, ...})");
    if (url.startsWith("mqtts://")) throwQcam("Error", "ERR_UNSUPPORTED", "mqtts:// (MQTT over TLS) is not supported; use mqtt://");
    const u = utf8(url).length < 1024 ? parseUrl(url) : null;
    if (!u) throwQcam("TypeError", "ERR_INVALID_ARG", "MqttClient url must be mqtt://[user[:pass]@]host[:port]");
    let clientId: string | undefined;
    let queueBytes = 1 << 20;
    let onState: ClientState["onState"];
    if (plainObject(o)) {
      checkKeys(o, "MqttClient", ["clientId", "username", "password", "keepaliveS", "cleanSession", "will", "queueBytes", "maxBackoffMs",
        "connectTimeoutMs", "onMessage", "onState"]);
      clientId = optString(o, "MqttClient", "clientId", "a string of 1..23 letters and digits (or up to 63 bytes)", 64);
      optString(o, "MqttClient", "username", "a string", 256);
      if (o.password !== undefined && (typeof o.password !== "string" || utf8(o.password).length >= 256))
        throwQcam("TypeError", "ERR_INVALID_ARG", "MqttClient password must be a string (at most 255 bytes)");
      optInt(o, "MqttClient", "keepaliveS", 1, 65535);
      optBool(o, "MqttClient", "cleanSession");
      if (o.will !== undefined) {
        const w = o.will;
        if (!plainObject(w)) throwQcam("TypeError", "ERR_INVALID_ARG", "MqttClient will must be {topic, payload, qos?, retain?}");
        checkKeys(w, "MqttClient will", ["topic", "payload", "qos", "retain"]);
        const t = optString(w, "MqttClient will", "topic", "a topic name", 1024);
        if (t === undefined || !topicOk(t)) throwQcam("TypeError", "ERR_INVALID_ARG", "MqttClient will topic must be a topic name without + or #");
        if (bytesOf(w.payload) === null) throwQcam("TypeError", "ERR_INVALID_ARG", "MqttClient will payload must be a string or bytes");
        optInt(w, "MqttClient will", "qos", 0, 1);
        optBool(w, "MqttClient will", "retain");
      }
      queueBytes = optInt(o, "MqttClient", "queueBytes", 4096, 268435456) ?? queueBytes;
      optInt(o, "MqttClient", "maxBackoffMs", 500, 600000);
      optInt(o, "MqttClient", "connectTimeoutMs", 100, 600000);
      for (const name of ["onMessage", "onState"])
        if (o[name] !== undefined && typeof o[name] !== "function") throwQcam("TypeError", "ERR_INVALID_ARG", `MqttClient ${name} must be a function`);
      onState = o.onState as ClientState["onState"];
    }
    const c: ClientState = {
      url: u!.masked, clientId: clientId ?? `qcam-${(0x1000_0000 + nextId++).toString(16)}`, state: "connecting", queueBytes, queue: [],
      dropped: 0, lastError: null, onState, handle: world.track("MqttClient", this), open: true,
    };
    clients.set(this, c);
    world.post(() => {
      if (c.open) setState(c, "waiting", REFUSED); // nobody listens in the stub's world
    });
  }

  // (options as a rest element: publish.length is 2, as in C)
  publish(topic: string, payload: string | ArrayBuffer | ArrayBufferView, ...rest: [options?: Api.MqttPublishOptions]): void {
    const options = rest[0];
    const c = clientOf(this);
    if (arguments.length < 2 || typeof topic !== "string")
      throwQcam("TypeError", "ERR_INVALID_ARG", "publish(topic: string, payload: string | bytes, {qos?, retain?}?)");
    if (!topicOk(topic)) throwQcam("TypeError", "ERR_INVALID_ARG", "publish: a topic name is 1..65535 bytes without +, # or NUL");
    const o = options as unknown;
    if (o !== undefined) {
      if (!plainObject(o)) throwQcam("TypeError", "ERR_INVALID_ARG", "publish options must be {qos?, retain?}");
      checkKeys(o, "publish", ["qos", "retain"]);
      optInt(o, "publish", "qos", 0, 1);
      optBool(o, "publish", "retain");
    }
    const n = bytesOf(payload);
    if (n === null) throwQcam("TypeError", "ERR_INVALID_ARG", "publish: the payload must be a string or bytes");
    const size = n! + utf8(topic).length;
    if (size > c.queueBytes) throwQcam("RangeError", "ERR_INVALID_ARG", "publish: the message is larger than queueBytes");
    let used = c.queue.reduce((s, q) => s + q.bytes, 0);
    while (c.queue.length && used + size > c.queueBytes) {
      used -= c.queue.shift()!.bytes;
      c.dropped++;
    }
    c.queue.push({ topic, bytes: size });
  }

  subscribe(filter: string, ...rest: [options?: { qos?: 0 | 1 }]): void {
    const options = rest[0];
    clientOf(this);
    if (arguments.length < 1 || typeof filter !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", "subscribe(filter: string, {qos?}?)");
    if (!filterOk(filter)) throwQcam("TypeError", "ERR_INVALID_ARG", "subscribe: a filter is 1..65535 bytes; + and # stand for whole levels, # last");
    const o = options as unknown;
    if (o !== undefined) {
      if (!plainObject(o)) throwQcam("TypeError", "ERR_INVALID_ARG", "subscribe options must be {qos?}");
      checkKeys(o, "subscribe", ["qos"]);
      optInt(o, "subscribe", "qos", 0, 1);
    }
  }

  unsubscribe(filter: string): void {
    clientOf(this);
    if (arguments.length < 1 || typeof filter !== "string") throwQcam("TypeError", "ERR_INVALID_ARG", "unsubscribe(filter: string)");
    if (!filterOk(filter)) throwQcam("TypeError", "ERR_INVALID_ARG", "unsubscribe: a filter is 1..65535 bytes; + and # stand for whole levels, # last");
  }

  stats(): Api.MqttStats {
    return statsOf(clientOf(this));
  }

  close(): Api.MqttStats | undefined {
    const c = clientOf(this, true);
    if (!c.open) return undefined;
    c.open = false;
    c.dropped += c.queue.length; // never sent
    c.queue = [];
    setState(c, "closed");
    c.handle.release();
    return statsOf(c);
  }

  get state(): Api.MqttState {
    return clientOf(this, true).state;
  }
  get url(): string {
    return clientOf(this).url;
  }
  get clientId(): string {
    return clientOf(this).clientId;
  }
  declare [Symbol.dispose]: () => void;
}
Object.defineProperty(MqttClient.prototype, Symbol.dispose, { value: MqttClient.prototype.close, writable: true, configurable: true });
