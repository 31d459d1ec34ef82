import { assert, assertEquals, assertThrows } from "@std/assert";
import { OrderedSink } from "./io.ts";

Deno.test("OrderedSink keeps order, counts what waits, and whenBelow waits for a slow writer", async () => {
  const written: string[] = [];
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  const sink = new OrderedSink({
    async write(p) {
      await gate;
      written.push(new TextDecoder().decode(p));
      return p.length;
    },
  });
  sink.text("a");
  sink.text("bb");
  assertEquals(sink.pending, 3);
  let below = false;
  const waiting = sink.whenBelow(1).then(() => (below = true));
  // About time: the sink must NOT report "below" while its writes are held back.
  await new Promise((r) => setTimeout(r, 5));
  assert(!below);
  release();
  gate = Promise.resolve();
  await waiting;
  await sink.flush();
  assertEquals([written, sink.pending], [["a", "bb"], 0]);
});

Deno.test("OrderedSink reports a failed write on the next one (EPIPE)", async () => {
  const sink = new OrderedSink({
    write() {
      return Promise.reject(new Deno.errors.BrokenPipe("Broken pipe"));
    },
  });
  sink.bytes(new Uint8Array([1]));
  await sink.flush();
  assertThrows(() => sink.bytes(new Uint8Array([2])), Deno.errors.BrokenPipe);
  await sink.whenBelow(0);
});

Deno.test("OrderedSink tells onFailure of the first failed write as it happens, once", async () => {
  const sink = new OrderedSink({
    write() {
      return Promise.reject(new Deno.errors.BrokenPipe("Broken pipe"));
    },
  });
  const seen: unknown[] = [];
  sink.onFailure = (err) => seen.push(err);
  sink.bytes(new Uint8Array([1]));
  sink.bytes(new Uint8Array([2]));
  await sink.flush();
  assertEquals(seen.length, 1);
  assert(seen[0] instanceof Deno.errors.BrokenPipe);
});
