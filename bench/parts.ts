// The parts of `npm run bench` (`--only PART[,PART]`), in the order they run: one list for the
// bench and for `qcam bench --help`.
export const PARTS = ["startup", "media", "mp4", "rtsp", "display", "devlink", "overlay", "flash", "recorder", "publish", "ts", "ipcam"] as const;
export type Part = (typeof PARTS)[number];
