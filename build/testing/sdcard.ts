// Test side of the SD card the qcam:fs stub keeps in memory (and EsFileSink
// writes to): seed files before a run, look at what an app left on it.
//
//   import { sdcard, world } from "qcam:testing";
//   world.reset({ sdcardSizeMb: 1 });            // a 1 MiB card (--sdcard-size 1)
//   sdcard.write("/sdcard/clip.h264", bytes);     // parents made; counts as used space
//   await runApp(APP);
//   sdcard.tree();                                // { "/sdcard/video/rec.h264": 123456, ... }
//   sdcard.read("/sdcard/video/rec.h264");        // Uint8Array
import * as fs from "qcam:fs";
import { world } from "./world.ts";

interface CardHal {
  readFile(path: string): Uint8Array | string;
  seed(path: string, data: Uint8Array): void;
  tree(): Record<string, number>;
  used(): number;
}

function hal(): CardHal {
  void fs; // the import loads the stub, which offers "fs.hal"
  const h = world.exposed<CardHal>("fs.hal");
  if (!h) throw new Error("qcam testing: the qcam:fs stub is not loaded");
  return h;
}

export const sdcard = {
  /** A file's bytes (a copy); throws for a missing file or a folder. */
  read(path: string): Uint8Array {
    const r = hal().readFile(path);
    if (typeof r === "string") throw new Error(`sdcard.read(${path}): ${r}`);
    return r;
  },
  /** The file as UTF-8 text. */
  readText(path: string): string {
    return new TextDecoder().decode(this.read(path));
  },
  /** Put a file on the card (board path; missing folders are made). It counts
   * as used space but is never refused: a card may start out fuller than its size. */
  write(path: string, data: Uint8Array | ArrayBuffer | string): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    hal().seed(path, bytes);
  },
  /** Every file on the card, by board path (/tmp's under /tmp), with its size. */
  tree(): Record<string, number> {
    return hal().tree();
  },
  /** Bytes in files on the card; its size is world.sdcardSizeMb MiB. */
  get used(): number {
    return hal().used();
  },
};
