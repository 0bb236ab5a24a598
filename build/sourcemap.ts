// Map the runtime's stack frames (bundle.js:line:col) back to TypeScript
// (src/file.ts:line:col) with the esbuild source map written beside an image.
import fs from "node:fs";
import path from "node:path";

interface RawMap {
  version: number;
  sources: string[];
  sourceRoot?: string;
  mappings: string;
}

/** One mapping segment: generated column -> source, line, column (all 0-based). */
type Segment = [genCol: number, src: number, line: number, col: number];

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_VALUE = new Map([...B64].map((c, i) => [c, i]));

/** Decode one line's base64 VLQ groups into absolute segments. `state`
 * carries the running source/line/column across lines, as the format says. */
function decodeLine(text: string, state: [number, number, number]): Segment[] {
  const out: Segment[] = [];
  let genCol = 0;
  for (const group of text.split(",")) {
    if (!group) continue;
    const fields: number[] = [];
    let value = 0;
    let shift = 0;
    for (const ch of group) {
      const digit = B64_VALUE.get(ch);
      if (digit === undefined) throw new Error(`bad source map character '${ch}'`);
      value += (digit & 31) << shift;
      if (digit & 32) {
        shift += 5;
      } else {
        fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
        value = 0;
        shift = 0;
      }
    }
    genCol += fields[0];
    if (fields.length >= 4) {
      state[0] += fields[1];
      state[1] += fields[2];
      state[2] += fields[3];
      out.push([genCol, state[0], state[1], state[2]]);
    }
  }
  return out;
}

export class SourceMap {
  private readonly lines: Segment[][];
  readonly sources: string[];

  constructor(raw: RawMap, mapDir: string) {
    if (raw.version !== 3) throw new Error(`unsupported source map version ${raw.version}`);
    this.sources = raw.sources.map((s) => path.resolve(mapDir, raw.sourceRoot ?? "", s));
    const state: [number, number, number] = [0, 0, 0];
    this.lines = raw.mappings.split(";").map((l) => decodeLine(l, state));
  }

  static load(file: string): SourceMap {
    return new SourceMap(JSON.parse(fs.readFileSync(file, "utf8")) as RawMap, path.dirname(file));
  }

  /** line and column 1-based, as stack traces print them. */
  lookup(line: number, column: number): { source: string; line: number; column: number } | undefined {
    const segs = this.lines[line - 1];
    if (!segs || segs.length === 0) return undefined;
    let best: Segment | undefined;
    for (const s of segs) {
      if (s[0] <= column - 1) best = s;
      else break;
    }
    best ??= segs[0];
    return { source: this.sources[best[1]], line: best[2] + 1, column: best[3] + 1 };
  }
}

/** Rewrite every "(bundle:line:col)" or "at bundle:line:col" in a stack-trace
 * line whose file is `bundleName`. Other lines pass through unchanged. */
export function mapStackLine(line: string, bundleName: string, map: SourceMap, cwd = process.cwd()): string {
  const esc = bundleName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`${esc}:(\\d+)(?::(\\d+))?`, "g");
  return line.replace(re, (whole, l: string, c: string | undefined) => {
    const hit = map.lookup(Number(l), c ? Number(c) : 1);
    if (!hit) return whole;
    const rel = path.relative(cwd, hit.source) || hit.source;
    return `${rel}:${hit.line}:${hit.column}`;
  });
}
