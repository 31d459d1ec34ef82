/**
 * The library has no process-wide side effect (README "Library"): a program that starts recorders, watches one
 * in-process and triggers that watcher from the same process opens no debugger port (Deno answers SIGUSR1 by
 * listening on 127.0.0.1:9229, and nothing the library does sends it), gains no signal handler, keeps its
 * umask while a file recorder starts (whose files are 0600 all the same), and the README's SIGUSR1 guard
 * blocks the signal in a program that asks for it.
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";
import { LIBRARY_PERMISSIONS, RunningProgram } from "../support/library_program.ts";

const PORT = 9229;
const TICKS = 'probe timer.ms(20) { printf("tick %d\\\\n", gettimeofday_ms()) }';

async function portOpen(): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port: PORT })).close();
    return true;
  } catch {
    return false;
  }
}

/** The program waits for this file before it ends, so that the test looks while it still runs. */
const WAIT_FOR_CHECK = `
const checked = async () => {
  while (!(await Deno.stat("checked").then(() => true, () => false))) await new Promise((r) => setTimeout(r, 50));
};
// While Deno spawns grep, the spawning thread blocks every signal but SIGKILL and SIGSTOP for a moment, and grep
// may read the status in that moment: such a reading is of the spawn, not of the library, and is read again.
const SPAWNING = "SigBlk:\\tfffffffffffbfeff";
const signals = async () => {
  for (let i = 0; ; i++) {
    const out = await new Deno.Command("grep", { args: ["^Sig\\\\(Blk\\\\|Ign\\\\|Cgt\\\\)", \`/proc/\${Deno.pid}/status\`] }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!text.startsWith(SPAWNING) || i === 9) return text;
  }
};
`;

Deno.test("watch() and trigger() in one library program: nothing listens on 9229, no signal handler, the umask untouched", async () => {
  assert(!(await portOpen()), `Something already listens on 127.0.0.1:${PORT}: this test cannot tell`);
  await SimWorld.with(async (world) => {
    const program = await RunningProgram.start(
      world,
      "watch_and_trigger",
      WAIT_FOR_CHECK + `
// Deno arms its SIGUSR1 handler 500 ms after the start: everything below runs after that.
await new Promise((r) => setTimeout(r, 700));
const before = await signals();
const recorders = new stapfr.Recorders({ sim: true });
const umasks = new Set<number>();
let polling = true;
const poller = (async () => {
  while (polling) {
    umasks.add(Deno.umask());
    await new Promise((r) => setTimeout(r, 1));
  }
})();
await recorders.start({ name: "f", script: { text: '${TICKS}' }, output: \`\${Deno.cwd()}/out\` });
polling = false;
await poller;
await recorders.start({ name: "m", script: { text: '${TICKS}' } });
const stop = new AbortController();
const started = Promise.withResolvers<void>();
const taken = Promise.withResolvers<void>();
const events: string[] = [];
const watching = recorders.watch({
  name: "m",
  triggers: [{ kind: "signal" }],
  policies: { cooldownMs: 3_600_000 },
  until: stop.signal,
  onEvent: (e) => {
    events.push(e.type);
    if (e.type === "started") started.resolve();
    if (e.type === "snapshot") taken.resolve();
  },
});
await started.promise;
const decisions: string[] = [];
decisions.push((await recorders.trigger("m", { reason: "first" })).decision!);
await taken.promise;
for (let i = 0; i < 20; i++) decisions.push((await recorders.trigger("m", { reason: \`t\${i}\` })).decision!.replace(/ until .*/, ""));
report({ decisions, umasks: [...umasks], before, after: await signals(), files: (await recorders.status("f")).run_dir });
await checked();
stop.abort();
const result = await watching;
report({ snapshots: result.snapshots.length, events });
`,
      { permissions: LIBRARY_PERMISSIONS },
    );
    try {
      const first = await until("the program's triggers", () => program.reports[0]);
      const { decisions, umasks, before, after, files } = first as {
        decisions: string[];
        umasks: number[];
        before: string;
        after: string;
        files: string;
      };
      assertEquals(decisions[0], "fired: snapshot now");
      assertEquals(new Set(decisions.slice(1)), new Set(["suppressed by cooldown"]));
      // The port is polled for a while after the last trigger: Deno opens it a moment after the signal.
      for (const end = Date.now() + 600; Date.now() < end;) {
        assert(!(await portOpen()), "nothing may listen on 127.0.0.1:9229");
      }
      assertEquals(after, before, "the library installed no signal handler and blocked no signal");
      assertEquals(umasks.length, 1, `the program's umask changed while a file recorder started: ${umasks}`);
      // The daemon's files are private all the same: the umask was set in stap's process, not in the program.
      for await (const e of Deno.readDir(files)) {
        assertEquals((await Deno.stat(`${files}/${e.name}`)).mode! & 0o777, 0o600, e.name);
      }
      await Deno.writeTextFile(`${world.work}/checked`, "");
      const end = await program.done();
      assertEquals(end.code, 0, end.stderr);
      assertEquals(end.reports[1].snapshots, 1);
      assertEquals((end.reports[1].events as string[]).at(-1), "exited");
    } finally {
      await program.stop();
    }
  });
});

Deno.test("README's SIGUSR1 guard: the program runs again with SIGUSR1 blocked, and SIGUSR1 opens no port", async () => {
  assert(!(await portOpen()), `Something already listens on 127.0.0.1:${PORT}: this test cannot tell`);
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const block = /```ts ignore\n(import \{ blockInspectorSignal \}[^`]*)```/.exec(readme)?.[1];
  assert(block, "README has the guard's example");
  await SimWorld.with(async (world) => {
    // The README's example as it is, then a program that lives long enough to be signalled.
    const body = block.replace(
      /^import \{ blockInspectorSignal \} from "\.\/mod\.ts";\n/m,
      "const { blockInspectorSignal } = stapfr;\n",
    ) + `
report({ pid: Deno.pid, ready: true });
await new Promise((r) => setTimeout(r, 3000));
report({ alive: true });
`;
    const program = await RunningProgram.start(world, "guard", body, {
      permissions: [...LIBRARY_PERMISSIONS, "--allow-ffi"],
    });
    try {
      const { pid } = await until("the guarded program", () => program.reports.find((r) => r.ready)) as {
        pid: number;
      };
      const status = await new Deno.Command("grep", { args: ["^SigBlk:", `/proc/${pid}/status`] }).output();
      const mask = BigInt("0x" + new TextDecoder().decode(status.stdout).split(/\s+/)[1]);
      assert((mask & (1n << 9n)) !== 0n, "SIGUSR1 is blocked");
      // Past Deno's 500 ms: a SIGUSR1 would open the inspector now, were it not blocked.
      await new Promise((r) => setTimeout(r, 700));
      Deno.kill(pid, "SIGUSR1");
      for (const end = Date.now() + 600; Date.now() < end;) {
        assert(!(await portOpen()), "nothing may listen on 127.0.0.1:9229");
      }
      const end = await program.done();
      assertEquals(end.code, 0, end.stderr);
      assert(end.reports.some((r) => r.alive), "it ran on");
      assertEquals(end.stderr, "", "the guard blocked SIGUSR1 (no complaint)");
    } finally {
      await program.stop();
    }
  });
});
