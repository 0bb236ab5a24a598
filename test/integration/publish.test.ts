// qcam:publish's RtmpPublisher on the real runtime against nginx with
// Debian's libnginx-mod-rtmp, run as a child of the test with its own
// configuration and prefix in a temporary folder, on free ports. What nginx
// receives is judged by ffmpeg pulling the stream back (and by nginx's own
// recording of it): codec, size, frame count, a clean decode. Also the RTMP
// layer's table test (test/c/test_rtmp_proto.c), credentials through
// nginx-rtmp's on_publish, a server that is not there, and nginx killed and
// restarted mid-stream (the publisher reconnects; the MP4 the same link
// records has every frame).
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { ensureFlavor } from "../../build/app-build.ts";
import { buildDir } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import { assertDecodesClean, fixture, reportLine, spawnChild, spawnSyncChild, tmpDir, type Started } from "../helpers.ts";
import { freePort, NGINX_RTMP, playing, pull, startNginx, type Nginx } from "../servers.ts";

interface Probe { streams: { codec_type: string; codec_name: string; width?: number; height?: number; sample_rate?: string; nb_read_frames?: string }[] }

function probe(file: string): Probe {
  const r = spawnSyncChild("ffprobe", ["-v", "error", "-count_frames", "-show_entries",
    "stream=codec_type,codec_name,width,height,sample_rate,nb_read_frames", "-of", "json", file], { encoding: "utf8" });
  assert.equal(r.status, 0, `ffprobe ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Probe;
}

function videoOf(p: Probe) {
  const v = p.streams.find((s) => s.codec_type === "video");
  assert.ok(v, `no video stream: ${JSON.stringify(p)}`);
  return { codec: v.codec_name, width: v.width, height: v.height, frames: Number(v.nb_read_frames) };
}

// ---- a media server that stops reading: enough RTMP to get a publisher publishing

const amfStr = (x: string) => Buffer.concat([Buffer.from([2, x.length >> 8, x.length & 255]), Buffer.from(x, "latin1")]);
const amfNum = (n: number) => {
  const b = Buffer.alloc(9);
  b.writeDoubleBE(n, 1);
  return b;
};
const amfObj = (kv: [string, Buffer][]) =>
  Buffer.concat([Buffer.from([3]), ...kv.flatMap(([k, v]) => [Buffer.from([k.length >> 8, k.length & 255]), Buffer.from(k, "latin1"), v]), Buffer.from([0, 0, 9])]);
/** One command message in one fmt 0 chunk (payloads here stay under 128 bytes). */
const command = (msid: number, payload: Buffer) => {
  const h = Buffer.alloc(12);
  h[0] = 3;
  h.writeUIntBE(payload.length, 4, 3);
  h[7] = 20;
  h.writeUInt32LE(msid, 8);
  assert.ok(payload.length <= 128);
  return Buffer.concat([h, payload]);
};

/** Answers the handshake, connect, createStream and publish, then reads nothing more. */
function stallingServer(): Promise<{ port: number; server: net.Server; sessions: () => number }> {
  let sessions = 0;
  const server = net.createServer((sock) => {
    sessions++;
    let got = Buffer.alloc(0);
    let step = 0;
    sock.on("error", () => undefined);
    sock.on("data", (d) => {
      got = Buffer.concat([got, d]);
      const text = got.toString("latin1");
      if (step === 0 && got.length >= 1537) {
        sock.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(3072)]));
        step = 1;
      } else if (step === 1 && text.includes("connect")) {
        sock.write(command(0, Buffer.concat([amfStr("_result"), amfNum(1), Buffer.from([5]), amfObj([["code", amfStr("NetConnection.Connect.Success")]])])));
        step = 2;
      } else if (step === 2 && text.includes("createStream")) {
        sock.write(command(0, Buffer.concat([amfStr("_result"), amfNum(4), Buffer.from([5]), amfNum(1)])));
        step = 3;
      } else if (step === 3 && text.includes("publish")) {
        sock.write(command(1, Buffer.concat([amfStr("onStatus"), amfNum(0), Buffer.from([5]),
          amfObj([["level", amfStr("status")], ["code", amfStr("NetStream.Publish.Start")]])])));
        step = 4;
        sock.pause(); // a server that has stopped taking anything
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as net.AddressInfo).port, server, sessions: () => sessions })));
}

interface Stats { state: string; url: string; bytes: number; videoFrames: number; audioFrames: number; dropped: number; connects: number; reconnects: number; lastError: string | null }

describe("qcam:publish (RtmpPublisher) against nginx-rtmp", function () {
  this.timeout(180_000);
  let image = "";
  let ngx: Nginx;

  before(async function () {
    assert.ok(fs.existsSync(NGINX_RTMP), "libnginx-mod-rtmp (installed by node bin/setup.mjs test)");
    image = (await fixture("publish")).image;
    ngx = await startNginx();
  });

  function app(args: string[], sdcard = tmpDir("qcam-sd-"), flavor: "host" | "asan" = "host"): Started & { sdcard: string } {
    const cmd = runtimeCommand(flavor, image, { args, sdcard });
    return { ...spawnChild(cmd[0], cmd.slice(1), { timeoutMs: 150_000 }), sdcard };
  }

  it("the RTMP layer: URLs, handshake, chunks both ways, AMF0, FLV tag bodies (test_rtmp_proto.c)", function () {
    const r = spawnSyncChild(path.join(buildDir("host"), "qcam-test-rtmp"), [], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: \d+ checks, 0 failed/m);
  });

  it("link: camera → H.264 → [MP4, publisher]; ffmpeg pulls 90 frames 320x240 back from nginx and decodes them clean", async function () {
    const p = pull(ngx, "link");
    await playing(ngx, "link");
    const a = app(["link", "--url", `rtmp://127.0.0.1:${ngx.rtmpPort}/live/link`, "--frames", "90"]);
    const r = await a.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(reportLine<boolean>(r.stdout, "published"), true);
    const st = reportLine<Stats>(r.stdout, "stats");
    assert.equal(st.state, "closed");
    assert.equal(st.videoFrames, 90);
    assert.equal(st.dropped, 0);
    assert.equal(st.connects, 1);
    assert.ok(st.bytes > 0);
    await p.proc.done;
    assert.deepEqual(videoOf(probe(p.file)), { codec: "h264", width: 320, height: 240, frames: 90 });
    assertDecodesClean(p.file, { keepTimestamps: true });
    // nginx's own recording of it, and the card's
    const recs = fs.readdirSync(ngx.rec).filter((f) => f.startsWith("link"));
    assert.equal(recs.length, 1);
    assert.equal(videoOf(probe(path.join(ngx.rec, recs[0]))).frames, 90);
    assert.equal(reportLine<{ frames: number }>(r.stdout, "mp4").frames, 90);
  });

  it("pull mode: write(frame) 60 times; the same 60 frames come back", async function () {
    const p = pull(ngx, "pull");
    await playing(ngx, "pull");
    const r = await app(["pull", "--url", `rtmp://127.0.0.1:${ngx.rtmpPort}/live/pull`, "--frames", "60", "--width", "256", "--height", "144"]).done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(reportLine<Stats>(r.stdout, "stats").videoFrames, 60);
    await p.proc.done;
    assert.deepEqual(videoOf(probe(p.file)), { codec: "h264", width: 256, height: 144, frames: 60 });
    assertDecodesClean(p.file, { keepTimestamps: true });
  });

  for (const law of ["alaw", "ulaw"] as const) {
    it(`G.711 ${law} beside H.264 (FLV sound format ${law === "alaw" ? 7 : 8}): ffmpeg gets both tracks, 8 kHz`, async function () {
      const name = `av-${law}`;
      const p = pull(ngx, name);
      await playing(ngx, name);
      const r = await app(["av", "--url", `rtmp://127.0.0.1:${ngx.rtmpPort}/live/${name}`, "--frames", "60", "--law", law]).done;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const st = reportLine<Stats>(r.stdout, "stats");
      assert.equal(st.videoFrames, 60);
      assert.ok(st.audioFrames >= 90, `audio blocks sent: ${st.audioFrames}`);
      await p.proc.done;
      const pr = probe(p.file);
      assert.equal(videoOf(pr).frames, 60);
      const au = pr.streams.find((s) => s.codec_type === "audio");
      assert.ok(au, JSON.stringify(pr));
      assert.equal(au.codec_name, law === "alaw" ? "pcm_alaw" : "pcm_mulaw");
      assert.equal(au.sample_rate, "8000");
      assertDecodesClean(p.file, { keepTimestamps: true });
    });
  }

  it("credentials: user:pass@ reaches nginx's on_publish (accepted); a wrong password is refused; neither shows anywhere", async function () {
    const ok = await app(["link", "--url", `rtmp://bob:s3cret@127.0.0.1:${ngx.rtmpPort}/secure/cam`, "--frames", "15"]).done;
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(reportLine<boolean>(ok.stdout, "published"), true);
    assert.equal(reportLine<string>(ok.stdout, "url"), `rtmp://127.0.0.1:${ngx.rtmpPort}/secure/cam?user=***&pass=***`);
    assert.equal(reportLine<Stats>(ok.stdout, "stats").videoFrames, 15);
    const bad = await app(["refused", "--url", `rtmp://bob:wr0ng@127.0.0.1:${ngx.rtmpPort}/secure/cam`]).done;
    assert.equal(bad.code, 0, bad.stdout + bad.stderr);
    const st = reportLine<Stats>(bad.stdout, "stats");
    assert.equal(st.connects, 0);
    assert.match(st.lastError ?? "", /closed the connection \(publish/);
    for (const out of [ok.stdout + ok.stderr, bad.stdout + bad.stderr]) {
      assert.doesNotMatch(out, /s3cret|wr0ng|bob/);
    }
  });

  it("under ASan+UBSan: video and G.711 published, a refused stream, nobody listening — clean, nothing leaked", async function () {
    ensureFlavor("asan"); // the same image: the ASan runtime is a host flavor
    const runs = [
      ["av", "--url", `rtmp://127.0.0.1:${ngx.rtmpPort}/live/asan`, "--frames", "30"],
      ["refused", "--url", `rtmp://bob:wr0ng@127.0.0.1:${ngx.rtmpPort}/secure/cam`],
      ["refused", "--url", `rtmp://127.0.0.1:${await freePort()}/live/none`],
    ];
    for (const args of runs) {
      const r = await app(args, tmpDir("qcam-sd-"), "asan").done;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stderr, /Sanitizer|runtime error/, r.stderr);
      assert.equal(reportLine<Stats>(r.stdout, "stats").state, "closed");
    }
  });

  it("nobody listening: the publisher waits and retries, the app is never blocked; close() ends it", async function () {
    const port = await freePort();
    const r = await app(["refused", "--url", `rtmp://127.0.0.1:${port}/live/none?key=abc123`]).done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const st = reportLine<Stats>(r.stdout, "stats");
    assert.equal(st.state, "closed");
    assert.equal(st.lastError, "Connection refused");
    assert.equal(st.url, `rtmp://127.0.0.1:${port}/live/none?key=***`);
    assert.doesNotMatch(r.stdout + r.stderr, /abc123/);
  });

  it("a server that stops reading: the publisher's bounded queue drops whole GOPs, the link and the MP4 lose nothing", async function () {
    const srv = await stallingServer();
    try {
      const a = app(["link", "--url", `rtmp://127.0.0.1:${srv.port}/live/stall`, "--frames", "300", "--width", "1280", "--height", "720",
        "--gop", "2", "--bitrate", "20000000", "--queue", "65536"]);
      const r = await a.done;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const st = reportLine<Stats>(r.stdout, "stats");
      assert.ok(st.dropped > 0, `nothing dropped: ${JSON.stringify(st)}`);
      assert.equal(st.videoFrames + st.dropped, 300, "every frame sent or counted as dropped");
      const pipe = reportLine<{ drops: { sinks: number[] }; sinkFrames: number[] }>(r.stdout, "pipe");
      assert.deepEqual(pipe.drops.sinks, [0, 0], "the link's queues never filled: write() never waited for the network");
      assert.deepEqual(pipe.sinkFrames, [300, 300]);
      const mp4 = reportLine<{ path: string; frames: number }>(r.stdout, "mp4");
      assert.equal(mp4.frames, 300);
    } finally {
      srv.server.close();
    }
  });

  it("nginx stopped (SIGSTOP) for 6 s mid-stream: whole GOPs dropped; nginx's recording still decodes clean", async function () {
    const a = app(["link", "--url", `rtmp://127.0.0.1:${ngx.rtmpPort}/live/paused`, "--frames", "360", "--width", "1280", "--height", "720",
      "--gop", "3", "--bitrate", "20000000", "--queue", "65536"]);
    await a.waitFor('"frames":60,');
    ngx.proc.signal("SIGSTOP"); // the kernel buffers fill, then send() waits: the queue overflows
    await new Promise((r) => setTimeout(r, 6000));
    ngx.proc.signal("SIGCONT");
    const r = await a.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const st = reportLine<Stats>(r.stdout, "stats");
    assert.ok(st.dropped > 0, `nothing dropped: ${JSON.stringify(st)}`);
    assert.equal(st.videoFrames + st.dropped, 360);
    assert.equal(reportLine<{ frames: number }>(r.stdout, "mp4").frames, 360, "the card lost nothing");
    const recs = fs.readdirSync(ngx.rec).filter((f) => f.startsWith("paused")).map((f) => path.join(ngx.rec, f));
    let frames = 0;
    for (const f of recs) {
      frames += videoOf(probe(f)).frames;
      assertDecodesClean(f, { keepTimestamps: true }); // every drop ended at a keyframe: no broken picture
    }
    assert.equal(frames, st.videoFrames, "nginx recorded every frame sent");
  });

  it("nginx killed and restarted mid-stream: the publisher reconnects at a keyframe; the MP4 of the same link has every frame", async function () {
    const a = app(["link", "--url", `rtmp://127.0.0.1:${ngx.rtmpPort}/live/restart`, "--frames", "300", "--backoff", "500"]);
    await a.waitFor('"frames":60,');
    ngx.proc.kill(); // SIGKILL: no goodbye to the publisher
    await ngx.proc.done;
    await a.waitFor('"state":"waiting"');
    ngx = await startNginx(ngx);
    const r = await a.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const st = reportLine<Stats>(r.stdout, "stats");
    assert.ok(st.reconnects >= 1, `reconnects: ${st.reconnects}`);
    assert.ok(st.dropped > 0, "frames were dropped while nginx was down");
    assert.equal(st.videoFrames + st.dropped, 300, "every frame sent or counted as dropped");
    // the card has every frame, whatever happened to the server
    const mp4 = reportLine<{ path: string; frames: number }>(r.stdout, "mp4");
    assert.equal(mp4.frames, 300);
    const local = path.join(a.sdcard, mp4.path.replace(/^\/sdcard\//, ""));
    assert.equal(videoOf(probe(local)).frames, 300);
    assertDecodesClean(local);
    // what the restarted nginx recorded starts at a keyframe and decodes clean
    const recs = fs.readdirSync(ngx.rec).filter((f) => f.startsWith("restart")).map((f) => path.join(ngx.rec, f));
    const after = recs.filter((f) => fs.statSync(f).size > 1000).sort((x, y) => fs.statSync(x).mtimeMs - fs.statSync(y).mtimeMs).pop();
    assert.ok(after, `recordings: ${recs.join(", ")}`);
    const v = videoOf(probe(after));
    assert.ok(v.frames > 0 && v.frames < 300, `frames after the restart: ${v.frames}`);
    assertDecodesClean(after, { keepTimestamps: true });
  });
});
