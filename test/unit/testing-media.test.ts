// The media stubs on the world's clock (qcam:camera, qcam:video, qcam:link,
// qcam:fs): what only the stub side can show — virtual time, scripted faults,
// the in-memory SD card, runApp with a running link. What both sides must
// agree on is in test/contract/*.contract.ts.
import assert from "node:assert/strict";
import path from "node:path";
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import * as fs from "qcam:fs";
import { EsFileSink, link } from "qcam:link";
import { Decoder, Encoder, EsReader, splitAccessUnits } from "qcam:video";
import { runApp, sdcard, world } from "qcam:testing";
import { FIXTURES, thrown } from "../helpers.ts";

const LINK_APP = path.join(FIXTURES, "testing", "link-app.ts");

describe("testing kit: the media stubs", function () {
  beforeEach(() => world.reset());
  afterEach(() => world.restore());

  describe("qcam:camera on virtual time", function () {
    it("read() waits exactly until the next capture falls due; a slow reader sees seq jump", function () {
      const cam = new Camera({ width: 64, height: 48, fps: 25 });
      const a = cam.read();
      assert.deepEqual([a.seq, time.ticksUs()], [0, 0], "capture 0 is due at once");
      const b = cam.read();
      assert.deepEqual([b.seq, time.ticksUs(), b.timestampUs - a.timestampUs], [1, 40_000, 40_000]);
      time.sleepMs(1000);
      const c = cam.read();
      assert.equal(c.seq, 26, "the newest capture: 1 s later");
      assert.deepEqual(cam.stats(), { captured: 27, dropped: 24, delivered: 3 });
      for (const img of [a, b, c]) img.close();
      cam.close();
      assert.equal(world.openHandles("Camera").length, 0);
    });

    it("with every buffer held, read() gives up after period + 0.5 s of virtual time", function () {
      const cam = new Camera({ width: 64, height: 48, fps: 10, buffers: 2 });
      const held = [cam.read(), cam.read()];
      const t0 = time.ticksUs();
      assert.equal(thrown(() => cam.read()).code, "ERR_NO_BUFFER");
      assert.equal(time.ticksUs() - t0, 100_001 + 500_000);
      assert.equal(world.openHandles("Image").length, 2);
      held.forEach((i) => i.close());
      cam.close();
    });

    it("a scripted event can hand a buffer back while read() waits", function () {
      const cam = new Camera({ width: 64, height: 48, fps: 10, buffers: 2 });
      const held = [cam.read(), cam.read()];
      world.after(250, () => held[0].close());
      const img = cam.read();
      assert.equal(img.seq, 4, "the first capture after the buffer came back");
      img.close();
      held[1].close();
      cam.close();
    });

    it("fault camera.read: the sensor unplugged", function () {
      world.fault("camera.read", { code: "ENODEV", after: 2, message: "sensor gone" });
      const cam = new Camera({ width: 64, height: 48 });
      cam.read().close();
      cam.read().close();
      const e = thrown(() => cam.read());
      assert.deepEqual([e.name, e.code, e.errno, e.message], ["Error", "ENODEV", 19, "camera read: sensor gone: No such device"]);
      cam.read().close(); // times: 1
      assert.deepEqual(world.pendingFaults(), []);
      cam.close();
    });

    it("Y4M sources are not played by the stub, and say so", function () {
      const e = thrown(() => new Camera({ source: "/sdcard/clip.y4m" }));
      assert.equal(e.code, "ERR_STUB_UNSUPPORTED");
      assert.match(e.message, /does not play Y4M files/);
      assert.equal(world.openHandles("Camera").length, 0);
    });
  });

  describe("qcam:video", function () {
    it("frame sizes follow the rate model: P = gop·B/(gop+7), an IDR 8 P plus its parameter sets", function () {
      const cam = new Camera({ width: 640, height: 480, fps: 30 });
      const enc = new Encoder({ codec: "h264", width: 640, height: 480, fps: 30, gop: 10, bitrate: 1_200_000 });
      const sizes: number[] = [];
      for (let i = 0; i < 10; i++) {
        using img = cam.read();
        using f = enc.encode(img);
        sizes.push(f.size);
      }
      const p = Math.floor((10 * (1_200_000 / 8 / 30)) / 17);
      assert.ok(sizes.slice(1).every((s) => s === p), `${sizes}`);
      const ps = enc.parameterSets()!;
      const params = 4 + ps.sps.byteLength + 4 + ps.pps.byteLength;
      assert.equal(sizes[0], 8 * p + params);
      enc.close();
      cam.close();
    });

    it("fault video.encode: encode() throws; the next one works", function () {
      world.fault("video.encode", { code: "EIO" });
      const cam = new Camera({ width: 64, height: 48 });
      const enc = new Encoder({ codec: "h265", width: 64, height: 48 });
      using img = cam.read();
      const e = thrown(() => enc.encode(img));
      assert.deepEqual([e.code, e.errno, e.message], ["EIO", 5, "encode failed: Input/output error"]);
      using f = enc.encode(img);
      assert.deepEqual([f.seq, f.keyframe], [0, true], "a failed encode made no frame");
      enc.close();
      cam.close();
    });

    it("real streams put on the card split, classify and decode to their size", function () {
      // The start of a stream x264 made at 64x48 (its SPS and PPS, the first bytes of an IDR slice and of a P slice).
      const hex = (h: string) => [...h.matchAll(/../g)].map((m) => parseInt(m[0], 16));
      const bytes = Uint8Array.from([
        ...hex("0000000167640014acb423d080000003008000001e478a1550"),
        ...hex("0000000168ef3cb0"),
        ...hex("0000016588840400ffde8636"),
        ...hex("00000001419a274208"),
      ]);
      sdcard.write("/sdcard/x264.h264", bytes);
      assert.deepEqual(splitAccessUnits(bytes, "h264").map((u) => u.byteLength), [bytes.length - 9, 9]);
      assert.equal(bytes.length - 9, 25 + 8 + 12);
      const rd = new EsReader("/sdcard/x264.h264");
      const dec = new Decoder({ codec: "h264" });
      const f = rd.read()!;
      assert.deepEqual([f.type, f.keyframe], ["I", true]);
      const [img] = dec.decode(f);
      assert.deepEqual([img.width, img.height, img.format], [64, 48, "yuv420p"]);
      img.close();
      f.close();
      const g = rd.read()!;
      assert.deepEqual([g.type, g.keyframe], ["P", false]);
      g.close();
      rd.close();
      dec.close();
    });
  });

  describe("qcam:fs: the card in memory", function () {
    it("world.reset({ sdcardSizeMb }) sizes the card; sdcard seeds it and reads it back", function () {
      world.reset({ sdcardSizeMb: 2 });
      sdcard.write("/sdcard/old.bin", new Uint8Array(1000));
      assert.deepEqual(fs.space(), { total: 2 * 1024 * 1024, free: 2 * 1024 * 1024 - 1000, available: 2 * 1024 * 1024 - 1000 });
      fs.writeFile("/tmp/t.txt", "tmp");
      fs.appendFile("/sdcard/b.txt", "x");
      assert.deepEqual(sdcard.tree(), { "/sdcard/b.txt": 1, "/sdcard/old.bin": 1000, "/tmp/t.txt": 3 });
      assert.equal(sdcard.readText("/tmp/t.txt"), "tmp");
      assert.equal(sdcard.used, 1004);
      world.sdcardSizeMb = 0.0009; // 943 bytes, fewer than are used
      assert.equal(thrown(() => fs.writeFile("/sdcard/c.bin", "x")).code, "ENOSPC", "the size applies at once");
    });

    it("app.videoPath() & co. exist on the card once asked for", function () {
      assert.equal(fs.exists("/sdcard/video"), false);
      const p = app.videoPath();
      assert.deepEqual([fs.exists(p), fs.stat(p).isDirectory], [true, true]);
    });

    it("fault fs.write: the card fails at a chosen write, after a chosen number of bytes", function () {
      world.fault("fs.write", { code: "ENOSPC", after: 1, bytesWritten: 3 });
      const f = fs.open("/sdcard/x.bin", "w");
      f.write("first");
      const e = thrown(() => f.write("second"));
      assert.deepEqual([e.code, e.errno, e.bytesWritten, e.message], ["ENOSPC", 28, 3, "write /sdcard/x.bin: No space left on device"]);
      f.write("!");
      f.close();
      assert.equal(fs.readText("/sdcard/x.bin"), "firstsec!");
    });
  });

  describe("qcam:link on virtual time", function () {
    it("frames flow while the app sleeps: framesIn follows the clock", function () {
      const cam = new Camera({ width: 64, height: 48, fps: 30 });
      const enc = new Encoder({ codec: "h264", width: 64, height: 48 });
      const sink = new EsFileSink("/sdcard/l.h264");
      const pipe = link(cam, enc, sink);
      assert.equal(world.openHandles("Pipe")[0].keepAlive, true, "a running link keeps the app alive");
      time.sleepMs(1000);
      assert.equal(pipe.stats().framesIn, 31, "captures 0..30 fell due in the first second");
      time.sleepMs(1000);
      const s = pipe.close()!;
      assert.deepEqual([s.framesIn, s.framesEncoded, s.framesOut, s.finished], [61, 61, 61, true]);
      assert.ok(s.fps > 29 && s.fps < 31, `fps ${s.fps}`);
      assert.equal(sdcard.read("/sdcard/l.h264").length, sink.bytes);
      assert.equal(world.openHandles("Pipe").length, 0);
      sink.close();
      enc.close();
      cam.close();
    });

    it("faults reach onError: the camera (capturing stops), the encoder (counted as a drop), the card", function () {
      const cam = new Camera({ width: 64, height: 48, fps: 30 });
      const enc = new Encoder({ codec: "h264", width: 64, height: 48 });
      const sink = new EsFileSink("/sdcard/f.h264");
      const errors: string[] = [];
      world.fault("video.encode", { after: 2 });
      world.fault("camera.read", { after: 5 });
      const pipe = link(cam, enc, sink, { onError: (e) => errors.push(`${e.code} ${e.message}`) });
      time.sleepMs(500);
      assert.deepEqual(errors, [], "posted: delivered at the next needExit() turn");
      app.needExit();
      assert.deepEqual(errors, ["EIO link: encoder failed: Input/output error"], "only the first error of a link");
      const s = pipe.close()!;
      assert.deepEqual([s.framesIn, s.framesEncoded, s.drops.encoder, s.finished], [5, 4, 1, true], "the camera failed on its 6th read");
      sink.close();
      enc.close();
      cam.close();
    });

    it("runApp: a recorder runs until Ctrl-C; the file on the card holds every frame", async function () {
      world.exitAt(3000);
      const r = await runApp(LINK_APP);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.elapsedMs, 3000);
      const out = JSON.parse(r.stdout) as { in: number; out: number; bytes: number; frames: number };
      assert.deepEqual([out.in, out.out, out.frames], [91, 91, 91]);
      assert.equal(sdcard.read("/sdcard/video/rec.h264").length, out.bytes);
      assert.equal(splitAccessUnits(sdcard.read("/sdcard/video/rec.h264"), "h264").length, 91);
    });

    it("runApp: a full card stops the recorder through onError", async function () {
      world.reset({ sdcardSizeMb: 0.25 });
      const r = await runApp(LINK_APP);
      assert.equal(r.code, 0);
      assert.match(r.stderr, /^error ENOSPC: link: es failed: No space left on device\n$/);
      const out = JSON.parse(r.stdout) as { encoded: number; out: number; sinkDrops: number[]; bytes: number };
      assert.equal(out.encoded, out.out + out.sinkDrops[0]);
      assert.equal(out.bytes, 0.25 * 1024 * 1024, "the card is full to the byte");
    });

    it("runApp: without onError the failure is fatal (exit 1)", async function () {
      world.reset({ sdcardSizeMb: 0.25 });
      const r = await runApp(LINK_APP, { args: ["fatal"] });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, "Fatal: link: es failed: No space left on device\n");
    });

    it("runApp: a link left running keeps the app alive until a signal", async function () {
      world.exitAt(1500);
      const r = await runApp(LINK_APP, { args: ["leave"] });
      assert.equal(r.code, 0);
      assert.equal(r.elapsedMs, 1500);
      assert.ok(sdcard.read("/sdcard/video/rec.h264").length > 0);
      assert.equal(world.openHandles("Pipe").length, 1);
    });
  });
});
