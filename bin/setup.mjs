#!/usr/bin/env node
// Bootstrap for `npm start`, `npm test` and `npm run bench` on a fresh Debian
// machine: install missing system packages (as root, with apt-get), install
// node_modules (npm ci), then hand over to build/setup.ts (engine + builds).
// Plain JavaScript: it runs before any dependency is installed.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const purpose = process.argv[2] ?? "start";

// Debian packages each purpose needs.
const BASE = [
  "cmake", "make", "gcc", "libc6-dev", "dpkg", "gpgv", "debian-archive-keyring", "pkg-config",
  // the sim platform's encoder/decoder, and ffprobe/ffmpeg to judge outputs
  "libavcodec-dev", "libavutil-dev", "ffmpeg",
];
// GStreamer judges MP4 files (qtdemux, gst-discoverer) and RTSP streams (rtspsrc);
// its RTSP server library is the peer the RTSP benchmark measures against.
const GSTREAMER = [
  "gstreamer1.0-tools", "gstreamer1.0-plugins-base", "gstreamer1.0-plugins-base-apps",
  "gstreamer1.0-plugins-good", "gstreamer1.0-plugins-bad", "gstreamer1.0-libav",
];
const PACKAGES = {
  start: BASE,
  test: [...BASE, ...GSTREAMER, "gcc-riscv64-linux-gnu", "libc6-dev-riscv64-cross", "qemu-user", "clang", "libclang-rt-14-dev"],
  bench: [...BASE, ...GSTREAMER, "libgstrtspserver-1.0-dev", "time"],
};

const log = (m) => process.stderr.write(`[qcam] ${m}\n`);

function installed(pkg) {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Status}", pkg], { encoding: "utf8" });
  return r.status === 0 && r.stdout.includes("install ok installed");
}

function ensurePackages(pkgs) {
  const missing = pkgs.filter((p) => !installed(p));
  if (missing.length === 0) return;
  if (process.getuid && process.getuid() !== 0) {
    log(`missing Debian packages: ${missing.join(" ")}`);
    log(`install them with: sudo apt-get install -y ${missing.join(" ")}`);
    process.exit(1);
  }
  log(`installing ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update"], { stdio: ["ignore", "ignore", "inherit"], env });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], {
    stdio: ["ignore", "ignore", "inherit"],
    env,
  });
}

function ensureNodeModules() {
  const stamp = path.join(ROOT, "node_modules", ".package-lock.json");
  const lock = path.join(ROOT, "package-lock.json");
  if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  log("npm ci");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
}

ensurePackages(PACKAGES[purpose] ?? BASE);
ensureNodeModules();
const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "build", "setup.ts"), purpose], {
  cwd: ROOT,
  stdio: "inherit",
});
process.exit(r.status ?? 1);
