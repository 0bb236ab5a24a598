// Fetch the quickjs-ng C source from Debian's `qjs-src` package (suite sid)
// with a private apt configuration — the machine's own apt setup is never
// touched — and extract it into third_party/quickjs-ng (git-ignored).
// QJS_SRC_DIR=/path/to/quickjs-ng overrides all of this.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./paths.ts";
import { BuildError, step } from "./log.ts";

export const ENGINE_SERIES = "0.17."; // the quickjs-ng release line we build against
const PACKAGE = "qjs-src";
const SUITE = "sid";
const MIRROR = "http://deb.debian.org/debian";

export interface EngineSource {
  dir: string;
  version: string; // from quickjs.h
  debVersion?: string;
  sha256?: string; // of the .deb
}

function headerVersion(dir: string): string {
  const h = fs.readFileSync(path.join(dir, "quickjs.h"), "utf8");
  const v = (k: string) => h.match(new RegExp(`#define QJS_VERSION_${k} (\\d+)`))?.[1] ?? "?";
  return `${v("MAJOR")}.${v("MINOR")}.${v("PATCH")}`;
}

export function engineDir(): string {
  return process.env.QJS_SRC_DIR ? path.resolve(process.env.QJS_SRC_DIR) : path.join(ROOT, "third_party", "quickjs-ng");
}

let known: EngineSource | undefined;

/** The engine source, fetched on first use; later calls in a process reuse it. */
export function ensureEngine(): EngineSource {
  known ??= locateEngine();
  return known;
}

function locateEngine(): EngineSource {
  const override = process.env.QJS_SRC_DIR;
  if (override) {
    const dir = path.resolve(override);
    if (!fs.existsSync(path.join(dir, "quickjs.c")))
      throw new BuildError(`QJS_SRC_DIR=${override} does not contain quickjs.c`);
    const version = headerVersion(dir);
    step(`engine: quickjs-ng ${version} from QJS_SRC_DIR=${dir}`);
    return { dir, version };
  }
  const dir = engineDir();
  const stampFile = path.join(dir, ".qcam-engine.json");
  if (fs.existsSync(stampFile)) {
    const stamp = JSON.parse(fs.readFileSync(stampFile, "utf8")) as EngineSource;
    step(`engine: quickjs-ng ${stamp.version} (qjs-src ${stamp.debVersion}, sha256 ${stamp.sha256}) cached`);
    return { ...stamp, dir };
  }
  return fetchEngine(dir, stampFile);
}

function fetchEngine(dir: string, stampFile: string): EngineSource {
  const aptRoot = path.join(ROOT, ".cache", "apt");
  for (const d of ["state/lists/partial", "cache/archives/partial", "etc", "deb"])
    fs.mkdirSync(path.join(aptRoot, d), { recursive: true });
  const sources = path.join(aptRoot, "etc", "sources.list");
  fs.writeFileSync(
    sources,
    `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${MIRROR} ${SUITE} main\n`,
  );
  const opts = [
    `-o`, `Dir::Etc::SourceList=${sources}`,
    `-o`, `Dir::Etc::SourceParts=/dev/null`,
    `-o`, `Dir::Etc::Preferences=/dev/null`,
    `-o`, `Dir::Etc::PreferencesParts=/dev/null`,
    `-o`, `Dir::State=${path.join(aptRoot, "state")}`,
    `-o`, `Dir::State::status=/dev/null`,
    `-o`, `Dir::Cache=${path.join(aptRoot, "cache")}`,
    `-o`, `Debug::NoLocking=1`,
    `-o`, `APT::Sandbox::User=root`,
    `-o`, `APT::Architecture=amd64`,
  ];
  step(`engine: fetching ${PACKAGE} from Debian ${SUITE} (private apt state in .cache/apt)`);
  const run = (args: string[], cwd?: string) =>
    execFileSync(args[0], args.slice(1), { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  try {
    run(["apt-get", ...opts, "update"]);
  } catch (e) {
    throw new BuildError(`engine: apt-get update for ${SUITE} failed: ${(e as { stderr?: string }).stderr ?? e}`);
  }
  const policy = run(["apt-cache", ...opts, "policy", PACKAGE]);
  const debVersion = policy.match(/Candidate:\s*(\S+)/)?.[1];
  if (!debVersion || debVersion === "(none)") throw new BuildError(`engine: ${PACKAGE} not found in Debian ${SUITE}`);
  if (!debVersion.startsWith(ENGINE_SERIES))
    throw new BuildError(
      `engine: Debian ${SUITE} offers ${PACKAGE} ${debVersion}, qcam builds against ${ENGINE_SERIES}x; ` +
        `set QJS_SRC_DIR to a quickjs-ng ${ENGINE_SERIES}x checkout`,
    );
  const debDir = path.join(aptRoot, "deb");
  for (const f of fs.readdirSync(debDir)) fs.rmSync(path.join(debDir, f), { force: true });
  run(["apt-get", ...opts, "download", `${PACKAGE}=${debVersion}`], debDir);
  const deb = fs.readdirSync(debDir).find((f) => f.endsWith(".deb"));
  if (!deb) throw new BuildError(`engine: apt-get download left no .deb in ${debDir}`);
  const debPath = path.join(debDir, deb);
  const sha256 = createHash("sha256").update(fs.readFileSync(debPath)).digest("hex");
  const tmp = fs.mkdtempSync(path.join(aptRoot, "x-"));
  run(["dpkg-deb", "-x", debPath, tmp]);
  const src = path.join(tmp, "usr", "src", "quickjs-ng");
  if (!fs.existsSync(path.join(src, "quickjs.c"))) throw new BuildError(`engine: ${deb} has no usr/src/quickjs-ng`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.renameSync(src, dir);
  fs.rmSync(tmp, { recursive: true, force: true });
  const version = headerVersion(dir);
  const stamp = { version, debVersion, sha256, dir };
  fs.writeFileSync(stampFile, JSON.stringify(stamp, null, 2) + "\n");
  step(`engine: quickjs-ng ${version} (qjs-src ${debVersion}, sha256 ${sha256}) in ${path.relative(ROOT, dir)}`);
  return stamp;
}
