// The recorder's own logic, tested in Node without the runtime.
import assert from "node:assert/strict";
import { describePlan, maskUrl, OptionError, parseCommandLine, parseOptions, rtspServerOptions, segmentName, segmentPattern } from "../../app/src/options.ts";
import { applySettings, DEFAULT_SETTINGS, goodPassword, makePassword, PASSWORD_ALPHABET, PASSWORD_LENGTH, publicSettings, validate } from "../../app/src/settings.ts";

describe("recorder options", function () {
  it("defaults: H.265 segments until stopped, no audio", function () {
    const o = parseOptions([]);
    assert.deepEqual(o, { recordSeconds: null, codec: "h265", container: "mp4", audio: false, rtsp: false, rtspOpen: false, rtspPassword: "", segmentSeconds: 60, resolution: "720p", fps: 30, bitrate: 3_000_000, publishUrl: null });
    assert.equal(parseCommandLine([]).headless, false, "no option: the menu");
    assert.equal(parseCommandLine(["--segment", "5"]).headless, true, "any option: headless");
    assert.equal(parseCommandLine(["--menu", "--codec", "h264"]).headless, false);
    assert.deepEqual(parseCommandLine(["--menu", "--codec", "h264"]).overrides, { codec: "h264" });
    assert.match(describePlan(o, "/sdcard/video").join("\n"), /segments of 60 s until stopped/);
  });

  it("--record, --codec, --audio, --rtsp, --segment", function () {
    const o = parseOptions(["--record", "2.5", "--codec", "h264", "--audio", "--rtsp", "--segment", "10"]);
    assert.deepEqual(o, { recordSeconds: 2.5, codec: "h264", container: "mp4", audio: true, rtsp: true, rtspOpen: false, rtspPassword: "", segmentSeconds: 10, resolution: "720p", fps: 30, bitrate: 3_000_000, publishUrl: null });
    const plan = describePlan(o, "/sdcard/video");
    assert.ok(plan.includes("length: 2.5 s"));
    assert.ok(plan.includes("audio: G.711 A-law 8000 Hz mono"));
    assert.ok(plan.includes("live: RTSP on port 8554, path /live, user admin, password: see the board's screen or settings"), plan.join("\n"));
    assert.match(plan[0], /H264 -> MP4 in \/sdcard\/video/);
  });

  it("--rtsp-open: RTSP without a password; the plan says so and never shows a password", function () {
    const cmd = parseCommandLine(["--rtsp-open"]);
    assert.deepEqual(cmd.overrides, { rtsp: true, rtspOpen: true });
    assert.equal(cmd.headless, true);
    const o = parseOptions(["--rtsp-open"], { ...DEFAULT_SETTINGS, rtspPassword: "Secret-1234" });
    assert.deepEqual(rtspServerOptions(o), { port: 8554 });
    assert.ok(describePlan(o, "/sdcard/video").includes("live: RTSP on port 8554, path /live, OPEN ACCESS: no password, anyone on the network can watch"));
    const closed = parseOptions(["--rtsp"], { ...DEFAULT_SETTINGS, rtspPassword: "Secret-1234" });
    assert.deepEqual(rtspServerOptions(closed), { port: 8554, auth: { user: "admin", password: "Secret-1234" } });
    assert.ok(!describePlan(closed, "/sdcard/video").join("\n").includes("Secret-1234"));
  });

  it("settings: version 1 files are taken (a password is added later), a bad password is refused without being shown", function () {
    const { rtspOpen: _o, rtspPassword: _p, ...v1 } = DEFAULT_SETTINGS;
    const ok = validate({ version: 1, ...v1 });
    assert.ok(typeof ok === "object", String(ok));
    assert.equal(ok.rtspPassword, "");
    assert.equal(ok.rtspOpen, false);
    for (const bad of ["", "short", 'with"quote', "back\\slash1", "x".repeat(65), 12345678]) {
      const v = validate({ ...DEFAULT_SETTINGS, version: 2, rtspPassword: bad });
      assert.equal(v, "rtspPassword is not 8 to 64 printable characters without quotes", JSON.stringify(bad));
    }
    assert.equal(typeof validate({ ...DEFAULT_SETTINGS, version: 2, rtspPassword: "x".repeat(64) }), "object");
    assert.match(validate({ ...DEFAULT_SETTINGS, version: 3, rtspPassword: "abcdefgh" }) as string, /^version 3, not 2$/);
  });

  it("makePassword: 12 characters of the unambiguous alphabet, every character of it in use", function () {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = makePassword();
      assert.equal(p.length, PASSWORD_LENGTH);
      for (const c of p) {
        assert.ok(PASSWORD_ALPHABET.includes(c), c);
        seen.add(c);
      }
      assert.ok(goodPassword(p));
    }
    assert.equal(seen.size, PASSWORD_ALPHABET.length, "2400 characters cover the alphabet");
    assert.doesNotMatch(PASSWORD_ALPHABET, /[0O1lI]/, "no look-alikes");
  });

  it("saved settings under the command line: --resolution, --fps, --bitrate, the time stamp", function () {
    const saved = { ...DEFAULT_SETTINGS, resolution: "1080p" as const, codec: "h264" as const, timestamp: true, audio: true };
    const o = parseOptions(["--fps", "25", "--bitrate", "6", "--container", "ts"], saved);
    assert.deepEqual([o.resolution, o.codec, o.fps, o.bitrate, o.container, o.audio, o.text], ["1080p", "h264", 25, 6_000_000, "ts", false, "%Y-%m-%d %H:%M:%S"]);
    assert.match(describePlan(o, "/sdcard/video")[0], /^video: 1920x1080 nv21 25 fps -> H264 -> TS/);
  });

  it("--rtmp: publish on, the URL kept for the run and shown masked; --mqtt and --board-id", function () {
    const cmd = parseCommandLine(["--rtmp", "rtmp://u:pw@media.lan:1936/live/b7?key=k3y", "--mqtt", "mqtt://b7:pw@broker", "--board-id", "b7"]);
    assert.deepEqual(cmd.overrides, { publish: true, publishUrl: "rtmp://u:pw@media.lan:1936/live/b7?key=k3y" });
    assert.deepEqual([cmd.headless, cmd.mqtt, cmd.boardId], [true, "mqtt://b7:pw@broker", "b7"]);
    const o = parseOptions(["--rtmp", "rtmp://u:pw@media.lan:1936/live/b7?key=k3y"]);
    assert.equal(o.publishUrl, "rtmp://u:pw@media.lan:1936/live/b7?key=k3y");
    const plan = describePlan(o, "/sdcard/video").join("\n");
    assert.match(plan, /publish: RTMP to rtmp:\/\/\*\*\*@media\.lan:1936\/live\/b7\?key=\*\*\*/);
    assert.doesNotMatch(plan, /pw|k3y/);
    // saved: a URL with publish off is not used; on, it is
    assert.equal(parseOptions(["--segment", "5"], { ...DEFAULT_SETTINGS, publishUrl: "rtmp://h/live/s" }).publishUrl, null);
    assert.equal(parseOptions(["--segment", "5"], { ...DEFAULT_SETTINGS, publish: true, publishUrl: "rtmp://h/live/s" }).publishUrl, "rtmp://h/live/s");
    assert.equal(maskUrl("rtmp://h/live/s?a=1&b=2"), "rtmp://h/live/s?a=***&b=***");
  });

  it("settings: a version 2 file from before publishing loads (publish off); a bad publishUrl is refused without being shown", function () {
    const { publish: _p, publishUrl: _u, ...old } = { ...DEFAULT_SETTINGS, rtspPassword: "Secret-1234" };
    const v = validate({ version: 2, ...old });
    assert.ok(typeof v !== "string", String(v));
    assert.deepEqual([v.publish, v.publishUrl], [false, ""]);
    assert.equal(validate({ version: 2, ...old, publish: true, publishUrl: "http://s3cret@h/x" }), "publishUrl is not an rtmp:// URL");
  });

  it("apply (fleet command): only the settings a fleet may change, checked; the settings shown without secrets", function () {
    const s = { ...DEFAULT_SETTINGS, rtspPassword: "Secret-1234", publishUrl: "rtmp://h/live/s?key=k3y" };
    const a = applySettings(s, { fps: 15, codec: "h264", publish: true });
    assert.ok(typeof a !== "string", String(a));
    assert.deepEqual([a.fps, a.codec, a.publish, a.rtspPassword], [15, "h264", true, "Secret-1234"]);
    const b = applySettings(s, { publish: "rtmp://other/live/x" });
    assert.ok(typeof b !== "string" && b.publishUrl === "rtmp://other/live/x" && b.publish);
    const c = applySettings(s, { publish: null });
    assert.ok(typeof c !== "string" && !c.publish);
    assert.equal(applySettings(s, { fps: 99 }), "fps is 99");
    assert.match(String(applySettings(s, { rtspPassword: "x" })), /^rtspPassword cannot be set/);
    assert.match(String(applySettings(s, { rtspOpen: true })), /^rtspOpen cannot be set/);
    assert.match(String(applySettings(s, { publish: "rtmps://h/live/x" })), /^publish: rtmps:\/\/ is not supported/);
    assert.equal(applySettings({ ...DEFAULT_SETTINGS }, { publish: true }), "publish: no URL known: give one");
    const shown = JSON.stringify(publicSettings(s));
    assert.doesNotMatch(shown, /Secret-1234|k3y/);
    assert.match(shown, /"publishUrl":"rtmp:\/\/h\/live\/s\?key=\*\*\*"/);
  });

  it("segment names: UTC start time and a zero-padded index", function () {
    assert.equal(segmentName(new Date(Date.UTC(2026, 10, 22, 5, 7, 9)), 3, "h265"), "rec_20261122_050709_003.h265");
    assert.equal(segmentName(new Date(0), 12, "mp4"), "rec_19700101_000000_012.mp4");
    assert.equal(segmentPattern("/sdcard/video"), "/sdcard/video/rec_%Y%m%d_%H%M%S_%03i.mp4");
  });

  for (const [args, msg] of [
    [["--record"], /--record needs a number of seconds > 0/],
    [["--record", "-1"], /--record needs/],
    [["--record", "abc"], /--record needs/],
    [["--codec", "vp9"], /--codec must be h264 or h265, not vp9/],
    [["--fast"], /unknown option --fast/],
    [["--resolution", "4k"], /--resolution must be 1080p, 720p, 480p, not 4k/],
    [["--fps", "0"], /--fps needs a whole number/],
    [["--bitrate", "x"], /--bitrate needs megabits/],
    [["--menu", "--record", "2"], /--menu runs the recorder on the screen/],
    [["--rtmp"], /--rtmp needs an rtmp:\/\/host\[:port\]\/app\/stream URL: nothing/],
    [["--rtmp", "http://x/live/a"], /--rtmp needs .*: not an rtmp:/],
    [["--rtmp", "rtmps://x/live/a"], /rtmps:\/\/ is not supported/],
    [["--rtmp", "rtmp://x/live"], /not an rtmp:\/\/host\[:port\]\/app\/stream URL/],
    [["--mqtt"], /--mqtt needs the broker as mqtt:\/\//],
    [["--mqtt", "mqtts://h"], /mqtts:\/\/ is not supported/],
    [["--mqtt", "mqtt://h/some/path"], /--mqtt needs the broker/],
    [["--board-id", "b1"], /--board-id goes with --mqtt/],
    [["--mqtt", "mqtt://h", "--board-id", "a/b"], /--board-id needs 1 to 64 letters/],
    [["--mqtt", "mqtt://h", "--board-id"], /--board-id needs/],
    [["--menu", "--mqtt", "mqtt://h"], /--mqtt runs with the headless recorder/],
  ] as const) {
    it(`rejects ${args.join(" ")}`, function () {
      assert.throws(() => parseOptions(args), (e: Error) => e instanceof OptionError && msg.test(e.message));
    });
  }
});
