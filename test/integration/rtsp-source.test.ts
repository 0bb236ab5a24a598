// RtspSource (qcam:rtsp's client) on the real runtime, against servers we did
// not write — GStreamer's RTSP server (libgstrtspserver-1.0, the harness
// test/rtsp-gst-server.c, built here) over TCP and UDP, H.264 and H.265,
// Basic and Digest authentication, killed and restarted mid-recording — and
// against our own RtspServer (with G.711 audio). What the app records is
// judged by ffprobe and ffmpeg (and VLC, for TS): codec, size, frame count, a clean decode,
// and the file's timing (the camera's 30 fps, from RTP timestamps).
//
// The fixture app is test/fixtures/rtsp-source (modes record, pull, open).
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { OUT, ROOT } from "../../build/paths.ts";
import { ensureFlavor } from "../../build/app-build.ts";
import { runtimeCommand } from "../../build/run.ts";
import { assertDecodesClean, assertVlcReads, fixture, spawnChild, spawnSyncChild, tmpDir, type RunResult, type Started } from "../helpers.ts";

// ---- a scripted camera: replies and RTP exactly as a test wants them ------------------------

/** NAL units (without start codes) of an Annex B buffer. */
function nalUnits(es: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 3 <= es.length; i++) if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1) starts.push(i + 3);
  return starts.map((st, k) => {
    let end = k + 1 < starts.length ? starts[k + 1] - 3 : es.length;
    while (end > st && es[end - 1] === 0) end--;
    return es.subarray(st, end);
  });
}

/** Access units of an all-IDR H.264 stream with repeated headers: each starts at its SPS. */
function accessUnits(es: Buffer): Buffer[][] {
  const aus: Buffer[][] = [];
  for (const n of nalUnits(es)) {
    if ((n[0] & 0x1f) === 7 || !aus.length) aus.push([]);
    aus[aus.length - 1].push(n);
  }
  return aus;
}

function rtpPacket(seq: number, ts: number, marker: boolean, payload: Buffer, pt = 96): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(0x51c0ffee, 8);
  return Buffer.concat([h, payload]);
}

interface Script {
  /** What to answer a request with (the CSeq is filled in); undefined: the default answer. */
  reply?: (method: string, cseq: string) => string | undefined;
  /** Split the first interleaved frame after the PLAY reply: its first bytes go with the reply, the rest later. */
  splitAfterPlay?: boolean;
  /** A G.711 A-law track too: a block of 1/30 s sent with each video frame, and a sender report per
   * track at PLAY saying the camera took the audio `audioLaterMs` after the video sent with it. */
  audioLaterMs?: number;
}

/** An interleaved frame ('$', channel, length) around an RTP or RTCP packet. */
const interleaved = (ch: number, p: Buffer) => Buffer.concat([Buffer.from([0x24, ch, p.length >> 8, p.length & 0xff]), p]);

/** An RTCP sender report (RFC 3550 6.4.1): `rtpTs` of the track is `unixMs` on the camera's clock. */
function senderReport(ssrc: number, unixMs: number, rtpTs: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(ssrc, 4);
  b.writeUInt32BE(Math.floor(unixMs / 1000) + 2208988800, 8);
  b.writeUInt32BE(Math.floor(((unixMs % 1000) / 1000) * 2 ** 32), 12);
  b.writeUInt32BE(rtpTs >>> 0, 16);
  return b;
}

/** A one-connection RTSP "camera" on a free port, speaking what `script` says; sends `aus` at 30 fps after PLAY. */
async function scriptedCamera(aus: Buffer[][], script: Script): Promise<{ url: string; close(): void }> {
  const sps = aus[0].find((n) => (n[0] & 0x1f) === 7)!;
  const pps = aus[0].find((n) => (n[0] & 0x1f) === 8)!;
  const sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=scripted\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n" +
    `a=fmtp:96 packetization-mode=1;sprop-parameter-sets=${sps.toString("base64")},${pps.toString("base64")}\r\na=control:trackID=1\r\n` +
    (script.audioLaterMs !== undefined ? "m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:trackID=2\r\n" : "");
  const timers: NodeJS.Timeout[] = [];
  const server = net.createServer((sock) => {
    let buf = "";
    sock.on("error", () => undefined);
    sock.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const method = head.split(" ")[0];
        const cseq = /^CSeq:\s*(\d+)/im.exec(head)?.[1] ?? "0";
        const custom = script.reply?.(method, cseq);
        if (custom !== undefined) {
          sock.write(custom, "latin1");
          continue;
        }
        const ok = (extra = "", body = "") => `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n${extra}${body ? `Content-Length: ${body.length}\r\n` : ""}\r\n${body}`;
        if (method === "OPTIONS") sock.write(ok("Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n"));
        else if (method === "DESCRIBE") sock.write(ok("Content-Type: application/sdp\r\n", sdp));
        else if (method === "SETUP") sock.write(ok(`Session: 5EC7;timeout=30\r\nTransport: RTP/AVP/TCP;unicast;interleaved=${/trackID=2/.test(head) ? "2-3" : "0-1"}\r\n`));
        else if (method === "PLAY") {
          const frames: Buffer[] = [];
          let seq = 0;
          aus.forEach((au, i) =>
            au.forEach((nal, j) => {
              frames.push(interleaved(0, rtpPacket(seq++, i * 3000, j === au.length - 1, nal)));
            }),
          );
          if (script.audioLaterMs !== undefined) {
            // video RTP 0 and audio RTP 0 at the camera's times T and T + audioLaterMs
            const t = Date.now();
            sock.write(Buffer.concat([interleaved(1, senderReport(0x51c0ffee, t, 0)), interleaved(3, senderReport(0x51c0ffee, t + script.audioLaterMs, 0))]));
          }
          const reply = Buffer.from(ok(), "latin1");
          if (script.splitAfterPlay) {
            sock.write(Buffer.concat([reply, frames[0].subarray(0, 7)]));
            frames[0] = frames[0].subarray(7);
          } else sock.write(reply);
          // The rest at 30 frames a second (all of one access unit at once).
          let at = 0;
          aus.forEach((au, i) => {
            const part = frames.slice(at, at + au.length);
            at += au.length;
            // with audio: 1/30 s of A-law (ts in 1/8000 s) after each video frame
            if (script.audioLaterMs !== undefined) part.push(interleaved(2, rtpPacket(i, Math.round((i * 8000) / 30), false, Buffer.alloc(267, 0xd5), 8)));
            timers.push(setTimeout(() => sock.write(Buffer.concat(part)), 300 + (i * 1000) / 30));
          });
        } else sock.write(ok());
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `rtsp://127.0.0.1:${port}/cam`,
    close: () => {
      timers.forEach(clearTimeout);
      server.close();
    },
  };
}

function allIdrClip(): Buffer {
  const file = path.join(DIR, "all-idr-160x120.h264");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(DIR, { recursive: true });
    const r = spawnSyncChild("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-frames:v", "30", "-c:v", "libx264", "-g", "1", "-bf", "0", "-x264-params", "repeat-headers=1", "-f", "h264", file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  }
  return fs.readFileSync(file);
}

const DIR = path.join(OUT, "test-tools");
const GST = path.join(DIR, "rtsp-gst-server");
const SRC = path.join(ROOT, "test", "rtsp-gst-server.c");
const FPS = 30;

type Codec = "h264" | "h265";

function buildGst(): boolean {
  const flags = spawnSyncChild("pkg-config", ["--cflags", "--libs", "gstreamer-rtsp-server-1.0"], { encoding: "utf8" });
  if (flags.status !== 0) return false;
  fs.mkdirSync(DIR, { recursive: true });
  if (fs.existsSync(GST) && fs.statSync(GST).mtimeMs > fs.statSync(SRC).mtimeMs) return true;
  const args = ["-Wall", "-Wextra", "-Werror", "-O1", SRC, "-o", `${GST}.tmp`, ...flags.stdout.trim().split(/\s+/)];
  const r = spawnSyncChild("gcc", args, { encoding: "utf8" });
  assert.equal(r.status, 0, `gcc ${args.join(" ")}:\n${r.stderr}`);
  fs.renameSync(`${GST}.tmp`, GST);
  return true;
}

/** A 20 s 640x360 30 fps clip in Matroska (its timestamps become the RTP timestamps), a keyframe every second. */
function clip(codec: Codec): string {
  const file = path.join(DIR, `camera-${codec}.mkv`);
  if (fs.existsSync(file)) return file;
  const enc = codec === "h264" ? ["-c:v", "libx264", "-preset", "veryfast", "-x264-params", "repeat-headers=1"] : ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "repeat-headers=1:log-level=error"];
  const r = spawnSyncChild("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=640x360:rate=${FPS}`, "-t", "20", ...enc, "-g", String(FPS), "-bf", "0", "-pix_fmt", "yuv420p", `${file}.part.mkv`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  fs.renameSync(`${file}.part.mkv`, file);
  return file;
}

interface Gst {
  port: number;
  url: string;
  proc: Started;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function gst(codec: Codec, extra: string[] = [], port?: number): Promise<Gst> {
  const p = port ?? (await freePort());
  const proc = spawnChild(GST, [String(p), clip(codec), codec, ...extra]);
  await proc.waitFor(/^ready \d+$/m, 30000);
  return { port: p, url: `rtsp://127.0.0.1:${p}/live`, proc };
}

async function stopGst(g: Gst): Promise<void> {
  g.proc.signal("SIGTERM");
  await g.proc.done;
}

let image = "";

function app(args: string[], sdcard: string, flavor: "host" | "asan" = "host"): Started {
  const cmd = runtimeCommand(flavor, image, { args, sdcard });
  return spawnChild(cmd[0], cmd.slice(1), { timeoutMs: 120000 });
}

function line<T>(r: RunResult, label: string): T {
  const l = r.stdout.split("\n").find((x) => x.startsWith(`${label} `));
  assert.ok(l, `no "${label}" line in:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(l.slice(label.length + 1)) as T;
}

interface Probe {
  codec: string;
  width: number;
  height: number;
  frames: number;
  duration: number;
}

function probe(file: string): Probe {
  const r = spawnSyncChild("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height,nb_read_frames:format=duration", "-of", "json", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[]; format: { duration: string } };
  const s = j.streams[0];
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames), duration: Number(j.format.duration) };
}

interface LinkFinal {
  framesIn: number;
  framesOut: number;
  drops: { source: number; sinks: number[] };
}
interface SourceStats {
  url: string;
  connected: boolean;
  transport: string;
  frames: number;
  audioFrames: number;
  dropped: number;
  reconnects: number;
  lastError: string | null;
}

/** Record N frames from `url` with link(src, [writer]) and judge the file. */
async function recordAndJudge(url: string, codec: Codec, opts: { transport: "tcp" | "udp"; container?: "mp4" | "ts"; frames?: number; extra?: string[] }): Promise<{ file: string; out: RunResult; p: Probe; link: LinkFinal; source: SourceStats }> {
  const sd = tmpDir("qcam-rtspsrc-sd-");
  const container = opts.container ?? "mp4";
  const frames = opts.frames ?? 90;
  const a = app(["record", "--url", url, "--transport", opts.transport, "--container", container, "--frames", String(frames), "--out", `/sdcard/video/cam.${container}`, ...(opts.extra ?? [])], sd);
  const out = await a.done;
  assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
  const link = line<LinkFinal>(out, "link");
  const source = line<SourceStats>(out, "source");
  const file = path.join(sd, "video", `cam.${container}`);
  const p = probe(file);
  assert.deepEqual({ codec: p.codec, width: p.width, height: p.height }, { codec: codec === "h264" ? "h264" : "hevc", width: 640, height: 360 });
  assert.equal(p.frames, link.framesOut, "every frame the link wrote is in the file");
  assert.ok(link.framesOut >= frames);
  assertDecodesClean(file);
  if (container === "ts") assertVlcReads(file, { codec: p.codec, width: p.width, height: p.height, frames: p.frames });
  return { file, out, p, link, source };
}

describe("qcam:rtsp RtspSource (an IP camera's input)", function () {
  this.timeout(180000);

  before(async function () {
    if (!buildGst()) {
      console.log("      skipped: GStreamer's RTSP server is not installed (bin/setup.mjs test installs libgstrtspserver-1.0-dev)");
      this.skip();
    }
    clip("h264");
    clip("h265");
    image = (await fixture("rtsp-source")).image;
  });

  for (const [codec, transport] of [["h264", "tcp"], ["h265", "udp"], ["h265", "tcp"], ["h264", "udp"]] as const) {
    it(`records ${codec} over ${transport} from GStreamer's server into MP4 without re-encoding: every frame, the camera's timing`, async function () {
      const g = await gst(codec, ["--transport", transport]);
      try {
        const r = await recordAndJudge(g.url, codec, { transport });
        assert.equal(r.source.transport, transport);
        assert.equal(r.source.reconnects, 0);
        // 30 fps from RTP timestamps: the file lasts frames / 30 s, whatever the network did.
        assert.ok(Math.abs(r.p.duration - r.p.frames / FPS) < 0.1, `duration ${r.p.duration} for ${r.p.frames} frames`);
      } finally {
        await stopGst(g);
      }
    });
  }

  it("an IPv6 camera ([::1]) over UDP and TCP: every frame recorded", async function () {
    const v6 = await new Promise<boolean>((resolve) => {
      const probe = net.createServer().once("error", () => resolve(false));
      probe.listen(0, "::1", () => probe.close(() => resolve(true)));
    });
    if (!v6) {
      console.log("      skipped: this machine has no IPv6 loopback (::1)");
      return this.skip();
    }
    for (const transport of ["udp", "tcp"] as const) {
      const g = await gst("h264", ["--transport", transport, "--address", "::1"]);
      try {
        const r = await recordAndJudge(`rtsp://[::1]:${g.port}/live`, "h264", { transport, frames: 45 });
        assert.equal(r.source.transport, transport);
        assert.equal(r.source.reconnects, 0);
      } finally {
        await stopGst(g);
      }
    }
  });

  it("restreams without re-encoding: link(src, [our RtspStream, Mp4Writer]); ffmpeg records the relay, every file plays", async function () {
    const g = await gst("h265");
    const sd = tmpDir("qcam-rtspsrc-sd-");
    const a = app(["restream", "--url", g.url, "--frames", "240"], sd);
    try {
      await a.waitFor(/^relay (\S+)$/m, 30000);
      const relay = /^relay (\S+)$/m.exec(a.output().stdout)![1];
      const file = path.join(tmpDir(), "relay.mkv");
      const rec = spawnSyncChild("ffmpeg", ["-v", "error", "-rtsp_transport", "tcp", "-i", relay, "-map", "0", "-c", "copy", "-frames:v", "60", "-y", file], { encoding: "utf8", timeout: 60000 });
      assert.equal(rec.status, 0, rec.stderr);
      const out = await a.done;
      assert.equal(out.code, 0, out.stderr);
      const link = line<LinkFinal & { sinkFrames: number[] }>(out, "link");
      assert.ok(link.framesOut >= 240);
      const p = probe(file);
      assert.deepEqual([p.codec, p.width, p.height, p.frames], ["hevc", 640, 360, 60]);
      assertDecodesClean(file);
      const mp4 = probe(path.join(sd, "video", "relay.mp4"));
      assert.deepEqual([mp4.codec, mp4.frames], ["hevc", link.sinkFrames[1]]);
      assertDecodesClean(path.join(sd, "video", "relay.mp4"));
    } finally {
      a.kill();
      await stopGst(g);
    }
  });

  for (const kind of ["basic", "digest"] as const) {
    it(`answers ${kind} authentication; a wrong password is EACCES, and no password is ever printed`, async function () {
      const g = await gst("h264", ["--auth", kind, "--user", "admin", "--password", "s3cr3t-pw"]);
      try {
        const sd = tmpDir("qcam-rtspsrc-sd-");
        // Credentials in the URL: masked in url and stats.
        const withUrl = g.url.replace("rtsp://", "rtsp://admin:s3cr3t-pw@");
        const ok = await app(["record", "--url", withUrl, "--frames", "30", "--container", "ts"], sd).done;
        assert.equal(ok.code, 0, ok.stderr);
        const src = line<SourceStats>(ok, "source");
        assert.equal(src.url, `rtsp://admin:***@127.0.0.1:${g.port}/live`);
        assert.ok(line<LinkFinal>(ok, "link").framesOut >= 30);
        // Credentials as options.
        const opt = await app(["open", "--url", g.url, "--user", "admin", "--password", "s3cr3t-pw"], sd).done;
        assert.match(opt.stdout, /^open ok /m);
        // Wrong and missing ones.
        const bad = await app(["open", "--url", g.url.replace("rtsp://", "rtsp://admin:wrong-pw@")], sd).done;
        assert.match(bad.stdout, /^open error EACCES .*401/m);
        const none = await app(["open", "--url", g.url], sd).done;
        assert.match(none.stdout, /^open error EACCES .*wants a user and password/m);
        for (const r of [ok, opt, bad, none]) {
          assert.doesNotMatch(r.stdout + r.stderr, /s3cr3t-pw|wrong-pw/);
        }
      } finally {
        await stopGst(g);
      }
    });
  }

  for (const container of ["ts", "mp4"] as const) {
  it(`the camera killed and restarted mid-recording: the ${container} recording goes on after a gap, plays whole, every frame counted`, async function () {
    const g1 = await gst("h264", ["--transport", "tcp"]);
    const sd = tmpDir("qcam-rtspsrc-sd-");
    const a = app(["record", "--url", g1.url, "--container", container, "--frames", "150", "--reconnects", "1", "--out", `/sdcard/video/cam.${container}`], sd);
    let g2: Gst | undefined;
    try {
      await a.waitFor(/^progress ([3-9]\d|\d{3,}) 0 true$/m, 60000);
      g1.proc.kill(); // SIGKILL: no TEARDOWN, the connection just ends
      await g1.proc.done;
      await a.waitFor(/^progress \d+ \d+ false$/m, 60000);
      g2 = await gst("h264", ["--transport", "tcp"], g1.port);
      const out = await a.done;
      assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
      const link = line<LinkFinal>(out, "link");
      const source = line<SourceStats>(out, "source");
      assert.ok(source.reconnects >= 1, JSON.stringify(source));
      assert.ok(link.framesOut >= 150);
      const file = path.join(sd, "video", `cam.${container}`);
      const p = probe(file);
      assert.equal(p.codec, "h264");
      assert.equal(p.frames, link.framesOut, "every frame written before and after the restart is in the file");
      // judged on the file's own times: fitted to one frame rate across the gap, two frames can share a slot
      assertDecodesClean(file, { keepTimestamps: true });
      if (container === "ts") assertVlcReads(file, { codec: "h264", width: 640, height: 360, frames: p.frames });
      // The gap shows in the timing: the file lasts longer than its frames at 30 fps.
      assert.ok(p.duration > link.framesOut / FPS, `duration ${p.duration} for ${link.framesOut} frames`);
    } finally {
      a.kill();
      if (g2) await stopGst(g2);
    }
  });
  }

  it("pull mode: read() frames decode to pictures of the camera's size (H.265 over UDP); timestamps only go forward", async function () {
    const g = await gst("h265", ["--transport", "udp"]);
    try {
      const out = await app(["pull", "--url", g.url, "--transport", "udp", "--frames", "60"], tmpDir("qcam-rtspsrc-sd-")).done;
      assert.equal(out.code, 0, out.stderr);
      const r = line<{ frames: number; pictures: number; width: number; height: number; monotonic: boolean; firstKey: boolean; keyframes: number }>(out, "pull");
      assert.deepEqual({ frames: r.frames, pictures: r.pictures, width: r.width, height: r.height, monotonic: r.monotonic, firstKey: r.firstKey }, { frames: 60, pictures: 60, width: 640, height: 360, monotonic: true, firstKey: true });
      assert.ok(r.keyframes >= 1);
    } finally {
      await stopGst(g);
    }
  });

  it("reads our own RtspServer with Digest auth: H.264 video and G.711 audio", async function () {
    const server = await fixture("rtsp");
    const sd = tmpDir("qcam-rtspsrc-srv-");
    const cmd = runtimeCommand("host", server.image, { args: ["codec=h264", "clients=1", "frames=150", "audio=alaw", "auth=admin:pw0rd"], sdcard: sd });
    const srv = spawnChild(cmd[0], cmd.slice(1), { timeoutMs: 120000 });
    try {
      await srv.waitFor(/^url (\S+)$/m, 60000);
      const url = /^url (\S+)$/m.exec(srv.output().stdout)![1];
      const out = await app(["pull", "--url", url, "--frames", "90", "--user", "admin", "--password", "pw0rd"], tmpDir("qcam-rtspsrc-sd-")).done;
      assert.equal(out.code, 0, out.stderr);
      const r = line<{ frames: number; pictures: number; width: number; height: number; audio: number; samples: number; audioTrack: { codec: string; sampleRate: number } | null }>(out, "pull");
      assert.equal(r.frames, 90);
      assert.equal(r.pictures, 90);
      assert.deepEqual([r.width, r.height], [640, 480]);
      assert.deepEqual(r.audioTrack, { codec: "alaw", sampleRate: 8000 });
      assert.ok(r.audio > 0 && r.samples > 0, `audio blocks ${r.audio}`);
    } finally {
      srv.kill();
    }
  });

  for (const transport of ["tcp", "udp"] as const) {
    it(`keeps the session alive (${transport}): our RtspServer with a 2 s session timeout serves 7 s without a reconnect`, async function () {
      const server = await fixture("rtsp");
      const cmd = runtimeCommand("host", server.image, { args: ["codec=h264", "clients=1", "frames=400", "timeout=2"], sdcard: tmpDir("qcam-rtspsrc-srv-") });
      const srv = spawnChild(cmd[0], cmd.slice(1), { timeoutMs: 120000 });
      try {
        await srv.waitFor(/^url (\S+)$/m, 60000);
        const url = /^url (\S+)$/m.exec(srv.output().stdout)![1];
        const out = await app(["pull", "--url", url, "--transport", transport, "--frames", "210"], tmpDir("qcam-rtspsrc-sd-")).done;
        assert.equal(out.code, 0, out.stderr);
        assert.equal(line<{ frames: number }>(out, "pull").frames, 210);
        const st = line<SourceStats>(out, "source");
        assert.equal(st.reconnects, 0, `keep-alives (every timeout / 2) hold the session: ${JSON.stringify(st)}`);
        assert.equal(st.transport, transport);
      } finally {
        srv.kill();
      }
    });
  }

  it("a reply that arrives with the first bytes of the next frame: the rest is still read (a scripted camera)", async function () {
    const cam = await scriptedCamera(accessUnits(allIdrClip()), { splitAfterPlay: true });
    try {
      const out = await app(["pull", "--url", cam.url, "--frames", "20"], tmpDir("qcam-rtspsrc-sd-")).done;
      assert.equal(out.code, 0, out.stderr);
      const r = line<{ frames: number; pictures: number; width: number; height: number }>(out, "pull");
      assert.deepEqual([r.frames, r.pictures, r.width, r.height], [20, 20, 160, 120]);
    } finally {
      cam.close();
    }
  });

  it("audio on the video's timeline from the camera's sender reports: audio taken 500 ms after (or 200 ms before) the video sent with it is that far ahead (or behind)", async function () {
    for (const later of [500, -200]) {
      const cam = await scriptedCamera(accessUnits(allIdrClip()), { audioLaterMs: later });
      try {
        const out = await app(["pull", "--url", cam.url, "--frames", "24"], tmpDir("qcam-rtspsrc-sd-")).done;
        assert.equal(out.code, 0, out.stderr);
        const r = line<{ frames: number; audio: number; audioTrack: { codec: string; sampleRate: number } | null; audioMonotonic: boolean; audioLeadUs: number | null }>(out, "pull");
        assert.equal(r.frames, 24);
        assert.deepEqual(r.audioTrack, { codec: "alaw", sampleRate: 8000 });
        assert.ok(r.audio >= 12, `audio blocks read: ${r.audio}`);
        assert.ok(r.audioMonotonic, "audio time only goes forward");
        // the block read after a frame was sent with it: `later` apart on the camera's clock, within a frame
        assert.ok(r.audioLeadUs !== null && Math.abs(r.audioLeadUs - later * 1000) < 40_000, `audio ${r.audioLeadUs} µs after its video, the camera says ${later} ms`);
        assert.ok(line<{ senderReports: number }>(out, "source").senderReports >= 2);
      } finally {
        cam.close();
      }
    }
  });

  it("malformed and unexpected replies from a scripted camera are clear errors, never a crash", async function () {
    const aus = accessUnits(allIdrClip());
    const cases: { name: string; reply: Script["reply"]; want: RegExp }[] = [
      { name: "not RTSP", reply: (m) => (m === "DESCRIBE" ? "HTTP/1.1 200 OK\r\n\r\n" : undefined), want: /^open error EPROTO .*DESCRIBE: malformed reply/m },
      { name: "no video", reply: (m, c) => (m === "DESCRIBE" ? `RTSP/1.0 200 OK\r\nCSeq: ${c}\r\nContent-Length: 26\r\n\r\nv=0\r\nm=audio 0 RTP/AVP 8\r\n` : undefined), want: /^open error ENOTSUP .*no H\.264 or H\.265 video/m },
      { name: "an auth scheme we cannot answer", reply: (m, c) => (m === "DESCRIBE" ? `RTSP/1.0 401 Unauthorized\r\nCSeq: ${c}\r\nWWW-Authenticate: Bearer realm="x"\r\n\r\n` : undefined), want: /^open error EACCES .*DESCRIBE: 401/m },
      { name: "a SETUP without a Transport", reply: (m, c) => (m === "SETUP" ? `RTSP/1.0 200 OK\r\nCSeq: ${c}\r\nSession: 1\r\n\r\n` : undefined), want: /^open error EPROTO .*SETUP: malformed reply/m },
      { name: "a server error", reply: (m, c) => (m === "PLAY" ? `RTSP/1.0 500 Internal Server Error\r\nCSeq: ${c}\r\n\r\n` : undefined), want: /^open error EPROTO .*PLAY: 500 /m },
      { name: "a reply that never ends", reply: (m) => (m === "OPTIONS" ? `RTSP/1.0 200 OK\r\n${"X-Pad: y\r\n".repeat(3000)}` : undefined), want: /^open error EPROTO /m },
    ];
    for (const c of cases) {
      const cam = await scriptedCamera(aus, { reply: c.reply });
      try {
        const out = await app(["open", "--url", cam.url, "--user", "u", "--password", "p"], tmpDir("qcam-rtspsrc-sd-")).done;
        assert.equal(out.code, 0, `${c.name}: ${out.stderr}`);
        assert.match(out.stdout, c.want, `${c.name}: ${out.stdout}`);
      } finally {
        cam.close();
      }
    }
  });

  it("under ASan + UBSan: TCP and UDP, a camera killed mid-read, malformed replies — no report, no leak", async function () {
    ensureFlavor("asan"); // the same image: the ASan runtime is a host flavor
    const sd = tmpDir("qcam-rtspsrc-sd-");
    const g = await gst("h264");
    try {
      for (const transport of ["tcp", "udp"]) {
        const out = await app(["record", "--url", g.url, "--transport", transport, "--container", "ts", "--frames", "45"], sd, "asan").done;
        assert.equal(out.code, 0, `${transport}: ${out.stderr}`);
        assert.doesNotMatch(out.stderr, /AddressSanitizer|LeakSanitizer|runtime error/);
      }
      const a = app(["pull", "--url", g.url, "--frames", "100000"], sd, "asan");
      await a.waitFor(/^open ok /m, 30000);
      g.proc.kill(); // the reader sees the connection end and reconnects (in vain) until SIGINT
      await g.proc.done;
      await new Promise((r) => setTimeout(r, 1500));
      a.signal("SIGINT");
      const out = await a.done;
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /^source .*"reconnects":[1-9]/m);
      assert.doesNotMatch(out.stderr, /AddressSanitizer|LeakSanitizer|runtime error/);
    } finally {
      g.proc.kill();
    }
    const cam = await scriptedCamera(accessUnits(allIdrClip()), { splitAfterPlay: true, reply: (m) => (m === "OPTIONS" ? `RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n` : undefined) });
    try {
      const out = await app(["open", "--url", cam.url], sd, "asan").done;
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /^open error EPROTO /m);
      assert.doesNotMatch(out.stderr, /AddressSanitizer|LeakSanitizer|runtime error/);
    } finally {
      cam.close();
    }
  });

  it("fails clearly: nobody listening (ECONNREFUSED), no such path (ENOENT), not an rtsp:// URL (ERR_INVALID_ARG)", async function () {
    const g = await gst("h264");
    try {
      const port = await freePort();
      const sd = tmpDir("qcam-rtspsrc-sd-");
      const refused = await app(["open", "--url", `rtsp://127.0.0.1:${port}/live`], sd).done;
      assert.match(refused.stdout, /^open error ECONNREFUSED RtspSource: rtsp:\/\/127\.0\.0\.1:\d+\/live: cannot connect: Connection refused$/m);
      const missing = await app(["open", "--url", g.url.replace("/live", "/nothing")], sd).done;
      assert.match(missing.stdout, /^open error ENOENT .*DESCRIBE: 404/m);
      const bad = await app(["open", "--url", "http://127.0.0.1/live"], sd).done;
      assert.match(bad.stdout, /^open error ERR_INVALID_ARG /m);
    } finally {
      await stopGst(g);
    }
  });
});
