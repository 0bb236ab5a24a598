// qcam:publish's RtspPublisher on the real runtime against a server we did
// not write: GStreamer's RTSP server (libgstrtspserver-1.0) in record mode,
// through our harness test/rtsp-record.c, run as a child of the test on a
// free port. It depayloads what the publisher pushes (ANNOUNCE + RECORD, RTP
// over the RTSP connection) into files ffprobe judges: codec, size, frame
// count, a clean decode. Also the protocol layer's table test
// (test/c/test_rtsp_push_proto.c), Digest and Basic credentials (and a wrong
// password), a server that is not there, one of ours that stops reading
// (whole GOPs dropped, the link never waits), and the server killed and
// restarted mid-push (the publisher reconnects; the MP4 of the same link has
// every frame).
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { ensureFlavor } from "../../build/app-build.ts";
import { buildDir, ROOT } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import { assertDecodesClean, fixture, reportLine, spawnChild, spawnSyncChild, tmpDir, type Started } from "../helpers.ts";
import { buildRtspRecord, freePort, startRtspRecord, type RtspRecord } from "../servers.ts";

interface Stats { state: string; url: string; bytes: number; videoFrames: number; audioFrames: number; dropped: number; connects: number; reconnects: number; lastError: string | null }

function frames(file: string): { codec: string; width: number; height: number; frames: number } {
  const r = spawnSyncChild("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
    "stream=codec_name,width,height,nb_read_frames", "-of", "json", file], { encoding: "utf8" });
  assert.equal(r.status, 0, `ffprobe ${file}: ${r.stderr}`);
  const s = (JSON.parse(r.stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[] }).streams[0];
  assert.ok(s, `no video in ${file}`);
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames) };
}

/** Enough RTSP to get a publisher recording (200 to every request, sessions of `timeout` s); then,
 * when `stall`, it reads nothing more. */
function stallingServer(stall = true, timeout = 60): Promise<{ port: number; server: net.Server; methods: string[] }> {
  const methods: string[] = [];
  const server = net.createServer((sock) => {
    let got = Buffer.alloc(0);
    sock.on("error", () => undefined);
    sock.on("data", (d) => {
      got = Buffer.concat([got, d]);
      for (;;) {
        while (got.length >= 4 && got[0] === 0x24) { // '$' frames: RTP, skipped
          const n = 4 + got.readUInt16BE(2);
          if (got.length < n) return;
          got = got.subarray(n);
        }
        const end = got.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = got.subarray(0, end).toString("latin1");
        const len = Number(/\r\nContent-Length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (got.length < end + 4 + len) return;
        got = got.subarray(end + 4 + len);
        const method = head.split(" ")[0];
        methods.push(method);
        const cseq = /\r\nCSeq: *(\d+)/i.exec(head)?.[1] ?? "0";
        sock.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nSession: 12345678;timeout=${timeout}\r\n\r\n`);
        if (method === "RECORD" && stall) {
          sock.pause(); // a server that has stopped taking anything
          return;
        }
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as net.AddressInfo).port, server, methods })));
}

describe("qcam:publish (RtspPublisher) against GStreamer's RTSP server in record mode", function () {
  this.timeout(180_000);
  let image = "";
  let bin = "";
  const servers: RtspRecord[] = [];

  before(async function () {
    image = (await fixture("publish")).image;
    bin = buildRtspRecord(path.join(buildDir("host"), "test-tools"));
  });

  after(function () {
    for (const s of servers) s.proc.kill();
  });

  async function server(auth: string[] = []): Promise<RtspRecord> {
    const s = await startRtspRecord(bin, auth);
    servers.push(s);
    return s;
  }

  function app(args: string[], sdcard = tmpDir("qcam-sd-"), flavor: "host" | "asan" = "host"): Started & { sdcard: string } {
    const cmd = runtimeCommand(flavor, image, { args, sdcard });
    return { ...spawnChild(cmd[0], cmd.slice(1), { timeoutMs: 150_000 }), sdcard };
  }

  /** The file the server wrote, once it has stopped growing (it writes as packets arrive). */
  async function settled(file: string): Promise<string> {
    let last = -1;
    for (let i = 0; i < 200; i++) {
      const n = fs.existsSync(file) ? fs.statSync(file).size : -1;
      if (n > 0 && n === last) return file;
      last = n;
      await new Promise((r) => setTimeout(r, 100));
    }
    return file;
  }

  it("the RTSP push layer: URLs, replies, challenges, Digest per RFC 2617's example (test_rtsp_push_proto.c)", function () {
    const r = spawnSyncChild(path.join(buildDir("host"), "qcam-test-rtsp-push"), [], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: \d+ checks, 0 failed/m);
  });

  for (const codec of ["h264", "h265"] as const) {
    it(`link: camera → ${codec} → [MP4, RtspPublisher]; the server receives 90 frames 320x240 that decode clean`, async function () {
      const s = await server();
      const a = app(["link", "--url", `rtsp://127.0.0.1:${s.port}/${codec}`, "--codec", codec, "--frames", "90"]);
      const r = await a.done;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const st = reportLine<Stats>(r.stdout, "stats");
      assert.equal(st.state, "closed");
      assert.equal(st.videoFrames, 90, JSON.stringify(st));
      assert.equal(st.dropped, 0);
      assert.equal(st.connects, 1);
      assert.ok(st.bytes > 0);
      const file = await settled(path.join(s.dir, `${codec}.${codec}`));
      const v = frames(file);
      assert.equal(v.codec, codec === "h264" ? "h264" : "hevc");
      assert.deepEqual([v.width, v.height], [320, 240]);
      assert.ok(Math.abs(v.frames - 90) <= 1, `frames the server wrote: ${v.frames}`);
      assertDecodesClean(file);
      assert.equal(reportLine<{ frames: number }>(r.stdout, "mp4").frames, 90);
    });
  }

  it("G.711 A-law beside H.264 (PCMA, payload type 8): the server gets both tracks, 8 kHz, in one session", async function () {
    const s = await server();
    const a = app(["av", "--url", `rtsp://127.0.0.1:${s.port}/av`, "--frames", "90"]);
    const r = await a.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const st = reportLine<Stats>(r.stdout, "stats");
    assert.equal(st.videoFrames, 90, JSON.stringify(st));
    assert.equal(st.dropped, 0);
    assert.equal(st.audioFrames, 150, "3 s of 20 ms blocks");
    const file = await settled(path.join(s.dir, "av.mkv"));
    const p = spawnSyncChild("ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=codec_type,codec_name,sample_rate,nb_read_frames",
      "-of", "json", file], { encoding: "utf8" });
    assert.equal(p.status, 0, p.stderr);
    const streams = (JSON.parse(p.stdout) as { streams: { codec_type: string; codec_name: string; sample_rate?: string; nb_read_frames: string }[] }).streams;
    const v = streams.find((x) => x.codec_type === "video");
    const au = streams.find((x) => x.codec_type === "audio");
    assert.ok(v && au, JSON.stringify(streams));
    assert.equal(v.codec_name, "h264");
    assert.ok(Math.abs(Number(v.nb_read_frames) - 90) <= 1, `video frames: ${v.nb_read_frames}`);
    assert.equal(au.codec_name, "pcm_alaw");
    assert.equal(au.sample_rate, "8000");
    assert.ok(Number(au.nb_read_frames) > 0, "audio arrived");
  });

  for (const scheme of ["digest", "basic"] as const) {
    it(`${scheme} credentials: user:pass@ is answered to the server's 401 and the push goes through; the password shows nowhere`, async function () {
      const s = await server(["cam", "s3cr:et", scheme]);
      const a = app(["link", "--url", `rtsp://cam:s3cr%3Aet@127.0.0.1:${s.port}/h264`, "--frames", "45"]);
      const r = await a.done;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const st = reportLine<Stats>(r.stdout, "stats");
      assert.equal(st.videoFrames, 45, JSON.stringify(st));
      assert.equal(st.url, `rtsp://cam:***@127.0.0.1:${s.port}/h264`);
      assert.equal(reportLine<string>(r.stdout, "url"), st.url);
      assert.ok(!(r.stdout + r.stderr).includes("s3cr"), "the password leaked");
      const v = frames(await settled(path.join(s.dir, "h264.h264")));
      assert.ok(Math.abs(v.frames - 45) <= 1, `frames: ${v.frames}`);
    });
  }

  it("a wrong password: the publisher waits and retries with the reason, the app is never blocked; close() ends it", async function () {
    const s = await server(["cam", "right", "digest"]);
    const a = app(["link", "--url", `rtsp://cam:wrong@127.0.0.1:${s.port}/h264`, "--frames", "60", "--backoff", "500"]);
    const r = await a.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const st = reportLine<Stats>(r.stdout, "stats");
    assert.equal(st.connects, 0);
    assert.equal(st.videoFrames, 0);
    assert.equal(st.dropped, 60, "every frame counted as dropped");
    assert.match(st.lastError ?? "", /401 Unauthorized: wrong user or password/);
    assert.ok(!(r.stdout + r.stderr).includes("wrong@"), "the password leaked");
    assert.equal(reportLine<{ frames: number }>(r.stdout, "mp4").frames, 60);
  });

  it("nobody listening: every frame is counted as dropped, the local MP4 has them all", async function () {
    const port = await freePort();
    const a = app(["link", "--url", `rtsp://127.0.0.1:${port}/h264`, "--frames", "60", "--backoff", "500"]);
    const r = await a.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const st = reportLine<Stats>(r.stdout, "stats");
    assert.equal(st.connects, 0);
    assert.equal(st.dropped, 60);
    assert.match(st.lastError ?? "", /refused/i);
    assert.equal(reportLine<{ frames: number }>(r.stdout, "mp4").frames, 60);
  });

  it("a server that stops reading: the bounded queue drops whole GOPs, the link and the MP4 lose nothing", async function () {
    const srv = await stallingServer();
    try {
      const a = app(["link", "--url", `rtsp://127.0.0.1:${srv.port}/stall`, "--frames", "300", "--width", "1280", "--height", "720",
        "--gop", "2", "--bitrate", "20000000", "--queue", "65536"]);
      const r = await a.done;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(srv.methods.slice(0, 3), ["ANNOUNCE", "SETUP", "RECORD"]);
      const st = reportLine<Stats>(r.stdout, "stats");
      assert.ok(st.dropped > 0, `nothing dropped: ${JSON.stringify(st)}`);
      assert.equal(st.videoFrames + st.dropped, 300, "every frame sent or counted as dropped");
      const pipe = reportLine<{ drops: { sinks: number[] }; sinkFrames: number[] }>(r.stdout, "pipe");
      assert.deepEqual(pipe.drops.sinks, [0, 0], "the link's queues never filled: write() never waited for the network");
      assert.deepEqual(pipe.sinkFrames, [300, 300]);
      assert.equal(reportLine<{ frames: number }>(r.stdout, "mp4").frames, 300);
    } finally {
      srv.server.close();
    }
  });

  it("a session timeout of 4 s: OPTIONS keeps the session alive while recording; TEARDOWN at close", async function () {
    const srv = await stallingServer(false, 4);
    try {
      const a = app(["link", "--url", `rtsp://127.0.0.1:${srv.port}/alive`, "--frames", "240"]);
      const r = await a.done;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const st = reportLine<Stats>(r.stdout, "stats");
      assert.equal(st.videoFrames, 240, JSON.stringify(st));
      assert.deepEqual(srv.methods.slice(0, 3), ["ANNOUNCE", "SETUP", "RECORD"]);
      assert.ok(srv.methods.includes("OPTIONS"), srv.methods.join(" "));
      assert.equal(srv.methods.at(-1), "TEARDOWN");
    } finally {
      srv.server.close();
    }
  });

  it("the server killed and restarted mid-push: the publisher reconnects at a keyframe; the MP4 of the same link has every frame", async function () {
    let s = await server();
    const a = app(["link", "--url", `rtsp://127.0.0.1:${s.port}/h264`, "--frames", "300", "--backoff", "500"]);
    await a.waitFor('"frames":60,');
    s.proc.kill(); // SIGKILL: no goodbye to the publisher
    await s.proc.done;
    await a.waitFor('"state":"waiting"');
    s = await startRtspRecord(bin, [], s);
    servers.push(s);
    const r = await a.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const st = reportLine<Stats>(r.stdout, "stats");
    assert.ok(st.reconnects >= 1, `reconnects: ${st.reconnects}`);
    assert.ok(st.dropped > 0, "frames were dropped while the server was down");
    assert.equal(st.videoFrames + st.dropped, 300, "every frame sent or counted as dropped");
    const mp4 = reportLine<{ path: string; frames: number }>(r.stdout, "mp4");
    assert.equal(mp4.frames, 300);
    const local = path.join(a.sdcard, mp4.path.replace(/^\/sdcard\//, ""));
    assert.equal(frames(local).frames, 300);
    assertDecodesClean(local);
    // what the restarted server wrote starts at a keyframe and decodes clean
    const after = await settled(path.join(s.dir, "h264.h264"));
    const v = frames(after);
    assert.ok(v.frames > 0 && v.frames < 300, `frames after the restart: ${v.frames}`);
    assertDecodesClean(after);
  });

  it("under ASan+UBSan: a push, a refused one, nobody listening — clean, nothing leaked", async function () {
    await ensureFlavor("asan");
    const s = await server(["cam", "pw", "digest"]);
    for (const url of [`rtsp://cam:pw@127.0.0.1:${s.port}/h264`, `rtsp://cam:no@127.0.0.1:${s.port}/h264`, `rtsp://127.0.0.1:${await freePort()}/x`]) {
      const a = app(["link", "--url", url, "--frames", "30", "--backoff", "500"], tmpDir("qcam-sd-"), "asan");
      const r = await a.done;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error/);
    }
  });

  it("the recorder's --rtsp-push: the same encoder feeds the card and the server (Digest); the server's copy decodes clean, the password is shown nowhere", async function () {
    const recorder = (await fixture(path.join(ROOT, "app"))).image;
    const s = await server(["cam", "s3cret", "digest"]);
    const cmd = runtimeCommand("host", recorder, {
      args: ["--record", "3", "--codec", "h264", "--resolution", "480p", "--fps", "10", "--bitrate", "0.3", "--rtsp-push", `rtsp://cam:s3cret@127.0.0.1:${s.port}/h264`],
      sdcard: tmpDir("qcam-sd-"),
    });
    const r = await spawnChild(cmd[0], cmd.slice(1), { timeoutMs: 120_000 }).done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /publish: RTSP to rtsp:\/\/\*\*\*@127\.0\.0\.1:\d+\/h264/);
    assert.doesNotMatch(r.stdout + r.stderr, /s3cret/);
    const v = frames(await settled(path.join(s.dir, "h264.h264")));
    assert.equal(v.codec, "h264");
    assert.deepEqual([v.width, v.height], [854, 480]);
    assert.ok(v.frames >= 20, `frames the server wrote: ${v.frames}`);
    assertDecodesClean(path.join(s.dir, "h264.h264"));
  });

  it("the recorder refuses a --rtsp-push URL that is not rtsp://, and an --rtmp URL that is not rtmp://", async function () {
    const recorder = (await fixture(path.join(ROOT, "app"))).image;
    for (const [flag, url] of [["--rtsp-push", "rtmp://h/app/s"], ["--rtmp", "rtsp://h/p"]]) {
      const cmd = runtimeCommand("host", recorder, { args: ["--record", "1", flag, url], sdcard: tmpDir("qcam-sd-") });
      const r = await spawnChild(cmd[0], cmd.slice(1), { timeoutMs: 60_000 }).done;
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`${flag} needs an`));
    }
  });
});
