// The fs/promises and UUID stand-ins the lazy half is built with (build.mjs SDK_BUILTIN_SHIMS, SDK_SHIMS): the same results and
// the same errors as what they replace. (The Crc32Node stand-in is checked in http.test.ts.)

import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import * as fsPromises from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { readFile } from "../../../src/aws/shims/fs-promises.ts";
import shimDefault from "../../../src/aws/shims/fs-promises.ts";
import { bindV4 } from "../../../src/aws/shims/uuid-v4.ts";
import { tempDir } from "../../helpers/temp-dir.ts";

const dir = tempDir("sdk-shims-");

test("readFile returns what node:fs/promises readFile returns, as text or bytes, for any content", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 70_000 }), async (bytes) => {
      const file = join(dir, "f");
      writeFileSync(file, bytes);
      assert.deepEqual(await readFile(file), await fsPromises.readFile(file));
      assert.equal(await readFile(file, "utf8"), await fsPromises.readFile(file, "utf8"));
      assert.equal(await readFile(file, { encoding: "utf8" }), await fsPromises.readFile(file, { encoding: "utf8" }));
      // The container credential provider's form: a default import, fs.readFile(path) → Buffer.
      assert.deepEqual(await shimDefault.readFile(file), await fsPromises.readFile(file));
    }),
    { numRuns: 30 },
  );
});

test("readFile fails as node:fs/promises readFile does: same code, errno, syscall and path", async () => {
  for (const path of [join(dir, "missing"), dir]) {
    const theirs = await fsPromises.readFile(path, "utf8").then(
      () => assert.fail("expected an error"),
      (e: NodeJS.ErrnoException) => e,
    );
    const ours = await readFile(path, "utf8").then(
      () => assert.fail("expected an error"),
      (e: NodeJS.ErrnoException) => e,
    );
    assert.ok(ours instanceof Error);
    assert.deepEqual([ours.code, ours.errno, ours.syscall, ours.path, ours.message], [theirs.code, theirs.errno, theirs.syscall, theirs.path, theirs.message]);
  }
});

test("bindV4 makes random version 4 UUIDs, as the SDK's does, without a getRandomValues", () => {
  const v4 = bindV4();
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const id = v4();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 1000);
});
