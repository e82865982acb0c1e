// The fixed answer the benchmark SEAs print (bench/trivial/main.ts, https-post.ts): a valid CredentialProviderResponse.
export function fixedResponse(password: string): string {
  return JSON.stringify({
    kind: "CredentialProviderResponse",
    apiVersion: "credentialprovider.kubelet.k8s.io/v1",
    cacheKeyType: "Registry",
    cacheDuration: "6h",
    auth: {
      "123456789012.dkr.ecr.us-east-1.amazonaws.com": { username: "AWS", password },
    },
  });
}
