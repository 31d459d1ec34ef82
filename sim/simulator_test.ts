import { assert, assertEquals, assertThrows } from "@std/assert";
import { MemoryOutputFs } from "./stapio/output_fs.ts";
import { Simulator } from "./simulator.ts";

const SEED_SCRIPT =
  'probe vfs.* { printdln("**", pn(), cmdline_str(), pid()) } probe end { printf("exited\\n") }';
const COUNTER = 'global n probe vfs.* { n++; printf("%d\\n", n) } probe end { printf("exited\\n") }';

Deno.test("2.1/2.3 memory mode: begin output waits for the first attach; attaches never repeat data", () => {
  const sim = new Simulator({ seed: 3, rate: 500, stall: 0 });
  sim.load("m", 'global n probe begin { printf("begin\\n") } probe vfs.read { n++; printf("%d\\n", n) }');
  sim.advance(500);
  const a = sim.attach("m");
  sim.advance(100);
  const first = a.output().trimEnd().split("\n");
  assertEquals(first[0], "begin");
  a.detach();
  sim.advance(500);
  const b = sim.attach("m");
  sim.advance(100);
  const second = b.output().trimEnd().split("\n").map(Number);
  b.detach();
  assertEquals(Number(first.at(-1)) + 1, second[0]);
  assertEquals(sim.modules(), [{ name: "m", refcount: 0 }]);
});

Deno.test("2.3 the 4.8 stall: the first record after an attach waits 1–2 s of virtual time", () => {
  const sim = new Simulator({ seed: 3, rate: 500 });
  sim.load("m", COUNTER);
  sim.advance(100);
  sim.attach("m").detach();
  sim.advance(200);
  // The next reader starts counting at 0 while the records go on from where the last one stopped.
  const a = sim.attach("m");
  sim.advance(900);
  assertEquals(a.output(), "");
  sim.advance(1200);
  assert(a.output().length > 0);
  a.detach();
});

Deno.test("2.5 stop (SIGINT) under attach: end probes, module unloaded; 2.8 attach to it fails", () => {
  const sim = new Simulator({ rate: 200, stall: 0 });
  sim.load("m", SEED_SCRIPT);
  sim.advance(100);
  const a = sim.attach("m");
  assertThrows(() => sim.attach("m"), Error, "Cannot attach to module m control channel; not running?");
  sim.advance(100);
  a.stop();
  assertEquals(a.output().trimEnd().split("\n").at(-1), "exited");
  assertEquals(sim.modules(), []);
});

Deno.test("2.3 exit() while detached: the module exits at the next attach and unloads itself", () => {
  const sim = new Simulator({ stall: 0 });
  sim.load("m", 'probe timer.ms(100) { printf("tick\\n"); exit() } probe end { printf("end\\n") }');
  sim.advance(500);
  assertEquals(sim.modules(), [{ name: "m", refcount: 0 }]);
  const a = sim.attach("m");
  sim.advance(50);
  assertEquals(a.output(), "tick\nend\n");
  assertEquals(sim.modules(), []);
});

Deno.test("4.1/4.4 file mode -S 1,2 on virtual time: out.N, at most two, SIGTERM ends with the end probe", () => {
  const fs = new MemoryOutputFs();
  const sim = new Simulator({ cpus: 1, rate: 20_000, fs, stall: 0 });
  assertEquals(sim.loadToFiles("f", SEED_SCRIPT, { output: "/w/test.log", rotate: "1,2" }), "10001\n");
  sim.advance(10_000);
  const names = fs.names();
  assertEquals(names.length, 2);
  const nums = names.map((n) => Number(n.split(".").at(-1)));
  assert(nums[0] >= 1 && nums[1] === nums[0] + 1, names.join(" "));
  sim.signal("f", "SIGTERM");
  assertEquals(fs.text(names[1]).trimEnd().split("\n").at(-1), "exited");
  assertEquals(sim.modules(), []);
});

Deno.test("4.1 bulk file mode and SIGUSR2: F_<cpu>, then F_cpu<cpu>.1", () => {
  const fs = new MemoryOutputFs();
  const sim = new Simulator({ rate: 100, fs });
  sim.loadToFiles("b", SEED_SCRIPT, { output: "/w/out", bulk: true });
  sim.advance(200);
  sim.signal("b", "SIGUSR2");
  assertEquals(fs.names(), ["/w/out_0", "/w/out_1", "/w/out_cpu0.1", "/w/out_cpu1.1"]);
  sim.signal("b", "SIGQUIT");
  assertEquals(sim.modules(), [{ name: "b", refcount: 0 }]);
  sim.unload("b");
  assertEquals(sim.modules(), []);
});

Deno.test("deterministic for a seed", () => {
  const run = () => {
    const sim = new Simulator({ seed: 11, rate: 300, stall: 0 });
    sim.load("m", SEED_SCRIPT);
    sim.advance(1000);
    const a = sim.attach("m");
    sim.advance(10);
    return a.output();
  };
  const out = run();
  assert(out.length > 0);
  assertEquals(run(), out);
});
