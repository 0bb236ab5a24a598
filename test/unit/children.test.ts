// Every process the suite starts goes through test/helpers.ts (spawnChild,
// run, spawnSyncChild), which kills it on every path — the test's end, a
// failure, a timeout, mocha's exit — or bounds it with a timeout. A child
// started any other way can outlive a failing test and keep mocha waiting.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { killTree, spawnChild } from "../helpers.ts";

const TEST = path.join(ROOT, "test");

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "fixtures" ? [] : sources(p); // fixtures are apps, run by the runtime
    return /\.(m?ts|m?js)$/.test(e.name) ? [p] : [];
  });
}

describe("child processes in the suite", function () {
  it("node:child_process is used only by test/helpers.ts (type imports aside)", function () {
    const offenders = sources(TEST)
      .filter((f) => f !== path.join(TEST, "helpers.ts"))
      .flatMap((f) => {
        const text = fs.readFileSync(f, "utf8");
        const uses = [...text.matchAll(/^import (?!type\b)[^;]*from "(node:)?child_process";|import\("(node:)?child_process"\)|require\("(node:)?child_process"\)/gm)];
        return uses.map((m) => `${path.relative(ROOT, f)}: ${m[0].split("\n")[0]}`);
      });
    assert.deepEqual(offenders, [], `start children with spawnChild, run or spawnSyncChild from test/helpers.ts:\n${offenders.join("\n")}`);
  });

  it("spawnChild: a child and the child it started are both gone after killTree; waitFor kills on giving up", async function () {
    // sh starts a sleep of its own in the background and waits in another: the grandchild must go too.
    const c = spawnChild("sh", ["-c", "sleep 300 & echo started; exec sleep 301"]);
    await c.waitFor("started");
    const grandchildren = fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n)).filter((n) => {
      try {
        const stat = fs.readFileSync(`/proc/${n}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === c.child.pid;
      } catch {
        return false;
      }
    });
    assert.equal(grandchildren.length, 1, "sh started its sleep");
    killTree(c.child.pid!);
    const r = await c.done;
    assert.equal(r.signal, "SIGKILL");
    assert.ok(!fs.existsSync(`/proc/${grandchildren[0]}`) || fs.readFileSync(`/proc/${grandchildren[0]}/stat`, "utf8").includes(") Z"), "the sleep was killed with it");

    const quiet = spawnChild("sleep", ["300"]);
    await assert.rejects(quiet.waitFor("never printed", 200), /timed out waiting for never printed/);
    assert.equal((await quiet.done).signal, "SIGKILL", "waitFor killed the child it gave up on");
  });
});
