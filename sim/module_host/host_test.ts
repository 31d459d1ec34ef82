import { assert, assertEquals, assertRejects } from "@std/assert";
import { exists } from "@std/fs";
import { listModules, type ModuleHostHandle, spawnModuleHost, StaprunRefusal, unloadModule } from "./host.ts";
import { moduleDir, readModules } from "../kernel/procfs.ts";
import {
  CMD_ATTACHED,
  CMD_BUSY,
  ControlDecoder,
  type ControlMessage,
  encodeControl,
  encodeTraceRequest,
  Msg,
  RecordDecoder,
  type RelayRecord,
  TRACE_PARKED,
  TraceAnswerDecoder,
} from "../kernel/transport.ts";
import { until } from "../../tests/support/poll.ts";

/** Guards against a hang (a failing test must not block the suite); not a timing assertion. */
const GUARD_MS = 15_000;

/**
 * A minimal reader: one socket, decoding control messages, or reading a relay file (each read a request and
 * its answer, sim/kernel/transport.ts) and decoding its records (the host's ring is the clean one here).
 */
class Socket {
  readonly conn: Deno.UnixConn;
  #control = new ControlDecoder();
  #records = new RecordDecoder();
  #answers = new TraceAnswerDecoder();
  /** A request is out and not yet answered: a ppoll or a read. */
  #asked: "poll" | "read" | undefined;
  messages: ControlMessage[] = [];
  records: RelayRecord[] = [];
  closed = false;
  #buf = new Uint8Array(64 * 1024);

  private constructor(conn: Deno.UnixConn) {
    this.conn = conn;
  }

  static async open(path: string): Promise<Socket> {
    return new Socket(await Deno.connect({ transport: "unix", path }));
  }

  /** Opens `dir/.cmd` and reads the host's verdict byte, which must be `verdict` (1: the reader, 0: busy). */
  static async cmd(dir: string, verdict = CMD_ATTACHED[0]): Promise<Socket> {
    const socket = await Socket.open(`${dir}/.cmd`);
    const byte = new Uint8Array(1);
    assertEquals(await socket.conn.read(byte), 1, "the host's verdict");
    assertEquals(byte[0], verdict, "the host's verdict");
    return socket;
  }

  async send(type: number, payload?: Uint8Array): Promise<void> {
    const bytes = encodeControl(type, payload);
    for (let done = 0; done < bytes.length;) done += await this.conn.write(bytes.subarray(done));
  }

  /** Reads until `done()` holds or the peer closes; returns false when it closed first. */
  async readUntil(kind: "control" | "records", done: () => boolean): Promise<boolean> {
    const deadline = Date.now() + GUARD_MS;
    while (!done()) {
      if (this.closed) return false;
      if (Date.now() > deadline) throw new Error("Guard: the host did not answer");
      if (kind === "records" && !this.#asked) {
        // A ppoll, then a read once it says there is data.
        const request = encodeTraceRequest(0, true);
        for (let d = 0; d < request.length;) d += await this.conn.write(request.subarray(d));
        this.#asked = "poll";
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.conn.read(this.#buf),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Guard: no data on ${kind} socket`)), GUARD_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      if (n === null) {
        this.closed = true;
        return done();
      }
      const chunk = this.#buf.subarray(0, n);
      if (kind === "control") this.messages.push(...this.#control.push(chunk));
      else {
        for (const answer of this.#answers.push(chunk)) {
          if (answer.rc === TRACE_PARKED) continue;
          if (this.#asked === "poll") {
            const request = encodeTraceRequest(256 * 1024, false);
            for (let d = 0; d < request.length;) d += await this.conn.write(request.subarray(d));
            this.#asked = "read";
            continue;
          }
          this.#asked = undefined;
          this.records.push(...this.#records.push(answer.bytes));
        }
      }
    }
    return true;
  }

  #released = false;

  close(): void {
    if (!this.#released) this.conn.close();
    this.#released = true;
    this.closed = true;
  }
}

const text = (r: RelayRecord): string => new TextDecoder().decode(r.payload);

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  await until(`guard: ${what}`, check, { timeoutMs: GUARD_MS, intervalMs: 10 });
}

/** Waits until the host's log has `count` lines containing `text` (the host's own view of attach/detach). */
async function logged(root: string, text: string, count: number): Promise<void> {
  const path = `${moduleDir(root, "stap_fr_test")}/host.log`;
  await waitFor(`${count}× "${text}" in host.log`, async () => {
    const log = await Deno.readTextFile(path).catch(() => "");
    return log.split("\n").filter((l) => l.includes(text)).length >= count;
  });
}

async function refcountIs(root: string, name: string, count: number): Promise<void> {
  await waitFor(
    `refcount ${count}`,
    async () => (await listModules(root)).find((m) => m.name === name)?.refcount === count,
  );
}

async function withHost(
  rate: number,
  scriptSource: string | undefined,
  body: (root: string, host: ModuleHostHandle) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "stapfr-host-" });
  const host = await spawnModuleHost({
    root,
    module: "stap_fr_test",
    scriptSource,
    cpus: 2,
    rate,
    seed: 3,
    bufferBytes: 1 << 20,
  });
  host.process.ref();
  try {
    await body(root, host);
  } catch (err) {
    const log = await Deno.readTextFile(`${moduleDir(root, "stap_fr_test")}/host.log`).catch(() =>
      "(no log)"
    );
    throw new Error(`${err instanceof Error ? err.message : err}\nhost.log:\n${log}`, { cause: err });
  } finally {
    try {
      host.process.kill("SIGKILL");
    } catch { /* already gone */ }
    await host.process.status;
    await Deno.remove(root, { recursive: true });
  }
}

/** `staprun -L`: READY, TRANSPORT, START, then detach without waiting for the reply (2.1). */
async function loadOnly(dir: string): Promise<void> {
  const cmd = await Socket.cmd(dir);
  await cmd.send(Msg.READY);
  await cmd.readUntil("control", () => cmd.messages.some((m) => m.type === Msg.TRANSPORT));
  await cmd.send(Msg.START, new Uint8Array(8));
  cmd.close();
}

Deno.test("host: insert, load, attach once, detach, SIGKILL, dead, unload cleans up (2.1, 2.3, 2.8, 3)", async () => {
  const script = 'probe begin { printf("begin\\n") } probe timer.ms(1) { printf("tick %d\\n", cpu()) }';
  await withHost(0, script, async (root, host) => {
    const name = "stap_fr_test";
    const dir = moduleDir(root, name);
    assertEquals(await listModules(root), [{
      name,
      size: (await readModules(root))[0].size,
      refcount: 0,
      state: "live",
      pid: host.pid,
    }]);
    assertEquals((await Deno.stat(`${dir}/host.log`)).mode! & 0o777, 0o600);

    // The name is taken: EEXIST, as staprun reports it (2.8).
    const taken = await assertRejects(
      () => spawnModuleHost({ root, module: name }),
      StaprunRefusal,
    ) as StaprunRefusal;
    assertEquals(taken.lines, [
      `ERROR: Couldn't insert module '${name}.ko': File exists`,
      "ERROR: Rerun with staprun option '-R' to rename this module.",
    ]);

    await loadOnly(dir);
    await logged(root, "reader detached", 1);
    await refcountIs(root, name, 0);

    // First attach: a second reader is refused at once (EBUSY), and the refcount says attached.
    const cmd = await Socket.cmd(dir);
    await refcountIs(root, name, 1);
    const intruder = await Socket.cmd(dir, CMD_BUSY[0]);
    assertEquals(
      await intruder.readUntil("control", () => false),
      false,
      "the second reader is closed at once",
    );
    intruder.close();
    // The START reply of the load-only run was never read, so it is delivered now.
    await cmd.readUntil("control", () => cmd.messages.some((m) => m.type === Msg.START));
    assertEquals(new DataView(cmd.messages[0].payload.buffer).getInt32(4, true), 0);
    const traces = [await Socket.open(`${dir}/trace0`), await Socket.open(`${dir}/trace1`)];
    // Everything buffered since the start comes first: the very first records (sequence 1, 2, …).
    // timer.ms fires on one CPU (0 here), like begin: CPU 1 stays silent.
    await traces[0].readUntil("records", () => traces[0].records.length >= 5);
    const firstRead = traces.flatMap((t) => t.records);
    assertEquals(
      text(firstRead.find((r) => r.seq === 1)!),
      "begin\n",
      "begin output comes on the first attach",
    );
    for (const r of firstRead.filter((r) => r.seq > 1)) assert(/^tick [01]\n$/.test(text(r)), text(r));
    // Detach (SIGQUIT-style: just close).
    traces.forEach((t) => t.close());
    cmd.close();
    await refcountIs(root, name, 0);

    // Second attach: nothing of the first read is repeated (5.3).
    const cmd2 = await Socket.cmd(dir);
    const trace0 = await Socket.open(`${dir}/trace0`);
    await trace0.readUntil("records", () => trace0.records.length >= 3);
    const maxFirst = Math.max(...firstRead.filter((r) => firstRead.indexOf(r) >= 0).map((r) => r.seq));
    const seenFirst = new Set(firstRead.map((r) => r.seq));
    for (const r of trace0.records) assert(!seenFirst.has(r.seq), `record ${r.seq} repeated`);
    assert(!trace0.records.some((r) => text(r) === "begin\n"), "begin output is not repeated");
    assert(maxFirst > 0);
    trace0.close();
    cmd2.close();
    await refcountIs(root, name, 0);

    // The host ignores the terminal's signals.
    Deno.kill(host.pid, "SIGINT");
    assertEquals((await listModules(root))[0].state, "live");

    // SIGKILL: the module shows as dead, and unloading cleans up what the host left.
    host.process.kill("SIGKILL");
    await host.process.status;
    assertEquals((await listModules(root))[0].state, "dead");
    await unloadModule(root, name);
    assertEquals(await listModules(root), []);
    assertEquals(await exists(dir), false);
    const gone = await assertRejects(() => unloadModule(root, name), StaprunRefusal) as StaprunRefusal;
    assertEquals(gone.status, 234);
    assertEquals(gone.lines, [
      `ERROR: Cannot attach to module ${name} control channel; not running?`,
      `ERROR: '${name}' is not a zombie systemtap module.`,
    ]);
  });
});

Deno.test("host: EXIT runs the end probe, drains the relay, then unload ends the host (2.5, 2.8)", async () => {
  await withHost(500, undefined, async (root, host) => {
    const name = "stap_fr_test";
    const dir = moduleDir(root, name);
    await loadOnly(dir);
    await logged(root, "reader detached", 1);
    const cmd = await Socket.cmd(dir);
    const traces = [await Socket.open(`${dir}/trace0`), await Socket.open(`${dir}/trace1`)];
    await logged(root, "reader attached", 2);
    await refcountIs(root, name, 1);
    // Unloading an attached module is refused with 4.8's words.
    const busy = await assertRejects(() => unloadModule(root, name), StaprunRefusal) as StaprunRefusal;
    assertEquals(busy.status, 234);

    await cmd.send(Msg.EXIT);
    // The relay streams end (EOF) once drained; the last record is the end probe's.
    await Promise.all(traces.map((t) => t.readUntil("records", () => false)));
    const all = traces.flatMap((t) => t.records).sort((a, b) => a.seq - b.seq);
    assertEquals(text(all.at(-1)!), "exited\n");
    await cmd.readUntil("control", () => cmd.messages.some((m) => m.type === Msg.EXIT));
    traces.forEach((t) => t.close());
    cmd.close();
    // Like stapio: close .cmd, then `staprun -d` at once.
    await unloadModule(root, name);
    assertEquals((await host.process.status).code, 0);
    assertEquals(await listModules(root), []);
    assertEquals(await exists(dir), false);
  });
});
