// qcam:rtsp on the real runtime, judged by real clients: ffprobe, ffmpeg and
// GStreamer's rtspsrc over TCP and UDP, our small reader (bench/rtsp-reader.ts)
// for many clients at once, and raw sockets for malformed requests.
//
// Frame counts are exact by construction: the app serves until its stream
// has taken a number of frames once the clients play (frames=N, not a span of
// wall-clock time), then closes its links and the server; close() sends what
// the queues hold and returns each client's final `framesSent`; the clients
// see the connection end, finish their files, and we compare what they wrote
// with that number.
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { ensureFlavor } from "../../build/app-build.ts";
import { runtimeCommand } from "../../build/run.ts";
import { RtspReader } from "../../bench/rtsp-reader.ts";
import { probePackets } from "../fuzz-mp4.ts";
import { assertDecodesClean, fixture, probeStream, reportLine, run, spawnChild, spawnSyncChild, tmpDir, type RunResult, type Started } from "../helpers.ts";

interface ClientStats {
  address: string;
  path: string;
  transport: "tcp" | "udp";
  state: string;
  framesSent: number;
  bytesSent: number;
  drops: number;
  queued: number;
}
interface ServerStats {
  clients: ClientStats[];
  streams: { path: string; clients: number; videoFrames: number; audioFrames: number; latencyUs: { p50: number; p99: number } }[];
  sessions: number;
  rejected: number;
  droppedClients: number;
  latencyUs: { p50: number; p99: number };
}

interface Server {
  url: string;
  port: number;
  sdcard: string;
  done: Promise<RunResult>;
  stop(): Promise<RunResult>;
  proc: Started;
}

let image = "";

async function serve(args: string[], opts: { flavor?: "host" | "asan"; sdcard?: string } = {}): Promise<Server> {
  const sdcard = opts.sdcard ?? tmpDir("qcam-sd-");
  const cmd = runtimeCommand(opts.flavor ?? "host", image, { args, sdcard });
  const proc = spawnChild(cmd[0], cmd.slice(1));
  await proc.waitFor(/^url (\S+)$/m, 60000);
  const url = /^url (\S+)$/m.exec(proc.output().stdout)?.[1] ?? "";
  return {
    url,
    port: Number(new URL(url.replace(/^rtsp:/, "http:")).port),
    sdcard,
    done: proc.done,
    stop: () => {
      if (proc.child.exitCode === null) proc.child.kill("SIGINT");
      return proc.done;
    },
    proc,
  };
}

function finalStats(r: RunResult): ServerStats {
  assert.equal(r.code, 0, `server failed: ${r.stdout}\n${r.stderr}`);
  const line = r.stdout.split("\n").find((l) => l.startsWith("final "));
  assert.ok(line, `no final stats in:\n${r.stdout}`);
  return JSON.parse(line.slice(6)) as ServerStats;
}

/** Run a client command (ffmpeg, gst-launch-1.0) to its end. */
const runClient = (cmd: string, args: string[], timeoutMs = 60000) => run(cmd, args, { timeoutMs });

/** Send raw bytes (in pieces, optionally one byte at a time; `halfClose`: then
 * end our side, as `printf ... | nc` does) and collect what comes back until
 * the server closes or `until` matches. */
function raw(port: number, chunks: (string | Buffer)[], opts: { until?: RegExp; byteByByte?: boolean; waitMs?: number; halfClose?: boolean } = {}): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let text = "";
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(finish, opts.waitMs ?? 3000);
    s.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      if (opts.until && opts.until.test(text)) finish();
    });
    s.on("close", () => {
      closed = true;
      finish();
    });
    s.on("error", () => undefined);
    s.on("connect", async () => {
      for (const c of chunks) {
        const b = typeof c === "string" ? Buffer.from(c, "latin1") : c;
        if (opts.byteByByte) {
          for (const byte of b) {
            s.write(Buffer.from([byte]));
            await new Promise((r) => setTimeout(r, 1));
          }
        } else s.write(b);
      }
      if (opts.halfClose) s.end();
    });
  });
}

function statuses(text: string): number[] {
  return [...text.matchAll(/^RTSP\/1\.0 (\d{3}) /gm)].map((m) => Number(m[1]));
}

/** The client of `final` whose address ends with the local port `port`. */
function clientAt(st: ServerStats, port: number): ClientStats {
  const c = st.clients.find((x) => x.address.endsWith(`:${port}`));
  assert.ok(c, `no client on port ${port} in ${JSON.stringify(st.clients)}`);
  return c;
}

/** Record with ffmpeg (-c copy) until the server ends the stream. */
async function record(url: string, transport: "tcp" | "udp", file: string) {
  return runClient("ffmpeg", ["-v", "error", "-rtsp_transport", transport, "-i", url, "-map", "0", "-c", "copy", "-f", "matroska", "-y", file]);
}

describe("qcam:rtsp", function () {
  this.timeout(120000);
  before(async function () {
    image = (await fixture("rtsp")).image;
  });

  for (const [codec, transport] of [["h264", "tcp"], ["h265", "udp"], ["h265", "tcp"], ["h264", "udp"]] as const) {
    it(`ffmpeg records ${codec} over ${transport}: codec, size, clean decode, every frame the server sent`, async function () {
      const srv = await serve([`codec=${codec}`, "clients=1", "frames=90"]);
      const file = path.join(tmpDir(), "rec.mkv");
      const [rec, r] = await Promise.all([record(srv.url, transport, file), srv.done]);
      const st = finalStats(r);
      assert.equal(rec.code, 0, rec.stderr);
      assert.equal(st.clients.length, 1);
      const c = st.clients[0];
      assert.equal(c.transport, transport);
      assert.equal(c.drops, 0);
      assert.ok(c.framesSent >= 90, `the 90 frames the stream took once the client played, sent ${c.framesSent}`);
      const p = probeStream(file);
      assert.deepEqual({ codec: p.codec, width: p.width, height: p.height }, { codec: codec === "h264" ? "h264" : "hevc", width: 640, height: 480 });
      assert.ok(Math.abs(p.frames - c.framesSent) <= 2, `decoded ${p.frames}, server sent ${c.framesSent}`);
      assertDecodesClean(file);
    });
  }

  it("ffprobe sees video and PCMA audio over TCP and UDP; two streams on one server", async function () {
    const srv = await serve(["audio=alaw", "sub=1", "clients=0"]);
    try {
      for (const transport of ["tcp", "udp"]) {
        const r = spawnSyncChild("ffprobe", ["-v", "error", "-rtsp_transport", transport, "-show_entries", "stream=codec_name,width,height,sample_rate", "-of", "json", srv.url], { encoding: "utf8", timeout: 30000 });
        assert.equal(r.status, 0, r.stderr);
        const streams = (JSON.parse(r.stdout) as { streams: { codec_name: string; width?: number; height?: number; sample_rate?: string }[] }).streams;
        assert.deepEqual(
          streams.map((s) => [s.codec_name, s.width ?? Number(s.sample_rate)]),
          [["h264", 640], ["pcm_alaw", 8000]],
        );
      }
      const sub = spawnSyncChild("ffprobe", ["-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", srv.url.replace(/\/live$/, "/sub")], { encoding: "utf8", timeout: 30000 });
      assert.equal(sub.status, 0, sub.stderr);
      assert.equal(sub.stdout.trim(), "h264,320,240");
    } finally {
      finalStats(await srv.stop());
    }
  });

  it("video + audio recorded together: both tracks decode, audio spans the video", async function () {
    const srv = await serve(["audio=alaw", "clients=1", "frames=90"]);
    const file = path.join(tmpDir(), "av.mkv");
    const [rec, r] = await Promise.all([record(srv.url, "tcp", file), srv.done]);
    const st = finalStats(r);
    assert.equal(rec.code, 0, rec.stderr);
    const q = spawnSyncChild("ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=codec_name,sample_rate,nb_read_frames:format=duration", "-of", "json", file], { encoding: "utf8" });
    const info = JSON.parse(q.stdout) as { streams: { codec_name: string; sample_rate?: string; nb_read_frames: string }[]; format: { duration: string } };
    assert.deepEqual(info.streams.map((s) => s.codec_name), ["h264", "pcm_alaw"]);
    assert.equal(info.streams[1].sample_rate, "8000");
    assert.ok(Math.abs(Number(info.streams[0].nb_read_frames) - st.clients[0].framesSent) <= 2);
    // The audio, 20 ms blocks on the microphone's clock, runs to the video's
    // end (the video may start up to a GOP earlier: fast start sends the
    // cached one), with no more blocks than the stream took and no gap that
    // the audio link or the client's queue did not count as a drop (a busy
    // machine drops; it must say so).
    const pk = probePackets(file);
    const v = pk.filter((x) => x.stream === "video").map((x) => x.ptsTime);
    const a = pk.filter((x) => x.stream === "audio").map((x) => x.ptsTime);
    const say = `video ${v[0]}..${v.at(-1)} s (${v.length}), audio ${a[0]}..${a.at(-1)} s (${a.length})`;
    assert.ok(a.length >= 1 && a.length <= st.streams[0].audioFrames, `${say}; the stream took ${st.streams[0].audioFrames} audio blocks`);
    const audioLink = reportLine<{ drops: { source: number; queue: number; encoder: number } }>(r.stdout, "audio");
    const counted = audioLink.drops.source + audioLink.drops.queue + audioLink.drops.encoder + st.clients[0].drops;
    const missing = Math.round((a.at(-1)! - a[0]) / 0.02) + 1 - a.length;
    assert.ok(missing >= 0 && missing <= counted, `${say}: ${missing} blocks missing, ${counted} counted as dropped (${JSON.stringify(audioLink.drops)}, client ${st.clients[0].drops})`);
    assert.ok(a.at(-1)! >= v.at(-1)! - 0.1 && a[0] <= v[0] + 1, say);
    assertDecodesClean(file);
  });

  for (const [codec, transport] of [["h264", "tcp"], ["h265", "udp"]] as const) {
    it(`GStreamer rtspsrc decodes ${codec} over ${transport}`, async function () {
      const srv = await serve([`codec=${codec}`, "clients=1", "frames=90"]);
      const depay = codec === "h264" ? ["rtph264depay", "!", "h264parse", "!", "avdec_h264"] : ["rtph265depay", "!", "h265parse", "!", "avdec_h265"];
      const [g, r] = await Promise.all([
        runClient("gst-launch-1.0", ["-v", "rtspsrc", `location=${srv.url}`, `protocols=${transport}`, "!", ...depay, "!", "identity", "silent=false", "!", "fakesink"]),
        srv.done,
      ]);
      const st = finalStats(r);
      const decoded = (g.stdout.match(/identity0: last-message = chain/g) ?? []).length;
      const sent = st.clients[0].framesSent;
      assert.ok(sent >= 90, `sent ${sent}`);
      // Over UDP the server closing the session ends rtspsrc with an error; the pictures before count.
      assert.ok(decoded >= sent - 2 && decoded <= sent, `GStreamer decoded ${decoded} of ${sent}\n${g.stderr}`);
    });
  }

  it("Digest authentication: ffmpeg with user:password is served; no or wrong credentials get 401", async function () {
    const srv = await serve(["auth=viewer:s3cret", "clients=1", "frames=60"]);
    const noAuth = spawnSyncChild("ffprobe", ["-v", "error", "-rtsp_transport", "tcp", srv.url], { encoding: "utf8", timeout: 20000 });
    assert.notEqual(noAuth.status, 0);
    assert.match(noAuth.stderr, /401/);
    const bad = spawnSyncChild("ffprobe", ["-v", "error", "-rtsp_transport", "tcp", srv.url.replace("rtsp://", "rtsp://viewer:wrong@")], { encoding: "utf8", timeout: 20000 });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /401/);
    const rawReply = await raw(srv.port, [`DESCRIBE ${srv.url} RTSP/1.0\r\nCSeq: 7\r\n\r\n`], { until: /\r\n\r\n/ });
    assert.match(rawReply.text, /^RTSP\/1\.0 401 /);
    assert.match(rawReply.text, /^CSeq: 7\r$/m);
    assert.match(rawReply.text, /^WWW-Authenticate: Digest realm="qcam", nonce="[0-9a-f]{32}"/m);
    const file = path.join(tmpDir(), "auth.mkv");
    const [rec, r] = await Promise.all([record(srv.url.replace("rtsp://", "rtsp://viewer:s3cret@"), "tcp", file), srv.done]);
    const st = finalStats(r);
    assert.equal(rec.code, 0, rec.stderr);
    assert.ok(Math.abs(probeStream(file).frames - st.clients[0].framesSent) <= 2);
  });

  it("8 clients at once each get every frame sent to them, none dropped", async function () {
    const srv = await serve(["clients=8", "frames=90"]);
    const readers = Array.from({ length: 8 }, () => new RtspReader(srv.url));
    await Promise.all(readers.map((x) => x.start()));
    const ports = readers.map((x) => (x as unknown as { sock: net.Socket }).sock.localPort ?? 0);
    const st = finalStats(await srv.done);
    await Promise.all(readers.map((x) => x.closed()));
    assert.equal(st.clients.length, 8);
    readers.forEach((x, i) => {
      const c = clientAt(st, ports[i]);
      assert.equal(c.drops, 0);
      assert.equal(x.stats.frames, c.framesSent, `client ${i}`);
      assert.equal(x.stats.gaps, 0);
      assert.ok(c.framesSent >= 90, `client ${i} got ${c.framesSent}, the stream took 90 once all played`);
      // A report when play starts, then one a second; 90 frames of a 30 fps camera take 3 s at least.
      assert.ok(x.stats.senderReports >= 2, `client ${i}: ${x.stats.senderReports} RTCP sender reports`);
    });
  });

  it("a client that stops reading loses whole GOPs / is dropped; the others and the source are unaffected", async function () {
    // A high-rate clip (~3 MB/s) so the stalled client's socket fills fast.
    const sd = tmpDir("qcam-sd-");
    const clip = path.join(sd, "noise.h264");
    const g = spawnSyncChild("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30,noise=alls=80:allf=t", "-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-g", "30", "-bf", "0", "-f", "h264", "-y", clip], { encoding: "utf8" });
    assert.equal(g.status, 0, g.stderr);
    const srv = await serve(["source=file", "file=/sdcard/noise.h264", "clients=2", "frames=180", "stall=1500"], { sdcard: sd });
    const good = new RtspReader(srv.url);
    const stuck = new RtspReader(srv.url);
    await Promise.all([good.start(), stuck.start()]);
    stuck.pause();
    const goodPort = (good as unknown as { sock: net.Socket }).sock.localPort ?? 0;
    const r = await srv.done;
    const st = finalStats(r);
    await good.closed();
    const written = Number(/^written (\d+)$/m.exec(r.stdout)?.[1]);
    const c = clientAt(st, goodPort);
    // write() never lost a frame to the stalled client: the stream took every one the app wrote.
    assert.ok(written >= 180, `the app wrote ${written} frames`);
    assert.equal(st.streams.find((x) => x.path === "/live")?.videoFrames, written, `the stream took every frame written: ${JSON.stringify(st.streams)}`);
    assert.equal(good.stats.frames, c.framesSent);
    assert.equal(c.drops, 0);
    assert.equal(good.stats.gaps, 0);
    // The reader got everything written after it joined (plus the cached GOP), never held back.
    assert.ok(c.framesSent >= 180 && c.framesSent <= written + 30, `good client: ${c.framesSent} frames, ${written} written`);
    const stuckGone = st.droppedClients >= 1 && !st.clients.some((x) => x.address.endsWith(`:${(stuck as unknown as { sock: net.Socket }).sock.localPort}`));
    const stuckStats = st.clients.find((x) => x !== c);
    assert.ok(stuckGone || (stuckStats && stuckStats.drops > 0), `stalled client neither dropped nor losing frames: ${JSON.stringify(st)}`);
    await stuck.close();
  });

  it("malformed and hostile requests get the right status codes; the server keeps serving", async function () {
    const srv = await serve(["clients=0", "max=3", "timeout=1", "extra=1"]);
    const u = srv.url;
    const one = async (req: string | Buffer, opts: { until?: RegExp; byteByByte?: boolean } = {}) => raw(srv.port, [req], { until: opts.until ?? /\r\n\r\n/, byteByByte: opts.byteByByte });
    try {
      // Bad request line, bad header, RTSP/2.0, missing or bad CSeq: an answer, then the connection closes.
      for (const [req, code] of [
        ["GARBAGE\r\n\r\n", 400],
        [`OPTIONS ${u} RTSP/1.0\r\nCSeq: 1\r\nNoColonHere\r\n\r\n`, 400],
        [`OPTIONS ${u} RTSP/2.0\r\nCSeq: 1\r\n\r\n`, 505],
        [`OPTIONS ${u} RTSP/1.0\r\n\r\n`, 400],
        [`OPTIONS ${u} RTSP/1.0\r\nCSeq: abc\r\n\r\n`, 400],
        [`DESCRIBE ${u} RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -5\r\n\r\n`, 400],
      ] as const) {
        const r = await raw(srv.port, [req], { waitMs: 3000 });
        assert.deepEqual(statuses(r.text), [code], `${JSON.stringify(req)} → ${r.text}`);
        assert.ok(r.closed, `closed after ${code}`);
      }
      // Too big: 413 and close.
      const huge = await raw(srv.port, [`OPTIONS ${u} RTSP/1.0\r\nCSeq: 1\r\nX-Big: ${"a".repeat(20000)}\r\n\r\n`]);
      assert.deepEqual(statuses(huge.text), [413]);
      assert.ok(huge.closed);
      // Unknown method: 501, and the connection stays usable.
      const unk = await raw(srv.port, [`FROB ${u} RTSP/1.0\r\nCSeq: 2\r\n\r\nOPTIONS ${u} RTSP/1.0\r\nCSeq: 3\r\n\r\n`], { until: /CSeq: 3/ });
      assert.deepEqual(statuses(unk.text), [501, 200]);
      // Byte by byte.
      const slow = await one(`OPTIONS ${u} RTSP/1.0\r\nCSeq: 9\r\n\r\n`, { byteByByte: true });
      assert.deepEqual(statuses(slow.text), [200]);
      assert.match(slow.text, /^Public: .*DESCRIBE/m);
      // Interleaved junk before a request is skipped.
      const junk = await raw(srv.port, [Buffer.from([0x24, 0x01, 0x00, 0x04, 1, 2, 3, 4]), `OPTIONS ${u} RTSP/1.0\r\nCSeq: 4\r\n\r\n`], { until: /\r\n\r\n/ });
      assert.deepEqual(statuses(junk.text), [200]);
      // Unknown path 404; PLAY without / with a wrong session 454; multicast or no Transport 461.
      assert.deepEqual(statuses((await one(`DESCRIBE ${u.replace(/live$/, "nope")} RTSP/1.0\r\nCSeq: 1\r\n\r\n`)).text), [404]);
      assert.deepEqual(statuses((await one(`PLAY ${u} RTSP/1.0\r\nCSeq: 1\r\n\r\n`)).text), [454]);
      assert.deepEqual(statuses((await one(`PLAY ${u} RTSP/1.0\r\nCSeq: 1\r\nSession: 1234\r\n\r\n`)).text), [454]);
      assert.deepEqual(statuses((await one(`SETUP ${u}/track0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;multicast\r\n\r\n`)).text), [461]);
      assert.deepEqual(statuses((await one(`SETUP ${u}/track0 RTSP/1.0\r\nCSeq: 1\r\n\r\n`)).text), [461]);
      assert.deepEqual(statuses((await one(`SETUP ${u}/track7 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n`)).text), [404]);
      // A session nobody keeps alive ends after sessionTimeoutS (1 s here): the server closes the connection.
      const idle = await raw(srv.port, [`SETUP ${u}/track0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`], { waitMs: 10000 });
      assert.deepEqual(statuses(idle.text), [200]);
      assert.match(idle.text, /^Session: [0-9a-f]{16};timeout=1\r$/m);
      assert.ok(idle.closed, "idle session closed");
      // Parameter sets given up front are announced at once; a stream with none waits for a keyframe, then 503.
      const given = await one(`DESCRIBE ${u.replace(/live$/, "given")} RTSP/1.0\r\nCSeq: 1\r\n\r\n`, { until: /a=control:track0/ });
      assert.deepEqual(statuses(given.text), [200]);
      assert.match(given.text, /sprop-parameter-sets=Z0LAHtk=,aM48gA==/);
      assert.match(given.text, /^Content-Base: rtsp:\/\/127\.0\.0\.1:\d+\/given\/\r$/m);
      const waited = await raw(srv.port, [`DESCRIBE ${u.replace(/live$/, "empty")} RTSP/1.0\r\nCSeq: 4\r\n\r\n`], { until: /\r\n\r\n/, waitMs: 15000 });
      assert.deepEqual(statuses(waited.text), [503]);
      assert.match(waited.text, /^Retry-After: 1\r$/m);
      // Still serving.
      const p = spawnSyncChild("ffprobe", ["-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name", "-of", "csv=p=0", u], { encoding: "utf8", timeout: 30000 });
      assert.equal(p.stdout.trim(), "h264", p.stderr);
    } catch (e) {
      await srv.stop();
      throw e;
    }
    finalStats(await srv.stop());
  });

  it("over maxClients (3) the fourth connection gets 503 and is closed; a freed slot serves again", async function () {
    // the default session timeout (60 s): no held connection can time out and free its slot while the fourth comes
    const srv = await serve(["clients=0", "max=3", "extra=1"]);
    const u = srv.url;
    try {
      // Over maxClients (3): the fourth connection gets 503.
      // (each held connection has its answer first: the server has taken all three before the fourth comes)
      const held = await Promise.all([0, 1, 2].map((i) => new Promise<net.Socket>((res) => {
        const s = net.connect(srv.port, "127.0.0.1", () => s.write(`OPTIONS ${u} RTSP/1.0\r\nCSeq: ${10 + i}\r\n\r\n`));
        let got = "";
        s.on("data", (d) => {
          got += d;
          if (got.includes("\r\n\r\n")) res(s);
        });
      })));
      const over = await raw(srv.port, [`OPTIONS ${u} RTSP/1.0\r\nCSeq: 5\r\n\r\n`], { waitMs: 10000 });
      assert.deepEqual(statuses(over.text), [503]);
      assert.ok(over.closed, "closed after 503");
      held.forEach((s) => s.destroy());
      // the server notices the closes on its next poll: until then a new connection may still be over the limit
      let again: number[] = [];
      for (let i = 0; i < 50 && again[0] !== 200; i++) {
        await new Promise((r) => setTimeout(r, 200));
        again = statuses((await raw(srv.port, [`OPTIONS ${u} RTSP/1.0\r\nCSeq: 6\r\n\r\n`], { until: /\r\n\r\n/, waitMs: 10000 })).text);
      }
      assert.deepEqual(again, [200]);
    } catch (e) {
      await srv.stop();
      throw e;
    }
    const st = finalStats(await srv.stop());
    assert.ok(st.rejected >= 1, `rejected ${st.rejected}`);
  });

  it("a client that sends its requests and closes its side (printf ... | nc) gets every answer before the server closes", async function () {
    const srv = await serve(["clients=0", "extra=1"]);
    const u = srv.url;
    const eof = (req: string, waitMs = 5000) => raw(srv.port, [req], { halfClose: true, waitMs });
    try {
      for (const [req, codes] of [
        ["GARBAGE\r\n\r\n", [400]],
        [`OPTIONS ${u} RTSP/2.0\r\nCSeq: 1\r\n\r\n`, [505]],
        [`OPTIONS ${u} RTSP/1.0\r\nCSeq: 1\r\n\r\n`, [200]],
        [`FROB ${u} RTSP/1.0\r\nCSeq: 2\r\n\r\nOPTIONS ${u} RTSP/1.0\r\nCSeq: 3\r\n\r\n`, [501, 200]],
        [`OPTIONS ${u} RTSP/1.0\r\nCSeq: 4\r\n\r\nGARBAGE\r\n\r\n`, [200, 400]],
        [`DESCRIBE ${u.replace(/live$/, "given")} RTSP/1.0\r\nCSeq: 5\r\n\r\n`, [200]],
      ] as const) {
        const r = await eof(req);
        assert.deepEqual(statuses(r.text), codes, `${JSON.stringify(req)} → ${r.text}`);
        assert.ok(r.closed, `${JSON.stringify(req)}: the server closed the connection after answering`);
      }
      // The SDP went out whole before the close.
      const sdp = await eof(`DESCRIBE ${u.replace(/live$/, "given")} RTSP/1.0\r\nCSeq: 6\r\n\r\n`);
      const body = sdp.text.split("\r\n\r\n")[1] ?? "";
      assert.equal(body.length, Number(/^Content-Length: (\d+)\r$/m.exec(sdp.text)?.[1]), sdp.text);
      // A DESCRIBE the server keeps waiting (a stream with no parameter sets yet) is still answered (503) after the client's EOF.
      const waited = await eof(`DESCRIBE ${u.replace(/live$/, "empty")} RTSP/1.0\r\nCSeq: 7\r\n\r\n`, 15000);
      assert.deepEqual(statuses(waited.text), [503], waited.text);
      assert.ok(waited.closed, "closed after the late answer");
      // An unfinished request gets no answer: the server just closes.
      const cut = await eof(`OPTIONS ${u} RTSP/1.0\r\nCSeq: 8\r\n`);
      assert.deepEqual(statuses(cut.text), []);
      assert.ok(cut.closed, "closed on EOF");
    } catch (e) {
      await srv.stop();
      throw e;
    }
    const st = finalStats(await srv.stop());
    assert.deepEqual(st.clients, [], "no connection left open");
  });

  it("fast start: a client joining mid-GOP gets the cached GOP, keyframe first; without it, it waits for the next keyframe", async function () {
    for (const fast of [true, false]) {
      // A 300-frame GOP: without the cache nothing decodable comes within the
      // 20 frames before the client joins and the 60 served after.
      const srv = await serve(["gop=300", "clients=1", "warm=20", "frames=60", `fast=${fast ? 1 : 0}`]);
      await srv.proc.waitFor(/^warm \d+$/m); // join mid-GOP
      const rd = new RtspReader(srv.url);
      let first: boolean | null = null;
      rd.onFrame = (key) => (first ??= key);
      await rd.start();
      const st = finalStats(await srv.done);
      await rd.closed();
      const c = st.clients[0];
      assert.equal(rd.stats.frames, c.framesSent);
      if (fast) {
        assert.equal(first, true, "the first frame is the cached keyframe");
        assert.equal(rd.stats.keyframes, 1);
        assert.ok(c.framesSent >= 60, `${c.framesSent} frames`);
        assert.equal(c.drops, 0);
      } else {
        assert.equal(c.framesSent, 0, "no keyframe within the window: nothing sent");
        assert.ok(c.drops >= 60, `${c.drops} frames skipped waiting for a keyframe (the stream took 60 while the client played)`);
      }
    }
  });

  it("PAUSE, then PLAY again: the client resumes at a keyframe the encoder makes at once (no waiting for the GOP)", async function () {
    // A 10 s GOP: a second keyframe within the test can only be the IDR asked for on PLAY.
    const srv = await serve(["gop=300", "clients=1", "frames=120"]);
    const rd = new RtspReader(srv.url);
    const firsts: boolean[] = [];
    let resumed = false;
    rd.onFrame = (key) => {
      if (resumed && firsts.length < 3) firsts.push(key);
    };
    await rd.start();
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(await rd.control("PAUSE"), 200);
    await new Promise((r) => setTimeout(r, 300));
    const before = rd.stats.frames;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rd.stats.frames, before, "nothing while paused");
    resumed = true;
    assert.equal(await rd.control("PLAY"), 200);
    const st = finalStats(await srv.done);
    await rd.closed();
    assert.equal(rd.stats.keyframes, 2, "the first keyframe, and the one made for the resume");
    assert.equal(firsts[0], true, "the first frame after the resume is a keyframe");
    assert.equal(rd.stats.frames, st.clients[0].framesSent);
    assert.ok(rd.stats.frames > firsts.length, `frames before the pause too: ${rd.stats.frames}`);
  });

  it("seeded random requests, bytes and interleaved frames, while sessions play: the ASan+UBSan server stays up and clean", async function () {
    this.timeout(600000);
    ensureFlavor("asan");
    const srv = await serve(["clients=0", "max=64", "audio=alaw"], { flavor: "asan" });
    const u = srv.url;
    let seed = 0x5eed;
    const rnd = (n: number) => {
      // mulberry32: the same sequence every run
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0;
    };
    const methods = ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER", "ANNOUNCE", "RECORD", "FOO", ""];
    const uris = [u, `${u}/track0`, `${u}/track1`, `${u}/track9`, "*", "rtsp://x", "/live", "", `${u}?a=b`, `${u}/`];
    const headers = ["CSeq: 1", "CSeq: -5", "CSeq: 99999999999999", "Session: 0000000000000001", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1", "Transport: RTP/AVP;unicast;client_port=5000-5001", "Transport: RTP/AVP;unicast;client_port=70000", "Transport: garbage", "Content-Length: 5", "Content-Length: 99999", 'Authorization: Digest username="a"', ":::", `X: ${"y".repeat(300)}`];
    const junk = (): Buffer => {
      const k = rnd(4);
      if (k === 0) return Buffer.from(Array.from({ length: rnd(3000) }, () => rnd(256)));
      if (k === 1) {
        const n = rnd(200);
        return Buffer.concat([Buffer.from([0x24, rnd(4), n >> 8, n & 255]), Buffer.alloc(n, rnd(256))]);
      }
      let t = `${methods[rnd(methods.length)]} ${uris[rnd(uris.length)]} RTSP/1.${rnd(3)}\r\n`;
      for (let i = rnd(6); i > 0; i--) t += `${headers[rnd(headers.length)]}\r\n`;
      if (rnd(5)) t += "\r\n";
      if (rnd(3) === 0) t += "hello";
      return Buffer.from(t, "latin1");
    };
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const connection = (plan: Buffer[], play: boolean, tcp: boolean) =>
      new Promise<void>((resolve) => {
        const s = net.connect(srv.port, "127.0.0.1");
        let session = "0";
        s.on("data", (d: Buffer) => (session = /Session: ([0-9a-f]+)/.exec(d.toString("latin1"))?.[1] ?? session));
        s.on("error", () => resolve());
        s.on("close", () => resolve());
        s.on("connect", async () => {
          if (play) {
            const tr = tcp ? "RTP/AVP/TCP;unicast;interleaved=0-1" : "RTP/AVP;unicast;client_port=40000-40001";
            s.write(`SETUP ${u}/track0 RTSP/1.0\r\nCSeq: 1\r\nTransport: ${tr}\r\n\r\n`);
            await pause(30);
            s.write(`PLAY ${u} RTSP/1.0\r\nCSeq: 2\r\nSession: ${session}\r\n\r\n`);
            await pause(30);
          }
          for (const b of plan) {
            const split = plan.length % 2 === 0;
            if (!split) s.write(b);
            else for (let j = 0; j < b.length; j += 64) s.write(b.subarray(j, j + 64));
            await pause(5);
          }
          setTimeout(() => s.destroy(), 50);
        });
      });
    for (let round = 0; round < 15; round++) {
      const batch = Array.from({ length: 8 }, () => ({ plan: Array.from({ length: 1 + rnd(6) }, junk), play: rnd(2) === 0, tcp: rnd(2) === 0 }));
      await Promise.all(batch.map((b) => connection(b.plan, b.play, b.tcp)));
    }
    const alive = await raw(srv.port, [`OPTIONS ${u} RTSP/1.0\r\nCSeq: 1\r\n\r\n`], { until: /\r\n\r\n/ });
    assert.deepEqual(statuses(alive.text), [200]);
    const r = await srv.stop();
    assert.doesNotMatch(r.stderr, /AddressSanitizer|runtime error|LeakSanitizer/);
    const st = finalStats(r);
    assert.ok(st.sessions >= 20, `${st.sessions} sessions played`);
  });

  it("the ASan+UBSan runtime serves a client cleanly", async function () {
    this.timeout(600000);
    ensureFlavor("asan"); // the same image: the ASan runtime is a host flavor
    const srv = await serve(["clients=1", "frames=60", "audio=alaw"], { flavor: "asan" });
    const file = path.join(tmpDir(), "asan.mkv");
    const [rec, r] = await Promise.all([record(srv.url, "tcp", file), srv.done]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /AddressSanitizer|runtime error|LeakSanitizer/);
    const st = finalStats(r);
    assert.equal(rec.code, 0, rec.stderr);
    assert.ok(Math.abs(probeStream(file).frames - st.clients[0].framesSent) <= 2);
    assert.ok(fs.statSync(file).size > 0);
  });
});
