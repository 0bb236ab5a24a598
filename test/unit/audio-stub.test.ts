// The qcam:audio stub on the world's clock: what only the stub side can show
// — exact virtual timing, scripted faults, the in-memory card, a link of
// audio for minutes of virtual time in milliseconds. What both sides must
// agree on is in test/contract/audio.contract.ts.
import assert from "node:assert/strict";
import { app, time } from "qcam:app";
import { AudioEncoder, AudioIn, g711Decode } from "qcam:audio";
import { EsFileSink, link } from "qcam:link";
import { sdcard, world } from "qcam:testing";
import { thrown } from "../helpers.ts";

type Err = Error & { code?: string; errno?: number };

describe("testing kit: the qcam:audio stub", function () {
  beforeEach(() => world.reset());
  afterEach(() => world.restore());

  it("read() waits exactly until the next block is complete; blocks come out in order", function () {
    const mic = new AudioIn({ frameMs: 20 });
    const a = mic.read()!;
    assert.deepEqual([a.seq, time.ticksUs()], [0, 20_000], "block 0 is complete 20 ms after the start");
    time.sleepMs(50); // blocks 1 and 2 fall due meanwhile
    const b = mic.read()!, c = mic.read()!, d = mic.read()!;
    assert.deepEqual([b.seq, c.seq, d.seq], [1, 2, 3], "none skipped");
    assert.equal(time.ticksUs(), 80_000, "block 3 was waited for");
    assert.deepEqual(mic.stats(), { captured: 4, dropped: 0, delivered: 4 });
    for (const p of [a, b, c, d]) p.close();
    mic.close();
    assert.equal(world.openHandles("AudioIn").length + world.openHandles("Pcm").length, 0);
  });

  it("the ring: a reader 1 s late gets the newest `buffers` blocks, the rest counted as dropped", function () {
    const mic = new AudioIn({ frameMs: 10, buffers: 5 });
    time.sleepMs(1000); // 100 blocks due
    assert.deepEqual(mic.stats(), { captured: 100, dropped: 95, delivered: 0 });
    const p = mic.read()!;
    assert.equal(p.seq, 95);
    p.close();
    mic.close();
  });

  it("every block held: ERR_NO_BUFFER after frameMs + 0.5 s of virtual time", function () {
    const mic = new AudioIn({ frameMs: 10, buffers: 2 });
    const held = [mic.read()!, mic.read()!];
    const t0 = time.ticksUs();
    assert.equal(thrown(() => mic.read()).code, "ERR_NO_BUFFER");
    assert.equal(time.ticksUs() - t0, 10_000 + 500_000);
    held.forEach((p) => p.close());
    mic.close();
  });

  it("fault audio.read: read() throws EIO; in a link, onError hears 'link: microphone failed'", function () {
    world.install();
    world.fault("audio.read", { message: "unplugged" });
    const mic = new AudioIn();
    const e = thrown(() => mic.read());
    assert.deepEqual([e.code, e.errno, e.message], ["EIO", 5, "audio read: unplugged: Input/output error"]);
    world.fault("audio.read", { code: "ENODEV", after: 3 });
    const enc = new AudioEncoder({ codec: "alaw" });
    const out = new EsFileSink("/sdcard/mic.alaw");
    const errors: Err[] = [];
    const pipe = link(mic, enc, out, { onError: (x) => errors.push(x) });
    time.sleepMs(200);
    app.needExit();
    assert.deepEqual(errors.map((x) => [x.code, x.message]), [["ENODEV", "link: microphone failed: No such device"]]);
    const s = pipe.close()!;
    assert.deepEqual([s.framesIn, s.sinkFrames[0], s.finished], [3, 3, true], "three blocks, then the microphone stopped");
    for (const x of [out, enc, mic]) x.close();
  });

  it("a link records ten minutes of audio in milliseconds; the card holds every block", function () {
    world.install();
    const mic = new AudioIn({ sampleRate: 8000, frameMs: 20, toneHz: 1000 });
    const enc = new AudioEncoder({ codec: "ulaw" });
    const out = new EsFileSink("/sdcard/ten.ulaw");
    const pipe = link(mic, enc, out);
    const t0 = time.ticksMs();
    time.sleepMs(600_000);
    assert.equal(time.ticksMs() - t0, 600_000, "ten minutes on the world's clock");
    const s = pipe.close()!;
    assert.deepEqual([s.framesIn, s.framesEncoded, s.sinkFrames[0], s.drops.source], [30_000, 30_000, 30_000, 0]);
    const bytes = sdcard.read("/sdcard/ten.ulaw");
    assert.equal(bytes.length, 600 * 8000);
    const pcm = g711Decode(bytes.subarray(0, 8), "ulaw");
    // 1 kHz at 8 kHz: 0, +, full, +, 0, -, -full, -
    assert.deepEqual([Math.sign(pcm[0]), Math.sign(pcm[2]), Math.sign(pcm[4]), Math.sign(pcm[6])], [0, 1, 0, -1]);
    for (const x of [out, enc, mic]) x.close();
  });
});
