import { assertEquals, assertMatch } from "@std/assert";
import { recordProblem } from "./registry_record.ts";

const GOOD = {
  format: 1,
  name: "io",
  mode: "file",
  host: "real",
  module: "stap_fr_io",
  pid: 4242,
  pidStart: 1234567,
  startedAt: "2026-01-01T00:00:00.000Z",
  scriptFile: "/srv/io.stp",
  script: "probe begin {}",
  buffer: null,
  output: {
    dir: "/var/fr",
    runDir: "/var/fr/io-1",
    base: "io.out",
    rotate: { size: 1048576, count: 2 },
    bulk: true,
  },
  stapArgs: ["-v"],
  cpus: 4,
  notes: ["a note"],
  endedAt: null,
};

Deno.test("recordProblem accepts what start writes, and fields it does not know", () => {
  assertEquals(recordProblem(GOOD, "io"), undefined);
  assertEquals(recordProblem({ ...GOOD, future: { x: 1 } }, "io"), undefined);
  const { format: _, ...noFormat } = GOOD;
  assertEquals(recordProblem(noFormat, "io"), undefined);
  assertEquals(recordProblem({ ...GOOD, output: { ...GOOD.output, rotate: undefined } }, "io"), undefined);
});

Deno.test("recordProblem names the first wrong field of each kind", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ mode: "bogus" }, /^"mode": expected "memory" or "file", not "bogus"$/],
    [{ host: 1 }, /^"host"/],
    [{ module: "ext4" }, /^"module": expected a SystemTap module name/],
    [{ module: "stap_x; rm" }, /^"module"/],
    [{ pid: "12" }, /^"pid": expected a whole number of at least 1, not "12"$/],
    [{ pid: -1 }, /^"pid"/],
    [{ pid: 1.5 }, /^"pid"/],
    [{ pidStart: {} }, /^"pidStart"/],
    [{ startedAt: "yesterday" }, /^"startedAt"/],
    [{ scriptFile: 3 }, /^"scriptFile"/],
    [{ script: null }, /^"script"/],
    [{ buffer: 0 }, /^"buffer"/],
    [{ output: null }, /^"output": a file recorder needs its output$/],
    [{ output: "dir" }, /^"output": expected an object/],
    [{ output: { ...GOOD.output, runDir: null } }, /^"output\.runDir": expected an absolute path, not null$/],
    [{ output: { ...GOOD.output, runDir: "rel" } }, /^"output\.runDir"/],
    [{ output: { ...GOOD.output, bulk: "yes" } }, /^"output\.bulk"/],
    [
      { output: { ...GOOD.output, rotate: { size: "1M" } } },
      /^"output\.rotate\.size": expected a whole number of at least 1, not "1M"$/,
    ],
    [{ stapArgs: "-v" }, /^"stapArgs": expected a list of strings, not "-v"$/],
    [{ stapArgs: [1] }, /^"stapArgs"/],
    [{ cpus: "2" }, /^"cpus"/],
    [{ notes: null }, /^"notes"/],
    [{ endedAt: 5 }, /^"endedAt"/],
    [{ format: 2 }, /^"format": expected 1, not 2/],
    [{ name: "other" }, /^"name": expected "io" \(the file's name\), not "other"$/],
    [{ mode: "memory" }, /^"output": a memory recorder has none$/],
  ];
  for (const [change, re] of cases) assertMatch(recordProblem({ ...GOOD, ...change }, "io") ?? "", re);
  const { pid: _, ...noPid } = GOOD;
  assertEquals(recordProblem(noPid, "io"), 'missing "pid"');
  assertMatch(recordProblem(null, "io") ?? "", /^expected a JSON object, not null$/);
  assertMatch(recordProblem([GOOD], "io") ?? "", /^expected a JSON object/);
  assertMatch(recordProblem({ ...GOOD, script: "x".repeat(100), scriptFile: 7 }, "io") ?? "", /not 7$/);
});
