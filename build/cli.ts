// qcam — the command line: build, run, verify, info, bench.
import path from "node:path";
import { buildApp } from "./app-build.ts";
import { BuildError } from "./log.ts";
import { ROOT, TARGETS, type Target } from "./paths.ts";
import { runApp } from "./run.ts";

const USAGE = `usage:
  qcam build <app-dir | file.ts> [--target host|riscv64] [-o app.qcam] [--no-typecheck]
  qcam run <app.qcam | app-dir | file.ts> [--target host|riscv64] [--asan] [--sdcard DIR] [-- app args]
  qcam start [--sdcard DIR] [recorder args]     (npm start -- ...)
  qcam verify <app.qcam> [--target host|riscv64]
  qcam test [app-dir] [--no-typecheck] [-- mocha options]   (the app's test/**/*.test.ts, against the qcam:* stubs)
  qcam repair [--no-finalize] <file.mp4...>   (make recordings cut short playable; exit 1 if one cannot be mended)
  qcam bench`;

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
  rest: string[];
}

function parse(argv: string[], withValue: string[]): Parsed {
  const p: Parsed = { positional: [], flags: new Map(), rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      p.rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith("-")) {
      const name = a.replace(/^--?/, "");
      if (withValue.includes(name)) {
        if (i + 1 >= argv.length) throw new BuildError(`${a} needs a value`);
        p.flags.set(name, argv[++i]);
      } else p.flags.set(name, true);
    } else p.positional.push(a);
  }
  return p;
}

function targetOf(p: Parsed): Target {
  const t = (p.flags.get("target") as string | undefined) ?? "host";
  if (!TARGETS.includes(t as Target)) throw new BuildError(`unknown target '${t}' (host or riscv64)`);
  return t as Target;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case "build": {
      const p = parse(args, ["target", "o"]);
      if (p.positional.length !== 1) throw new BuildError(USAGE);
      const built = await buildApp(p.positional[0], {
        target: targetOf(p),
        out: p.flags.get("o") as string | undefined,
        typecheck: !p.flags.has("no-typecheck"),
      });
      process.stdout.write(`${path.relative(process.cwd(), built.image)}\n`);
      return 0;
    }
    case "run": {
      const p = parse(args, ["target", "sdcard"]);
      if (p.positional.length !== 1) throw new BuildError(USAGE);
      return runApp(p.positional[0], {
        target: targetOf(p),
        asan: p.flags.has("asan"),
        sdcard: p.flags.get("sdcard") as string | undefined,
        args: p.rest,
        typecheck: !p.flags.has("no-typecheck"),
      });
    }
    case "start": {
      // npm start -- [recorder args]: --sdcard and --target are ours, the rest
      // goes to the app in order.
      const ours = new Map<string, string>();
      const appArgs: string[] = [];
      for (let i = 0; i < args.length; i++) {
        const name = args[i].replace(/^--/, "");
        if ((name === "sdcard" || name === "target") && args[i].startsWith("--")) {
          if (i + 1 >= args.length) throw new BuildError(`${args[i]} needs a value`);
          ours.set(name, args[++i]);
        } else if (args[i] !== "--") appArgs.push(args[i]);
      }
      const target = ours.get("target") ?? "host";
      if (!TARGETS.includes(target as Target)) throw new BuildError(`unknown target '${target}' (host or riscv64)`);
      return runApp(path.join(ROOT, "app"), { target: target as Target, sdcard: ours.get("sdcard"), args: appArgs });
    }
    case "verify": {
      const p = parse(args, ["target"]);
      if (p.positional.length !== 1) throw new BuildError(USAGE);
      const { runImage } = await import("./run.ts");
      return runImage(targetOf(p), p.positional[0], { runtimeArgs: ["--verify"] });
    }
    case "test": {
      // An app's own tests in Node against the host-module stubs (build/testing/).
      const { runAppTests } = await import("./testing/app-tests.ts");
      return runAppTests(args);
    }
    case "repair": {
      // qcam:mp4's repair (host-modules/mp4/mp4_repair.c) on host files, by the
      // host build's qcam-repair tool (runtime/repair.c).
      const p = parse(args, []);
      if (p.positional.length === 0 || [...p.flags.keys()].some((f) => f !== "no-finalize")) throw new BuildError(USAGE);
      const { ensureFlavor } = await import("./app-build.ts");
      const { buildDir } = await import("./paths.ts");
      const { spawnSync } = await import("node:child_process");
      ensureFlavor("host");
      const tool = path.join(buildDir("host"), "qcam-repair");
      const r = spawnSync(tool, [...(p.flags.has("no-finalize") ? ["--no-finalize"] : []), "--", ...p.positional, ...p.rest], { stdio: "inherit" });
      if (r.error) throw new BuildError(`cannot run ${tool}: ${r.error.message}`);
      return r.status ?? 1;
    }
    case "bench": {
      const { runBenchmarks } = await import("../bench/run.ts");
      return runBenchmarks(args);
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return cmd === undefined || cmd === "help" || cmd === "--help" ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof BuildError) {
      process.stderr.write(`qcam: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  },
);
