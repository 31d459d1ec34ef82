/**
 * The facts a manifest records about where a snapshot was taken: host name (`STAPFR_HOST_NAME`, else the
 * machine's), kernel release and SystemTap
 * version. `stap -V` is asked once per process (it prints its version on stderr); a server with only
 * `systemtap-runtime` has no `stap`, and then the version is unknown (null) rather than guessed.
 * @module
 */
import type { Host } from "../host.ts";
import type { Knobs } from "../knobs.ts";
import { runCommand } from "../driver/run.ts";
import { releaseOf } from "../kernel_release.ts";

/** Where a snapshot was taken. */
export interface HostFacts {
  host_name: string;
  kernel_release: string | null;
  systemtap_version: string | null;
}

let cached: Promise<string | null> | undefined;

async function stapVersion(host: Host): Promise<string | null> {
  try {
    const r = await runCommand([...host.stap, "-V"], { env: host.env, pipeGraceMs: 200 });
    return /version ([^\s,)]+)/.exec(r.stderr + r.stdout)?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * The facts for `host` (the simulator's kernel release is its own, as its modules' vermagic says), with the
 * knobs the engine read (`STAPFR_HOST_NAME`, `STAPFR_SIM_RELEASE`).
 */
export async function hostFacts(
  host: Host,
  knobs: Pick<Knobs, "hostName" | "simRelease">,
): Promise<HostFacts> {
  const safe = <T>(fn: () => T): T | null => {
    try {
      return fn();
    } catch {
      return null;
    }
  };
  return {
    // STAPFR_HOST_NAME names this host in the fleet's store when its own name is not the one to use
    // (containers, clones of one image; docs/fleet.md "Host identity").
    host_name: knobs.hostName ?? safe(() => Deno.hostname()) ?? "unknown",
    kernel_release: safe(() => releaseOf(host.kind, knobs)),
    systemtap_version: host.kind === "sim" ? "simulator" : await (cached ??= stapVersion(host)),
  };
}
