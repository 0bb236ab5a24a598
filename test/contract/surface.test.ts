// Surfaces: every export, class, method and property a module has at run time
// matches its declaration (host-modules/<mod>/<mod>.d.ts) — no missing, no
// extra, the same kinds, readonly where declared readonly, lengths within the
// declared parameter counts, private constructors that throw
// ERR_ILLEGAL_CONSTRUCTOR. For the C modules (a probe app on the real runtime)
// and for their stubs (in Node). Every .d.ts is picked up by itself; a module
// without a stub yet shows up as pending.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../../build/app-build.ts";
import { HOST_MODULES, OUT, ROOT } from "../../build/paths.ts";
import { SURFACE_MARK, importError, reflectModule, type ModuleInfo } from "../../build/testing/reflect.ts";
import {
  compareSurface,
  declarationFiles,
  declaredModuleNames,
  privateConstructors,
  readDeclarations,
  type Declarations,
} from "../../build/testing/surface.ts";
import { runSync } from "../helpers.ts";

const files = declarationFiles();
const declared = files.flatMap((file) => declaredModuleNames(file).map((module) => ({ module, file })));
const rel = (p: string) => path.relative(ROOT, p);
const stubFile = (module: string) => {
  const name = module.slice("qcam:".length);
  return path.join(HOST_MODULES, name, `${name}.stub.ts`);
};

/** The modules the runtime's table lists (host-modules/modules.c). */
function runtimeModules(): string[] {
  const src = fs.readFileSync(path.join(HOST_MODULES, "modules.c"), "utf8");
  return [...src.matchAll(/\{\s*"(qcam:[^"]+)"\s*,/g)].map((m) => m[1]);
}

describe("host-module surfaces match their .d.ts", function () {
  let decls: Declarations;
  const runtime = new Map<string, ModuleInfo>();

  before(async function () {
    this.timeout(120_000);
    decls = readDeclarations(files);
    const built = await buildApp(path.join(ROOT, "test", "contract", "surface-probe.ts"), {
      typecheck: false,
      out: path.join(OUT, "contract", "surface", "surface-probe.qcam"),
    });
    const request = { modules: decls.modules.map((m) => m.module), construct: privateConstructors(decls.modules) };
    const r = runSync("host", built.image, { args: [JSON.stringify(request)] });
    const line = r.stdout.split("\n").find((l) => l.startsWith(SURFACE_MARK));
    assert.ok(line, `the probe printed nothing (exit ${r.code})\n${r.stderr}`);
    for (const info of JSON.parse(line.slice(SURFACE_MARK.length)) as ModuleInfo[]) runtime.set(info.module, info);
  });

  it("the declaration files compile on their own (skipLibCheck off)", function () {
    assert.deepEqual(decls.diagnostics, []);
  });

  it(`found ${declared.length} declared modules in ${files.length} .d.ts files`, function () {
    assert.deepEqual(decls.modules.map((m) => m.module).sort(), declared.map((d) => d.module).sort());
  });

  for (const module of runtimeModules().filter((m) => !declared.some((d) => d.module === m)))
    it.skip(`${module}: in the runtime's module table, but no .d.ts declares it yet`);

  for (const { module, file } of declared) {
    describe(module, function () {
      it(`C module matches ${rel(file)}`, function () {
        const decl = decls.modules.find((m) => m.module === module)!;
        const info = runtime.get(module);
        assert.ok(info, `the probe did not report ${module}`);
        const diffs = compareSurface(decl, info);
        assert.deepEqual(diffs, [], `${module} (C) differs from ${rel(file)}:\n  ${diffs.join("\n  ")}`);
      });

      if (!fs.existsSync(stubFile(module))) {
        it.skip(`stub: none yet (${rel(stubFile(module))})`);
        return;
      }
      it(`stub matches ${rel(file)}`, async function () {
        const decl = decls.modules.find((m) => m.module === module)!;
        let info: ModuleInfo;
        try {
          info = reflectModule(module, (await import(module)) as object, privateConstructors([decl])[module]);
        } catch (e) {
          info = importError(module, e);
        }
        const diffs = compareSurface(decl, info);
        assert.deepEqual(diffs, [], `${module} (stub) differs from ${rel(file)}:\n  ${diffs.join("\n  ")}`);
      });
    });
  }
});
