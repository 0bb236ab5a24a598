// qcam:mqtt's contract. No broker takes part: the clients point at
// 127.0.0.1:9, where nobody listens, so on every side a client never
// connects — its first attempt fails ("Connection refused"), publishes wait
// in the bounded queue and are dropped at close(). Talking to a broker is
// tested against mosquitto in test/integration/mqtt.test.ts.
import { app, time } from "qcam:app";
import * as mqttModule from "qcam:mqtt";
import { MqttClient, type MqttState } from "qcam:mqtt";
import { contract, deepEq, descriptor, eq, ok, throws } from "./kit.ts";

type AnyFn = (...args: unknown[]) => unknown;
const dispose = (Symbol as unknown as { dispose: symbol }).dispose;
const TYPE = (message: string) => ({ name: "TypeError", code: "ERR_INVALID_ARG", message });
const RANGE = (message: string) => ({ name: "RangeError", code: "ERR_INVALID_ARG", message });
const CLOSED = { name: "TypeError", code: "ERR_CLOSED", message: "MqttClient is closed" };
const NOBODY = "mqtt://127.0.0.1:9";

function until(done: () => boolean): void {
  for (let i = 0; i < 300 && !done(); i++) {
    app.needExit();
    time.sleepMs(10);
  }
}

export default contract("qcam:mqtt", (t) => {
  t.test("exports; MqttClient's shape", () => {
    deepEq(Object.keys(mqttModule).sort(), ["MqttClient"]);
    eq(MqttClient.name, "MqttClient");
    eq(MqttClient.length, 2);
    const proto = MqttClient.prototype as unknown as Record<string | symbol, unknown>;
    deepEq(Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor").sort(),
      ["clientId", "close", "publish", "state", "stats", "subscribe", "unsubscribe", "url"]);
    eq(descriptor(proto, "url"), "get configurable");
    eq(descriptor(proto, "publish"), "method writable configurable");
    eq((proto.publish as AnyFn).length, 2);
    eq((proto.subscribe as AnyFn).length, 1);
    eq(proto[dispose], proto.close);
  });

  t.test("bad URLs and options: the first one is reported", () => {
    const C = MqttClient as unknown as new (...a: unknown[]) => MqttClient;
    throws(() => new C(), TYPE("new MqttClient(url: string, options?)"));
    throws(() => new C(NOBODY, 5), TYPE("new MqttClient(url, {clientId?, will?, onMessage?, ...})"));
    throws(() => new C("mqtts://h"), { name: "Error", code: "ERR_UNSUPPORTED", message: "mqtts:// (MQTT over TLS) is not supported; use mqtt://" });
    for (const bad of ["tcp://h", "mqtt://", "mqtt://h/x", "mqtt://h:0", "mqtt://h:65536", "mqtt://:pw@h", "mqtt://h h", "mqtt://h$"])
      throws(() => new C(bad), TYPE("MqttClient url must be mqtt://[user[:pass]@]host[:port]"), bad);
    throws(() => new C(NOBODY, { port: 1 }), TYPE('unknown MqttClient option "port" (known: clientId, username, password, keepaliveS, cleanSession, will, queueBytes, maxBackoffMs, connectTimeoutMs, onMessage, onState)'));
    throws(() => new C(NOBODY, { clientId: "" }), TYPE("MqttClient clientId must be a string of 1..23 letters and digits (or up to 63 bytes) (at most 63 bytes)"));
    throws(() => new C(NOBODY, { password: 5 }), TYPE("MqttClient password must be a string (at most 255 bytes)"));
    throws(() => new C(NOBODY, { keepaliveS: 0 }), RANGE("MqttClient keepaliveS must be an integer from 1 to 65535, not 0"));
    throws(() => new C(NOBODY, { cleanSession: 1 }), TYPE("MqttClient cleanSession must be a boolean"));
    throws(() => new C(NOBODY, { will: "x" }), TYPE("MqttClient will must be {topic, payload, qos?, retain?}"));
    throws(() => new C(NOBODY, { will: { topic: "a/#", payload: "x" } }), TYPE("MqttClient will topic must be a topic name without + or #"));
    throws(() => new C(NOBODY, { will: { topic: "a", payload: 5 } }), TYPE("MqttClient will payload must be a string or bytes"));
    throws(() => new C(NOBODY, { will: { topic: "a", payload: "x", qos: 2 } }), RANGE("MqttClient will qos must be an integer from 0 to 1, not 2"));
    throws(() => new C(NOBODY, { queueBytes: 10 }), RANGE("MqttClient queueBytes must be an integer from 4096 to 268435456, not 10"));
    throws(() => new C(NOBODY, { onMessage: 1 }), TYPE("MqttClient onMessage must be a function"));
  });

  t.test("the URL is masked; the client id is ours or the one given", () => {
    const a = new MqttClient("mqtt://board1:s3cret@127.0.0.1:9");
    eq(a.url, "mqtt://***@127.0.0.1:9");
    ok(/^qcam-[0-9a-f]{8}$/.test(a.clientId), a.clientId);
    eq(a.stats().url, "mqtt://***@127.0.0.1:9");
    a.close();
    const b = new MqttClient("mqtt://[::1]:1883/", { clientId: "cam7" });
    eq(b.url, "mqtt://[::1]");
    eq(b.clientId, "cam7");
    eq(b.close()!.clientId, "cam7");
  });

  t.test("publish/subscribe check their arguments; nothing is thrown for a broker that is not there", () => {
    const c = new MqttClient(NOBODY);
    throws(() => (c.publish as AnyFn).call(c, "a"), TYPE("publish(topic: string, payload: string | bytes, {qos?, retain?}?)"));
    throws(() => c.publish("a/+", "x"), TYPE("publish: a topic name is 1..65535 bytes without +, # or NUL"));
    throws(() => c.publish("", "x"), TYPE("publish: a topic name is 1..65535 bytes without +, # or NUL"));
    throws(() => c.publish("a", 5 as unknown as string), TYPE("publish: the payload must be a string or bytes"));
    throws(() => c.publish("a", "x", { qos: 2 as 1 }), RANGE("publish qos must be an integer from 0 to 1, not 2"));
    throws(() => c.publish("a", "x", { retain: 1 as unknown as boolean }), TYPE("publish retain must be a boolean"));
    throws(() => c.subscribe("a/#/b"), TYPE("subscribe: a filter is 1..65535 bytes; + and # stand for whole levels, # last"));
    throws(() => c.subscribe("a+"), TYPE("subscribe: a filter is 1..65535 bytes; + and # stand for whole levels, # last"));
    throws(() => c.subscribe("a", { qos: 3 as 1 }), RANGE("subscribe qos must be an integer from 0 to 1, not 3"));
    throws(() => c.unsubscribe("#/a"), TYPE("unsubscribe: a filter is 1..65535 bytes; + and # stand for whole levels, # last"));
    c.subscribe("cmd/+/start", { qos: 1 });
    c.unsubscribe("cmd/+/start");
    c.publish("a/b", "text");
    c.publish("a/b", new Uint8Array([1, 2, 3]), { qos: 1, retain: true });
    c.publish("a/b", new ArrayBuffer(4));
    eq(c.stats().queued, 3);
    const final = c.close()!;
    eq(final.dropped, 3, "never sent: dropped at close");
    eq(final.queued, 0);
  });

  t.test("the queue is bounded: the oldest publishes make room and are counted", () => {
    const c = new MqttClient(NOBODY, { queueBytes: 4096 });
    for (let i = 0; i < 10; i++) c.publish("q", "x".repeat(999)); // 1000 bytes each with the topic
    eq(c.stats().queued, 4);
    eq(c.stats().dropped, 6);
    throws(() => c.publish("q", "x".repeat(5000)), RANGE("publish: the message is larger than queueBytes"));
    eq(c.close()!.dropped, 10);
  });

  t.test("nobody listening: onState hears why at a loop turn; close() twice; ERR_CLOSED after", () => {
    const seen: string[] = [];
    const c = new MqttClient(NOBODY, { onState: (s: MqttState, r?: string) => seen.push(`${s}:${r}`) });
    ok(c.state === "connecting" || c.state === "waiting", c.state);
    until(() => seen.length > 0);
    eq(seen[0], "waiting:Connection refused");
    eq(c.stats().lastError, "Connection refused");
    eq(c.stats().connects, 0);
    eq(c.close()!.state, "closed");
    eq(c.state, "closed");
    eq(c.close(), undefined);
    throws(() => c.publish("a", "b"), CLOSED);
    throws(() => c.subscribe("a"), CLOSED);
    throws(() => c.stats(), CLOSED);
    throws(() => c.url, CLOSED);
    (c as unknown as Record<symbol, AnyFn>)[dispose]();
    throws(() => (MqttClient.prototype.stats as AnyFn).call({}), { name: "TypeError", code: "ERR_WRONG_THIS" });
  });
});
