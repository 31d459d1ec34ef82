import { assertEquals, assertRejects } from "@std/assert";
import { writeElf } from "../driver/modinfo.ts";
import { StapfrError, UsageError } from "../errors.ts";
import { checkPrebuilt, prebuiltRecordProblem, type PrebuiltUse } from "./prebuilt.ts";
import { sha256Hex } from "./module_description.ts";

const enc = new TextEncoder();

function ko(strings: string[]): Uint8Array {
  return writeElf([{ name: ".modinfo", data: enc.encode(strings.map((s) => s + "\0").join("")) }]);
}

const use: PrebuiltUse = {
  name: "io",
  release: "6.1.0-57-amd64",
  fileMode: true,
  rotate: true,
  cpus: 2,
  self: "stapfr",
};

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("checkPrebuilt: stapfr's own mark says bulk; without it, only a description with the module's sha256 does", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/stap_fr_io.ko`;
    const base = ["name=stap_fr_io", "vermagic=6.1.0-57-amd64 SMP preempt mod_unload modversions "];
    await Deno.writeFile(path, ko(["stapfr_bulk=1", ...base]));
    assertEquals((await checkPrebuilt(path, use)).bulk, true);

    // Built by hand (no mark): unknown, so rotating on 2 CPUs is refused, on 1 CPU allowed.
    const bytes = ko(base);
    await Deno.writeFile(path, bytes);
    await assertRejects(() => checkPrebuilt(path, use), StapfrError, "Cannot tell whether module");
    assertEquals((await checkPrebuilt(path, { ...use, cpus: 1 })).bulk, null);

    // A description beside it that belongs to another file is not believed.
    const description = { format: 1, bulk: true, module_sha256: "0".repeat(64) };
    await Deno.writeTextFile(`${dir}/stap_fr_io.json`, JSON.stringify(description));
    assertEquals((await checkPrebuilt(path, { ...use, rotate: false })).bulk, null);
    // One with this module's sha256 is.
    description.module_sha256 = await sha256Hex(bytes);
    await Deno.writeTextFile(`${dir}/stap_fr_io.json`, JSON.stringify(description));
    const checked = await checkPrebuilt(path, use);
    assertEquals([checked.bulk, checked.release, checked.sha256], [
      true,
      "6.1.0-57-amd64",
      description.module_sha256,
    ]);
  });
});

Deno.test("checkPrebuilt: the refusals", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/stap_fr_io.ko`;
    await Deno.writeFile(path, ko(["name=stap_fr_io", "vermagic=6.12.0-x SMP "]));
    await assertRejects(
      () => checkPrebuilt(path, use),
      StapfrError,
      'was built for kernel "6.12.0-x", but this machine runs "6.1.0-57-amd64"',
    );
    await Deno.writeFile(path, ko(["name=stap_fr_io"]));
    await assertRejects(() => checkPrebuilt(path, use), StapfrError, "has no vermagic");
    await assertRejects(
      () => checkPrebuilt(path, { ...use, name: "other" }),
      UsageError,
      'is not named "stap_fr_other.ko"',
    );
    await Deno.writeFile(path, ko(["stapfr_bulk=0", "name=stap_fr_io", "vermagic=6.1.0-57-amd64 "]));
    await assertRejects(() => checkPrebuilt(path, use), StapfrError, "was built without --bulk");
    assertEquals((await checkPrebuilt(path, { ...use, fileMode: false, rotate: false })).bulk, false);
    // A bulk module makes a memory recorder that is read by sequence number (docs/loss-accounting.md).
    await Deno.writeFile(
      path,
      ko(["stapfr_bulk=1", "stapfr_counters=1", "name=stap_fr_io", "vermagic=6.1.0-57-amd64 "]),
    );
    const memory = await checkPrebuilt(path, { ...use, fileMode: false, rotate: false });
    assertEquals([memory.bulk, memory.counters], [true, true]);
    await Deno.writeFile(path, enc.encode("#!/bin/sh\n"));
    await assertRejects(
      () => checkPrebuilt(path, use),
      StapfrError,
      "is not a kernel module (not an ELF file)",
    );
    await assertRejects(() => checkPrebuilt(dir + "/", use), UsageError, "is not named");
  });
});

Deno.test("prebuiltRecordProblem: each field is checked", () => {
  const ok = { path: "/srv/stap_fr_io.ko", sha256: "0".repeat(64), release: "6.1.0-sim", bulk: true };
  assertEquals(prebuiltRecordProblem(ok), undefined);
  assertEquals(prebuiltRecordProblem([]), "not an object");
  assertEquals(prebuiltRecordProblem({ ...ok, sha256: "xyz" }), '"sha256" is not a sha256');
  assertEquals(prebuiltRecordProblem({ ...ok, release: "" }), '"release" is not a kernel release');
  assertEquals(prebuiltRecordProblem({ ...ok, bulk: "yes" }), '"bulk" is not true, false or null');
});
