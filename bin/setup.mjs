#!/usr/bin/env node
// Bootstrap for `npm start`, `npm test` and `npm run bench` on a fresh Debian
// machine: install missing system packages (as root, with apt-get), install
// node_modules (npm ci), then hand over to build/setup.ts (engine + builds).
// Plain JavaScript: it runs before any dependency is installed.
//
// What a successful run verified is stamped in out/setup-<purpose>.json: the
// state (mtime, size) of everything it looked at or built — dpkg's database,
// the lock files, the runtime's and host modules' sources, the engine source,
// this tooling, the built runtimes. When all of it is as stamped, the run ends
// there (a few milliseconds instead of dpkg queries and a CMake pass); any
// change makes it check and build again.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
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
  // qcam:display's font, rendered at build time (FreeType on the build machine only)
  "libfreetype-dev", "fonts-dejavu-core",
  // Ed25519 signatures of app images (the store's verifier; riscv64 fetches its own, build/sodium.ts)
  "libsodium-dev",
];
// GStreamer judges MP4 files (qtdemux, gst-discoverer) and RTSP streams (rtspsrc);
// its RTSP server library is the peer the RTSP benchmark measures against.
const GSTREAMER = [
  "gstreamer1.0-tools", "gstreamer1.0-plugins-base", "gstreamer1.0-plugins-base-apps",
  "gstreamer1.0-plugins-good", "gstreamer1.0-plugins-bad", "gstreamer1.0-libav",
];
const PACKAGES = {
  start: BASE,
  // libgstrtspserver-1.0-dev: the RTSP client's tests run GStreamer's RTSP server (test/rtsp-gst.c)
  test: [...BASE, ...GSTREAMER, "libgstrtspserver-1.0-dev", "gcc-riscv64-linux-gnu", "libc6-dev-riscv64-cross", "qemu-user", "clang", "libclang-rt-14-dev",
    // the real browser the display page is tested in (driven by playwright-core)
    "chromium",
    // board packages are checked with other readers than ours (qcam package)
    "unzip",
    // VLC judges transport streams beside ffprobe and GStreamer (no RTSP client in Debian's build)
    "vlc-bin", "vlc-plugin-base",
    // the media server and the broker qcam:publish and qcam:mqtt are tested against
    "nginx", "libnginx-mod-rtmp", "mosquitto", "mosquitto-clients",
    // the RTSP server in record mode RtspPublisher is tested against (test/rtsp-record.c)
    "libgstrtspserver-1.0-dev"],
  bench: [...BASE, ...GSTREAMER, "libgstrtspserver-1.0-dev", "time", "chromium", "nginx", "libnginx-mod-rtmp", "mosquitto"],
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

// ---- the stamp ------------------------------------------------------------------

const STAMP = path.join(ROOT, "out", `setup-${purpose}.json`);
const SOURCE_TREES = ["runtime", "host-modules", "firmware", "test/c"].map((d) => path.join(ROOT, d));
const TOOLING = ["bin/setup.mjs", "build/setup.ts", "build/cmake.ts", "build/engine.ts", "build/sodium.ts", "build/paths.ts", "build/log.ts", "package.json", "package-lock.json", "node_modules/.package-lock.json"];

function walk(dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    out.push(dir); // missing: stated as such
    return;
  }
  out.push(dir); // a file added or removed moves its folder's mtime
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
}

/** The state (mtime, size) of every input, or of every output, hashed. */
function fingerprint(kind) {
  const files = [];
  if (kind === "inputs") {
    files.push("/var/lib/dpkg/status", ...TOOLING.map((f) => path.join(ROOT, f)));
    for (const d of SOURCE_TREES) walk(d, files);
    const engine = process.env.QJS_SRC_DIR ? path.resolve(process.env.QJS_SRC_DIR) : path.join(ROOT, "third_party", "quickjs-ng");
    walk(engine, files);
  } else {
    // What was built: every flavor's runtime, tools and build record.
    const builds = path.join(ROOT, "out", "build");
    files.push(builds);
    for (const f of fs.existsSync(builds) ? fs.readdirSync(builds).sort() : [])
      for (const name of ["qcam-runtime", "qcam-compile", "qcam-repair", "qcam-avcodec.so", "build-info.json", "CMakeCache.txt"])
        files.push(path.join(builds, f, name));
  }
  const h = createHash("sha256");
  h.update(JSON.stringify({ purpose, node: process.version, env: process.env.QJS_SRC_DIR ?? "", packages: PACKAGES[purpose] ?? BASE }));
  for (const f of files) {
    let state = "missing";
    try {
      const st = fs.statSync(f);
      state = `${st.mtimeMs}:${st.isDirectory() ? "dir" : st.size}`;
    } catch {
      // stays "missing"
    }
    h.update(`${f}\0${state}\n`);
  }
  return h.digest("hex");
}

function stamped() {
  try {
    const s = JSON.parse(fs.readFileSync(STAMP, "utf8"));
    return s.inputs === fingerprint("inputs") && s.outputs === fingerprint("outputs");
  } catch {
    return false;
  }
}

if (process.env.QCAM_SETUP_FORCE !== "1" && stamped()) process.exit(0);

fs.rmSync(STAMP, { force: true });
// Taken before building: a source edited while the build runs leaves a stamp that no longer matches.
const inputs = fingerprint("inputs");
ensurePackages(PACKAGES[purpose] ?? BASE);
ensureNodeModules();
const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "build", "setup.ts"), purpose], {
  cwd: ROOT,
  stdio: "inherit",
});
if (r.status === 0) {
  fs.mkdirSync(path.dirname(STAMP), { recursive: true });
  fs.writeFileSync(STAMP, JSON.stringify({ purpose, inputs, outputs: fingerprint("outputs"), at: new Date().toISOString() }, null, 1) + "\n");
}
process.exit(r.status ?? 1);
