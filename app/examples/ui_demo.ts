// The UI kit (docs/api/ui.md) with every widget: a transparent home screen over a live
// camera preview with only a status bar and a button bar, a menu, settings (choices,
// steppers, toggles), a long list of recordings with a confirm dialog each, storage (an
// alert, a confirm) and about pages, toasts. Nothing is recorded: the demo only shows the kit.
//
//   npx qcam run app/examples/ui_demo.ts                 # then open the page it prints
//   npx qcam run app/examples/ui_demo.ts -- --targets    # also print each screen's touch targets
//   npx qcam run app/examples/ui_demo.ts -- --latency    # print key/touch → flushed screen times
//
// Keys: next/prev move, ok activates, left/right change values, option goes back (on the
// home screen it opens the menu), a long press of option goes home, a long press of ok exits.
// Touch: tap rows and buttons, drag lists, the chevron at the top left goes back.
//
// It is event-driven: no loop of its own. Input callbacks hand events to the kit and
// update() the screen at once (so a key shows on the panel within the same turn); a 250 ms
// timer keeps the status bar's clock and takes toasts down. The runtime sleeps in between.
import { app, time } from "qcam:app";
import { Camera } from "qcam:camera";
import { Display } from "qcam:display";
import { Input } from "qcam:input";
import { Choice, Item, Screen, Stepper, Text, Toggle, Ui } from "qcam/ui";

const showTargets = app.args.includes("--targets");
const showLatency = app.args.includes("--latency");

const disp = new Display();
const cam = new Camera({ width: 640, height: 480, fps: 30 });
disp.show(cam, { fit: "fill" });

const settings = { resolution: "1080p", codec: "H.265", fps: 30, bitrate: 8, audio: true, stamp: false };
let recording = false;
let recStartMs = 0;

const pad2 = (n: number) => String(Math.floor(n)).padStart(2, "0");
const changed = (what: string) => (u: Ui) => {
  console.log(`set ${what}`);
  u.toast(`${what[0].toUpperCase()}${what.slice(1)}`);
  showMode();
};

const settingsScreen = new Screen({
  title: "Settings",
  items: [
    new Choice("Resolution", ["1080p", "720p", "480p"], 0, (_i, v, u) => { settings.resolution = v; changed(`resolution ${v}`)(u); }),
    new Choice("Codec", ["H.265", "H.264"], 0, (_i, v, u) => { settings.codec = v; changed(`codec ${v}`)(u); }),
    new Stepper("Frame rate", { min: 5, max: 30, step: 5, value: 30, format: (v) => `${v} fps`, onChange: (v, u) => { settings.fps = v; changed(`frame rate ${v}`)(u); } }),
    new Stepper("Bitrate", { min: 1, max: 20, value: 8, format: (v) => `${v} Mb/s`, onChange: (v, u) => { settings.bitrate = v; changed(`bitrate ${v}`)(u); } }),
    new Toggle("Audio", true, (v, u) => { settings.audio = v; changed(`audio ${v ? "on" : "off"}`)(u); }),
    new Toggle("Time stamp", false, (v, u) => { settings.stamp = v; changed(`time stamp ${v ? "on" : "off"}`)(u); }),
  ],
});

const recordings: Screen = new Screen({ title: "Recordings" });
function listRecordings(): void {
  const items = Array.from({ length: 18 }, (_, i) => {
    const name = `rec_20260101_${pad2(12 + Math.floor(i / 6))}${pad2((i * 7) % 60)}00.mp4`;
    const item: Item = new Item(name, {
      detail: `${(i * 1.7 + 3).toFixed(1)} MB`,
      onSelect: (u) => u.confirm({
        title: "Delete recording?", message: `${name} is deleted from the card.`, confirm: "Delete", danger: true,
        onConfirm: (v) => {
          recordings.setItems(recordings.items.filter((w) => w !== item));
          console.log(`deleted ${name}`);
          v.toast(`Deleted ${name}`);
        },
        onCancel: () => console.log(`kept ${name}`),
      }),
    });
    return item;
  });
  recordings.setItems(items);
}
listRecordings();

const storage = new Screen({
  title: "Storage",
  items: [
    new Text("Free", "12.3 GB of 29.7 GB"),
    new Text("Recordings", "18 files, 310 MB"),
    new Item("Check the card", { onSelect: (u) => u.alert({ title: "Card checked", message: "No errors found.", onClose: () => console.log("checked") }) }),
    new Item("Delete all recordings", {
      onSelect: (u) => u.confirm({
        title: "Delete all?", message: "Every recording on the card is deleted. This cannot be undone.", confirm: "Delete all", danger: true,
        onConfirm: (v) => { recordings.setItems([]); console.log("deleted all"); v.toast("Deleted all recordings"); },
        onCancel: () => console.log("kept all"),
      }),
    }),
  ],
});

const about = new Screen({
  title: "About",
  items: [new Text("App", `${app.name} ${app.version}`), new Text("Board", `${disp.board} ${disp.panelWidth}x${disp.panelHeight}`), new Text("Platform", app.platform)],
});

const menu = new Screen({
  title: "Menu",
  items: [
    new Item("Settings", { opens: settingsScreen }),
    new Item("Recordings", { opens: recordings }),
    new Item("Storage", { opens: storage }),
    new Item("About", { opens: about }),
  ],
});

const recordButton = new Item("Record", { onSelect: (u) => setRecording(u, !recording) });
const home = new Screen({
  transparent: true, // the live preview shows through
  items: [recordButton, new Item("Menu", { opens: menu })],
  onKey: (e, u) => {
    if (e.key === "option" && e.action === "press") {
      u.push(menu);
      return true;
    }
    return false;
  },
});

const ui = new Ui(disp, home);

function setRecording(u: Ui, on: boolean): void {
  recording = on;
  recStartMs = time.ticksMs();
  recordButton.label = on ? "Stop" : "Record";
  console.log(on ? "recording (pretend)" : "stopped");
  u.toast(on ? "Recording" : "Stopped");
  showClock();
}
function showMode(): void {
  ui.status.set("mode", `${settings.resolution} ${settings.codec} ${settings.fps} fps`, { align: "right" });
}
function showClock(): void {
  if (recording) {
    const s = (time.ticksMs() - recStartMs) / 1000;
    ui.status.set("rec", `REC ${pad2(s / 60)}:${pad2(s % 60)}`, { color: 0xffff4040 });
  } else ui.status.set("rec", "STBY", { color: 0xffa0a8b0 });
}
showMode();
showClock();

let lastTop: Screen | null = null;
let lastDialog = false;
/** Draw what changed; tell the terminal about a new screen (and how long since the event). */
function paint(sinceUs?: number): void {
  const r = ui.update();
  if (r && showLatency && sinceUs !== undefined) console.log(`latency ${Math.round(time.monotonicMs() * 1000 - sinceUs)} us ${r.width}x${r.height}`);
  if (ui.top !== lastTop || ui.dialogOpen !== lastDialog) {
    lastTop = ui.top;
    lastDialog = ui.dialogOpen;
    console.log(ui.dialogOpen ? "dialog" : `screen ${ui.top.title || "home"}`);
    if (showTargets) console.log(`targets ${ui.targets().map((t) => `${t.name}@${t.rect.x},${t.rect.y},${t.rect.width},${t.rect.height}`).join(" ")}`);
  }
}

const input = new Input({
  onKey: (e) => {
    const took = ui.handleKey(e);
    paint(e.timestampUs);
    return took;
  },
  onTouch: (e) => {
    ui.handleTouch(e);
    paint(e.timestampUs);
  },
});
void input; // open until the app ends (the runtime closes it)

setInterval(() => {
  showClock();
  paint();
}, 250);
paint();
console.log(`ui ready on ${disp.board} ${disp.width}x${disp.height}`);
