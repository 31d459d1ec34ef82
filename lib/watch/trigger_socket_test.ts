import { assert, assertEquals, assertRejects } from "@std/assert";
import { StapfrError } from "../errors.ts";
import { sendTrigger, serveTriggerSocket, SOCKET_PATH_MAX, type TriggerRequest } from "./trigger_socket.ts";

/** A served socket in a temporary directory; `answer` decides, every request is kept. */
async function serving(
  fn: (path: string, requests: TriggerRequest[], stop: () => Promise<void>) => Promise<void>,
  answer: (r: TriggerRequest) => string = () => "fired: snapshot now",
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/web.trigger.sock`;
  const requests: TriggerRequest[] = [];
  const abort = new AbortController();
  const served = serveTriggerSocket(path, (r) => (requests.push(r), answer(r)), abort.signal);
  const stop = async () => {
    abort.abort();
    await served;
  };
  try {
    await fn(path, requests, stop);
  } finally {
    await stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function raw(path: string, text: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(new TextEncoder().encode(text));
    return await new Response(conn.readable).text();
  } catch (err) {
    conn.close();
    throw err;
  }
}

Deno.test("a trigger reaches the watcher with its reason and comes back with what the policies decided", async () => {
  let n = 0;
  await serving(async (path, requests) => {
    assertEquals(await sendTrigger(path, "disk full"), "answer 1");
    assertEquals(await sendTrigger(path, null), "answer 2");
    assertEquals(await sendTrigger(path, ""), "answer 3");
    assertEquals(requests, [{ reason: "disk full" }, { reason: null }, { reason: null }]);
    // A long reason is cut by the sender; the watcher gets the rest of the request whole.
    await sendTrigger(path, "x".repeat(10_000));
    assertEquals(requests[3].reason!.length, 2000);
  }, () => `answer ${++n}`);
});

Deno.test("only its owner can use the socket (0600), and it is gone when the watcher stops", async () => {
  await serving(async (path, _requests, stop) => {
    await sendTrigger(path, null); // listening
    assertEquals((await Deno.lstat(path)).mode! & 0o777, 0o600);
    await stop();
    await assertRejects(() => Deno.lstat(path), Deno.errors.NotFound);
  });
});

Deno.test("a request that is not JSON is a trigger without a reason, and is answered", async () => {
  await serving(async (path, requests) => {
    await sendTrigger(path, null);
    assertEquals(JSON.parse(await raw(path, "please\n")), { decision: "fired: snapshot now" });
    assertEquals(JSON.parse(await raw(path, '{"reason": 42}\n')), { decision: "fired: snapshot now" });
    assertEquals(requests.slice(1), [{ reason: null }, { reason: null }]);
  });
});

Deno.test("a stale socket file of a watcher that died is replaced", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/web.trigger.sock`;
    // What a killed watcher leaves: the socket file, nobody listening.
    const old = Deno.listen({ transport: "unix", path });
    old.close();
    const abort = new AbortController();
    const served = serveTriggerSocket(path, () => "ok", abort.signal);
    assertEquals(await sendTrigger(path, null), "ok");
    abort.abort();
    await served;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a socket path too long for a Unix socket is refused with what to do, and nothing is created", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const deep = `${dir}/${"d".repeat(SOCKET_PATH_MAX)}`;
    const err = await assertRejects(
      () => serveTriggerSocket(`${deep}/web.trigger.sock`, () => "ok", new AbortController().signal),
      StapfrError,
      "too long for a Unix socket",
    );
    assertEquals((err as StapfrError).code, "io");
    assertEquals([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a watcher stopped before it listened ends at once, and leaves no socket", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const abort = new AbortController();
    abort.abort();
    await serveTriggerSocket(`${dir}/web.trigger.sock`, () => "ok", abort.signal);
    assertEquals([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a client that connects and says nothing holds neither other triggers nor the watcher's stop", async () => {
  await serving(async (path, requests, stop) => {
    await sendTrigger(path, null);
    const silent = await Deno.connect({ transport: "unix", path });
    try {
      assertEquals(await sendTrigger(path, "meanwhile"), "fired: snapshot now");
      const t = Date.now();
      await stop();
      const took = Date.now() - t;
      assert(took < 1000, `the stop waited ${took} ms for a silent client`);
      assertEquals(requests.length, 2);
    } finally {
      silent.close();
    }
  });
});

Deno.test("nobody listening: the trigger says the watcher does not answer, after trying for a while", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const t = Date.now();
    const err = await assertRejects(() => sendTrigger(`${dir}/web.trigger.sock`, null), StapfrError);
    assertEquals((err as StapfrError).code, "timeout");
    assert(err.message.startsWith("The watcher's trigger socket does not answer"), err.message);
    assert(Date.now() - t >= 2500, "a watcher that has just started gets time to listen");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
