// Checks the re-typed kubelet matcher against every case of the shared kubelet-match vectors, plus Go edge cases.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  filepathMatch,
  GoMatchError,
  imageMatches,
  keyringKey,
  keyringMatches,
  normalizeImageName,
  parseSchemelessUrl,
  urlsMatchStr,
} from "../../../src/kubelet/match.ts";

interface MatchCase {
  pattern: string;
  image: string;
  match: boolean;
  via: string;
  origin: string;
  note?: string;
}

const cases: MatchCase[] = JSON.parse(readFileSync(new URL("../../fixtures/kubelet-match.json", import.meta.url), "utf8"));

/** The one vector whose outcome depends on the Go release the kubelet was built with. */
const LAX_ONLY = "registry-[0-9].io";

describe("kubelet-match vectors (test/fixtures/kubelet-match.json)", () => {
  it("holds all 89 cases of the shared vector file", () => {
    assert.equal(cases.length, 89);
  });
  const seen = new Set<string>();
  for (const c of cases) {
    const verb = c.match ? "matches" : "does not match";
    const how = c.via === "URLsMatchStr" ? "URLsMatchStr" : "the keyring (Add + Lookup)";
    let name = `${verb} image ${JSON.stringify(c.image)} with ${JSON.stringify(c.pattern)} through ${how}`;
    if (c.pattern === LAX_ONLY) name += " when built with the lax pre-1.24 Go URL parser";
    assert.ok(!seen.has(name), `duplicate case name ${name}`);
    seen.add(name);
    it(name, () => {
      const options = c.pattern === LAX_ONLY ? { strictHost: false } : {};
      const got = c.via === "URLsMatchStr" ? imageMatches(c.pattern, c.image, options) : keyringMatches(c.pattern, c.image, options);
      assert.equal(got, c.match);
    });
  }
  it("rejects a bracket class in a host label with the current Go URL parser", () => {
    assert.throws(() => urlsMatchStr(LAX_ONLY, "registry-1.io/x"), GoMatchError);
  });
});

describe("filepathMatch follows Go's path/filepath.Match", () => {
  const table: Array<[string, string, boolean | "error"]> = [
    ["*", "anything-in-one-label", true],
    ["*", "a/b", false],
    ["a*b*c", "axxbyyc", true],
    ["a*b*c", "axxbyy", false],
    ["?x", "éx", true],
    ["[a-c]x", "bx", true],
    ["[^a-c]x", "bx", false],
    ["\\*", "*", true],
    ["a[", "a", "error"],
    ["a\\", "a", "error"],
    ["[]a]", "]", "error"],
  ];
  for (const [pattern, name, want] of table) {
    it(`${want === "error" ? "rejects" : want ? "matches" : "does not match"} ${JSON.stringify(name)} with pattern ${JSON.stringify(pattern)}`, () => {
      if (want === "error") assert.throws(() => filepathMatch(pattern, name), GoMatchError);
      else assert.equal(filepathMatch(pattern, name), want);
    });
  }
});

describe("parseSchemelessUrl follows Go's net/url.Parse", () => {
  const bad = ["%invalid%", "ho st", "a:b:c", "host:12ab", "a[1].io", "x\u0001"];
  for (const s of bad) {
    it(`refuses the matchImages entry ${JSON.stringify(s)} as the kubelet's validation does`, () => {
      assert.throws(() => parseSchemelessUrl(s), GoMatchError);
    });
  }
  it("keeps the port in the host and strips query and fragment from the path", () => {
    assert.deepEqual(parseSchemelessUrl("registry.io:5000/team?x#y"), { scheme: "", host: "registry.io:5000", path: "/team" });
  });
  it('accepts a pattern that carries its own scheme, whose host then becomes "https:"', () => {
    assert.equal(parseSchemelessUrl("https://*.dkr.ecr.*.amazonaws.com").host, "https:");
  });
});

describe("keyringKey mirrors BasicDockerKeyring.Add", () => {
  const table: Array<[string, string | undefined]> = [
    ["https://quay.io/v1/", "quay.io"],
    ["quay.io/v2/team", "quay.io/team"],
    ["http://registry.io:5000/", "registry.io:5000"],
    ["%zz", undefined],
  ];
  for (const [key, want] of table) {
    it(`stores the auth key ${JSON.stringify(key)} as ${JSON.stringify(want)}`, () => {
      assert.equal(keyringKey(key), want);
    });
  }
});

describe("normalizeImageName mirrors reference.ParseNormalizedNamed(...).Name()", () => {
  const table: Array<[string, string | undefined]> = [
    ["nginx", "docker.io/library/nginx"],
    ["nginx:1.27", "docker.io/library/nginx"],
    ["index.docker.io/team/app", "docker.io/team/app"],
    ["localhost/app", "localhost/app"],
    ["registry:5000/team/app:v1", "registry:5000/team/app"],
    ["123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@sha256:" + "a".repeat(64), "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app"],
    ["123456789012.DKR.ECR.US-WEST-2.AMAZONAWS.COM/foo", "123456789012.DKR.ECR.US-WEST-2.AMAZONAWS.COM/foo"],
    ["Registry.io/Team/app", undefined],
    ["https://public.ecr.aws/x", undefined],
    ["foobar  ", undefined],
    ["", undefined],
    ["a".repeat(64), undefined],
  ];
  for (const [image, want] of table) {
    it(`turns the pod image ${JSON.stringify(image.length > 70 ? image.slice(0, 70) + "…" : image)} into ${want === undefined ? "a refusal" : JSON.stringify(want)}`, () => {
      assert.equal(normalizeImageName(image), want);
    });
  }
});
