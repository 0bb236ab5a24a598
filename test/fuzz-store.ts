// Seeds and dictionary for the app store's text parsers (runtime/store/fuzz_store.c):
// state records (valid, clamped, removed, broken), key lists (comments,
// blanks, too many, bad hex) and store requests from the dev link. Each
// says what the target's trace line must show for it.
import type { Seed } from "./fuzz.ts";

const KEY = "0123456789abcdef".repeat(4);
const seed = (name: string, mode: number, text: string, expect: Record<string, string | number>): Seed => ({
  name,
  data: Buffer.concat([Buffer.from([mode]), Buffer.from(text, "latin1")]),
  expect,
});

export function storeSeeds(): Seed[] {
  const rec = (body: string) => `qcam-app-state 1\n${body}end\n`;
  return [
    seed("state-valid", 0, rec("seq 7\nactive a\npending b\ntries 2\nversion.a 1.0.0\nversion.b 2.0.0\nrollback x\n"), { parser: "state", r: 0, active: "a", pending: "b", tries: 2, seq: 7, a: "1.0.0", b: "2.0.0" }),
    seed("state-blank-lines", 0, `\nqcam-app-state 1\n\nactive b\n\nend\n`, { parser: "state", r: 0, active: "b", pending: "-" }),
    seed("state-tries-clamped", 0, rec("pending a\ntries 99\n"), { parser: "state", r: 0, pending: "a", tries: 3 }),
    seed("state-tries-negative", 0, rec("pending a\ntries -4\n"), { parser: "state", r: 0, tries: 0 }),
    seed("state-same-slot", 0, rec("active a\npending a\ntries 3\n"), { parser: "state", r: 0, active: "a", pending: "-" }),
    seed("state-bad-slot", 0, rec("active x\npending -\n"), { parser: "state", r: 0, active: "-" }),
    seed("state-long-version", 0, rec(`version.a ${"9".repeat(300)}\n`), { parser: "state", r: 0 }),
    seed("state-removed", 0, rec("removed 1\n"), { parser: "state", r: -2 }),
    seed("state-no-end", 0, "qcam-app-state 1\nactive a\n", { parser: "state", r: -74 }),
    seed("state-no-magic", 0, "active a\nend\n", { parser: "state", r: -74 }),
    seed("state-empty", 0, "", { parser: "state", r: -74 }),
    seed("keys-one", 1, `${KEY}\n`, { parser: "keys", r: 0, n: 1, first: "0123" }),
    seed("keys-comments", 1, `# ours\n\n  ${KEY.toUpperCase()}\t\r\n# end\n`, { parser: "keys", r: 0, n: 1, first: "0123" }),
    seed("keys-four", 1, `${KEY}\n`.repeat(4), { parser: "keys", r: 0, n: 4 }),
    seed("keys-too-many", 1, `${KEY}\n`.repeat(5), { parser: "keys", r: -74, n: 0 }),
    seed("keys-short", 1, `${KEY.slice(1)}\n`, { parser: "keys", r: -74 }),
    seed("keys-not-hex", 1, `${KEY.slice(0, 63)}g\n`, { parser: "keys", r: -74 }),
    seed("keys-empty", 1, "", { parser: "keys", r: 0, n: 0 }),
    seed("field-install", 2, `op=install\nimage=${KEY}\nautostart=1\n`, { parser: "field", op: "install", id: "-" }),
    seed("field-rollback", 2, "op=rollback\nid=demo\n", { parser: "field", op: "rollback", id: "demo" }),
    seed("field-long-op", 2, `op=${"y".repeat(40)}\n`, { parser: "field", oplen: 15 }),
    seed("field-no-newline", 2, "id=x", { parser: "field", op: "-", id: "x" }),
    seed("field-prefix-only", 2, "opx=1\nop\n", { parser: "field", op: "-" }),
  ];
}

export const STORE_DICT = ["qcam-app-state 1\n", "seq ", "active ", "pending ", "tries ", "version.a ", "version.b ", "rollback ", "removed 1\n", "end\n", "op=", "id=", "image=", "#", KEY].map((t) => Buffer.from(t, "latin1"));
