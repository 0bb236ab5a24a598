// The board's screen and keys: an 8-item menu drawn on the overlay over a live
// camera preview on the video layer (camera → screen natively, no JavaScript
// per frame). next/prev (or touching an item) move the selection, ok picks
// it, option turns the preview off and on, a long press of ok exits (MaixPy's
// default). On the sim the screen and keys are the page whose address the
// runtime prints: `npx qcam run app/examples/display_menu.ts`.
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { Display } from "qcam:display";
import { Input, type KeyEvent, type TouchEvent } from "qcam:input";

const ITEMS = ["Record video", "Take photo", "Playback", "Live stream", "Timelapse", "Resolution", "Wi-Fi", "About"];
const disp = new Display();
const cam = new Camera({ width: 640, height: 480, fps: 30 });
let preview = true;
let selected = 0;

const ROW = Math.floor((disp.height - 16) / ITEMS.length);
const MENU_W = Math.min(260, disp.width - 16);

function draw(): void {
  disp.clear(0);
  disp.fillRect(8, 8, MENU_W, ROW * ITEMS.length, 0xa0101820, 10);
  ITEMS.forEach((label, i) => {
    const y = 8 + i * ROW;
    if (i === selected) disp.fillRect(12, y + 2, MENU_W - 8, ROW - 4, 0xff2f6fd0, 8);
    const m = disp.measureText(label, 20);
    disp.text(label, 24, y + Math.floor((ROW - m.height) / 2), i === selected ? 0xffffffff : 0xffd0d8e0, 20);
  });
  disp.strokeRect(8, 8, MENU_W, ROW * ITEMS.length, 0xff80a0c0, { radius: 10, thickness: 2 });
  const r = disp.flush();
  console.log(`drew item ${selected}${r ? ` (${r.width}x${r.height})` : ""}`);
}

function setPreview(on: boolean): void {
  preview = on;
  if (on) disp.show(cam, { fit: "fill" });
  else disp.hide();
  console.log(`preview ${on ? "on" : "off"}`);
}

const input = new Input({
  onKey(e: KeyEvent) {
    console.log(`key ${e.key} ${e.action}`);
    if (e.action !== "press") return;
    if (e.key === "next" || e.key === "right") selected = (selected + 1) % ITEMS.length;
    else if (e.key === "prev" || e.key === "left") selected = (selected + ITEMS.length - 1) % ITEMS.length;
    else if (e.key === "ok") console.log(`picked ${ITEMS[selected]}`);
    else if (e.key === "option") setPreview(!preview);
    draw();
  },
  onTouch(e: TouchEvent) {
    console.log(`touch ${e.action} ${e.x} ${e.y}`);
    if (e.action !== "down") return;
    const i = Math.floor((e.y - 8) / ROW);
    if (e.x >= 8 && e.x < 8 + MENU_W && i >= 0 && i < ITEMS.length) {
      selected = i;
      draw();
    }
  },
});

setPreview(true);
draw();
console.log(`menu ready on ${disp.board} ${disp.width}x${disp.height}`);
while (!app.needExit()) time.sleepMs(10);
console.log("bye");
input.close();
disp.close();
cam.close();
