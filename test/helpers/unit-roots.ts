// Node roots made of the real unit files in test/fixtures/units (scenarios.json; provenance in its README).
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const UNITS_DIR = fileURLToPath(new URL("../fixtures/units/", import.meta.url));

export type FileSpec = string | { text: string; mode?: string };
export interface Scenario {
  name: string;
  comment?: string;
  unit: string;
  /** The unit's ExecStart runs the kubelet binary itself (not k3s, rke2 or a container runtime). */
  kubelet: boolean;
  files: Record<string, FileSpec>;
  /** distro profile (optionally with extra install.sh args) → expected outcome. */
  expect: Record<string, string>;
}

export function scenarios(): Scenario[] {
  return (JSON.parse(readFileSync(join(UNITS_DIR, "scenarios.json"), "utf8")) as { scenarios: Scenario[] }).scenarios;
}

/** Write the scenario's files under root (node paths, mapped by `nodePath`), with their modes. */
export function buildRoot(s: Scenario, root: string, nodePath: (p: string) => string = (p) => p): void {
  for (const [path, spec] of Object.entries(s.files)) {
    const dest = join(root, nodePath(path));
    mkdirSync(dirname(dest), { recursive: true });
    if (typeof spec === "string") writeFileSync(dest, readFileSync(join(UNITS_DIR, "files", spec)));
    else writeFileSync(dest, spec.text);
    chmodSync(dest, typeof spec === "string" || !spec.mode ? 0o644 : parseInt(spec.mode, 8));
  }
}

/** Every file's mode and hash and every directory's mode under root, keyed by node path. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const st = lstatSync(full);
      const rel = full.slice(root.length);
      if (st.isDirectory()) {
        out[`${rel}/`] = (st.mode & 0o7777).toString(8);
        walk(full);
      } else out[rel] = `${(st.mode & 0o7777).toString(8)} ${createHash("sha256").update(readFileSync(full)).digest("hex")}`;
    }
  };
  walk(root);
  return out;
}
