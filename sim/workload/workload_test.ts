import { assert, assertEquals } from "@std/assert";
import { CATALOGUE, Workload } from "./workload.ts";
import { clobberedArea, cmdlineOfArea } from "./machine.ts";

function trace(seed: number, rate: number, untilNs: number): string[] {
  const w = new Workload({ cpus: 2, seed, rate });
  for (let i = 0; i < CATALOGUE.length; i++) w.enable(i);
  const out: string[] = [];
  w.onHit = (e) => out.push(`${e.time.toFixed(0)} ${e.cpu} ${CATALOGUE[e.point].text} ${e.task.pid}`);
  while (w.nextTime() <= untilNs) w.step();
  return out;
}

Deno.test("the workload is deterministic per seed and in time order", () => {
  const a = trace(1, 10000, 50e6);
  assertEquals(a, trace(1, 10000, 50e6));
  assert(a.join() !== trace(2, 10000, 50e6).join());
  const times = a.map((l) => Number(l.split(" ")[0]));
  for (let i = 1; i < times.length; i++) assert(times[i] >= times[i - 1]);
});

Deno.test("rate is events per second of virtual time over all CPUs", () => {
  const w = new Workload({ cpus: 4, seed: 9, rate: 20000 });
  while (w.nextTime() <= 1e9) w.step();
  assert(Math.abs(w.events - 20000) < 600, `events ${w.events}`);
});

Deno.test("cmdline_str of a PostgreSQL 9.x title shows the NUL padding as empty arguments", () => {
  const area = clobberedArea(["postgres", "-D", "/var/lib/postgres/data"], "postgres: wal writer process   ");
  assertEquals(cmdlineOfArea(area), 'postgres: wal writer process    "" "" ""');
  assertEquals(cmdlineOfArea("/sbin/init\0"), "/sbin/init");
});
