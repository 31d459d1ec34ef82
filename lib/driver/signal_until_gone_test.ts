import { assertEquals } from "@std/assert";
import { signalUntilGone, type Target } from "./signal_until_gone.ts";

/** A target that ends on the `endsOn`-th signal it gets (never, when undefined), logging what it was sent. */
function fake(endsOn: number | undefined, options: { gone?: boolean; deafToKill?: boolean } = {}) {
  const sent: Deno.Signal[] = [];
  let end = () => {};
  const ended = new Promise<void>((resolve) => (end = resolve));
  const target: Target = {
    send(signal) {
      if (options.gone) return false;
      sent.push(signal);
      if (sent.length === endsOn || (signal === "SIGKILL" && !options.deafToKill)) end();
      return true;
    },
    ended,
  };
  return { target, sent, end };
}

const QUICK = { attempts: 3, waitMs: 20, killWaitMs: 20 };

Deno.test("a process that reacts to the first signal gets one", async () => {
  const f = fake(1);
  assertEquals(await signalUntilGone(f.target, "SIGQUIT", QUICK), "signalled");
  assertEquals(f.sent, ["SIGQUIT"]);
});

Deno.test("a lost signal is sent again; the last of the attempts still counts as the signal's", async () => {
  const f = fake(3);
  assertEquals(await signalUntilGone(f.target, "SIGQUIT", QUICK), "signalled");
  assertEquals(f.sent, ["SIGQUIT", "SIGQUIT", "SIGQUIT"]);
});

Deno.test("one deaf to every attempt is killed, after exactly that many signals", async () => {
  const f = fake(undefined);
  assertEquals(await signalUntilGone(f.target, "SIGQUIT", { ...QUICK, attempts: 2 }), "killed");
  assertEquals(f.sent, ["SIGQUIT", "SIGQUIT", "SIGKILL"]);
});

Deno.test("one already gone is neither signalled again nor killed", async () => {
  const f = fake(undefined, { gone: true });
  assertEquals(await signalUntilGone(f.target, "SIGQUIT", QUICK), "signalled");
  assertEquals(f.sent, []);
});

Deno.test("one that outlives SIGKILL too (a process in uninterruptible sleep) is reported alive", async () => {
  const f = fake(undefined, { deafToKill: true });
  assertEquals(await signalUntilGone(f.target, "SIGTERM", QUICK), "alive");
  assertEquals(f.sent, ["SIGTERM", "SIGTERM", "SIGTERM", "SIGKILL"]);
  f.end();
});

Deno.test("a real process that ignores the signal is killed; one that takes it ends by it", async () => {
  for (
    const [script, expected] of [["trap '' QUIT; echo; exec sleep 30", "killed"], [
      "echo; exec sleep 30",
      "signalled",
    ]]
  ) {
    const child = new Deno.Command("sh", { args: ["-c", script], stdout: "piped" }).spawn();
    // Its trap is set once it speaks.
    const reader = child.stdout.getReader();
    await reader.read();
    reader.releaseLock();
    await child.stdout.cancel();
    const target = {
      send: (s: Deno.Signal) => {
        try {
          child.kill(s);
          return true;
        } catch {
          return false;
        }
      },
      ended: child.status,
    };
    assertEquals(
      await signalUntilGone(target, "SIGQUIT", { attempts: 2, waitMs: 300, killWaitMs: 5000 }),
      expected,
    );
    assertEquals((await child.status).signal, expected === "killed" ? "SIGKILL" : "SIGQUIT");
  }
});
