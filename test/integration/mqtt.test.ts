// qcam:mqtt's MqttClient on the real runtime against mosquitto (Debian's),
// run as a child of the test with its own configuration on a free port: one
// listener open to anyone, one that takes only the user in a password file
// made with mosquitto_passwd. mosquitto_sub and mosquitto_pub are the other
// clients. Also the protocol layer's table test (test/c/test_mqtt_proto.c).
import assert from "node:assert/strict";
import path from "node:path";
import { ensureFlavor } from "../../build/app-build.ts";
import { buildDir } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import { fixture, reportLine, run, spawnChild, spawnSyncChild, tmpDir, type Started } from "../helpers.ts";
import { startMosquitto, type Broker } from "../servers.ts";

interface Stats { state: string; url: string; clientId: string; sent: number; acked: number; received: number; dropped: number; connects: number; lastError: string | null }
interface Msg { topic: string; payload: string; qos: number; retain: boolean; bytes: number }

const messages = (out: string): Msg[] => out.split("\n").filter((l) => l.startsWith("message ")).map((l) => JSON.parse(l.slice(8)) as Msg);

describe("qcam:mqtt (MqttClient) against mosquitto", function () {
  this.timeout(120_000);
  let image = "";
  let broker: Broker;

  before(async function () {
    image = (await fixture("mqtt")).image;
    broker = await startMosquitto();
  });

  function app(args: string[], flavor: "host" | "asan" = "host"): Started {
    const cmd = runtimeCommand(flavor, image, { args, sdcard: tmpDir("qcam-sd-") });
    return spawnChild(cmd[0], cmd.slice(1), { timeoutMs: 60_000 });
  }

  it("the protocol layer: URLs, topics and filters, packets both ways (test_mqtt_proto.c)", function () {
    const r = spawnSyncChild(path.join(buildDir("host"), "qcam-test-mqtt"), [], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: \d+ checks, 0 failed/m);
  });

  it("round trip: subscribe t/#, publish 10 (QoS 0 and 1, text and bytes); all come back in order; mosquitto_sub sees them too", async function () {
    const sub = spawnChild("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(broker.open), "-t", "rt/#", "-v", "-C", "5", "-W", "30"]);
    await new Promise((r) => setTimeout(r, 300)); // mosquitto_sub subscribed
    const r = await app(["roundtrip", "--url", `mqtt://127.0.0.1:${broker.open}`, "--count", "10", "--prefix", "rt"]).done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(reportLine<boolean>(r.stdout, "all"), true);
    const got = messages(r.stdout);
    assert.deepEqual(got.map((m) => m.topic), Array.from({ length: 10 }, (_, i) => `rt/${i}`));
    assert.deepEqual(got.filter((m) => m.topic.endsWith("1")).map((m) => m.payload), ["hello 1"]);
    assert.ok(got.every((m, i) => m.bytes === (i % 2 ? `hello ${i}`.length : 3) && m.qos === i % 2 && !m.retain));
    const st = reportLine<Stats>(r.stdout, "stats");
    assert.equal(st.sent, 10);
    assert.equal(st.acked, 5);
    assert.equal(st.received, 10);
    assert.equal(st.state, "closed");
    const s = await sub.done;
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(s.stdout.trim().split("\n").filter((l) => /hello/.test(l)), ["rt/1 hello 1", "rt/3 hello 3"]);
  });

  it("a message from mosquitto_pub reaches onMessage; a retained one reaches a later subscriber with retain set", async function () {
    const l = app(["listen", "--url", `mqtt://127.0.0.1:${broker.open}`, "--filter", "cmd/+/start", "--count", "1", "--ms", "20000"]);
    await l.waitFor('"state":"connected"');
    await new Promise((r) => setTimeout(r, 300)); // SUBACK
    const p = await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(broker.open), "-t", "cmd/board7/start", "-m", '{"reply":"r/1"}', "-q", "1"]);
    assert.equal(p.code, 0, p.stderr);
    const r = await l.done;
    assert.deepEqual(messages(r.stdout), [{ topic: "cmd/board7/start", payload: '{"reply":"r/1"}', qos: 0, retain: false, bytes: 15 }]);

    const pub = await app(["publish", "--url", `mqtt://127.0.0.1:${broker.open}`, "--topic", "status/board7", "--payload", '{"recording":true}', "--retain", "true"]).done;
    assert.equal(pub.code, 0, pub.stdout + pub.stderr);
    assert.equal(reportLine<boolean>(pub.stdout, "acked"), true);
    const later = await run("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(broker.open), "-t", "status/#", "-v", "-C", "1", "-W", "10"]);
    assert.equal(later.stdout.trim(), 'status/board7 {"recording":true}');
    const l2 = await app(["listen", "--url", `mqtt://127.0.0.1:${broker.open}`, "--filter", "status/#", "--count", "1"]).done;
    assert.deepEqual(messages(l2.stdout).map((m) => [m.topic, m.payload, m.retain]), [["status/board7", '{"recording":true}', true]]);
  });

  it("last will: a board killed with SIGKILL is marked offline by the broker (retained)", async function () {
    const w = app(["will", "--url", `mqtt://127.0.0.1:${broker.open}`, "--topic", "fleet/b9/status"]);
    await w.waitFor("connected true");
    const before = await run("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(broker.open), "-t", "fleet/b9/status", "-C", "1", "-W", "10"]);
    assert.equal(before.stdout.trim(), '{"online":true}');
    const watch = spawnChild("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(broker.open), "-t", "fleet/b9/status", "-C", "2", "-W", "30"]);
    await new Promise((r) => setTimeout(r, 300));
    w.kill(); // SIGKILL: no DISCONNECT, the broker publishes the will
    const seen = await watch.done;
    assert.deepEqual(seen.stdout.trim().split("\n"), ['{"online":true}', '{"online":false}']);
    const after = await run("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(broker.open), "-t", "fleet/b9/status", "-C", "1", "-W", "10"]);
    assert.equal(after.stdout.trim(), '{"online":false}', "the will was retained");
  });

  it("a clean close() sends DISCONNECT: no will", async function () {
    const w = app(["will", "--url", `mqtt://127.0.0.1:${broker.open}`, "--topic", "fleet/b10/status"]);
    await w.waitFor("connected true");
    w.signal("SIGINT"); // needExit(): the fixture closes the client
    const r = await w.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const after = await run("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(broker.open), "-t", "fleet/b10/status", "-C", "1", "-W", "10"]);
    assert.equal(after.stdout.trim(), '{"online":true}');
  });

  it("credentials: the password file's user connects; a wrong password is refused with the broker's reason; neither shows", async function () {
    const ok = await app(["publish", "--url", `mqtt://board1:s3cret@127.0.0.1:${broker.secure}`, "--topic", "auth/ok", "--payload", "1"]).done;
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(reportLine<boolean>(ok.stdout, "acked"), true);
    assert.equal(reportLine<Stats>(ok.stdout, "stats").url, `mqtt://***@127.0.0.1:${broker.secure}`);
    const bad = await app(["refused", "--url", `mqtt://board1:wr0ng@127.0.0.1:${broker.secure}`]).done;
    assert.equal(bad.code, 0, bad.stdout + bad.stderr);
    const st = reportLine<Stats>(bad.stdout, "stats");
    assert.equal(st.connects, 0);
    assert.match(st.lastError ?? "", /^refused: (bad user name or password|not authorized)$/);
    const anon = await app(["refused", "--url", `mqtt://127.0.0.1:${broker.secure}`]).done;
    assert.match(reportLine<Stats>(anon.stdout, "stats").lastError ?? "", /^refused: not authorized$/);
    for (const out of [ok.stdout + ok.stderr, bad.stdout + bad.stderr]) assert.doesNotMatch(out, /s3cret|wr0ng|board1/);
  });

  it("under ASan+UBSan: a round trip and a refused login — clean, nothing leaked", async function () {
    ensureFlavor("asan"); // the same image: the ASan runtime is a host flavor
    for (const args of [["roundtrip", "--url", `mqtt://127.0.0.1:${broker.open}`, "--count", "20", "--prefix", "asan"],
      ["refused", "--url", `mqtt://board1:wr0ng@127.0.0.1:${broker.secure}`]]) {
      const r = await app(args, "asan").done;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stderr, /Sanitizer|runtime error/, r.stderr);
      assert.equal(reportLine<Stats>(r.stdout, "stats").state, "closed");
    }
  });

  it("the broker restarted: the client reconnects, subscribes again and gets what is published after", async function () {
    const l = app(["listen", "--url", `mqtt://127.0.0.1:${broker.open}`, "--filter", "after/#", "--count", "1", "--ms", "40000"]);
    await l.waitFor('"state":"connected"');
    broker.proc.kill();
    await broker.proc.done;
    await l.waitFor('"state":"waiting"');
    const old = broker;
    const proc = spawnChild("mosquitto", ["-c", path.join(old.dir, "m.conf")], { lifetime: "suite" });
    broker = { ...old, proc };
    await proc.waitFor(/mosquitto version \S+ running/, 10000, true);
    // until the client has subscribed again, retry the publish
    for (let i = 0; i < 100 && !l.output().stdout.includes("message "); i++) {
      if ((l.output().stdout.match(/"state":"connected"/g) ?? []).length >= 2)
        await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(broker.open), "-t", "after/x", "-m", "back"]);
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await l.done;
    assert.equal(messages(r.stdout)[0]?.payload, "back", r.stdout);
    const st = reportLine<Stats & { reconnects: number }>(r.stdout, "stats");
    assert.ok(st.reconnects >= 1);
  });
});
