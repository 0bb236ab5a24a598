// Contract tests: every suite in test/contract/<mod>.contract.ts runs against
// the stub in Node and, bundled into an app image, against the C module in the
// real runtime (x86-64, riscv64 under qemu, and the ASan+UBSan build). A stub
// that does something else than its C module fails here.
import assert from "node:assert/strict";
import type { Flavor } from "../../build/paths.ts";
import { contractFiles, loadSuite, runRuntimeSides, runStubSide, type RuntimeRun } from "./harness.ts";
import type { CaseResult } from "./kit.ts";

const FLAVORS: Flavor[] = ["host", "riscv64", "asan"];
/** The flavors with everything a case can need (a sim Camera, the codec plugin): no case may skip there. */
const COMPLETE: readonly Flavor[] = ["host", "asan"];

/**
 * The cases the riscv64 runtime skips, by suite and name: it has no encoder
 * or decoder without a replay stream (the sim's codec plugin is host-only).
 * Any other skip fails, and so does a case listed here that riscv64 ran.
 */
const RISCV64_SKIPS: Record<string, readonly string[]> = {
  "qcam:audio": [
    "a G.711 Frame is no video: splitAccessUnits and a Decoder name its codec",
    "one sink, two links: a video link and an audio link feed it at once; a second of a kind is ERR_BUSY",
  ],
  "qcam:link": [
    "link(): sinks and options are checked; a failed link leaves its parts free",
    "a link of `frames: 6`: counts add up, the card holds what the sink wrote; linked parts refuse with ERR_BUSY",
    "capture: true keeps the last encoded picture; without it capture() throws ERR_NO_CAPTURE",
    "drops.source counts what the source dropped while linked, not the frames nobody read before",
    "drops.source stops when the link stops reading: frames that fall due while it drains or waits to be closed are not its",
    "a full card: the sink's ENOSPC reaches onError at a needExit() turn; counts still add up",
  ],
  "qcam:overlay": ["a linked overlay draws every picture that reaches the encoder; closing it while linked is allowed"],
  "qcam:mp4": ["linked: camera → encoder → Mp4Writer; ERR_BUSY while linked; every frame the link wrote is in the file"],
  "qcam:ts": ["linked: camera → encoder → TsWriter; ERR_BUSY while linked; every frame the link wrote is in the file"],
  "qcam:rtsp": [
    "pull mode: write(frame) counts what reaches the stream; a codec without a track is refused",
    "a stream as a link's sink: ERR_BUSY while linked (stream and server), frames counted, closes after",
  ],
  "qcam:video": [
    "h264: one frame per image; keyframes on the first, every gop and after requestIdr(); pts from the image",
    "h265: one frame per image; keyframes on the first, every gop and after requestIdr(); pts from the image",
    "frame sizes follow the rate: a keyframe outweighs its P frames; more bits, more bytes",
    "encode() takes only Images of its size in nv21, nv12 or yuv420p",
    "Frame: bytes, close, ERR_CLOSED; Encoder: close twice, ERR_CLOSED, wrong this",
    "h264: decode what was encoded: one yuv420p Image per unit, of the encoded size, with its pts",
    "h265: decode what was encoded: one yuv420p Image per unit, of the encoded size, with its pts",
    "Decoder errors: other codec, not bytes, ptsUs, data it rejects, closed",
    "what an encoder wrote reads back: EsReader and splitAccessUnits see the same units",
  ],
};
/** Why riscv64 has no codec: the build has none (ENOTSUP), nothing else. */
const RISCV64_NO_CODEC = /^Error ENOTSUP: this build has no h26[45] (encoder|decoder)\b/;

for (const [mod, file] of contractFiles()) {
  const suite = await loadSuite(file);

  describe(`${suite.module} contract`, function () {
    describe(`stub (host-modules/${mod}/${mod}.stub.ts)`, function () {
      let results: CaseResult[];
      before(async function () {
        results = await runStubSide(suite);
      });
      suite.cases.forEach((c, i) => {
        it(c.name, function () {
          const r = results[i];
          assert.equal(r.name, c.name);
          // The stub side has an Image source, an encoder and a decoder: a skip here is a failure.
          assert.equal(r.status, "pass", r.message);
        });
      });
    });

    describe(`C module (${FLAVORS.join(", ")})`, function () {
      const runs = new Map<Flavor, RuntimeRun>();
      before(async function () {
        this.timeout(300_000);
        for (const r of await runRuntimeSides(mod, suite, FLAVORS)) runs.set(r.flavor, r);
      });

      if (suite.cases.some((c) => c.needs.includes("encoder") || c.needs.includes("decoder")))
        it("host and ASan runtimes have their encoders and decoders (a broken codec plugin fails here)", function () {
          for (const flavor of COMPLETE) {
            const probe = runs.get(flavor)?.report?.codecErrors;
            assert.deepEqual(probe, { encoder: [], decoder: [] }, `${flavor}: ${JSON.stringify(probe)}`);
          }
          const rv = runs.get("riscv64")?.report?.codecErrors;
          assert.ok(rv, "riscv64: no codec probe in the report");
          for (const e of [...rv.encoder, ...rv.decoder]) assert.match(e, RISCV64_NO_CODEC, "riscv64 lacks a codec for another reason");
        });

      it("the app ran every case and exited 0", function () {
        for (const [flavor, r] of runs) {
          assert.equal(r.code, 0, `${flavor}: exit ${r.code}\n${r.stderr}`);
          assert.ok(r.report, `${flavor}: no results printed\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
          assert.deepEqual(r.report.results.map((x) => x.name), suite.cases.map((c) => c.name), `${flavor}: the cases that ran`);
          assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error/, flavor);
        }
      });

      suite.cases.forEach((c, i) => {
        it(c.name, function () {
          const failures: string[] = [];
          const expectSkip = (RISCV64_SKIPS[suite.module] ?? []).includes(c.name);
          for (const [flavor, r] of runs) {
            const res = r.report?.results[i];
            if (!res) failures.push(`${flavor}: did not run`);
            else if (res.status === "fail") failures.push(`${flavor}: ${res.message}`);
            else if (res.status === "skip" && COMPLETE.includes(flavor))
              failures.push(`${flavor} skipped it (${res.message}); codec probe: ${JSON.stringify(r.report?.codecErrors)}`);
            else if (res.status === "skip" && flavor === "riscv64" && !expectSkip)
              failures.push(`riscv64 skipped it (${res.message}), and it is not in RISCV64_SKIPS["${suite.module}"]`);
            else if (res.status === "pass" && flavor === "riscv64" && expectSkip)
              failures.push(`riscv64 ran it: take it off RISCV64_SKIPS["${suite.module}"]`);
          }
          assert.deepEqual(failures, [], failures.join("\n"));
        });
      });
    });
  });
}
