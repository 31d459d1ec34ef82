/**
 * The two sides of a conformance scenario. Both take the command line a user gives `staprun` and run it
 * against the simulator's module host (`sim/module_host/host.ts`) under a root of their own:
 *
 * - real: Debian's `stapio` 4.8 under the LD_PRELOAD shim (`shim/stapio_shim.c`). What the real `staprun`
 *   does before it execs stapio is done here: insert the module (start a module host from the `.ko`, with the
 *   same options the simulated staprun uses) and pass `-F<fd>` on the module's directory. stapio's unload
 *   command (`SYSTEMTAP_STAPRUN -d …`) is a stub that logs its arguments and runs the simulator's
 *   `staprun -d`, so both sides end a module the same way.
 * - sim: `stapfr sim staprun …`, the simulator's own staprun and stapio.
 * @module
 */
import { join } from "node:path";
import {
  listModules,
  type ModuleHostHandle,
  spawnModuleHost,
  unloadModule,
} from "../../sim/module_host/host.ts";
import { moduleDir } from "../../sim/kernel/procfs.ts";
import { modulePathOf, readModuleFile } from "../../sim/cmd/module_file.ts";
import { moduleNameOf, parseStaprunArgs } from "../../sim/cmd/staprun_args.ts";
import { alive, killPid, Proc } from "./proc.ts";
import { until } from "../support/poll.ts";
import { stapfrArgv } from "../support/stapfr.ts";

/** Debian's stapio. */
export const STAPIO = "/usr/lib/systemtap/stapio";

/** The descriptor on which the shim opens the module's directory for `-F`. */
const DIRFD = 9;

/** The simulator's knobs, the same on both sides. */
export interface SimKnobs {
  cpus: number;
  seed: number;
  rate: number;
}

/** Where a side works. */
export interface SideSetup {
  /** The side's simulator root (its `/proc/modules`, `/proc/systemtap`). */
  root: string;
  /** Working directory of the commands (relative `-o` names land here). */
  work: string;
  knobs: SimKnobs;
}

/** Options of one staprun run. */
export interface RunOptions {
  /** Close the read end of stdout at once (docs/systemtap-4.8.md 6 item 4). */
  closeStdout?: boolean;
}

/** A side: runs staprun command lines and cleans up after itself. */
export interface Side {
  readonly kind: "real" | "sim";
  readonly setup: SideSetup;
  staprun(args: string[], options?: RunOptions): Promise<Proc>;
  /** Pids of processes that are not our children (daemons): killed at clean-up if still running. */
  adopt(pid: number): void;
  /** The `-d` command lines stapio ran (real side; the sim unloads in-process, so it has none). */
  unloadCommands(): Promise<string[]>;
  /** Stops what is left: processes, loaded modules, module hosts. */
  cleanup(): Promise<void>;
}

/** The environment of the simulator's knobs for a side. */
function simEnv(setup: SideSetup): Record<string, string> {
  return {
    STAPFR_SIM_ROOT: setup.root,
    STAPFR_SIM_CPUS: String(setup.knobs.cpus),
    STAPFR_SIM_SEED: String(setup.knobs.seed),
    STAPFR_SIM_RATE: String(setup.knobs.rate),
    TERM: "dumb",
    TZ: "UTC",
  };
}

abstract class BaseSide {
  readonly setup: SideSetup;
  protected readonly procs: Proc[] = [];
  protected readonly foreign = new Set<number>();

  constructor(setup: SideSetup) {
    this.setup = setup;
  }

  adopt(pid: number): void {
    this.foreign.add(pid);
  }

  async cleanup(): Promise<void> {
    const dbg = (s: string) =>
      Deno.env.get("CONFORMANCE_DEBUG") && console.error(`[${this.setup.root}] ${s}`);
    for (const p of this.procs) await p.end();
    dbg("procs ended");
    for (const pid of this.foreign) await killPid(pid);
    // A reader that just exited may still count as attached for a moment: unload retries briefly. One that
    // cannot be unloaded fails the test, after everything is stopped all the same.
    const failures: string[] = [];
    for (const m of await listModules(this.setup.root).catch(() => [])) {
      dbg(`unloading ${m.name} ${m.pid} ${m.refcount}`);
      await until(
        `unloading ${m.name}`,
        () => unloadModule(this.setup.root, m.name).then(() => true, () => false),
        { timeoutMs: 2000, intervalMs: 50 },
      ).catch((err) => failures.push(String(err)));
      dbg(`unloaded ${m.name}`);
      await killPid(m.pid);
    }
    failures.push(...await this.endHosts());
    dbg("hosts ended");
    if (failures.length > 0) throw new Error(`Clean-up of the ${this.kind} side: ${failures.join("; ")}`);
  }

  abstract readonly kind: string;

  /** Ends the module hosts this side started; returns what went wrong. */
  protected endHosts(): Promise<string[]> {
    return Promise.resolve([]);
  }
}

/** Debian's stapio under the shim. */
export class RealSide extends BaseSide implements Side {
  readonly kind = "real";
  readonly #shim: string;
  readonly #stub: string;
  readonly #stubLog: string;
  readonly #hosts: ModuleHostHandle[] = [];
  /** Bulk mode of the modules this side inserted, by name (`-A` needs it for STP_BULK). */
  readonly #bulk = new Map<string, boolean>();

  /** `tools` holds the compiled shim and is where the unload stub is written. */
  constructor(setup: SideSetup, shim: string, tools: string) {
    super(setup);
    this.#shim = shim;
    this.#stub = join(tools, `staprun_stub_${crypto.randomUUID()}.sh`);
    this.#stubLog = `${this.#stub}.log`;
  }

  /** Writes the unload stub: it logs its arguments and runs the simulator's `staprun` with them. */
  async prepare(): Promise<void> {
    const argv = [...stapfrArgv(), "sim", "staprun"].map(shellWord).join(" ");
    const script = `#!/bin/sh\nprintf '%s\\n' "$*" >> ${shellWord(this.#stubLog)}\nexec ${argv} "$@"\n`;
    await Deno.writeTextFile(this.#stub, script, { mode: 0o755 });
  }

  async staprun(args: string[], options: RunOptions = {}): Promise<Proc> {
    const parsed = parseStaprunArgs(args);
    let name = "";
    let bulk = false;
    if (parsed.kind === "ok") {
      const o = parsed.options;
      name = moduleNameOf(o.module);
      if (o.attach || o.deleteModule) bulk = this.#bulk.get(name) ?? false;
      else {
        // What staprun does before it execs stapio: insert the module (as sim/cmd/staprun.ts insertAndRun does).
        const spec = await readModuleFile(modulePathOf(o.module, "6.1.0-sim", this.setup.work));
        if ("errors" in spec) throw new Error(spec.errors.join("\n"));
        const { cpus, seed, rate } = this.setup.knobs;
        this.#hosts.push(
          await spawnModuleHost({
            root: this.setup.root,
            module: name,
            modulePath: spec.path,
            scriptSource: spec.scriptSource,
            scriptFile: spec.scriptFile,
            bufferBytes: o.bufferBytes ?? spec.bufferBytes ?? 16 * 1024 * 1024,
            cpus,
            seed,
            rate,
            bulk: spec.bulk,
            guru: spec.guru,
            args: [...spec.args, ...o.moduleOptions],
            // As sim/cmd/staprun.ts inserts it by default (STAPFR_SIM_RING_DAMAGE), so both sides read one ring.
            ringDamage: true,
          }),
        );
        bulk = spec.bulk;
        this.#bulk.set(name, bulk);
      }
    }
    const trace = Deno.env.get("CONFORMANCE_STRACE");
    const traced = trace && args.includes("-A");
    const proc = new Proc(
      new Deno.Command(traced ? "strace" : STAPIO, {
        args: traced
          ? ["-f", "-tt", "-o", trace, "-E", `LD_PRELOAD=${this.#shim}`, STAPIO, `-F${DIRFD}`, ...args]
          : [`-F${DIRFD}`, ...args],
        cwd: this.setup.work,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: {
          ...simEnv(this.setup),
          LD_PRELOAD: this.#shim,
          STAPIO_SHIM_MODDIR: moduleDir(this.setup.root, name || "none"),
          STAPIO_SHIM_DIRFD: String(DIRFD),
          STAPIO_SHIM_CPUS: String(this.setup.knobs.cpus),
          STAPIO_SHIM_BULK: bulk ? "1" : "0",
          SYSTEMTAP_STAPRUN: this.#stub,
        },
      }),
      options,
    );
    this.procs.push(proc);
    return proc;
  }

  async unloadCommands(): Promise<string[]> {
    try {
      return (await Deno.readTextFile(this.#stubLog)).split("\n").filter((l) => l !== "");
    } catch {
      return [];
    }
  }

  protected override async endHosts(): Promise<string[]> {
    const failures: string[] = [];
    for (const h of this.#hosts) {
      // Unloading ended it; a host that is left is killed and fails the test. Ours are children: wait for each.
      await until(`the module host ${h.pid} to end after its unload`, async () => !(await alive(h.pid)), {
        timeoutMs: 2000,
        intervalMs: 40,
      }).catch((err) => failures.push(String(err)));
      await killPid(h.pid);
      h.process.ref();
      await h.process.status;
    }
    await Deno.remove(this.#stub).catch(() => {});
    await Deno.remove(this.#stubLog).catch(() => {});
    return failures;
  }
}

/** The simulator's own staprun and stapio. */
export class SimSide extends BaseSide implements Side {
  readonly kind = "sim";

  staprun(args: string[], options: RunOptions = {}): Promise<Proc> {
    const [command, ...pre] = stapfrArgv();
    const proc = new Proc(
      new Deno.Command(command, {
        args: [...pre, "sim", "staprun", ...args],
        cwd: this.setup.work,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: simEnv(this.setup),
      }),
      options,
    );
    this.procs.push(proc);
    return Promise.resolve(proc);
  }

  unloadCommands(): Promise<string[]> {
    return Promise.resolve([]);
  }
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
