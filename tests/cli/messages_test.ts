/**
 * The messages a user meets through the command line: environment knobs checked at startup, `--json` errors,
 * values that are wrong (not "takes no value"), output paths explained, stapfr's explanation before
 * SystemTap's raw lines, and a dump that never throws away what it drained.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { runCli } from "../support/stapfr.ts";
import { SimWorld } from "../support/sim_world.ts";

const SCRIPT = 'probe timer.ms(10) { printf("x\\n") }';
// A fixed amount of data, printed once: a ring drained by mistake cannot refill.
const ONCE = 'probe begin { for (i = 0; i < 200; i++) printf("line %d\\n", i) }';

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

async function until(what: string, ok: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("a bad environment knob is a usage error at startup, whatever the command, and changes nothing", async () => {
  const world = await SimWorld.create();
  try {
    const cases: [string, string, string[]][] = [
      ["STAPFR_IDLE_MS", "abc", ["list"]],
      ["STAPFR_SIGNAL_WAIT_MS", "-1", ["gc"]],
      ["STAPFR_SIM_CPUS", "0", ["list"]],
      ["STAPFR_SIM_RATE", "fast", ["start", "r1", "-e", SCRIPT]],
      ["STAPFR_SIM_SEED", "1.5", ["start", "r1", "-e", SCRIPT]],
      ["STAPFR_SIM_SEQ_WAIT_MS", "soon", ["status", "r1"]],
      ["STAPFR_SIM", "yes", ["list"]],
    ];
    for (const [name, value, args] of cases) {
      const r = await world.run(args, { [name]: value });
      assertEquals(r.code, 2, `${name}=${value}: ${r.stderr}`);
      assertEquals(lines(r.stderr).length, 1, r.stderr);
      assertMatch(
        r.stderr,
        new RegExp(`^stapfr: Invalid ${name} "${value.replace(".", "\\.")}": expected .+\n$`),
      );
    }
    assertEquals(await world.modules(), {});
    assertEquals((await world.json<{ recorders: unknown[] }>(["list"])).recorders, []);
  } finally {
    await world.cleanup();
  }
});

Deno.test("a bad simulator knob is refused on the real host too (it is read at startup)", async () => {
  const state = await Deno.makeTempDir();
  try {
    const r = await runCli(["--state-dir", state, "list"], { env: { STAPFR_SIM_CPUS: "many" } });
    assertEquals(r.code, 2, r.stderr);
    assertMatch(
      r.stderr,
      /^stapfr: Invalid STAPFR_SIM_CPUS "many": expected a whole number from 1 to 1024\n$/,
    );
  } finally {
    await Deno.remove(state, { recursive: true });
  }
});

Deno.test("STAPFR_SIM_SEED=0 and STAPFR_SIM_RATE=0 mean the same to the engine and to the stand-ins", async () => {
  const world = await SimWorld.create({ STAPFR_SIM_SEED: "0", STAPFR_SIM_RATE: "0" });
  try {
    const started = await world.json(["start", "r1", "-e", SCRIPT, "--buffer", "64K"]);
    assertEquals(started.state, "recording");
  } finally {
    await world.cleanup();
  }
});

Deno.test("--json errors: a JSON error object on stdout and the human line on stderr", async () => {
  const world = await SimWorld.create();
  try {
    const cases: [string[], Record<string, string>, number, RegExp, RegExp | null][] = [
      [["--json", "status", "nosuch"], {}, 1, /"nosuch"/, /./],
      [
        ["--json", "start", "r1", "--buffer", "lots", "-e", SCRIPT],
        {},
        2,
        /buffer size "lots"/,
        /^Usage: stapfr start /,
      ],
      [["--json", "--bogus", "list"], {}, 2, /Unknown option "--bogus"/, /^Usage: stapfr /],
      [["--json", "list"], { STAPFR_IDLE_MS: "0" }, 2, /STAPFR_IDLE_MS "0"/, null],
    ];
    for (const [args, env, code, message, hint] of cases) {
      const r = await world.run(args, env);
      assertEquals(r.code, code, r.stderr);
      const doc = JSON.parse(r.stdout);
      assertEquals(Object.keys(doc), ["error"]);
      assertEquals(doc.error.exit_code, code);
      assertMatch(doc.error.message, message);
      if (hint) assertMatch(doc.error.hint, hint);
      else assertEquals(doc.error.hint, null);
      assertStringIncludes(r.stderr, `stapfr: ${doc.error.message}`);
    }
  } finally {
    await world.cleanup();
  }
});

Deno.test("a wrong value is called wrong, not a flag that takes no value", async () => {
  const world = await SimWorld.create();
  try {
    const buffer = await world.run(["start", "r1", "--buffer", "-1", "-e", SCRIPT]);
    assertEquals(buffer.code, 2);
    assertMatch(buffer.stderr, /^stapfr: Invalid buffer size "-1": a size cannot be negative\n/);
    const tail = await world.run(["tail", "r1", "-n", "-5"]);
    assertEquals(tail.code, 2);
    assertMatch(tail.stderr, /^stapfr: Invalid line count "-5": /);
    const missing = await world.run(["start", "r1", "--output", "--bulk", "-e", SCRIPT]);
    assertEquals(missing.code, 2);
    assertMatch(missing.stderr, /^stapfr: Missing value for "--output"/);
  } finally {
    await world.cleanup();
  }
});

Deno.test("start --output: an empty or unusable path is refused with a reason and a hint, nothing loaded", async () => {
  const world = await SimWorld.create();
  try {
    const empty = await world.run(["start", "r1", "-e", SCRIPT, "--output", ""]);
    assertEquals(empty.code, 2, empty.stderr);
    // std's parseArgs takes an empty value for none.
    assertMatch(empty.stderr, /^stapfr: Missing value for "--output"/);
    const file = `${world.root}/plain`;
    await Deno.writeTextFile(file, "not a directory\n");
    for (const path of [file, `${file}/sub`]) {
      const r = await world.run(["start", "r1", "-e", SCRIPT, "--output", path]);
      assertEquals(r.code, 1, r.stderr);
      const [first, hint, ...more] = lines(r.stderr);
      assertMatch(first, /^stapfr: Cannot write into ".+": ".+\/plain" is not a directory$/);
      assert(hint && !hint.startsWith("stapfr:") && !/os error/.test(r.stderr), r.stderr);
      assertEquals(more, []);
    }
    const absent = await world.run(["start", "r1", "-e", SCRIPT, "--output", `${world.root}/no/such/dir`]);
    assertEquals(absent.code, 1, absent.stderr);
    assertMatch(
      absent.stderr,
      /^stapfr: Cannot write into ".+\/no\/such\/dir": directory ".+\/no\/such" does not exist\n/,
    );
    assertEquals(await world.modules(), {});
    assertEquals((await world.json<{ recorders: unknown[] }>(["list"])).recorders, []);
  } finally {
    await world.cleanup();
  }
});

Deno.test("dump -o: a bad target is refused before attaching, so nothing is drained", async () => {
  // Long enough for the simulated staprun to start on a loaded machine before the dump counts it idle.
  const world = await SimWorld.create({ STAPFR_IDLE_MS: "2500" });
  try {
    await world.ok(["start", "r1", "-e", ONCE, "--buffer", "64K"]);
    const dir = `${world.root}/adir`;
    await Deno.mkdir(dir);
    const existing = `${world.root}/existing`;
    await Deno.writeTextFile(existing, "mine\n");
    const cases: [string, number, RegExp][] = [
      ["", 2, /^stapfr: Missing value for "--output"/],
      [dir, 1, /^stapfr: Cannot write ".+\/adir": it is a directory\n/],
      [existing, 1, /^stapfr: Cannot write ".+\/existing": the file already exists\n/],
      [
        `${world.root}/none/f`,
        1,
        /^stapfr: Cannot write ".+\/none\/f": directory ".+\/none" does not exist\n/,
      ],
      [`${existing}/f`, 1, /^stapfr: Cannot write ".+\/existing\/f": ".+\/existing" is not a directory\n/],
    ];
    for (const [path, code, message] of cases) {
      const r = await world.run(["dump", "r1", "-o", path]);
      assertEquals(r.code, code, `${path}: ${r.stderr}`);
      assertMatch(r.stderr, message);
      assert(!/os error/.test(r.stderr), r.stderr);
    }
    assertEquals(await Deno.readTextFile(existing), "mine\n");
    // Every line is still in the ring: none of the refused dumps attached.
    const all = lines(await world.ok(["dump", "r1"]));
    assertEquals(all.length, 200);
    assertEquals(all.at(-1), "line 199");
  } finally {
    await world.cleanup();
  }
});

Deno.test("dump -o FILE keeps what it drained when FILE appears meanwhile, under a name it reports", async () => {
  const world = await SimWorld.create({ STAPFR_IDLE_MS: "1500" });
  let dumper: Deno.ChildProcess | undefined;
  let finished: Promise<Deno.CommandOutput> | undefined;
  try {
    await world.ok(["start", "r1", "-e", ONCE, "--buffer", "64K"]);
    const target = `${world.root}/out.txt`;
    dumper = new Deno.Command(world.argv([])[0], {
      args: [...world.argv(["dump", "r1", "-o", target]).slice(1)],
      env: world.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    finished = dumper.output();
    // The temporary file exists once the target was checked; the file appears while the dump reads.
    await until("the temporary file", async () => {
      for await (const e of Deno.readDir(world.root)) if (e.name.startsWith(".out.txt.")) return true;
      return false;
    });
    await Deno.writeTextFile(target, "someone else's\n");
    const out = await finished;
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 1, stderr);
    assertEquals(await Deno.readTextFile(target), "someone else's\n");
    const kept =
      /^stapfr: Output file ".+\/out\.txt" appeared while dumping; the \d+ bytes read are in "(.+)"$/m
        .exec(stderr);
    assert(kept, stderr);
    assert(!/os error/.test(stderr), stderr);
    const data = lines(await Deno.readTextFile(kept[1]));
    assertEquals([data.length, data.at(-1)], [200, "line 199"]);
    assertEquals((await Deno.stat(kept[1])).mode! & 0o777, 0o600);
  } finally {
    try {
      dumper?.kill("SIGKILL");
    } catch {
      // It has ended.
    }
    await finished?.catch(() => {});
    await world.cleanup();
  }
});

Deno.test("a failed read prints stapfr's explanation first, SystemTap's lines once, after it, and no -v hint", async () => {
  // Long enough for the simulated staprun to start on a loaded machine before the dump counts it idle.
  const world = await SimWorld.create({ STAPFR_IDLE_MS: "2500" });
  try {
    await world.ok(["start", "r1", "-e", 'probe begin { error("boom") }', "--buffer", "64K"]);
    const r = await world.run(["dump", "r1"]);
    assertEquals(r.code, 1, r.stderr);
    const [first, ...rest] = lines(r.stderr);
    assertMatch(first, /^stapfr: Cannot attach to recorder "r1": /);
    assertEquals(rest.filter((l) => l.includes("ERROR: boom")), ["  | ERROR: boom"]);
    assert(!r.stderr.includes("-v after"), r.stderr);
  } finally {
    await world.cleanup();
  }
});

Deno.test("--json: an interrupted command prints the JSON error object too", async () => {
  const world = await SimWorld.create();
  const child = world.spawn(["--json", "start", "r1", "-e", SCRIPT, "--buffer", "64K"]);
  const output = child.output();
  try {
    // The build directory is made just before stap runs: interrupt the start while stap works.
    await until("the start to run stap", async () => {
      try {
        return (await Deno.stat(`${world.stateDir}/build/r1`)).isDirectory;
      } catch {
        return false;
      }
    });
    child.kill("SIGINT");
    const out = await output;
    const doc = JSON.parse(new TextDecoder().decode(out.stdout));
    assertEquals([out.code, doc.error.exit_code, doc.error.message], [130, 130, "Interrupted"]);
    assertMatch(new TextDecoder().decode(out.stderr), /^stapfr: Interrupted$/m);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // It has ended.
    }
    await output.catch(() => {});
    await world.cleanup();
  }
});
