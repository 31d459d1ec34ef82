import { assertEquals } from "@std/assert";
import { Registry } from "./registry.ts";
import { readWatchState, type WatchState, watchStatePath } from "./watcher_record.ts";

function state(over: Record<string, unknown> = {}): Record<string, unknown> {
  const s: WatchState = {
    pid: 4242,
    pidStart: 912345,
    started_at: "2026-12-01T05:00:00.000Z",
    triggers: ["signal"],
    fired: 1,
    snapshots: 1,
    failed: 0,
    suppressed: { cooldown: 2 },
    last: null,
  };
  return { ...s, ...over };
}

async function withRegistry(fn: (registry: Registry) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const registry = new Registry(`${dir}/state`);
    await registry.ensureDir();
    await fn(registry);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a watcher's record is read back when it names its watcher by pid and start time", async () => {
  await withRegistry(async (registry) => {
    assertEquals(await readWatchState(registry, "web"), undefined, "none published");
    await Deno.writeTextFile(watchStatePath(registry, "web"), JSON.stringify(state()));
    assertEquals(await readWatchState(registry, "web"), state() as unknown as WatchState);
    assertEquals(await readWatchState(registry, "other"), undefined);
    // pidStart 0 is a start time (a process started at boot), not a missing one.
    await Deno.writeTextFile(watchStatePath(registry, "web"), JSON.stringify(state({ pidStart: 0 })));
    assertEquals((await readWatchState(registry, "web"))?.pidStart, 0);
  });
});

Deno.test("a record without a start time, or damaged, is not trusted at all", async () => {
  await withRegistry(async (registry) => {
    const path = watchStatePath(registry, "web");
    for (
      const bad of [
        state({ pidStart: null }),
        state({ pidStart: undefined }),
        state({ pidStart: -1 }),
        state({ pidStart: 1.5 }),
        state({ pidStart: "912345" }),
        state({ pid: 0 }),
        state({ pid: -4242 }),
        state({ pid: "4242" }),
        state({ triggers: "signal" }),
        state({ triggers: [1] }),
        null,
        [],
      ]
    ) {
      await Deno.writeTextFile(path, JSON.stringify(bad));
      assertEquals(await readWatchState(registry, "web"), undefined, JSON.stringify(bad));
    }
    await Deno.writeTextFile(path, '{"pid": 4242, "pidStart": ');
    assertEquals(await readWatchState(registry, "web"), undefined);
  });
});

Deno.test("the watcher's record is not a recorder of the registry", async () => {
  await withRegistry(async (registry) => {
    await Deno.writeTextFile(watchStatePath(registry, "web"), JSON.stringify(state()));
    const { records, corrupt } = await registry.list();
    assertEquals([records, corrupt], [[], []]);
  });
});
