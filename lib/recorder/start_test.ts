import { assertEquals, assertMatch, assertRejects } from "@std/assert";
import { type FakeHost, fakeHost } from "../../tests/support/fake_host.ts";
import { StapfrError } from "../errors.ts";
import type { Host } from "../host.ts";
import { Registry } from "../registry.ts";
import { startRecorder } from "./start.ts";
import { defaultKnobs } from "../knobs.ts";

// The fake stap "inserts" its module (a line in PROC/modules) and then fails as 4.8's staprun does when its
// stapio daemon cannot start; the fake staprun -d removes the line and logs what it unloaded.
const STAP_INSERTS_THEN_FAILS = `
for a in "$@"; do [ "$prev" = "-m" ] && mod="$a"; prev="$a"; done
[ "$1" = "-V" ] && { echo "Systemtap translator/driver (version 4.8/0.188)" >&2; exit 0; }
echo "$mod 4096 0 - Live 0x0 (OE)" >> "$FAKE/proc/modules"
echo "ERROR: Couldn't start the stapio daemon for module $mod." >&2
echo "WARNING: /usr/bin/staprun exited with status: 1" >&2
exit 1
`;
const STAP_INSERT_REFUSED = `
for a in "$@"; do [ "$prev" = "-m" ] && mod="$a"; prev="$a"; done
[ "$1" = "-V" ] && { echo "Systemtap translator/driver (version 4.8/0.188)" >&2; exit 0; }
echo "ERROR: Couldn't insert module '$mod': File exists" >&2
exit 1
`;
const STAPRUN_UNLOADS = `
[ "$1" = "-d" ] || exit 1
echo "$2" >> "$FAKE/unloaded"
grep -v "^$2 " "$FAKE/proc/modules" > "$FAKE/m.tmp"; mv "$FAKE/m.tmp" "$FAKE/proc/modules"
`;

async function unloaded(host: FakeHost): Promise<string[]> {
  return (await Deno.readTextFile(`${host.dir}/unloaded`).catch(() => "")).split("\n").filter(Boolean);
}

async function modules(host: FakeHost): Promise<string> {
  return await Deno.readTextFile(`${host.procRoot}/modules`);
}

function engineOf(host: Host, stateDir: string) {
  return {
    host,
    registry: new Registry(stateDir),
    env: () => undefined,
    knobs: defaultKnobs(),
    idleMs: 100,
    signalWaitMs: 100,
    drainMaxMs: 30_000,
  };
}

for (const kind of ["real", "sim"] as const) {
  for (const output of [undefined, "out"]) {
    const mode = output ? "file" : "memory";
    Deno.test(`a ${mode} start that fails after inserting its module unloads it and registers nothing (${kind} host)`, async () => {
      const host = await fakeHost({ stap: STAP_INSERTS_THEN_FAILS, staprun: STAPRUN_UNLOADS });
      try {
        const engine = engineOf({ ...host, kind }, `${host.dir}/state`);
        const err = await assertRejects(
          () =>
            startRecorder(engine, {
              name: "r1",
              script: { text: "probe begin {}" },
              output: output && `${host.dir}/${output}`,
            }),
          StapfrError,
        );
        assertMatch(
          [err.message, ...((err as StapfrError).detail ?? [])].join("\n"),
          /Couldn't start the stapio daemon/,
        );
        assertEquals(await unloaded(host), ["stap_fr_r1"]);
        assertEquals(await modules(host), "");
        assertEquals((await engine.registry.list()).records, []);
      } finally {
        await host.cleanup();
      }
    });
  }
}

Deno.test("a failed start never unloads a module that was loaded before it ran", async () => {
  const host = await fakeHost({ stap: STAP_INSERTS_THEN_FAILS, staprun: STAPRUN_UNLOADS });
  try {
    await host.setModules({ stap_fr_r1: 0 });
    const engine = engineOf(host, `${host.dir}/state`);
    await assertRejects(
      () => startRecorder(engine, { name: "r1", script: { text: "probe begin {}" } }),
      StapfrError,
      "already loaded",
    );
    assertEquals(await unloaded(host), []);
  } finally {
    await host.cleanup();
  }
});

Deno.test("a start whose insert was refused (loaded meanwhile by someone else) unloads nothing", async () => {
  const host = await fakeHost({ stap: STAP_INSERT_REFUSED, staprun: STAPRUN_UNLOADS });
  try {
    const engine = engineOf(host, `${host.dir}/state`);
    // Someone loads the module between stapfr's check and stap's insert.
    await Deno.writeTextFile(
      `${host.dir}/stap`,
      `echo "stap_fr_r1 4096 0 - Live 0x0 (OE)" >> "$FAKE/proc/modules"\n` + STAP_INSERT_REFUSED,
    );
    await assertRejects(
      () => startRecorder(engine, { name: "r1", script: { text: "probe begin {}" } }),
      StapfrError,
      "already loaded",
    );
    assertEquals(await unloaded(host), []);
    assertMatch(await modules(host), /^stap_fr_r1 /);
  } finally {
    await host.cleanup();
  }
});
