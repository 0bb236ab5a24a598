// The surface probe: an app that imports each qcam:* module named in its
// first start parameter and prints what it holds at run time (see
// build/testing/reflect.ts). test/contract/surface.test.ts runs it on the real
// runtime and compares the result with the modules' .d.ts files.
import { app } from "qcam:app";
import { SURFACE_MARK, importError, reflectModule, type ModuleInfo } from "../../build/testing/reflect.ts";

const request = JSON.parse(app.args[0] ?? "{}") as { modules?: string[]; construct?: Record<string, string[]> };
const out: ModuleInfo[] = [];
for (const name of request.modules ?? []) {
  try {
    const ns = (await import(name)) as object;
    out.push(reflectModule(name, ns, request.construct?.[name] ?? []));
  } catch (e) {
    out.push(importError(name, e));
  }
}
console.log(SURFACE_MARK + JSON.stringify(out));
