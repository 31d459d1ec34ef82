/**
 * `stapfr unit NAME (SCRIPT_FILE | -e SCRIPT | --module FILE.ko) [start flags] [watch flags] [--install …]`:
 * prints the systemd unit of a recorder service, or installs it (docs/service.md).
 * @module
 */
import type { Context } from "../cli/context.ts";
import { StapfrError, UsageError } from "../errors.ts";
import { selfCommand } from "../host.ts";
import { resolve } from "../path.ts";
import { parseUnitArgs } from "../service/unit_args.ts";
import { installUnit } from "../service/install.ts";
import { renderUnit, unitFileName, type UnitSpec } from "../service/unit.ts";
import { validateName } from "../units.ts";
import { recordersFor, self } from "./common.ts";
import { checkPrebuilt } from "../recorder/prebuilt.ts";
import { releaseOf } from "../kernel_release.ts";
import { parseStart } from "./start.ts";
import { flagWords, parseWatch } from "./watch.ts";

/** The directory `--install` writes to unless `--unit-dir` says otherwise. */
export const SYSTEM_UNIT_DIR = "/etc/systemd/system";

async function mustRead(path: string, what: string): Promise<void> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new Error("not a regular file");
  } catch (err) {
    throw new StapfrError(`Cannot read ${what} "${path}": ${(err as Error).message}`, { cause: err });
  }
}

/** A file that holds secrets must be a regular file that nobody but its owner can read (0600 or 0400). */
async function mustBePrivate(path: string): Promise<void> {
  await mustRead(path, "credentials file");
  const mode = (await Deno.stat(path)).mode! & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new StapfrError(
      `Credentials file "${path}" can be read by others (mode ${mode.toString(8).padStart(4, "0")})`,
      { hint: `Make it private first: chmod 600 "${path}"` },
    );
  }
}

/** Runs `unit`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const parsed = parseUnitArgs(args, Deno.cwd());
  const name = validateName(parsed.name);
  const { source } = parsed;
  if ("file" in source) await mustRead(source.file, "script");
  if ("module" in source) await mustRead(source.module, "module");
  const ships = parsed.watch.includes("--ship");
  if (parsed.awsEnvFile !== undefined && parsed.awsCredentials !== undefined) {
    throw new UsageError(`Give one of "--aws-env-file" and "--aws-credentials"`);
  }
  for (const file of [parsed.awsEnvFile, parsed.awsCredentials]) if (file) await mustBePrivate(file);
  const recorders = recordersFor(ctx);
  // The service and the operator must see the same registry, whatever the service's environment.
  const stateDir = resolve(recorders.stateDir);
  const environment: Record<string, string> = {};
  if (recorders.host.simRoot) environment.STAPFR_SIM_ROOT = resolve(recorders.host.simRoot);
  const store = ctx.knobs.store;
  if (store) environment.STAPFR_STORE = resolve(store);
  // The host's name in the fleet's store, as the operator set it (docs/fleet.md "Host identity").
  if (ctx.knobs.hostName) environment.STAPFR_HOST_NAME = ctx.knobs.hostName;
  const flagValue = (list: readonly string[], flag: string): string | undefined => {
    const i = list.lastIndexOf(flag);
    return i >= 0 ? list[i + 1] : undefined;
  };
  const mounts = [
    stateDir,
    flagValue(parsed.start, "--output"),
    flagValue(parsed.watch, "--store") ?? environment.STAPFR_STORE,
  ].filter((d): d is string => d !== undefined);
  const spec: UnitSpec = {
    name,
    what: "file" in source
      ? `script ${source.file}`
      : "module" in source
      ? `module ${source.module}`
      : "inline script",
    self: selfCommand(),
    global: [...(ctx.sim ? ["--sim"] : []), "--state-dir", stateDir],
    start: [
      ...("file" in source
        ? [source.file]
        : "module" in source
        ? ["--module", source.module]
        : ["-e", source.text]),
      ...parsed.start,
      "--adopt",
      ...(parsed.stapArgs.length > 0 ? ["--", ...parsed.stapArgs] : []),
    ],
    watch: [
      "--service",
      ...parsed.watch,
      ...(parsed.watchCommand.length > 0 ? ["--", ...parsed.watchCommand] : []),
    ],
    environment,
    mounts: [...new Set(mounts)],
    ships,
    awsEnvFile: parsed.awsEnvFile,
    awsCredentials: parsed.awsCredentials,
  };
  // The unit's two lines, read now by the very parsers of start and watch: what they would refuse at boot (a
  // bad size, an empty or dash-leading -e script, a bad trigger, an option after the health check's "--") is
  // refused here, with their message.
  const start = parseStart([name, ...spec.start], ctx.sim ? "sim" : "real");
  // A prebuilt module gets start's own checks too (a kernel module, its name, built for this kernel, bulk as
  // asked): the unit starts it on this machine.
  if (start.module !== undefined) {
    await checkPrebuilt(start.module, {
      name,
      release: releaseOf(ctx.sim ? "sim" : "real", ctx.knobs),
      fileMode: start.output !== undefined,
      rotate: start.rotate !== undefined,
      cpus: ctx.sim ? ctx.knobs.simCpus : navigator.hardwareConcurrency,
      self: self(ctx),
    });
  }
  await parseWatch([name, ...spec.watch], flagWords(["unit", "start"]));
  const text = renderUnit(spec);
  if (!parsed.install) {
    if (ctx.json) await ctx.json_out({ name, unit_file: unitFileName(name), unit: text });
    else await ctx.out(text);
    return 0;
  }
  const path = resolve(parsed.unitDir ?? SYSTEM_UNIT_DIR, unitFileName(name));
  const result = await installUnit(path, text, parsed.force);
  if (parsed.daemonReload) await daemonReload();
  if (ctx.json) {
    await ctx.json_out({ name, unit_file: path, result, daemon_reload: parsed.daemonReload });
    return 0;
  }
  await ctx.out(result === "unchanged" ? `Unit "${path}" is already up to date\n` : `Wrote "${path}"\n`);
  const enable = `systemctl enable --now ${unitFileName(name)}`;
  await ctx.out(
    parsed.daemonReload
      ? `Reloaded systemd; start it with "${enable}"\n`
      : `Run "systemctl daemon-reload", then "${enable}"\n`,
  );
  return 0;
}

async function daemonReload(): Promise<void> {
  let out;
  try {
    out = await new Deno.Command("systemctl", { args: ["daemon-reload"], stdout: "null", stderr: "piped" })
      .output();
  } catch (err) {
    throw new StapfrError(`Cannot run "systemctl daemon-reload": ${(err as Error).message}`, { cause: err });
  }
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n")[0] || `exit status ${out.code}`;
    throw new StapfrError(`"systemctl daemon-reload" failed: ${why}`, {
      hint: "The unit is written; run it again when systemd is reachable",
    });
  }
}
