// Seeds and dictionary for the rtsp fuzz target (host-modules/rtsp/fuzz_rtsp.c,
// registered in test/fuzz.ts): RTSP sessions as ffmpeg, GStreamer and VLC
// send them, broken requests, Transport values, Digest answers (computed
// with Node's MD5, not ours), and RTP packet streams cut from libx264/libx265
// clips by a small packetizer written here (not the one under test), with
// their access-unit counts taken from ffprobe.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { BuildError } from "../build/log.ts";
import { ffmpegFile, MEDIA } from "./fuzz-media.ts";
import { spawnSyncChild } from "./helpers.ts";

export interface RtspSeed {
  name: string;
  data: Buffer;
  expect: Record<string, string | number>;
}

/** Modes of the control byte (fuzz_rtsp.c): mode | p << 3. */
const Mode = { request: 0, transport: 1, interleaved: 2, digest: 3, depack264: 4, depack265: 5, round264: 6, round265: 7 } as const;
const ctl = (mode: number, p = 0) => {
  if (!Number.isInteger(p) || p < 0 || p > 31) throw new Error(`fuzz_rtsp parameter ${p} outside 0..31`);
  return Buffer.from([mode | (p << 3)]);
};

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

// ---- clips -------------------------------------------------------------------

type Codec = "h264" | "h265";

function clip(codec: Codec, frames: number): Buffer {
  const args = [
    "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", String(frames), "-pix_fmt", "yuv420p",
    ...(codec === "h264"
      ? ["-c:v", "libx264", "-g", "3", "-threads", "1", "-bsf:v", "h264_metadata=aud=insert", "-f", "h264"]
      : ["-c:v", "libx265", "-x265-params", "log-level=none:keyint=3:aud=1:pools=none:frame-threads=1", "-f", "hevc"]),
  ];
  return fs.readFileSync(ffmpegFile(args, codec));
}

function probeFrames(es: Buffer, codec: Codec): number {
  const tmp = path.join(MEDIA, `probe-${process.pid}.${codec}`);
  fs.writeFileSync(tmp, es);
  const r = spawnSyncChild("ffprobe", ["-v", "error", "-f", codec === "h264" ? "h264" : "hevc", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", tmp], { encoding: "utf8" });
  fs.rmSync(tmp, { force: true });
  if (r.status !== 0) throw new BuildError(`ffprobe on a ${codec} seed clip: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** NAL units of an Annex B stream (start codes removed). */
function nals(es: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < es.length; i++) if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1) starts.push(i + 3);
  return starts.map((s, k) => {
    let e = k + 1 < starts.length ? starts[k + 1] - 3 : es.length;
    while (e > s && es[e - 1] === 0) e--;
    return es.subarray(s, e);
  });
}

const isAud = (codec: Codec, n: Buffer) => (codec === "h264" ? (n[0] & 0x1f) === 9 : ((n[0] >> 1) & 0x3f) === 35);

/** RTP packets for a stream whose access units each start with an AUD:
 * single NAL units or FU-A / FU fragments of at most `mtu` bytes. */
function packetize(codec: Codec, es: Buffer, mtu: number): Buffer[] {
  const list = nals(es);
  const out: Buffer[] = [];
  let seq = 4000, ts = 0;
  const header = (marker: boolean) => {
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = (marker ? 0x80 : 0) | 96;
    h.writeUInt16BE(seq++ & 0xffff, 2);
    h.writeUInt32BE(ts >>> 0, 4);
    h.writeUInt32BE(0x51ed, 8);
    return h;
  };
  list.forEach((n, i) => {
    if (i > 0 && isAud(codec, n)) ts += 9000;
    const last = i === list.length - 1 || isAud(codec, list[i + 1]);
    if (12 + n.length <= mtu) {
      out.push(Buffer.concat([header(last), n]));
      return;
    }
    const hdr = codec === "h264" ? 1 : 2;
    const ind = codec === "h264" ? Buffer.from([(n[0] & 0xe0) | 28]) : Buffer.from([(n[0] & 0x81) | (49 << 1), n[1]]);
    const type = codec === "h264" ? n[0] & 0x1f : (n[0] >> 1) & 0x3f;
    const chunk = mtu - 12 - hdr - 1;
    for (let at = hdr; at < n.length; at += chunk) {
      const end = at + chunk >= n.length;
      const fu = Buffer.from([(at === hdr ? 0x80 : 0) | (end ? 0x40 : 0) | type]);
      out.push(Buffer.concat([header(last && end), ind, fu, n.subarray(at, Math.min(n.length, at + chunk))]));
    }
  });
  return out;
}

const framed = (packets: Buffer[]) => Buffer.concat(packets.flatMap((p) => [Buffer.from([p.length >> 8, p.length & 0xff]), p]));

// ---- requests ------------------------------------------------------------------

const crlf = (lines: string[]) => lines.map((l) => `${l}\r\n`).join("");
const URL = "rtsp://127.0.0.1:8554/live";
const NONCE = "0123456789abcdef0123456789abcdef";

/** A Digest Authorization value for admin/secret in realm qcam (Node's MD5). */
function digest(method: string, uri: string, opts: { qop?: boolean; password?: string } = {}): string {
  const ha1 = md5(`admin:qcam:${opts.password ?? "secret"}`);
  const ha2 = md5(`${method}:${uri}`);
  if (opts.qop) {
    const response = md5(`${ha1}:${NONCE}:00000001:4a4b4c4d:auth:${ha2}`);
    return `Digest username="admin", realm="qcam", nonce="${NONCE}", uri="${uri}", qop=auth, nc=00000001, cnonce="4a4b4c4d", response="${response}", algorithm=MD5`;
  }
  return `Digest username="admin", realm="qcam", nonce="${NONCE}", uri="${uri}", response="${md5(`${ha1}:${NONCE}:${ha2}`)}"`;
}

function sessionLavf(): string {
  return (
    crlf([`OPTIONS ${URL} RTSP/1.0`, "CSeq: 1", "User-Agent: Lavf59.27.100", ""]) +
    crlf([`DESCRIBE ${URL} RTSP/1.0`, "Accept: application/sdp", "CSeq: 2", "User-Agent: Lavf59.27.100", ""]) +
    crlf([`SETUP ${URL}/track0 RTSP/1.0`, "Transport: RTP/AVP/UDP;unicast;client_port=24312-24313", "CSeq: 3", "User-Agent: Lavf59.27.100", ""]) +
    crlf([`PLAY ${URL} RTSP/1.0`, "Range: npt=0.000-", "CSeq: 4", "User-Agent: Lavf59.27.100", "Session: 1d2e3f4a5b6c7d8e", ""]) +
    crlf([`GET_PARAMETER ${URL} RTSP/1.0`, "CSeq: 5", "Session: 1d2e3f4a5b6c7d8e", ""]) +
    crlf([`TEARDOWN ${URL} RTSP/1.0`, "CSeq: 6", "User-Agent: Lavf59.27.100", "Session: 1d2e3f4a5b6c7d8e", ""])
  );
}

function sessionGstTcpAuth(): string {
  return (
    crlf([`OPTIONS ${URL} RTSP/1.0`, "CSeq: 1", "User-Agent: GStreamer/1.22.0", "Date: Sun, 22 Nov 2026 07:00:00 GMT", ""]) +
    crlf([`DESCRIBE ${URL} RTSP/1.0`, "CSeq: 2", "Accept: application/sdp", ""]) +
    crlf([`DESCRIBE ${URL} RTSP/1.0`, "CSeq: 3", "Accept: application/sdp", `Authorization: ${digest("DESCRIBE", URL)}`, ""]) +
    crlf([`SETUP ${URL}/track0 RTSP/1.0`, "CSeq: 4", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1", `Authorization: ${digest("SETUP", `${URL}/track0`, { qop: true })}`, ""]) +
    crlf([`SETUP ${URL}/track1 RTSP/1.0`, "CSeq: 5", "Transport: RTP/AVP/TCP;unicast;interleaved=2-3", "Session: 42", ""]) +
    crlf([`PLAY ${URL}/ RTSP/1.0`, "CSeq: 6", "Range: npt=0-", "Session: 42", ""])
  );
}

export function rtspSeeds(): RtspSeed[] {
  const s: RtspSeed[] = [];
  const add = (name: string, data: Buffer, expect: Record<string, string | number>) => s.push({ name, data, expect });
  const req = (name: string, text: string, requests: number, last: number, p = 0) =>
    add(`request-${name}`, Buffer.concat([ctl(Mode.request, p), Buffer.from(text, "latin1")]), { mode: "request", requests, last });

  req("session-lavf", sessionLavf(), 6, 0, 6);
  req("session-gst-tcp-auth", sessionGstTcpAuth(), 6, 0, 31);
  req("set-parameter-body", crlf([`SET_PARAMETER ${URL} RTSP/1.0`, "CSeq: 7", "Content-Type: text/parameters", "Content-Length: 12", ""]) + "barparam: x\n" + crlf(["OPTIONS * RTSP/1.0", "CSeq: 8", ""]), 2, 0, 0);
  req("lf-folded", `DESCRIBE ${URL} RTSP/1.0\nCSeq: 3\nAccept: application/sdp,\n  text/plain\nTransport:\n\tRTP/AVP;unicast;\n client_port=5000-5001\n\n`, 1, 0, 2);
  req("unknown-method", crlf(["REDIRECT * RTSP/1.0", "CSeq: 9", ""]), 1, 0, 3);
  req("no-cseq", crlf(["OPTIONS * RTSP/1.0", "CSeq: x1", "CSeq: 2", ""]), 1, 0, 1);
  req("rtsp-2", crlf(["OPTIONS * RTSP/2.0", "CSeq: 1", ""]), 0, -505);
  req("http", crlf(["GET / HTTP/1.1", "Host: 127.0.0.1", ""]), 0, -505);
  req("bad-line", crlf(["OPTIONS  * RTSP/1.0", "CSeq: 1", ""]), 0, -400);
  req("bad-header", crlf(["OPTIONS * RTSP/1.0", "CSeq 1", ""]), 0, -400);
  req("too-many-headers", crlf(["OPTIONS * RTSP/1.0", ...Array.from({ length: 33 }, (_, i) => `X-${i}: ${i}`), ""]), 0, -400, 8);
  req("bad-content-length", crlf(["ANNOUNCE * RTSP/1.0", "Content-Length: 1x", ""]), 0, -400);
  req("content-length-twice", crlf(["ANNOUNCE * RTSP/1.0", "Content-Length: 1", "Content-Length: 2", ""]) + "ab", 0, -400);
  req("content-length-too-big", crlf(["ANNOUNCE * RTSP/1.0", "Content-Length: 9000", ""]), 0, -413);
  req("huge-header", crlf(["OPTIONS * RTSP/1.0", "CSeq: 1", `X-Pad: ${"p".repeat(9000)}`, ""]), 0, -413, 31);
  req("partial", "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n", 0, 0);
  req("pipelined-then-garbage", crlf(["OPTIONS * RTSP/1.0", "CSeq: 1", ""]) + crlf(["PLAY * RTSP/1.0", "CSeq: 2", ""]) + "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 2, -400, 4);

  const tr = (name: string, value: string, result: number) => add(`transport-${name}`, Buffer.concat([ctl(Mode.transport), Buffer.from(value, "latin1")]), { mode: "transport", result });
  tr("udp", "RTP/AVP;unicast;client_port=5000-5001", 0);
  tr("udp-vlc", "RTP/AVP;unicast;client_port=61000-61001;mode=play", 0);
  tr("tcp", "RTP/AVP/TCP;unicast;interleaved=0-1", 0);
  tr("list", "RTP/AVP;multicast;ttl=4,RTP/AVP/UDP;unicast;client_port=7000-7001,RTP/AVP/TCP;interleaved=2-3", 0);
  tr("multicast", "RTP/AVP;multicast;destination=232.0.1.2;port=5000-5001", -461);
  tr("savp", "RTP/SAVP;unicast;client_port=5000-5001", -461);
  tr("record", "RTP/AVP/TCP;interleaved=0-1;mode=record", -461);
  tr("bad-port", "RTP/AVP;unicast;client_port=70000-70001", -400);
  tr("empty", "", -400);

  // Interleaved: frames, requests, a frame split off at the end.
  const frame = (ch: number, payload: Buffer) => Buffer.concat([Buffer.from([0x24, ch, payload.length >> 8, payload.length & 0xff]), payload]);
  const rtcpRr = Buffer.from("81c90007000051ed00000000000000000000000000000000000000000000", "hex");
  const il = (name: string, data: Buffer, p: number, frames: number, requests: number, stop: number) =>
    add(`interleaved-${name}`, Buffer.concat([ctl(Mode.interleaved, p), data]), { mode: "interleaved", frames, requests, stop });
  const get = Buffer.from(crlf([`GET_PARAMETER ${URL} RTSP/1.0`, "CSeq: 7", "Session: 42", ""]), "latin1");
  const teardown = Buffer.from(crlf([`TEARDOWN ${URL} RTSP/1.0`, "CSeq: 8", "Session: 42", ""]), "latin1");
  il("mixed", Buffer.concat([frame(1, rtcpRr), get, frame(3, rtcpRr), frame(0, Buffer.alloc(0)), teardown]), 0, 3, 2, 0);
  il("split-frame", Buffer.concat([frame(1, rtcpRr), get, frame(1, Buffer.alloc(300, 7)).subarray(0, 200)]), 12, 1, 1, 0);
  il("bad-request", Buffer.concat([frame(1, rtcpRr), Buffer.from("PLAY\r\n\r\n")]), 5, 1, 0, -400);

  const dg = (name: string, value: string, ok: number) => add(`digest-${name}`, Buffer.concat([ctl(Mode.digest), Buffer.from(value, "latin1")]), { mode: "digest", ok });
  dg("no-qop", digest("DESCRIBE", URL), 1);
  dg("qop-auth", digest("DESCRIBE", `${URL}/`, { qop: true }), 1);
  dg("wrong-password", digest("DESCRIBE", URL, { password: "secreT" }), 0);
  dg("wrong-method", digest("SETUP", URL), 0);
  dg("basic", "Basic YWRtaW46c2VjcmV0", 0);
  dg("unterminated", digest("DESCRIBE", URL).slice(0, -1), 0);

  // RTP: whole streams, a lost packet, hand-made aggregation packets.
  for (const codec of ["h264", "h265"] as const) {
    const es = clip(codec, 4);
    const frames = probeFrames(es, codec);
    if (frames !== 4) throw new BuildError(`ffprobe finds ${frames} frames in the ${codec} rtsp seed clip, made with 4`);
    const auds = nals(es).filter((n) => isAud(codec, n)).length;
    if (auds !== frames) throw new BuildError(`the ${codec} rtsp seed clip has ${auds} AUDs for ${frames} frames`);
    const mode = codec === "h264" ? Mode.depack264 : Mode.depack265;
    const packets = packetize(codec, es, 200);
    const dp = (name: string, pk: Buffer[], p: number, expect: Record<string, number>) =>
      add(`depack-${codec}-${name}`, Buffer.concat([ctl(mode, p), framed(pk)]), { mode: "depack", codec, packets: pk.length, malformed: 0, ...expect });
    dp("mtu-200", packets, 0, { aus: frames, dropped: 0 });
    dp("mtu-1400", packetize(codec, es, 1400), 0, { aus: frames, dropped: 0 });
    // Lose the second packet, inside the first AU (AUD, parameter sets, IDR): that AU goes.
    if ((packets[1][1] & 0x80) !== 0) throw new BuildError(`the ${codec} rtsp seed clip's first AU is a single packet`);
    dp("lost", packets.filter((_, i) => i !== 1), 0, { aus: frames - 1, dropped: 1 });
    dp("small-buffer", packets, 7, {}); // 512 bytes: big AUs are dropped
    const rt = codec === "h264" ? Mode.round264 : Mode.round265;
    const n = nals(es).length;
    for (const p of [0, 4, 31]) add(`roundtrip-${codec}-mtu-${16 + 23 * p}`, Buffer.concat([ctl(rt, p), es]), { mode: "roundtrip", codec, mtu: 16 + 23 * p, nals: n });
  }
  const rtp = (seq: number, marker: boolean, payload: number[]) => Buffer.from([0x80, (marker ? 0x80 : 0) | 96, seq >> 8, seq & 0xff, 0, 0, 0x23, 0x28, 0, 0, 0x51, 0xed, ...payload]);
  add("depack-h264-stap-a", Buffer.concat([ctl(Mode.depack264), framed([rtp(1, false, [0x78, 0, 3, 0x67, 0x42, 0xc0, 0, 2, 0x68, 0xce]), rtp(2, true, [0x65, 0x88, 0x84])])]), { mode: "depack", codec: "h264", packets: 2, aus: 1, malformed: 0, dropped: 0 });
  add("depack-h265-ap", Buffer.concat([ctl(Mode.depack265), framed([rtp(1, false, [0x60, 0x01, 0, 3, 0x40, 0x01, 0x0c, 0, 3, 0x42, 0x01, 0x01]), rtp(2, true, [0x26, 0x01, 0xaf])])]), { mode: "depack", codec: "h265", packets: 2, aus: 1, malformed: 0, dropped: 0 });
  add("depack-h264-malformed", Buffer.concat([ctl(Mode.depack264), framed([rtp(1, false, [0x7c, 0x05, 1]), rtp(2, true, [0x7c, 0x45, 2]), rtp(3, true, [0x41, 9])])]), { mode: "depack", codec: "h264", packets: 3, aus: 1, malformed: 1, dropped: 1 });
  return s;
}

export const RTSP_DICT = [
  "RTSP/1.0", "\r\n", "\r\n\r\n", "CSeq: ", "Content-Length: ", "Session: ", "Transport: ", "Authorization: ",
  "OPTIONS ", "DESCRIBE ", "SETUP ", "PLAY ", "PAUSE ", "TEARDOWN ", "GET_PARAMETER ", "SET_PARAMETER ",
  "RTP/AVP", "RTP/AVP/TCP", ";unicast", ";multicast", "interleaved=", "client_port=", "mode=", "-",
  "Digest ", "username=", "realm=", "nonce=", "uri=", "response=", "qop=auth", "nc=00000001", "cnonce=", "algorithm=MD5", "\"", "\\",
  "\x24\x00", "\x80\xe0", "\x7c\x85", "\x7c\x45", "\x78\x00", "\x62\x01", "\x60\x01", "\x00\x00\x00\x01", "\x00\x00\x01",
].map((t) => Buffer.from(t, "latin1"));
