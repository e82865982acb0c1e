// Docs are code: every `npm run` script, repository path, relative link and script command that
// README.md, docs/, node-config/ and the fixture READMEs name must exist in this checkout. A renamed
// file or script fails here instead of in a user's terminal.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Every Markdown file users read: README.md, docs/, node-config/ and test/fixtures/ (provenance). */
function markdownFiles(): string[] {
  const out = ["README.md"];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const rel = join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith(".md")) out.push(rel);
    }
  };
  for (const d of ["docs", "node-config", "test/fixtures"]) walk(d);
  return out;
}

/**
 * The text whose names must resolve: fenced blocks that draw a build-output tree (their first line is
 * `dist/`, the names under it are outputs, not sources) are left out.
 */
export function checkedText(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n([\s\S]*?)^```/gm, (block, body: string) => (/^\s*dist\/\s*$/m.test(body.split("\n")[0] ?? "") ? "" : block));
}

/** `a/{b,c}/d` → `a/b/d`, `a/c/d` (one brace group at a time). */
export function expandBraces(p: string): string[] {
  const m = /\{([^{}]*)\}/.exec(p);
  if (!m) return [p];
  return m[1]!.split(",").flatMap((alt) => expandBraces(p.slice(0, m.index) + alt + p.slice(m.index + m[0].length)));
}

const TOP = ["src", "test", "scripts", "bench", "docs", "node-config", ".ci"];
const PATH_RE = new RegExp(`(?<![\\w/.$~-])((?:${TOP.map((t) => t.replace(".", "\\.")).join("|")})/[\\w./{},@+-]*[\\w}])`, "g");

/** The names in one document that do not exist: `npm run X` without a script, paths and links to nothing. */
export function missingReferences(doc: string, markdown: string, scripts: Record<string, string>, exists: (p: string) => boolean): string[] {
  const text = checkedText(markdown);
  const missing = new Set<string>();
  for (const m of text.matchAll(/npm run (?:-s |--silent )?([a-z][\w:-]*)/g)) {
    if (!(m[1]! in scripts)) missing.add(`npm run ${m[1]}`);
  }
  for (const m of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    if (!exists(join(dirname(doc), target))) missing.add(`path ${join(dirname(doc), target)}`);
  }
  for (const m of text.matchAll(PATH_RE)) {
    const p = m[1]!.replace(/[.,]+$/, "");
    if (/[<>*]/.test(p) || /\$\{?\w/.test(p)) continue; // placeholders and globs: shapes, not files
    for (const one of expandBraces(p)) if (!exists(one)) missing.add(`path ${one}`);
  }
  // The node kit's own folders, named without the node-config/ prefix (as the kit's docs do).
  for (const m of text.matchAll(/`((?:examples|wiring|variants)\/[\w./{},-]*)`/g)) {
    for (const one of expandBraces(m[1]!)) if (!exists(join("node-config", one))) missing.add(`path node-config/${one}`);
  }
  return [...missing];
}

test("the checker finds what is missing (scripts, links, paths, brace groups) and skips output trees", () => {
  const have = new Set(["src/cli/main.ts", "docs/node-kit.md", "test/unit/a.test.ts", "node-config/wiring/kops/"]);
  const exists = (p: string) => have.has(p);
  const md = [
    "Run `npm run build` and `npm run nope`; see [kit](docs/node-kit.md), [gone](docs/gone.md) and [web](https://example.org).",
    "Entry `src/cli/main.ts`, old `src/main.ts`, tests `test/unit/{a,b}.test.ts`, placeholder `src/<folder>/x.ts`.",
    "The kit's `wiring/kops/` and `examples/gone.sh`.",
    "```",
    "dist/",
    "  bench/trivial-sea",
    "```",
  ].join("\n");
  assert.deepEqual(missingReferences("README.md", md, { build: "node build.mjs" }, exists), [
    "npm run nope",
    "path docs/gone.md",
    "path src/main.ts",
    "path test/unit/b.test.ts",
    "path node-config/examples/gone.sh",
  ]);
});

const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
for (const doc of markdownFiles()) {
  test(`${doc}: every npm script, repository path and relative link it names exists`, () => {
    const missing = missingReferences(doc, readFileSync(join(ROOT, doc), "utf8"), scripts, (p) => existsSync(join(ROOT, p)));
    assert.deepEqual(missing, [], `${relative(ROOT, join(ROOT, doc))} names what this checkout does not have`);
  });
}
