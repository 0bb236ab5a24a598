// qcam package --board maixcam|k230 (docs/boards.md): the MaixCAM app zip
// read by unzip and python's zipfile (not only by us): its layout, app.yaml's
// fields, main.sh executable; extracted, its launcher runs the app with the
// riscv64 runtime under qemu. The K230 overlay: the card store the runtime
// wrote (the app installed, autostart), and its init script boots the app
// under qemu.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../../build/paths.ts";
import { run, spawnSyncChild, tmpDir } from "../helpers.ts";

const CLI = path.join(ROOT, "bin", "qcam.mjs");
const qcam = (argv: string[]) => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return run(process.execPath, [CLI, ...argv], { env });
};

describe("qcam package: board packages", function () {
  this.timeout(300_000);
  const work = tmpDir("qcam-package-");
  const app = path.join(work, "app");

  before(function () {
    fs.mkdirSync(app, { recursive: true });
    fs.writeFileSync(path.join(app, "app.json"), JSON.stringify({ id: "cam.demo", name: "Demo: \"quoted\" name", version: "1.2.3", author: "Jo", desc: "a demo: with a colon" }));
    fs.writeFileSync(path.join(app, "main.ts"), 'import { app } from "qcam:app";\nconsole.log(`hello from ${app.id} ${app.version} on ${app.dataPath()}`);\n');
  });

  it("maixcam: a zip of <id>/ with app.yaml, main.sh (755), icon, runtime and image; its launcher runs the app under qemu", async function () {
    const out = path.join(work, "demo.zip");
    const r = await qcam(["package", app, "--board", "maixcam", "--out", out, "--no-typecheck"]);
    assert.equal(r.code, 0, r.stderr);
    const list = spawnSyncChild("unzip", ["-l", out], { encoding: "utf8" });
    assert.equal(list.status, 0, list.stderr);
    for (const f of ["app.yaml", "main.sh", "icon.png", "qcam-runtime", "app.qcam"]) assert.match(list.stdout, new RegExp(`\\scam\\.demo/${f.replace(".", "\\.")}\\n`));
    const py = spawnSyncChild("python3", ["-c", `
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = z.namelist()
info = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
y = z.read("cam.demo/app.yaml").decode()
fields = {}
for line in y.splitlines():
    if ": " in line and not line.startswith(" "):
        k, v = line.split(": ", 1)
        fields[k] = json.loads(v)
png = z.read("cam.demo/icon.png")
print(json.dumps({"names": sorted(n for n in names if not n.endswith("/")), "fields": fields, "main": oct(info["cam.demo/main.sh"]), "runtime": oct(info["cam.demo/qcam-runtime"]), "png": png[:8].hex(), "files": "files:" in y}))
`, out], { encoding: "utf8" });
    assert.equal(py.status, 0, py.stderr);
    const got = JSON.parse(py.stdout) as { names: string[]; fields: Record<string, string>; main: string; runtime: string; png: string; files: boolean };
    assert.deepEqual(got.names, ["cam.demo/app.qcam", "cam.demo/app.yaml", "cam.demo/icon.png", "cam.demo/main.sh", "cam.demo/qcam-runtime"]);
    assert.deepEqual(got.fields, { id: "cam.demo", name: 'Demo: "quoted" name', version: "1.2.3", author: "Jo", icon: "icon.png", desc: "a demo: with a colon" });
    assert.equal(got.main, "0o755");
    assert.equal(got.runtime, "0o755");
    assert.equal(got.png, "89504e470d0a1a0a");
    assert.ok(got.files);
    // Extracted (by unzip), the launcher runs the app with the riscv64 runtime under qemu.
    const dest = path.join(work, "maixapp-apps");
    assert.equal(spawnSyncChild("unzip", ["-q", out, "-d", dest]).status, 0);
    const sd = path.join(work, "maix-root");
    const launched = spawnSyncChild("sh", [path.join(dest, "cam.demo", "main.sh")], { encoding: "utf8", env: { ...process.env, QCAM_EXEC: "qemu-riscv64", QCAM_SDCARD: sd }, timeout: 120_000 });
    assert.equal(launched.status, 0, launched.stderr);
    assert.equal(launched.stdout, "hello from cam.demo 1.2.3 on /sdcard/apps/cam.demo/data\n");
  });

  it("k230: sdcard/ with the runtime and the app installed for autostart, rootfs/etc/init.d/S99qcam boots it under qemu", async function () {
    const out = path.join(work, "k230");
    const r = await qcam(["package", app, "--board", "k230", "--out", out, "--no-typecheck"]);
    assert.equal(r.code, 0, r.stderr);
    const card = path.join(out, "sdcard");
    assert.equal(fs.statSync(path.join(card, "qcam/bin/qcam-runtime")).mode & 0o777, 0o755);
    assert.equal(fs.readFileSync(path.join(card, "qcam/autostart"), "utf8"), "cam.demo\n");
    assert.ok(fs.existsSync(path.join(card, "qcam/apps/cam.demo/a/app.qcam")));
    const init = path.join(out, "rootfs/etc/init.d/S99qcam");
    assert.equal(fs.statSync(init).mode & 0o777, 0o755);
    assert.match(fs.readFileSync(path.join(out, "README.txt"), "utf8"), /Copy sdcard\/ onto the card/);
    const booted = spawnSyncChild("sh", [init, "run"], { encoding: "utf8", env: { ...process.env, QCAM_EXEC: "qemu-riscv64", QCAM_SDCARD: card }, timeout: 120_000 });
    assert.equal(booted.status, 0, booted.stderr);
    assert.equal(booted.stdout, "hello from cam.demo 1.2.3 on /sdcard/apps/cam.demo/data\n");
    assert.match(booted.stderr, /qcam-store: trial of cam\.demo 1\.2\.3 in slot a/);
    const apps = spawnSyncChild("qemu-riscv64", [path.join(card, "qcam/bin/qcam-runtime"), "--sdcard", card, "--apps"], { encoding: "utf8" });
    assert.equal(JSON.parse(apps.stdout).activeVersion, "1.2.3");
  });

  it("refuses a host image, and a missing or unknown --board (exit 2)", async function () {
    const host = path.join(work, "host.qcam");
    assert.equal((await qcam(["build", app, "--no-typecheck", "--out", host])).code, 0);
    const a = await qcam(["package", host, "--board", "maixcam"]);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /a board package holds a riscv64 image/);
    const b = await qcam(["package", app, "--board", "esp32"]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /--board maixcam or --board k230/);
  });
});
