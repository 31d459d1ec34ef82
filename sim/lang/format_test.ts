import { assertEquals, assertThrows } from "@std/assert";
import { FormatError, formatNumber, LEFT, parseFormat, SPECIAL, ZEROPAD } from "./format.ts";
import { textStr } from "./tapset_text.ts";

Deno.test("number() pads, signs and prefixes like the runtime", () => {
  assertEquals(formatNumber(-42, 10, 6, -1, 64 | ZEROPAD), "-00042");
  assertEquals(formatNumber(255, 16, 8, -1, SPECIAL | ZEROPAD), "0x0000ff");
  assertEquals(formatNumber(7, 10, 4, -1, LEFT), "7   ");
  assertEquals(formatNumber(-1, 16, -1, -1, 0), "ffffffffffffffff");
});

Deno.test("parseFormat splits text and conversions and rejects bad ones", () => {
  assertEquals(parseFormat("a%%b%-5.2sc").map((p) => p.kind), ["text", "conv", "text"]);
  assertThrows(() => parseFormat("%q"), FormatError);
});

Deno.test("_stp_text_str escapes and truncates with quotes", () => {
  assertEquals(textStr('a"b\n\x01', 0, 0, true, false), '"a\\"b\\n\\001"');
  assertEquals(textStr("abcdefghij", 10, 8, true, true), '"abc"...');
  assertEquals(textStr("\xc3\xa9", 0, 0, false, false), "\\u00e9");
});
