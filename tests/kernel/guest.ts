/**
 * Booting the lab's guest: QEMU with TCG (nested KVM does not work on these machines), 2 CPUs, the host's `/`
 * as the guest's root over 9p (read-only, under a tmpfs overlay) and a writable 9p share of one scratch
 * directory. The guest runs `job.sh` from the scratch share, writes its results there, and powers off with
 * sysrq `o`; a host-side time limit kills QEMU whatever happens (docs/kernel-lab.md "How it boots").
 * @module
 */
import type { LabKernel } from "./machine.ts";

/** What a finished guest left. */
export interface GuestRun {
  /** The job's exit status as the guest wrote it, or null when it wrote none (crash, time limit). */
  status: number | null;
  /** Whether the host's time limit ended QEMU. */
  timedOut: boolean;
  /** The serial console (the guest kernel's messages and the job's own console output). */
  console: string;
  /** Wall-clock seconds from QEMU's start to its end. */
  seconds: number;
}

/** The QEMU command line for a guest. */
export function qemuArgs(options: { kernel: LabKernel; initrd: string; scratch: string }): string[] {
  return [
    "-accel",
    "tcg,thread=multi",
    "-cpu",
    "max",
    "-smp",
    "2",
    "-m",
    "2048",
    "-nographic",
    "-no-reboot",
    "-kernel",
    options.kernel.image,
    "-initrd",
    options.initrd,
    "-append",
    "console=ttyS0 quiet panic=-1",
    "-virtfs",
    "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
    "-virtfs",
    `local,path=${options.scratch},mount_tag=xfer,security_model=none`,
  ];
}

/**
 * Boots the guest and waits until it powers off or `limitSeconds` pass. QEMU runs under coreutils `timeout`
 * (SIGKILL at the limit) so that even a test process that dies cannot leave it running, and this function
 * kills it on every way out as well.
 */
export async function bootGuest(options: {
  qemu: string;
  kernel: LabKernel;
  initrd: string;
  scratch: string;
  job: string;
  limitSeconds: number;
  onConsole?: (text: string) => void;
}): Promise<GuestRun> {
  await Deno.writeTextFile(`${options.scratch}/job.sh`, options.job);
  await Deno.remove(`${options.scratch}/status`).catch(() => {});
  const started = Date.now();
  const child = new Deno.Command("timeout", {
    args: ["--signal=KILL", String(options.limitSeconds), options.qemu, ...qemuArgs(options)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let console = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      console += text;
      options.onConsole?.(text);
    }
  };
  try {
    const [status] = await Promise.all([child.status, collect(child.stdout), collect(child.stderr)]);
    let jobStatus: number | null = null;
    try {
      jobStatus = Number((await Deno.readTextFile(`${options.scratch}/status`)).trim());
    } catch {
      // The job never finished.
    }
    // timeout(1) exits 137 when it had to kill.
    return {
      status: jobStatus,
      timedOut: status.code === 137,
      console,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    // A normal end has nothing left to kill; any other way out (an exception here) must not leave QEMU.
    try {
      // timeout(1) puts itself and QEMU in a process group of their own.
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // Gone already.
    }
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone already.
    }
    await child.status;
  }
}

/**
 * The job the guest runs after switching to the overlay root: the mounts stapfr and staprun need (tmpfs on
 * /run, debugfs for the relay files), Deno's cache copied into the writable overlay (warmed on the host), the
 * lab's program, its status on the scratch share, and power-off. /tmp stays the overlay's (writable, its
 * upper layer a tmpfs): a fresh tmpfs there would hide a repository checked out under the host's /tmp.
 */
export function jobScript(options: { deno: string; program: string; plan: string; xfer: string }): string {
  return `#!/bin/sh
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NO_COLOR=1
export DENO_DIR=/var/tmp/stapfr-lab-deno DENO_NO_UPDATE_CHECK=1
rm -rf "$DENO_DIR"
cp -a ${options.xfer}/deno "$DENO_DIR"
echo "lab-guest: up"
${options.deno} run --quiet --allow-all ${options.program} ${options.plan}
echo $? > ${options.xfer}/status
sync
echo o > /proc/sysrq-trigger
sleep 30
`;
}
