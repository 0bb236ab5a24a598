// The whole board unplugged and plugged back (docs/dev-link.md, section 4):
// the sim board killed, all its processes at once (SIGKILL: no chance to
// stop its app) — its pseudo-terminal pair gone with it — then a new sim board
// on the same port path. `qcam dev` and `qcam logs`
// notice, wait, reopen the port and carry on by themselves: dev runs the app
// again (its output seen), logs shows the new board's console.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { childPids, killTree, spawnChild, tmpDir, type Started } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");

async function until(what: string, f: () => boolean, timeoutMs = 30000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The board unplugged: everything of it gone at once, its pty pair included. */
async function unplug(board: Started): Promise<void> {
  killTree(board.child.pid!);
  await board.done;
}

function qcam(argv: string[]) {
  return spawnChild(process.execPath, [CLI, ...argv], { cwd: ROOT, stdin: "pipe", group: true });
}

const ticker = `import { app, time } from "qcam:app";
console.log("replug start");
let n = 0;
const t = setInterval(() => console.log("replug tick " + n++), 20);
while (!app.needExit()) time.sleepMs(5);
clearInterval(t);
`;

describe("dev link: the board unplugged and plugged back on the same port path", function () {
  this.timeout(120000);

  it("qcam dev reconnects and runs the app again; qcam logs follows the new board", async function () {
    const sdcard = tmpDir("qcam-replug-sd-");
    const port = path.join(tmpDir("qcam-replug-port-"), "board.tty");
    const boardOn = () => qcam(["board", "--sdcard", sdcard, "--link", port]);
    let board = boardOn();
    await until("the board", () => /board: \S+/.test(board.output().stdout), 60000);
    const dir = tmpDir("qcam-replug-app-");
    fs.writeFileSync(path.join(dir, "main.ts"), ticker);
    const dev = qcam(["dev", dir, "--port", port, "--no-typecheck"]);
    await until("the app", () => dev.output().stdout.includes("replug tick 2"), 60000);
    await unplug(board);
    await until("dev noticing", () => /lost the board/.test(dev.output().stderr));
    const mark = dev.output().stdout.length;
    // Plugged back: a new board (new pseudo-terminals) on the same path.
    board = boardOn();
    await until("the app again on the new board", () => /replug tick 2/.test(dev.output().stdout.slice(mark)), 60000);
    assert.equal(dev.child.exitCode, null, dev.output().stderr);
    dev.signal("SIGINT");
    assert.equal((await dev.done).code, 0, dev.output().stderr);
    // qcam logs likewise: it says hello to the new board and follows it.
    const logs = qcam(["logs", "--port", port]);
    const hellos = () => (logs.output().stderr.match(/^\[board\] sim sim-x86_64, runtime/gm) ?? []).length;
    await until("logs connected", () => hellos() === 1);
    await unplug(board);
    await until("logs noticing", () => /lost the board/.test(logs.output().stderr));
    board = boardOn();
    await until("logs on the new board", () => hellos() === 2, 60000);
    logs.signal("SIGINT");
    assert.equal((await logs.done).code, 0, logs.output().stderr);
    board.signal("SIGTERM");
    await board.done;
  });

  it("qcam board killed outright (only its own process) leaves nothing behind: the runtime ends its app by itself, the relay goes too", async function () {
    const board = spawnChild(process.execPath, [CLI, "board", "--sdcard", tmpDir("qcam-orphan-sd-"), "--link", path.join(tmpDir("qcam-orphan-port-"), "board.tty")], { cwd: ROOT });
    await until("the board", () => /board: \S+/.test(board.output().stdout), 60000);
    const kids = [...childPids(board.child.pid!, "qcam-ptypair"), ...childPids(board.child.pid!, "qcam-runtime")];
    assert.equal(kids.length, 2, "the relay and the runtime");
    board.child.kill("SIGKILL"); // not its children: they are in process groups of their own
    await board.done;
    const alive = (pid: number) => {
      try {
        return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return false;
      }
    };
    await until("the board's processes gone", () => kids.every((k) => !alive(k)), 20000);
  });
});
