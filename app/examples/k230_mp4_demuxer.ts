// K230 CanMV MP4 demuxer example (kd_mp4_get_file_info / get_track_by_index /
// get_frame): list the tracks of an MP4, then take its frames in decode order,
// video paced by its timestamps as the example does before display, and
// decode the pictures to prove they are whole. k230_mp4_muxer.ts makes the
// file; on a card without one this example records a short one first.
import { app, time } from "qcam:app";
import { decodeFrame } from "qcam:audio";
import { Mp4Reader } from "qcam:mp4";
import { Decoder } from "qcam:video";
import { ensureMp4 } from "./lib/input.ts";

const fileName = app.args[0] ?? "/sdcard/examples/test.mp4";
if (ensureMp4(fileName)) demux();

function demux(): void {
  const mp4 = new Mp4Reader(fileName);
  let videoTrack = 0;
  let audioTrack = 0;
  for (const t of mp4.tracks) {
    if (t.kind === "video") {
      videoTrack ||= t.id;
      console.log(`video track ${t.id}: codec ${t.codec}, ${t.width}x${t.height}, ${t.samples} frames`);
    } else {
      audioTrack ||= t.id;
      console.log(`audio track ${t.id}: codec ${t.codec}, ${t.channels} channel(s), ${t.sampleRate} Hz, ${t.samples} frames`);
    }
  }
  if (!videoTrack) throw new Error("video track not found");
  const codec = mp4.tracks.find((t) => t.id === videoTrack)!.codec as "h264" | "h265";

  const dec = new Decoder({ codec });
  const start = time.ticksMs();
  let firstPts = -1;
  let pictures = 0;
  let frames = 0;
  for (let frame = mp4.read(videoTrack); frame && !app.needExit(); frame = mp4.read(videoTrack)) {
    if (firstPts < 0) firstPts = frame.ptsUs;
    const due = (frame.ptsUs - firstPts) / 1000 - (time.ticksMs() - start);
    if (due > 0) time.sleepMs(due); // play at the recorded pace
    for (const img of dec.decode(frame)) {
      pictures++;
      img.close();
    }
    frames++;
    frame.close();
  }
  for (const img of dec.flush()) {
    pictures++;
    img.close();
  }
  let samples = 0;
  if (audioTrack)
    for (let frame = mp4.read(audioTrack); frame; frame = mp4.read(audioTrack)) {
      samples += decodeFrame(frame).length;
      frame.close();
    }
  console.log(`demuxed ${frames} video frames (${pictures} pictures decoded) and ${samples} audio samples in ${((time.ticksMs() - start) / 1000).toFixed(1)} s`);
  dec.close();
  mp4.close();
}
