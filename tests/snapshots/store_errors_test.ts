/**
 * Operating-system errors of the snapshot store reach the user as one line with what stapfr was doing, the
 * path and a hint, never as a bare `No space left on device (os error 28)`: a full store and a read-only
 * one, made real with a small tmpfs or a read-only bind mount in a mount namespace of the command's own
 * (`unshare`; skipped, saying why, where the machine does not allow one).
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { type RunResult, SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";

// About 100 bytes a line every millisecond: far more than the small store below holds.
const FLOOD = `global n
probe timer.ms(1) { n++; printf("%d %090d\\n", n, 0) }
`;

/** `unshare`'s flags for a private mount namespace here (root needs none to mount; others map themselves). */
const UNSHARE = Deno.uid() === 0 ? ["-m"] : ["-r", "-m"];

/** Whether this machine lets the tests make a mount namespace and mount a tmpfs in it. */
async function mountNamespaces(): Promise<boolean> {
  try {
    const r = await new Deno.Command("unshare", {
      args: [...UNSHARE, "sh", "-c", "mount -t tmpfs -o size=4k tmpfs /tmp"],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

const canMount = await mountNamespaces();
const why = "this machine allows no mount namespace (unshare -m) with a tmpfs in it";

/** Runs `stapfr --sim ARGS…` after `mounts` (shell commands) in a mount namespace of its own. */
async function runMounted(world: SimWorld, mounts: string, args: string[]): Promise<RunResult> {
  const out = await new Deno.Command("unshare", {
    args: [...UNSHARE, "sh", "-c", `set -e; ${mounts}; exec "$@"`, "sh", ...world.argv(args)],
    env: world.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test({
  name: "a full store: what stapfr was writing, where, and what to do; no bare OS error",
  ignore: !canMount,
  fn: async () => {
    await SimWorld.with(async (world) => {
      await world.ok(["start", "mem", "-e", FLOOD, "--buffer", "256K"]);
      await until("output", async () => (await world.json(["status", "mem"])).state === "recording");
      const store = `${world.root}/store`;
      Deno.mkdirSync(store, { mode: 0o700 });
      const r = await runMounted(world, `mount -t tmpfs -o size=16k,mode=0700 tmpfs '${store}'`, [
        "snapshot",
        "mem",
        "--store",
        store,
      ]);
      assertEquals(r.code, 1, r.stdout);
      const [message, ...rest] = r.stderr.trimEnd().split("\n");
      assertMatch(
        message,
        new RegExp(`^stapfr: Cannot .*snapshot .*"${store}/mem[^"]*": no space left on device$`),
      );
      assertMatch(rest.join("\n"), /full/);
      assert(!/os error/.test(r.stderr), r.stderr);
    });
  },
});

Deno.test({
  name: "a read-only store: a snapshot and a prune say so with the path; show --data still serves",
  ignore: !canMount,
  fn: async () => {
    await SimWorld.with(async (world) => {
      await world.ok(["start", "r1", "-e", FLOOD, "--output", `${world.root}/out`]);
      await until("output", async () => ((await world.json(["status", "r1"])).bytes as number) > 1000);
      const { id } = await world.json<{ id: string }>(["snapshot", "r1"]);
      const store = `${world.stateDir}/snapshots`;
      const readOnly = `mount --bind '${store}' '${store}'; mount -o remount,ro,bind '${store}'`;

      const snap = await runMounted(world, readOnly, ["snapshot", "r1"]);
      assertEquals(snap.code, 1, snap.stdout);
      assertMatch(
        snap.stderr,
        new RegExp(`^stapfr: Cannot .*"${store}/r1[^"]*": read-only file system$`, "m"),
      );
      assert(!/os error/.test(snap.stderr), snap.stderr);

      const prune = await runMounted(world, readOnly, ["snapshots", "prune", "--max-age", "0s"]);
      assertEquals(prune.code, 1, prune.stdout);
      assertMatch(
        prune.stderr,
        new RegExp(`^stapfr: Cannot remove snapshot r1/${id} .*read-only file system$`, "m"),
      );
      assert(!/os error/.test(prune.stderr), prune.stderr);

      // Nothing can delete a snapshot on a read-only store, so reading it needs no lease.
      const show = await runMounted(world, readOnly, ["snapshots", "show", id, "--data"]);
      assertEquals(show.code, 0, show.stderr);
      assertEquals(show.stdout, await world.ok(["snapshots", "show", id, "--data"]));
    });
  },
});

if (!canMount) console.error(`snapshots/store_errors_test: skipped, ${why}`);
