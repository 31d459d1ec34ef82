import { assertEquals } from "@std/assert";
import { strftime } from "./strftime.ts";
import { absoluteOutfile, MAX_EXPANDED_NAME, outfileName, OutfileNameError } from "./outfile_name.ts";
import { assertThrows } from "@std/assert";

const d = new Date(2024, 1, 9, 7, 5, 3);

Deno.test("4.1 strftime conversions used in file names", () => {
  assertEquals(strftime("%Y%m%d-%H%M%S", d), "20240209-070503");
  assertEquals(strftime("%y %j %a %b %e %I%p %u %w", d), "24 040 Fri Feb  9 07AM 5 5");
  assertEquals(strftime("%T %R %D %F %%", d), "07:05:03 07:05 02/09/24 2024-02-09 %");
  assertEquals(strftime("%s", d), String(Math.floor(d.getTime() / 1000)));
  assertEquals(strftime("100%Q", d), "100%Q");
});

Deno.test("4.1 -o is made absolute; over-long names are refused", () => {
  assertEquals(absoluteOutfile("test.log", "/w"), "/w/test.log");
  assertEquals(absoluteOutfile("/a/b", "/w"), "/a/b");
  assertThrows(
    () =>
      outfileName({ template: "/" + "x".repeat(MAX_EXPANDED_NAME), fnum: 0, cpu: 0, bulk: false, time: d }),
    OutfileNameError,
    "Filename format is invalid or too long",
  );
});
