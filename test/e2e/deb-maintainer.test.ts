// The .deb's Maintainer (scripts/deb-maintainer.mjs): the project has no address of its own, so it is
// whoever builds and publishes the packages, found as Debian's dch finds it (DEBFULLNAME/NAME,
// DEBEMAIL/EMAIL, else the build account); placeholders are refused. test/e2e/deb.test.ts checks that
// the built .deb carries exactly this value.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PLACEHOLDER, REPO } from "../helpers/release.ts";

const SCRIPT = join(REPO, "scripts", "deb-maintainer.mjs");
const VARS = ["DEBFULLNAME", "NAME", "DEBEMAIL", "EMAIL"];
function maintainer(vars: Record<string, string>) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !VARS.includes(k)));
  const r = spawnSync(process.execPath, [SCRIPT], { encoding: "utf8", env: { ...env, ...vars } });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}
const sh = (cmd: string) => spawnSync("sh", ["-c", cmd], { encoding: "utf8" }).stdout.trim();

describe(".deb Maintainer", () => {
  it("takes the builder's identity in dch's order", () => {
    assert.deepEqual(maintainer({ DEBFULLNAME: "Jane Roe", DEBEMAIL: "jane@ops.corp.internal" }).out, "Jane Roe <jane@ops.corp.internal>");
    assert.equal(maintainer({ DEBEMAIL: "Jane Roe <jane@ops.corp.internal>" }).out, "Jane Roe <jane@ops.corp.internal>");
    assert.equal(maintainer({ DEBFULLNAME: "Platform Team", DEBEMAIL: "Jane Roe <jane@ops.corp.internal>" }).out, "Platform Team <jane@ops.corp.internal>");
    assert.equal(maintainer({ NAME: "Jane Roe", EMAIL: "jane@ops.corp.internal" }).out, "Jane Roe <jane@ops.corp.internal>");
    assert.equal(maintainer({ NAME: "Jane Roe", EMAIL: "x@y.z", DEBEMAIL: "jane@ops.corp.internal" }).out, "Jane Roe <jane@ops.corp.internal>");
  });

  it("falls back to the build account: its passwd name and login@(/etc/mailname or hostname --fqdn)", () => {
    const login = sh("id -un");
    const gecos = sh(`getent passwd ${login} | cut -d: -f5 | cut -d, -f1`);
    const domain = sh("cat /etc/mailname 2>/dev/null") || sh("hostname --fqdn");
    const want = `${gecos || login} <${login}@${domain}>`;
    const r = maintainer({});
    if (PLACEHOLDER.test(want)) assert.equal(r.status, 1, `${want} must be refused`);
    else assert.equal(r.out, want, r.err);
  });

  it("refuses placeholders and malformed values instead of shipping them", () => {
    for (const vars of <Record<string, string>[]>[
      { DEBFULLNAME: "Ops", DEBEMAIL: "ops@example.com" },
      { DEBFULLNAME: "Ops", DEBEMAIL: "ops@build.example" },
      { DEBFULLNAME: "Ops", DEBEMAIL: "maintainers@ecr-credential-provider.dev" },
      { DEBFULLNAME: "Ops", DEBEMAIL: "maintainers@users.noreply.github.com" },
      { DEBFULLNAME: "Ops", DEBEMAIL: "root@localhost" },
      { DEBEMAIL: "TODO <ops@corp.internal>" },
      { DEBFULLNAME: "Ops", DEBEMAIL: "no-address" },
    ]) {
      const r = maintainer(vars);
      assert.equal(r.status, 1, `${JSON.stringify(vars)}: ${r.out}`);
      assert.match(r.err, /DEBFULLNAME and DEBEMAIL/);
    }
  });

  it("package.json names no placeholder contact", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
    const contacts = JSON.stringify([pkg.author, pkg.maintainers, pkg.contributors, pkg.bugs, pkg.homepage, pkg.repository]);
    assert.doesNotMatch(contacts, PLACEHOLDER);
  });
});
