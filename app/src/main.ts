// qcam recorder: camera → encoder → MP4 (or MPEG-TS) on the SD card, on
// native threads (qcam:link), with G.711 audio, a live RTSP view and a time
// stamp burned into the video.
//
// Started with no recorder option (`npm start`) or with --menu, it is
// menu-driven on the board's screen (menu.ts): a live preview, `ok` records,
// the menu changes the settings, which are kept on the card. Any other option
// (or --headless) runs it headless (headless.ts): `--record N` records N
// seconds into one file; without it, it records segments of `--segment`
// seconds until stopped, deleting the oldest recordings when the card is full.
// Either way the command line overrides the saved settings for the run, and
// files cut short by a crash or a power cut are repaired at start-up.
import { app } from "qcam:app";
import { recordHeadless } from "./headless.ts";
import { runMenu } from "./menu.ts";
import { OptionError, parseCommandLine } from "./options.ts";

try {
  const cmd = parseCommandLine(app.args);
  if (cmd.headless) recordHeadless(cmd);
  else runMenu(cmd);
} catch (e) {
  if (!(e instanceof OptionError)) throw e;
  app.setExitMessage(2, e.message);
}
