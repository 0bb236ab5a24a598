// qcam:testing — what an app's tests import (resolved by build/testing/loader.mjs):
//
//   import { world, runApp, makeImage } from "qcam:testing";
//
// `world` is the scripted world the qcam:* stubs run in (fake clock, event
// loop, exit requests, args, output, scripted failures); runApp runs an app's
// own source against the stubs as the runtime would; makeImage makes the
// Images a camera would hand out; sdcard seeds and reads the stub's SD card;
// displayList() is what the qcam:display stub drew (operations, frames).
// See docs/testing.md.
export {
  world,
  World,
  HardExit,
  WorldLimitError,
  LOG_LEVELS,
  formatException,
  formatValue,
  type LogLevel,
  type Manifest,
  type Signal,
  type WorldOptions,
  type WorldLimits,
  type FaultSpec,
  type Handle,
} from "./world.ts";
export { runApp, resolveEntry, EXIT, type AppResult, type RunAppOptions } from "./run-app.ts";
export { makeImage, type ImageSpec } from "./images.ts";
export { sdcard } from "./sdcard.ts";
export { displayList } from "./display.ts";
export { DisplayList, opaqueCore, within, type DrawOp, type TextOp, type FillOp, type StrokeOp, type LineOp, type ImageOp, type ClearOp, type Frame, type Box } from "./display-list.ts";
export { qcamError, errnoError, ERRNO, type QcamError, type ErrnoError, type ErrorKind } from "./errors.ts";
