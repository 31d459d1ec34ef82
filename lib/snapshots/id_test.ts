import { assert, assertEquals, assertThrows } from "@std/assert";
import { UsageError } from "../errors.ts";
import { compareIds, formatId, idStamp, idTime, isId, parseRef } from "./id.ts";

Deno.test("an ID is the capture's UTC second and a sequence; its time reads back to that second", () => {
  const at = Date.UTC(2026, 11, 1, 5, 12, 7, 999);
  const id = formatId(idStamp(at), 1);
  assertEquals(id, "20261201T051207Z-001");
  assert(isId(id));
  assertEquals(idTime(id), Date.UTC(2026, 11, 1, 5, 12, 7));
  assertEquals(idTime("20261201T051207Z"), NaN, "a stamp without its sequence is no ID");
});

Deno.test("more than 999 captures in one second grow the sequence a digit, and still sort after 999", () => {
  const stamp = "20261201T051200Z";
  const ids = [
    formatId(stamp, 1000),
    formatId(stamp, 2),
    formatId("20261201T051159Z", 999),
    formatId(stamp, 999),
  ];
  assertEquals(ids[0], "20261201T051200Z-1000");
  assert(isId(ids[0]));
  assertEquals([...ids].sort(compareIds), [
    "20261201T051159Z-999",
    "20261201T051200Z-002",
    "20261201T051200Z-999",
    "20261201T051200Z-1000",
  ]);
});

Deno.test("names of the store that are not snapshots are not IDs", () => {
  for (
    const name of [
      ".partial-20261201T051200Z-001",
      ".deleting-20261201T051200Z-001-4242",
      "20261201T051200Z-01",
      "20261201T051200Z-001.json",
      "20261201T051200-001",
      ".leases",
      "",
    ]
  ) {
    assert(!isId(name), name);
  }
});

Deno.test("a reference is ID or NAME/ID and nothing more: anything else is refused whole", () => {
  assertEquals(parseRef("20261201T051200Z-001"), { id: "20261201T051200Z-001" });
  const longest = "a".repeat(40);
  assertEquals(parseRef(`${longest}/20261201T051200Z-1000`), { name: longest, id: "20261201T051200Z-1000" });
  for (
    const ref of [
      "web/20261201T051200Z-001/../../etc",
      "../web/20261201T051200Z-001",
      "/web/20261201T051200Z-001",
      "web/20261201T051200Z-001/",
      "Web/20261201T051200Z-001",
      `${"a".repeat(41)}/20261201T051200Z-001`,
      "web//20261201T051200Z-001",
      "web/.partial-20261201T051200Z-001",
      " 20261201T051200Z-001",
      "20261201T051200Z-001\n",
    ]
  ) {
    const err = assertThrows(() => parseRef(ref), UsageError);
    assert(err.message.includes(JSON.stringify(ref).slice(1, -1)) || ref.includes("\n"), err.message);
  }
});
