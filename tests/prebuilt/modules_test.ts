/**
 * End to end on the simulator, prebuilt modules: `build` writes stap_fr_NAME.ko (an ELF file whose .modinfo
 * says the kernel it was built for) and its description; `start --module` runs it with staprun in memory and
 * in file mode, and list, status, dump, tail and stop treat it as any recorder; every refusal leaves nothing
 * loaded and nothing registered.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { type RunResult, SimWorld } from "../support/sim_world.ts";
import { readModuleInfo } from "../../lib/driver/modinfo.ts";
import { sha256Hex } from "../../lib/recorder/module_description.ts";

const SCRIPT = `global n
probe timer.ms(10) { n++; printf("tick %d\\n", n) }
probe end { printf("end after %d\\n", n) }
`;

function ticks(text: string): number[] {
  return [...text.matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1]));
}

/** Nothing loaded and nothing registered in this world. */
async function assertNothingLeft(world: SimWorld, what: string): Promise<void> {
  assertEquals(await world.modules(), {}, `${what}: loaded modules`);
  assertEquals((await world.json<{ recorders: unknown[] }>(["list"])).recorders, [], `${what}: registry`);
}

function assertRefused(r: RunResult, code: number, message: RegExp): void {
  assertEquals(r.code, code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const first = r.stderr.split("\n")[0];
  assertMatch(first, /^stapfr: /);
  assertMatch(first, message);
}

Deno.test("prebuilt memory recorder: build, start --module, list, status, dump, stop", async () => {
  const world = await SimWorld.create();
  try {
    const mods = `${world.root}/mods`;
    await Deno.mkdir(mods);
    await Deno.writeTextFile(`${world.root}/tick.stp`, SCRIPT);
    const built = await world.json<Record<string, unknown>>([
      "build",
      "mem",
      `${world.root}/tick.stp`,
      "--out-dir",
      mods,
    ]);
    const ko = `${mods}/stap_fr_mem.ko`;
    assertEquals([built.module_path, built.description_path], [ko, `${mods}/stap_fr_mem.json`]);
    // No traced data in either file: readable by all, as stap writes a module.
    assertEquals((await Deno.stat(ko)).mode! & 0o777, 0o644);
    assertEquals((await Deno.stat(`${mods}/stap_fr_mem.json`)).mode! & 0o777, 0o644);
    assertEquals((await Array.fromAsync(Deno.readDir(mods))).map((e) => e.name).sort(), [
      "stap_fr_mem.json",
      "stap_fr_mem.ko",
    ]);
    const info = await readModuleInfo(ko);
    assertEquals([info.name, info.release], ["stap_fr_mem", "6.1.0-sim"]);
    // Bulk by default (a memory recorder is read by sequence number), with stapfr's counters.
    assertEquals(info.entries.find(([k]) => k === "stapfr_bulk")?.[1], "1");
    assertEquals(info.entries.find(([k]) => k === "stapfr_counters")?.[1], "1");
    const description = JSON.parse(await Deno.readTextFile(`${mods}/stap_fr_mem.json`));
    assertEquals(description.script_sha256, await sha256Hex(new TextEncoder().encode(SCRIPT)));
    assertEquals(description.module_sha256, await sha256Hex(await Deno.readFile(ko)));
    assertEquals([description.kernel_release, description.bulk, description.systemtap_version], [
      "6.1.0-sim",
      true,
      "4.8/0.188",
    ]);
    assertEquals(description.stap_args.slice(0, 6), ["-p4", "-F", "-r", "6.1.0-sim", "-m", "stap_fr_mem"]);
    assert(!Number.isNaN(Date.parse(description.built_at)));

    // Started from another directory by a relative path, as after copying it to a server.
    const start = await world.run(
      ["start", "mem", "--module", "mods/stap_fr_mem.ko", "--buffer", "1M"],
      {},
      world.root,
    );
    assertEquals(start.code, 0, start.stderr);
    assertMatch(
      start.stdout,
      /^Recorder "mem" is recording \(memory mode, module stap_fr_mem, prebuilt .*stap_fr_mem\.ko/,
    );
    const status = await world.json(["status", "mem"]);
    assertEquals([status.state, status.prebuilt, status.module_file, status.capacity], [
      "recording",
      true,
      ko,
      2 * 1024 * 1024,
    ]);
    assertMatch(await world.ok(["status", "mem"]), /^prebuilt\s+.*\/mods\/stap_fr_mem\.ko$/m);
    const list = await world.json<{ recorders: Record<string, unknown>[] }>(["list"]);
    assertEquals(list.recorders.map((r) => [r.name, r.mode, r.state]), [["mem", "memory", "recording"]]);

    const first = ticks(await world.ok(["dump", "mem"]));
    const second = ticks(await world.ok(["dump", "mem"]));
    assert(first.length > 0 && second.length > 0, `dumps: ${first.length}, ${second.length}`);
    assert(second[0] > first[first.length - 1], "the second dump repeats nothing");

    const stop = await world.run(["stop", "mem"]);
    assertEquals(stop.code, 0, stop.stderr);
    assertMatch(stop.stdout, /^end after \d+$/m);
    await assertNothingLeft(world, "after stop");
  } finally {
    await world.cleanup();
  }
});

Deno.test("prebuilt file recorder: build --bulk, start --module --output --rotate, dump, tail, stop", async () => {
  const world = await SimWorld.create({ STAPFR_SIM_RATE: "2000" });
  try {
    const mods = `${world.root}/mods`;
    const chunk = "0123456789".repeat(40);
    const script =
      `global n probe timer.ms(2) { n++; printf("%08d ${chunk}\\n", n) } probe end { printf("END %d\\n", n) }`;
    const built = await world.json<{ description: { bulk: boolean } }>([
      "build",
      "rot",
      "-e",
      script,
      "--bulk",
      "--out-dir",
      mods,
    ]);
    assertEquals(built.description.bulk, true);
    const out = `${world.root}/out`;
    const started = await world.json([
      "start",
      "rot",
      "--module",
      `${mods}/stap_fr_rot.ko`,
      "--output",
      out,
      "--rotate",
      "64K,2",
    ]);
    assertEquals([started.mode, started.state, started.bulk, started.prebuilt], [
      "file",
      "recording",
      true,
      true,
    ]);
    const runDir = started.run_dir as string;
    assert(runDir.startsWith(`${out}/rot-`), runDir);
    const deadline = Date.now() + 60_000;
    while (
      !(await Array.fromAsync(Deno.readDir(runDir))).some((e) =>
        /^rot\.out_cpu\d\.([2-9]|\d{2,})$/.test(e.name)
      )
    ) {
      assert(Date.now() < deadline, "no rotation within 60 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    const dump = [...(await world.ok(["dump", "rot"])).matchAll(/^(\d{8}) /gm)].map((m) => Number(m[1]));
    assert(dump.length > 10, `${dump.length} lines`);
    assert(dump.every((x, i) => i === 0 || x > dump[i - 1]), "merged by sequence number");
    assert(dump[0] > 1, "rotation deleted the oldest files");
    const tail = (await world.ok(["tail", "rot", "-n", "3"])).trimEnd().split("\n");
    assertEquals(tail.length, 3);
    const stop = await world.run(["stop", "rot"]);
    assertEquals(stop.code, 0, stop.stderr);
    assertMatch(stop.stdout, /^END \d+$/m);
    await assertNothingLeft(world, "after stop");
  } finally {
    await world.cleanup();
  }
});

Deno.test("start --module refuses, with one line and nothing loaded or registered", async () => {
  const world = await SimWorld.create();
  try {
    const mods = `${world.root}/mods`;
    await world.ok(["build", "mem", "-e", SCRIPT, "--no-bulk", "--out-dir", mods]);
    await world.ok(["build", "bulky", "-e", SCRIPT, "--out-dir", mods]);
    await world.ok(["build", "other", "-e", SCRIPT, "--kernel", "6.12.9-other", "--out-dir", mods]);
    const mem = `${mods}/stap_fr_mem.ko`;

    // Built for another kernel.
    assertRefused(
      await world.run(["start", "other", "--module", `${mods}/stap_fr_other.ko`]),
      1,
      /Module ".*stap_fr_other\.ko" was built for kernel "6\.12\.9-other", but this machine runs "6\.1\.0-sim"$/,
    );
    // The same module is fine where the simulated kernel is that release.
    const there = await world.run(["start", "other", "--module", `${mods}/stap_fr_other.ko`], {
      STAPFR_SIM_RELEASE: "6.12.9-other",
    });
    assertEquals(there.code, 0, there.stderr);
    assertEquals(
      (await world.run(["stop", "other", "--discard"], { STAPFR_SIM_RELEASE: "6.12.9-other" })).code,
      0,
    );
    await assertNothingLeft(world, "after the other kernel's recorder");

    // A file name that is not stap_fr_NAME.ko (usage error).
    assertRefused(
      await world.run(["start", "io", "--module", mem]),
      2,
      /Module file ".*stap_fr_mem\.ko" is not named "stap_fr_io\.ko"/,
    );
    // Renamed after the build: the file name fits, the module inside does not.
    await Deno.copyFile(mem, `${mods}/stap_fr_io.ko`);
    assertRefused(
      await world.run(["start", "io", "--module", `${mods}/stap_fr_io.ko`]),
      1,
      /holds module "stap_fr_mem", not "stap_fr_io"/,
    );
    // Not a kernel module: a text file, and the old JSON-only simulated module.
    await Deno.writeTextFile(`${mods}/stap_fr_txt.ko`, '{"stapfr-sim-module":1,"name":"stap_fr_txt"}\n');
    assertRefused(
      await world.run(["start", "txt", "--module", `${mods}/stap_fr_txt.ko`]),
      1,
      /is not a kernel module \(not an ELF file\)$/,
    );
    assertRefused(
      await world.run(["start", "gone", "--module", `${mods}/stap_fr_gone.ko`]),
      1,
      /Cannot read module ".*stap_fr_gone\.ko": no such file$/,
    );
    // A non-bulk module asked to rotate on 2 CPUs.
    assertRefused(
      await world.run(["start", "mem", "--module", mem, "--output", `${world.root}/out`, "--rotate", "1M,2"]),
      1,
      /was built without --bulk: rotating its output on 2 CPUs would let the CPUs overwrite each other's files$/,
    );
    // Usage: a script and a module, STAP_ARGS or --bulk with a module.
    assertRefused(await world.run(["start", "mem", "-e", SCRIPT, "--module", mem]), 2, /not more than one/);
    assertRefused(await world.run(["start", "mem", "--module", mem, "--", "-g"]), 2, /takes no STAP_ARGS/);
    assertRefused(
      await world.run(["start", "mem", "--module", mem, "--output", "x", "--bulk"]),
      2,
      /compiled into a prebuilt module/,
    );
    await assertNothingLeft(world, "after the refusals");
    assertEquals(
      await Array.fromAsync(Deno.readDir(world.root)).then((e) => e.some((x) => x.name === "out")),
      false,
    );

    // On one CPU a non-bulk module may rotate (nothing to clobber).
    const one = await world.run(
      ["start", "mem", "--module", mem, "--output", `${world.root}/out1`, "--rotate", "1M,2"],
      { STAPFR_SIM_CPUS: "1" },
    );
    assertEquals(one.code, 0, one.stderr);
    assertEquals((await world.run(["stop", "mem", "--discard"], { STAPFR_SIM_CPUS: "1" })).code, 0);
  } finally {
    await world.cleanup();
  }
});

Deno.test("build refuses what it cannot build and writes nothing", async () => {
  const world = await SimWorld.create();
  try {
    const mods = `${world.root}/mods`;
    const bad = await world.run(["build", "bad", "-e", "probe nosuch.point { }", "--out-dir", mods]);
    assertEquals(bad.code, 1, bad.stderr);
    assertMatch(bad.stderr, /^stapfr: Cannot build recorder "bad": the script does not compile/);
    assertEquals(await Array.fromAsync(Deno.readDir(mods)), []);
    assertRefused(await world.run(["build", "x"]), 2, /Missing script/);
    // STAP_ARGS that would change what build does: -p5 would load the module on the build host.
    assertRefused(
      await world.run(["build", "x", "-e", SCRIPT, "--out-dir", mods, "--", "-gp5"]),
      2,
      /STAP_ARGS may not hold "-p": build sets the last pass/,
    );
    assertRefused(await world.run(["build", "x", "-e", SCRIPT, "--", "-m", "y"]), 2, /may not hold "-m"/);
    assertEquals(await Array.fromAsync(Deno.readDir(mods)), []);
    assertEquals(await world.modules(), {});
    assertRefused(await world.run(["build", "Bad-Name", "-e", SCRIPT]), 2, /name/i);
    assertRefused(
      await world.run(["build", "x", "-e", SCRIPT, "--kernel", "6.1 evil"]),
      2,
      /Invalid kernel release/,
    );
  } finally {
    await world.cleanup();
  }
});

Deno.test("the simulated stap and staprun: -r writes the release into vermagic, staprun refuses another kernel", async () => {
  const world = await SimWorld.create();
  try {
    const p4 = await world.run(
      ["sim", "stap", "-p4", "-r", "6.12.9-other", "-m", "stap_fr_k", "-e", SCRIPT],
      {},
      world.root,
    );
    assertEquals([p4.code, p4.stdout], [0, "stap_fr_k.ko\n"], p4.stderr);
    assertEquals((await readModuleInfo(`${world.root}/stap_fr_k.ko`)).release, "6.12.9-other");
    const load = await world.run(["sim", "staprun", "-L", `${world.root}/stap_fr_k.ko`]);
    assertEquals([load.code, load.stderr], [
      1,
      `ERROR: Couldn't insert module '${world.root}/stap_fr_k.ko': Invalid module format\n`,
    ]);
    assertEquals(await world.modules(), {});
    // -r may name a build tree: its include/config/kernel.release says the release, as for stap.
    const tree = `${world.root}/tree`;
    await Deno.mkdir(`${tree}/include/config`, { recursive: true });
    await Deno.writeTextFile(`${tree}/include/config/kernel.release`, "6.1.0-57-amd64\n");
    const fromTree = await world.run(
      ["sim", "stap", "-p4", "-r", tree, "-m", "stap_fr_t", "-e", SCRIPT],
      {},
      world.root,
    );
    assertEquals(fromTree.code, 0, fromTree.stderr);
    assertEquals((await readModuleInfo(`${world.root}/stap_fr_t.ko`)).release, "6.1.0-57-amd64");
    const noTree = await world.run(
      ["sim", "stap", "-p4", "-r", `${world.root}/none`, "-e", SCRIPT],
      {},
      world.root,
    );
    assertEquals([noTree.code, noTree.stderr], [
      1,
      `Checking "${world.root}/none/.config" failed with error: No such file or directory\n`,
    ]);
    // Without -p4, stap 4.8 stops after pass 4 for a kernel that is not the running one.
    const p5 = await world.run(
      ["sim", "stap", "-r", "6.12.9-other", "-m", "stap_fr_k5", "-e", SCRIPT],
      {},
      world.root,
    );
    assertEquals(p5.code, 0);
    assertMatch(p5.stderr, /kernel release\/architecture mismatch with host forces last-pass 4/);
    assertEquals(await world.modules(), {});
  } finally {
    await world.cleanup();
  }
});
