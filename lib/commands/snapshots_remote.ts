/**
 * The fleet view of `stapfr snapshots` (docs/fleet.md "The fleet view"):
 *
 * - `snapshots --remote [URL] [--host H] [--recorder NAME] [--since D] [--until D] [--reason REGEX]
 *   [--trigger KIND]`: the snapshots of every host in a store;
 * - `snapshots fetch URL|HOST/RECORDER/ID [-o DIR]`: downloads one, every SHA-256 checked;
 * - `snapshots show URL|HOST/RECORDER/ID [--data [-o FILE]]`: a remote snapshot's manifest, or its data.
 *
 * The store is `--remote URL`, else `STAPFR_SHIP_TO`; `--endpoint` as for `ship`.
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { join, resolve } from "../path.ts";
import { parseDuration } from "../units.ts";
import { parseRemoteRef } from "../fleet/layout.ts";
import type { RemoteFilters, RemoteSnapshot } from "../fleet/remote.ts";
import { age, humanBytes, stdoutSink, table } from "./common.ts";
import { openOutputFile } from "./output_file.ts";
import { destinationOf, endpointOf, openRemote, requireDestination, urlOf } from "./fleet_common.ts";

// The fleet's forms of lib/declarations/declarations.ts: the listing of every host's snapshots, show, fetch.
const [, , , , REMOTE, REMOTE_SHOW, FETCH] = COMMANDS.snapshots.forms;

/** The flags only the fleet view takes: any of them makes `snapshots` a listing of the store. */
const REMOTE_FLAGS = REMOTE.flags.map((f) => `--${f.long}`);

/**
 * A remote snapshot as `HOST/RECORDER/ID`: three names, none empty (`r1/ID/` or `r1/ID/../x` are malformed
 * local references, refused as such, not sent to a store).
 */
const REMOTE_REF = /^[^/\s]+\/[a-z][a-z0-9_]*\/\d{8}T\d{6}Z-\d{3}$/;

/** Whether `snapshots ARGS…` is about a remote store (so this module runs it). */
export function isRemote(args: readonly string[]): boolean {
  if (args[0] === "fetch") return true;
  const has = (flags: readonly string[]) =>
    args.some((a) => flags.some((f) => a === f || a.startsWith(`${f}=`)));
  if (args[0] === "show") {
    return has(["--remote", "--endpoint"]) ||
      args.slice(1).some((a) => a.startsWith("s3://") || REMOTE_REF.test(a));
  }
  return args[0] !== "prune" && has(REMOTE_FLAGS);
}

/**
 * A moment given as a duration before now (`1h`, `30m`, `7d`) or an ISO 8601 time (`2026-12-01T05:00:00Z`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const now = Date.UTC(2026, 11, 1, 12);
 * assertEquals(parseWhen("1h", "--since", now), Date.UTC(2026, 11, 1, 11));
 * assertEquals(parseWhen("2026-12-01T05:00:00Z", "--since", now), Date.UTC(2026, 11, 1, 5));
 * ```
 */
export function parseWhen(text: string, flag: string, now = Date.now()): number {
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    const t = Date.parse(text);
    if (Number.isNaN(t)) throw new UsageError(`Invalid "${flag}" "${text}": not a time`);
    return t;
  }
  return now - parseDuration(text, `"${flag}"`);
}

function flags(s: RemoteSnapshot): string {
  return `${s.wrapped ? "W" : "-"}${s.contiguous ? "-" : "G"}`;
}

/** Runs the remote forms of `snapshots`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  if (args[0] === "fetch") return await fetch(args.slice(1), ctx);
  if (args[0] === "show") return await show(args.slice(1), ctx);
  const { values } = parseForm(args, REMOTE);
  const dest = requireDestination(ctx, urlOf(values.remote), "--remote");
  const filters: RemoteFilters = {};
  if (values.host !== undefined) filters.host = values.host as string;
  if (values.recorder !== undefined) filters.recorder = values.recorder as string;
  if (values.trigger !== undefined) filters.trigger = values.trigger as string;
  const now = Date.now();
  if (values.since !== undefined) filters.since = parseWhen(values.since as string, "--since", now);
  if (values.until !== undefined) filters.until = parseWhen(values.until as string, "--until", now);
  if (values.reason !== undefined) {
    try {
      filters.reason = new RegExp(values.reason as string);
    } catch (err) {
      throw new UsageError(`Invalid "--reason" "${values.reason}": ${(err as Error).message}`);
    }
  }
  const remote = await openRemote(ctx, dest, endpointOf(values.endpoint));
  try {
    const { listRemote } = await import("../fleet/remote.ts");
    const { snapshots, unreadable } = await listRemote(remote, filters);
    if (ctx.json) {
      await ctx.json_out({ snapshots, unreadable, requests: remote.requests });
      return ExitCode.ok;
    }
    if (snapshots.length === 0) await ctx.out("No snapshots\n");
    else {
      await ctx.out(table(
        ["HOST", "RECORDER", "ID", "TIME", "AGE", "SIZE", "FLAGS", "REASON"],
        snapshots.map((s) => [
          s.host,
          s.recorder,
          s.id,
          s.taken_at.replace(/\.\d+Z$/, "Z"),
          age(s.taken_at),
          humanBytes(s.bytes),
          flags(s),
          s.reason ?? (s.trigger === "user" ? "-" : `(${s.trigger})`),
        ]),
      ));
    }
    for (const u of unreadable) await ctx.err(`stapfr: unreadable index entry ${u}`);
    return ExitCode.ok;
  } finally {
    remote.close();
  }
}

async function fetch(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, FETCH);
  if (positionals[0] === undefined) {
    throw new UsageError("Missing snapshot: give its URL or HOST/RECORDER/ID");
  }
  const { dest, ref } = parseRemoteRef(positionals[0], destinationOf(ctx, urlOf(values.remote), "--remote"));
  if (values.output === "") throw new UsageError(`Invalid "--output": an empty path`);
  const dir = resolve(
    Deno.cwd(),
    (values.output as string | undefined) ?? join(ref.host, ref.recorder, ref.id),
  );
  const remote = await openRemote(ctx, dest, endpointOf(values.endpoint));
  try {
    const { fetchRemote } = await import("../fleet/remote.ts");
    const f = await fetchRemote(remote, ref, dir);
    if (ctx.json) {
      await ctx.json_out({ ...f.manifest, path: f.dir, url: f.url, verified: true });
      return ExitCode.ok;
    }
    await ctx.out(
      `Fetched ${ref.host}/${ref.recorder}/${ref.id} into ${f.dir}: ${f.files} file${
        f.files === 1 ? "" : "s"
      }, ` +
        `${humanBytes(f.bytes)}, every SHA-256 checked: OK\n`,
    );
    return ExitCode.ok;
  } finally {
    remote.close();
  }
}

async function show(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, REMOTE_SHOW);
  if (positionals[0] === undefined) {
    throw new UsageError("Missing snapshot: give its URL or HOST/RECORDER/ID");
  }
  const path = values.output as string | undefined;
  if (values.data && path === undefined && ctx.json) {
    throw new UsageError(`"--json" with "--data" needs "-o FILE"`);
  }
  const { dest, ref } = parseRemoteRef(positionals[0], destinationOf(ctx, urlOf(values.remote), "--remote"));
  const remote = await openRemote(ctx, dest, endpointOf(values.endpoint));
  try {
    const { fetchRemote, remoteManifest } = await import("../fleet/remote.ts");
    if (!values.data) {
      const { manifest, url } = await remoteManifest(remote, ref);
      await ctx.json_out(ctx.json ? { ...manifest, url } : manifest);
      return ExitCode.ok;
    }
    // The data as one ordered stream, as for a local snapshot: fetched (and checked) into a scratch store.
    const scratch = await Deno.makeTempDir({ prefix: "stapfr-show-" });
    try {
      // As private as a store of stapfr's own: the store refuses a recorder directory others could read.
      await Deno.mkdir(join(scratch, ref.recorder), { mode: 0o700 });
      await Deno.chmod(join(scratch, ref.recorder), 0o700);
      await fetchRemote(remote, ref, join(scratch, ref.recorder, ref.id));
      const { SnapshotStore } = await import("../snapshots/store.ts");
      const { snapshotData } = await import("../snapshots/ops.ts");
      const store = new SnapshotStore(scratch);
      const local = `${ref.recorder}/${ref.id}`;
      if (path === undefined) {
        await snapshotData(store, local, stdoutSink(ctx));
        return ExitCode.ok;
      }
      const file = await openOutputFile(path);
      let bytes;
      try {
        ({ bytes } = await snapshotData(store, local, file.sink));
        await file.commit();
      } catch (err) {
        await file.abandon();
        throw err;
      }
      if (ctx.json) await ctx.json_out({ snapshot: positionals[0], bytes, file: path });
      else await ctx.out(`Wrote ${bytes} bytes to "${path}"\n`);
      return ExitCode.ok;
    } finally {
      await Deno.remove(scratch, { recursive: true }).catch(() => {});
    }
  } finally {
    remote.close();
  }
}
