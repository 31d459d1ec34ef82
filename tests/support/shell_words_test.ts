import { assertEquals } from "@std/assert";
import { shellWords } from "./shell_words.ts";

Deno.test("shellWords splits as the shell does", () => {
  assertEquals(shellWords(`a 'b c' "d \\"e\\"" f\\ g # comment`), ["a", "b c", 'd "e"', "f g"]);
});
