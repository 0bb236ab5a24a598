// Configure and build the C runtime with CMake, one build folder per flavor:
// out/build/host, out/build/riscv64 (static, for qemu-riscv64), out/build/asan.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureEngine } from "./engine.ts";
import { ensureSodiumRiscv64 } from "./sodium.ts";
import { BuildError, step } from "./log.ts";
import { ROOT, buildDir, type Flavor } from "./paths.ts";

export interface BuildInfo {
  target: "host" | "riscv64";
  targetId: number;
  platform: string;
  engine: string;
  bytecode: number;
  abi: string;
  sanitize: boolean;
}

function cmake(args: string[]): void {
  try {
    execFileSync("cmake", args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new BuildError(`cmake ${args.join(" ")} failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
}

export function buildFlavor(flavor: Flavor): BuildInfo {
  const engine = ensureEngine();
  const dir = buildDir(flavor);
  const cache = path.join(dir, "CMakeCache.txt");
  const wantSrc = `QJS_SRC_DIR:PATH=${engine.dir}`;
  // riscv64 links Debian's riscv64 libsodium.a (build/sodium.ts); the host, the machine's.
  const sodium = flavor === "riscv64" ? ensureSodiumRiscv64().dir : "";
  const wantSodium = `QCAM_SODIUM_DIR:PATH=${sodium}`;
  const cached = fs.existsSync(cache) ? fs.readFileSync(cache, "utf8") : "";
  if (!cached.includes(wantSrc) || !cached.includes(wantSodium)) {
    step(`cmake: configuring ${flavor}`);
    const args = ["-S", "runtime", "-B", dir, `-DQJS_SRC_DIR=${engine.dir}`, `-DQCAM_SODIUM_DIR=${sodium}`];
    if (flavor === "riscv64") args.push("-DQCAM_TARGET=riscv64", `-DCMAKE_TOOLCHAIN_FILE=${path.join(ROOT, "runtime/cmake/riscv64.cmake")}`);
    if (flavor === "asan") args.push("-DQCAM_SANITIZE=ON", "-DCMAKE_BUILD_TYPE=Debug");
    else if (flavor === "lean") args.push("-DQCAM_AVCODEC=OFF", "-DQCAM_STATIC=ON", "-DCMAKE_BUILD_TYPE=Release");
    else args.push("-DCMAKE_BUILD_TYPE=Release");
    cmake(args);
  }
  step(`cmake: building ${flavor}`);
  cmake(["--build", dir, "-j", String(Math.max(1, os.availableParallelism()))]);
  return readBuildInfo(flavor);
}

export function readBuildInfo(flavor: Flavor): BuildInfo {
  const file = path.join(buildDir(flavor), "build-info.json");
  if (!fs.existsSync(file)) throw new BuildError(`no ${flavor} build yet (missing ${file})`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as BuildInfo;
}

export function isBuilt(flavor: Flavor): boolean {
  return fs.existsSync(path.join(buildDir(flavor), "qcam-runtime"));
}
