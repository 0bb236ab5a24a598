// Servers we did not write, run as children of a test (spawnChild from
// test/helpers.ts) with their own configuration in a temporary folder, on
// free ports: nginx with Debian's libnginx-mod-rtmp (the media server
// qcam:publish is tested against) and mosquitto (the MQTT broker qcam:mqtt is
// tested against).
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { ROOT } from "../build/paths.ts";
import { spawnChild, spawnSyncChild, tmpDir, type Started } from "./helpers.ts";

export const NGINX_RTMP = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Nginx {
  dir: string;
  rtmpPort: number;
  httpPort: number;
  rec: string;
  proc: Started;
}

export function nginxConf(dir: string, rtmpPort: number, httpPort: number): string {
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
load_module ${NGINX_RTMP};
events { worker_connections 64; }
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    application live {
      live on;
      play_restart on;
      record all;
      record_path ${dir}/rec;
      record_unique on;
    }
    application secure {
      live on;
      on_publish http://127.0.0.1:${httpPort}/auth;
      notify_method get;
    }
  }
}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${httpPort};
    location /auth {
      if ($arg_user != "bob") { return 403; }
      if ($arg_pass != "s3cret") { return 403; }
      return 200;
    }
  }
}
`;
}

export async function startNginx(reuse?: Nginx): Promise<Nginx> {
  const dir = reuse?.dir ?? tmpDir("qcam-nginx-");
  const rtmpPort = reuse?.rtmpPort ?? (await freePort());
  const httpPort = reuse?.httpPort ?? (await freePort());
  const rec = path.join(dir, "rec");
  fs.mkdirSync(rec, { recursive: true });
  fs.writeFileSync(path.join(dir, "nginx.conf"), nginxConf(dir, rtmpPort, httpPort));
  const proc = spawnChild("nginx", ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-e", path.join(dir, "error.log")], { lifetime: "suite" });
  // listening once a TCP connect succeeds
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const c = net.connect(rtmpPort, "127.0.0.1", () => {
        c.destroy();
        resolve(true);
      });
      c.on("error", () => resolve(false));
    });
    if (up) break;
    if (proc.child.exitCode !== null || i > 500) throw new Error(`nginx did not start: ${fs.readFileSync(path.join(dir, "error.log"), "utf8")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { dir, rtmpPort, httpPort, rec, proc };
}

/** ffmpeg pulling rtmp://…/live/NAME into an FLV file (stream copy); it ends 3 s after data stops. */
export function pull(n: Nginx, name: string): { file: string; proc: Started } {
  const file = path.join(n.dir, `pulled-${name}.flv`);
  const proc = spawnChild("ffmpeg", ["-v", "error", "-rw_timeout", "3000000", "-i", `rtmp://127.0.0.1:${n.rtmpPort}/live/${name}`, "-c", "copy", "-y", file],
    { timeoutMs: 120_000 });
  return { file, proc };
}

/** Wait until nginx has a player on live/NAME (so it hears the stream from its first frame). */
export async function playing(n: Nginx, name: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const log = fs.existsSync(path.join(n.dir, "error.log")) ? fs.readFileSync(path.join(n.dir, "error.log"), "utf8") : "";
    if (log.includes(`play: name='${name}'`)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("ffmpeg never started playing");
}

export interface Broker { dir: string; open: number; secure: number; proc: Started }

export async function startMosquitto(): Promise<Broker> {
  const dir = tmpDir("qcam-mosquitto-");
  const open = await freePort();
  const secure = await freePort();
  const pw = path.join(dir, "passwd");
  fs.writeFileSync(pw, "");
  const r = spawnSyncChild("mosquitto_passwd", ["-b", pw, "board1", "s3cret"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  // As root, mosquitto drops to its own user after start and could no longer read files in our
  // private temporary folder: it stays the user it was started as.
  const user = process.getuid?.() === 0 ? "user root\n" : "";
  fs.writeFileSync(path.join(dir, "m.conf"), `${user}per_listener_settings true
persistence false
log_dest stderr
log_type all
listener ${open} 127.0.0.1
allow_anonymous true
listener ${secure} 127.0.0.1
allow_anonymous false
password_file ${pw}
`);
  const proc = spawnChild("mosquitto", ["-c", path.join(dir, "m.conf")], { lifetime: "suite" });
  await proc.waitFor(/mosquitto version \S+ running/, 10000, true);
  for (let i = 0; ; i++) {
    assert.ok(i < 500, `mosquitto does not listen: ${proc.output().stderr}`);
    const up = await new Promise<boolean>((resolve) => {
      const c = net.connect(secure, "127.0.0.1", () => {
        c.destroy();
        resolve(true);
      });
      c.on("error", () => resolve(false));
    });
    if (up) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  return { dir, open, secure, proc };
}


// ---- GStreamer's RTSP server in record mode (test/rtsp-record.c): what RtspPublisher is tested against

export interface RtspRecord { dir: string; port: number; proc: Started; auth: string[] }

/** Build test/rtsp-record.c with pkg-config (Debian: libgstrtspserver-1.0-dev) into `out`, when it is older than its source. */
export function buildRtspRecord(out: string): string {
  const src = path.join(ROOT, "test", "rtsp-record.c");
  const bin = path.join(out, "rtsp-record");
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= fs.statSync(src).mtimeMs) return bin;
  const flags = spawnSyncChild("pkg-config", ["--cflags", "--libs", "gstreamer-rtsp-server-1.0"], { encoding: "utf8" });
  assert.equal(flags.status, 0, "pkg-config gstreamer-rtsp-server-1.0 (installed by node bin/setup.mjs test)");
  fs.mkdirSync(out, { recursive: true });
  const r = spawnSyncChild("cc", ["-O1", "-Wall", "-Wextra", "-Werror", "-o", `${bin}.part`, src, ...flags.stdout.trim().split(/\s+/)], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  fs.renameSync(`${bin}.part`, bin);
  return bin;
}

/** Start the record-mode server (a fresh folder and port, or `reuse`'s: a restart). `auth`: [user, pass, "digest" | "basic"]. */
export async function startRtspRecord(bin: string, auth: string[] = [], reuse?: RtspRecord): Promise<RtspRecord> {
  const dir = reuse?.dir ?? tmpDir("qcam-rtsprec-");
  const port = reuse?.port ?? (await freePort());
  const a = reuse?.auth ?? auth;
  const proc = spawnChild(bin, [String(port), dir, ...a], { lifetime: "suite" });
  await proc.waitFor(`ready ${port}`, 20_000);
  return { dir, port, proc, auth: a };
}
