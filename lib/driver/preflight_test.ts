import { assertThrows } from "@std/assert";
import { StapfrError } from "../errors.ts";
import { checkRingFits, thisMachine } from "./preflight.ts";

const MiB = 1024 * 1024;

Deno.test("a ring that fits free plus buffer memory passes; one that does not is refused with the figures", () => {
  checkRingFits(16 * MiB, 2, { free: 24 * MiB, buffers: 8 * MiB }); // exactly 32M
  const err = assertThrows(
    () => checkRingFits(4095 * MiB, 2, { free: 1024 * MiB, buffers: 512 * MiB }),
    StapfrError,
    'Buffer "4095M" per CPU needs 8190M for 2 CPUs, more than the 1.5G of free and buffer memory',
  ) as StapfrError;
  assertThrows(
    () => {
      throw new Error(err.hint);
    },
    Error,
    '"--buffer"',
  );
});

Deno.test("this machine's figures are positive", () => {
  const { cpus, mem } = thisMachine();
  if (!(cpus >= 1 && mem.free > 0)) throw new Error(`unexpected figures ${cpus} ${JSON.stringify(mem)}`);
});
