// What qcam:mqtt reads from a broker — the packet parser over a byte stream,
// filter matching on the topics in it — and the URL, topic and filter
// checks, under libFuzzer with ASan and UBSan (Debian's clang). The fuzzer
// lives beside the parser (host-modules/mqtt/fuzz_mqtt.c); here a bounded
// run from seeds of what mosquitto sends a client, plus malformed packets.
import { boundedFuzz } from "../fuzz-bounded.ts";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const publish = (topic: string, payload: string, qos = 0, retain = false) => {
  const t = Buffer.from(topic);
  const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 255]), t, qos ? hex("0001") : Buffer.alloc(0), Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1) | (retain ? 1 : 0), body.length]), body]);
};

function seeds(): Buffer[] {
  const session = Buffer.concat([
    hex("20 02 00 00"), // CONNACK accepted
    hex("90 03 0001 01"), // SUBACK QoS 1
    publish("cmd/board7/start", '{"reply":"r/1"}', 1),
    publish("status/board7", '{"recording":true}', 0, true),
    hex("40 02 0002"), // PUBACK
    hex("b0 02 0003"), // UNSUBACK
    hex("d0 00"), // PINGRESP
  ]);
  return [
    Buffer.concat([Buffer.from([7]), session]),
    Buffer.concat([Buffer.from([63]), session]),
    Buffer.concat([Buffer.from([0]), hex("20 02 00 05")]),
    Buffer.concat([Buffer.from([1]), Buffer.from("mqtt://board1:s3cret@127.0.0.1:1883")]),
    Buffer.concat([Buffer.from([1]), Buffer.from("fleet/+/status/#")]),
    Buffer.concat([Buffer.from([5]), hex("30 ff ff 7f"), Buffer.alloc(64, 0x41)]),
    Buffer.concat([Buffer.from([5]), hex("34 05 0003 612f62 36 05 0003 612f2b")]),
  ];
}

boundedFuzz({
  title: "qcam:mqtt's packet parser under libFuzzer (fuzz_mqtt.c)",
  name: "mqtt",
  sources: ["host-modules/mqtt/fuzz_mqtt.c", "host-modules/mqtt/mqtt_proto.c", "host-modules/media/neturl.c"],
  seeds,
  seedsAre: "what mosquitto says to a client, and malformed packets",
});
