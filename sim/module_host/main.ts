/**
 * The module host process: `deno run … sim/module_host/main.ts CONFIG` or `stapfr sim __host CONFIG`, started by
 * `spawnModuleHost` (`sim/module_host/host.ts`) with one JSON argument ({@linkcode HostConfig}). It plays one loaded module
 * on real time until it is unloaded (SIGTERM from `unloadModule`).
 * @module
 */
import { realClock } from "../kernel/clock.ts";
import type { HostConfig } from "./host.ts";
import { loadScript } from "./script.ts";
import { ModuleServer } from "./server.ts";
import { SimModule } from "../kernel/module.ts";
import { moduleDir, updateModules } from "../kernel/procfs.ts";
import { Msg } from "../kernel/transport.ts";
import { blockInspectorSignal } from "../../lib/inspector_guard.ts";

/** Runs a module host; returns the exit status. */
export async function hostMain(args: string[]): Promise<number> {
  const config = JSON.parse(args[0] ?? "{}") as HostConfig;
  const dir = moduleDir(config.root, config.module);
  const logFile = await Deno.open(`${dir}/host.log`, { append: true, create: true, mode: 0o600 });
  const encoder = new TextEncoder();
  const log = (line: string): void => {
    logFile.writeSync(encoder.encode(`${new Date().toISOString()} ${line}\n`));
  };
  // Like a kernel module, the host ignores the terminal's signals; only unloading (SIGTERM) ends it.
  for (const signal of ["SIGINT", "SIGQUIT", "SIGHUP"] as const) {
    Deno.addSignalListener(signal, () => log(`ignored ${signal}`));
  }
  const unloadRequested = new Promise<void>((resolve) => Deno.addSignalListener("SIGTERM", () => resolve()));

  let module: SimModule;
  let server: ModuleServer;
  let alive: Deno.UnixListener;
  try {
    const script = await loadScript(config);
    module = new SimModule({
      name: config.module,
      script,
      cpus: config.cpus,
      bufferBytes: config.bufferBytes,
      seed: config.seed,
      rate: config.rate,
      bulk: config.bulk,
      guru: config.guru,
      args: config.args,
      ring: config.ringDamage ? "4.8" : "clean",
      // A host runs on real time, so the script's gettimeofday_*() tells the real time too.
      epochNs: BigInt(Date.now()) * 1_000_000n,
    });
    // Socket paths are short relative to the module directory (a Unix socket path holds 108 bytes).
    Deno.chdir(dir);
    // Updates run one after the other and each writes the state at the time it runs, so the line converges
    // to the present even when attach and detach come faster than the file can be rewritten.
    let refcounts = Promise.resolve();
    const attachedModule = module;
    server = new ModuleServer(module, realClock(), ".", {
      log,
      attachChanged: () => {
        refcounts = refcounts
          .then(() => setLine(config, "Live", attachedModule.attached ? 1 : 0))
          .catch((err) => log(`${err}`));
      },
    });
    await Deno.writeTextFile("host.pid", `${Deno.pid}\n`, { mode: 0o600 });
    alive = Deno.listen({ transport: "unix", path: "host.sock" });
    answerAlive(alive, async () => {
      // The detach's refcount update is queued when the reader goes: wait for it to be written.
      await server.readerGone(DETACH_ANSWER_MS);
      await refcounts;
    });
    await setLine(config, "Live", 0);
    log(
      `inserted ${config.module}: ${config.cpus} CPUs, ${config.bufferBytes} bytes per CPU, rate ${config.rate}`,
    );
    await tell(config.ready, "ok");
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`insert failed: ${message}`);
    await tell(config.ready, `error ${message}`).catch(() => {});
    logFile.close();
    return 1;
  }

  await unloadRequested;
  log("unloading");
  for (const message of module.unload()) {
    if (message.type === Msg.OOB_DATA) {
      log(`unread: ${new TextDecoder().decode(message.payload).replace(/\0$/, "")}`);
    }
  }
  // A write to a reader that stopped reading cannot be cancelled: the unload goes on without it.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    server.close(),
    new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS))),
  ]);
  clearTimeout(timer);
  alive.close();
  await updateModules(config.root, (lines) => ({
    lines: lines.filter((l) => l.name !== config.module),
    result: undefined,
  }));
  logFile.close();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  return 0;
}

/** How long the unload waits for the server's tasks to end. */
const CLOSE_WAIT_MS = 5_000;

/** How long a `detach` question on `host.sock` may wait for the reader's close to be seen. */
const DETACH_ANSWER_MS = 10_000;

/**
 * `host.sock`: a connection that is accepted says the host lives. A stapio about to close `.cmd` writes
 * `detach\n` first; the answer `ok\n` comes once the close is seen and `/proc/modules` shows it (the kernel
 * drops the refcount in the close itself, so stapio exits only after that).
 */
async function answerAlive(listener: Deno.UnixListener, detached: () => Promise<void>): Promise<void> {
  try {
    for await (const conn of listener) void answerOne(conn, detached);
  } catch { /* closed at unload */ }
}

async function answerOne(conn: Deno.UnixConn, detached: () => Promise<void>): Promise<void> {
  try {
    const buf = new Uint8Array(64);
    let text = "";
    while (!text.includes("\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    if (text === "detach\n") {
      await detached();
      await conn.write(new TextEncoder().encode("ok\n"));
    }
  } catch {
    // the asker went away
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** Sets this module's `/proc/modules` state and refcount. */
async function setLine(config: HostConfig, state: string, refcount: number): Promise<void> {
  await updateModules(config.root, (lines) => ({
    lines: lines.map((l) => (l.name === config.module ? { ...l, state, refcount } : l)),
    result: undefined,
  }));
}

/** Tells the spawner waiting on `path` how the insert went. */
async function tell(path: string, answer: string): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    const bytes = new TextEncoder().encode(`${answer}\n`);
    for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
  } finally {
    conn.close();
  }
}

if (import.meta.main) {
  // A module host runs for as long as its recording: SIGUSR1 must not open a debugger port in it.
  blockInspectorSignal();
  Deno.exit(await hostMain(Deno.args));
}
