// qcam:display's contract: the C module (its sim backend) and the stub agree
// on sizes, one display at a time, argument checks and messages, what flush()
// carries (the damage arithmetic) and text metrics (the same font, measured).
import { Camera } from "qcam:camera";
import { Display } from "qcam:display";
import { contract, deepEq, eq, ok, throws } from "./kit.ts";

const CLOSED = { name: "TypeError", code: "ERR_CLOSED", message: "Display is closed" };

export default contract("qcam:display", (t) => {
  t.test("the maixcam panel by default: 552x368, touch, rotation 0, backlight 100", () => {
    const d = new Display();
    try {
      deepEq([d.board, d.width, d.height, d.panelWidth, d.panelHeight, d.touch, d.rotation, d.backlight],
        ["maixcam", 552, 368, 552, 368, true, 0, 100]);
      ok(/^http:\/\/127\.0\.0\.1:\d+\/$/.test(d.url), `url ${d.url}`);
    } finally {
      d.close();
    }
  });

  t.test("one Display at a time: a second throws EBUSY until the first is closed", () => {
    const d = new Display();
    try {
      throws(() => new Display(), { name: "Error", code: "EBUSY", message: /^the display is already open/ });
    } finally {
      d.close();
    }
    new Display().close();
  });

  t.test("options: unknown keys, rotation a multiple of 90, backlight 0..100", () => {
    throws(() => new Display({ rotate: 90 } as never), { name: "TypeError", code: "ERR_INVALID_ARG", message: 'unknown Display option "rotate" (known: rotation, backlight)' });
    throws(() => new Display({ rotation: 45 }), { name: "RangeError", code: "ERR_INVALID_ARG", message: "Display rotation must be a multiple of 90 from 0 to 270, not 45" });
    throws(() => new Display({ backlight: "x" as never }), { name: "TypeError", code: "ERR_INVALID_ARG", message: 'Display backlight must be an integer from 0 to 100, not "x"' });
    throws(() => new Display(5 as never), { name: "TypeError", code: "ERR_INVALID_ARG", message: "Display options must be an object" });
    const d = new Display({ rotation: 90, backlight: 40 });
    try {
      deepEq([d.width, d.height, d.rotation, d.backlight], [368, 552, 90, 40]);
      d.setRotation(180);
      deepEq([d.width, d.height], [552, 368]);
      throws(() => d.setRotation(45), { name: "RangeError", code: "ERR_INVALID_ARG", message: "setRotation degrees must be 0, 90, 180 or 270, not 45" });
      throws(() => d.setBacklight(101), { name: "RangeError", code: "ERR_INVALID_ARG", message: "setBacklight percent must be an integer from 0 to 100, not 101" });
    } finally {
      d.close();
    }
  });

  t.test("flush() carries only what was drawn since the last flush, clipped to the screen", () => {
    const d = new Display();
    try {
      d.flush();
      eq(d.flush(), null, "nothing drawn");
      d.fillRect(10, 20, 30, 40, 0xff00ff00, 6);
      deepEq(d.flush(), { x: 10, y: 20, width: 30, height: 40 });
      d.fillRect(-10, 360, 30, 40, 0xff00ff00);
      d.strokeRect(500, 0, 100, 10, 0xffffffff, { radius: 3, thickness: 2 });
      deepEq(d.flush(), { x: 0, y: 0, width: 552, height: 368 }, "the union of both");
      d.line(5, 5, 15, 25, 0xffffffff, 3);
      deepEq(d.flush(), { x: 2, y: 2, width: 17, height: 27 }, "a line's box, padded by half its thickness + 1");
      d.clear();
      deepEq(d.flush(), { x: 0, y: 0, width: 552, height: 368 });
      const s = d.stats();
      ok(s.flushes >= 4 && s.flushedPixels > 0, "stats count flushes");
    } finally {
      d.close();
    }
  });

  t.test("text: DejaVu Sans measured the same way on both sides; text() draws what measureText() says", () => {
    const d = new Display();
    try {
      deepEq(d.measureText("Hello, qcam", 16), { width: 96, height: 19, ascent: 15, descent: 4 });
      deepEq(d.measureText("Hello, qcam é", 20), { width: 138, height: 24, ascent: 19, descent: 5 });
      eq(d.measureText("").width, 0);
      eq(d.measureText("\u4e2d").width, d.measureText("?").width, "a character the font has not: as '?'");
      d.flush();
      const w = d.text("Menu", 100, 50, 0xffffffff, 24);
      eq(w, d.measureText("Menu", 24).width);
      deepEq(d.flush(), { x: 98, y: 50, width: w + 4, height: d.measureText("Menu", 24).height });
      throws(() => d.text("x", 0, 0, 0xffffffff, 13), { name: "RangeError", code: "ERR_INVALID_ARG", message: "text size must be one of 12, 14, 16, 20, 24, 32, 40, 48, not 13" });
      throws(() => d.measureText(5 as never), { name: "TypeError", code: "ERR_INVALID_ARG", message: "measureText text must be a string, not 5" });
    } finally {
      d.close();
    }
  });

  t.test("drawing arguments: integers in range, colors 0xAARRGGBB", () => {
    const d = new Display();
    try {
      throws(() => d.fillRect(0.5, 0, 1, 1, 0), { name: "RangeError", code: "ERR_INVALID_ARG", message: "fillRect x must be an integer from -32767 to 32767, not 0.5" });
      throws(() => d.fillRect(0, 0, -1, 1, 0), { name: "RangeError", code: "ERR_INVALID_ARG", message: "fillRect width must be an integer from 0 to 32767, not -1" });
      throws(() => d.fillRect(0, 0, 1, 1, "red" as never), { name: "TypeError", code: "ERR_INVALID_ARG", message: 'fillRect color must be an integer from 0 to 4294967295 (0xAARRGGBB), not "red"' });
      throws(() => d.line(0, 0, 1, 1, 0, 0), { name: "RangeError", code: "ERR_INVALID_ARG", message: "line thickness must be an integer from 1 to 255, not 0" });
      throws(() => d.strokeRect(0, 0, 1, 1, 0, { width: 2 } as never), { name: "TypeError", code: "ERR_INVALID_ARG", message: 'unknown strokeRect option "width" (known: radius, thickness)' });
      throws(() => d.show({} as never), { name: "TypeError", code: "ERR_INVALID_ARG", message: "show source must be a Camera, a Channel or an Image, not an object" });
      throws(() => d.show(null as never, { fit: "cover" as never }), { name: "TypeError", code: "ERR_INVALID_ARG", message: 'show fit must be "fit" or "fill", not "cover"' });
      throws(() => d.drawImage(1 as never, 0, 0), { name: "TypeError", code: "ERR_INVALID_ARG", message: "drawImage image must be an Image, not 1" });
    } finally {
      d.close();
    }
  });

  t.test("show(): an Image, or a Camera taken as link() takes it (busy until hide() or close())", () => {
    const cam = new Camera({ width: 64, height: 48, fps: 30 });
    const d = new Display();
    const busy = { name: "Error", code: "ERR_BUSY", message: "this Camera feeds a link: its frames go there (close the link first)" };
    try {
      const img = cam.read();
      d.show(img, { fit: "fill" });
      d.drawImage(img, 10, 10, { width: 32, height: 24 });
      deepEq(d.flush(), { x: 10, y: 10, width: 32, height: 24 });
      ok(d.stats().videoFrames >= 1, "a video frame");
      img.close();
      d.show(cam);
      throws(() => cam.read(), busy, "read() while shown");
      throws(() => cam.close(), { name: "Error", code: "ERR_BUSY", message: "this Camera feeds a link (close the link first)" });
      d.show(cam, { fit: "fill" }); // the same camera again
      throws(() => cam.read(), busy, "read() while shown again");
      d.hide();
      cam.read().close();
      d.show(cam);
      d.close();
      cam.read().close();
    } finally {
      d.close();
      cam.close();
    }
  });

  t.test("close(): idempotent; afterwards every member but close throws ERR_CLOSED", () => {
    const d = new Display();
    d.close();
    d.close();
    d[Symbol.dispose]();
    throws(() => d.width, CLOSED);
    throws(() => d.flush(), CLOSED);
    throws(() => d.fillRect(0, 0, 1, 1, 0), CLOSED);
    throws(() => d.measureText("x"), CLOSED);
    throws(() => Display.prototype.flush.call({}), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Display" });
    throws(() => (Display as unknown as () => void)(), { name: "TypeError" }, "Display() without new");
  });
});
