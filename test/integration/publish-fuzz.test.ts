// What qcam:publish reads from a media server (RTMP; RTSP below) — the handshake's S0, the
// chunk stream (every header form, Set Chunk Size, Abort, reassembly), the
// AMF0 commands in it — and the URL parser, under libFuzzer with ASan and
// UBSan (Debian's clang). The fuzzer lives beside the parser
// (host-modules/publish/fuzz_rtmp.c); here a bounded run from seeds of what
// nginx-rtmp sends a publisher, plus malformed ones. A crash, leak or broken
// invariant fails the test and leaves the input in out/fuzz/artifacts/.
import { boundedFuzz } from "../fuzz-bounded.ts";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const str = (s: string) => Buffer.concat([Buffer.from([2, s.length >> 8, s.length & 255]), Buffer.from(s, "latin1")]);
const num = (n: number) => {
  const b = Buffer.alloc(9);
  b[0] = 0;
  b.writeDoubleBE(n, 1);
  return b;
};
const obj = (kv: [string, Buffer][]) =>
  Buffer.concat([Buffer.from([3]), ...kv.flatMap(([k, v]) => [Buffer.from([k.length >> 8, k.length & 255]), Buffer.from(k, "latin1"), v]), hex("000009")]);
/** One message as a fmt 0 chunk (whole: the seeds keep to 128-byte payloads or less) on chunk stream `cs`. */
const chunk = (cs: number, type: number, msid: number, payload: Buffer) => {
  const h = Buffer.alloc(12);
  h[0] = cs;
  h.writeUIntBE(0, 1, 3);
  h.writeUIntBE(payload.length, 4, 3);
  h[7] = type;
  h.writeUInt32LE(msid, 8);
  const parts: Buffer[] = [h];
  for (let i = 0; i < payload.length; i += 128) {
    if (i) parts.push(Buffer.from([0xc0 | cs]));
    parts.push(Buffer.from(payload.subarray(i, i + 128)));
  }
  return Buffer.concat(parts);
};

function seeds(): Buffer[] {
  const s0s1s2 = Buffer.concat([Buffer.from([3]), Buffer.alloc(1536 * 2, 7)]);
  const server = Buffer.concat([
    chunk(2, 5, 0, hex("004c4b40")), // Window Acknowledgement Size
    chunk(2, 6, 0, hex("004c4b4002")), // Set Peer Bandwidth
    chunk(2, 1, 0, hex("00001000")), // Set Chunk Size 4096 (later chunks may be bigger)
    chunk(3, 20, 0, Buffer.concat([str("_result"), num(1), obj([["fmsVer", str("FMS/3,0,1,123")], ["capabilities", num(31)]]),
      obj([["level", str("status")], ["code", str("NetConnection.Connect.Success")], ["description", str("Connection succeeded.")], ["objectEncoding", num(0)]])])),
    chunk(3, 20, 0, Buffer.concat([str("_result"), num(4), Buffer.from([5]), num(1)])),
    chunk(5, 20, 1, Buffer.concat([str("onStatus"), num(0), Buffer.from([5]), obj([["level", str("status")], ["code", str("NetStream.Publish.Start")], ["description", str("Start publishing")]])])),
    chunk(2, 4, 0, hex("0006 00000bb8")), // ping request
  ]);
  return [
    Buffer.concat([Buffer.from([5]), server]),
    Buffer.concat([Buffer.from([63]), server]),
    Buffer.concat([Buffer.from([0]), s0s1s2, server]),
    Buffer.concat([Buffer.from([1]), Buffer.from("rtmp://bob:pw@127.0.0.1:1936/live/cam?key=x")]),
    Buffer.concat([Buffer.from([9]), hex("4300000500000112"), Buffer.from("g")]), // fmt 1 with no earlier header
    Buffer.concat([Buffer.from([9]), hex("03 000000 000014 14 00000000"), str("onStatus"), num(0), hex("05 0a ffffffff 05")]),
    Buffer.concat([Buffer.from([9]), hex("0006ffffff00000109010000000100000068")]), // two-byte csid, extended timestamp
  ];
}

boundedFuzz({
  title: "qcam:publish's RTMP reader under libFuzzer (fuzz_rtmp.c)",
  name: "rtmp",
  sources: ["host-modules/publish/fuzz_rtmp.c", "host-modules/publish/rtmp_proto.c", "host-modules/video/annexb.c", "host-modules/media/neturl.c"],
  seeds,
  seedsAre: "what nginx-rtmp says to a publisher, and malformed chunks",
});

// The same for RtspPublisher (host-modules/publish/fuzz_rtsp_push.c): what an
// RTSP server sends a publisher — replies (401 with Digest and Basic
// challenges, SETUP's Session and Transport, bodies) and interleaved '$'
// frames on the same connection — the challenges and the Authorization
// answers made from them, and the push URL parser.

function rtspSeeds(): Buffer[] {
  const reply = (code: string, cseq: number, headers: string[] = [], body = "") =>
    Buffer.from(`RTSP/1.0 ${code}\r\nCSeq: ${cseq}\r\n${headers.map((h) => `${h}\r\n`).join("")}${body ? `Content-Length: ${body.length}\r\n` : ""}\r\n${body}`, "latin1");
  const server = Buffer.concat([
    reply("401 Unauthorized", 1, ['WWW-Authenticate: Digest realm="GStreamer RTSP Server", nonce="6b2c3f0e9a"', 'WWW-Authenticate: Basic realm="GStreamer RTSP Server"']),
    reply("200 OK", 2),
    reply("200 OK", 3, ["Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record", "Session: 1fVSeRvLqJ2ctCjD;timeout=60"]),
    reply("200 OK", 4, ["Session: 1fVSeRvLqJ2ctCjD", "RTP-Info: url=rtsp://127.0.0.1:8554/h264/track0"]),
    hex("24 01 0020 81c90007 12345678 00000000 00000000 00000000 00000000 00000000 00000000"), // an RTCP receiver report on channel 1
    reply("200 OK", 5, ["Public: OPTIONS, ANNOUNCE, SETUP, RECORD, TEARDOWN", "Content-Type: text/parameters"], "x: y\r\n"),
  ]);
  return [
    Buffer.concat([Buffer.from([5]), server]),
    Buffer.concat([Buffer.from([63]), server]),
    Buffer.concat([Buffer.from([0]), Buffer.from('Digest realm="r", nonce="n", qop="auth,auth-int", opaque="o", algorithm=MD5')]),
    Buffer.concat([Buffer.from([1]), Buffer.from("rtsp://bob:p%3Aw@127.0.0.1:8554/live/cam?x=1")]),
    Buffer.concat([Buffer.from([2]), Buffer.from("rtsp://u@[::1]:554/x")]),
    Buffer.concat([Buffer.from([9]), Buffer.from("RTSP/1.0 20x OK\r\n\r\n")]),
    Buffer.concat([Buffer.from([9]), Buffer.from("RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n")]),
  ];
}

boundedFuzz({
  title: "qcam:publish's RTSP push reader under libFuzzer (fuzz_rtsp_push.c)",
  name: "rtsp-push",
  sources: ["host-modules/publish/fuzz_rtsp_push.c", "host-modules/publish/rtsp_push_proto.c", "host-modules/rtsp/digest.c",
    "host-modules/rtsp/sdp.c", "host-modules/rtsp/rtsp_msg.c", "host-modules/rtsp/client_proto.c"],
  seeds: rtspSeeds,
  seedsAre: "what GStreamer's RTSP server says to a publisher, and malformed replies",
});
