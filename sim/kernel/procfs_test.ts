import { assertEquals, assertMatch } from "@std/assert";
import { formatModuleLine, moduleAddress, parseModules, readModules, updateModules } from "./procfs.ts";
import { simRoot } from "../../lib/sim_root.ts";

Deno.test("procfs: /proc/modules lines in the kernel's format (3)", () => {
  const line = {
    name: "stap_fr_io",
    size: 155648,
    refcount: 1,
    state: "Live",
    address: moduleAddress("stap_fr_io"),
  };
  const text = formatModuleLine(line);
  assertMatch(text, /^stap_fr_io 155648 1 - Live 0xffffffffc[0-9a-f]{4}000 \(OE\)$/);
  assertEquals(
    parseModules(`${text}\next4 1011712 2 - Live 0xffffffffc0400000\nbogus\n`).map((l) => l.name),
    [
      "stap_fr_io",
      "ext4",
    ],
  );
  assertEquals(parseModules(text)[0], line);
});

Deno.test("procfs: concurrent updates under the lock lose no line", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Promise.all(Array.from({ length: 20 }, (_, i) =>
      updateModules(root, (lines) => ({
        lines: [...lines, {
          name: `m${i}`,
          size: 1,
          refcount: 0,
          state: "Live",
          address: moduleAddress(`m${i}`),
        }],
        result: undefined,
      }))));
    assertEquals((await readModules(root)).length, 20);
    assertEquals((await Deno.stat(`${root}/proc/modules`)).mode! & 0o777, 0o644);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("root: the simulator root from the environment", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(simRoot(env({ STAPFR_SIM_ROOT: "/x/y" })), "/x/y");
  assertMatch(simRoot(env({ TMPDIR: "/scratch/" })), /^\/scratch\/stapfr-sim-/);
});
