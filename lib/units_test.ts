import { assertEquals, assertThrows } from "@std/assert";
import { UsageError } from "./errors.ts";
import {
  formatSize,
  MiB,
  moduleName,
  parseBufferSize,
  parseRotate,
  parseSize,
  validateName,
} from "./units.ts";

Deno.test("a negative size says so", () => {
  assertThrows(() => parseSize("-1"), UsageError, 'Invalid size "-1": a size cannot be negative');
  assertThrows(
    () => parseBufferSize("-16M", "sim"),
    UsageError,
    'Invalid buffer size "-16M": a size cannot be negative',
  );
});

Deno.test("sizes take K, M, G in binary units and a bare number is MiB, as in stap", () => {
  assertEquals(parseSize("512K"), 512 * 1024);
  assertEquals(parseSize("16M"), 16 * MiB);
  assertEquals(parseSize("1G"), 1024 * MiB);
  assertEquals(parseSize("7"), 7 * MiB);
  assertEquals(parseSize("64k"), 64 * 1024);
  assertEquals(parseSize("1.5M"), 1.5 * MiB);
  for (const bad of ["", "M", "-1M", "1T", "1 M x", "0x10"]) {
    assertThrows(() => parseSize(bad), UsageError, bad);
  }
});

Deno.test("the real host takes whole MiB from 1 to 4095 for the buffer", () => {
  assertEquals(parseBufferSize("1", "real"), MiB);
  assertEquals(parseBufferSize("4095M", "real"), 4095 * MiB);
  assertThrows(() => parseBufferSize("0", "real"), UsageError, /expected 1M to 4095M/);
  assertThrows(() => parseBufferSize("5000M", "real"), UsageError, /expected 1M to 4095M/);
  assertThrows(() => parseBufferSize("1.5M", "real"), UsageError, /whole MiB/);
  assertThrows(() => parseBufferSize("512K", "real"), UsageError, /whole MiB/);
});

Deno.test("the simulator also takes multiples of 4K", () => {
  assertEquals(parseBufferSize("4K", "sim"), 4096);
  assertEquals(parseBufferSize("1.5M", "sim"), 1.5 * MiB);
  assertThrows(() => parseBufferSize("6K", "sim"), UsageError, /multiples of 4K/);
  assertThrows(() => parseBufferSize("0", "sim"), UsageError, /expected 4K to 4095M/);
});

Deno.test("rotation is SIZE[,COUNT]", () => {
  assertEquals(parseRotate("1M,2", "real"), { size: MiB, count: 2 });
  assertEquals(parseRotate("10", "real"), { size: 10 * MiB, count: undefined });
  assertEquals(parseRotate("64K,3", "sim"), { size: 65536, count: 3 });
  assertThrows(() => parseRotate("10,x", "real"), UsageError, /Invalid rotation count "x"/);
  assertThrows(() => parseRotate(",2", "real"), UsageError, /Invalid rotation ",2"/);
  assertThrows(() => parseRotate("1,2,3", "real"), UsageError);
  assertThrows(() => parseRotate("1,0", "real"), UsageError);
  assertThrows(() => parseRotate("0", "real"), UsageError);
  assertThrows(() => parseRotate("64K", "real"), UsageError, /whole MiB/);
});

Deno.test("recorder names are [a-z][a-z0-9_]*, at most 40 characters", () => {
  assertEquals(validateName("vfs_watch2"), "vfs_watch2");
  assertEquals(validateName("a".repeat(40)), "a".repeat(40));
  for (const bad of ["a;b", "../x", "a".repeat(41), "", "9lives", "Upper", "a-b", "a b", "_x"]) {
    assertThrows(() => validateName(bad), UsageError, bad);
  }
  // The module name stays within the kernel's 55 characters.
  assertEquals(moduleName("a".repeat(40)).length <= 55, true);
});

Deno.test("sizes format back to what the flags take", () => {
  assertEquals(formatSize(16 * MiB), "16M");
  assertEquals(formatSize(512 * 1024), "512K");
  assertEquals(formatSize(1536 * MiB), "1.5G");
  assertEquals(formatSize(100), "100B");
});
