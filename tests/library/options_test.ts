/**
 * Options are checked where they come in (README "Errors by code"): the inputs the issue found accepted, or
 * failing deep inside, are each refused at the call by a library program with an `OptionTypeError` (a
 * `TypeError`) or an `OptionRangeError` (a `RangeError`), code `invalid_option`, naming the option as the
 * library spells it and its unit; and nothing was changed.
 * @module
 */
import { assertEquals } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { runProgram } from "../support/library_program.ts";

const PROGRAM = `
const recorders = new stapfr.Recorders({ sim: true });
const script = { text: 'probe timer.ms(20) { printf("x\\\\n") }' };
const attempt = async (what: string, fn: () => unknown) => {
  try {
    await fn();
    report({ what, thrown: false });
  } catch (err) {
    report({
      what,
      ...codeOf(err),
      option: (err as { option?: string }).option ?? null,
      type: err instanceof TypeError ? "TypeError" : err instanceof RangeError ? "RangeError" : "other",
    });
  }
};
// deno-lint-ignore no-explicit-any
const any = (v: unknown) => v as any;
await attempt("script: 42", () => recorders.start({ name: "a", script: any(42) }));
await attempt('buffer: "lots"', () => recorders.start({ name: "a", script, buffer: any("lots") }));
await attempt("buffer: -1", () => recorders.start({ name: "a", script, buffer: -1 }));
await attempt("buffer: 1.5", () => recorders.start({ name: "a", script, buffer: 1.5 }));
await attempt('rotate: "1M"', () => recorders.start({ name: "a", script, output: "out", rotate: any("1M") }));
await attempt("rotate without output", () => recorders.start(any({ name: "a", script, rotate: { size: 1 << 20 } })));
await attempt("script and module", () => recorders.start(any({ name: "a", script, module: "stap_fr_a.ko" })));
await attempt("lines: -3", () => recorders.tail("a", () => {}, { lines: -3 }));
await attempt('idleMs: "x"', () => new stapfr.Recorders({ sim: true, idleMs: any("x") }));
await attempt('keep: "all"', () => recorders.pruneSnapshots({ keep: any("all") }));
await attempt("sink: 42", () => recorders.dump("a", any(42)));
await attempt("signal: true", () => recorders.dump("a", () => {}, { signal: any(true) }));
await attempt("name: null", () => recorders.status(any(null)));
await attempt("advance(-5)", () => new stapfr.Simulator().advance(-5));
await attempt("advance(NaN)", () => new stapfr.Simulator().advance(NaN));
await attempt("cpus: 0", () => new stapfr.Simulator({ cpus: 0 }));
await attempt("policies.cooldownMs: -1", () => recorders.watch({ name: "a", triggers: [{ kind: "signal" }], policies: { cooldownMs: -1 } }));
await attempt("triggers[0].kind", () => recorders.watch({ name: "a", triggers: [any({ kind: "sometimes" })] }));
report({ listed: (await recorders.list()).recorders.length });
`;

/** What each bad input must give: the class (`TypeError` or `RangeError`), the option, and its message. */
const EXPECTED: Record<string, [string, string, RegExp]> = {
  "script: 42": [
    "TypeError",
    "script",
    /^Invalid option "script": expected \{ file: PATH \} or \{ text: SCRIPT \}, got 42$/,
  ],
  'buffer: "lots"': [
    "TypeError",
    "buffer",
    /^Invalid option "buffer": expected a whole number of bytes .*, got "lots"$/,
  ],
  "buffer: -1": [
    "RangeError",
    "buffer",
    /^Invalid option "buffer": expected a whole number of bytes from 4096 .*, got -1$/,
  ],
  "buffer: 1.5": ["RangeError", "buffer", /, got 1\.5$/],
  'rotate: "1M"': [
    "TypeError",
    "rotate",
    /^Invalid option "rotate": expected \{ size: BYTES, count\?: FILES \}, got "1M"$/,
  ],
  "rotate without output": ["TypeError", "rotate", /^Option "rotate" needs "output"/],
  "script and module": ["TypeError", "module", /^Options "script" and "module" exclude each other/],
  "lines: -3": [
    "RangeError",
    "lines",
    /^Invalid option "lines": expected a whole number of lines from 0 to 10000000, got -3$/,
  ],
  'idleMs: "x"': ["TypeError", "idleMs", /a whole number of milliseconds from 1 to 3600000, got "x"$/],
  'keep: "all"': [
    "TypeError",
    "bounds.keep",
    /^Invalid option "bounds.keep": expected a whole number of snapshots/,
  ],
  "sink: 42": ["TypeError", "sink", /expected a function or a WritableStream<Uint8Array>/],
  "signal: true": ["TypeError", "signal", /expected an AbortSignal, got true$/],
  "name: null": [
    "TypeError",
    "name",
    /^Invalid option "name": expected a recorder name \(a string\), got null$/,
  ],
  "advance(-5)": ["RangeError", "ms", /a number of milliseconds from 0 to .*, got -5$/],
  "advance(NaN)": ["RangeError", "ms", /, got NaN$/],
  "cpus: 0": ["RangeError", "cpus", /a whole number of CPUs from 1 to 1024, got 0$/],
  "policies.cooldownMs: -1": ["RangeError", "policies.cooldownMs", /milliseconds from 0 to/],
  "triggers[0].kind": [
    "RangeError",
    "triggers[0].kind",
    /one of "signal", "exit-status", "log", "pressure", "process", "marker"/,
  ],
};

Deno.test("bad options are refused at the call, naming the option and its unit, and nothing changes", async () => {
  await SimWorld.with(async (world) => {
    const r = await runProgram(world, "options", PROGRAM);
    assertEquals(r.code, 0, r.stderr);
    const seen = r.reports.filter((x) => x.what);
    assertEquals(seen.map((x) => x.what), Object.keys(EXPECTED));
    for (const x of seen) {
      const [type, option, message] = EXPECTED[x.what as string];
      assertEquals([x.code, x.type], ["invalid_option", type], `${x.what}: ${JSON.stringify(x)}`);
      if (option) assertEquals(x.option, option, x.what as string);
      if (!message.test(x.message as string)) throw new Error(`${x.what}: ${x.message}`);
      // The library's own names, never the command line's flags.
      if (/"--/.test(x.message as string)) throw new Error(`${x.what} names a flag: ${x.message}`);
    }
    assertEquals(r.reports.at(-1), { listed: 0 });
    assertEquals(await world.modules(), {}, "nothing was loaded");
  });
});
