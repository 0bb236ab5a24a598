// Where things live. Every build output goes under out/ (git-ignored).
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const OUT = path.join(ROOT, "out");
export const HOST_MODULES = path.join(ROOT, "host-modules");
/** The UI kit (app/ui/), which apps import as `qcam/ui`: bundled by `qcam build`, type-checked
 * through a tsconfig `paths` entry, mapped by `qcam test`'s loader (docs/api/ui.md). */
export const UI_SPECIFIER = "qcam/ui";
export const UI_KIT = path.join(ROOT, "app", "ui", "index.ts");

export type Target = "host" | "riscv64";
export const TARGETS: readonly Target[] = ["host", "riscv64"];
/** A CMake build: a target; "asan" = host with ASan+UBSan; "lean" = host
 * without the sim's libavcodec backend, linked statically — the shape of a
 * board runtime, used to measure start-up. */
export type Flavor = Target | "asan" | "lean";

export function buildDir(flavor: Flavor): string {
  return path.join(OUT, "build", flavor);
}
export function runtimeBinary(flavor: Flavor): string {
  return path.join(buildDir(flavor), "qcam-runtime");
}
export function compilerBinary(): string {
  return path.join(buildDir("host"), "qcam-compile");
}
export function targetOfFlavor(flavor: Flavor): Target {
  return flavor === "asan" || flavor === "lean" ? "host" : flavor;
}
