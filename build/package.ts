// qcam package <app-dir | image> --board maixcam|k230 (docs/boards.md):
//   maixcam  a MaixCAM app package: a zip of <id>/ with app.yaml (id, name,
//            version, author, desc, icon, files — the MaixCDK convention),
//            main.sh (the launcher MaixCAM's app list runs), the riscv64
//            runtime and the app's image; installable by MaixCAM's app store.
//   k230     an SD-card overlay for the K230 Linux image: the runtime and a
//            card app store with the app installed (written by the runtime's
//            own store code, under qemu), plus an init script that starts
//            qcam-runtime --boot at power-on.
// The zip is written with fflate (MIT): a small, maintained, dependency-free
// zip writer, so the unix modes (main.sh executable) come out right.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { zipSync, type Zippable } from "fflate";
import { buildApp, ensureFlavor, isImageFile } from "./app-build.ts";
import { readImage, SectionType, TARGET_IDS } from "./image.ts";
import { BuildError } from "./log.ts";
import { OUT, runtimeBinary } from "./paths.ts";

export type PackageBoard = "maixcam" | "k230";
export const BOARDS: readonly PackageBoard[] = ["maixcam", "k230"];

interface AppFacts {
  id: string;
  name: string;
  version: string;
  author: string;
  desc: string;
  icon?: string; // an icon.png in the app's folder
}

/** The riscv64 image and what the package says about the app. */
async function appFor(input: string, typecheck: boolean): Promise<{ image: string; facts: AppFacts }> {
  let image: string;
  let dir: string | undefined;
  if (isImageFile(input)) image = path.resolve(input);
  else {
    const built = await buildApp(input, { target: "riscv64", typecheck });
    image = built.image;
    dir = built.app.dir;
  }
  const img = readImage(fs.readFileSync(image));
  if (img.targetId !== TARGET_IDS["sim-riscv64"])
    throw new BuildError(`${input}: a board package holds a riscv64 image (qcam build --target riscv64); this one is for target ${img.targetId}`);
  const man = img.sections.find((s) => s.type === SectionType.Manifest);
  const m = man ? (JSON.parse(man.data.toString("utf8")) as Record<string, unknown>) : {};
  let extra: Record<string, unknown> = {};
  if (dir && fs.existsSync(path.join(dir, "app.json"))) extra = JSON.parse(fs.readFileSync(path.join(dir, "app.json"), "utf8")) as Record<string, unknown>;
  const s = (v: unknown, d: string) => (typeof v === "string" && v ? v : d);
  const id = s(m.id, "");
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id) || id.startsWith(".")) throw new BuildError(`${input}: the image has no usable app id`);
  const icon = dir && fs.existsSync(path.join(dir, "icon.png")) ? path.join(dir, "icon.png") : undefined;
  return {
    image,
    facts: {
      id,
      name: s(m.name, id),
      version: s(m.version, "0.0.0"),
      author: s(extra.author, "unknown"),
      desc: s(extra.desc ?? extra.description, `${s(m.name, id)}, a qcam app`),
      icon,
    },
  };
}

/** YAML scalars as double-quoted JSON strings: always valid YAML. */
const y = (v: string) => JSON.stringify(v);

export function appYaml(f: AppFacts, files: string[]): string {
  return [
    `id: ${y(f.id)}`,
    `name: ${y(f.name)}`,
    `version: ${y(f.version)}`,
    `author: ${y(f.author)}`,
    `icon: ${y("icon.png")}`,
    `desc: ${y(f.desc)}`,
    "files:",
    ...files.map((n) => `  - ${y(n)}`),
    "",
  ].join("\n");
}

/** A 64x64 PNG, one colour: the icon when the app has none. */
export function plainIcon(rgb: [number, number, number] = [0x2b, 0x6c, 0xb0]): Buffer {
  const w = 64;
  const row = Buffer.alloc(1 + 3 * w);
  for (let x = 0; x < w; x++) row.set(rgb, 1 + 3 * x);
  const raw = Buffer.concat(Array.from({ length: w }, () => row));
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(w, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

/** MaixCAM's launcher runs main.sh from the app's folder. */
export const MAIXCAM_MAIN_SH = `#!/bin/sh
# qcam app launcher for MaixCAM (docs/boards.md): run this app's image with
# the riscv64 qcam runtime beside it. MaixCAM's app list starts main.sh.
# QCAM_SDCARD: the folder the app sees as /sdcard (default /root);
# QCAM_EXEC: a command to run the runtime with (e.g. qemu-riscv64 on a PC).
DIR=$(cd "$(dirname "$0")" && pwd)
exec \${QCAM_EXEC:-} "$DIR/qcam-runtime" --sdcard "\${QCAM_SDCARD:-/root}" "$DIR/app.qcam" "$@"
`;

/** The K230 Linux image's BusyBox init runs /etc/init.d/S??* with "start". */
export const K230_INIT = `#!/bin/sh
# qcam at power-on on K230 (docs/boards.md): the card's autostart app through
# trial boot; the dev link on the USB gadget serial port when there is one, so
# the board can always be reflashed (qcam flash --port).
# QCAM_SDCARD: the card's mount point (default /sdcard); QCAM_EXEC: a command
# to run the runtime with (e.g. qemu-riscv64 on a PC).
SD=\${QCAM_SDCARD:-/sdcard}
RT="$SD/qcam/bin/qcam-runtime"
boot() {
  if [ -c /dev/ttyGS0 ]; then
    exec \${QCAM_EXEC:-} "$RT" --sdcard "$SD" --boot --serve /dev/ttyGS0
  fi
  exec \${QCAM_EXEC:-} "$RT" --sdcard "$SD" --boot
}
case "$1" in
  start) boot > /var/log/qcam.log 2>&1 & ;;
  run) boot ;;
  stop) killall qcam-runtime 2>/dev/null ;;
  *) echo "usage: $0 start|run|stop" >&2; exit 2 ;;
esac
`;

function runtimeFor(): string {
  ensureFlavor("riscv64");
  return runtimeBinary("riscv64");
}

export async function packageApp(input: string, opts: { board: PackageBoard; out?: string; typecheck: boolean }): Promise<string> {
  if (!BOARDS.includes(opts.board)) throw new BuildError(`unknown board '${opts.board}' (maixcam or k230)`);
  const { image, facts } = await appFor(input, opts.typecheck);
  const runtime = runtimeFor();
  if (opts.board === "maixcam") {
    const out = path.resolve(opts.out ?? path.join(OUT, "package", `${facts.id}-${facts.version}-maixcam.zip`));
    const files = ["app.yaml", "main.sh", "icon.png", "qcam-runtime", "app.qcam"];
    const exe = { os: 3, attrs: (0o100755 << 16) >>> 0 };
    const plain = { os: 3, attrs: (0o100644 << 16) >>> 0 };
    const tree: Zippable = {
      [facts.id]: {
        "app.yaml": [Buffer.from(appYaml(facts, files)), plain],
        "main.sh": [Buffer.from(MAIXCAM_MAIN_SH), exe],
        "icon.png": [facts.icon ? fs.readFileSync(facts.icon) : plainIcon(), plain],
        "qcam-runtime": [fs.readFileSync(runtime), exe],
        "app.qcam": [fs.readFileSync(image), plain],
      },
    };
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(`${out}.tmp`, zipSync(tree, { level: 6, mtime: new Date("2026-01-01T00:00:00Z") }));
    fs.renameSync(`${out}.tmp`, out);
    return out;
  }
  // k230: a folder to copy onto the card (sdcard/) and into the root file system (rootfs/).
  const out = path.resolve(opts.out ?? path.join(OUT, "package", `${facts.id}-${facts.version}-k230`));
  fs.rmSync(out, { recursive: true, force: true });
  const card = path.join(out, "sdcard");
  fs.mkdirSync(path.join(card, "qcam", "bin"), { recursive: true });
  fs.copyFileSync(runtime, path.join(card, "qcam", "bin", "qcam-runtime"));
  fs.chmodSync(path.join(card, "qcam", "bin", "qcam-runtime"), 0o755);
  // The store with the app installed, written by the runtime's own store code.
  const r = spawnSync("qemu-riscv64", [runtime, "--sdcard", card, "--install", image, "--autostart"], { encoding: "utf8", timeout: 120_000 });
  if (r.error) throw new BuildError(`cannot run qemu-riscv64: ${r.error.message}`);
  if (r.status !== 0) throw new BuildError(`installing into the overlay's store failed (${r.status}): ${r.stderr.trim()}`);
  const init = path.join(out, "rootfs", "etc", "init.d", "S99qcam");
  fs.mkdirSync(path.dirname(init), { recursive: true });
  fs.writeFileSync(init, K230_INIT, { mode: 0o755 });
  fs.writeFileSync(
    path.join(out, "README.txt"),
    `qcam SD-card overlay for K230 (Linux image): ${facts.id} ${facts.version}\n\n` +
      `1. Copy sdcard/ onto the card's data partition (mounted at /sdcard on the board).\n` +
      `2. Copy rootfs/etc/init.d/S99qcam into the root file system's /etc/init.d/ (mode 755).\n` +
      `3. Power on: the init script runs qcam-runtime --boot; ${facts.id} starts on trial.\n` +
      `See docs/boards.md.\n`,
  );
  return out;
}
