// The qcam:display stub's display list (build/testing/display-list.ts, displayList() in
// qcam:testing): what tests read back of what an app drew, and world.board.
import assert from "node:assert/strict";
import path from "node:path";
import { Display } from "qcam:display";
import { displayList, runApp, world } from "qcam:testing";
import { ROOT } from "../../build/paths.ts";

describe("testing kit: the display stub's display list", function () {
  beforeEach(() => world.reset());
  afterEach(() => world.restore());

  it("operations wait for flush(); a frame carries them with flush()'s region", function () {
    const d = new Display();
    d.clear(0xff000010);
    d.text("Hello", 10, 20, 0xffffffff, 20);
    const list = displayList();
    assert.equal(list.panel.length, 0, "nothing on the panel before flush()");
    assert.equal(list.pending.length, 2);
    const r = d.flush();
    assert.deepEqual(r, { x: 0, y: 0, width: 552, height: 368 });
    assert.deepEqual(list.lastFrame!.rect, r);
    assert.deepEqual(list.lastFrame!.ops.map((o) => o.op), ["clear", "text"]);
    const t = list.texts()[0];
    assert.deepEqual([t.text, t.box.x, t.box.y, t.box.width, t.box.height, t.size], ["Hello", 10, 20, d.measureText("Hello", 20).width, d.measureText("Hello", 20).height, 20]);
    assert.deepEqual(t.rect, { x: 8, y: 20, width: t.box.width + 4, height: t.box.height }, "the region draw.c touches");
    d.close();
  });

  it("an opaque square fill hides and drops what lies inside it; translucent and rounded ones hide less", function () {
    const d = new Display();
    d.text("under", 2, 2, 0xffffffff); // in the corner a rounded fill leaves
    d.text("partly", 100, 10, 0xffffffff);
    d.flush();
    d.fillRect(0, 0, 90, 40, 0x80000000); // translucent: "under" still shows
    d.flush();
    assert.deepEqual(displayList().texts().map((t) => t.text), ["under", "partly"]);
    d.fillRect(0, 0, 90, 40, 0xff000000, 12); // rounded: its corner lets "under" through
    d.flush();
    assert.deepEqual(displayList().texts().map((t) => t.text), ["under", "partly"]);
    d.fillRect(0, 0, 90, 40, 0xff000000);
    d.flush();
    assert.deepEqual(displayList().texts().map((t) => t.text), ["partly"]);
    assert.ok(!displayList().panel.some((o) => o.op === "text" && o.text === "under"), "dropped");
    d.close();
  });

  it("clear() starts the panel's list again; off-screen drawing records nothing; turning empties it", function () {
    const d = new Display();
    d.text("a", 0, 0, 0xffffffff);
    d.flush();
    d.clear();
    d.fillRect(600, 0, 10, 10, 0xffffffff); // off the 552-wide screen
    d.flush();
    assert.deepEqual(displayList().panel.map((o) => o.op), ["clear"]);
    assert.equal(d.flush(), null);
    assert.equal(displayList().frameCount, 2);
    d.setRotation(90);
    assert.deepEqual([displayList().width, displayList().height, displayList().panel.length], [368, 552, 0]);
    d.close();
    assert.equal(displayList().frameCount, 2, "readable after close()");
  });

  it("world.reset({ board }) opens that panel, as --board does; an unknown board is refused as the runtime refuses it", function () {
    world.reset({ board: "k230-hdmi" });
    const d = new Display();
    assert.deepEqual([d.board, d.width, d.height, d.touch], ["k230-hdmi", 1280, 720, false]);
    d.close();
    world.reset({ board: "pi" });
    assert.throws(() => new Display(), (e: Error & { code?: string }) =>
      e instanceof RangeError && e.code === "ERR_INVALID_ARG" && e.message === `Display: unknown board "pi" (known: maixcam, maixcam-pro, k230-lcd, k230-hdmi)`);
  });

  it("runApp: an app importing qcam/ui (ui_demo) driven by keys on the fake clock", async function () {
    world.reset({ args: ["--targets"] });
    const key = (k: string) => world.exposed<(k: string, a: string) => void>("input.key")!(k, "press");
    world.at(100, () => key("option"));
    world.at(200, () => key("ok"));
    world.at(300, () => key("right"));
    world.at(400, () => key("option"));
    world.exitAt(5000);
    const r = await runApp(path.join(ROOT, "app", "examples", "ui_demo.ts"));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ui ready on maixcam 552x368\n[^]*screen Menu\n[^]*screen Settings\n[^]*set resolution 720p\n[^]*screen Menu\n/);
    assert.ok(displayList().texts().some((t) => t.text === "Settings"), "the menu as last drawn");
  });
});
