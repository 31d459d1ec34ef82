/**
 * The knobs are read once: what a library program gives `new Recorders()` (its options, the knobs it read, its
 * `env`) is what the engine uses, never a second reading of the process environment (README "Environment").
 * @module
 */
import { assertEquals } from "@std/assert";
import { Recorders } from "../../mod.ts";
import { defaultKnobs } from "../../lib/knobs.ts";

const SCRIPT = { text: 'probe timer.ms(20) { printf("x\\n") }' };

Deno.test("the state directory and the simulator's root come from the options and knobs given, not the environment", async () => {
  const root = await Deno.makeTempDir({ prefix: "stapfr-knobs-" });
  try {
    const env = (name: string) =>
      ({ STAPFR_STATE_DIR: "/env/state", STAPFR_SIM_ROOT: "/env/sim" } as Record<string, string>)[name];
    const knobs = { ...defaultKnobs(), stateDir: `${root}/knob-state`, simRoot: `${root}/knob-sim` };
    const recorders = new Recorders({ sim: true, env, knobs });
    assertEquals([recorders.stateDir, recorders.host.simRoot], [`${root}/knob-state`, `${root}/knob-sim`]);
    // The options win over the knobs.
    const given = new Recorders({ sim: true, env, knobs, stateDir: `${root}/s`, simRoot: `${root}/r` });
    assertEquals([given.stateDir, given.host.simRoot], [`${root}/s`, `${root}/r`]);
    // Without knobs, they are read from the env given (not from the process).
    assertEquals(new Recorders({ sim: true, env }).stateDir, "/env/state");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a snapshot's host name and kernel release come from the knobs given, not the process environment", async () => {
  const root = await Deno.makeTempDir({ prefix: "stapfr-knobs-" });
  const before = Deno.env.get("STAPFR_HOST_NAME");
  Deno.env.set("STAPFR_HOST_NAME", "from-the-process");
  const knobs = { ...defaultKnobs(), hostName: "from-the-knobs", simRelease: "6.12.0-sim" };
  const recorders = new Recorders({ sim: true, simRoot: root, env: () => undefined, knobs });
  try {
    await recorders.start({ name: "io", script: SCRIPT });
    const { manifest } = await recorders.snapshot("io");
    assertEquals([manifest.host_name, manifest.kernel_release], ["from-the-knobs", "6.12.0-sim"]);
  } finally {
    if (before === undefined) Deno.env.delete("STAPFR_HOST_NAME");
    else Deno.env.set("STAPFR_HOST_NAME", before);
    await recorders.stop("io", () => {}).catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
});
