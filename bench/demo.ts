// `npm run demo`: the built executable answers real kubelet requests against a built-in local ECR stand-in. No AWS account needed.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeAws, fakeAwsEnv } from "../test/helpers/fake-aws.ts";
import { BINARY, binaryAvailable, runBinary, request } from "../test/helpers/run-binary.ts";

if (!binaryAvailable()) {
  console.error(`demo: ${BINARY} is missing; run npm run build first`);
  process.exit(1);
}

const fake = await startFakeAws({ latencyMs: 50 });
const cacheDir = join(mkdtempSync(join(tmpdir(), "ecr-demo-")), "cache");
const env = fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: cacheDir });

const mask = (stdout: string) => stdout.replace(/"password":"([^"]{6})[^"]*"/g, (_m, head: string) => `"password":"${head}…(masked)"`);
const section = (t: string) => console.log(`\n\x1b[1m== ${t}\x1b[0m`);

async function exchange(title: string, image: string, args: string[] = []) {
  section(title);
  const stdin = request(image);
  console.log(`$ echo '${stdin.trim()}' | ${args.length ? "ecr-credential-provider " + args.join(" ") : "ecr-credential-provider"}`);
  const before = fake.calls.length;
  const r = await runBinary({ args, env, stdin });
  console.log(`exit ${r.code} in ${r.ms} ms`);
  if (r.stdout) console.log(`stdout: ${mask(r.stdout).trim()}`);
  if (r.stderr) console.log(`stderr: ${r.stderr.trim()}`);
  const calls = fake.calls.slice(before);
  console.log(
    calls.length === 0
      ? "AWS calls: none"
      : `AWS calls: ${calls.map((c) => `${c.service} ${c.action}${c.region ? ` signed for ${c.region}` : ""} (${c.status === 200 ? "signature verified" : c.rejected})`).join("; ")}`,
  );
  return r;
}

console.log(`executable: ${BINARY}`);
console.log(`local ECR stand-in: ${fake.url} (verifies every SigV4 signature); token cache: ${cacheDir}`);
await exchange("China (Ningxia), private registry: a real exchange", "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/test");
await exchange("Same region, another account and image: answered from the node-wide cache", "210987654321.dkr.ecr.cn-northwest-1.amazonaws.com.cn/other/app");
await exchange("ECR Public (token always from us-east-1)", "public.ecr.aws/docker/library/nginx");
await exchange("A mirror mapped to an ECR registry with --registry-alias", "mirror.internal:5000/team/app", [
  "--registry-alias",
  "mirror.internal:5000=123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn",
]);
await exchange("A foreign registry: refused, and no AWS call is made", "registry.example.com/app");
section("The same flow, for humans: ecr-credential-provider check IMAGE");
const check = await runBinary({ args: ["check", "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/test"], env });
console.log(check.stdout.trimEnd());
await fake.close();
