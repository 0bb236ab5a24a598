/**
 * MQTT 3.1.1 client: report to and take commands from a broker (mosquitto,
 * EMQX, HiveMQ, AWS IoT...), the way a fleet of boards is watched and
 * steered. The client runs on a thread of its own: publish(), subscribe()
 * and unsubscribe() only queue; messages arrive on the app's loop
 * (onMessage). It reconnects by itself, subscribes again, and sends again the
 * QoS 1 messages the broker had not acknowledged. Details: docs/api/mqtt.md.
 */
declare module "qcam:mqtt" {
  /** connecting: TCP + CONNECT; connected: the broker accepted (CONNACK 0);
   * waiting: the last attempt or the connection failed, the next comes after
   * a back-off; closed: after close(). */
  export type MqttState = "connecting" | "connected" | "waiting" | "closed";

  export interface MqttMessage {
    topic: string;
    /** The payload as UTF-8 text. */
    payload: string;
    /** The payload's bytes (a copy). */
    data: ArrayBuffer;
    qos: 0 | 1;
    /** A retained message the broker kept (sent on subscribing). */
    retain: boolean;
  }

  export interface MqttWill {
    /** Published by the broker if the connection ends without close() (a crash, power, network). */
    topic: string;
    payload: string | ArrayBuffer | ArrayBufferView;
    qos?: 0 | 1;
    retain?: boolean;
  }

  export interface MqttClientOptions {
    /** Default "qcam-" and 8 random hex digits. At most 63 bytes (brokers must take 1..23 letters and digits). */
    clientId?: string;
    /** Override the URL's user and password. */
    username?: string;
    password?: string;
    /** Seconds (1..65535, default 30): a PINGREQ after this long without sending; no answer in 1.5x ends the connection. */
    keepaliveS?: number;
    /** Default true (a new session on every connect; subscriptions are made again by the client). */
    cleanSession?: boolean;
    will?: MqttWill;
    /** Bound of queued topics + payloads (4096..268435456, default 1 MiB): the oldest unsent publishes are dropped to make room. */
    queueBytes?: number;
    /** Longest wait between connection attempts, ms (500..600000, default 8000). */
    maxBackoffMs?: number;
    /** TCP connect + CONNACK within this, ms (100..600000, default 5000). */
    connectTimeoutMs?: number;
    /** A message for one of the subscriptions, on the app's loop. */
    onMessage?: (message: MqttMessage) => void;
    /** Every state change but the last (close() is the app's own doing), on the app's loop; `reason` says why an attempt failed ("refused: bad user name or password", ...). */
    onState?: (state: MqttState, reason?: string) => void;
  }

  export interface MqttPublishOptions {
    /** 0 (default): at most once; 1: at least once (kept until the broker acknowledges, sent again after a reconnect). */
    qos?: 0 | 1;
    /** The broker keeps it for later subscribers (an empty payload clears it). */
    retain?: boolean;
  }

  export interface MqttStats {
    state: MqttState;
    /** The URL with the user and password replaced by `***`. */
    url: string;
    clientId: string;
    /** PUBLISH packets sent (resends included), QoS 1 ones acknowledged, PUBLISH packets received. */
    sent: number;
    acked: number;
    received: number;
    /** Publishes dropped: a full queue, or still queued at close(). */
    dropped: number;
    /** Messages dropped because more than 1024 waited for the app's loop. */
    droppedIn: number;
    /** Publishes waiting (unsent, or QoS 1 not yet acknowledged). */
    queued: number;
    connects: number;
    reconnects: number;
    /** Why the last attempt or connection failed (no credentials in it), or null. */
    lastError: string | null;
  }

  /**
   * A client of the broker at `mqtt://[user[:pass]@]host[:port]` (port 1883).
   * @throws TypeError/RangeError ERR_INVALID_ARG for a bad URL or options;
   *   Error ERR_UNSUPPORTED for mqtts://.
   */
  export class MqttClient {
    constructor(url: string, options?: MqttClientOptions);
    /** The masked URL. */
    readonly url: string;
    readonly clientId: string;
    readonly state: MqttState;
    /** Queue a message (never waits for the network). @throws ERR_INVALID_ARG for a topic with + or #, a payload that is not a string or bytes. */
    publish(topic: string, payload: string | ArrayBuffer | ArrayBufferView, options?: MqttPublishOptions): void;
    /** Subscribe (kept across reconnects). `filter` may use + and #. */
    subscribe(filter: string, options?: { qos?: 0 | 1 }): void;
    unsubscribe(filter: string): void;
    stats(): MqttStats;
    /** Send what is queued (up to 2 s), DISCONNECT (the broker does not publish the will) and close. Returns the final stats (undefined if already closed). Idempotent. */
    close(): MqttStats | undefined;
    [Symbol.dispose](): void;
  }
}
