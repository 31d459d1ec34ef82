import { assertEquals } from "@std/assert";
import { findKernel, releaseOf } from "./machine.ts";

Deno.test("releaseOf reads the release from an amd64 kernel image's name only", () => {
  assertEquals(releaseOf("vmlinuz-6.1.0-57-amd64"), "6.1.0-57-amd64");
  assertEquals(releaseOf("vmlinuz-6.1.0-57-cloud-amd64"), "6.1.0-57-cloud-amd64");
  assertEquals(releaseOf("initrd.img-6.1.0-57-amd64"), undefined);
  assertEquals(releaseOf("vmlinuz-6.1.0-57-arm64"), undefined);
});

Deno.test("findKernel takes the newest image whose build tree is installed", async () => {
  const root = await Deno.makeTempDir({ prefix: "stapfr-kernel-" });
  try {
    const release = async (rel: string, build: boolean) => {
      await Deno.writeFile(`${root}/boot/vmlinuz-${rel}`, new Uint8Array());
      await Deno.mkdir(`${root}/lib/modules/${rel}`, { recursive: true });
      await Deno.writeTextFile(`${root}/lib/modules/${rel}/modules.dep`, "");
      if (build) await Deno.mkdir(`${root}/lib/modules/${rel}/build`);
    };
    await Deno.mkdir(`${root}/boot`);
    assertEquals(findKernel(root), undefined);
    await release("6.1.0-9-amd64", true);
    await release("6.1.0-10-amd64", true);
    await release("6.1.0-11-amd64", false);
    assertEquals(findKernel(root)?.release, "6.1.0-10-amd64");
    assertEquals(findKernel(root)?.image, `${root}/boot/vmlinuz-6.1.0-10-amd64`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
