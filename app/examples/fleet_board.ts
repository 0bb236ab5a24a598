// A board in a fleet: record to the card in one-minute MP4 segments, push the
// same encoded stream to a media server over RTMP, and report over MQTT with
// the topics of docs/api/mqtt.md — a retained status on every change and
// every 10 s, an event per saved segment, commands answered on their reply
// topic, a last will that marks the board offline.
//
//   npx qcam run app/examples/fleet_board.ts -- --rtmp rtmp://host/live/board7 \
//     --mqtt mqtt://user:pass@host --id board7 [--seconds N] [--segment S]
//
// Commands (QoS 1, JSON): qcam/<id>/cmd/status → the status; qcam/<id>/cmd/stop
// → stops the recording and the app. Anything else is answered ok: false.
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { link } from "qcam:link";
import { Mp4Writer } from "qcam:mp4";
import { MqttClient, type MqttMessage } from "qcam:mqtt";
import { RtmpPublisher, type PublishState } from "qcam:publish";
import { Encoder } from "qcam:video";

const arg = (name: string, def: string): string => {
  const i = app.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < app.args.length ? app.args[i + 1] : def;
};
const id = arg("id", "board1");
const base = `qcam/${id}`;
const seconds = Number(arg("seconds", "0")); // 0: until stopped
const width = 640, height = 360, fps = 30;

const cam = new Camera({ width, height, format: "nv21", fps });
const enc = new Encoder({ codec: "h264", width, height, fps, gop: fps, bitrate: 1_000_000 });
let segments = 0;
const mp4 = new Mp4Writer("/sdcard/video/fleet_%03i.mp4", {
  video: enc,
  segment: { seconds: Number(arg("segment", "60")) },
  onSegment: (s) => {
    segments++;
    event({ type: "segment", path: s.path, seconds: s.duration, bytes: s.size });
    status();
  },
});
const pub = new RtmpPublisher(arg("rtmp", "rtmp://127.0.0.1/live/board1"), {
  video: enc,
  onState: (state: PublishState, reason?: string) => {
    event({ type: "publish", state, ...(reason ? { reason } : {}) });
    status();
  },
});
const mqtt = new MqttClient(arg("mqtt", "mqtt://127.0.0.1"), {
  clientId: id,
  will: { topic: `${base}/status`, payload: JSON.stringify({ online: false, at: null }), qos: 1, retain: true },
  onMessage: command,
});
mqtt.subscribe(`${base}/cmd/+`, { qos: 1 });

let stopping = false;
function statusObject(): Record<string, unknown> {
  const p = pub.stats(); // its url is masked: no stream key or password leaves the board
  return {
    online: !stopping,
    at: new Date().toISOString(),
    recording: !stopping,
    segment: { path: mp4.path, index: segments },
    video: { codec: "h264", width, height, fps, drops: pipe ? pipe.stats().drops.source + pipe.stats().drops.queue : 0 },
    publish: { state: p.state, url: p.url, dropped: p.dropped, reconnects: p.reconnects },
  };
}
function status(): void {
  mqtt.publish(`${base}/status`, JSON.stringify(statusObject()), { qos: 1, retain: true });
}
function event(e: Record<string, unknown>): void {
  mqtt.publish(`${base}/event`, JSON.stringify({ at: new Date().toISOString(), ...e }), { qos: 1 });
}
function command(m: MqttMessage): void {
  const name = m.topic.slice(`${base}/cmd/`.length);
  let req: { id?: string; reply?: string } = {};
  try {
    req = JSON.parse(m.payload) as typeof req;
  } catch {
    // answered below without an id
  }
  const reply = (body: Record<string, unknown>) =>
    mqtt.publish(typeof req.reply === "string" && req.reply ? req.reply : `${base}/reply`, JSON.stringify({ id: req.id ?? null, ...body }), { qos: 1 });
  if (name === "status") reply({ ok: true, status: statusObject() });
  else if (name === "stop") {
    reply({ ok: true });
    stopping = true;
  } else reply({ ok: false, code: "ERR_UNKNOWN_COMMAND", message: `no command "${name}"` });
}

const pipe = link(cam, enc, [mp4, pub]);
const t0 = time.ticksMs();
let lastStatus = -1e9;
while (!app.needExit() && !stopping && (!seconds || time.ticksMs() - t0 < seconds * 1000)) {
  if (time.ticksMs() - lastStatus >= 10_000) {
    lastStatus = time.ticksMs();
    status();
  }
  time.sleepMs(50);
}
stopping = true;
const final = pipe.close()!;
const last = mp4.close();
if (last) event({ type: "segment", path: last.path, seconds: last.duration, bytes: last.size });
const p = pub.close()!;
mqtt.publish(`${base}/status`, JSON.stringify({ online: false, at: new Date().toISOString(), recording: false }), { qos: 1, retain: true });
mqtt.close();
console.log(`recorded ${final.framesOut} frames in ${segments + (last ? 1 : 0)} files; published ${p.videoFrames}, dropped ${p.dropped}`);
enc.close();
cam.close();
