/**
 * Boots the lab's guest with one research script as its job (tests/kernel/research/README.md):
 * `deno run --allow-all tests/kernel/research/boot.ts XFER_DIR SCRIPT MODULES_DIR [LIMIT_S]`. The guest sees the
 * host's root read-only, XFER_DIR as /xfer; the script writes its results there. QEMU is killed at the limit
 * (and on every way out, by bootGuest).
 * @module
 */
import { bootGuest } from "../guest.ts";
import { writeInitramfs } from "../initramfs.ts";
import { labMachine } from "../machine.ts";

const [xfer, script, modules, limit = "900"] = Deno.args;
const machine = labMachine();
if ("missing" in machine) throw new Error(machine.missing);
if (!xfer || !script || !modules) throw new Error("usage: boot.ts XFER_DIR SCRIPT MODULES_DIR [LIMIT_S]");
const initrd = await Deno.makeTempFile({ prefix: "stapfr-research-initrd-" });
try {
  await writeInitramfs(initrd, { busybox: machine.busybox, modulesDir: machine.kernel.modules });
  // The paths are the caller's own, fixed at start; JSON quoting keeps them one word each for sh.
  const job = `#!/bin/sh
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export STAPFR_RESEARCH_MODULES=${JSON.stringify(modules)}
echo "lab-guest: up"
/bin/bash ${JSON.stringify(script)}
echo $? > /xfer/status
sync
echo o > /proc/sysrq-trigger
sleep 30
`;
  const run = await bootGuest({
    qemu: machine.qemu,
    kernel: machine.kernel,
    initrd,
    scratch: xfer,
    job,
    limitSeconds: Number(limit),
    onConsole: (t) => Deno.stdout.writeSync(new TextEncoder().encode(t)),
  });
  console.log(`\nguest: status ${run.status}, time limit ${run.timedOut}, ${run.seconds.toFixed(0)} s`);
} finally {
  await Deno.remove(initrd).catch(() => {});
}
