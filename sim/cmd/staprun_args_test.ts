import { assertEquals } from "@std/assert";
import { parseStaprunArgs } from "./staprun_args.ts";
import { staprunUsage } from "./usage.ts";

/** What the real staprun 4.8 printed for each command line (run on Debian 12 for docs/systemtap-4.8.md 1.2). */
const TABLE: [string, string, boolean][] = [
  ["-A -L m", "ERROR: You can't specify the '-A' and '-L' options together.\n", true],
  [
    "-A -b 4 m",
    "ERROR: You can't specify the '-A' and '-b' options together.  The '-b'\nbuffer size option only has an effect when the module is inserted.\n",
    true,
  ],
  [
    "-A -c ls m",
    "ERROR: You can't specify the '-A' and '-c' options together.  The '-c cmd'\noption used to start a command only has an effect when the module\nis inserted.\n",
    true,
  ],
  [
    "-A -x 1 m",
    "ERROR: You can't specify the '-A' and '-x' options together.  The '-x pid'\noption only has an effect when the module is inserted.\n",
    true,
  ],
  ["-c ls -x 1 m", "ERROR: You can't specify the '-c' and '-x' options together.\n", true],
  ["-D -L m", "ERROR: You can't specify the '-D' and '-L' options together.\n", true],
  ["-D -d m", "ERROR: You can't specify the '-D' and '-d' options together.\n", true],
  ["-D -c ls m", "ERROR: You can't specify the '-D' and '-c' options together.\n", true],
  ["-D m", "ERROR: You have to specify output FILE with '-D' option.\n", true],
  ["-S 1 m", "ERROR: You have to specify output FILE with '-S' option.\n", true],
  ["-S 1x -o f m", "ERROR: Invalid file size option '1x'.\n", true],
  ["-S 1,2x -o f m", "ERROR: Invalid file size option '1,2x'.\n", true],
  ["-b 0 m", "ERROR: Invalid buffer size '0' (should be 1-4095).\n", true],
  ["-b 4096 m", "ERROR: Invalid buffer size '4096' (should be 1-4095).\n", true],
  ["-b abc m", "ERROR: Invalid buffer size '0' (should be 1-4095).\n", true],
  ["-T 0 m", "ERROR: Invalid reader timeout value '0' (should be >= 1).\n", true],
  ["-A m opt=1", "ERROR: Cannot have module options with attach (-A).\n", true],
  ["-A m opt=1 -L", "ERROR: You can't specify the '-A' and '-L' options together.\n", true],
  ["", "ERROR: Need a module name or path to load.\n", true],
  ["-d", "ERROR: Need a module name or path to load.\n", true],
  ["-Q m", "staprun: invalid option -- 'Q'\n", true],
  ["-Q -b 0 m", "staprun: invalid option -- 'Q'\n", true],
  ["-b 0 -Q m", "ERROR: Invalid buffer size '0' (should be 1-4095).\n", true],
  ["-o", "staprun: option requires an argument -- 'o'\n", true],
  ["-F 3 m", "ERROR: Relay basedir -F option is invalid for staprun\n", false],
  ["-A -L -F 3 m", "ERROR: You can't specify the '-A' and '-L' options together.\n", true],
  ["-D -F 3", "ERROR: You have to specify output FILE with '-D' option.\n", true],
  ["-F 3 -A m x=1", "ERROR: Relay basedir -F option is invalid for staprun\n", false],
  ["-A -d m x=1", "ERROR: Cannot have module options with attach (-A).\n", true],
  ["-t 5 -A nosuch", TABLE_X(), true],
  ["-C bogus m", "ERROR: Invalid option 'bogus' for -C.", true],
  ["-A " + "a".repeat(66), `ERROR: Module name ('${"a".repeat(66)}') is too long.\n`, false],
];

function TABLE_X(): string {
  return "ERROR: You can't specify the '-A' and '-x' options together.  The '-x pid'\noption only has an effect when the module is inserted.\n";
}

function render(args: string[]): { stderr: string; usage: boolean } | "ok" {
  const r = parseStaprunArgs(args);
  if (r.kind !== "error") return "ok";
  const e = r.error;
  const text = e.getopt ? `staprun: ${e.message}` : `ERROR: ${e.message}`;
  return { stderr: text + (e.noNewline ? "" : "\n"), usage: e.usage };
}

Deno.test("1.2 staprun validation errors, byte for byte and in the real order", () => {
  for (const [line, stderr, usage] of TABLE) {
    const args = line === "" ? [] : line.split(" ");
    assertEquals(render(args), { stderr, usage }, `staprun ${line}`);
  }
});

Deno.test("1.2 accepted quietly: -d before conflicts, -A -D -o, -S 0 without -o, -L -o", () => {
  for (
    const line of ["-d -L m", "-d -A m", "-o f -D -A m", "-S 0,2 -A m", "-L -o f m", "-T 5 -A m", "-A -- -L"]
  ) {
    assertEquals(render(line.split(" ")), "ok", line);
  }
  const r = parseStaprunArgs(["-A", "--", "-L"]);
  assertEquals(r.kind === "ok" && r.options.module, "-L");
});

Deno.test("simulator extension: -b NK and -S NK,N", () => {
  const r = parseStaprunArgs(["-b", "64K", "-o", "f", "-S", "128K,3", "m"]);
  assertEquals(r.kind === "ok" && [r.options.bufferBytes, r.options.rotation], [65536, {
    sizeLimit: 131072,
    fileCount: 3,
  }]);
  assertEquals(render(["-b", "6K", "m"]), {
    stderr: "ERROR: Invalid buffer size '6K' (should be 1-4095).\n",
    usage: true,
  });
});

Deno.test("1.2 -h and -V", () => {
  assertEquals(parseStaprunArgs(["-h", "-b", "0"]).kind, "help");
  assertEquals(parseStaprunArgs(["-V"]).kind, "version");
});

Deno.test("1.2 the usage text has 47 lines and names the module directory", () => {
  const text = staprunUsage("staprun", "6.1.0");
  assertEquals(text.split("\n").length - 1, 47);
  assertEquals(text.trimEnd().split("\n").at(-1), "/lib/modules/6.1.0/systemtap");
});
