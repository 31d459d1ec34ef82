/**
 * The guest's initramfs: a static busybox, the kernel modules that reach the host's root (virtio, 9p,
 * overlayfs; Debian builds them as modules) in dependency order, and an `/init` that mounts the host's `/` over
 * 9p read-only under a tmpfs overlay, mounts the scratch share, and switches to it to run the lab's job
 * (docs/kernel-lab.md "How it boots").
 * @module
 */
import { type CpioEntry, cpioNewc, gzip } from "./cpio.ts";

/** The modules `/init` needs; their dependencies come from `modules.dep`. */
export const GUEST_MODULES = ["virtio_pci", "9pnet_virtio", "9p", "overlay"];

/** Where the scratch share is mounted in the guest. */
export const GUEST_XFER = "/xfer";

/**
 * The `.ko` paths (relative to `/lib/modules/RELEASE`) to load for `wanted`, each after what it depends on,
 * from the text of `modules.dep` (`path: dep dep …`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const dep = "kernel/a.ko: kernel/b.ko kernel/c.ko\nkernel/b.ko: kernel/c.ko\nkernel/c.ko:\n";
 * assertEquals(loadOrder(dep, ["a"]), ["kernel/c.ko", "kernel/b.ko", "kernel/a.ko"]);
 * ```
 */
export function loadOrder(modulesDep: string, wanted: readonly string[]): string[] {
  const deps = new Map<string, string[]>();
  const byName = new Map<string, string>();
  for (const line of modulesDep.split("\n")) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    deps.set(m[1], m[2].split(/\s+/).filter(Boolean));
    byName.set(m[1].split("/").pop()!.replace(/\.ko(\.[a-z]+)?$/, ""), m[1]);
  }
  const order: string[] = [];
  const visit = (path: string) => {
    if (order.includes(path)) return;
    for (const d of deps.get(path) ?? []) visit(d);
    order.push(path);
  };
  for (const name of wanted) {
    const path = byName.get(name);
    if (!path) throw new Error(`Kernel module "${name}" is not in modules.dep`);
    visit(path);
  }
  return order;
}

/** The `/init` script: mounts, the overlay root, then `switch_root` into the job on the scratch share. */
export function initScript(modules: readonly string[]): string {
  const mount9p = "-t 9p -o trans=virtio,version=9p2000.L,msize=512000";
  return `#!/bin/busybox sh
export PATH=/bin
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /host /upper /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in ${modules.map((m) => m.split("/").pop()).join(" ")}; do
  insmod /modules/$m || echo "lab-init: insmod $m failed"
done
mount ${mount9p},ro hostroot /host || echo "lab-init: cannot mount the host root"
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/upper/data,workdir=/upper/work /newroot
mkdir -p /newroot${GUEST_XFER}
mount ${mount9p} xfer /newroot${GUEST_XFER} || echo "lab-init: cannot mount the scratch share"
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/sh ${GUEST_XFER}/job.sh
echo o > /proc/sysrq-trigger
`;
}

/** Builds the gzipped initramfs for a kernel into `file`. */
export async function writeInitramfs(
  file: string,
  options: { busybox: string; modulesDir: string },
): Promise<void> {
  const order = loadOrder(await Deno.readTextFile(`${options.modulesDir}/modules.dep`), GUEST_MODULES);
  const entries: CpioEntry[] = [
    { kind: "dir", path: "bin" },
    { kind: "file", path: "bin/busybox", data: await Deno.readFile(options.busybox), mode: 0o755 },
    { kind: "dir", path: "modules" },
  ];
  for (const rel of order) {
    const data = await Deno.readFile(`${options.modulesDir}/${rel}`);
    entries.push({ kind: "file", path: `modules/${rel.split("/").pop()}`, data });
  }
  entries.push({
    kind: "file",
    path: "init",
    data: new TextEncoder().encode(initScript(order)),
    mode: 0o755,
  });
  await Deno.writeFile(file, await gzip(cpioNewc(entries)));
}
