// A fleet trial (npm run soak runs it long): N sim boards running the recorder
// headless with --rtmp and --mqtt, pushing to one nginx-rtmp and reporting to
// one mosquitto; nginx is killed and started again halfway. Judged at the end:
// every board listed online by `qcam fleet` and publishing again, every board
// answers `send all stop`, every board's card holds every frame it said it
// stored (ffprobe), and nginx received every board's stream after the restart.
import fs from "node:fs";
import path from "node:path";
import { runFleet } from "../build/fleet.ts";
import { ROOT } from "../build/paths.ts";
import { runtimeCommand } from "../build/run.ts";
import { fixture, probeStream, spawnChild, tmpDir, type Started } from "./helpers.ts";
import { startMosquitto, startNginx } from "./servers.ts";

export interface FleetTrial {
  boards: number;
  seconds: number;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The problems found (none: the trial passed). */
export async function runFleetTrial(o: FleetTrial): Promise<string[]> {
  const problems: string[] = [];
  const image = (await fixture(path.join(ROOT, "app"))).image;
  let ngx = await startNginx();
  const mq = await startMosquitto();
  const broker = `mqtt://127.0.0.1:${mq.open}`;
  const sds: string[] = [];
  const boards: Started[] = [];
  for (let i = 0; i < o.boards; i++) {
    const sd = tmpDir("qcam-fleet-");
    sds.push(sd);
    const cmd = runtimeCommand("host", image, { sdcard: sd, args: ["--codec", "h264", "--resolution", "480p", "--fps", "10", "--bitrate", "0.3", "--segment", "10",
      "--mqtt", broker, "--board-id", `s${i}`, "--rtmp", `rtmp://127.0.0.1:${ngx.rtmpPort}/live/s${i}`] });
    boards.push(spawnChild(cmd[0], cmd.slice(1), { timeoutMs: (o.seconds + 120) * 1000 }));
  }
  const list = async (): Promise<string> => {
    let text = "";
    await runFleet({ broker, words: [], out: (l) => (text += `${l}\n`), err: (l) => (text += `${l}\n`) });
    return text;
  };
  const allPublishing = async (what: string) => {
    for (let t = 0; t < 600; t++) {
      const text = await list();
      const ok = Array.from({ length: o.boards }, (_, i) => new RegExp(`^s${i} +yes +yes .* publishing `, "m").test(text)).every(Boolean);
      if (ok) return;
      await sleep(200);
    }
    problems.push(`${what}: not every board publishing:\n${await list()}`);
  };
  await allPublishing("at the start");
  o.log(`${o.boards} boards recording and publishing`);
  await sleep((o.seconds * 1000) / 2);
  ngx.proc.kill();
  await ngx.proc.done;
  o.log("nginx killed");
  await sleep(2000);
  ngx = await startNginx(ngx);
  o.log("nginx started again");
  await allPublishing("after nginx restarted");
  await sleep((o.seconds * 1000) / 2);
  o.log(`listed:\n${await list()}`);
  let replies = "";
  const code = await runFleet({ broker, words: ["send", "all", "stop"], timeoutMs: 30_000, out: (l) => (replies += `${l}\n`), err: (l) => (replies += `${l}\n`) });
  if (code !== 0) problems.push(`send all stop: exit ${code}\n${replies}`);
  for (const b of boards) b.signal("SIGINT");
  const probe = (file: string) => {
    try {
      return probeStream(file);
    } catch (e) {
      problems.push((e as Error).message);
      return { codec: "", width: 0, height: 0, frames: 0 };
    }
  };
  for (let i = 0; i < o.boards; i++) {
    const r = await boards[i].done;
    if (r.code !== 0) problems.push(`s${i}: exit ${r.code}: ${r.stderr.slice(-500)}`);
    const m = new RegExp(`^s${i}: (\\{.*\\})$`, "m").exec(replies);
    if (!m) {
      problems.push(`s${i}: no answer to stop`);
      continue;
    }
    const reply = JSON.parse(m[1]) as { ok: boolean; frames: number };
    const dir = path.join(sds[i], "video");
    let onCard = 0;
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".mp4"))) onCard += probe(path.join(dir, f)).frames;
    if (!reply.ok || onCard !== reply.frames) problems.push(`s${i}: the board stored ${reply.frames} frames, the card holds ${onCard}`);
    const flv = fs.readdirSync(ngx.rec).filter((n) => n.startsWith(`s${i}-`)).sort();
    if (flv.length < 2) problems.push(`s${i}: nginx recorded ${flv.length} streams, not one before and one after its restart`);
    else {
      const after = probe(path.join(ngx.rec, flv[flv.length - 1]));
      if (after.codec !== "h264" || after.width !== 854 || after.frames <= 0) problems.push(`s${i}: after the restart nginx got ${JSON.stringify(after)}`);
    }
  }
  ngx.proc.kill();
  mq.proc.kill();
  return problems;
}
