import { assertEquals } from "@std/assert";
import { normaliseLine, unmet } from "./runner.ts";

Deno.test("normaliseLine replaces the side's paths and every number", () => {
  const side = { modules: "/xfer/modules", out: "/tmp/lab-out", stateDir: "/tmp/lab-state" };
  assertEquals(
    normaliseLine(
      'stapfr: stapio (pid 4242) wrote "/tmp/lab-out/rot/rot-20261201T052233Z/rot.out_cpu1.3"',
      side,
    ),
    'stapfr: stapio (pid N) wrote "{out}/rot/rot-NTNZ/rot.out_cpuN.N"',
  );
  assertEquals(normaliseLine("/xfer/modules/stap_fr_tick.ko", side), "{modules}/stap_fr_tick.ko");
});

Deno.test("unmet lists each wanted entry the result does not have", () => {
  assertEquals(unmet({ code: 0, recorders: [] }, { code: 0, recorders: [] }), []);
  assertEquals(unmet({ code: 0, clean: true }, { code: 1, clean: true }), ["code: wanted 0, got 1"]);
  assertEquals(unmet(undefined, { code: 1 }), []);
});
