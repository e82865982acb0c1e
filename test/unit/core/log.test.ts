import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../../../src/core/log.ts";

function logger(level: "debug" | "warn", format: "text" | "json" = "text") {
  const lines: string[] = [];
  return { lines, log: createLogger({ level, format, write: (l) => lines.push(l), now: () => new Date("2026-01-01T00:00:00Z") }) };
}

test("registered secrets are redacted from messages and fields, longest first", () => {
  const { lines, log } = logger("debug");
  log.addSecret("abcd");
  log.addSecret("abcdefgh");
  log.warn("token abcdefgh and abcd", { extra: "x-abcd-y" });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]!.includes("abcd"));
  assert.match(lines[0]!, /\[REDACTED\] and \[REDACTED\]/);
});

test("levels below the threshold are dropped", () => {
  const { lines, log } = logger("warn");
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  assert.deepEqual(
    lines.map((l) => l.split(": ")[1]),
    ["warn", "error"],
  );
});

test("json format writes one object per line with time, level and msg", () => {
  const { lines, log } = logger("debug", "json");
  log.addSecret("s3cr3t");
  log.info("hello\nworld", { k: "s3cr3t" });
  const rec = JSON.parse(lines[0]!);
  assert.deepEqual(rec, { time: "2026-01-01T00:00:00.000Z", level: "info", msg: "hello\nworld", k: "[REDACTED]" });
  assert.equal(lines[0]!.trimEnd().split("\n").length, 1);
});

test("a text line never spans two lines, whatever the message holds", () => {
  const { lines, log } = logger("debug");
  log.error("a\nb\nc");
  assert.equal(lines[0]!.trimEnd().split("\n").length, 1);
});

test("values shorter than four characters are not registered (they would mangle every line)", () => {
  const { lines, log } = logger("debug");
  log.addSecret("a");
  log.warn("a cat");
  assert.match(lines[0]!, /a cat/);
});
