// Signed app images (docs/image-format.md "Signature", docs/app-store.md
// "Signed images"): qcam keygen, qcam build --sign, the verifier's refusal of
// a bad signature (host, ASan, riscv64 under qemu), and a card that holds
// public keys installing and booting only images one of them signed. Every
// key is made in a temporary folder.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildApp } from "../../build/app-build.ts";
import { readImage, sealImage, SectionType } from "../../build/image.ts";
import { ROOT, runtimeBinary, type Flavor } from "../../build/paths.ts";
import { readPrivateKey, signatureOffset, signImage } from "../../build/sign.ts";
import { run, spawnSyncChild, tmpDir } from "../helpers.ts";

function runtime(flavor: Flavor, args: string[]) {
  const cmd = flavor === "riscv64" ? "qemu-riscv64" : runtimeBinary(flavor);
  const argv = flavor === "riscv64" ? [runtimeBinary("riscv64"), ...args] : args;
  const r = spawnSyncChild(cmd, argv, { encoding: "utf8", timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p).toString("base64");
    }
  };
  walk(dir);
  return out;
}

const qcam = (argv: string[]) => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return run(process.execPath, [path.join(ROOT, "bin", "qcam.mjs"), ...argv], { env });
};

describe("app store: signed images", function () {
  this.timeout(600_000);
  const work = tmpDir("qcam-sign-");
  const keys = path.join(work, "keys");
  let src = "";
  let unsigned = "";
  let signed = "";
  let foreign = "";
  let pub = "";

  before(async function () {
    src = path.join(work, "src");
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, "app.json"), JSON.stringify({ id: "demo", name: "demo", version: "1.0.0" }));
    fs.writeFileSync(path.join(src, "main.ts"), 'import { app } from "qcam:app";\nconsole.log(`running ${app.id} ${app.version}`);\n');
    unsigned = (await buildApp(src, { typecheck: false, out: path.join(work, "unsigned.qcam") })).image;
    const k = await qcam(["keygen", "--out", path.join(keys, "dev.key")]);
    assert.equal(k.code, 0, k.stderr);
    pub = k.stdout.trim();
    const o = await qcam(["keygen", "--out", path.join(keys, "other.key")]);
    assert.equal(o.code, 0, o.stderr);
    signed = path.join(work, "signed.qcam");
    fs.writeFileSync(signed, signImage(fs.readFileSync(unsigned), readPrivateKey(path.join(keys, "dev.key"))));
    foreign = path.join(work, "foreign.qcam");
    fs.writeFileSync(foreign, signImage(fs.readFileSync(unsigned), readPrivateKey(path.join(keys, "other.key"))));
  });

  it("qcam keygen: a private key of mode 0600, the public key printed and in FILE.pub; never overwritten", async function () {
    assert.match(pub, /^[0-9a-f]{64}$/);
    assert.equal(fs.statSync(path.join(keys, "dev.key")).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(path.join(keys, "dev.key"), "utf8"), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(fs.readFileSync(path.join(keys, "dev.key.pub"), "utf8"), `${pub}\n`);
    const before = fs.readFileSync(path.join(keys, "dev.key"));
    const again = await qcam(["keygen", "--out", path.join(keys, "dev.key")]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists: a key is never overwritten/);
    assert.deepEqual(fs.readFileSync(path.join(keys, "dev.key")), before);
  });

  it("qcam build --sign KEY: the image carries a signature section with the signer's key; it verifies and runs", async function () {
    const out = path.join(work, "built-signed.qcam");
    const b = await qcam(["build", src, "--no-typecheck", "--out", out, "--sign", path.join(keys, "dev.key")]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, new RegExp(`signed by ${pub}`));
    const buf = fs.readFileSync(out);
    const sig = readImage(buf).sections.find((s) => s.type === SectionType.Signature);
    assert.equal(sig?.data.length, 96);
    assert.equal(sig?.data.subarray(0, 32).toString("hex"), pub);
    const v = runtime("host", ["--verify", out]);
    assert.equal(v.code, 0, v.stderr);
    const r = runtime("host", [out]);
    assert.equal(r.stdout, "running demo 1.0.0\n");
    const bad = await qcam(["build", src, "--no-typecheck", "--out", out, "--sign", path.join(keys, "dev.key.pub")]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /is not a private key/);
  });

  /** The signed image with one byte of its bytecode changed, resealed (the SHA-256 holds). */
  function tampered(): string {
    const b = Buffer.from(fs.readFileSync(signed));
    const img = readImage(b);
    const code = img.sections[img.entrySection].data;
    code[code.length - 1] ^= 1;
    sealImage(b);
    const f = path.join(work, "tampered.qcam");
    fs.writeFileSync(f, b);
    return f;
  }

  for (const flavor of ["host", "asan", "riscv64"] as const) {
    it(`${flavor}: the verifier refuses a tampered signed image (24) and a forged signature; a torn one is corrupt (14)`, async function () {
      let good = signed;
      let bad = tampered();
      if (flavor === "riscv64") {
        const rv = (await buildApp(src, { target: "riscv64", typecheck: false, out: path.join(work, "rv.qcam") })).image;
        good = path.join(work, "rv-signed.qcam");
        fs.writeFileSync(good, signImage(fs.readFileSync(rv), readPrivateKey(path.join(keys, "dev.key"))));
        const b = Buffer.from(fs.readFileSync(good));
        b[signatureOffset(b) + 40] ^= 0x10; // a byte of the signature itself
        sealImage(b);
        bad = path.join(work, "rv-forged.qcam");
        fs.writeFileSync(bad, b);
      }
      assert.equal(runtime(flavor, ["--verify", good]).code, 0);
      const r = runtime(flavor, ["--verify", bad]);
      assert.equal(r.code, 24, r.stderr);
      assert.match(r.stderr, new RegExp(`bad signature: the image is not what key ${pub.slice(0, 8)}\\.\\.\\. signed`));
      if (flavor === "host") {
        const forged = Buffer.from(fs.readFileSync(signed));
        forged[signatureOffset(forged) + 32] ^= 1;
        sealImage(forged);
        const f = path.join(work, "forged.qcam");
        fs.writeFileSync(f, forged);
        assert.equal(runtime("host", ["--verify", f]).code, 24);
        const torn = Buffer.from(fs.readFileSync(signed));
        torn[200] ^= 1;
        fs.writeFileSync(f, torn);
        assert.equal(runtime("host", ["--verify", f]).code, 14);
      }
    });
  }

  describe("a card that holds public keys", function () {
    const card = (name: string) => path.join(work, "cards", name);
    function trusted(name: string): string {
      const sd = card(name);
      fs.rmSync(sd, { recursive: true, force: true });
      return sd;
    }

    it("qcam trust KEY.pub: installs and boots only images signed by it", async function () {
      const sd = trusted("cli");
      const t = await qcam(["trust", path.join(keys, "dev.key.pub"), "--sdcard", sd]);
      assert.equal(t.code, 0, t.stderr);
      assert.equal(fs.readFileSync(path.join(sd, "qcam", "keys"), "utf8"), `${pub}\n`);
      // twice: no second line
      assert.equal((await qcam(["trust", pub, "--sdcard", sd])).code, 0);
      assert.equal(fs.readFileSync(path.join(sd, "qcam", "keys"), "utf8"), `${pub}\n`);
      const f = await qcam(["flash", src, "--no-typecheck", "--sdcard", sd, "--autostart", "--sign", path.join(keys, "dev.key")]);
      assert.equal(f.code, 0, f.stderr);
      assert.match(f.stdout, /on trial 1\.0\.0/);
      const b = runtime("host", ["--sdcard", sd, "--boot"]);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout, "running demo 1.0.0\n");
    });

    for (const c of [
      { name: "an unsigned image", code: 36, message: /unsigned image: this board runs only images signed by one of its 1 key \(qcam build --sign KEY\)/, image: () => unsigned },
      { name: "an image signed by a key the card does not hold", code: 37, message: /signed by key [0-9a-f]{8}\.\.\., which this board does not trust/, image: () => foreign },
      { name: "a tampered signed image", code: 24, message: /bad signature/, image: () => tampered() },
    ]) {
      it(`refuses ${c.name} (${c.code}) and the card is unchanged`, function () {
        const sd = trusted(`refuse-${c.code}`);
        assert.equal(runtime("host", ["--sdcard", sd, "--trust", pub]).code, 0);
        assert.equal(runtime("host", ["--sdcard", sd, "--install", signed, "--autostart"]).code, 0);
        const before = snapshot(sd);
        const r = runtime("host", ["--sdcard", sd, "--install", c.image()]);
        assert.equal(r.code, c.code, r.stderr);
        assert.match(r.stderr, /^qcam: refusing /);
        assert.match(r.stderr, c.message);
        assert.deepEqual(snapshot(sd), before);
      });
    }

    it("a malformed key list refuses every install (38); a bad key to trust is refused", function () {
      const sd = trusted("bad-keys");
      fs.mkdirSync(path.join(sd, "qcam"), { recursive: true });
      fs.writeFileSync(path.join(sd, "qcam", "keys"), "# ours\nnot-a-key\n");
      const r = runtime("host", ["--sdcard", sd, "--install", signed]);
      assert.equal(r.code, 38, r.stderr);
      assert.match(r.stderr, /key list \(\/sdcard\/qcam\/keys\) cannot be read: a line is not a 64-hex-digit key/);
      const t = runtime("host", ["--sdcard", trusted("bad-trust"), "--trust", "abc"]);
      assert.equal(t.code, 38);
      assert.match(t.stderr, /a public key is 64 hex digits/);
    });

    it("an unsigned version installed before the card took a key does not run: safe mode; a signed one is rolled forward", function () {
      const sd = trusted("boot");
      assert.equal(runtime("host", ["--sdcard", sd, "--install", unsigned, "--autostart"]).code, 0);
      assert.equal(runtime("host", ["--sdcard", sd, "--boot"]).code, 0);
      assert.equal(runtime("host", ["--sdcard", sd, "--trust", pub]).code, 0);
      const b = runtime("host", ["--sdcard", sd, "--boot"]);
      assert.equal(b.code, 33, b.stderr);
      assert.match(b.stderr, /safe mode: slot a does not verify: unsigned image/);
      assert.equal(runtime("host", ["--sdcard", sd, "--install", signed]).code, 0);
      const b2 = runtime("host", ["--sdcard", sd, "--boot"]);
      assert.equal(b2.code, 0, b2.stderr);
      assert.equal(b2.stdout, "running demo 1.0.0\n");
    });

    it("riscv64 under qemu: a card with a key takes the signed image and refuses the unsigned one", async function () {
      const sd = trusted("riscv64");
      const rv = (await buildApp(src, { target: "riscv64", typecheck: false, out: path.join(work, "rv2.qcam") })).image;
      const rvSigned = path.join(work, "rv2-signed.qcam");
      fs.writeFileSync(rvSigned, signImage(fs.readFileSync(rv), readPrivateKey(path.join(keys, "dev.key"))));
      assert.equal(runtime("riscv64", ["--sdcard", sd, "--trust", pub]).code, 0);
      assert.equal(runtime("riscv64", ["--sdcard", sd, "--install", rv]).code, 36);
      assert.equal(runtime("riscv64", ["--sdcard", sd, "--install", rvSigned, "--autostart"]).code, 0);
      const b = runtime("riscv64", ["--sdcard", sd, "--boot"]);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout, "running demo 1.0.0\n");
    });
  });
});
