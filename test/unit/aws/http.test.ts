// The clients' response reader and the Crc32Node stand-in the lazy half is built with: same results as the SDK's own.

import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import fc from "fast-check";
import { Crc32Node as SdkCrc32Node } from "@smithy/core/checksum";
import { collectBody, createAgents } from "../../../src/aws/http.ts";
import { Crc32Node } from "../../../src/aws/shims/crc32-node.ts";

test("collectBody reads a Node stream into one Uint8Array, whatever the chunking", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), async (chunks) => {
      const out = await collectBody(Readable.from(chunks.map((c) => Buffer.from(c))));
      assert.equal(Object.getPrototypeOf(out), Uint8Array.prototype);
      assert.deepEqual(Buffer.from(out), Buffer.concat(chunks));
    }),
  );
});

test("collectBody rejects when the stream fails or closes before its end", async () => {
  const failing = new PassThrough();
  const p1 = collectBody(failing);
  failing.write("{");
  failing.destroy(new Error("socket hang up"));
  await assert.rejects(p1, /socket hang up/);
  const cut = new PassThrough();
  const p2 = collectBody(cut);
  cut.write("{");
  cut.destroy();
  await assert.rejects(p2, /ended before its body was read/);
});

test("collectBody hands anything that is not a Node stream to the SDK's collector", async () => {
  const blob = new Blob([Buffer.from("hello")]);
  assert.equal(Buffer.from(await collectBody(blob)).toString(), "hello");
});

test("the agents share one TLS context with TLS 1.2 as the floor", () => {
  const { httpsAgent } = createAgents({ proxyEnv: {}, attemptTimeoutMs: 1000, connectTimeoutMs: 1000 });
  const opts = (httpsAgent as unknown as { options: { secureContext?: unknown; minVersion?: string } }).options;
  assert.ok(opts.secureContext, "the https agent carries a secure context");
  assert.equal(opts.minVersion, "TLSv1.2");
});

test("the Crc32Node stand-in computes what the SDK's computes, across updates and resets", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 5 }), async (parts) => {
      const ours = new Crc32Node();
      const theirs = new SdkCrc32Node();
      for (const p of parts) {
        ours.update(p);
        theirs.update(p);
      }
      assert.equal(ours.digestSync(), theirs.digestSync());
      assert.deepEqual(await ours.digest(), await theirs.digest());
      ours.reset();
      assert.equal(ours.digestSync(), 0);
    }),
  );
});
