// The TypeScript examples of README.md and docs/**/*.md, as the docs test
// (test/integration/docs-examples.test.ts) runs them. A block is
//
//   ```ts            a whole app: type-checked against host-modules/*/*.d.ts,
//                    built and run on the host runtime on an empty SD card
//   ```ts test       a whole app test file: run with `qcam test` on a copy of
//                    the recorder app (app/src), as test/<name>.test.ts
//   ```ts fragment   not a whole program (an illustration): neither checked nor run
//
// An HTML comment on the line before the fence sets how an app runs:
//   <!-- example: args="--record 1" sigint=1 exit=0 -->
// `args`: the app's arguments; `sigint`: seconds after which it gets SIGINT
// (what Ctrl-C does; for examples that loop until stopped); `exit`: the exit
// status it must end with (default 0); `setup="k230_mp4_muxer /sdcard/x.mp4 90"`:
// an app/examples/ example (and its arguments) run first on the same card, for
// an example that reads a file (the prose beside it must say so).
import fs from "node:fs";
import path from "node:path";

type RunOptions = Pick<DocBlock, "args" | "sigintAfterS" | "exit" | "setup">;

export type BlockKind = "app" | "test" | "fragment";

export interface DocBlock {
  /** The markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  kind: BlockKind;
  /** The code (the lines between the fences). */
  code: string;
  args: string[];
  sigintAfterS?: number;
  exit: number;
  /** An app/examples/ example name and its arguments, run first on the same card. */
  setup?: string[];
}

/** Where a block's code line `n` (1-based) is in its markdown file. */
export function mdLine(b: DocBlock, n: number): string {
  return `${b.file}:${b.line + n}`;
}

/** The markdown files whose examples are tested: README.md and docs/**\/*.md, sorted. */
export function docFiles(root: string): string[] {
  const out = ["README.md"];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const p = path.join(rel, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".md")) out.push(p);
    }
  };
  walk("docs");
  return out.sort();
}

function splitArgs(s: string): string[] {
  return [...s.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

/** Parse `key=value key="a b"` from an `<!-- example: ... -->` comment. */
function parseOptions(text: string, where: string): RunOptions {
  const opts: RunOptions = { args: [], exit: 0 };
  for (const m of text.matchAll(/(\w+)=(?:"([^"]*)"|(\S+))/g)) {
    const [key, value] = [m[1], m[2] ?? m[3]];
    if (key === "args") opts.args = splitArgs(value);
    else if (key === "sigint") opts.sigintAfterS = Number(value);
    else if (key === "exit") opts.exit = Number(value);
    else if (key === "setup") opts.setup = splitArgs(value);
    else throw new Error(`${where}: unknown example option '${key}' (args, sigint, exit, setup)`);
    if (Number.isNaN(opts.sigintAfterS) || Number.isNaN(opts.exit)) throw new Error(`${where}: '${key}' needs a number`);
  }
  const rest = text.replace(/(\w+)=(?:"([^"]*)"|(\S+))/g, "").trim();
  if (rest) throw new Error(`${where}: cannot read example option '${rest}'`);
  return opts;
}

/** Every ```ts / ```typescript block of one markdown file. */
export function extractBlocks(root: string, file: string): DocBlock[] {
  const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^(\s*)(`{3,}|~{3,})\s*(\S*)\s*(.*)$/);
    if (!open) continue;
    const [, indent, fence, lang, info] = open;
    let j = i + 1;
    while (j < lines.length && !(lines[j].startsWith(indent + fence[0].repeat(fence.length)) && lines[j].trim() === fence[0].repeat(lines[j].trim().length)))
      j++;
    if (!/^(ts|typescript|tsx)$/i.test(lang)) {
      i = j;
      continue;
    }
    const where = `${file}:${i + 1}`;
    const words = info.trim().split(/\s+/).filter(Boolean);
    if (words.length > 1 || (words[0] && words[0] !== "fragment" && words[0] !== "test"))
      throw new Error(`${where}: unknown block marker '${info.trim()}' (\`\`\`ts, \`\`\`ts test or \`\`\`ts fragment)`);
    const kind: BlockKind = words[0] === "fragment" ? "fragment" : words[0] === "test" ? "test" : "app";
    const comment = i > 0 ? lines[i - 1].match(/^\s*<!--\s*example:(.*?)-->\s*$/) : null;
    if (comment && kind !== "app") throw new Error(`${where}: run options are for whole apps (\`\`\`ts), not '${kind}' blocks`);
    const code = lines
      .slice(i + 1, j)
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
      .join("\n");
    blocks.push({ file, line: i + 1, kind, code, ...(comment ? parseOptions(comment[1], where) : { args: [], exit: 0 }) });
    i = j;
  }
  return blocks;
}

export function allBlocks(root: string): DocBlock[] {
  return docFiles(root).flatMap((f) => extractBlocks(root, f));
}

/** A file name for a block: README.md:8 -> README_md_L8. */
export function slug(b: DocBlock): string {
  return `${b.file.replace(/[^A-Za-z0-9]+/g, "_")}_L${b.line}`;
}
