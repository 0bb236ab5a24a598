// The recorder in a fleet (--mqtt URL [--board-id ID]): a retained status on
// qcam/<id>/status at every change and every 10 s, events on qcam/<id>/event,
// commands taken on qcam/<id>/cmd/<name> and answered on their reply topic,
// and a last will that marks the board offline (docs/api/mqtt.md).
//
// Commands come only through the connection made here, with the broker
// account of --mqtt: the broker's ACL decides who may publish to
// qcam/<id>/cmd/#. Nothing secret leaves the board: URLs are masked (the
// broker's, the media server's) and the RTSP password is never in a status.
import { app, time } from "qcam:app";
import { MqttClient, type MqttMessage } from "qcam:mqtt";

// The versions, put in by `qcam build` (as for the menu's About); Node tests have none.
declare const QCAM_ENGINE_VERSION: string | undefined;
declare const QCAM_RUNTIME_VERSION: string | undefined;
const VERSIONS = {
  runtime: typeof QCAM_RUNTIME_VERSION === "string" ? QCAM_RUNTIME_VERSION : "(stub)",
  engine: typeof QCAM_ENGINE_VERSION === "string" ? QCAM_ENGINE_VERSION : "(stub)",
};

/** How often the status is sent when nothing changes. */
export const STATUS_EVERY_MS = 10_000;

export interface CommandReply {
  ok: boolean;
  code?: string;
  message?: string;
  [k: string]: unknown;
}

export interface FleetOptions {
  url: string;
  boardId: string;
  /** The status now (without online/at/versions: added here). */
  status: () => Record<string, unknown>;
  /** A command's answer: ok with its result, or ok: false with an ERR_* code. */
  command: (name: string, args: Record<string, unknown>) => CommandReply;
  log: (line: string) => void;
}

export const commandError = (code: string, message: string): CommandReply => ({ ok: false, code, message });

export class Fleet {
  readonly base: string;
  #o: FleetOptions;
  #mqtt: MqttClient;
  #last = -1e12;
  #dirty = true;

  constructor(o: FleetOptions) {
    this.#o = o;
    this.base = `qcam/${o.boardId}`;
    this.#mqtt = new MqttClient(o.url, {
      clientId: `qcam-${o.boardId}`,
      will: { topic: `${this.base}/status`, payload: JSON.stringify({ online: false, at: null }), qos: 1, retain: true },
      onState: (state, reason) => {
        o.log(`mqtt ${this.#mqtt.url}: ${state}${reason ? ` (${reason})` : ""}`); // (masked)
        if (state === "connected") this.#dirty = true; // the status again after a reconnect
      },
      onMessage: (m) => this.#command(m),
    });
    this.#mqtt.subscribe(`${this.base}/cmd/+`, { qos: 1 });
    o.log(`fleet: board ${o.boardId} reports to ${this.#mqtt.url} (topics ${this.base}/...)`);
  }

  /** Something in the status changed: sent at the next tick. */
  changed(): void {
    this.#dirty = true;
  }

  /** Send the status if it changed or is due (call it from the loop). */
  tick(): void {
    const now = time.ticksMs();
    if (!this.#dirty && now - this.#last < STATUS_EVERY_MS) return;
    this.#dirty = false;
    this.#last = now;
    this.#mqtt.publish(`${this.base}/status`, JSON.stringify(this.statusObject()), { qos: 1, retain: true });
  }

  statusObject(): Record<string, unknown> {
    return { online: true, at: new Date(time.timeMs()).toISOString(), versions: { app: app.version, ...VERSIONS }, platform: app.platform, ...this.#o.status() };
  }

  event(e: Record<string, unknown>): void {
    this.#mqtt.publish(`${this.base}/event`, JSON.stringify({ at: new Date(time.timeMs()).toISOString(), ...e }), { qos: 1 });
    this.#dirty = true;
  }

  #command(m: MqttMessage): void {
    const name = m.topic.slice(`${this.base}/cmd/`.length);
    let req: Record<string, unknown> = {};
    let bad: string | null = null;
    try {
      const v: unknown = m.payload.trim() ? JSON.parse(m.payload) : {};
      if (typeof v !== "object" || v === null || Array.isArray(v)) bad = "the command is not a JSON object";
      else req = v as Record<string, unknown>;
    } catch {
      bad = "the command is not JSON";
    }
    const id = typeof req.id === "string" || typeof req.id === "number" ? req.id : null;
    const replyTo = typeof req.reply === "string" && /^[^+#\0]+$/.test(req.reply) ? req.reply : `${this.base}/reply`;
    let answer: CommandReply;
    if (bad) answer = commandError("ERR_INVALID_ARG", bad);
    else {
      const { id: _id, reply: _reply, ...args } = req;
      try {
        answer = name === "status" ? { ok: true, status: this.statusObject() } : this.#o.command(name, args);
      } catch (e) {
        answer = commandError((e as { code?: string }).code ?? "ERR_FAILED", (e as Error).message);
      }
    }
    this.#o.log(`fleet: command ${name}${id !== null ? ` (${id})` : ""}: ${answer.ok ? "ok" : `${answer.code}: ${answer.message}`}`);
    this.#mqtt.publish(replyTo, JSON.stringify({ id, ...answer }), { qos: 1 });
    this.#dirty = true;
  }

  /** Say offline (retained) and disconnect; the will is not sent. */
  close(): void {
    this.#mqtt.publish(`${this.base}/status`, JSON.stringify({ online: false, at: new Date(time.timeMs()).toISOString(), recording: false }), { qos: 1, retain: true });
    this.#mqtt.close();
  }
}
