/**
 * Debian's real `/usr/bin/staprun` (SystemTap 4.8) on the error paths it shows without a kernel module: attach
 * to and unload of a module that is not loaded. Neither call loads anything. The host seam points at the real
 * staprun and the real /proc; nothing else differs from the simulated runs.
 */
import { assert, assertMatch, assertRejects } from "@std/assert";
import { StapfrError } from "../../lib/errors.ts";
import { realHost } from "../../lib/host.ts";
import { AttachSession } from "../../lib/driver/session.ts";
import { unloadModule } from "../../lib/driver/unload.ts";

const STAPRUN = "/usr/bin/staprun";
const MODULE = "stap_fr_stapfr_test_absent";

function installed(): boolean {
  try {
    return Deno.statSync(STAPRUN).isFile;
  } catch {
    return false;
  }
}

/** Whether this user may execute staprun (root, or a member of group stapusr). */
async function runnable(): Promise<boolean> {
  try {
    await new Deno.Command(STAPRUN, { args: ["-V"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

const host = realHost({ staprun: STAPRUN });

Deno.test({
  name: "real staprun: attach to a module that is not loaded says it is not loaded",
  ignore: !installed(),
  async fn() {
    const canRun = await runnable();
    const session = await (async () => {
      try {
        return await AttachSession.open({
          host,
          module: MODULE,
          recorder: "absent",
          sink: () => Promise.resolve(),
        });
      } catch (err) {
        // staprun is root:stapusr 4754: other users cannot even execute it.
        if (canRun) throw err;
        assertMatch((err as StapfrError).message, /Cannot run ".*staprun": permission denied/);
        assertMatch((err as StapfrError).hint ?? "", /stapusr/);
        return undefined;
      }
    })();
    if (!session) return;
    const err = await assertRejects(() => session.waitIdle({ idleMs: 30_000 }), StapfrError);
    await session.done;
    assertMatch(
      err.message,
      /Cannot attach to recorder "absent": module "stap_fr_stapfr_test_absent" is not loaded/,
    );
    // SystemTap's own line is kept, as the error's detail after stapfr's explanation.
    assertMatch(
      ((err as StapfrError).detail ?? []).join("\n"),
      /ERROR: Cannot attach to module stap_fr_stapfr_test_absent control channel; not running\?/,
    );
  },
});

Deno.test({
  name: "real staprun: unloading a module that is not loaded says it is not loaded",
  ignore: !installed(),
  async fn() {
    if (!(await runnable())) {
      const err = await assertRejects(() => unloadModule(host, MODULE, "absent"), StapfrError);
      assertMatch(err.message, /permission denied/);
      return;
    }
    const err = await assertRejects(() => unloadModule(host, MODULE, "absent"), StapfrError);
    assertMatch(
      err.message,
      /Cannot unload recorder "absent": module "stap_fr_stapfr_test_absent" is not loaded/,
    );
    const detail = (err as StapfrError).detail ?? [];
    assert(
      detail.includes("ERROR: 'stap_fr_stapfr_test_absent' is not a zombie systemtap module."),
      detail.join("\n"),
    );
  },
});
