/**
 * A host whose `stap` and `staprun` are small shell scripts printing what 4.8 prints (docs/systemtap-4.8.md section 2),
 * with a `/proc` root of its own: for unit tests of the driver before, and besides, the simulator.
 * @module
 */
import type { Host } from "../../lib/host.ts";

/** A fake host in a temporary directory. */
export interface FakeHost extends Host {
  dir: string;
  /** Writes `PROC/modules` from module names and refcounts. */
  setModules(modules: Record<string, number>): Promise<void>;
  /** Removes the temporary directory. */
  cleanup(): Promise<void>;
}

/** Creates a fake host; `stap` and `staprun` are the given shell script bodies (`$@` are the arguments). */
export async function fakeHost(scripts: { stap?: string; staprun?: string }): Promise<FakeHost> {
  const dir = await Deno.makeTempDir({ prefix: "stapfr-fake-" });
  const procRoot = `${dir}/proc`;
  await Deno.mkdir(`${procRoot}/systemtap`, { recursive: true });
  await Deno.writeTextFile(`${procRoot}/modules`, "");
  await Deno.writeTextFile(`${dir}/stap`, scripts.stap ?? "exit 1\n");
  await Deno.writeTextFile(`${dir}/staprun`, scripts.staprun ?? "exit 1\n");
  return {
    kind: "real",
    stap: ["sh", `${dir}/stap`],
    staprun: ["sh", `${dir}/staprun`],
    procRoot,
    env: { FAKE: dir },
    dir,
    async setModules(modules) {
      const text = Object.entries(modules).map(([name, ref]) => `${name} 4096 ${ref} - Live 0x0 (OE)\n`).join(
        "",
      );
      await Deno.writeTextFile(`${procRoot}/modules`, text);
      for (const name of Object.keys(modules)) {
        await Deno.mkdir(`${procRoot}/systemtap/${name}`, { recursive: true });
        await Deno.writeTextFile(`${procRoot}/systemtap/${name}/trace0`, "");
      }
    },
    async cleanup() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}
