import { assertEquals, assertThrows } from "@std/assert";
import { defaultKnobs, KnobError, KNOBS, readKnobs } from "./knobs.ts";
import { UsageError } from "./errors.ts";

const env = (vars: Record<string, string>) => (name: string): string | undefined => vars[name];

Deno.test("unset or empty knobs give the defaults", () => {
  const d = defaultKnobs();
  assertEquals(d, readKnobs(env({ STAPFR_IDLE_MS: "", STAPFR_SIM_CPUS: "" })));
  assertEquals([d.sim, d.idleMs, d.signalWaitMs, d.simCpus, d.simRate, d.simSeed], [
    false,
    2500,
    3000,
    2,
    100,
    1,
  ]);
  assertEquals([d.simSeqWaitMs, d.simLoseSignals, d.stateDir, d.simRoot], [
    "4.8",
    { count: 0, probability: 0, busy: false },
    undefined,
    undefined,
  ]);
});

Deno.test("one parser: 0 is a valid seed and a valid rate for the engine and the stand-ins alike", () => {
  const k = readKnobs(env({ STAPFR_SIM_SEED: "0", STAPFR_SIM_RATE: "0", STAPFR_SIM_SEQ_WAIT_MS: "0" }));
  assertEquals([k.simSeed, k.simRate, k.simSeqWaitMs], [0, 0, 0]);
  assertEquals(readKnobs(env({ STAPFR_SIM_RATE: "2.5", STAPFR_SIM_SEQ_WAIT_MS: "4.8" })).simRate, 2.5);
  assertEquals(readKnobs(env({ STAPFR_SIM: "1", STAPFR_SIM_LOSE_SIGNALS: "1" })).simLoseSignals, {
    count: 1,
    probability: 0,
    busy: false,
  });
  assertEquals(readKnobs(env({ STAPFR_SIM_LOSE_SIGNALS: "busy" })).simLoseSignals.busy, true);
});

Deno.test("a bad knob is a usage error that names the variable and what it accepts", () => {
  const cases: [string, string, string][] = [
    ["STAPFR_IDLE_MS", "abc", "a whole number of milliseconds from 1 to 3600000"],
    ["STAPFR_IDLE_MS", "0", "a whole number of milliseconds from 1 to 3600000"],
    ["STAPFR_SIGNAL_WAIT_MS", "1.5", "a whole number of milliseconds from 1 to 3600000"],
    ["STAPFR_SIM_CPUS", "0", "a whole number from 1 to 1024"],
    ["STAPFR_SIM_CPUS", "1025", "a whole number from 1 to 1024"],
    ["STAPFR_SIM_RATE", "-1", "a number of events per second from 0 to 10000000"],
    ["STAPFR_SIM_SEED", "4294967296", "a whole number from 0 to 4294967295"],
    ["STAPFR_SIM_SEQ_WAIT_MS", "soon", '"4.8" or a whole number of milliseconds from 0 to 3600000'],
    ["STAPFR_SIM", "yes", '"1" (use the simulator) or "0"'],
    [
      "STAPFR_SIM_LOSE_SIGNALS",
      "true",
      '"busy" (an attached stapio loses a signal while one of its readers is busy, as 4.8 does), a whole number N (drop the first N signals to an attached stapio) or a probability between 0 and 1 (each, drawn from STAPFR_SIM_SEED)',
    ],
  ];
  for (const [name, value, accepts] of cases) {
    const err = assertThrows(() => readKnobs(env({ [name]: value })), KnobError);
    assertEquals(err.message, `Invalid ${name} "${value}": expected ${accepts}`);
    assertEquals((err as KnobError).variable, name);
    assertEquals(err instanceof UsageError, true);
  }
});

Deno.test("every knob of the table is a STAPFR_ variable in the README's table, with its default and readers", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  for (const knob of Object.values(KNOBS)) {
    assertEquals(knob.name.startsWith("STAPFR_"), true, knob.name);
    const cells = readme.split("\n").map((l) => l.split("|").map((c) => c.trim()).slice(1, -1))
      .find((c) => c[0] === `\`${knob.name}\``);
    if (!cells) throw new Error(`${knob.name} missing from the README's table`);
    assertEquals(cells[3], knob.users.join(", "), knob.name);
    if (knob.fallback !== undefined) assertEquals(cells[2], `\`${knob.defaultText}\``, knob.name);
  }
});

Deno.test("no code outside the table reads a STAPFR_ variable", async () => {
  const root = new URL("../", import.meta.url);
  const offenders: string[] = [];
  const walk = async (dir: URL, rel: string): Promise<void> => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir), `${rel}${e.name}/`);
      else if (
        e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") && `${rel}${e.name}` !== "lib/knobs.ts"
      ) {
        const text = await Deno.readTextFile(new URL(e.name, dir));
        if (/env(\.get)?\(\s*"STAPFR_/.test(text)) offenders.push(`${rel}${e.name}`);
      }
    }
  };
  for (const top of ["lib", "sim"]) await walk(new URL(`${top}/`, root), `${top}/`);
  const cli = await Deno.readTextFile(new URL("cli.ts", root));
  if (/env(\.get)?\(\s*"STAPFR_/.test(cli)) offenders.push("cli.ts");
  assertEquals(offenders, []);
});
