// app/examples/fleet_board.ts, the example of a board in a fleet, against the
// servers its users would have: nginx-rtmp receives the stream (ffmpeg pulls
// it back and decodes it), mosquitto carries the status, events and commands
// (mosquitto_sub and mosquitto_pub are the fleet's side).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import { assertDecodesClean, fixture, probeStream, run, spawnChild, tmpDir } from "../helpers.ts";
import { playing, pull, startMosquitto, startNginx, type Broker, type Nginx } from "../servers.ts";

describe("example: fleet_board (records, publishes over RTMP, reports over MQTT)", function () {
  this.timeout(180_000);
  let ngx: Nginx;
  let mq: Broker;
  let image = "";

  before(async function () {
    image = (await fixture(path.join(ROOT, "app", "examples", "fleet_board.ts"))).image;
    ngx = await startNginx();
    mq = await startMosquitto();
  });

  it("status and events on the broker, commands answered on their reply topic, `stop` ends it; the stream and the card decode", async function () {
    const sdcard = tmpDir("qcam-sd-");
    const watch = spawnChild("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(mq.open), "-t", "qcam/b7/#", "-t", "fleet/replies/#", "-v", "-W", "120"]);
    const ff = pull(ngx, "b7");
    await playing(ngx, "b7");
    const cmd = runtimeCommand("host", image, { sdcard, args: ["--rtmp", `rtmp://127.0.0.1:${ngx.rtmpPort}/live/b7?key=s3cret`,
      "--mqtt", `mqtt://127.0.0.1:${mq.open}`, "--id", "b7", "--segment", "1"] });
    const board = spawnChild(cmd[0], cmd.slice(1), { timeoutMs: 120_000 });
    const seen = () => watch.output().stdout;
    const waitSeen = async (re: RegExp) => {
      for (let i = 0; i < 600 && !re.test(seen()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(seen(), re);
    };
    await waitSeen(/^qcam\/b7\/event .*"type":"publish","state":"publishing"/m);
    await waitSeen(/^qcam\/b7\/event .*"type":"segment"/m); // a one-second segment was saved
    let p = await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(mq.open), "-t", "qcam/b7/cmd/status", "-q", "1", "-m", '{"id":"c1","reply":"fleet/replies/1"}']);
    assert.equal(p.code, 0, p.stderr);
    await waitSeen(/^fleet\/replies\/1 \{"id":"c1","ok":true,"status":/m);
    p = await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(mq.open), "-t", "qcam/b7/cmd/dance", "-q", "1", "-m", '{"id":"c2"}']);
    await waitSeen(/^qcam\/b7\/reply \{"id":"c2","ok":false,"code":"ERR_UNKNOWN_COMMAND"/m);
    p = await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(mq.open), "-t", "qcam/b7/cmd/stop", "-q", "1", "-m", '{"id":"c3","reply":"fleet/replies/3"}']);
    const r = await board.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const m = r.stdout.match(/recorded (\d+) frames in (\d+) files; published (\d+), dropped (\d+)/);
    assert.ok(m, r.stdout);
    const [recorded, files, published, dropped] = m.slice(1).map(Number);
    assert.ok(recorded > 0 && files >= 2);
    assert.equal(published + dropped, recorded, "every frame published or counted as dropped");
    await waitSeen(/^fleet\/replies\/3 \{"id":"c3","ok":true\}/m);
    // the status: retained, masked, offline at the end
    const status = seen().split("\n").filter((l) => l.startsWith("qcam/b7/status ")).map((l) => JSON.parse(l.slice(15)) as Record<string, unknown>);
    assert.ok(status.length >= 2, seen());
    assert.equal((status[0].publish as { url: string } | undefined)?.url ?? `rtmp://127.0.0.1:${ngx.rtmpPort}/live/b7?key=***`, `rtmp://127.0.0.1:${ngx.rtmpPort}/live/b7?key=***`);
    assert.equal(status[status.length - 1].online, false);
    assert.doesNotMatch(seen() + r.stdout + r.stderr, /s3cret/);
    const retained = await run("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(mq.open), "-t", "qcam/b7/status", "-C", "1", "-W", "10"]);
    assert.equal((JSON.parse(retained.stdout) as { online: boolean }).online, false);
    watch.kill();
    // what nginx received, and the card
    await ff.proc.done;
    const got = probeStream(ff.file);
    assert.deepEqual([got.codec, got.width, got.height, got.frames], ["h264", 640, 360, published]);
    assertDecodesClean(ff.file);
    const files264 = fs.readdirSync(path.join(sdcard, "video")).filter((f) => f.startsWith("fleet_")).sort();
    assert.equal(files264.length, files);
    let total = 0;
    for (const f of files264) {
      const s = probeStream(path.join(sdcard, "video", f));
      total += s.frames;
      assertDecodesClean(path.join(sdcard, "video", f));
    }
    assert.equal(total, recorded);
  });
});
