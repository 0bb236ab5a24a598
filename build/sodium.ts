// libsodium for the riscv64 runtime: Debian's `libsodium-dev` for riscv64
// (suite sid), fetched with a private apt configuration as build/engine.ts
// fetches the engine source — the machine's own apt setup is never touched —
// and extracted into third_party/libsodium-riscv64 (git-ignored). The
// riscv64 runtime links its libsodium.a statically. The host runtime uses the
// machine's libsodium-dev (bin/setup.mjs installs it).
// QCAM_SODIUM_RISCV64_DIR=/path (holding include/sodium.h and lib/libsodium.a)
// overrides all of this.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./paths.ts";
import { BuildError, step } from "./log.ts";

const PACKAGE = "libsodium-dev";
const ARCH = "riscv64";
const SUITE = "sid";
const MIRROR = "http://deb.debian.org/debian";

export interface SodiumDir {
  dir: string; // holds include/ and lib/libsodium.a
  debVersion?: string;
  sha256?: string;
}

let known: SodiumDir | undefined;

/** libsodium built for riscv64, fetched on first use. */
export function ensureSodiumRiscv64(): SodiumDir {
  known ??= locate();
  return known;
}

function locate(): SodiumDir {
  const override = process.env.QCAM_SODIUM_RISCV64_DIR;
  if (override) {
    const dir = path.resolve(override);
    if (!fs.existsSync(path.join(dir, "lib", "libsodium.a")) || !fs.existsSync(path.join(dir, "include", "sodium.h")))
      throw new BuildError(`QCAM_SODIUM_RISCV64_DIR=${override} needs include/sodium.h and lib/libsodium.a`);
    return { dir };
  }
  const dir = path.join(ROOT, "third_party", "libsodium-riscv64");
  const stampFile = path.join(dir, ".qcam-sodium.json");
  if (fs.existsSync(stampFile)) return { ...(JSON.parse(fs.readFileSync(stampFile, "utf8")) as SodiumDir), dir };
  return fetchSodium(dir, stampFile);
}

function fetchSodium(dir: string, stampFile: string): SodiumDir {
  const aptRoot = path.join(ROOT, ".cache", `apt-${ARCH}`);
  for (const d of ["state/lists/partial", "cache/archives/partial", "etc", "deb"])
    fs.mkdirSync(path.join(aptRoot, d), { recursive: true });
  const sources = path.join(aptRoot, "etc", "sources.list");
  fs.writeFileSync(sources, `deb [arch=${ARCH} signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${MIRROR} ${SUITE} main\n`);
  const opts = [
    "-o", `Dir::Etc::SourceList=${sources}`,
    "-o", "Dir::Etc::SourceParts=/dev/null",
    "-o", "Dir::Etc::Preferences=/dev/null",
    "-o", "Dir::Etc::PreferencesParts=/dev/null",
    "-o", `Dir::State=${path.join(aptRoot, "state")}`,
    "-o", "Dir::State::status=/dev/null",
    "-o", `Dir::Cache=${path.join(aptRoot, "cache")}`,
    "-o", "Debug::NoLocking=1",
    "-o", "APT::Sandbox::User=root",
    "-o", `APT::Architecture=${ARCH}`,
    "-o", `APT::Architectures::=${ARCH}`,
  ];
  step(`sodium: fetching ${PACKAGE}:${ARCH} from Debian ${SUITE} (private apt state in .cache/apt-${ARCH})`);
  const run = (args: string[], cwd?: string) =>
    execFileSync(args[0], args.slice(1), { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  try {
    run(["apt-get", ...opts, "update"]);
  } catch (e) {
    throw new BuildError(`sodium: apt-get update for ${SUITE}/${ARCH} failed: ${(e as { stderr?: string }).stderr ?? e}`);
  }
  const policy = run(["apt-cache", ...opts, "policy", `${PACKAGE}:${ARCH}`]);
  const debVersion = policy.match(/Candidate:\s*(\S+)/)?.[1];
  if (!debVersion || debVersion === "(none)") throw new BuildError(`sodium: ${PACKAGE}:${ARCH} not found in Debian ${SUITE}`);
  const debDir = path.join(aptRoot, "deb");
  for (const f of fs.readdirSync(debDir)) fs.rmSync(path.join(debDir, f), { force: true });
  run(["apt-get", ...opts, "download", `${PACKAGE}:${ARCH}=${debVersion}`], debDir);
  const deb = fs.readdirSync(debDir).find((f) => f.endsWith(".deb"));
  if (!deb) throw new BuildError(`sodium: apt-get download left no .deb in ${debDir}`);
  const debPath = path.join(debDir, deb);
  const sha256 = createHash("sha256").update(fs.readFileSync(debPath)).digest("hex");
  const tmp = fs.mkdtempSync(path.join(aptRoot, "x-"));
  run(["dpkg-deb", "-x", debPath, tmp]);
  const lib = path.join(tmp, "usr", "lib", "riscv64-linux-gnu", "libsodium.a");
  const include = path.join(tmp, "usr", "include");
  if (!fs.existsSync(lib) || !fs.existsSync(path.join(include, "sodium.h")))
    throw new BuildError(`sodium: ${deb} has no usr/lib/riscv64-linux-gnu/libsodium.a or usr/include/sodium.h`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "lib"), { recursive: true });
  fs.renameSync(include, path.join(dir, "include"));
  fs.renameSync(lib, path.join(dir, "lib", "libsodium.a"));
  fs.rmSync(tmp, { recursive: true, force: true });
  const stamp = { debVersion, sha256, dir };
  fs.writeFileSync(stampFile, JSON.stringify(stamp, null, 2) + "\n");
  step(`sodium: ${PACKAGE}:${ARCH} ${debVersion} (sha256 ${sha256}) in ${path.relative(ROOT, dir)}`);
  return stamp;
}
