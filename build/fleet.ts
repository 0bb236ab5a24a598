// qcam fleet: the boards a broker knows, and commands to them, over the topics
// the recorder uses with --mqtt (docs/api/mqtt.md):
//
//   qcam fleet --broker mqtt://host [--user U --password P]          list the boards
//   qcam fleet --broker URL send <board-id|all> start|stop|apply|status ['<json>']
//
// The boards are read from their retained statuses (qcam/+/status): a broker
// hands the last one of every board to a new subscriber at once. A command goes
// to qcam/<id>/cmd/<name> with a reply topic of our own; each answer is printed
// as it comes, and a board that does not answer in time is named.
//
// The client is the `mqtt` npm package (MQTT.js), the maintained Node client:
// see docs/architecture.md.
import crypto from "node:crypto";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";

export interface FleetArgs {
  broker: string;
  user?: string;
  password?: string;
  /** How long to wait for the boards' statuses and for answers. */
  timeoutMs?: number;
  /** [] lists the boards; ["send", target, command, json?] sends a command. */
  words: string[];
  out?: (line: string) => void;
  err?: (line: string) => void;
}

export const COMMANDS = ["start", "stop", "apply", "status"] as const;

/** A URL with its credentials and query values hidden. */
export const maskBrokerUrl = (u: string) => u.replace(/^([a-z]+:\/\/)[^@/]*@/i, "$1***@");

class FleetError extends Error {}

function connect(a: FleetArgs): Promise<MqttClient> {
  if (!/^mqtts?:\/\/|^wss?:\/\//i.test(a.broker)) throw new FleetError(`--broker needs mqtt://[user:password@]host[:port], not ${maskBrokerUrl(a.broker)}`);
  const opts: IClientOptions = {
    clientId: `qcam-fleet-${crypto.randomBytes(4).toString("hex")}`,
    reconnectPeriod: 0, // one attempt: a tool says what went wrong, it does not retry for ever
    connectTimeout: a.timeoutMs ?? 5000,
    protocolVersion: 4,
  };
  if (a.user !== undefined) opts.username = a.user;
  if (a.password !== undefined) opts.password = a.password;
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(a.broker, opts);
    const fail = (e: Error) => {
      c.end(true);
      const m = e.message;
      reject(new FleetError(`cannot use the broker ${maskBrokerUrl(a.broker)}: ${/Bad username or password|Not authorized/i.test(m) ? `refused (${m}): check --user and --password` : m}`));
    };
    c.once("connect", () => {
      c.removeListener("error", fail);
      resolve(c);
    });
    c.once("error", fail);
    c.once("close", () => fail(new Error("the connection closed (no broker there, or it refused us)")));
  });
}

const sub = (c: MqttClient, topic: string) =>
  new Promise<void>((resolve, reject) =>
    c.subscribe(topic, { qos: 1 }, (e, granted) => {
      if (e) reject(e);
      else if (granted?.some((g) => g.qos === 128)) reject(new FleetError(`the broker refused the subscription to ${topic} (its ACL)`));
      else resolve();
    }),
  );

export type BoardStatus = Record<string, unknown> & { online?: boolean };

/** The retained statuses: board id → status. */
async function boards(c: MqttClient, settleMs: number): Promise<Map<string, BoardStatus>> {
  const found = new Map<string, BoardStatus>();
  let last = Date.now();
  c.on("message", (topic, payload, packet) => {
    const m = /^qcam\/([^/]+)\/status$/.exec(topic);
    if (!m || !packet.retain) return;
    last = Date.now();
    try {
      found.set(m[1], JSON.parse(payload.toString("utf8")) as BoardStatus);
    } catch {
      found.set(m[1], { online: undefined, problem: "status not JSON" });
    }
  });
  await sub(c, "qcam/+/status");
  // the retained messages follow the SUBACK at once: wait until they stop coming
  while (Date.now() - last < settleMs) await new Promise((r) => setTimeout(r, 50));
  return found;
}

const get = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), o);

/** One line per board: id, online, recording, segment, fps, drops, viewers, publish, free space. */
export function formatBoards(list: Map<string, BoardStatus>): string[] {
  const rows = [["BOARD", "ONLINE", "RECORDING", "SEGMENT", "FPS", "DROPS", "VIEWERS", "PUBLISH", "FREE", "SEEN"]];
  for (const [id, s] of [...list].sort(([a], [b]) => a.localeCompare(b))) {
    const free = get(s, "card", "freeBytes");
    const seg = get(s, "segment", "path");
    const pub = get(s, "publish", "state");
    rows.push([
      id,
      s.online === true ? "yes" : s.online === false ? "OFFLINE" : "?",
      s.online === false ? "-" : get(s, "recording") === true ? "yes" : "no",
      typeof seg === "string" ? seg.replace(/^.*\//, "") : "-",
      String(get(s, "video", "measuredFps") ?? get(s, "video", "fps") ?? "-"),
      String(get(s, "video", "drops") ?? "-"),
      String(get(s, "rtsp", "viewers") ?? "-"),
      typeof pub === "string" ? pub : "-",
      typeof free === "number" ? `${(free / 1e9).toFixed(1)} GB` : "-",
      typeof s.at === "string" ? s.at : "-",
    ]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join("  ").trimEnd());
}

export async function runFleet(a: FleetArgs): Promise<number> {
  const out = a.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = a.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const timeoutMs = a.timeoutMs ?? 5000;
  let c: MqttClient | undefined;
  try {
    const [verb, target, name, json] = a.words;
    if (verb !== undefined && verb !== "send") throw new FleetError(`unknown word '${verb}': qcam fleet --broker URL [send <board-id|all> ${COMMANDS.join("|")} ['<json>']]`);
    let args: Record<string, unknown> = {};
    if (verb === "send") {
      if (!target || !name) throw new FleetError(`send needs a board and a command: send <board-id|all> ${COMMANDS.join("|")} ['<json>']`);
      if (!(COMMANDS as readonly string[]).includes(name)) throw new FleetError(`unknown command '${name}' (${COMMANDS.join(", ")})`);
      if (!/^[A-Za-z0-9_.-]+$/.test(target)) throw new FleetError(`'${target}' is not a board id`);
      if (json !== undefined) {
        let v: unknown;
        try {
          v = JSON.parse(json);
        } catch (e) {
          throw new FleetError(`the command's arguments are not JSON: ${(e as Error).message}`);
        }
        if (typeof v !== "object" || v === null || Array.isArray(v)) throw new FleetError("the command's arguments are a JSON object, e.g. '{\"fps\": 15}'");
        args = v as Record<string, unknown>;
      }
    }
    c = await connect(a);
    if (verb === undefined) {
      const list = await boards(c, Math.min(timeoutMs, 1000));
      if (list.size === 0) {
        out(`no boards on ${maskBrokerUrl(a.broker)} (none has reported a status there)`);
        return 0;
      }
      for (const l of formatBoards(list)) out(l);
      return 0;
    }
    // send
    let ids: string[];
    if (target === "all") {
      const list = await boards(c, Math.min(timeoutMs, 1000));
      ids = [...list].filter(([, s]) => s.online === true).map(([id]) => id).sort();
      if (ids.length === 0) {
        err(`no board is online on ${maskBrokerUrl(a.broker)}`);
        return 1;
      }
    } else ids = [target!];
    const replyTopic = `qcam-fleet/${crypto.randomBytes(6).toString("hex")}/reply`;
    const pending = new Map<string, string>(); // command id → board
    let failed = 0;
    const done = new Promise<void>((resolve) => {
      c!.on("message", (topic, payload) => {
        if (topic !== replyTopic) return;
        let r: { id?: string; ok?: boolean; code?: string; message?: string };
        try {
          r = JSON.parse(payload.toString("utf8")) as typeof r;
        } catch {
          return;
        }
        const board = r.id !== undefined ? pending.get(r.id) : undefined;
        if (board === undefined) return;
        pending.delete(r.id!);
        if (r.ok !== true) failed++;
        out(`${board}: ${JSON.stringify(r)}`);
        if (pending.size === 0) resolve();
      });
    });
    await sub(c, replyTopic);
    for (const id of ids) {
      const cid = `c-${crypto.randomBytes(4).toString("hex")}`;
      pending.set(cid, id);
      c.publish(`qcam/${id}/cmd/${name}`, JSON.stringify({ ...args, id: cid, reply: replyTopic }), { qos: 1 });
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    for (const board of pending.values()) {
      err(`${board}: no answer within ${(timeoutMs / 1000).toFixed(1)} s (is the board online? \`qcam fleet --broker URL\` lists them)`);
      failed++;
    }
    return failed ? 1 : 0;
  } catch (e) {
    if (!(e instanceof FleetError)) throw e;
    err(`qcam fleet: ${e.message}`);
    return 1;
  } finally {
    await c?.endAsync();
  }
}
