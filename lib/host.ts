/**
 * The SystemTap host seam: which `stap`, which `staprun` and which `/proc` root the engine drives. On a real
 * server that is the installed SystemTap and `/proc`; with `--sim` it is the simulator's stand-ins
 * (`stapfr sim stap …`, `stapfr sim staprun …`) and the simulated `/proc` under the simulator's root. Nothing
 * else differs between the two: the driver parses, signals and reads both the same way.
 * @module
 */
import { join } from "./path.ts";
import { simRoot } from "./sim_root.ts";
import { selfCommand as simSelfCommand } from "./self.ts";

/** Where the engine finds SystemTap. */
export interface Host {
  /** `real` for the installed SystemTap, `sim` for the simulator. */
  readonly kind: "real" | "sim";
  /** The argv prefix that runs `stap`. */
  readonly stap: readonly string[];
  /** The argv prefix that runs `staprun`. */
  readonly staprun: readonly string[];
  /** The directory holding `modules` and `systemtap/MODULE/` (`/proc`, or `ROOT/proc` on the simulator). */
  readonly procRoot: string;
  /** The simulator's root directory (only with `kind: "sim"`). */
  readonly simRoot?: string;
  /** Extra environment for the child processes (the simulator's knobs). */
  readonly env: Readonly<Record<string, string>>;
}

/** An environment lookup, so callers and tests can pass their own. */
export type EnvLookup = (name: string) => string | undefined;

const denoEnv: EnvLookup = (name) => Deno.env.get(name);

/**
 * The installed SystemTap: `stap` and `staprun` from `PATH`, the real `/proc`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const host = realHost();
 * assertEquals(host.procRoot, "/proc");
 * assertEquals(host.stap, ["stap"]);
 * ```
 */
export function realHost(options: { stap?: string; staprun?: string; procRoot?: string } = {}): Host {
  return {
    kind: "real",
    stap: [options.stap ?? "stap"],
    staprun: [options.staprun ?? "staprun"],
    procRoot: options.procRoot ?? "/proc",
    env: {},
  };
}

/** The user's state home: `$XDG_STATE_HOME`, else `~/.local/state`. */
function stateHome(env: EnvLookup): string {
  const xdg = env("XDG_STATE_HOME");
  if (xdg) return xdg;
  return join(env("HOME") ?? "/tmp", ".local", "state");
}

/** Whether this process runs as root (only root may write /var/lib). */
export function isRoot(): boolean {
  try {
    return Deno.uid() === 0;
  } catch {
    return false;
  }
}

/** The simulator's root directory: `$STAPFR_SIM_ROOT`, else `${TMPDIR:-/tmp}/stapfr-sim-UID` (as the simulator has it). */
export function defaultSimRoot(env: EnvLookup = denoEnv): string {
  return simRoot(env);
}

/**
 * The state directory: the given one (`--state-dir`, the `stateDir` option, else `$STAPFR_STATE_DIR` as the
 * knobs read it), else (with the simulator) `SIM_ROOT/state`, else `/var/lib/stapfr` as root or
 * `~/.local/state/stapfr`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const env = (name: string) => ({ HOME: "/home/ann", STAPFR_SIM_ROOT: "/tmp/sim" } as Record<string, string>)[name];
 * assertEquals(defaultStateDir(undefined, env, { kind: "sim", simRoot: "/tmp/sim" }), "/tmp/sim/state");
 * assertEquals(defaultStateDir("/srv/fr", env), "/srv/fr");
 * ```
 */
export function defaultStateDir(
  given: string | undefined,
  env: EnvLookup = denoEnv,
  host?: Pick<Host, "kind" | "simRoot">,
): string {
  if (given) return given;
  if (host?.kind === "sim" && host.simRoot) return join(host.simRoot, "state");
  return isRoot() ? "/var/lib/stapfr" : join(stateHome(env), "stapfr");
}

/**
 * How to run `stapfr` itself as a child: the compiled binary as it is, or `deno run … cli.ts` from source
 * (the simulator's own rule, so its stand-ins and this engine agree).
 */
export function selfCommand(): string[] {
  const self = simSelfCommand();
  return [self.command, ...self.args];
}

/**
 * The simulated SystemTap: `stapfr sim stap`, `stapfr sim staprun` and `ROOT/proc`. The simulator's knobs
 * (`STAPFR_SIM_CPUS`, `STAPFR_SIM_RATE`, `STAPFR_SIM_SEED`) reach the children through the environment they
 * inherit; the root is passed explicitly so that every child agrees on it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const host = simHost({ root: "/tmp/sim-root" });
 * assertEquals(host.procRoot, "/tmp/sim-root/proc");
 * assertEquals(host.stap.slice(-2), ["sim", "stap"]);
 * ```
 */
export function simHost(options: { root?: string; env?: EnvLookup; self?: string[] } = {}): Host {
  const root = options.root ?? defaultSimRoot(options.env ?? denoEnv);
  const self = options.self ?? selfCommand();
  return {
    kind: "sim",
    stap: [...self, "sim", "stap"],
    staprun: [...self, "sim", "staprun"],
    procRoot: join(root, "proc"),
    simRoot: root,
    env: { STAPFR_SIM_ROOT: root },
  };
}
