import { test } from "node:test";
import assert from "node:assert/strict";
import { helpText } from "../../../src/cli/help.ts";
import { readConfig, envName, FLAGS, DOCTOR_OPTIONS, parseDurationMs, DEFAULT_CACHE_DIR, DEFAULT_TIMEOUT_MS } from "../../../src/core/config.ts";
import { ConfigError } from "../../../src/core/errors.ts";

test("every flag has an environment twin named ECR_CREDENTIAL_PROVIDER_ plus the flag in upper snake case", () => {
  assert.equal(envName("log-level"), "ECR_CREDENTIAL_PROVIDER_LOG_LEVEL");
  assert.equal(envName("roles-anywhere-trust-anchor-arn"), "ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_TRUST_ANCHOR_ARN");
  for (const name of Object.keys(FLAGS)) assert.match(envName(name), /^ECR_CREDENTIAL_PROVIDER_[A-Z_]+$/);
});

test("defaults apply when neither flag nor variable is set", () => {
  const c = readConfig([], {});
  assert.equal(c.command, "plugin");
  assert.equal(c.logLevel, "warn");
  assert.equal(c.logFormat, "text");
  assert.equal(c.cacheDir, DEFAULT_CACHE_DIR);
  assert.equal(c.timeoutMs, DEFAULT_TIMEOUT_MS);
  assert.equal(c.noCache, false);
  assert.equal(c.rolesAnywhere, undefined);
  assert.ok(Object.isFrozen(c));
});

test("a flag wins over its variable, for values, booleans and lists", () => {
  const env = { ECR_CREDENTIAL_PROVIDER_LOG_LEVEL: "error", ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", ECR_CREDENTIAL_PROVIDER_REGISTRY_ALIAS: "a=b c=d" };
  assert.equal(readConfig([], env).logLevel, "error");
  assert.equal(readConfig(["--log-level=debug"], env).logLevel, "debug");
  assert.equal(readConfig(["--log-level", "info"], env).logLevel, "info");
  assert.equal(readConfig([], env).noCache, true);
  assert.equal(readConfig(["--no-cache=false"], env).noCache, false);
  assert.deepEqual(readConfig([], env).registryAliases, ["a=b", "c=d"]);
  assert.deepEqual(readConfig(["--registry-alias", "x=y", "--registry-alias=z=w"], env).registryAliases, ["x=y", "z=w"]);
});

test("positional get-credentials is ignored; check takes one image; doctor takes the rest untouched", () => {
  assert.equal(readConfig(["get-credentials"], {}).command, "plugin");
  const check = readConfig(["--log-level=debug", "check", "img"], {});
  assert.equal(check.command, "check");
  assert.deepEqual(check.commandArgs, ["img"]);
  const doc = readConfig(["doctor", "--config", "/etc/x.yaml", "--json"], {});
  assert.equal(doc.command, "doctor");
  assert.deepEqual(doc.commandArgs, ["--config", "/etc/x.yaml", "--json"]);
  assert.equal(readConfig(["--version"], {}).command, "version");
  assert.equal(readConfig(["-h"], {}).command, "help");
});

test("help and version in cobra's spellings; each subcommand's --help is its own topic", () => {
  for (const a of [["-v"], ["--version"], ["version"], ["get-credentials", "-v"]]) assert.equal(readConfig(a, {}).command, "version", a.join(" "));
  for (const a of [["-h"], ["--help"], ["help"], ["get-credentials", "--help"]]) {
    const c = readConfig(a, {});
    assert.equal(c.command, "help", a.join(" "));
    assert.equal(c.helpTopic, undefined);
  }
  assert.equal(readConfig(["check", "--help"], {}).helpTopic, "check");
  assert.equal(readConfig(["check", "-h", "img"], {}).helpTopic, "check");
  assert.equal(readConfig(["doctor", "--config", "/x", "--help"], {}).helpTopic, "doctor");
  assert.equal(readConfig(["cache", "list", "-h"], {}).helpTopic, "cache");
  const cache = readConfig(["cache", "clear", "cn-north-1", "--cache-dir=/c"], {});
  assert.equal(cache.command, "cache");
  assert.deepEqual(cache.commandArgs, ["clear", "cn-north-1"]);
});

test("help is built from the flag tables: every flag with its variable, every doctor option, every subcommand", () => {
  const all = helpText("1.2.3");
  for (const name of Object.keys(FLAGS)) assert.ok(all.includes(`--${name}`) && all.includes(envName(name)), name);
  for (const name of Object.keys(DOCTOR_OPTIONS)) assert.ok(all.includes(`--${name}`), `doctor --${name}`);
  for (const word of ["check IMAGE", "cache list", "cache clear", "doctor --help"]) assert.ok(all.includes(word), word);
  assert.match(helpText("1", "doctor"), /--kubelet-flags auto\|none\|FILE/);
  assert.doesNotMatch(helpText("1", "cache"), /roles-anywhere/);
});

test("each setting records where it came from: flag, environment twin or default", () => {
  const c = readConfig(["--log-level=debug"], { ECR_CREDENTIAL_PROVIDER_TIMEOUT: "10s" });
  assert.equal(c.sources["log-level"], "flag");
  assert.equal(c.sources.timeout, "env");
  assert.equal(c.sources["cache-dir"], "default");
});

const bad: [string, string[], Record<string, string>, string][] = [
  ["an unknown flag", ["--nope"], {}, "unknown_flag"],
  ["a flag without its value", ["--log-level"], {}, "missing_flag_value"],
  ["an unknown log level", ["--log-level=loud"], {}, "bad_flag_value"],
  ["an unknown log format in the environment", [], { ECR_CREDENTIAL_PROVIDER_LOG_FORMAT: "xml" }, "bad_flag_value"],
  ["a boolean that is neither true nor false", [], { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "maybe" }, "bad_flag_value"],
  ["a timeout past the kubelet's limit", ["--timeout=60s"], {}, "bad_flag_value"],
  ["a timeout that is not a duration", ["--timeout=soon"], {}, "bad_flag_value"],
  ["check without an image", ["check"], {}, "no_image"],
  ["check with an empty image", ["check", ""], {}, "no_image"],
  ["check with two images", ["check", "a", "b"], {}, "bad_usage"],
  ["a single-dash option", ["-x"], {}, "unknown_flag"],
  ["a single-dash long option", ["-verbose"], {}, "unknown_flag"],
  ["an unknown option after check", ["check", "img", "-q"], {}, "unknown_flag"],
  ["an unknown doctor option", ["doctor", "--bogus"], {}, "unknown_flag"],
  ["a partial Roles Anywhere setup", ["--roles-anywhere-certificate=/c.pem"], {}, "incomplete_roles_anywhere"],
];
for (const [what, argv, env, code] of bad) {
  test(`${what} is a configuration error (${code}, exit 3)`, () => {
    assert.throws(
      () => readConfig(argv, env),
      (e: unknown) => e instanceof ConfigError && e.code === code && e.exitCode === 3,
    );
  });
}

test("Roles Anywhere settings: the key defaults to the certificate file, the passphrase only from the environment", () => {
  const c = readConfig(
    [
      "--roles-anywhere-certificate=/c.pem",
      "--roles-anywhere-trust-anchor-arn=ta",
      "--roles-anywhere-profile-arn=p",
      "--roles-anywhere-role-arn=r",
      "--roles-anywhere-session-duration=1h",
    ],
    { ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_PRIVATE_KEY_PASSPHRASE: "pw", AWS_ENDPOINT_URL_ROLESANYWHERE: "http://127.0.0.1:1" },
  );
  assert.equal(c.rolesAnywhere?.privateKey, "/c.pem");
  assert.equal(c.rolesAnywhere?.sessionDurationSeconds, 3600);
  assert.equal(c.rolesAnywhere?.passphrase, "pw");
  assert.equal(c.rolesAnywhere?.endpoint, "http://127.0.0.1:1");
  assert.ok(!("roles-anywhere-private-key-passphrase" in FLAGS), "no flag carries a passphrase value");
});

test("durations: Go forms and bare seconds", () => {
  assert.equal(parseDurationMs("x", "30"), 30_000);
  assert.equal(parseDurationMs("x", "1m30s"), 90_000);
  assert.equal(parseDurationMs("x", "1.5h"), 5_400_000);
  assert.equal(parseDurationMs("x", "500ms"), 500);
  assert.throws(() => parseDurationMs("x", "1d"), ConfigError);
  assert.throws(() => parseDurationMs("x", ""), ConfigError);
});

test("only identity-shaping AWS variables reach the config, never a secret key", () => {
  const c = readConfig([], { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "SECRET", AWS_SESSION_TOKEN: "TOKEN", AWS_PROFILE: "p" });
  assert.deepEqual(c.awsEnv, { AWS_ACCESS_KEY_ID: "AKID", AWS_PROFILE: "p" });
});

test("endpoint overrides and proxy settings are read once into Config (the AWS adapters take them from there)", () => {
  const c = readConfig([], {
    AWS_ENDPOINT_URL: "http://all.example",
    AWS_ENDPOINT_URL_ECR: "http://ecr.example",
    HTTPS_PROXY: "http://proxy:3128",
    no_proxy: "169.254.169.254",
    UNRELATED: "x",
  });
  assert.deepEqual(c.endpoints, { ecr: "http://ecr.example", ecrPublic: "http://all.example", sts: "http://all.example" });
  assert.deepEqual(c.proxyEnv, { HTTPS_PROXY: "http://proxy:3128", no_proxy: "169.254.169.254" });
  assert.deepEqual(readConfig([], {}).endpoints, {});
  assert.deepEqual(readConfig([], {}).proxyEnv, {});
});
