// qcam recorder. This build has no media modules yet (camera, encoder, MP4
// come with their own modules): it parses its options, prints its plan and
// runs the MaixPy-style loop with a status line every second until it is
// stopped or the --record time is up.
import { app, time } from "qcam:app";
import { describePlan, OptionError, parseOptions } from "./options.ts";

let opts;
try {
  opts = parseOptions(app.args);
} catch (e) {
  if (!(e instanceof OptionError)) throw e;
  app.setExitMessage(2, e.message);
  app.setExitFlag(true);
}

if (opts) {
  console.log(`${app.name} ${app.version} on ${app.platform}`);
  for (const line of describePlan(opts, app.videoPath())) console.log(`  ${line}`);
  console.log("  (camera and encoder modules are not in this build: nothing is written)");
  const start = time.ticksMs();
  let lastReport = start;
  while (!app.needExit()) {
    const now = time.ticksMs();
    if (now - lastReport >= 1000) {
      lastReport = now;
      console.log(`  running ${Math.round((now - start) / 1000)} s`);
    }
    if (opts.recordSeconds !== null && now - start >= opts.recordSeconds * 1000) break;
    time.sleepMs(20);
  }
  console.log(`stopped after ${((time.ticksMs() - start) / 1000).toFixed(1)} s`);
}
