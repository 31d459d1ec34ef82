/**
 * SIGUSR1 and Deno's debugger port (docs/strays.md "SIGUSR1 and the debugger port"): Deno answers SIGUSR1 by
 * listening on 127.0.0.1:9229, and any local user who connects there can run code in a process that runs as
 * root. `stapfr trigger` no longer uses a signal (the watcher's trigger socket), and every long-running stapfr
 * process runs with SIGUSR1 blocked. This test polls the port, as this user and as an unprivileged one where the
 * machine allows, while a watcher is triggered a thousand times and every long-running stapfr process (the
 * watcher, an attach and its `staprun -A`, a tail -f, the module hosts and a file recorder's stapio daemon) is sent SIGUSR1 over and
 * over; nothing may ever connect, and every process must go on as before.
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { alive } from "../support/processes.ts";
import { until } from "../support/poll.ts";
import { childrenOf } from "../support/readers.ts";
import { sendTrigger } from "../../lib/watch/trigger_socket.ts";

const TICKS = 'global n probe timer.ms(20) { n++; printf("tick %d\\n", n) }';
const PORT = 9229;

async function portOpen(): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port: PORT })).close();
    return true;
  } catch {
    return false;
  }
}

/** Polls the port in this process until stopped; counts the connections that succeeded. */
function pollHere(): { stop: () => Promise<number> } {
  let stopped = false;
  let hits = 0;
  const loop = (async () => {
    while (!stopped) {
      if (await portOpen()) hits++;
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return hits;
    },
  };
}

/**
 * Polls the port as uid 65534 (nobody) with bash's /dev/tcp, when this test runs as root and setpriv exists:
 * the attacker of the issue, who sends no signal and only waits for the port to open.
 */
function pollAsNobody(): { stop: () => Promise<number> } | undefined {
  if (Deno.uid() !== 0) return undefined;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("setpriv", {
      args: [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
        "bash",
        "-c",
        `while :; do (exec 3<>/dev/tcp/127.0.0.1/${PORT}) 2>/dev/null && echo hit; done`,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
  } catch {
    return undefined;
  }
  const output = new Response(child.stdout).text();
  return {
    stop: async () => {
      child.kill("SIGKILL");
      await child.status;
      return (await output).split("\n").filter((l) => l === "hit").length;
    },
  };
}

/** Whether SIGUSR1 is blocked in a process (read through grep: Deno reads /proc/PID only with -A). */
async function usr1Blocked(pid: number): Promise<boolean> {
  const { stdout } = await new Deno.Command("grep", { args: ["^SigBlk:", `/proc/${pid}/status`] }).output();
  const mask = BigInt("0x" + new TextDecoder().decode(stdout).split(/\s+/)[1]);
  return (mask & (1n << 9n)) !== 0n;
}

async function stopChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // Gone.
  }
  await child.status;
  await Promise.all([child.stdout.cancel().catch(() => {}), child.stderr.cancel().catch(() => {})]);
}

Deno.test("no stapfr process opens a debugger port: 1000 triggers, and SIGUSR1 to every long-running process", async () => {
  assert(!(await portOpen()), `Something already listens on 127.0.0.1:${PORT}: this test cannot tell`);
  await SimWorld.with(async (world) => {
    await world.ok(["start", "w", "-e", TICKS]);
    await world.ok(["start", "a", "-e", TICKS]);
    await world.ok(["start", "f", "-e", TICKS, "--output", world.work]);
    const watcher = world.spawn(["watch", "w", "--on", "signal", "--cooldown", "1h"]);
    const attach = world.spawn(["attach", "a"]);
    const tail = world.spawn(["tail", "f", "-f"]);
    const watcherLog = new Response(watcher.stderr).text();
    const attachOut = attach.stdout.getReader();
    const tailOut = tail.stdout.getReader();
    try {
      await until("the watcher to answer", async () => {
        try {
          return /fired/.test(await world.ok(["trigger", "w", "--reason", "first"]));
        } catch {
          return false;
        }
      });
      // Until its snapshot is written, a trigger is suppressed by the pending one; then by the cooldown.
      await until("the first snapshot to be taken", async () => {
        return /suppressed by cooldown/.test(await world.ok(["trigger", "w", "--reason", "poll"]));
      });
      assert(!(await attachOut.read()).done, "attach prints");
      assert(!(await tailOut.read()).done, "tail -f prints");
      const recorders = (await world.json<{ recorders: { name: string; pid: number | null }[] }>(["list"]))
        .recorders;
      const daemon = recorders.find((r) => r.name === "f")!.pid!;
      const processes: Record<string, number> = {
        watcher: watcher.pid,
        attach: attach.pid,
        "staprun -A (of attach)": (await childrenOf(attach.pid)).find((c) =>
          / sim staprun -A /.test(c.args)
        )!.pid,
        "tail -f": tail.pid,
        "stapio daemon": daemon,
        "module host w": await world.hostPid("stap_fr_w"),
        "module host a": await world.hostPid("stap_fr_a"),
        "module host f": await world.hostPid("stap_fr_f"),
      };
      // Deno arms its SIGUSR1 handler 500 ms after a process starts: every one here is older than that.
      await new Promise((r) => setTimeout(r, 700));
      for (const [what, pid] of Object.entries(processes)) {
        assert(await usr1Blocked(pid), `${what}: SIGUSR1 blocked`);
      }

      const here = pollHere();
      const nobody = pollAsNobody();
      const socket = `${world.stateDir}/w.trigger.sock`;
      const decisions = new Map<string, number>();
      for (let i = 0; i < 1000; i++) {
        const decision = (await sendTrigger(socket, `t${i}`)).replace(/ until .*/, "");
        decisions.set(decision, (decisions.get(decision) ?? 0) + 1);
        if (i % 20 === 0) {
          for (const pid of Object.values(processes)) Deno.kill(pid, "SIGUSR1");
        }
      }
      // The last signals have had time to act.
      await new Promise((r) => setTimeout(r, 600));
      const hitsHere = await here.stop();
      const hitsNobody = await nobody?.stop();
      assertEquals(hitsHere, 0, "connections to 9229 from this user");
      if (hitsNobody !== undefined) assertEquals(hitsNobody, 0, "connections to 9229 from uid 65534");
      else console.log("(no unprivileged poller here: not root, or no setpriv)");
      assertEquals([...decisions], [["suppressed by cooldown", 1000]]);
      for (const [what, pid] of Object.entries(processes)) {
        assert(await alive(pid), `${what} survives SIGUSR1`);
      }
      assertMatch(await world.ok(["trigger", "w"]), /: suppressed by cooldown until /);
    } finally {
      await attachOut.cancel().catch(() => {});
      await tailOut.cancel().catch(() => {});
      await stopChild(attach);
      await stopChild(tail);
      watcher.kill("SIGTERM");
      await watcher.status;
      await watcherLog;
      await watcher.stdout.cancel().catch(() => {});
    }
    assertEquals((await world.modules())["stap_fr_a"], 0, "attach detached on SIGTERM");
  });
});
