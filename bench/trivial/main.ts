// Trivial SEA for benchmarks: the start-up floor of a Node single executable (see docs/build-and-release.md).
// Reads all of stdin, then prints a fixed CredentialProviderResponse. Built by build.mjs --with-trivial.
const RESPONSE = JSON.stringify({
  kind: "CredentialProviderResponse",
  apiVersion: "credentialprovider.kubelet.k8s.io/v1",
  cacheKeyType: "Registry",
  cacheDuration: "6h",
  auth: {
    "123456789012.dkr.ecr.us-east-1.amazonaws.com": { username: "AWS", password: "trivial" },
  },
});

const chunks: Buffer[] = [];
process.stdin.on("data", (c: Buffer) => chunks.push(c));
process.stdin.on("end", () => {
  process.stdout.write(`${RESPONSE}\n`);
});
