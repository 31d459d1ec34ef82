import { assertEquals, assertThrows } from "@std/assert";
import { parseExecLine, substituteEnv } from "../../tests/support/systemd_unit.ts";
import { execArg, execLine, settingText } from "./systemd_quote.ts";

// The characters systemd's command-line syntax gives a meaning to, and some it does not.
const ALPHABET = [..." \t\n\r\"'\\%$;{}`#*?~é→\x01\x7fab-/=.,:@+_"];

Deno.test("every argument survives systemd's reading and its $ substitution", () => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let n = 0; n < 2000; n++) {
    const argv = ["/usr/bin/stapfr"];
    for (let w = next() % 5; w >= 0; w--) {
      let word = "";
      for (let c = next() % 12; c > 0; c--) word += ALPHABET[next() % ALPHABET.length];
      argv.push(word);
    }
    const read = parseExecLine(execLine(argv)).map((w) => substituteEnv(w, { HOME: "/root", USER: "root" }));
    assertEquals(read, argv, JSON.stringify(argv));
  }
});

Deno.test("plain words stay bare; a lone ; is quoted so it does not separate commands", () => {
  assertEquals(execArg("--state-dir"), "--state-dir");
  assertEquals(execArg("/var/lib/stapfr"), "/var/lib/stapfr");
  assertEquals(execArg(";"), '";"');
  assertEquals(execArg("a b"), '"a b"');
  assertEquals(execArg("50%"), '"50%%"');
  assertThrows(() => execLine(["stapfr", "list"]), RangeError);
});

Deno.test("description text is one line with specifiers escaped", () => {
  assertEquals(settingText("io (script /srv/100%\n.stp)"), "io (script /srv/100%%?.stp)");
});
