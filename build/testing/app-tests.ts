// `qcam test [app-dir] [--no-typecheck] [-- mocha options]`: an app's own
// tests (test/**/*.test.ts in its folder) with mocha, in Node, against the
// qcam:* stubs: tsx for TypeScript, register.mjs for the module mapping,
// mocha-hooks.ts for a fresh world per test.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { BuildError } from "../log.ts";
import { declarationFiles } from "../app-build.ts";
import { OUT, ROOT, UI_KIT, UI_SPECIFIER } from "../paths.ts";

export const TEST_USAGE = "qcam test [app-dir] [--no-typecheck] [-- mocha options]";

function testFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && e.name !== "node_modules") walk(p);
      else if (e.name.endsWith(".test.ts")) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Type-check the tests (and the app code they import) with Node's and mocha's types and the qcam:* declarations. */
function typecheckTests(appDir: string, files: string[]): void {
  const work = path.join(OUT, "app-tests", path.basename(appDir));
  fs.mkdirSync(work, { recursive: true });
  const decls = declarationFiles();
  const tsconfig = path.join(work, "tsconfig.json");
  fs.writeFileSync(
    tsconfig,
    JSON.stringify(
      {
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "es2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          skipLibCheck: true,
          allowImportingTsExtensions: true,
          types: ["node", "mocha"],
          typeRoots: [path.join(ROOT, "node_modules", "@types")],
          paths: { "qcam:testing": [path.join(ROOT, "build", "testing", "index.ts")], [UI_SPECIFIER]: [UI_KIT] },
        },
        files: [...files, ...decls],
      },
      null,
      2,
    ),
  );
  try {
    execFileSync(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", tsconfig, "--pretty", "false"], { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new BuildError(`type errors in the tests:\n${err.stdout ?? ""}${err.stderr ?? ""}`.trimEnd());
  }
}

function nearestPackageJson(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    const p = path.join(d, "package.json");
    if (fs.existsSync(p)) return p;
    if (path.dirname(d) === d) return undefined;
  }
}

export async function runAppTests(argv: string[]): Promise<number> {
  const sep = argv.indexOf("--");
  const ours = sep >= 0 ? argv.slice(0, sep) : argv;
  const mochaArgs = sep >= 0 ? argv.slice(sep + 1) : [];
  const flags = ours.filter((a) => a.startsWith("-"));
  const positional = ours.filter((a) => !a.startsWith("-"));
  const unknown = flags.filter((f) => f !== "--no-typecheck");
  if (positional.length > 1 || unknown.length) throw new BuildError(`usage: ${TEST_USAGE}`);
  const appDir = path.resolve(positional[0] ?? ".");
  if (!fs.existsSync(appDir) || !fs.statSync(appDir).isDirectory()) throw new BuildError(`no such app folder: ${positional[0] ?? "."}`);
  const testDir = path.join(appDir, "test");
  const files = fs.existsSync(testDir) ? testFiles(testDir) : [];
  if (!files.length) throw new BuildError(`${path.relative(process.cwd(), appDir) || "."}: no tests (test/**/*.test.ts)`);
  const pkg = nearestPackageJson(appDir);
  if (!pkg || (JSON.parse(fs.readFileSync(pkg, "utf8")) as { type?: string }).type !== "module")
    throw new BuildError(
      `${pkg ? path.relative(process.cwd(), pkg) : `no package.json at or above ${appDir}`}: the app's files must be ES modules, as on the board: ` +
        'add a package.json with "type": "module" to the app folder',
    );
  if (!flags.includes("--no-typecheck")) typecheckTests(appDir, files);

  const tsx = import.meta.resolve("tsx");
  const register = pathToFileURL(path.join(ROOT, "build", "testing", "register.mjs")).href;
  const mocha = path.join(ROOT, "node_modules", "mocha", "bin", "mocha.js");
  const args = [
    "--import",
    tsx,
    "--import",
    register,
    mocha,
    "--no-config",
    "--no-package",
    "--require",
    path.join(ROOT, "build", "testing", "mocha-hooks.ts"),
    "--timeout",
    "20000",
    ...mochaArgs,
    ...files.map((f) => path.relative(appDir, f)),
  ];
  const child = spawn(process.execPath, args, { cwd: appDir, stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(signal ? 1 : (code ?? 1)));
  });
}
