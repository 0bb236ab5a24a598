// The recorder in a fleet (--rtmp, --mqtt, --board-id) and `qcam fleet`,
// against servers we did not write: nginx with libnginx-mod-rtmp receives the
// push, mosquitto carries status, events and commands; mosquitto_sub and
// mosquitto_pub are a fleet's side, ffprobe judges the files.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import { assertDecodesClean, fixture, probeStream, run, spawnChild, tmpDir, type Started } from "../helpers.ts";
import { startMosquitto, startNginx, type Broker, type Nginx } from "../servers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");
const SMALL = ["--codec", "h264", "--resolution", "480p", "--fps", "10", "--bitrate", "0.3"];

describe("recorder in a fleet (--rtmp, --mqtt; qcam fleet) against nginx-rtmp and mosquitto", function () {
  this.timeout(180_000);
  let ngx: Nginx;
  let mq: Broker;
  let image = "";

  before(async function () {
    image = (await fixture(path.join(ROOT, "app"))).image;
    ngx = await startNginx();
    mq = await startMosquitto();
  });

  const board = (sdcard: string, args: string[]): Started => {
    const cmd = runtimeCommand("host", image, { sdcard, args });
    return spawnChild(cmd[0], cmd.slice(1), { timeoutMs: 150_000 });
  };
  const fleet = (args: string[]) => run(process.execPath, [CLI, "fleet", ...args], { cwd: ROOT });
  const sub = (topics: string[]) => spawnChild("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(mq.open), ...topics.flatMap((t) => ["-t", t]), "-v", "-W", "150"]);
  const pub = (topic: string, msg: string) => run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(mq.open), "-t", topic, "-q", "1", "-m", msg]);
  async function waitFor(get: () => string, re: RegExp, what: string): Promise<RegExpMatchArray> {
    for (let i = 0; i < 1200; i++) {
      const m = get().match(re);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`${what}: no ${re} in\n${get()}`);
  }
  const retained = async (id: string) => {
    const r = await run("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(mq.open), "-t", `qcam/${id}/status`, "-C", "1", "-W", "10"]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  it("status and events on the broker, start/stop by mosquitto_pub and qcam fleet, the push reaches nginx, SIGKILL leaves it offline; no secret anywhere", async function () {
    const sd = tmpDir("qcam-sd-");
    const watch = sub(["qcam/b1/#", "fleet/r/#"]);
    const seen = () => watch.output().stdout;
    const rec = board(sd, [...SMALL, "--mqtt", `mqtt://board1:s3cret@127.0.0.1:${mq.secure}`, "--board-id", "b1",
      "--rtmp", `rtmp://127.0.0.1:${ngx.rtmpPort}/live/b1?key=s3cret`]);
    // the status: retained, recording, the push publishing, its URL masked
    await waitFor(seen, /^qcam\/b1\/event \{.*"type":"publish","state":"publishing"/m, "publish event");
    const st = await waitFor(seen, /^qcam\/b1\/status (\{.*"recording":true.*"state":"publishing".*\})$/m, "status");
    const status = JSON.parse(st[1]) as { online: boolean; versions: { app: string; runtime: string; engine: string }; video: { codec: string; width: number }; card: { freeBytes: number }; publish: { url: string } };
    assert.equal(status.online, true);
    assert.equal(status.video.codec, "h264");
    assert.equal(status.video.width, 854);
    assert.ok(status.card.freeBytes > 0);
    assert.match(status.versions.app, /^\d+\.\d+\.\d+/);
    assert.match(status.versions.runtime, /^\d+\.\d+\.\d+/);
    assert.match(status.versions.engine, /^\d+\.\d+\.\d+/);
    assert.equal(status.publish.url, `rtmp://127.0.0.1:${ngx.rtmpPort}/live/b1?key=***`);

    // stop with mosquitto_pub: answered on the reply topic with the file, which plays
    await waitFor(() => rec.output().stdout, /recording 2 s/, "two seconds recorded");
    let p = await pub("qcam/b1/cmd/stop", '{"id":"c1","reply":"fleet/r/1"}');
    assert.equal(p.code, 0, p.stderr);
    const stopped = await waitFor(seen, /^fleet\/r\/1 (\{"id":"c1","ok":true.*\})$/m, "stop reply");
    const saved = (JSON.parse(stopped[1]) as { saved: { path: string; frames: number }[] }).saved;
    assert.equal(saved.length, 1);
    await waitFor(seen, /^qcam\/b1\/event \{.*"type":"segment"/m, "segment event");
    await waitFor(seen, /^qcam\/b1\/status \{.*"recording":false/m, "status: not recording");
    const file = path.join(sd, "video", path.basename(saved[0].path));
    assert.ok(fs.existsSync(file), file);
    const got = probeStream(file);
    assert.deepEqual([got.codec, got.width, got.height, got.frames], ["h264", 854, 480, saved[0].frames]);
    assertDecodesClean(file);
    // a second stop: refused, the board carries on
    p = await pub("qcam/b1/cmd/stop", '{"id":"c2"}');
    await waitFor(seen, /^qcam\/b1\/reply \{"id":"c2","ok":false,"code":"ERR_NOT_RECORDING"/m, "second stop");
    p = await pub("qcam/b1/cmd/start", "not json");
    await waitFor(seen, /^qcam\/b1\/reply \{"id":null,"ok":false,"code":"ERR_INVALID_ARG"/m, "bad command");

    // qcam fleet lists it (through the board's own account) and starts it again
    const creds = ["--broker", `mqtt://127.0.0.1:${mq.secure}`, "--user", "board1", "--password", "s3cret"];
    let f = await fleet(creds);
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stdout, /^BOARD +ONLINE +RECORDING/m);
    assert.match(f.stdout, /^b1 +yes +no /m);
    f = await fleet([...creds, "send", "b1", "start"]);
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stdout, /^b1: \{"id":"c-[0-9a-f]+","ok":true,"recording":true/m);
    await waitFor(seen, /^qcam\/b1\/status \{.*"recording":true.*"segment":\{"path":"[^"]+rec_\d+_\d+_000\.mp4"/m, "recording again");
    // apply with a bad value: refused with the reason, nothing changes
    f = await fleet([...creds, "send", "b1", "apply", '{"fps": 99}']);
    assert.equal(f.code, 1);
    assert.match(f.stdout, /^b1: \{"id":"c-[0-9a-f]+","ok":false,"code":"ERR_INVALID_ARG","message":"fps is 99"\}/m);
    f = await fleet([...creds, "send", "b1", "apply", '{"rtspOpen": true}']);
    assert.match(f.stdout, /"ok":false,"code":"ERR_INVALID_ARG","message":"rtspOpen cannot be set/);
    // apply while recording: the recording is cut and goes on with the new settings
    f = await fleet([...creds, "send", "b1", "apply", '{"fps": 5, "publish": null}']);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    const applied = JSON.parse(f.stdout.replace(/^b1: /, "")) as { ok: boolean; recording: boolean; settings: Record<string, unknown> };
    assert.deepEqual([applied.ok, applied.recording, applied.settings.fps, applied.settings.publish, applied.settings.publishUrl], [true, true, 5, false, `rtmp://127.0.0.1:${ngx.rtmpPort}/live/b1?key=***`]);
    assert.equal(applied.settings.rtspPassword, undefined);
    await waitFor(seen, /^qcam\/b1\/status \{.*"recording":true.*"fps":5,.*"publish":null/m, "status after apply");
    f = await fleet([...creds, "send", "b1", "apply", "{oops"]);
    assert.equal(f.code, 1);
    assert.match(f.stderr, /qcam fleet: the command's arguments are not JSON/);
    // a board that is not there: named after the timeout
    f = await fleet([...creds, "--timeout", "1", "send", "nosuch", "stop"]);
    assert.equal(f.code, 1);
    assert.match(f.stderr, /^nosuch: no answer within 1\.0 s/m);

    // SIGKILL: the broker publishes the last will
    rec.kill();
    await rec.done;
    await waitFor(seen, /^qcam\/b1\/status \{"online":false,"at":null\}$/m, "last will");
    assert.equal((await retained("b1")).online, false);
    f = await fleet(creds);
    assert.match(f.stdout, /^b1 +OFFLINE /m);
    watch.kill();
    // nginx took the push (the first recording's stream, and the second's)
    const flv = fs.readdirSync(ngx.rec).filter((n) => n.startsWith("b1-")).sort();
    assert.ok(flv.length >= 1, `nginx recorded nothing: ${fs.readdirSync(ngx.rec).join(" ")}`);
    const pushed = probeStream(path.join(ngx.rec, flv[0]));
    assert.deepEqual([pushed.codec, pushed.width, pushed.height], ["h264", 854, 480]);
    assert.ok(pushed.frames > 0);
    const all = seen() + rec.output().stdout + rec.output().stderr;
    assert.doesNotMatch(all, /s3cret/);
  });

  it("wrong credentials are refused: the board says so and records all the same; qcam fleet says so; nothing reaches the topics", async function () {
    const sd = tmpDir("qcam-sd-");
    const rec = board(sd, [...SMALL, "--segment", "1", "--mqtt", `mqtt://board1:wrong@127.0.0.1:${mq.secure}`, "--board-id", "bw"]);
    await rec.waitFor(/mqtt mqtt:\/\/\*\*\*@127\.0\.0\.1:\d+: waiting \(refused: (bad user name or password|not authorized)\)/, 60_000);
    await rec.waitFor(/saved .*rec_\d+_\d+_000\.mp4/, 60_000); // the recording does not wait for the broker
    const f = await fleet(["--broker", `mqtt://127.0.0.1:${mq.secure}`, "--user", "board1", "--password", "nope"]);
    assert.equal(f.code, 1);
    assert.match(f.stderr, /^qcam fleet: cannot use the broker mqtt:\/\/127\.0\.0\.1:\d+: refused \(.*\): check --user and --password/m);
    // bad command lines: said, nothing sent
    let u = await fleet([]);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /qcam fleet needs --broker mqtt:\/\/host/);
    u = await fleet(["--broker", `mqtt://127.0.0.1:${mq.open}`, "send", "bw", "dance"]);
    assert.equal(u.code, 1);
    assert.match(u.stderr, /^qcam fleet: unknown command 'dance' \(start, stop, apply, status\)/m);
    // anonymous commands on the secure listener: refused by the broker
    const p = await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(mq.secure), "-t", "qcam/bw/cmd/stop", "-q", "1", "-m", "{}"]);
    assert.notEqual(p.code, 0);
    const none = await run("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(mq.open), "-t", "qcam/bw/#", "-C", "1", "-W", "1"]);
    assert.equal(none.stdout, "");
    rec.signal("SIGINT");
    const r = await rec.done;
    assert.match(r.stdout, /stopped after/);
    assert.doesNotMatch(r.stdout + r.stderr, /wrong/);
  });

  it("ten boards at once: each one's stream reaches nginx, each is listed by qcam fleet and answers `send all`", async function () {
    const N = 10;
    const broker = `mqtt://127.0.0.1:${mq.open}`;
    const boards = Array.from({ length: N }, (_, i) =>
      board(tmpDir("qcam-sd-"), [...SMALL, "--resolution", "480p", "--mqtt", broker, "--board-id", `f${i}`, "--rtmp", `rtmp://127.0.0.1:${ngx.rtmpPort}/live/f${i}`]));
    const watch = sub(["qcam/+/status"]);
    for (let i = 0; i < N; i++) await waitFor(() => watch.output().stdout, new RegExp(`^qcam/f${i}/status \\{.*"recording":true.*"state":"publishing"`, "m"), `board f${i}`);
    watch.kill();
    const list = await fleet(["--broker", broker]);
    assert.equal(list.code, 0, list.stderr);
    for (let i = 0; i < N; i++) assert.match(list.stdout, new RegExp(`^f${i} +yes +yes +rec_\\S+ +\\S+ +\\d+ +- +publishing `, "m"));
    const stop = await fleet(["--broker", broker, "--timeout", "20", "send", "all", "stop"]);
    assert.equal(stop.code, 0, stop.stdout + stop.stderr);
    for (let i = 0; i < N; i++) assert.match(stop.stdout, new RegExp(`^f${i}: \\{"id":"c-[0-9a-f]+","ok":true,"recording":false,"saved":\\[\\{"path"`, "m"));
    for (const b of boards) b.signal("SIGINT");
    for (const b of boards) assert.equal((await b.done).code, 0);
    for (let i = 0; i < N; i++) {
      const flv = fs.readdirSync(ngx.rec).filter((n) => n.startsWith(`f${i}-`));
      assert.equal(flv.length, 1, `f${i}: ${fs.readdirSync(ngx.rec).join(" ")}`);
      const s = probeStream(path.join(ngx.rec, flv[0]));
      assert.deepEqual([s.codec, s.width, s.height], ["h264", 854, 480], `f${i}`);
      assert.ok(s.frames > 0, `f${i}: no frames`);
    }
  });
});
