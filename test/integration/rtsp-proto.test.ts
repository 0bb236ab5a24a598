// qcam:rtsp's protocol layer (host-modules/rtsp/rtsp_proto.h): RTSP messages,
// SDP, Digest, RTP/RTCP. The tables in test/c/test_rtsp_proto.c run on the
// host, ASan+UBSan and riscv64 (qemu) builds; then real clips made by ffmpeg are packetized
// and sent over UDP on localhost to tools we did not write:
//   - GStreamer (rtph264depay / rtph265depay, h264parse / h265parse, avdec):
//     every frame must decode, and the depayloaded stream must decode to the
//     same pictures as the clip;
//   - ffmpeg reading our own session description (sdp mode): the parameter
//     sets come from sprop-*, the pictures and G.711 samples must be the
//     clip's.
// The server on top of this layer is tested end to end in rtsp.test.ts. The
// parsers are fuzzed by fuzz.test.ts (target host-modules/rtsp/fuzz_rtsp.c).
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";
import { buildDir, type Flavor } from "../../build/paths.ts";
import { spawnChild, spawnSyncChild, tmpDir } from "../helpers.ts";

const GROUPS = ["md5", "digest", "request", "interleaved", "transport", "response", "base64", "sdp", "rtp-table", "rtp-loss", "rtp-depack", "audio", "rtcp", "reply", "client-auth", "client-sdp", "client-misc"];
const CODECS = ["h264", "h265"] as const;
type Codec = (typeof CODECS)[number];
const FRAMES = 60;

function cTest(flavor: Flavor, args: string[], timeout = 120000): string {
  const bin = path.join(buildDir(flavor), "qcam-test-rtsp");
  const cmd = flavor === "riscv64" ? ["qemu-riscv64", bin, ...args] : [bin, ...args];
  const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${args.join(" ")}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.stderr, "", `${args.join(" ")} wrote to stderr`);
  return r.stdout;
}

function ffmpeg(args: string[]): Buffer {
  const r = spawnSyncChild("ffmpeg", ["-nostdin", "-v", "error", ...args], { maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, `ffmpeg ${args.join(" ")}:\n${r.stderr}`);
  return r.stdout;
}

/** The per-picture MD5s of a clip, in output order, as ffmpeg decodes it. */
function pictureHashes(file: string, format?: string): string[] {
  const out = ffmpeg([...(format ? ["-f", format] : []), "-i", file, "-fps_mode", "passthrough", "-f", "framemd5", "-"]).toString("utf8");
  return framemd5Hashes(out);
}

function framemd5Hashes(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.split(",").pop()!.trim());
}

/** A UDP port nobody is bound to right now. */
async function freePort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether some socket is bound to UDP `port` (Linux /proc). */
function udpBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  for (const f of ["/proc/net/udp", "/proc/net/udp6"]) {
    try {
      const lines = fs.readFileSync(f, "utf8").split("\n").slice(1);
      if (lines.some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex.trim()))) return true;
    } catch {
      // no IPv6
    }
  }
  return false;
}

interface Receiver {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

async function startReceiver(cmd: string, args: string[], port: number): Promise<Receiver> {
  const proc = spawnChild(cmd, args);
  const child = proc.child;
  const output = () => proc.output().stdout + proc.output().stderr;
  const exited = proc.done.then((r) => r.code);
  for (let i = 0; i < 200 && !udpBound(port); i++) {
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  assert.ok(udpBound(port), `${cmd} never bound UDP port ${port}:\n${output()}`);
  return { child, output, exited };
}

const decodedFrames = (log: string) => [...log.matchAll(/fakesink0:sink\) \(115200 bytes/g)].length; // 320x240 I420

/** Wait until the receiver has decoded all but what a decoder may hold back
 * for reordering, and its output has stopped growing (it has taken every
 * packet); then the end of stream makes it give back the rest. */
async function settle(rx: Receiver, quietMs = 700, maxMs = 60000) {
  let last = -1;
  let quietSince = Date.now();
  const t0 = Date.now();
  while (Date.now() - t0 < maxMs) {
    const out = rx.output();
    if (out.length !== last) {
      last = out.length;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs && decodedFrames(out) >= FRAMES - 8) {
      return;
    }
    await sleep(100);
  }
}

describe("qcam:rtsp protocol layer (test/c/test_rtsp_proto.c)", function () {
  this.timeout(300000);

  for (const flavor of ["host", "asan", "riscv64"] as const) {
    describe(flavor === "riscv64" ? "riscv64 under qemu" : flavor, function () {
      for (const group of GROUPS) {
        it(`${group}: every case of its table`, function () {
          const out = cTest(flavor, ["unit", group]);
          const m = new RegExp(`^ok ${group} (\\d+)$`, "m").exec(out);
          assert.ok(m, out);
          assert.ok(Number(m[1]) > 0, `no checks ran in ${group}`);
          assert.match(out, /^checks \d+ failures 0$/m);
        });
      }
    });
  }

  describe("real clips", function () {
    const dir = tmpDir("qcam-rtsp-proto-");
    const clips = {} as Record<Codec, string>;
    const hashes = {} as Record<Codec, string[]>;

    before(function () {
      // 320x240, 60 frames: libx264 with B-frames and an AUD per access unit,
      // libx265 with its defaults (keyframes big enough for many FU packets).
      clips.h264 = path.join(dir, "clip.h264");
      ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", String(FRAMES), "-c:v", "libx264", "-bsf:v", "h264_metadata=aud=insert", "-f", "h264", "-y", clips.h264]);
      clips.h265 = path.join(dir, "clip.h265");
      ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", String(FRAMES), "-c:v", "libx265", "-x265-params", "log-level=none", "-f", "hevc", "-y", clips.h265]);
      for (const c of CODECS) {
        hashes[c] = pictureHashes(clips[c]);
        assert.equal(hashes[c].length, FRAMES);
      }
    });

    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const codec of CODECS) {
      for (const flavor of ["host", "asan"] as const) {
        it(`${codec} (${flavor}): every access unit survives packetizing and depacketizing at MTUs 1400, 500, 100 and 16`, function () {
          for (const mtu of [1400, 500, 100, 16]) {
            const out = cTest(flavor, ["roundtrip", codec, clips[codec], String(mtu)]);
            const m = /^roundtrip aus=(\d+) nals=(\d+) packets=(\d+)$/m.exec(out);
            assert.ok(m, out);
            assert.equal(Number(m[1]), FRAMES);
            assert.ok(Number(m[3]) > Number(m[2]), `mtu ${mtu}: no NAL unit was fragmented`);
          }
        });
      }

      for (const mtu of [1400, 300]) {
        it(`${codec} at MTU ${mtu} → GStreamer (rtp${codec}depay, avdec_${codec}): all ${FRAMES} frames decode, same pictures`, async function () {
          const port = await freePort();
          const es = path.join(dir, `gst-${codec}-${mtu}.${codec}`);
          const enc = codec === "h264" ? "H264" : "H265";
          const rx = await startReceiver(
            "gst-launch-1.0",
            [
              "-e", "-v",
              "udpsrc", `port=${port}`, `caps=application/x-rtp,media=video,clock-rate=90000,encoding-name=${enc},payload=96`,
              "!", `rtp${codec}depay`, "!", `${codec}parse`, "!", `video/x-${codec},stream-format=byte-stream,alignment=au`,
              "!", "tee", "name=t",
              "t.", "!", "queue", "!", `avdec_${codec}`, "!", "fakesink", "silent=false", "sync=false",
              "t.", "!", "queue", "!", "filesink", `location=${es}`,
            ],
            port,
          );
          try {
            const sent = cTest("host", ["send", codec, clips[codec], String(port), String(mtu)]);
            const m = /^sent aus=(\d+) packets=(\d+) max_packet=(\d+) fu=(\d+)$/m.exec(sent);
            assert.ok(m, sent);
            assert.equal(Number(m[1]), FRAMES);
            assert.ok(Number(m[3]) <= mtu);
            assert.ok(Number(m[4]) > 0, "no FU packet was sent");
            await settle(rx);
          } finally {
            rx.child.kill("SIGINT"); // -e: end of stream first, so the decoder gives back what it holds
          }
          const code = await rx.exited;
          const log = rx.output();
          assert.equal(code, 0, log);
          assert.equal(decodedFrames(log), FRAMES, log.split("\n").slice(-30).join("\n"));
          assert.deepEqual(pictureHashes(es, codec === "h264" ? "h264" : "hevc"), hashes[codec]);
        });
      }

      it(`${codec} → ffmpeg reading our session description: the clip's ${FRAMES} pictures`, async function () {
        const port = await freePort();
        const sdp = cTest("host", ["sdp", codec, clips[codec]]).replace(/^m=video 0 /m, `m=video ${port} `);
        assert.match(sdp, codec === "h264" ? /^a=fmtp:96 packetization-mode=1;profile-level-id=[0-9A-F]{6};sprop-parameter-sets=[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+\r$/m : /^a=fmtp:96 sprop-vps=[A-Za-z0-9+/=]+;sprop-sps=[A-Za-z0-9+/=]+;sprop-pps=[A-Za-z0-9+/=]+\r$/m);
        const sdpFile = path.join(dir, `${codec}.sdp`);
        fs.writeFileSync(sdpFile, sdp);
        const md5 = path.join(dir, `ff-${codec}.framemd5`);
        // ffmpeg stops after the clip's frame count: the clip is sent twice,
        // so the decoder has handed out every picture of the first pass by then.
        const rx = await startReceiver(
          "ffmpeg",
          ["-nostdin", "-v", "error", "-protocol_whitelist", "file,udp,rtp", "-i", sdpFile, "-fps_mode", "passthrough", "-frames:v", String(FRAMES), "-f", "framemd5", "-y", md5],
          port,
        );
        try {
          cTest("host", ["send", codec, clips[codec], String(port), "1400", "30", "2"]);
        } finally {
          const timer = setTimeout(() => rx.child.kill("SIGKILL"), 30000);
          await rx.exited;
          clearTimeout(timer);
        }
        assert.equal(rx.child.exitCode, 0, rx.output());
        assert.deepEqual(framemd5Hashes(fs.readFileSync(md5, "utf8")), hashes[codec]);
      });
    }

    for (const [law, rate] of [["pcma", 8000], ["pcmu", 8000], ["pcma", 16000]] as const) {
      const pt = rate !== 8000 ? 97 : law === "pcma" ? 8 : 0;
      const name = law === "pcma" ? "PCMA" : "PCMU";
      it(`${name} at ${rate} Hz (payload type ${pt}) → ffmpeg reading our session description: every sample`, async function () {
        const port = await freePort();
        const sdp = cTest("host", ["sdp", "none", "-", law, String(rate)]).replace(/^m=audio 0 /m, `m=audio ${port} `);
        assert.ok(sdp.includes(`m=audio ${port} RTP/AVP ${pt}\r\na=rtpmap:${pt} ${name}/${rate}\r\n`), sdp);
        const sdpFile = path.join(dir, `${law}-${rate}.sdp`);
        fs.writeFileSync(sdpFile, sdp);
        const raw = path.join(dir, `${law}-${rate}.s16`);
        // one second of a tone, made by ffmpeg at this rate
        const file = path.join(dir, `tone-${rate}.${law}`);
        const fmt = law === "pcma" ? "alaw" : "mulaw";
        ffmpeg(["-f", "lavfi", "-i", `sine=frequency=440:sample_rate=${rate}`, "-t", "1", "-c:a", law === "pcma" ? "pcm_alaw" : "pcm_mulaw", "-f", fmt, "-y", file]);
        // 50 packets of 20 ms; ffmpeg stops after 50 frames
        const rx = await startReceiver("ffmpeg", ["-nostdin", "-v", "error", "-protocol_whitelist", "file,udp,rtp", "-i", sdpFile, "-frames:a", "50", "-f", "s16le", "-y", raw], port);
        try {
          const sent = cTest("host", ["send", law, file, String(port), "1400", String(rate)]);
          assert.ok(sent.includes(`sent samples=${rate} packets=50\n`), sent);
        } finally {
          const timer = setTimeout(() => rx.child.kill("SIGKILL"), 30000);
          await rx.exited;
          clearTimeout(timer);
        }
        assert.equal(rx.child.exitCode, 0, rx.output());
        const want = ffmpeg(["-f", fmt, "-ar", String(rate), "-i", file, "-f", "s16le", "-"]);
        const got = fs.readFileSync(raw);
        assert.equal(got.length, 2 * rate);
        assert.ok(got.equals(want), "the samples differ");
      });
    }
  });
});
