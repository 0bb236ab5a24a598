// The dev link's frame codec, both sides, from one table of frames
// (test/fixtures/devlink/frames.json, encoded by a third implementation):
// the host's TypeScript codec (build/devlink/codec.ts) here, the board's C
// codec (runtime/devlink/devlink_proto.h) through test/c/test_devlink.c on
// every runtime build that is there (host, ASan+UBSan, riscv64 under qemu).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Decoder, encodeFrame, type DecodeEvent } from "../../build/devlink/codec.ts";
import { spawnSyncChild } from "../helpers.ts";
import { buildDir, ROOT, type Flavor } from "../../build/paths.ts";

interface TableFrame {
  version: number;
  channel: number;
  flags: number;
  seq: number;
  payload: string;
}
type TableEvent = { frame: TableFrame } | { junk: string; length: number; bytes?: string };
interface Case {
  name: string;
  encode: boolean;
  frames?: TableFrame[];
  wire: string;
  events: TableEvent[];
}

const TABLE = JSON.parse(fs.readFileSync(path.join(ROOT, "test", "fixtures", "devlink", "frames.json"), "utf8")) as { cases: Case[] };

function asTable(e: DecodeEvent): TableEvent {
  if (e.kind === "frame") {
    const f = e.frame;
    return { frame: { version: f.version, channel: f.channel, flags: f.flags, seq: f.seq, payload: f.payload.toString("hex") } };
  }
  return { junk: e.why, length: e.length, ...(e.length <= 200 ? { bytes: e.bytes.toString("hex") } : {}) };
}

function decodeIn(wire: Buffer, chunk: number): TableEvent[] {
  const d = new Decoder();
  const out: TableEvent[] = [];
  for (let i = 0; i < wire.length; i += chunk) out.push(...d.push(wire.subarray(i, i + chunk)).map(asTable));
  return out;
}

/** The table as the C test reads it (see test/c/test_devlink.c). */
export function tableLines(): string {
  const lines: string[] = [];
  for (const c of TABLE.cases) {
    lines.push(`case ${c.name}`);
    const frames = c.encode ? c.frames! : [];
    for (const e of c.events) {
      if ("frame" in e) {
        const f = e.frame;
        lines.push(`frame ${f.version} ${f.channel} ${f.flags} ${f.seq} ${f.payload || "-"}`);
      } else lines.push(`junk ${e.junk} ${e.length} ${e.bytes ?? "-"}`);
    }
    if (c.encode) assert.deepEqual(c.events, frames.map((frame) => ({ frame })), `${c.name}: table events`);
    lines.push(`wire ${c.wire || "-"}`, `encode ${c.encode ? 1 : 0}`, "end");
  }
  return lines.join("\n") + "\n";
}

describe("dev link: frame codec (one table, TypeScript and C)", function () {
  it("the table covers frames, text, garbage and every junk reason", function () {
    const reasons = new Set(TABLE.cases.flatMap((c) => c.events.flatMap((e) => ("junk" in e ? [e.junk] : []))));
    assert.deepEqual([...reasons].sort(), ["cobs", "crc", "length", "short", "toolong", "version"]);
    assert.ok(TABLE.cases.filter((c) => c.encode).length >= 10);
  });

  for (const c of TABLE.cases) {
    it(`TypeScript: ${c.name}`, function () {
      const wire = Buffer.from(c.wire, "hex");
      if (c.encode) {
        const enc = Buffer.concat(c.frames!.map((f) => encodeFrame({ ...f, payload: Buffer.from(f.payload, "hex") })));
        assert.equal(enc.toString("hex"), c.wire, "encoded bytes");
      }
      for (const chunk of [Math.max(1, wire.length), 1, 7]) assert.deepEqual(decodeIn(wire, chunk), c.events, `decoded ${chunk} bytes at a time`);
    });
  }

  it("TypeScript: a payload over 4096 bytes is refused", function () {
    assert.throws(() => encodeFrame({ channel: 0, seq: 0, payload: Buffer.alloc(4097) }), RangeError);
  });

  for (const flavor of ["host", "asan", "riscv64"] as Flavor[]) {
    it(`C (${flavor} build): the same table`, function () {
      const bin = path.join(buildDir(flavor), "qcam-test-devlink");
      if (flavor !== "host" && !fs.existsSync(bin)) this.skip();
      const cmd = flavor === "riscv64" ? ["qemu-riscv64", bin] : [bin];
      const r = spawnSyncChild(cmd[0], cmd.slice(1), { input: tableLines(), encoding: "utf8", maxBuffer: 16 << 20 });
      assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^ok ${TABLE.cases.length} \\d+\\n$`));
      assert.equal(r.stderr, "");
    });
  }
});
