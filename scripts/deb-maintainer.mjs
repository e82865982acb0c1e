#!/usr/bin/env node
// The .deb's Maintainer field. Debian policy §5.6.2 wants "Name <address>" of whoever is responsible
// for the package. This project publishes no packages and has no address of its own: the .debs come
// from `npm run release` run by whoever builds and distributes them to their nodes. So the field names
// that builder, found the way Debian's own tools (dch, dh_make) find it:
//   name:    DEBFULLNAME, else NAME, else the name in "Name <address>" of DEBEMAIL/EMAIL, else the
//            build account's passwd name (GECOS), else its login;
//   address: DEBEMAIL, else EMAIL (either may be "Name <address>"), else <login>@<mail domain>, the
//            mail domain being /etc/mailname or `hostname --fqdn`.
// Reserved names that reach nobody (RFC 2606/6761) and the stand-ins this project once shipped are
// refused: the release fails instead of shipping them.
// `node scripts/deb-maintainer.mjs` prints the field (exit 1 and the reason when it has none).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { fileURLToPath } from "node:url";

/** Addresses and names that are stand-ins, not a way to reach anyone. */
export const PLACEHOLDER =
  /@(?:[^>]*\.)?(?:example(?:\.(?:com|net|org))?|invalid|test|localhost(?:\.localdomain)?)>|noreply|no-reply|placeholder|\bTODO\b|\bFIXME\b|ecr-credential-provider\.dev/i;

/** The build account: its passwd name and login, and the host's mail domain. */
function buildAccount() {
  const login = userInfo().username;
  let gecos = "";
  try {
    const line = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${login}:`));
    gecos = (line?.split(":")[4] ?? "").split(",")[0].trim();
  } catch {
    // no readable /etc/passwd: the login is the name
  }
  let domain = "";
  try {
    domain = readFileSync("/etc/mailname", "utf8").trim();
  } catch {
    // no /etc/mailname: the host's FQDN below
  }
  if (!domain) domain = spawnSync("hostname", ["--fqdn"], { encoding: "utf8" }).stdout?.trim() || hostname();
  return { name: gecos || login, address: `${login}@${domain}` };
}

/** "Name <address>" for the .deb, and whether the environment or the build account gave it; throws with what to set when there is none. */
export function debMaintainer(env = process.env, account = buildAccount) {
  let name = env.DEBFULLNAME || env.NAME || "";
  let address = env.DEBEMAIL || env.EMAIL || "";
  const both = /^\s*(.*?)\s*<([^<>]*)>\s*$/.exec(address);
  if (both) {
    address = both[2];
    name ||= both[1];
  }
  let from = "environment";
  if (!name || !address) {
    const id = account();
    name ||= id.name;
    address ||= id.address;
    from = "build account";
  }
  const value = `${name.trim()} <${address.trim()}>`;
  const fix = "set DEBFULLNAME and DEBEMAIL to who publishes these packages";
  if (!/^[^<>@\n]+ <[^<>@\s]+@[^<>@\s]+>$/.test(value)) throw new Error(`no usable Maintainer for the .deb (got ${JSON.stringify(value)}): ${fix}`);
  if (PLACEHOLDER.test(value)) throw new Error(`${value} is a placeholder, not a way to reach anyone: ${fix}`);
  return { value, from };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(debMaintainer().value);
  } catch (e) {
    console.error(`deb-maintainer: ${e.message}`);
    process.exit(1);
  }
}
