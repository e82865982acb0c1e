// The Windows executable (dist/ecr-credential-provider-windows-amd64.exe) under wine 10 against
// the fake AWS and fake Roles Anywhere on 127.0.0.1: every protocol version, the host vectors,
// the cache (hit, boot storm through the lock, stale-if-error), Roles Anywhere with Windows
// paths, %ProgramData% defaults, TLS through the Windows certificate store, NODE_OPTIONS ignored, doctor.
// `npm run test:windows`.
// Needs root and the wine root (scripts/wine-root.sh; CI makes it); skips with the reason otherwise.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAws, fakeAwsEnv, TEST_CA_FILE, TEST_CREDENTIALS, TEST_SERVER_TLS, type FakeAws } from "../helpers/fake-aws.ts";
import { startFakeRolesAnywhere } from "../helpers/fake-rolesanywhere.ts";
import { request } from "../helpers/run-binary.ts";
import { startProxy } from "../helpers/proxy.ts";
import { kubeletAccepts } from "../helpers/kubelet-accept.ts";
import { openWine, wineRoot, WINDOWS_BINARY, type Wine, type WineResult } from "../helpers/wine.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const hostCases: { image: string; expect: any }[] = JSON.parse(readFileSync(new URL("../fixtures/ecr-hosts.json", import.meta.url), "utf8"));
const PKI = fileURLToPath(new URL("../fixtures/rolesanywhere/pki/", import.meta.url));

const setup = wineRoot();
const skip = "skip" in setup ? setup.skip : false;
if (skip) console.log(`# windows suite skipped: ${skip}`);

let fake: FakeAws;
let wine: Wine;
before(async () => {
  if (skip) return;
  fake = await startFakeAws();
  wine = openWine((setup as { root: string }).root);
});
after(async () => {
  await fake?.close();
  wine?.close();
});

/** A fresh directory in the session, as a Windows path and a Linux path. */
let dirs = 0;
function dir(name: string): { win: string; linux: string } {
  const linux = join(wine.workDir, `${name}-${++dirs}`);
  mkdirSync(linux, { recursive: true });
  return { win: wine.winPath(linux), linux };
}

/** The fake's endpoints and test keys; no Linux PATH (the driver supplies a Windows one). */
function env(extra: Record<string, string> = {}, against: FakeAws = fake): Record<string, string> {
  const e = fakeAwsEnv(against, { AWS_CONFIG_FILE: "C:\\nonexistent\\aws-config", AWS_SHARED_CREDENTIALS_FILE: "C:\\nonexistent\\aws-credentials", ...extra });
  delete e.PATH;
  return e;
}

function secrets(): string[] {
  return [TEST_CREDENTIALS.secretAccessKey, ...fake.issuedPasswords].filter(Boolean);
}

function accepted(r: WineResult | undefined, apiVersion = V1): any {
  assert.ok(r, "no result");
  const v = kubeletAccepts({ stdout: r.stdout, exitCode: r.code ?? -1, configuredApiVersion: apiVersion });
  assert.ok(v.accepted, `kubelet would refuse: ${v.accepted ? "" : v.reason}; exit ${r.code}; stderr: ${r.stderr}`);
  for (const s of secrets()) assert.ok(!r.stderr.includes(s), "stderr leaks a secret");
  return v.response;
}

/** Host cases: all with WINE_HOST_CASES=all (CI), else a random sample (seed printed; WINE_SEED repeats it). */
function pickHostCases(): typeof hostCases {
  const want = process.env.WINE_HOST_CASES ?? "all";
  if (want === "all") return hostCases;
  const seed = Number(process.env.WINE_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`# host cases: ${want} of ${hostCases.length}, WINE_SEED=${seed}`);
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return [...hostCases].sort(() => rnd() - 0.5).slice(0, Number(want));
}

describe("windows-amd64 executable under wine", { skip }, () => {
  test("every protocol version and the host vectors, through kubelet-style pipes", async (t) => {
    const cases = pickHostCases();
    const protocols = ["v1", "v1beta1", "v1alpha1"].map((v) => `credentialprovider.kubelet.k8s.io/${v}`);
    const base = env({ ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1" });
    const before = fake.calls.length;
    const res = await wine.run([
      {
        concurrency: 2,
        jobs: [
          ...protocols.map((apiVersion, i) => ({ id: `p${i}`, env: base, stdin: request("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app", apiVersion) })),
          ...cases.map((c, i) => ({ id: `h${i}`, env: base, stdin: request(c.image) })),
        ],
      },
    ]);
    const calls = fake.calls.slice(before);
    t.diagnostic(`${protocols.length + cases.length} runs; median ${median(res.map((r) => r.ms))} ms per run under wine`);
    for (const [i, apiVersion] of protocols.entries()) {
      await t.test(apiVersion, () => assert.equal(accepted(res[`p${i}`], apiVersion).apiVersion, apiVersion));
    }
    for (const [i, c] of cases.entries()) {
      await t.test(c.image, () => {
        const r = res[`h${i}`]!;
        if (c.expect.kind === "none") {
          assert.equal(r.code, 2, r.stderr);
          assert.equal(r.stdout, "");
          assert.match(r.stderr, /^ecr-credential-provider: [a-z_0-9]+: /);
          return;
        }
        const out = accepted(r);
        assert.deepEqual(Object.keys(out.auth), [c.expect.authKey]);
        const pw = out.auth[c.expect.authKey].password as string;
        const call = calls.find((k) => k.status === 200 && fake.issuedPasswords.includes(pw) && k.region === c.expect.region);
        assert.ok(call, `no ECR call signed for ${c.expect.region}`);
        assert.match(pw, new RegExp(`^pw-${c.expect.region}-`));
      });
    }
  });

  test("the cache: default under %ProgramData%, a hit loads no SDK and calls nothing, a boot storm makes one call", async () => {
    const programData = dir("ProgramData");
    const e = env({ ProgramData: programData.win, ECR_CREDENTIAL_PROVIDER_LOG_LEVEL: "debug" });
    const image = (i: number) => `${String(100000000000 + (i % 5)).padStart(12, "0")}.dkr.ecr.eu-central-1.amazonaws.com/app-${i}`;
    const before = fake.ecrCalls().length;
    const res = await wine.run([
      { concurrency: 12, jobs: Array.from({ length: 12 }, (_, i) => ({ id: `storm${i}`, env: e, stdin: request(image(i)) })) },
      { jobs: [{ id: "hit", env: e, stdin: request(image(99)) }] },
    ]);
    const storm = Array.from({ length: 12 }, (_, i) => accepted(res[`storm${i}`]));
    assert.equal(
      new Set(storm.map((s) => Object.values(s.auth as Record<string, { password: string }>)[0]!.password)).size,
      1,
      "every run answered with the one token",
    );
    assert.equal(fake.ecrCalls().length - before, 1, "12 concurrent runs, one ECR call (the lock held)");
    accepted(res.hit);
    assert.match(res.hit!.stderr, /fromCache=true/);
    // No network built-in; net and stream are process.stdin's (on Windows a pipe is read through the stream: src/cli/stdio.ts).
    assert.match(res.hit!.stderr, /modules awsSdkLoaded=false builtins=(net,stream)?(\s|$)/);
    const cacheDir = join(programData.linux, "ecr-credential-provider", "cache");
    const files = readdirSync(cacheDir);
    assert.deepEqual(
      files.filter((f) => !f.endsWith(".json")),
      [],
      `no lock or temporary file left: ${files}`,
    );
    assert.equal(files.length, 1);
  });

  test("an ECR outage with a cached token: the cached token stands in", async () => {
    const cache = dir("cache");
    const e = env({ ECR_CREDENTIAL_PROVIDER_CACHE_DIR: cache.win });
    const image = "123456789012.dkr.ecr.eu-north-1.amazonaws.com/x";
    accepted((await wine.run([{ jobs: [{ id: "first", env: e, stdin: request(image) }] }])).first);
    for (const f of readdirSync(cache.linux).filter((f) => f.endsWith(".json"))) {
      const p = join(cache.linux, f);
      const entry = JSON.parse(readFileSync(p, "utf8"));
      entry.fetchedAt = new Date(Date.now() - 8 * 3600_000).toISOString();
      entry.expiresAt = new Date(Date.now() + 4 * 3600_000).toISOString();
      writeFileSync(p, JSON.stringify(entry));
    }
    fake.setEcrMode({ kind: "error", status: 500, type: "ServerException" }, 100);
    try {
      const r = (await wine.run([{ jobs: [{ id: "stale", env: e, stdin: request(image) }] }])).stale;
      const out = accepted(r);
      assert.match(r!.stderr, /refresh failed, using the cached token/);
      assert.ok(Number(/^(\d+)h/.exec(out.cacheDuration)![1]) <= 2, `cacheDuration ${out.cacheDuration} outlives the token`);
    } finally {
      fake.setEcrMode({ kind: "ok" });
    }
  });

  test("Roles Anywhere with certificate and key at Windows paths, by flag and by environment", async () => {
    const REGION = "cn-northwest-1";
    const pem = (f: string) => readFileSync(join(PKI, f), "utf8");
    const ra = await startFakeRolesAnywhere({
      trustAnchors: [pem("root-ca.cert.pem"), pem("intermediate-ca.cert.pem")],
      region: REGION,
      now: () => new Date(),
    });
    const ecr = await startFakeAws({ lookupCredentials: (akid) => ra.issued.find((c) => c.accessKeyId === akid) });
    try {
      const pki = dir("pki");
      for (const f of ["leaf-rsa.cert.pem", "leaf-rsa.key.pem", "leaf-ec-p256.cert.pem", "leaf-ec-p256.sec1.pem"])
        copyFileSync(join(PKI, f), join(pki.linux, f));
      const arn = (kind: string, id: string) => `arn:aws-cn:rolesanywhere:${REGION}:123456789012:${kind}/${id}`;
      const common = {
        ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_TRUST_ANCHOR_ARN: arn("trust-anchor", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
        ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_PROFILE_ARN: arn("profile", "1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809"),
        ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_ROLE_ARN: "arn:aws-cn:iam::123456789012:role/test",
      };
      const e = fakeAwsEnv(ecr, {
        AWS_ENDPOINT_URL_ROLESANYWHERE: ra.url,
        ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1",
        AWS_EC2_METADATA_DISABLED: "true",
        ...common,
      });
      for (const k of ["PATH", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"]) delete e[k];
      const image = `123456789012.dkr.ecr.${REGION}.amazonaws.com.cn/test`;
      const res = await wine.run([
        {
          concurrency: 2,
          jobs: [
            {
              id: "flags",
              env: e,
              args: [`--roles-anywhere-certificate=${pki.win}\\leaf-rsa.cert.pem`, `--roles-anywhere-private-key=${pki.win}\\leaf-rsa.key.pem`],
              stdin: request(image),
            },
            {
              id: "env",
              env: {
                ...e,
                ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_CERTIFICATE: `${pki.win}\\leaf-ec-p256.cert.pem`,
                ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_PRIVATE_KEY: `${pki.win}\\leaf-ec-p256.sec1.pem`,
              },
              stdin: request(image),
            },
          ],
        },
      ]);
      for (const id of ["flags", "env"]) {
        const out = accepted(res[id]);
        const pw = out.auth[image.split("/")[0]!].password;
        assert.ok(ecr.issuedPasswords.includes(pw));
        for (const c of ra.issued) assert.ok(!res[id]!.stderr.includes(c.secretAccessKey));
      }
      assert.equal(ra.calls.filter((c) => c.status === 201).length, 2, "two Roles Anywhere sessions");
      assert.ok(
        ecr.ecrCalls().every((c) => ra.issued.some((s) => s.accessKeyId === c.accessKeyId)),
        "ECR calls signed with Roles Anywhere sessions",
      );
    } finally {
      await ra.close();
      await ecr.close();
    }
  });

  test("HTTP_PROXY carries the ECR call; a semicolon NO_PROXY list (as Windows tooling writes it) exempts it; IMDS stays direct", async () => {
    const proxy = await startProxy();
    try {
      const image = "123456789012.dkr.ecr.us-west-2.amazonaws.com/app";
      const e = env({ ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", HTTP_PROXY: proxy.url });
      const imds = { ...e };
      delete imds.AWS_ACCESS_KEY_ID;
      delete imds.AWS_SECRET_ACCESS_KEY;
      const res = await wine.run([
        {
          jobs: [
            { id: "proxied", env: e, stdin: request(image) },
            { id: "exempt", env: { ...e, NO_PROXY: "example.com;127.0.0.1" }, stdin: request(image) },
            { id: "imds", env: imds, stdin: request(image) },
          ],
        },
      ]);
      for (const id of ["proxied", "exempt", "imds"]) accepted(res[id]);
      assert.ok(!proxy.seen.some((l) => l.includes("/latest/")), `IMDS went through the proxy: ${proxy.seen.join(", ")}`);
      // One ECR call through the proxy for "proxied" and one for "imds"; none for "exempt".
      assert.equal(proxy.seen.length, 2, `proxy saw: ${proxy.seen.join(", ")}`);
      assert.ok(
        proxy.seen.every((l) => l.includes(`127.0.0.1:${fake.port}`)),
        `proxy saw: ${proxy.seen.join(", ")}`,
      );
    } finally {
      await proxy.close();
    }
  });

  test("TLS trusts the Windows certificate store (wine fills it from the root's bundle) besides Node's roots; a CA in no store is tls_untrusted", async () => {
    const tlsFake = await startFakeAws({ tls: TEST_SERVER_TLS() });
    try {
      const e = env({ ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", ECR_CREDENTIAL_PROVIDER_LOG_LEVEL: "debug" }, tlsFake);
      const image = "123456789012.dkr.ecr.us-west-2.amazonaws.com/app";
      // The root's own bundle plus the test CA: the CA is then in the Windows Root store, and nowhere else.
      const store = join(wine.workDir, "ca-certificates.crt");
      writeFileSync(
        store,
        readFileSync(join((setup as { root: string }).root, "etc/ssl/certs/ca-certificates.crt"), "utf8") + readFileSync(TEST_CA_FILE, "utf8"),
      );
      const inStore = await wine.run([{ jobs: [{ id: "in", env: e, stdin: request(image) }] }], {}, { rootStore: store });
      accepted(inStore["in"]);
      assert.match(inStore["in"]!.stderr, / debug: trust store trustStore=windows-store-and-node-bundled/);
      const notInStore = await wine.run([{ jobs: [{ id: "out", env: e, stdin: request(image) }] }]);
      assert.equal(notInStore["out"]!.code, 5, notInStore["out"]!.stderr);
      assert.match(notInStore["out"]!.stderr, /tls_untrusted: .*LocalMachine Root store/);
    } finally {
      await tlsFake.close();
    }
  });

  test("doctor reads an EKS-style kubelet service from the registry (ours last wins) and passes; check answers", async () => {
    const node = dir("node");
    mkdirSync(join(node.linux, "bin"));
    copyFileSync(WINDOWS_BINARY, join(node.linux, "bin", "ecr-credential-provider.exe"));
    copyFileSync(
      fileURLToPath(new URL("../../node-config/wiring/windows/credential-provider-config.json", import.meta.url)),
      join(node.linux, "credential-provider-config.json"),
    );
    // What Start-EKSBootstrap.ps1 registers (atg-cloudops/eks-windows-bootstrapper), then our flags as -KubeletExtraArgs.
    const imagePath =
      `"C:\\Program Files\\Amazon\\EKS\\EKS-WindowsServiceHost.exe" kubelet "C:\\Program Files\\kubernetes\\kubelet.exe" --config="C:\\ProgramData\\kubernetes\\kubelet-config.json" ` +
      `--cloud-provider=external --v=1 --container-runtime-endpoint="npipe:////./pipe/containerd-containerd" ` +
      `--image-credential-provider-bin-dir="C:\\Program Files\\Amazon\\EKS\\credential-providers" --image-credential-provider-config="C:\\Program Files\\Amazon\\EKS\\ecr-credential-provider-config.json" ` +
      `--node-ip=10.0.0.1 --image-credential-provider-config=${node.win}\\credential-provider-config.json --image-credential-provider-bin-dir=${node.win}\\bin`;
    const key = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\kubelet";
    const reg = "C:\\windows\\system32\\reg.exe";
    const e = env({ ProgramData: dir("ProgramData").win });
    const exe = `${node.win}\\bin\\ecr-credential-provider.exe`;
    const res = await wine.run([
      {
        jobs: [
          { id: "reg-add", exe: reg, args: ["add", key, "/v", "ImagePath", "/t", "REG_EXPAND_SZ", "/d", imagePath, "/f"] },
          { id: "doctor", exe, env: e, args: ["doctor", "--offline"] },
          { id: "doctor-json", exe, env: e, args: ["doctor", "--offline", "--json"] },
          { id: "reg-delete", exe: reg, args: ["delete", key, "/f"] },
          {
            id: "check",
            exe,
            env: { ...e, ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1" },
            args: ["check", "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/app"],
          },
        ],
      },
    ]);
    assert.equal(res["reg-add"]!.code, 0, res["reg-add"]!.stderr);
    assert.equal(res["reg-delete"]!.code, 0, res["reg-delete"]!.stderr);
    const d = res.doctor!;
    assert.equal(d.code, 0, `doctor failed:\n${d.stdout}${d.stderr}`);
    assert.match(
      d.stdout,
      new RegExp(`ok +kubelet-flags: the running kubelet: --image-credential-provider-config=${escape(node.win)}\\\\credential-provider-config\\.json`),
    );
    assert.match(d.stdout, /ok +provider-binary: .*ecr-credential-provider\.exe exists/);
    assert.match(d.stdout, /ok +provider-name:/);
    assert.match(d.stdout, /skip +cache-dir: .*ecr-credential-provider\\cache: file modes do not apply on Windows.*icacls/);
    assert.match(d.stdout, /ok +trust-store: the Windows certificate store .* and Node's bundled roots/);
    assert.doesNotMatch(d.stdout, /glibc|libstdc|interpreter/i, "no Linux runtime checks on Windows");
    const json = JSON.parse(res["doctor-json"]!.stdout);
    assert.equal(json.ok, true);
    const c = res.check!;
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /cn-northwest-1/);
    for (const s of secrets()) assert.ok(!c.stdout.includes(s) && !c.stderr.includes(s), "check prints a secret");
  });

  test("NODE_OPTIONS cannot inject code, and --version answers", async () => {
    const evil = dir("evil");
    const marker = join(evil.linux, "injected");
    writeFileSync(join(evil.linux, "inject.js"), `require("fs").writeFileSync(${JSON.stringify(wine.winPath(marker))}, "x");`);
    const e = env({ ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", NODE_OPTIONS: `--require=${evil.win}\\inject.js` });
    const res = await wine.run([
      {
        jobs: [
          { id: "plugin", env: e, stdin: request("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app") },
          { id: "version", env: e, args: ["--version"] },
        ],
      },
    ]);
    accepted(res.plugin);
    assert.equal(res.version!.code, 0, res.version!.stderr);
    assert.match(res.version!.stdout, /^ecr-credential-provider \d+\.\d+\.\d+/);
    assert.equal(existsSync(marker), false, "NODE_OPTIONS --require ran");
  });

  test("stdin: an empty stdin is exit 2, one never closed ends at the deadline with exit 2 (the process exits: no read left blocked)", async () => {
    const e = env({ ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", ECR_CREDENTIAL_PROVIDER_TIMEOUT: "3s" });
    const res = await wine.run([
      {
        jobs: [
          { id: "empty", env: e, stdin: "" },
          { id: "held", env: e, holdStdin: true, killAfterMs: 60_000 },
        ],
      },
    ]);
    assert.equal(res.empty!.code, 2, res.empty!.stderr);
    assert.match(res.empty!.stderr, /^ecr-credential-provider: empty_request: /);
    assert.equal(res.held!.code, 2, res.held!.stderr);
    assert.match(res.held!.stderr, /^ecr-credential-provider: stdin_timeout: /);
    assert.ok(res.held!.ms < 30_000, `took ${res.held!.ms} ms`);
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}
