// The publish benchmarks' board side (bench/publish.ts):
//   rtmp URL FILE FPS   push an H.264 elementary stream at its frame rate
//                        (EsReader, pull-mode write()), then close
//   rtsp URL FILE FPS   the same with RtspPublisher (ANNOUNCE + RECORD)
//   mqtt URL N          N commands: a fleet client publishes one, the board
//                        client changes its state and publishes an ack; the
//                        round trip of each, command sent → ack heard
//   latency URL SECONDS  camera (1280x720, 30 fps) → H.264 → RtmpPublisher for
//                        SECONDS, printing each frame's capture time
//                        (CLOCK_MONOTONIC, ms) and its time in the stream
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { MqttClient } from "qcam:mqtt";
import { RtmpPublisher, RtspPublisher } from "qcam:publish";
import { Encoder, EsReader } from "qcam:video";

const [mode, url, a, b] = app.args;

function waitFor(cond: () => boolean, ms: number): boolean {
  const t0 = time.ticksMs();
  while (!app.needExit() && !cond() && time.ticksMs() - t0 < ms) time.sleepMs(1);
  return cond();
}

if (mode === "rtmp" || mode === "rtsp") {
  const fps = Number(b);
  const es = new EsReader(a, { fps });
  const pub = mode === "rtmp" ? new RtmpPublisher(url, { video: { codec: "h264", fps } }) : new RtspPublisher(url, { video: { codec: "h264", fps } });
  // RTSP describes the stream from its first keyframe: it connects once frames flow (queuing them)
  if (mode === "rtmp" && !waitFor(() => pub.state === "publishing", 10000)) throw new Error(`not publishing: ${pub.stats().lastError}`);
  const t0 = time.ticksUs();
  let n = 0;
  for (let f = es.read(); f; f = es.read(), n++) {
    const due = t0 + (n * 1e6) / fps;
    while (time.ticksUs() < due) time.sleepMs(Math.max(1, Math.ceil((due - time.ticksUs()) / 1000)));
    pub.write(f);
    f.close();
  }
  es.close();
  const st = pub.close()!;
  console.log(`result ${JSON.stringify({ frames: n, sent: st.videoFrames, dropped: st.dropped, bytes: st.bytes })}`);
} else if (mode === "latency") {
  const seconds = Number(a);
  const cam = new Camera({ width: 1280, height: 720, format: "nv21", fps: 30 });
  const enc = new Encoder({ codec: "h264", width: 1280, height: 720, fps: 30, bitrate: 3_000_000, gop: 30 });
  const pub = new RtmpPublisher(url, { video: enc });
  if (!waitFor(() => pub.state === "publishing", 10000)) throw new Error(`not publishing: ${pub.stats().lastError}`);
  console.log("publishing");
  const t0 = time.ticksMs();
  let first = -1;
  const captures: number[] = [];
  while (!app.needExit() && time.ticksMs() - t0 < seconds * 1000) {
    const img = cam.read();
    const f = enc.encode(img);
    img.close();
    if (first < 0) first = f.ptsUs;
    captures.push(f.ptsUs / 1000); // the capture time (the camera's timestamp carried by the frame)
    pub.write(f);
    f.close();
  }
  const st = pub.close()!;
  enc.close();
  cam.close();
  // the stream's time of frame i is (captures[i] - first) ms (the publisher counts from its first frame)
  console.log(`result ${JSON.stringify({ sent: st.videoFrames, dropped: st.dropped, first: first / 1000, captures })}`);
} else if (mode === "mqtt") {
  const count = Number(a);
  let state = false;
  const rtts: number[] = [];
  let sentAt = 0;
  let acked = -1;
  const board = new MqttClient(url, {
    clientId: "bench-board",
    onMessage: (m) => {
      const cmd = JSON.parse(m.payload) as { id: number; recording: boolean };
      state = cmd.recording; // the state change
      board.publish("bench/board/ack", JSON.stringify({ id: cmd.id, recording: state }));
    },
  });
  const fleet = new MqttClient(url, {
    clientId: "bench-fleet",
    onMessage: (m) => {
      const ack = JSON.parse(m.payload) as { id: number };
      rtts.push((time.ticksUs() - sentAt) / 1000);
      acked = ack.id;
    },
  });
  board.subscribe("bench/board/cmd");
  fleet.subscribe("bench/board/ack");
  if (!waitFor(() => board.state === "connected" && fleet.state === "connected", 10000)) throw new Error("not connected");
  time.sleepMs(300); // both SUBACKs
  for (let i = 0; i < count; i++) {
    sentAt = time.ticksUs();
    fleet.publish("bench/board/cmd", JSON.stringify({ id: i, recording: i % 2 === 0 }));
    if (!waitFor(() => acked === i, 5000)) throw new Error(`command ${i} not acknowledged`);
  }
  board.close();
  fleet.close();
  rtts.sort((x, y) => x - y);
  console.log(`result ${JSON.stringify({ count: rtts.length, p50: rtts[Math.floor(rtts.length / 2)], p90: rtts[Math.floor(rtts.length * 0.9)], max: rtts[rtts.length - 1] })}`);
}
