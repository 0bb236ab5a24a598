// The declared surface of the qcam:* modules, read from host-modules/*/*.d.ts
// with the TypeScript compiler's own API, and its comparison with what a
// module holds at run time (build/testing/reflect.ts).
//
// TypeScript here is 7 (the native compiler). Its JavaScript API is the
// "unstable" sync API (typescript/unstable/sync): it starts the compiler as a
// child process and asks its checker about symbols and types — the same
// checker `tsc` uses, so `readonly`, optional parameters, inherited members
// and interface-typed constants come out as TypeScript understands them. The
// API is marked unstable: if an update breaks it, this file is the one place
// to change.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { API, SignatureKind, SymbolFlags, type Checker, type Symbol as TsSymbol, type Type } from "typescript/unstable/sync";
import { SyntaxKind, type Node } from "typescript/unstable/ast";
import { HOST_MODULES, ROOT } from "../paths.ts";
import type { ExportInfo, MemberInfo, ModuleInfo } from "./reflect.ts";

export interface DeclMember {
  kind: "method" | "property";
  readonly: boolean;
  /** method: [required, total] parameters (total Infinity with a rest parameter). */
  params?: [number, number];
  /** property of an object type (an interface): its members. */
  members?: Record<string, DeclMember>;
}

export interface DeclExport {
  kind: "function" | "class" | "const";
  params?: [number, number];
  /** class: instance members; const of an object type: its members. */
  members?: Record<string, DeclMember>;
  /** class: static members. */
  statics?: Record<string, DeclMember>;
  privateConstructor?: boolean;
  /** const of a primitive type: "number", "string", "boolean". */
  primitive?: string;
}

export interface DeclModule {
  module: string;
  file: string;
  exports: Record<string, DeclExport>;
  /** Type-only exports (interfaces, type aliases): nothing at run time. */
  types: string[];
}

/** host-modules/<mod>/*.d.ts, sorted. */
export function declarationFiles(root = HOST_MODULES): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(root, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of fs.readdirSync(path.join(root, d.name))) if (f.endsWith(".d.ts")) out.push(path.join(root, d.name, f));
  }
  return out.sort();
}

/** The module names a .d.ts declares, found without the compiler (for naming tests up front). */
export function declaredModuleNames(file: string): string[] {
  return [...fs.readFileSync(file, "utf8").matchAll(/^\s*declare\s+module\s+["'](qcam:[^"']+)["']/gm)].map((m) => m[1]);
}

function symbolName(s: TsSymbol): string {
  const m = /^__@(\w+)@\d+$/.exec(s.name);
  return m ? `[Symbol.${m[1]}]` : s.name;
}

function declNode(s: TsSymbol): Node | undefined {
  return (s.valueDeclaration ?? s.declarations[0])?.resolve();
}

function hasModifier(node: Node | undefined, kind: SyntaxKind): boolean {
  const mods = (node as { modifiers?: readonly Node[] } | undefined)?.modifiers;
  return !!mods?.some((m) => m.kind === kind);
}

function paramRange(checker: Checker, type: Type, kind = SignatureKind.Call): [number, number] | undefined {
  const sigs = checker.getSignaturesOfType(type, kind);
  if (!sigs.length) return undefined;
  let min = Infinity;
  let max = 0;
  for (const sig of sigs) {
    let required = 0;
    let total = 0;
    let optionalSeen = false;
    for (const p of sig.getParameters()) {
      const n = declNode(p) as { questionToken?: unknown; initializer?: unknown; dotDotDotToken?: unknown } | undefined;
      if (n?.dotDotDotToken) {
        total = Infinity;
        optionalSeen = true;
        continue;
      }
      total++;
      if (n?.questionToken || n?.initializer) optionalSeen = true;
      if (!optionalSeen) required++;
    }
    min = Math.min(min, required);
    max = Math.max(max, total);
  }
  return [min, max];
}

function membersOf(checker: Checker, type: Type, depth: number): Record<string, DeclMember> {
  const out: Record<string, DeclMember> = {};
  for (const p of checker.getPropertiesOfType(type)) {
    const node = declNode(p);
    const isMethod = (p.flags & SymbolFlags.Method) !== 0;
    const m: DeclMember = {
      kind: isMethod ? "method" : "property",
      readonly: hasModifier(node, SyntaxKind.ReadonlyKeyword) || (!!node && node.kind === SyntaxKind.GetAccessor && !hasSetter(p)),
    };
    const t = checker.getTypeOfSymbol(p);
    if (isMethod && t) m.params = paramRange(checker, t);
    else if (t && depth > 0 && isPlainObjectType(checker, t)) m.members = membersOf(checker, t, depth - 1);
    out[symbolName(p)] = m;
  }
  return out;
}

function hasSetter(p: TsSymbol): boolean {
  return p.declarations.some((d) => d.kind === SyntaxKind.SetAccessor);
}

function isPlainObjectType(checker: Checker, t: Type): boolean {
  if (checker.isArrayType(t) || checker.isTupleType(t)) return false;
  if (checker.getSignaturesOfType(t, SignatureKind.Call).length) return false;
  const s = checker.typeToString(t);
  if (/^(string|number|boolean|bigint|symbol|undefined|null|ArrayBuffer|Uint8Array)$/.test(s)) return false;
  return checker.getPropertiesOfType(t).length > 0 && !/[|&]/.test(s);
}

function primitiveOf(checker: Checker, t: Type): string | undefined {
  const s = checker.typeToString(checker.getBaseTypeOfLiteralType(t) ?? t);
  return ["number", "string", "boolean", "bigint"].includes(s) ? s : undefined;
}

export interface Declarations {
  modules: DeclModule[];
  /** Compiler errors in the declaration files (they are checked with skipLibCheck off). */
  diagnostics: string[];
}

/** Read every qcam:* module the given .d.ts files declare. */
export function readDeclarations(files: string[] = declarationFiles()): Declarations {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qcam-surface-"));
  const globals = path.join(HOST_MODULES, "globals.d.ts");
  const tsconfig = path.join(dir, "tsconfig.json");
  fs.writeFileSync(
    tsconfig,
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, types: [], lib: ["es2023", "esnext.disposable"], skipLibCheck: false, target: "es2023" },
      files: [...(fs.existsSync(globals) ? [globals] : []), ...files],
    }),
  );
  const api = new API({ cwd: dir });
  try {
    const project = api.updateSnapshot({ openProject: tsconfig }).getProjects()[0];
    const { program, checker } = project;
    const diagnostics: string[] = [];
    for (const f of files)
      for (const d of [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]) {
        const file = d.fileName ?? f;
        const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
        const line = text.slice(0, d.pos).split("\n").length;
        diagnostics.push(`${path.relative(ROOT, file)}:${line}: ${d.text}`);
      }
    const modules: DeclModule[] = [];
    for (const f of files) {
      const sf = program.getSourceFile(f);
      if (!sf) continue;
      for (const st of sf.statements) {
        if (st.kind !== SyntaxKind.ModuleDeclaration) continue;
        const modSym = checker.getSymbolAtLocation((st as unknown as { name: Node }).name);
        if (!modSym) continue;
        const name = modSym.name.replace(/^["']|["']$/g, "");
        if (!name.startsWith("qcam:")) continue;
        const mod: DeclModule = { module: name, file: f, exports: {}, types: [] };
        for (const e of checker.getExportsOfModule(modSym)) {
          const s = e.flags & SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
          const f2 = s.flags;
          if (f2 & SymbolFlags.Class) {
            const inst = checker.getDeclaredTypeOfSymbol(s);
            const ctorType = checker.getTypeOfSymbol(s)!;
            const ctors = checker.getSignaturesOfType(ctorType, SignatureKind.Construct);
            const statics = membersOf(checker, ctorType, 0);
            delete statics.prototype;
            mod.exports[e.name] = {
              kind: "class",
              members: membersOf(checker, inst, 0),
              statics,
              params: paramRange(checker, ctorType, SignatureKind.Construct),
              privateConstructor: ctors.some((c) => hasModifier(c.declaration?.resolve(), SyntaxKind.PrivateKeyword)),
            };
          } else if (f2 & SymbolFlags.Function) {
            mod.exports[e.name] = { kind: "function", params: paramRange(checker, checker.getTypeOfSymbol(s)!) };
          } else if (f2 & (SymbolFlags.Variable | SymbolFlags.Enum)) {
            const t = checker.getTypeOfSymbol(s)!;
            const prim = primitiveOf(checker, t);
            mod.exports[e.name] = prim ? { kind: "const", primitive: prim } : { kind: "const", members: membersOf(checker, t, 1) };
          } else mod.types.push(e.name);
        }
        modules.push(mod);
      }
    }
    return { modules, diagnostics };
  } finally {
    api.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- comparison

/** Members a runtime object may have that a .d.ts does not declare. */
const IMPLICIT = new Set(["[Symbol.toStringTag]"]);

function inRange(n: number | undefined, r: [number, number] | undefined): boolean {
  if (!r || n === undefined) return true;
  return n >= r[0] && n <= r[1];
}

const range = (r: [number, number]) => (r[0] === r[1] ? `${r[0]}` : `${r[0]}..${r[1] === Infinity ? "∞" : r[1]}`);

function compareMembers(where: string, decl: Record<string, DeclMember>, rt: Record<string, MemberInfo>): string[] {
  const out: string[] = [];
  for (const [name, d] of Object.entries(decl)) {
    const r = rt[name];
    const at = `${where}.${name}`;
    if (!r) {
      out.push(`${at}: declared, missing at run time`);
      continue;
    }
    if (d.kind === "method") {
      if (r.kind !== "method") out.push(`${at}: declared as a method, is a${r.kind === "accessor" ? "n accessor" : ` ${r.type} value`} at run time`);
      else if (!inRange(r.length, d.params)) out.push(`${at}: length ${r.length}, the declaration has ${range(d.params!)} parameters`);
      continue;
    }
    if (r.kind === "method") {
      out.push(`${at}: declared as a property, is a method at run time`);
      continue;
    }
    if (r.kind === "accessor") {
      if (!r.get) out.push(`${at}: no getter at run time`);
      if (d.readonly && r.set) out.push(`${at}: declared readonly, has a setter at run time`);
      if (!d.readonly && !r.set) out.push(`${at}: declared writable, has no setter at run time`);
    } else {
      if (d.readonly && r.writable) out.push(`${at}: declared readonly, writable at run time`);
      if (!d.readonly && !r.writable) out.push(`${at}: declared writable, read-only at run time`);
      if (d.members && r.members) out.push(...compareMembers(at, d.members, r.members));
    }
  }
  for (const name of Object.keys(rt)) if (!(name in decl) && !IMPLICIT.has(name)) out.push(`${where}.${name}: at run time, not declared`);
  return out;
}

function compareExport(where: string, d: DeclExport, r: ExportInfo): string[] {
  const out: string[] = [];
  if (d.kind === "function") {
    if (r.kind !== "function") return [`${where}: declared as a function, is a${r.kind === "object" ? "n object" : ` ${r.type}`} at run time`];
    if (!inRange(r.length, d.params)) out.push(`${where}: length ${r.length}, the declaration has ${range(d.params!)} parameters`);
    const protoMembers = Object.keys(r.proto ?? {});
    if (protoMembers.length) out.push(`${where}: declared as a function, has prototype members at run time (${protoMembers.join(", ")})`);
    return out;
  }
  if (d.kind === "class") {
    if (r.kind !== "function") return [`${where}: declared as a class, is a${r.kind === "object" ? "n object" : ` ${r.type}`} at run time`];
    if (d.params && !d.privateConstructor && !inRange(r.length, d.params))
      out.push(`${where}: constructor length ${r.length}, the declaration has ${range(d.params)} parameters`);
    out.push(...compareMembers(`${where}.prototype`, d.members ?? {}, r.proto ?? {}));
    out.push(...compareMembers(where, d.statics ?? {}, r.statics ?? {}));
    if (d.privateConstructor) {
      const c = r.construct;
      if (!c) out.push(`${where}: private constructor not probed`);
      else if (!c.threw) out.push(`${where}: declared with a private constructor, but new ${where}() succeeds`);
      else if (c.code !== "ERR_ILLEGAL_CONSTRUCTOR")
        out.push(`${where}: declared with a private constructor; new ${where}() should throw ERR_ILLEGAL_CONSTRUCTOR, threw ${c.name} ${c.code ?? "(no code)"}: ${c.message}`);
    }
    return out;
  }
  if (d.primitive) {
    if (r.kind !== "value" || r.type !== d.primitive) out.push(`${where}: declared as a ${d.primitive}, is ${r.kind === "value" ? `a ${r.type}` : `a${r.kind === "object" ? "n object" : " function"}`} at run time`);
    return out;
  }
  if (r.kind !== "object") return [`${where}: declared as an object, is a${r.kind === "function" ? " function" : ` ${r.type}`} at run time`];
  out.push(...compareMembers(where, d.members ?? {}, r.members ?? {}));
  return out;
}

/** Every difference between a declared module and what it holds at run time; [] when they match. */
export function compareSurface(decl: DeclModule, rt: ModuleInfo): string[] {
  if (rt.error) return [`${decl.module}: cannot be imported: ${rt.error.name}${rt.error.code ? ` [${rt.error.code}]` : ""}: ${rt.error.message}`];
  const out: string[] = [];
  const exports = rt.exports ?? {};
  for (const [name, d] of Object.entries(decl.exports)) {
    const r = exports[name];
    if (!r) out.push(`${name}: declared, not exported at run time`);
    else out.push(...compareExport(name, d, r));
  }
  for (const name of Object.keys(exports))
    if (!(name in decl.exports)) out.push(`${name}: exported at run time, not declared${decl.types.includes(name) ? " as a value (only as a type)" : ""}`);
  return out;
}

/** The classes whose constructors are private, per module (the probe tries `new X()` on them). */
export function privateConstructors(modules: DeclModule[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of modules) out[m.module] = Object.entries(m.exports).filter(([, e]) => e.privateConstructor).map(([n]) => n);
  return out;
}
