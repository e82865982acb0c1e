// The flag table is the one source for the plugin (readConfig) and doctor (a provider's args and env).
import { test } from "node:test";
import assert from "node:assert/strict";
import { FLAGS, envName, flagValues, splitList } from "../../../src/core/flags.ts";
import { readConfig } from "../../../src/core/config.ts";
import { pluginSetting, pluginSettingList } from "../../../src/doctor/checks.ts";

test("flagValues reads --x v and --x=v in order", () => {
  assert.deepEqual(flagValues(["--registry-alias", "a=b", "get-credentials", "--registry-alias=c=d"], "registry-alias"), ["a=b", "c=d"]);
  assert.deepEqual(flagValues(["--cache-dir-x", "/y"], "cache-dir"), []);
});

test("doctor reads a provider's settings as the plugin does: flag, then its twin; lists split alike", () => {
  const aliases = "mirror:5000=123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn m2=123456789012.dkr.ecr.us-east-1.amazonaws.com";
  const provider = {
    name: "ecr-credential-provider",
    matchImages: [],
    apiVersion: "credentialprovider.kubelet.k8s.io/v1",
    args: ["--cache-dir=/var/cache/x"],
    env: [{ name: envName("registry-alias"), value: aliases }],
  };
  const plugin = readConfig(provider.args, { [envName("registry-alias")]: aliases });
  assert.deepEqual(pluginSettingList(provider as never, {}, "registry-alias"), [...plugin.registryAliases]);
  assert.equal(pluginSetting(provider as never, {}, "cache-dir"), plugin.cacheDir);
  assert.deepEqual(splitList(" a, b  c,"), ["a", "b", "c"]);
});

test("every flag in the table has a kind, help text and an environment twin", () => {
  for (const [name, spec] of Object.entries(FLAGS)) {
    assert.ok(["string", "bool", "list"].includes(spec.kind), name);
    assert.ok(spec.help.length > 0, name);
    assert.match(envName(name), /^ECR_CREDENTIAL_PROVIDER_[A-Z_]+$/);
  }
});
