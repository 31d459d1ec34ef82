/**
 * The two sides of the lab: the real kernel (stapfr run inside the guest, on the host's root) and the
 * simulator (stapfr --sim on the host). Both run the bundle, the one file a server gets (README "One file to
 * ship"), and get the same timing settings, so they differ only in what is underneath.
 * @module
 */
import { denoRunFlags, PERMISSIONS } from "../../lib/self.ts";
import type { Side } from "./runner.ts";

/** The argv prefix that runs the bundle with `deno` and these permissions, as its first line would. */
export function bundleArgv(deno: string, bundle: string, permissions: readonly string[]): string[] {
  return [deno, ...denoRunFlags("bundle"), ...permissions, bundle];
}

/** stapfr's own timing knobs, the same on both sides (its defaults, written out). */
export const TIMING: Record<string, string> = {
  STAPFR_IDLE_MS: "2500",
  STAPFR_SIGNAL_WAIT_MS: "3000",
  NO_COLOR: "1",
  DENO_NO_UPDATE_CHECK: "1",
};

/** The simulator's side, in a root of its own. */
export function simSide(options: { root: string; modules: string; out: string; bundle: string }): Side {
  const stapfr = bundleArgv(Deno.execPath(), options.bundle, PERMISSIONS);
  return {
    kind: "sim",
    stapfr: [...stapfr, "--sim"],
    staprun: [...stapfr, "sim", "staprun"],
    env: {
      ...TIMING,
      STAPFR_SIM_ROOT: options.root,
      STAPFR_SIM_CPUS: "2",
      STAPFR_SIM_SEED: "7",
      // The real 4.8 reader's hold after an attach and at each gap, as the guest's stapio has it.
      STAPFR_SIM_SEQ_WAIT_MS: "4.8",
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
    },
    procRoot: `${options.root}/proc`,
    stateDir: `${options.root}/state`,
    modules: options.modules,
    out: options.out,
    commandLimitMs: 120_000,
  };
}

/** The real kernel's side, as the guest sees it. */
export function realSide(
  options: {
    deno: string;
    stapfr: string;
    home: string;
    denoDir: string;
    modules: string;
    out: string;
    stateDir: string;
  },
): Side {
  return {
    kind: "real",
    // As its first line runs it: with --allow-all Deno reads the real /proc itself; without it every read would
    // go through libc or a helper process, which in an emulated guest costs a lot (README "Permissions").
    stapfr: bundleArgv(options.deno, options.stapfr, PERMISSIONS),
    staprun: ["staprun"],
    env: {
      ...TIMING,
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: options.home,
      DENO_DIR: options.denoDir,
    },
    procRoot: "/proc",
    stateDir: options.stateDir,
    modules: options.modules,
    out: options.out,
    // An emulated CPU: a stapfr command takes seconds.
    commandLimitMs: 240_000,
  };
}
