// K230 CanMV "decode a .264/.265 file" (vdec example): split the stream into
// access units, decode every one, report how many pictures of what size.
// k230_bind_venc.ts makes the stream; on a card without one this example
// records a short one first.
import { app } from "qcam:app";
import { Decoder, EsReader } from "qcam:video";
import { ensureStream } from "./lib/input.ts";

const path = app.args[0] ?? "/sdcard/test.265";
if (ensureStream(path)) decodeAll();

function decodeAll(): void {
  const reader = new EsReader(path);
  const dec = new Decoder({ codec: reader.codec });
  let pictures = 0;
  let size = "";
  const count = (images: { width: number; height: number; close(): void }[]) => {
    for (const img of images) {
      pictures++;
      size = `${img.width}x${img.height}`;
      img.close();
    }
  };
  for (let unit = reader.read(); unit && !app.needExit(); unit = reader.read()) {
    count(dec.decode(unit));
    unit.close();
  }
  count(dec.flush());
  console.log(`decoded ${pictures} pictures of ${size} from ${path} (${reader.codec})`);
  dec.close();
  reader.close();
}
