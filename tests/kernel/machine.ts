/**
 * What the kernel lab needs from this machine, found by looking: a Debian kernel image with its build tree,
 * QEMU, a static busybox, SystemTap. Nothing is hard-coded about the release (it moves with security updates).
 * @module
 */

/** A kernel the lab can boot and compile modules for. */
export interface LabKernel {
  release: string;
  image: string;
  modules: string;
}

/** The machine's parts the lab uses. */
export interface LabMachine {
  kernel: LabKernel;
  qemu: string;
  busybox: string;
  stap: string;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The release in a kernel image's file name (`vmlinuz-6.1.0-57-amd64` → `6.1.0-57-amd64`), if it is one. */
export function releaseOf(imageName: string): string | undefined {
  return /^vmlinuz-(.+-amd64)$/.exec(imageName)?.[1];
}

/**
 * The newest `/boot/vmlinuz-*-amd64` whose `/lib/modules/RELEASE/build` exists, if any; `root` lets tests look
 * elsewhere.
 */
export function findKernel(root = ""): LabKernel | undefined {
  const found: LabKernel[] = [];
  try {
    for (const e of Deno.readDirSync(`${root}/boot`)) {
      const release = releaseOf(e.name);
      if (!release) continue;
      const modules = `${root}/lib/modules/${release}`;
      if (exists(`${modules}/build`) && exists(`${modules}/modules.dep`)) {
        found.push({ release, image: `${root}/boot/${e.name}`, modules });
      }
    }
  } catch {
    return undefined;
  }
  const collator = new Intl.Collator("en", { numeric: true });
  return found.sort((a, b) => collator.compare(a.release, b.release)).at(-1);
}

function onPath(program: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    if (dir && exists(`${dir}/${program}`)) return `${dir}/${program}`;
  }
  return undefined;
}

/** Whether a file is a statically linked executable (its ELF has no program interpreter). */
function isStatic(path: string): boolean {
  const head = Deno.readFileSync(path).subarray(0, 8192);
  return !new TextDecoder("latin1").decode(head).includes("ld-linux");
}

/** The machine's parts, or why the lab cannot run here (the reason a skip prints). */
export function labMachine(): LabMachine | { missing: string } {
  if (Deno.env.get("STAPFR_KERNEL_LAB") === "0") return { missing: "STAPFR_KERNEL_LAB=0 is set" };
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    return { missing: "the kernel lab boots an x86_64 Debian kernel on Linux" };
  }
  const qemu = onPath("qemu-system-x86_64");
  if (!qemu) return { missing: "qemu-system-x86_64 is not installed (apt install qemu-system-x86)" };
  const kernel = findKernel();
  if (!kernel) {
    return {
      missing: "no /boot/vmlinuz-*-amd64 with its /lib/modules/RELEASE/build " +
        "(apt install linux-image-amd64 linux-headers-amd64)",
    };
  }
  const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((p) => exists(p) && isStatic(p));
  if (!busybox) return { missing: "no static busybox (apt install busybox-static)" };
  const stap = onPath("stap");
  if (!stap || !exists("/usr/bin/staprun") || !exists("/usr/share/systemtap/runtime")) {
    return { missing: "SystemTap is not installed (apt install systemtap systemtap-runtime)" };
  }
  return { kernel, qemu, busybox, stap };
}
