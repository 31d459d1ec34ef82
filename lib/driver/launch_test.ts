import { assertEquals, assertMatch, assertRejects } from "@std/assert";
import { StapfrError } from "../errors.ts";
import { fakeHost } from "../../tests/support/fake_host.ts";
import { startFile, startMemory } from "./launch.ts";

// The argument after -m, and after -o, as stap gets them.
const ARGS =
  `while [ $# -gt 0 ]; do case "$1" in -m) mod=$2; shift;; -o) out=$2; shift;; esac; shift; done\n`;

Deno.test("startMemory reads the module name from stapio's reconnect hint and runs stap in its own directory", async () => {
  const host = await fakeHost({
    stap: ARGS +
      `pwd > "$FAKE/cwd"; printf '\\nDisconnecting from systemtap module.\\nTo reconnect, type "staprun -A %s"\\n' "$mod" >&2\n`,
  });
  try {
    const workDir = await Deno.makeTempDir({ dir: host.dir });
    const r = await startMemory({
      host,
      recorder: "a",
      module: "stap_fr_a",
      script: { text: "probe begin {}" },
      workDir,
    });
    assertEquals(r.module, "stap_fr_a");
    assertEquals((await Deno.readTextFile(`${host.dir}/cwd`)).trim(), await Deno.realPath(workDir));
  } finally {
    await host.cleanup();
  }
});

Deno.test("startMemory explains a script that does not compile", async () => {
  const host = await fakeHost({
    stap: `echo "semantic error: while resolving probe point: identifier 'nosuch' at <input>:1:7" >&2
echo "Pass 2: analysis failed.  [man error::pass2]" >&2; exit 1\n`,
  });
  try {
    const err = await assertRejects(
      () =>
        startMemory({
          host,
          recorder: "a",
          module: "stap_fr_a",
          script: { text: "probe nosuch {}" },
          workDir: host.dir,
        }),
      StapfrError,
    );
    assertEquals(err.message, 'Cannot start recorder "a": the script does not compile');
    assertMatch((err as StapfrError).detail![0], /^semantic error/);
  } finally {
    await host.cleanup();
  }
});

Deno.test("startFile waits for the files after the pid line, and tells a daemon that died first", async (t) => {
  // The daemon: prints its pid at once, creates the first file a little later (as stapio 4.8 does).
  const daemon = (makesFiles: boolean) =>
    ARGS + `(sleep 0.2; ${makesFiles ? ': > "$out"_cpu0.0; : > "$out"_cpu1.0; exec sleep 30' : "exit 0"}) ` +
    `</dev/null >/dev/null 2>&1 &\necho $!\n`;
  await t.step("files appear: started", async () => {
    const host = await fakeHost({ stap: daemon(true) });
    try {
      await host.setModules({ stap_fr_f: 1 });
      const runDir = await Deno.makeTempDir({ dir: host.dir });
      const r = await startFile({
        host,
        recorder: "f",
        module: "stap_fr_f",
        script: { text: "probe begin {}" },
        workDir: host.dir,
        runDir,
        base: "f.out",
        bulk: true,
      });
      assertEquals(r.module, "stap_fr_f");
      Deno.kill(r.pid, "SIGKILL");
    } finally {
      await host.cleanup();
    }
  });
  await t.step("the daemon exits before any file: an error that points at syslog", async () => {
    const host = await fakeHost({ stap: daemon(false) });
    try {
      const runDir = await Deno.makeTempDir({ dir: host.dir });
      const err = await assertRejects(
        () =>
          startFile({
            host,
            recorder: "f",
            module: "stap_fr_f",
            script: { text: "probe begin {}" },
            workDir: host.dir,
            runDir,
            base: "f.out",
            bulk: false,
          }),
        StapfrError,
      );
      assertMatch(err.message, /the stapio daemon \(pid \d+\) exited before recording began/);
      assertMatch((err as StapfrError).hint ?? "", /journalctl -t stapio/);
    } finally {
      await host.cleanup();
    }
  });
});
