// Hot reload under load (docs/dev-link.md, section 3.1): an app holding a
// camera, an encoder, a link and an Mp4Writer, reloaded 20 times in a row on
// the ASan board. Every generation's recording plays (ffprobe), each
// generation learns it is being reloaded (app.exitReason()) and gets the
// state the one before handed over (app.reloadState()), and the runtime ends
// with ASan/LSan silent: no leak, no bad access, over all 21 generations.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../../build/app-build.ts";
import { BoardLink } from "../../build/devlink/link.ts";
import { ROOT } from "../../build/paths.ts";
import { childPids, probeStream, spawnChild, tmpDir } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");
const RELOADS = 20;

async function until(what: string, f: () => boolean, timeoutMs = 60000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The recorder in small: generation n records gen-n.mp4 until it is asked to stop. */
const recorder = (edit: string) => `import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { link } from "qcam:link";
import { Mp4Writer } from "qcam:mp4";
import { Encoder } from "qcam:video";

// ${edit}
const before = app.reloadState() as { gen: number; codec: string } | null;
const gen = (before?.gen ?? 0) + 1;
const codec = before?.codec ?? "h264";
app.setReloadState({ gen, codec });
const cam = new Camera({ width: 320, height: 240, fps: 30 });
const enc = new Encoder({ codec, width: 320, height: 240, fps: 30, gop: 10, bitrate: 400_000 });
const mp4 = new Mp4Writer(app.videoPath() + "/gen-" + gen + ".mp4", { video: enc });
const pipe = link(cam, enc, mp4);
console.log("gen " + gen + " recording (" + (before ? "carried" : "fresh") + ")");
let said = false;
while (!app.needExit()) {
  if (!said && pipe.stats().framesOut >= 10) {
    said = true;
    console.log("gen " + gen + " has frames");
  }
  time.sleepMs(5);
}
const reason = app.exitReason();
pipe.close();
mp4.close();
enc.close();
cam.close();
console.log("gen " + gen + " ended: " + reason);
`;

describe("dev link: hot reload of a recording app, 20 times, on the ASan board", function () {
  this.timeout(600000);

  it("every generation's recording plays, the state is carried, exitReason() says reload; ASan/LSan silent", async function () {
    const sdcard = tmpDir("qcam-devlink-reload-sd-");
    const board = spawnChild(process.execPath, [CLI, "board", "--asan", "--sdcard", sdcard], { cwd: ROOT, stdin: "pipe", group: true });
    await until("the board's path", () => /board: (\S+)/.test(board.output().stdout), 120000);
    const port = /board: (\S+)/.exec(board.output().stdout)![1];
    const images: { bytes: Buffer; hash: string }[] = [];
    for (const edit of ["version A", "version B"]) {
      const dir = tmpDir("qcam-rl-");
      fs.writeFileSync(path.join(dir, "main.ts"), recorder(edit));
      const bytes = fs.readFileSync((await buildApp(dir, { typecheck: false })).image);
      images.push({ bytes, hash: createHash("sha256").update(bytes).digest("hex") });
    }
    let text = "";
    const link = await BoardLink.open(port, { console: (_s, d) => (text += d.toString("utf8")) });
    try {
      await link.hello();
      for (const im of images) await link.push(im.bytes);
      // Generation 1, then 20 reloads, each a saved edit: A, B, A, ...
      for (let gen = 1; gen <= RELOADS + 1; gen++) {
        await link.run(images[(gen - 1) % 2].hash);
        await until(`generation ${gen} recording`, () => text.includes(`gen ${gen} has frames`));
      }
      const exited = link.waitEvent((e) => e.event === "exited", 30000);
      await link.stop();
      assert.equal((await exited).reason, "stop");
      await until("the last generation's end", () => text.includes(`gen ${RELOADS + 1} ended`));
    } finally {
      await link.close();
    }
    for (let gen = 1; gen <= RELOADS + 1; gen++) {
      assert.match(text, new RegExp(`^gen ${gen} recording \\(${gen === 1 ? "fresh" : "carried"}\\)$`, "m"));
      assert.match(text, new RegExp(`^gen ${gen} ended: ${gen <= RELOADS ? "reload" : "stop"}$`, "m"), `generation ${gen}`);
      const file = path.join(sdcard, "video", `gen-${gen}.mp4`);
      const st = probeStream(file);
      assert.equal(st.codec, "h264", file);
      assert.equal(st.width, 320);
      assert.ok(st.frames >= 10, `${file}: ${st.frames} frames`);
    }
    assert.doesNotMatch(text, /Uncaught|Interrupted|ERR_/);
    // The runtime ends (SIGTERM, as the board's power-off): LSan checks every allocation of all generations.
    const [runtime] = childPids(board.child.pid!, "qcam-runtime");
    assert.ok(runtime, "the board's runtime");
    const mark = board.output().stderr.length;
    process.kill(runtime, "SIGTERM");
    await until("the runtime's end", () => /the runtime exited \(([^)]*)\)/.test(board.output().stderr.slice(mark)));
    const tail = board.output().stderr.slice(mark);
    assert.doesNotMatch(`${board.output().stderr}${text}`, /Sanitizer|runtime error:/);
    assert.match(tail, /the runtime exited \(code 0\)/, tail);
    board.signal("SIGTERM");
    await board.done;
  });
});
