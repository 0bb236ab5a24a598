// What qcam:mqtt reads from a broker — the packet parser over a byte stream,
// filter matching on the topics in it — and the URL, topic and filter
// checks, under libFuzzer with ASan and UBSan (Debian's clang). The fuzzer
// lives beside the parser (host-modules/mqtt/fuzz_mqtt.c); here a bounded
// run from seeds of what mosquitto sends a client, plus malformed packets.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { OUT, ROOT } from "../../build/paths.ts";
import { spawnSyncChild } from "../helpers.ts";

const DIR = path.join(OUT, "fuzz");
const BIN = path.join(DIR, "fuzz_mqtt");
const SEEDS = path.join(DIR, "corpus-mqtt");
const SRC = ["host-modules/mqtt/fuzz_mqtt.c", "host-modules/mqtt/mqtt_proto.c", "host-modules/media/neturl.c"];
const DEPS = [...SRC, "host-modules/mqtt/mqtt_proto.h", "host-modules/media/neturl.h"];

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

describe("qcam:mqtt's packet parser under libFuzzer (fuzz_mqtt.c)", function () {
  this.timeout(300_000);
  before(function () {
    assert.equal(spawnSyncChild("clang", ["--version"]).status, 0, "clang (installed by node bin/setup.mjs test) builds the fuzzer");
    fs.mkdirSync(SEEDS, { recursive: true });
    fs.mkdirSync(path.join(DIR, "artifacts"), { recursive: true });
    seeds().forEach((b, i) => fs.writeFileSync(path.join(SEEDS, `seed-${i}`), b));
    const newest = Math.max(...DEPS.map((f) => fs.statSync(path.join(ROOT, f)).mtimeMs));
    if (fs.existsSync(BIN) && fs.statSync(BIN).mtimeMs > newest) return;
    const r = spawnSyncChild("clang", ["-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all", "-g", "-O1", "-std=c11",
      "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Werror", ...SRC, "-o", BIN], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  });

  it("the seeds (what mosquitto says to a client, and malformed packets) run clean", function () {
    const r = spawnSyncChild(BIN, ["-runs=0", SEEDS], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr.slice(-4000));
  });

  it("200000 inputs mutated from them break no invariant", function () {
    const r = spawnSyncChild(BIN, ["-runs=200000", "-max_len=8192", `-artifact_prefix=${path.join(DIR, "artifacts", "mqtt-")}`, SEEDS], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr.slice(-4000));
    assert.match(r.stderr, /Done 200000 runs/);
  });
});
