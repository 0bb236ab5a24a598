// The sim page's HTTP parser (host-modules/display/http.c) under libFuzzer
// with ASan and UBSan (Debian's clang): its fuzzer lives beside it
// (fuzz_http.c); here a bounded run from seeds of every request the page and
// its scripting interface send, plus malformed ones. A crash, leak or
// invariant failure fails the test and leaves the input in out/fuzz/artifacts/.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { FUZZ_DIR as DIR, compileFuzzer } from "../fuzz.ts";
import { spawnSyncChild } from "../helpers.ts";

const BIN = path.join(DIR, "fuzz_http");
const SEEDS = path.join(DIR, "corpus-http");

const REQUESTS = [
  "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
  "GET /frame?after=12&epoch=345 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: keep-alive\r\n\r\n",
  "POST /key?name=ok&action=down HTTP/1.1\r\nHost: localhost:8080\r\nContent-Length: 0\r\n\r\n",
  "POST /touch?action=move&x=10&y=%32%30 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n",
  "GET /screenshot.png HTTP/1.0\r\n\r\n",
  "GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n",
  "GET / HTTP/2.0\r\n\r\n",
  "POST /key HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
  "GET /\x01 HTTP/1.1\r\n\r\n",
  "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
  "GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: 127.0.0.1",
];

describe("the sim page's HTTP parser under libFuzzer (fuzz_http.c)", function () {
  this.timeout(300_000);
  before(function () {
    assert.equal(spawnSyncChild("clang", ["--version"]).status, 0, "clang (installed by node bin/setup.mjs test) builds the fuzzer");
    fs.mkdirSync(SEEDS, { recursive: true });
    fs.mkdirSync(path.join(DIR, "artifacts"), { recursive: true });
    REQUESTS.forEach((r, i) => fs.writeFileSync(path.join(SEEDS, `seed-${i}`), r, "latin1"));
    compileFuzzer(BIN, ["host-modules/display/fuzz_http.c", "host-modules/display/http.c"]);
  });

  it("200000 inputs mutated from the page's requests (and malformed ones) break no invariant", function () {
    const r = spawnSyncChild(BIN, ["-runs=200000", "-max_len=2048", `-artifact_prefix=${path.join(DIR, "artifacts", "http-")}`, SEEDS], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr.slice(-4000));
    assert.match(r.stderr, /Done 200000 runs/);
  });
});
