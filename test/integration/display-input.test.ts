// qcam:display and qcam:input on the sim runtime, driven through the board's
// page interface (HTTP on 127.0.0.1), and the same scenarios under runApp
// against the stubs: the poll() queue exhausted (64 kept, the rest counted),
// the long press of ok with and without an Input, the boards' panels.
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { runApp, world } from "../../build/testing/index.ts";
import { fixture, start, tmpDir } from "../helpers.ts";

const dir = tmpDir("qcam-display-apps-");
function appFile(name: string, src: string): string {
  const f = path.join(dir, `${name}.ts`);
  fs.writeFileSync(f, src);
  return f;
}

const QUEUE_APP = appFile("queue", `
import { app, time } from "qcam:app";
import { Display } from "qcam:display";
import { Input, type InputEvent } from "qcam:input";
const disp = new Display();
const input = new Input();
console.log("ready");
while (!input.touch().down && !app.needExit()) time.sleepMs(5);
const evs = input.poll();
const show = (e: InputEvent) => (e.type === "key" ? \`key \${e.key} \${e.action}\` : \`touch \${e.action} \${e.x} \${e.y}\`);
console.log(\`polled \${evs.length} dropped \${input.dropped} first \${show(evs[0])} last \${show(evs[evs.length - 1])}\`);
console.log(\`pressed \${input.isPressed("next")} touch \${JSON.stringify(input.touch())} then \${input.poll().length}\`);
input.close();
disp.close();
`);

const LONG_OK_APP = appFile("longok", `
import { app, time } from "qcam:app";
import { Display } from "qcam:display";
import { Input } from "qcam:input";
const mode = app.args[0];
const disp = new Display();
const input = mode === "take" ? new Input({ onKey: (e) => { console.log(\`key \${e.key} \${e.action}\`); return e.action === "longpress"; } }) : null;
console.log("ready");
while (!app.needExit()) time.sleepMs(5);
console.log("exit requested");
input?.close();
disp.close();
`);

const BOARD_APP = appFile("board", `
import { app } from "qcam:app";
import { Display } from "qcam:display";
const d = new Display({ rotation: Number(app.args[0] ?? 0) });
console.log(\`\${d.board} \${d.panelWidth}x\${d.panelHeight} drawn as \${d.width}x\${d.height} touch \${d.touch}\`);
d.close();
`);

const SHOW_APP = appFile("show", `
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { Display } from "qcam:display";
const disp = new Display();
const cam = new Camera({ width: 320, height: 240, fps: 30 });
const tryRead = () => { try { cam.read().close(); return "read"; } catch (e) { return (e as { code: string }).code; } };
disp.show(cam);
disp.show(cam, { fit: "fill" }); // the same camera again, another fit
time.sleepMs(300);
console.log(\`shown: \${tryRead()}, frames \${disp.stats().videoFrames > 3}\`);
disp.hide();
console.log(\`hidden: \${tryRead()}\`);
disp.show(cam);
time.sleepMs(100);
if (app.args[0] === "close") { disp.close(); console.log(\`closed: \${tryRead()}\`); cam.close(); }
else console.log("left open"); // unloading lets go of both, the display first
`);

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

describe("qcam:display and qcam:input on the sim, driven through the page's HTTP interface", function () {
  this.timeout(120_000);
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function run(file: string, args: string[], runtimeArgs: string[] = []) {
    const port = await freePort();
    const a = start("host", (await fixture(file)).image, args, ["--display-port", String(port), "--no-display-url", ...runtimeArgs]);
    children.push(a.child);
    await a.waitFor("ready");
    const post = async (q: string) => assert.equal((await fetch(`http://127.0.0.1:${port}${q}`, { method: "POST" })).status, 204, q);
    return { ...a, port, post };
  }

  const QUEUE_RESULT = "polled 64 dropped 7 first key next release last touch down 3 4\npressed false touch {\"x\":3,\"y\":4,\"down\":true} then 0\n";

  it("poll(): the queue keeps the newest 64 events and counts what it lost (runtime)", async function () {
    const a = await run(QUEUE_APP, []);
    for (let i = 0; i < 35; i++) await a.post("/key?name=next&action=press"); // 70 events
    await a.post("/touch?action=down&x=3&y=4"); // the 71st
    const r = await a.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "ready\n" + QUEUE_RESULT);
  });

  it("poll(): the same under runApp against the stubs", async function () {
    world.reset();
    world.onTurn(3, () => {
      const key = world.exposed<(k: string, a: string) => void>("input.key")!;
      for (let i = 0; i < 35; i++) {
        key("next", "press");
        key("next", "release");
      }
      world.exposed<(a: string, x: number, y: number) => void>("input.touch")!("down", 3, 4);
    });
    const r = await runApp(QUEUE_APP);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "ready\n" + QUEUE_RESULT);
  });

  it("a long press of ok requests exit with a Display open and no Input (runtime and stub)", async function () {
    const a = await run(LONG_OK_APP, ["display"]);
    await a.post("/key?name=ok&action=down");
    const r = await a.done; // the runtime's 1 s long press
    await fetch(`http://127.0.0.1:${a.port}/key?name=ok&action=up`, { method: "POST" }).catch(() => {});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "ready\nexit requested\n");

    world.reset();
    world.onTurn(3, () => world.exposed<(k: string, a: string) => void>("input.key")!("ok", "longpress"));
    const s = await runApp(LONG_OK_APP, { args: ["display"] });
    assert.equal(s.stdout, "ready\nexit requested\n");
  });

  it("an Input whose onKey returns true for it takes the long press: no exit", async function () {
    const a = await run(LONG_OK_APP, ["take"]);
    await a.post("/key?name=ok&action=down");
    await a.waitFor("key ok longpress");
    await a.post("/key?name=ok&action=up");
    await a.waitFor("key ok release");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(a.child.exitCode, null, "still running");
    a.child.kill("SIGINT");
    const r = await a.done;
    assert.equal(r.stdout, "ready\nkey ok press\nkey ok longpress\nkey ok release\nexit requested\n");
  });

  for (const [board, w, h, touch] of [["maixcam", 552, 368, true], ["maixcam-pro", 640, 480, true], ["k230-lcd", 800, 480, true], ["k230-hdmi", 1280, 720, false]] as const) {
    it(`--board ${board}: a ${w}x${h} panel; rotation 90 turns what the app draws on`, async function () {
      for (const rot of ["0", "90"]) {
        const image = (await fixture(BOARD_APP)).image;
        const a = start("host", image, [rot], ["--board", board, "--no-display-url"]);
        children.push(a.child);
        const r = await a.done;
        assert.equal(r.code, 0, r.stderr);
        const [dw, dh] = rot === "0" ? [w, h] : [h, w];
        assert.equal(r.stdout, `${board} ${w}x${h} drawn as ${dw}x${dh} touch ${touch}\n`);
      }
    });
  }

  it("an unknown --board: new Display() says which boards there are", async function () {
    const a = start("host", (await fixture(BOARD_APP)).image, [], ["--board", "pi", "--no-display-url"]);
    children.push(a.child);
    const r = await a.done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /RangeError: Display: unknown board "pi" \(known: maixcam, maixcam-pro, k230-lcd, k230-hdmi\)/);
  });

  for (const flavor of ["host", "asan"] as const)
    for (const how of ["close", "unload"])
      it(`show(camera) on the ${flavor} runtime: the camera is busy while shown, free after hide() or close(); ${how === "close" ? "closed by the app" : "left to the unload"}`, async function () {
        const a = start(flavor, (await fixture(SHOW_APP)).image, [how], ["--no-display-url"]);
        children.push(a.child);
        const r = await a.done;
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error/);
        assert.equal(r.stdout, `shown: ERR_BUSY, frames true\nhidden: read\n${how === "close" ? "closed: read" : "left open"}\n`);
      });

  it("the page's interface refuses what it does not know", async function () {
    const a = await run(QUEUE_APP, []);
    const q = async (m: string, p: string) => (await fetch(`http://127.0.0.1:${a.port}${p}`, { method: m })).status;
    assert.equal(await q("POST", "/key?name=enter&action=press"), 400);
    assert.equal(await q("POST", "/key?name=ok&action=hold"), 400);
    assert.equal(await q("POST", "/touch?action=down&x=-1&y=2"), 400);
    assert.equal(await q("GET", "/nothing"), 404);
    assert.equal(await q("DELETE", "/"), 405);
    const info = await (await fetch(`http://127.0.0.1:${a.port}/info`)).json();
    assert.equal(info.board, "maixcam");
    const png = Buffer.from(await (await fetch(`http://127.0.0.1:${a.port}/screenshot.png`)).arrayBuffer());
    assert.equal(png.subarray(0, 8).toString("latin1"), "\x89PNG\r\n\x1a\n");
  });
});
