// A bounded libFuzzer run (ASan + UBSan) over what RtspSource reads from a
// camera: replies and interleaved frames, session descriptions, challenges,
// URLs, RTP into the depacketizer (host-modules/rtsp/fuzz_client.c, beside
// the parser). Seeds are what real servers send (GStreamer's and ours, in the
// shapes rtsp-source.test.ts meets) and RTP packets of every kind the
// depacketizer takes. QCAM_FUZZ_SECONDS sets the length (default 5 s).
import fs from "node:fs";
import path from "node:path";
import { FUZZ_DIR, FUZZ_SECONDS as SECONDS, assertTimedFuzzClean, compileFuzzer, hasClang } from "../fuzz.ts";
import { tmpDir } from "../helpers.ts";

const BIN = path.join(FUZZ_DIR, "fuzz_rtsp_client");
const build = () =>
  compileFuzzer(BIN, ["host-modules/rtsp/fuzz_client.c", "host-modules/rtsp/client_proto.c", "host-modules/rtsp/rtsp_msg.c", "host-modules/rtsp/rtp.c",
    "host-modules/rtsp/digest.c", "host-modules/rtsp/sdp.c", "host-modules/video/annexb.c"]);

const SDP =
  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=Session\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\n" +
  "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42c01e;sprop-parameter-sets=Z0LAHtkAoEf+yA==,aM48gA==\r\n" +
  "a=control:stream=0\r\nm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:stream=1\r\n";
const SDP265 =
  "v=0\r\ns=qcam\r\nt=0 0\r\na=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\n" +
  "a=fmtp:96 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ;sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBdoAKAgC0WWVmkkyvAQ==;sprop-pps=RAHBcrRiQA==\r\na=control:track0\r\n";
const REPLIES = [
  "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, ANNOUNCE, GET_PARAMETER, PAUSE, PLAY, RECORD, SETUP, SET_PARAMETER, TEARDOWN\r\nServer: GStreamer RTSP server\r\n\r\n",
  `RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Base: rtsp://127.0.0.1:8554/live/\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`,
  "RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm=\"GStreamer RTSP Server\", nonce=\"b2a8f7d6c1e3\"\r\nWWW-Authenticate: Basic realm=\"qcam\"\r\n\r\n",
  "RTSP/1.0 200 OK\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=5BC4A5E6;mode=\"PLAY\"\r\nSession: x5PUzCVIsDF2CV2E;timeout=60\r\n\r\n",
  "RTSP/1.0 200 OK\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=50000-50001;server_port=6970-6971;ssrc=1234ABCD\r\nSession: 1;timeout=5\r\n\r\n",
  `RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: ${SDP265.length}\r\n\r\n${SDP265}`,
  "RTSP/1.0 404 Not Found\r\nCSeq: 2\r\n\r\n",
];
const CHALLENGES = [
  'Digest realm="qcam", nonce="0123456789abcdef0123456789abcdef"',
  'Digest realm="r", nonce="n", qop="auth,auth-int", algorithm=MD5, opaque="o", stale=TRUE',
  'Basic realm="IP Camera"',
];
const URLS = ["rtsp://admin:se%40cret@192.168.1.64:554/Streaming/Channels/101", "rtsp://[::1]:8554/live", "rtsp://cam/h264?x=1"];

/** An RTP packet: V=2, marker, PT 96, seq, timestamp, payload. */
function rtp(seq: number, ts: number, marker: boolean, payload: number[]): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | 96;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(0x11223344, 8);
  return Buffer.concat([h, Buffer.from(payload)]);
}

function lengthPrefixed(pkts: Buffer[]): Buffer {
  return Buffer.concat(pkts.flatMap((p) => [Buffer.from([p.length >> 8, p.length & 0xff]), p]));
}

function seeds(dir: string): void {
  const put = (name: string, control: number, body: Buffer | string) =>
    fs.writeFileSync(path.join(dir, name), Buffer.concat([Buffer.of(control), typeof body === "string" ? Buffer.from(body, "latin1") : body]));
  // 0: a stream of replies and '$' frames
  const frame = (ch: number, b: Buffer) => Buffer.concat([Buffer.from([0x24, ch, b.length >> 8, b.length & 0xff]), b]);
  put("stream-0", 0 + 6 * 3, Buffer.concat([Buffer.from(REPLIES.join(""), "latin1"), frame(0, rtp(1, 0, true, [0x65, 1, 2, 3])), frame(1, Buffer.from([0x80, 200, 0, 6, ...Array(24).fill(1)]))]));
  REPLIES.forEach((r, i) => put(`reply-${i}`, 0 + 6 * (i + 1), r));
  // 1: SDP
  put("sdp-264", 1, SDP);
  put("sdp-265", 1, SDP265);
  // 2: challenges
  CHALLENGES.forEach((c, i) => put(`auth-${i}`, 2, c));
  // 3: URLs
  URLS.forEach((u, i) => put(`url-${i}`, 3, u));
  // 4, 5: RTP: H.264 single, STAP-A, FU-A; H.265 single, AP, FU
  const sps = [0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x47, 0xfe, 0xc8], pps = [0x68, 0xce, 0x3c, 0x80];
  const stapA = [24, 0, sps.length, ...sps, 0, pps.length, ...pps];
  const fuA = (s: boolean, e: boolean) => [28 | 0x60, (s ? 0x80 : 0) | (e ? 0x40 : 0) | 5, ...Array(40).fill(0xab)];
  put("h264", 4, lengthPrefixed([rtp(1, 0, false, stapA), rtp(2, 0, false, fuA(true, false)), rtp(3, 0, true, fuA(false, true)), rtp(4, 3000, true, [0x41, 0x9a, 1, 2, 3])]));
  const ap = [48 << 1, 1, 0, 4, 0x40, 0x01, 0x0c, 0x01, 0, 4, 0x42, 0x01, 0x01, 0x01, 0, 3, 0x44, 0x01, 0xc1];
  const fu = (s: boolean, e: boolean) => [49 << 1, 1, (s ? 0x80 : 0) | (e ? 0x40 : 0) | 19, ...Array(40).fill(0xcd)];
  put("h265", 5, lengthPrefixed([rtp(1, 0, false, ap), rtp(2, 0, false, fu(true, false)), rtp(3, 0, true, fu(false, true)), rtp(4, 3000, true, [0x02, 0x01, 0xd0, 1, 2])]));
}

describe("fuzz: RtspSource's reading of camera replies and RTP (libFuzzer, ASan, UBSan)", function () {
  this.timeout((SECONDS + 150) * 1000);

  before(function () {
    if (!hasClang()) {
      console.log("      skipped: clang is not installed (bin/setup.mjs test installs clang and libclang-rt-14-dev)");
      this.skip();
    }
    build();
  });

  it(`survives ${SECONDS} s of fuzzing from real servers' replies and RTP of every packet kind`, async function () {
    const seedDir = tmpDir("qcam-fuzz-rtspc-seeds-");
    const work = tmpDir("qcam-fuzz-rtspc-");
    try {
      seeds(seedDir);
      await assertTimedFuzzClean(BIN, { corpus: [work, seedDir], maxLen: 20000, minInputs: 1000 });
    } finally {
      for (const d of [seedDir, work]) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
