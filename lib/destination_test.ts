import { assert, assertEquals, assertThrows } from "@std/assert";
import { UsageError } from "./errors.ts";
import { KnobError, readKnobs } from "./knobs.ts";
import { parseDestination, parseEndpoint } from "./destination.ts";

const env = (vars: Record<string, string>) => (name: string): string | undefined => vars[name];

Deno.test("destinations: bucket rules, prefixes, and a URL with credentials refused without repeating them", () => {
  assertEquals(parseDestination("s3://fleet/a/b/"), { bucket: "fleet", prefix: "a/b" });
  for (
    const bad of [
      "s3://ab",
      "s3://Fleet/x",
      "s3://fleet/a//b",
      "s3://fleet/../x",
      "https://fleet/x",
      "s3://-x-/p",
    ]
  ) {
    assertThrows(() => parseDestination(bad, "--to"), UsageError, `Invalid --to`);
  }
  const err = assertThrows(() => parseDestination("s3://AKIAXYZ:s3cr3t@fleet/x", "--to"), UsageError);
  assert(!err.message.includes("s3cr3t") && !err.message.includes("AKIAXYZ"), err.message);
  const ep = assertThrows(() => parseEndpoint("https://me:s3cr3t@s3.example.com"), UsageError);
  assert(!ep.message.includes("s3cr3t"), ep.message);
  assertEquals(parseEndpoint("https://s3.example.com/"), "https://s3.example.com");
});

Deno.test("the shipping knobs: checked at startup, a secret in STAPFR_SHIP_TO never repeated", () => {
  const k = readKnobs(
    env({ STAPFR_SHIP_TO: "s3://fleet/prod", STAPFR_SHIP_PART_SIZE: "16M", STAPFR_SHIP_RATE: "20M" }),
  );
  assertEquals([k.shipTo, k.shipPartSize, k.shipRate, k.shipAttempts, k.shipTimeoutMs], [
    "s3://fleet/prod",
    16 << 20,
    20 << 20,
    4,
    60_000,
  ]);
  const leak = assertThrows(() => readKnobs(env({ STAPFR_SHIP_TO: "s3://AK:hunter22@fleet" })), UsageError);
  assert(!leak.message.includes("hunter22"), leak.message);
  assertThrows(() => readKnobs(env({ STAPFR_SHIP_PART_SIZE: "4M" })), KnobError, "from 5M to 5G");
  assertThrows(() => readKnobs(env({ STAPFR_HOST_NAME: "a/b" })), KnobError, "STAPFR_HOST_NAME");
  assertThrows(() => readKnobs(env({ STAPFR_SHIP_ATTEMPTS: "0" })), KnobError, "from 1 to 20");
});
