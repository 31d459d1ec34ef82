import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { moduleInfo, NotAModuleError, parseModinfo, readElf, readModuleInfo, writeElf } from "./modinfo.ts";

const enc = new TextEncoder();

/** A hand-made ELF32 big-endian relocatable object with one `.modinfo` section (as a MIPS/PowerPC .ko). */
function elf32be(modinfo: string): Uint8Array {
  const body = enc.encode(modinfo);
  const shstr = enc.encode("\0.modinfo\0.shstrtab\0");
  const bodyAt = 52;
  const strAt = bodyAt + body.length;
  const shoff = (strAt + shstr.length + 3) & ~3;
  const out = new Uint8Array(shoff + 3 * 40);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 2, 1], 0);
  v.setUint16(16, 1); // ET_REL
  v.setUint16(18, 8); // EM_MIPS
  v.setUint32(0x20, shoff);
  v.setUint16(0x2e, 40);
  v.setUint16(0x30, 3);
  v.setUint16(0x32, 2);
  out.set(body, bodyAt);
  out.set(shstr, strAt);
  const sh = (i: number, name: number, type: number, off: number, size: number) => {
    const at = shoff + i * 40;
    v.setUint32(at, name);
    v.setUint32(at + 4, type);
    v.setUint32(at + 0x10, off);
    v.setUint32(at + 0x14, size);
  };
  sh(1, 1, 1, bodyAt, body.length);
  sh(2, 10, 3, strAt, shstr.length);
  return out;
}

Deno.test("modinfo: what writeElf writes, moduleInfo reads (name, vermagic, release, other sections)", () => {
  const bytes = writeElf([
    {
      name: ".modinfo",
      data: enc.encode("stapfr_bulk=1\0license=GPL\0name=stap_fr_io\0vermagic=6.1.0-57-amd64 SMP \0"),
    },
    { name: ".stapfr_sim", data: enc.encode('{"x":1}') },
  ]);
  const info = moduleInfo(bytes);
  assertEquals(info.name, "stap_fr_io");
  assertEquals(info.vermagic, "6.1.0-57-amd64 SMP ");
  assertEquals(info.release, "6.1.0-57-amd64");
  assertEquals(info.entries[0], ["stapfr_bulk", "1"]);
  assertEquals(new TextDecoder().decode(info.elf.sections.get(".stapfr_sim")), '{"x":1}');
  assertEquals([info.elf.bits, info.elf.littleEndian, info.elf.machine], [64, true, 62]);
});

Deno.test("modinfo: a 32-bit big-endian module reads the same", () => {
  const info = moduleInfo(elf32be("name=stap_fr_x\0vermagic=5.10.0-mips SMP mod_unload \0"));
  assertEquals([info.elf.bits, info.elf.littleEndian, info.name, info.release], [
    32,
    false,
    "stap_fr_x",
    "5.10.0-mips",
  ]);
});

Deno.test("modinfo: a file that is not a kernel module is refused with the reason", () => {
  assertThrows(() => moduleInfo(enc.encode('{"stapfr-sim-module":1}\n')), NotAModuleError, "not an ELF file");
  assertThrows(() => moduleInfo(new Uint8Array(0)), NotAModuleError, "not an ELF file");
  const noModinfo = writeElf([{ name: ".text", data: new Uint8Array(16) }]);
  assertThrows(() => moduleInfo(noModinfo), NotAModuleError, "without a .modinfo section");
  // An executable (ET_EXEC) is ELF but not a module.
  const exec = writeElf([{ name: ".modinfo", data: enc.encode("name=x\0") }]);
  new DataView(exec.buffer).setUint16(16, 2, true);
  assertThrows(() => moduleInfo(exec), NotAModuleError, "not a relocatable object");
  // A section table that points past the end of the file.
  const cut = writeElf([{ name: ".modinfo", data: enc.encode("name=x\0") }]);
  assertThrows(() => readElf(cut.subarray(0, cut.length - 10)), NotAModuleError, "truncated");
});

Deno.test("modinfo: repeated keys keep their order; empty strings between entries are skipped", () => {
  assertEquals(parseModinfo(enc.encode("license=GPL\0\0\0license=GPL\0depends=\0")), [
    ["license", "GPL"],
    ["license", "GPL"],
    ["depends", ""],
  ]);
});

Deno.test("modinfo: readModuleInfo reports a missing file as the file system does", async () => {
  await assertRejects(() => readModuleInfo("/nonexistent/stap_fr_x.ko"), Deno.errors.NotFound);
});

// A real module of the installed kernel, where there is one: the reader must agree with modinfo(8).
const realKo = (() => {
  try {
    for (const release of Deno.readDirSync("/lib/modules")) {
      const path = `/lib/modules/${release.name}/kernel/fs/9p/9p.ko`;
      try {
        Deno.statSync(path);
        return { path, release: release.name };
      } catch { /* next */ }
    }
  } catch { /* no modules */ }
  return undefined;
})();

Deno.test({
  name: "modinfo: an installed kernel's module reads with its release and name",
  ignore: realKo === undefined,
  async fn() {
    const info = await readModuleInfo(realKo!.path);
    assertEquals(info.name, "9p");
    assertEquals(info.release, realKo!.release);
  },
});

Deno.test({
  name: "modinfo: readelf reads what writeElf wrote",
  ignore: (() => {
    try {
      Deno.statSync("/usr/bin/readelf");
      return false;
    } catch {
      return true;
    }
  })(),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/stap_fr_x.ko`;
      await Deno.writeFile(
        path,
        writeElf([{ name: ".modinfo", data: enc.encode("name=stap_fr_x\0vermagic=6.1.0-sim \0") }]),
      );
      const out = await new Deno.Command("/usr/bin/readelf", { args: ["-p", ".modinfo", path] }).output();
      const text = new TextDecoder().decode(out.stdout);
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      assertEquals(/name=stap_fr_x/.test(text) && /vermagic=6\.1\.0-sim/.test(text), true, text);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
