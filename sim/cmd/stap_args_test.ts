import { assertEquals, assertMatch } from "@std/assert";
import { defaultModuleName, parseStapArgs } from "./stap_args.ts";

const script = ["-e", "probe begin { print(1) }"];
const stderrOf = (args: string[]) => {
  const r = parseStapArgs([...args, ...script]);
  return r.kind === "error" ? r.stderr : r.kind;
};

Deno.test("1.3 stap validation messages, byte for byte (Debian's stap -p1)", () => {
  const table: [string[], string][] = [
    [
      ["-m", "Bad-Name"],
      "ERROR: Safety pattern mismatch for -m parameter ('Bad-Name' vs. '^[a-z0-9_]+$') rc=1\n",
    ],
    [["-S", "1x"], "ERROR: Safety pattern mismatch for -S parameter ('1x' vs. '^[0-9]+(,[0-9]+)?$') rc=1\n"],
    [["-s", "0"], "Invalid buffer size (should be 1-4095).\n"],
    [["-s", "4096"], "Invalid buffer size (should be 1-4095).\n"],
    [["-T", "0"], "Invalid timeout interval.\n"],
    [["-T", "abc"], "Invalid timeout interval.\n"],
    [["-x", "abc"], "Invalid target process ID number.\n"],
    [["-c", ""], "Empty CMD string invalid.\n"],
    [["-p", "6"], "Invalid pass number (should be 1-5).\n"],
    [
      ["-D", "1bad"],
      "ERROR: Safety pattern mismatch for -D parameter ('1bad' vs. '^[a-z_][a-z_0-9]*(=-?[a-z_0-9]+)?$') rc=1\n",
    ],
    [
      ["-Q"],
      "stap: invalid option -- 'Q'\nTry '--help' for more information. [man stap]\n" +
      "A message like [man foo] means for more info, run % man foo\n",
    ],
  ];
  for (const [args, stderr] of table) assertEquals(stderrOf(args), stderr, args.join(" "));
});

Deno.test("3 -m: case-insensitive pattern, .ko stripped and 55 characters with a note", () => {
  const r = parseStapArgs(["-m", "FooBar", ...script]);
  assertEquals(r.kind === "ok" && r.options.moduleName, "FooBar");
  const t = parseStapArgs(["-m", "foo.ko", ...script]);
  assertEquals(t.kind === "ok" && [t.options.moduleName, t.options.notes], ["foo", [
    "Truncating module name to 'foo'",
  ]]);
  const long = parseStapArgs(["-m", "a".repeat(62), ...script]);
  assertEquals(long.kind === "ok" && long.options.moduleName, "a".repeat(55));
});

Deno.test("stap takes the flight-recorder options and the script file with its arguments", () => {
  const r = parseStapArgs(["-F", "-o", "t.log", "-S", "1,2", "-b", "-s", "4", "-w", "-v", "x.stp", "a", "b"]);
  if (r.kind !== "ok") throw new Error(r.kind);
  const o = r.options;
  assertEquals(
    [
      o.flightRecorder,
      o.outfile,
      o.sizeSpec,
      o.bulk,
      o.bufferBytes,
      o.suppressWarnings,
      o.verbose,
      o.scriptFile,
      o.args,
    ],
    [true, "t.log", "1,2", true, 4 * 1024 * 1024, true, 1, "x.stp", ["a", "b"]],
  );
  assertEquals(stderrOf(["-S", "1"]), "ok"); // stap does not require -o with -S (1.3)
  // The simulator's extension for sizes below 1 MiB (stapfr's engine passes them as NK).
  const k = parseStapArgs(["-s", "64K", "-S", "64K,2", "-e", "probe begin {}"]);
  assertEquals(k.kind === "ok" && [k.options.bufferBytes, k.options.sizeSpec], [65536, "64K,2"]);
  assertEquals(stderrOf(["-s", "6K"]), "Invalid buffer size (should be 1-4095).\n");
});

Deno.test("3 default module name: stap_<32 hex>_<bytes hashed>, stable for the same input", () => {
  const a = defaultModuleName("probe begin {}", ["-F"]);
  assertMatch(a, /^stap_[0-9a-f]{32}_\d+$/);
  assertEquals(a, defaultModuleName("probe begin {}", ["-F"]));
  assertEquals(a === defaultModuleName("probe end {}", ["-F"]), false);
});
