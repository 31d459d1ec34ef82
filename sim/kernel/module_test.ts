import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { builtinWorkload } from "../workload/builtin.ts";
import { EINVAL, ModuleBusyError, type ModuleConfig, OVERFLOW_WARNING, SimModule } from "./module.ts";
import type { CompiledScript, ProbeSink, RunOptions, ScriptRun } from "./program.ts";
import { Msg, RecordDecoder, type RelayRecord } from "./transport.ts";

const MS = 1e6;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A test script: "begin" at begin, "tick N" every millisecond on CPU N%cpus, "end" at end, and hooks. */
function testScript(hooks: { atMs?: Record<number, (sink: ProbeSink) => void> } = {}): CompiledScript {
  return {
    unsupported: [],
    instantiate(options: RunOptions): ScriptRun {
      let ms = 0;
      let hits = 0;
      let exited = false;
      const { cpus } = options;
      // Probes other than end stop firing after exit(): that is the script's part of the contract.
      const sink: ProbeSink = { ...options.sink, exit: () => (exited = true, options.sink.exit()) };
      return {
        get hits() {
          return hits;
        },
        begin() {
          hits++;
          sink.print(0, encoder.encode("begin\n"));
        },
        advance(untilNs: number) {
          while (!exited && (ms + 1) * MS <= untilNs) {
            ms++;
            hits++;
            sink.print(ms % cpus, encoder.encode(`tick ${ms}\n`));
            hooks.atMs?.[ms]?.(sink);
          }
        },
        end() {
          hits++;
          sink.print(0, encoder.encode("end\n"));
        },
      };
    },
  };
}

function load(script: CompiledScript, overrides: Partial<ModuleConfig> = {}): SimModule {
  return new SimModule({
    name: "stap_test",
    script,
    cpus: 2,
    bufferBytes: 64 * 4096,
    seed: 1,
    rate: 1000,
    ...overrides,
  });
}

/** What `staprun -L` does: attach, READY, START, detach without waiting (2.1). */
function loadOnly(module: SimModule): void {
  module.attach();
  module.handle(Msg.READY, new Uint8Array());
  module.drainControl(); // stapio reads STP_TRANSPORT, then sends STP_START
  module.handle(Msg.START, new Uint8Array(8));
  module.detach();
}

/** Everything unread in the rings, merged by sequence number, as text. */
function readOutput(module: SimModule): string {
  const records: RelayRecord[] = [];
  const out = new Uint8Array(64 * 1024);
  for (let cpu = 0; cpu < module.relay.cpus; cpu++) {
    const decode = new RecordDecoder();
    for (let n = module.relay.read(cpu, out); n > 0; n = module.relay.read(cpu, out)) {
      records.push(...decode.push(out.subarray(0, n)));
    }
  }
  records.sort((a, b) => a.seq - b.seq);
  return records.map((r) => decoder.decode(r.payload)).join("");
}

function texts(messages: { type: number; payload: Uint8Array }[]): string[] {
  return messages.map((m) =>
    m.type === Msg.OOB_DATA
      ? decoder.decode(m.payload)
      : Object.entries(Msg).find(([, v]) => v === m.type)![0]
  );
}

Deno.test("module: begin output stays buffered until the first attach, and is not repeated (5.3, [test] attach_detach)", () => {
  const module = load(testScript());
  loadOnly(module);
  assertEquals(module.state, "running");
  module.advance(3 * MS);
  // First attach: begin output and everything since.
  module.attach();
  assertEquals(readOutput(module), "begin\ntick 1\ntick 2\ntick 3\n");
  module.detach();
  module.advance(5 * MS);
  // Second attach: only what came after the first reader consumed its data.
  module.attach();
  assertEquals(readOutput(module), "tick 4\ntick 5\n");
  assertEquals(readOutput(module), "");
  module.detach();
});

Deno.test("module: the control handshake of 4.8 (2.1): TRANSPORT, START reply, BULK", () => {
  const module = load(testScript());
  module.attach();
  assertEquals(module.handle(Msg.BULK, new Uint8Array(128)), -EINVAL);
  assertEquals(load(testScript(), { bulk: true }).handle(Msg.BULK, new Uint8Array(128)), 0);
  const start = new Uint8Array(8);
  new DataView(start.buffer).setInt32(0, 4242, true);
  module.handle(Msg.START, start);
  const messages = module.drainControl();
  assertEquals(texts(messages), ["TRANSPORT", "START"]);
  const reply = new DataView(messages[1].payload.buffer);
  assertEquals([reply.getInt32(0, true), reply.getInt32(4, true)], [4242, 0]);
  // A second START does nothing (the runtime starts once).
  module.handle(Msg.START, start);
  assertEquals(module.drainControl(), []);
});

Deno.test("module: a second reader gets EBUSY (2.8, 3)", () => {
  const module = load(testScript());
  module.attach();
  assertThrows(() => module.attach(), ModuleBusyError);
  module.detach();
  module.attach();
});

Deno.test("module: overwrite is off at load and while attached, on while detached (5.2)", () => {
  const module = load(testScript(), { bufferBytes: 4 * 4096 });
  assertEquals(module.relay.overwrite, false);
  loadOnly(module);
  assertEquals(module.relay.overwrite, true);
  // Detached: the ring wraps, the newest data is kept.
  module.advance(2000 * MS);
  module.attach();
  assertEquals(module.relay.overwrite, false);
  const output = readOutput(module);
  assert(!output.includes("begin"), "the oldest data was overwritten");
  assert(output.endsWith("tick 2000\n"));
  assertEquals(module.relay.stats.failures, 0);
  // Attached and not reading: new data is dropped and counted.
  module.advance(4000 * MS);
  assert(module.relay.stats.failures > 0);
  const kept = readOutput(module);
  assert(kept.startsWith("tick 2001\n"), "the oldest unread data is kept");
  assert(!kept.includes("tick 4000\n"));
});

Deno.test("module: warnings queued while detached are delivered on attach, with the 4.8 overflow text (2.3)", () => {
  const warnAt: Record<number, (sink: ProbeSink) => void> = {};
  for (let i = 1; i <= 300; i++) warnAt[i] = (sink) => sink.warning(`warning ${i}`);
  const module = load(testScript({ atMs: warnAt }));
  loadOnly(module);
  module.advance(300 * MS);
  module.attach();
  const messages = texts(module.drainControl());
  assertEquals(messages[0], "START");
  const oob = messages.slice(1);
  // 256 buffers, 8 set aside for special messages: 248 warnings, then one overflow text.
  assertEquals(oob.length, 249);
  assertEquals(oob[0], "WARNING: warning 1\n\0");
  assertEquals(oob[247], "WARNING: warning 248\n\0");
  assertEquals(oob[248], `${OVERFLOW_WARNING}\0`);
  assertEquals(OVERFLOW_WARNING, "WARNING: too many pending (warning) messages\n");
  // Once read, the buffers are free again.
  module.advance(301 * MS);
  module.detach();
});

Deno.test("module: exit() while detached takes effect at the next attach, with REQUEST_EXIT (2.3, 2.6)", () => {
  const module = load(testScript({ atMs: { 5: (sink) => sink.exit() } }));
  loadOnly(module);
  module.drainControl();
  module.advance(50 * MS);
  assert(module.exitRequested);
  // Probes stopped at exit(); no request yet because nobody is attached.
  assertEquals(module.pendingControl, 0);
  assertEquals(module.state, "running");
  module.attach();
  assertEquals(texts(module.drainControl()), ["REQUEST_EXIT"]);
  // The reader answers STP_EXIT: end probes, then EXIT.
  module.handle(Msg.EXIT, new Uint8Array());
  assertEquals(texts(module.drainControl()), ["EXIT"]);
  assertEquals(readOutput(module), "begin\ntick 1\ntick 2\ntick 3\ntick 4\ntick 5\nend\n");
  assertEquals(module.state, "exited");
  // After exit was requested, a detach leaves overwrite off (transport.c _stp_detach).
  module.detach();
  assertEquals(module.relay.overwrite, false);
});

Deno.test("module: exit() while attached sends REQUEST_EXIT at once (2.6)", () => {
  const module = load(testScript({ atMs: { 2: (sink) => sink.exit() } }));
  module.attach();
  module.handle(Msg.START, new Uint8Array(8));
  module.drainControl();
  module.advance(10 * MS);
  assertEquals(texts(module.drainControl()), ["REQUEST_EXIT"]);
});

Deno.test("module: transport failures are reported at exit with the 4.8 text (2.7)", () => {
  const module = load(testScript(), { bufferBytes: 1024 * 1024, cpus: 1 });
  module.attach();
  module.handle(Msg.START, new Uint8Array(8));
  module.drainControl();
  module.advance(200_000 * MS);
  assert(module.relay.stats.failures > 0);
  module.handle(Msg.EXIT, new Uint8Array());
  // The end probe's own output found the ring full too.
  const failures = module.relay.stats.failures;
  assertEquals(texts(module.drainControl()), [
    `WARNING: There were ${failures} transport failures. Try stap -s to increase the buffer size from 1.\n\0`,
    "EXIT",
  ]);
});

Deno.test("module: unload runs the end probes when nobody stopped it and returns unread messages (2.5, 2.8)", () => {
  const module = load(testScript({ atMs: { 1: (sink) => sink.error("boom") } }));
  loadOnly(module);
  module.advance(2 * MS);
  const left = texts(module.unload());
  assertEquals(left, ["START", "ERROR: boom\n\0"]);
  assertEquals(module.state, "unloaded");
  assertThrows(() => module.attach(), Error);
});

Deno.test("module: the built-in workload prints seed-shaped vfs lines, deterministic for a seed", () => {
  const run = (seed: number): string => {
    const module = load(builtinWorkload, { seed, rate: 10_000 });
    loadOnly(module);
    module.advance(100 * MS);
    module.attach();
    module.handle(Msg.EXIT, new Uint8Array());
    return readOutput(module);
  };
  const a = run(7);
  assertEquals(run(7), a);
  assert(run(8) !== a);
  const lines = a.trimEnd().split("\n");
  assertEquals(lines.length, 1001);
  assertEquals(lines.at(-1), "exited");
  for (const line of lines.slice(0, -1)) assertMatch(line, /^vfs\.(read|write)\*\*.+\*\*\d+$/);
  assert(lines.includes('vfs.read**postgres: wal writer process    "" "" ""**7014'));
});
