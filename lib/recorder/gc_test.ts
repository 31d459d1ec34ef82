import { assert, assertEquals, assertRejects } from "@std/assert";
import { fakeHost } from "../../tests/support/fake_host.ts";
import { Registry } from "../registry.ts";
import { collectGarbage, GcConfirmationNeeded } from "./gc.ts";
import { defaultKnobs } from "../knobs.ts";

const STAPRUN_UNLOADS = `
[ "$1" = "-d" ] || exit 1
echo "$2" >> "$FAKE/unloaded"
grep -v "^$2 " "$FAKE/proc/modules" > "$FAKE/m.tmp"; mv "$FAKE/m.tmp" "$FAKE/proc/modules"
`;

Deno.test("gc --unload-orphans without yes: stap_fr_ orphans listed, nothing changed at all", async () => {
  const host = await fakeHost({ staprun: STAPRUN_UNLOADS });
  try {
    await host.setModules({ stap_fr_theirs: 0, stap_0123abcd_9: 0 });
    const registry = new Registry(`${host.dir}/state`);
    await registry.ensureDir();
    // A dead recorder of this state directory: gc would remove it, but a refusal changes nothing.
    await registry.put({
      format: 1,
      name: "gone",
      mode: "memory",
      host: "real",
      module: "stap_fr_gone",
      pid: null,
      pidStart: null,
      startedAt: "2026-01-01T00:00:00.000Z",
      scriptFile: null,
      script: "probe begin {}",
      buffer: null,
      output: null,
      stapArgs: [],
      cpus: 2,
      notes: [],
    });
    const engine = {
      host,
      registry,
      env: () => undefined,
      knobs: defaultKnobs(),
      idleMs: 100,
      signalWaitMs: 100,
      drainMaxMs: 30_000,
    };
    const err = await assertRejects(
      () => collectGarbage(engine, { unloadOrphans: true }),
      GcConfirmationNeeded,
    );
    assertEquals((err as GcConfirmationNeeded).modules, ["stap_fr_theirs"]);
    assert(err.message.includes(`"${registry.dir}"`), err.message);
    assertEquals(await Deno.readTextFile(`${host.dir}/unloaded`).catch(() => ""), "");
    assert((await registry.get("gone")) !== undefined, "the dead entry is still there");

    const done = await collectGarbage(engine, { unloadOrphans: true, yes: true });
    assertEquals(
      done.actions.map((a) => [a.name, a.action]).sort(),
      [["gone", "removed"], ["stap_0123abcd_9", "unloaded"], ["stap_fr_theirs", "unloaded"]],
    );
  } finally {
    await host.cleanup();
  }
});

Deno.test("gc --unload-orphans unloads plain stap_ orphans without asking", async () => {
  const host = await fakeHost({ staprun: STAPRUN_UNLOADS });
  try {
    await host.setModules({ stap_0123abcd_9: 0 });
    const engine = {
      host,
      registry: new Registry(`${host.dir}/state`),
      env: () => undefined,
      knobs: defaultKnobs(),
      idleMs: 100,
      signalWaitMs: 100,
      drainMaxMs: 30_000,
    };
    const done = await collectGarbage(engine, { unloadOrphans: true });
    assertEquals(done.actions.map((a) => [a.name, a.action]), [["stap_0123abcd_9", "unloaded"]]);
  } finally {
    await host.cleanup();
  }
});
