// The MaixPy and K230 examples, ported to qcam (app/examples/), run as a user
// would run them; every output judged by ffprobe and a full ffmpeg decode.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { runtimeCommand } from "../../build/run.ts";
import net from "node:net";
import { assertDecodesClean, fixture, probeStream, spawnChild, spawnSyncChild, start, tmpDir, assertVlcReads } from "../helpers.ts";

const EXAMPLES = path.join(ROOT, "app", "examples");

function runExample(name: string, sdcard: string, args: string[] = [], target: "host" | "riscv64" = "host") {
  return fixture(path.join(EXAMPLES, `${name}.ts`), target).then((built) => {
    const cmd = runtimeCommand(target, built.image, { args, sdcard });
    const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120000 });
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    return r.stdout;
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A PNG's RGBA pixels, decoded by ffmpeg. */
function pngPixels(png: Buffer): { w: number; h: number; at: (x: number, y: number) => number[] } {
  const dir = tmpDir("qcam-png-");
  const file = path.join(dir, "a.png");
  fs.writeFileSync(file, png);
  const probe = spawnSyncChild("ffprobe", ["-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", file], { encoding: "utf8" });
  const [w, h] = probe.stdout.trim().split(",").map(Number);
  const r = spawnSyncChild("ffmpeg", ["-v", "error", "-i", file, "-f", "rawvideo", "-pix_fmt", "rgba", "-"], { maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, String(r.stderr));
  return { w, h, at: (x, y) => [...r.stdout.subarray((y * w + x) * 4, (y * w + x) * 4 + 3)] };
}

function judge(file: string, codec: "h264" | "hevc", width: number, height: number): number {
  const p = probeStream(file);
  assert.deepEqual([p.codec, p.width, p.height], [codec, width, height], file);
  assertDecodesClean(file);
  if (file.endsWith(".ts")) assertVlcReads(file, { codec, width, height, frames: p.frames });
  return p.frames;
}

describe("examples (app/examples)", function () {
  const sd = tmpDir("qcam-examples-");

  // How many frames 2 s give depends on how fast this machine encodes (the
  // example reads the newest picture each turn): judged is that every frame
  // the example says it wrote is in the file and decodes.
  it("1. MaixPy record 2 s of H.265: 640x480, every frame it wrote", async function () {
    const out = await runExample("maixpy_record_h265", sd);
    const n = Number(out.match(/wrote (\d+) frames/)?.[1]);
    assert.ok(n >= 1, out);
    assert.equal(judge(path.join(sd, "video", "output.h265"), "hevc", 640, 480), n);
  });

  it("2. MaixPy bound mode: encoder bound to the camera, captures available", async function () {
    const out = await runExample("maixpy_bind_camera", sd);
    const [, encoded, written, captured] = out.match(/encoded (\d+) frames, wrote (\d+), looked at (\d+) captures/)!.map(Number);
    assert.equal(encoded, written);
    assert.ok(written >= 1 && captured >= 1, out);
    assert.equal(judge(path.join(sd, "video", "bound.h265"), "hevc", 640, 480), written);
  });

  for (const [file, codec] of [["test.264", "h264"], ["test.265", "hevc"]] as const) {
    it(`3. K230 bind camera to encoder, save 200 frames: ${file}`, async function () {
      const out = await runExample("k230_bind_venc", sd, [`/sdcard/${file}`, "200"]);
      assert.match(out, /200 frames to/);
      assert.equal(judge(path.join(sd, file), codec, 1280, 720), 200);
    });
  }

  it("4. K230 send frames to the encoder yourself: 800x480, 100 frames", async function () {
    const out = await runExample("k230_venc_pull", sd);
    assert.match(out, /^sent 100 frames, 4 keyframes/);
    assert.equal(judge(path.join(sd, "pull.264"), "h264", 800, 480), 100);
  });

  for (const file of ["test.264", "test.265"]) {
    it(`5. K230 decode ${file}: every frame, count and size`, async function () {
      const out = await runExample("k230_vdec", sd, [`/sdcard/${file}`]);
      assert.match(out, new RegExp(`^decoded 200 pictures of 1280x720 from /sdcard/${file.replace(".", "\\.")}`));
    });
  }

  it("6. K230 Mp4Container: 200 frames of 720p H.265 with G.711 mu-law audio in one MP4", async function () {
    const out = await runExample("k230_mp4_muxer", sd, ["/sdcard/examples/muxer.mp4", "200"]);
    const m = out.match(/mp4_muxer_test: (\d+) video frames, (\d+) audio frames, ([\d.]+) s to \/sdcard\/examples\/muxer\.mp4/);
    assert.ok(m, out);
    assert.equal(Number(m[1]), 200);
    const file = path.join(sd, "examples", "muxer.mp4");
    assert.equal(judge(file, "hevc", 1280, 720), 200);
    const r = spawnSyncChild("ffprobe", ["-v", "error", "-select_streams", "a", "-show_entries", "stream=codec_name,sample_rate", "-of", "csv=p=0", file], { encoding: "utf8" });
    assert.equal(r.stdout.trim(), "pcm_mulaw,8000");
  });

  it("6b. K230 MP4 demuxer: the Mp4Container file's tracks, every frame decoded, all audio samples", async function () {
    const out = await runExample("k230_mp4_demuxer", sd, ["/sdcard/examples/muxer.mp4"]);
    assert.match(out, /^video track 1: codec h265, 1280x720, 200 frames\naudio track 2: codec ulaw, 1 channel\(s\), 8000 Hz, \d+ frames\n/);
    const m = out.match(/demuxed (\d+) video frames \((\d+) pictures decoded\) and (\d+) audio samples in ([\d.]+) s/);
    assert.ok(m, out);
    assert.deepEqual([Number(m[1]), Number(m[2])], [200, 200]);
    const r = spawnSyncChild("ffprobe", ["-v", "error", "-select_streams", "a", "-show_entries", "stream=duration_ts", "-of", "csv=p=0", path.join(sd, "examples", "muxer.mp4")], { encoding: "utf8" });
    assert.equal(Number(m[3]), Number(r.stdout.trim()), "every audio sample ffprobe counts");
  });

  for (const codec of ["h264", "h265"] as const) {
    it(`7. K230 vi_bind_venc_mp4_test: 200 frames into a fragmented MP4 (${codec})`, async function () {
      const out = await runExample("k230_vi_bind_venc_mp4", sd, [`/sdcard/examples/venc_${codec}.mp4`, codec]);
      assert.match(out, /venc_test stop: 200 frames \(\d+ IDR\), \d+ fragments/);
      const file = path.join(sd, "examples", `venc_${codec}.mp4`);
      assert.equal(judge(file, codec === "h264" ? "h264" : "hevc", 1280, 720), 200);
      assert.ok(fs.readFileSync(file).includes(Buffer.from("moof")), "fragmented (finalize: false)");
    });
  }

  // The examples that read a file, run first on an empty card: they record their input first.
  for (const [args, file, codec] of [[[], "test.265", "h265"], [["/sdcard/clips/first.264"], "clips/first.264", "h264"]] as const) {
    it(`empty card: K230 decode ${args[0] ?? "(default /sdcard/test.265)"} records its stream first, then decodes it`, async function () {
      const empty = tmpDir("qcam-examples-empty-");
      const out = await runExample("k230_vdec", empty, [...args]);
      assert.match(out, new RegExp(`^/sdcard/${file.replace(".", "\\.")} is not on the card: recording 60 frames into it first \\(as k230_bind_venc\\.ts does\\)\n`));
      assert.match(out, new RegExp(`\ndecoded 60 pictures of 1280x720 from /sdcard/${file.replace(".", "\\.")} \\(${codec}\\)\n$`));
      assert.equal(judge(path.join(empty, file), codec === "h264" ? "h264" : "hevc", 1280, 720), 60);
    });
  }

  it("empty card: K230 MP4 demuxer records its MP4 first (as k230_mp4_muxer.ts would), then demuxes every frame", async function () {
    const empty = tmpDir("qcam-examples-empty-");
    const out = await runExample("k230_mp4_demuxer", empty);
    assert.match(out, /^\/sdcard\/examples\/test\.mp4 is not on the card: recording 60 frames into it first \(as k230_mp4_muxer\.ts does\)\nvideo track 1: codec h265, 1280x720, 60 frames\naudio track 2: codec ulaw, /);
    const m = out.match(/demuxed (\d+) video frames \((\d+) pictures decoded\) and (\d+) audio samples/);
    assert.ok(m, out);
    assert.deepEqual([Number(m[1]), Number(m[2])], [60, 60]);
    assert.ok(Number(m[3]) > 0, out);
    assert.equal(judge(path.join(empty, "examples", "test.mp4"), "hevc", 1280, 720), 60);
  });

  it("7. Tegra camera recorder, board camera: its defaults (640x480, 30 fps, 5 s, output.ts, \"TX2 DEMO\") as MPEG-TS", async function () {
    this.timeout(180000);
    const out = await runExample("tegra_cam_rec", sd);
    const m = out.match(/^recorded (\d+) frames of 640x480 from the board camera to \/sdcard\/video\/output\.ts \((\d+) captured\)$/m);
    assert.ok(m, out);
    assert.equal(Number(m[2]), 150, "5 s at 30 fps");
    assert.equal(judge(path.join(sd, "video", "output.ts"), "h264", 640, 480), Number(m[1]));
    const small = await runExample("tegra_cam_rec", sd, ["--width", "320", "--height", "240", "--fps", "15", "--rec", "2", "--ts", "/sdcard/tegra/small.ts", "--text", "qcam %H:%M:%S"]);
    assert.match(small, /^recorded \d+ frames of 320x240 from the board camera to \/sdcard\/tegra\/small\.ts \(30 captured\)$/m);
    assert.equal(judge(path.join(sd, "tegra", "small.ts"), "h264", 320, 240), Number(/^recorded (\d+)/m.exec(small)![1]));
  });

  it("7. Tegra camera recorder, --rtsp --uri: an IP camera (our RtspServer) decoded, stamped, encoded to TS", async function () {
    this.timeout(180000);
    const server = await fixture("rtsp");
    const cmd = runtimeCommand("host", server.image, { args: ["codec=h265", "clients=1", "frames=300"], sdcard: tmpDir("qcam-examples-cam-") });
    const srv = spawnChild(cmd[0], cmd.slice(1), { timeoutMs: 170000 });
    try {
      await srv.waitFor(/^url (\S+)$/m, 60000);
      const url = /^url (\S+)$/m.exec(srv.output().stdout)![1];
      const out = await runExample("tegra_cam_rec", sd, ["--rtsp", "--uri", url, "--latency", "1000", "--rec", "2", "--ts", "ip.ts"]);
      const m = out.match(/^recorded (\d+) frames of 640x480 from (\S+) to \/sdcard\/video\/ip\.ts$/m);
      assert.ok(m, out);
      assert.equal(m[2], url);
      const n = Number(m[1]);
      assert.ok(n >= 55 && n <= 61, `2 s of a 30 fps camera by its timestamps: ${n}`);
      assert.equal(judge(path.join(sd, "video", "ip.ts"), "h264", 640, 480), n);
    } finally {
      srv.kill();
    }
  });

  it("7. Tegra camera recorder: --usb is refused with a clear message, as is a bad command line", async function () {
    const built = await fixture(path.join(EXAMPLES, "tegra_cam_rec.ts"));
    const cases = [
      { args: ["--usb", "--vid", "1"], line: /^app exit \(2\): --usb --vid 1: qcam has no USB camera source on sim; use the board camera \(no option\) or an IP camera \(--rtsp --uri URI\)\n$/ },
      { args: ["--rtsp"], line: /^app exit \(2\): --rtsp needs --uri rtsp:\/\/\.\.\.\n$/ },
      { args: ["--fps", "x"], line: /^app exit \(2\): --fps must be a whole number, not x\n$/ },
      { args: ["--size", "2"], line: /^app exit \(2\): unknown option --size\nusage: tegra_cam_rec / },
    ];
    for (const c of cases) {
      const cmd = runtimeCommand("host", built.image, { args: c.args, sdcard: tmpDir("qcam-examples-tegra-") });
      const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 60000 });
      assert.equal(r.status, 2, `${c.args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, c.line, c.args.join(" "));
    }
  });

  it("empty card: an input that cannot be made is one line naming the example that makes it, no stack", async function () {
    // riscv64 has no encoder (and no replay stream on an empty card); a name without a codec says so.
    const cases = [
      { name: "k230_vdec", target: "riscv64", args: [], line: /^app exit \(1\): no \/sdcard\/test\.265 \(this build has no h265 encoder: .*\): make one with `npx qcam run app\/examples\/k230_bind_venc\.ts -- \/sdcard\/test\.265`\n$/ },
      { name: "k230_mp4_demuxer", target: "riscv64", args: [], line: /^app exit \(1\): no \/sdcard\/examples\/test\.mp4 \(.*\): make one with `npx qcam run app\/examples\/k230_mp4_muxer\.ts -- \/sdcard\/examples\/test\.mp4`\n$/ },
      { name: "k230_vdec", target: "host", args: ["/sdcard/clip.bin"], line: /^app exit \(1\): no \/sdcard\/clip\.bin, and its name does not say which stream to record into it \(\.264 or \.265\)\n$/ },
    ] as const;
    for (const c of cases) {
      const built = await fixture(path.join(EXAMPLES, `${c.name}.ts`), c.target);
      const cmd = runtimeCommand(c.target, built.image, { args: [...c.args], sdcard: tmpDir("qcam-examples-empty-") });
      const r = spawnSyncChild(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120000 });
      assert.equal(r.status, 1, `${c.name} on ${c.target}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, c.line, `${c.name} on ${c.target}`);
    }
  });

  it("ui_demo (the UI kit): keys and touches through the sim page walk its screens, settings and dialogs", async function () {
    this.timeout(120_000);
    const port = await freePort();
    const a = start("host", (await fixture(path.join(EXAMPLES, "ui_demo.ts"))).image, ["--targets"], ["--display-port", String(port), "--no-display-url"]);
    const out = () => a.output().stdout;
    await a.waitFor("ui ready on maixcam 552x368");
    let from = out().length;
    const step = async (action: string, expect: RegExp) => {
      const r = await fetch(`http://127.0.0.1:${port}${action}`, { method: "POST" });
      assert.equal(r.status, 204, action);
      await a.waitFor(new RegExp(`[^]{${from}}[^]*${expect.source}`), 20_000);
      from = out().length;
    };
    // a new screen or dialog prints its name, then its touch targets: wait for both lines whole
    const shown = (line: string) => new RegExp(`${line}\ntargets [^\n]*\n`);
    const key = (k: string, expect: RegExp) => step(`/key?name=${k}&action=press`, expect);
    const targets = () => {
      const lines = out().trimEnd().split("\n").filter((l) => l.startsWith("targets "));
      return new Map(lines[lines.length - 1].slice(8).split(" ").map((t) => {
        const [name, r] = t.split("@");
        const [x, y, w, h] = r.split(",").map(Number);
        return [name, [x + (w >> 1), y + (h >> 1)]] as const;
      }));
    };
    const tap = async (name: string, expect: RegExp) => {
      const [x, y] = targets().get(name) ?? assert.fail(`no target ${name} in ${[...targets().keys()].join(" ")}`);
      await step(`/touch?action=down&x=${x}&y=${y}`, /$/);
      await step(`/touch?action=up&x=${x}&y=${y}`, expect);
    };
    const screenshot = async () => pngPixels(Buffer.from(await (await fetch(`http://127.0.0.1:${port}/screenshot.png`)).arrayBuffer()));
    // home: the live preview under a transparent overlay, a black status bar on top
    const home = await screenshot();
    assert.deepEqual([home.w, home.h], [552, 368]);
    assert.deepEqual(home.at(276, 3), [0, 0, 0], "the status bar");
    const preview = home.at(276, 150);
    assert.ok(preview.join() !== "0,0,0" && preview.join() !== "16,22,30", `the camera shows under the home screen: ${preview}`);
    // keys alone
    await key("option", shown("screen Menu"));
    const menu = await screenshot();
    assert.deepEqual(menu.at(276, 366), [0x10, 0x16, 0x1e], "an opaque menu: the theme's background");
    await key("ok", shown("screen Settings"));
    await key("right", /set resolution 720p\n/);
    for (let i = 0; i < 3; i++) await key("next", /$/);
    await key("right", /set bitrate 9\n/);
    await key("next", /$/);
    await key("ok", /set audio off\n/);
    await key("option", shown("screen Menu"));
    // touch alone
    await tap("item:1", shown("screen Recordings"));
    await tap("item:0", shown("dialog"));
    await tap("dialog:confirm", shown("deleted rec_20260101_120000\\.mp4\nscreen Recordings"));
    await tap("back", shown("screen Menu"));
    await tap("item:2", shown("screen Storage"));
    await tap("item:2", shown("dialog")); // Check the card: an alert
    await tap("dialog:confirm", shown("checked\nscreen Storage"));
    await tap("back", shown("screen Menu"));
    await tap("back", shown("screen home"));
    a.signal("SIGINT");
    const r = await a.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
  });

  it("1 on riscv64 (qemu): the same app with the replay encoder", async function () {
    const rv = tmpDir("qcam-examples-rv-");
    fs.mkdirSync(path.join(rv, "qcam"), { recursive: true });
    fs.copyFileSync(path.join(sd, "video", "output.h265"), path.join(rv, "qcam", "replay.h265"));
    const out = await runExample("maixpy_record_h265", rv, [], "riscv64");
    const n = Number(out.match(/wrote (\d+) frames/)?.[1]);
    assert.ok(n >= 1, out);
    assert.equal(judge(path.join(rv, "video", "output.h265"), "hevc", 640, 480), n);
  });
});
