// A small RTSP client for tests and benchmarks: DESCRIBE / SETUP (RTP over
// TCP, interleaved) / PLAY, then counts video access units (RTP marker bits)
// and notes when the first complete keyframe arrived. Cheap enough to run 32
// of them in one Node process; it does not decode.
import net from "node:net";

export interface ReaderStats {
  /** Video access units completed (marker bit). */
  frames: number;
  /** Of them, keyframes (H.264 IDR / H.265 IRAP). */
  keyframes: number;
  /** RTCP sender reports received on the video's RTCP channel. */
  senderReports: number;
  /** RTP packets on the video channel, and RTP sequence gaps seen. */
  packets: number;
  gaps: number;
  bytes: number;
  /** ms from connect() to the end of the first complete keyframe; null before. */
  firstKeyframeMs: number | null;
  /** The connection closed (by the server or an error). */
  closed: boolean;
  error: string | null;
}

interface Response {
  status: number;
  headers: Map<string, string>;
  body: string;
}

export class RtspReader {
  readonly stats: ReaderStats = { frames: 0, keyframes: 0, senderReports: 0, packets: 0, gaps: 0, bytes: 0, firstKeyframeMs: null, closed: false, error: null };
  private sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private t0 = 0;
  private cseq = 0;
  private session = "";
  private base = "";
  private pending: ((r: Response) => void) | null = null;
  private lastSeq = -1;
  private auKey = false;
  private codec: "h264" | "h265" = "h264";
  private onClosed: (() => void)[] = [];
  /** Called for every completed video frame (after the counters moved). */
  onFrame: ((key: boolean) => void) | null = null;

  constructor(readonly url: string) {
    const u = new URL(url.replace(/^rtsp:/, "http:"));
    this.t0 = performance.now();
    this.sock = net.connect(Number(u.port || 554), u.hostname);
    this.sock.setNoDelay(true);
    this.sock.on("data", (d: Buffer) => this.data(d));
    this.sock.on("error", (e) => (this.stats.error = e.message));
    this.sock.on("close", () => {
      this.stats.closed = true;
      this.onClosed.splice(0).forEach((f) => f());
      if (this.pending) this.pending({ status: 0, headers: new Map(), body: "" });
    });
  }

  /** DESCRIBE, SETUP track0 over TCP, PLAY. Rejects with the status of a failed step. */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.sock.once("connect", () => resolve());
      this.sock.once("error", reject);
    });
    const d = await this.request("DESCRIBE", this.url, "Accept: application/sdp\r\n");
    if (d.status !== 200) throw new Error(`DESCRIBE: ${d.status}`);
    if (/a=rtpmap:\d+ H265/i.test(d.body)) this.codec = "h265";
    const base = d.headers.get("content-base") ?? `${this.url}/`;
    const control = /m=video[^]*?a=control:(\S+)/.exec(d.body)?.[1] ?? "track0";
    const track = /^rtsp:/.test(control) ? control : base.replace(/\/?$/, "/") + control;
    const s = await this.request("SETUP", track, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
    if (s.status !== 200) throw new Error(`SETUP: ${s.status}`);
    this.session = (s.headers.get("session") ?? "").split(";")[0];
    this.base = base;
    const p = await this.request("PLAY", base, `Session: ${this.session}\r\n`); // no Range: join a live stream where it is
    if (p.status !== 200) throw new Error(`PLAY: ${p.status}`);
  }

  /** PAUSE or PLAY again on the session; resolves with the status. */
  async control(method: "PAUSE" | "PLAY"): Promise<number> {
    return (await this.request(method, this.base, `Session: ${this.session}\r\n`)).status;
  }

  /** Stop reading from the socket (the server sees a client that takes nothing). */
  pause(): void {
    this.sock.pause();
  }

  close(): Promise<void> {
    if (this.stats.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.onClosed.push(resolve);
      this.sock.destroy();
    });
  }

  /** Resolves when the server closes the connection. */
  closed(): Promise<void> {
    if (this.stats.closed) return Promise.resolve();
    return new Promise((resolve) => this.onClosed.push(resolve));
  }

  private request(method: string, url: string, extra: string): Promise<Response> {
    return new Promise((resolve) => {
      this.pending = resolve;
      this.sock.write(`${method} ${url} RTSP/1.0\r\nCSeq: ${++this.cseq}\r\nUser-Agent: qcam-bench\r\n${extra}\r\n`);
    });
  }

  private data(d: Buffer): void {
    this.stats.bytes += d.length;
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let pos = 0;
    for (;;) {
      if (this.buf.length - pos < 4) break;
      if (this.buf[pos] === 0x24) {
        const len = this.buf.readUInt16BE(pos + 2);
        if (this.buf.length - pos < 4 + len) break;
        if (this.buf[pos + 1] === 0) this.rtp(this.buf.subarray(pos + 4, pos + 4 + len));
        else if (this.buf[pos + 1] === 1 && len >= 28 && this.buf[pos + 5] === 200) this.stats.senderReports++;
        pos += 4 + len;
        continue;
      }
      const end = this.buf.indexOf("\r\n\r\n", pos);
      if (end < 0) break;
      const head = this.buf.subarray(pos, end).toString("latin1").split("\r\n");
      const headers = new Map<string, string>();
      for (const l of head.slice(1)) {
        const i = l.indexOf(":");
        if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
      }
      const blen = Number(headers.get("content-length") ?? 0);
      if (this.buf.length < end + 4 + blen) break;
      const body = this.buf.subarray(end + 4, end + 4 + blen).toString("latin1");
      pos = end + 4 + blen;
      const status = Number(/^RTSP\/1\.0 (\d+)/.exec(head[0])?.[1] ?? 0);
      const p = this.pending;
      this.pending = null;
      p?.({ status, headers, body });
    }
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
  }

  private rtp(p: Buffer): void {
    if (p.length < 12 || (p[0] & 0xc0) !== 0x80) return;
    this.stats.packets++;
    const seq = p.readUInt16BE(2);
    if (this.lastSeq >= 0 && seq !== ((this.lastSeq + 1) & 0xffff)) this.stats.gaps++;
    this.lastSeq = seq;
    let off = 12 + 4 * (p[0] & 0x0f);
    if (p[0] & 0x10) off += 4 + 4 * p.readUInt16BE(off + 2);
    const pl = p.subarray(off);
    if (pl.length >= 2) {
      if (this.codec === "h264") {
        let t = pl[0] & 31;
        if (t === 28) t = pl[1] & 31;
        if (t === 5) this.auKey = true;
      } else {
        let t = (pl[0] >> 1) & 63;
        if (t === 49 && pl.length >= 3) t = pl[2] & 63;
        if (t >= 16 && t <= 21) this.auKey = true;
      }
    }
    if (p[1] & 0x80) {
      const key = this.auKey;
      this.stats.frames++;
      if (key) {
        this.stats.keyframes++;
        if (this.stats.firstKeyframeMs === null) this.stats.firstKeyframeMs = performance.now() - this.t0;
      }
      this.auKey = false;
      this.onFrame?.(key);
    }
  }
}
