import { assert, assertEquals, assertThrows } from "@std/assert";
import { GUEST_MODULES, initScript, loadOrder } from "./initramfs.ts";

// The lines of Debian 12's modules.dep for what the guest loads.
const DEP = [
  "kernel/fs/overlayfs/overlay.ko:",
  "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko",
  "kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko " +
  "kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko " +
  "kernel/drivers/virtio/virtio_ring.ko",
  "kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko " +
  "kernel/drivers/virtio/virtio_ring.ko",
  "kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko",
  "kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko",
  "kernel/drivers/virtio/virtio_ring.ko:",
  "kernel/drivers/virtio/virtio_pci_legacy_dev.ko:",
  "kernel/drivers/virtio/virtio_pci_modern_dev.ko:",
  "kernel/net/9p/9pnet.ko:",
  "kernel/fs/netfs/netfs.ko:",
].join("\n");

Deno.test("loadOrder puts every module after what it depends on, each once", () => {
  const order = loadOrder(DEP, GUEST_MODULES).map((p) => p.split("/").pop()!.replace(".ko", ""));
  assertEquals(order.length, new Set(order).size);
  assertEquals(order.length, 11);
  const after = (a: string, b: string) => assert(order.indexOf(a) > order.indexOf(b), `${a} after ${b}`);
  after("virtio", "virtio_ring");
  after("virtio_pci", "virtio");
  after("virtio_pci", "virtio_pci_modern_dev");
  after("9pnet_virtio", "9pnet");
  after("9pnet_virtio", "virtio");
  after("9p", "fscache");
  after("fscache", "netfs");
  assertThrows(() => loadOrder(DEP, ["nosuch"]), Error, '"nosuch"');
});

Deno.test("initScript loads the modules in order and switches to the job on the scratch share", () => {
  const script = initScript(["kernel/a/x.ko", "kernel/b/y.ko"]);
  assert(script.startsWith("#!/bin/busybox sh\n"));
  assert(script.includes("for m in x.ko y.ko; do"));
  assert(script.includes("ro hostroot /host"));
  assert(script.includes("exec switch_root /newroot /bin/sh /xfer/job.sh"));
});
