import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { StapfrError } from "../errors.ts";
import { fakeHost } from "../../tests/support/fake_host.ts";
import { AttachSession } from "./session.ts";
import { readProcText } from "./kernel.ts";

// A stapio stand-in: prints the buffered data, then waits; SIGQUIT detaches (after `lose` lost signals),
// SIGTERM prints the end-probe output and exits.
const STAPRUN = `
lost=0
trap 'if [ $lost -lt \${LOSE:-0} ]; then lost=$((lost+1)); else printf "\\nDisconnecting from systemtap module.\\nTo reconnect, type \\"staprun -A $2\\"\\n" >&2; exit 0; fi' QUIT
trap 'echo "end probe"; exit 0' TERM
echo "$$" > "$FAKE/pid"
printf 'line 1\\nline 2\\n'
while :; do sleep 0.02; done
`;

/** Stops what a test started even when an assertion failed half-way. */
async function stopAll(sessions: AttachSession[]): Promise<void> {
  for (const s of sessions) {
    if (!s.exitStatus) {
      try {
        Deno.kill(s.pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    await s.done.catch(() => {});
  }
}

function collect(): { sink: (c: Uint8Array) => Promise<void>; text: () => string } {
  let text = "";
  const decoder = new TextDecoder();
  return { sink: (c) => Promise.resolve(void (text += decoder.decode(c))), text: () => text };
}

Deno.test("AttachSession reads until idle, then detaches with SIGQUIT in a session of its own", async () => {
  const started: AttachSession[] = [];
  const track = (session: AttachSession): AttachSession => (started.push(session), session);
  const host = await fakeHost({ staprun: STAPRUN });
  try {
    const out = collect();
    const lines: string[] = [];
    const s = track(
      await AttachSession.open({
        host,
        module: "stap_fr_a",
        sink: out.sink,
        onDiagnostic: (l) => lines.push(l),
      }),
    );
    assertEquals(await s.waitIdle({ idleMs: 200 }), "idle");
    assertEquals(out.text(), "line 1\nline 2\n");
    // setsid: the reader is a session leader, so a terminal's Ctrl-C cannot reach it.
    const stat = (await readProcText(`/proc/${s.pid}/stat`))!;
    assertEquals(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3], String(s.pid));
    const status = await s.detach();
    assertEquals(status.code, 0);
    await s.done;
    assertEquals(lines, [], "the detach message is not a diagnostic");
  } finally {
    await stopAll(started);
    await host.cleanup();
  }
});

Deno.test("AttachSession resends a lost SIGQUIT, and kills a stapio that ignores every one", async (t) => {
  const started: AttachSession[] = [];
  const track = (session: AttachSession): AttachSession => (started.push(session), session);
  const host = await fakeHost({ staprun: STAPRUN });
  try {
    await t.step("one lost signal is resent", async () => {
      const s = track(
        await AttachSession.open({
          host: { ...host, env: { ...host.env, LOSE: "1" } },
          module: "stap_fr_a",
          sink: collect().sink,
          signalWaitMs: 200,
        }),
      );
      await s.waitIdle({ idleMs: 200 });
      assertEquals((await s.detach()).code, 0);
      await s.done;
    });
    await t.step(
      "always lost: stapio is killed (a detach, not an unload), and the diagnostic says so",
      async () => {
        const lines: string[] = [];
        const s = track(
          await AttachSession.open({
            host: { ...host, env: { ...host.env, LOSE: "99" } },
            module: "stap_fr_a",
            sink: collect().sink,
            signalWaitMs: 100,
            signalAttempts: 2,
            onDiagnostic: (line) => lines.push(line),
          }),
        );
        await s.waitIdle({ idleMs: 200 });
        const status = await s.detach();
        assertEquals(status.signal, "SIGKILL");
        await s.done;
        await s.throwIfFailed(); // a detach by kill is not a failed attach
        assertMatch(
          lines.join("\n"),
          /ignored 2 SIGQUIT signals .* it was killed, which detaches without unloading/,
        );
      },
    );
  } finally {
    await stopAll(started);
    await host.cleanup();
  }
});

Deno.test("AttachSession.unload sends SIGTERM and passes the end-probe output on", async () => {
  const started: AttachSession[] = [];
  const track = (session: AttachSession): AttachSession => (started.push(session), session);
  const host = await fakeHost({ staprun: STAPRUN });
  try {
    const out = collect();
    const s = track(await AttachSession.open({ host, module: "stap_fr_a", sink: out.sink }));
    await s.waitIdle({ idleMs: 200 });
    await s.unload();
    await s.done;
    assertEquals(out.text(), "line 1\nline 2\nend probe\n");
  } finally {
    await stopAll(started);
    await host.cleanup();
  }
});

Deno.test("AttachSession explains a failed attach through the module table", async () => {
  const started: AttachSession[] = [];
  const track = (session: AttachSession): AttachSession => (started.push(session), session);
  const host = await fakeHost({
    staprun: `echo "ERROR: Cannot attach to module $2 control channel; not running?" >&2; exit 1\n`,
  });
  try {
    await host.setModules({ stap_fr_a: 1 });
    const s = track(
      await AttachSession.open({ host, module: "stap_fr_a", recorder: "a", sink: collect().sink }),
    );
    const err = await assertRejects(() => s.waitIdle({ idleMs: 5000 }), StapfrError);
    assertMatch(err.message, /already attached by another reader/);
    await s.done;
  } finally {
    await stopAll(started);
    await host.cleanup();
  }
});

Deno.test("AttachSession keeps draining stapio after the sink's pipe closed", async () => {
  const started: AttachSession[] = [];
  const track = (session: AttachSession): AttachSession => (started.push(session), session);
  const host = await fakeHost({ staprun: STAPRUN });
  try {
    let calls = 0;
    const s = track(
      await AttachSession.open({
        host,
        module: "stap_fr_a",
        sink: () => {
          calls++;
          return Promise.reject(new Deno.errors.BrokenPipe("closed"));
        },
      }),
    );
    assertEquals(await s.waitIdle({ idleMs: 5000 }), "closed");
    assert(s.sinkClosed);
    await s.detach();
    await s.done;
    assertEquals(calls, 1);
  } finally {
    await stopAll(started);
    await host.cleanup();
  }
});

Deno.test("AttachSession.detach returns once stapio exited, even while a slow consumer still holds its output", async () => {
  const started: AttachSession[] = [];
  const host = await fakeHost({ staprun: STAPRUN });
  let release = (): void => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  try {
    const s = await AttachSession.open({
      host,
      module: "stap_fr_a",
      // The consumer stops reading until the test lets it go.
      sink: () => held,
      signalWaitMs: 200,
    });
    started.push(s);
    await s.waitIdle({ idleMs: 200 });
    // Some output is still on its way to the consumer when stapio detaches: that is no failed detach.
    assertEquals((await s.detach()).code, 0);
  } finally {
    release();
    await stopAll(started);
    await host.cleanup();
  }
});
