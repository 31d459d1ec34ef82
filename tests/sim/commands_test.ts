/**
 * The stand-ins as commands: staprun's usage on stdout with its error on stderr (docs/systemtap-4.8.md 1.2, section 7),
 * stap's messages (1.3), lsmod's format, and the shims (`sim shims DIR`) putting a simulated SystemTap on PATH.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld, STANDIN_KNOBS } from "../support/sim_world.ts";

/** A world with the stand-in knobs, cleaned up after `fn`. */
function withWorld(fn: (w: SimWorld) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  return SimWorld.with(fn, { ...STANDIN_KNOBS, ...env });
}

Deno.test("1.2/7 staprun usage errors: ERROR on stderr, the 47-line usage on stdout, rc 1", async () => {
  await withWorld(async (world) => {
    const r = await world.sim(["staprun", "-A", "-L", "m"], { STAPFR_SIM_ARGV0: "/usr/bin/staprun" });
    assertEquals([r.code, r.stderr], [1, "ERROR: You can't specify the '-A' and '-L' options together.\n"]);
    assertEquals(r.stdout.split("\n").length - 1, 47);
    assertMatch(r.stdout, /^\n\/usr\/bin\/staprun \[-v\] \[-w\]/);
    const bad = await world.sim(["staprun", "-C", "bogus", "m"]);
    assertEquals([bad.code, bad.stderr], [1, "ERROR: Invalid option 'bogus' for -C."]);
    const help = await world.sim(["staprun", "-h"]);
    assertEquals([help.code, help.stdout.split("\n").length - 1, help.stderr], [0, 47, ""]);
    const missing = await world.sim(["staprun", "stap_nothere"]);
    assertEquals(missing.code, 1);
    assertMatch(
      missing.stderr,
      /^ERROR: Unable to canonicalize path "\/lib\/modules\/.*\/systemtap\/stap_nothere\.ko"/,
    );
  });
});

Deno.test("1.3 stap messages and exit codes; -p1/-p2 print what was parsed", async () => {
  await withWorld(async (world) => {
    const bad = await world.sim(["stap", "-p1", "-m", "Bad-Name", "-e", "probe begin {}"]);
    assertEquals([bad.code, bad.stderr], [
      1,
      "ERROR: Safety pattern mismatch for -m parameter ('Bad-Name' vs. '^[a-z0-9_]+$') rc=1\n",
    ]);
    const p1 = await world.sim([
      "stap",
      "-p1",
      "-e",
      "global n probe vfs.read { n++ } function f(x) { return x }",
    ]);
    assertEquals(p1.code, 0);
    assertEquals(p1.stdout.split("\n").slice(0, 2), ["# parse tree dump", "# file <input>"]);
    assert(p1.stdout.includes("probe vfs.read"));
    const p2 = await world.sim(["stap", "-p2", "-e", "probe vfs.read { }"]);
    assertEquals([p2.code, p2.stdout], [0, "# probes\nvfs.read /* <- vfs.read */\n"]);
    const parse = await world.sim(["stap", "-p1", "-e", "probe {"]);
    assertEquals(parse.code, 1);
    assert(parse.stderr.endsWith("Pass 1: parse failed.  [man error::pass1]\n"), parse.stderr);
    // stap does not check -S without -o: staprun does, and stap adds its pass-5 lines (2.7).
    const s = await world.sim(["stap", "-S", "1", "-e", "probe begin { exit() }"]);
    assertEquals(s.code, 1);
    assertEquals(
      s.stderr,
      "ERROR: You have to specify output FILE with '-S' option.\n" +
        "WARNING: /usr/bin/staprun exited with status: 1\nPass 5: run failed.  [man error::pass5]\n",
    );
  });
});

Deno.test("stap without -F runs in the foreground until exit(): begin, end, module gone", async () => {
  await withWorld(async (world) => {
    const r = await world.sim([
      "stap",
      "-e",
      'probe begin { printf("hello\\n"); exit() } probe end { printf("bye\\n") }',
    ]);
    assertEquals(r, { code: 0, stdout: "hello\nbye\n", stderr: "" });
    const lsmod = await world.sim(["lsmod"]);
    assertEquals(lsmod.stdout, "Module                  Size  Used by\n");
  });
});

Deno.test("lsmod lists a loaded module in lsmod's format", async () => {
  await withWorld(async (world) => {
    await world.sim(["stap", "-F", "-m", "stap_fr_ls", "-e", "probe vfs.read { }"]);
    const r = await world.sim(["lsmod"]);
    assertEquals(r.code, 0);
    assertMatch(r.stdout, /^Module {18}Size {2}Used by\nstap_fr_ls {10}[ \d]{8} {2}0\n$/);
  });
});

Deno.test("sim shims DIR: stap, staprun and lsmod on PATH run the simulator", async () => {
  await withWorld(async (world) => {
    const dir = `${world.work}/shim dir's`;
    const made = await world.sim(["shims", dir]);
    assertEquals(made.code, 0);
    for (const name of ["stap", "staprun", "lsmod"]) {
      assertEquals((Deno.statSync(`${dir}/${name}`).mode ?? 0) & 0o111, 0o111);
    }
    const env = { ...world.env, PATH: `${dir}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` };
    const run = async (cmd: string, args: string[]) => {
      const out = await new Deno.Command(cmd, {
        args,
        env,
        cwd: world.work,
        stdout: "piped",
        stderr: "piped",
      })
        .output();
      return {
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
      };
    };
    const start = await run("stap", ["-F", "-m", "stap_fr_shim", "-e", "probe vfs.read { }"]);
    assertEquals([start.code, start.stderr], [
      0,
      '\nDisconnecting from systemtap module.\nTo reconnect, type "staprun -A stap_fr_shim"\n',
    ]);
    assertMatch((await run("lsmod", [])).stdout, /\nstap_fr_shim /);
    assertEquals(await run("staprun", ["-d", "stap_fr_shim"]), { code: 0, stdout: "", stderr: "" });
  });
});

Deno.test("stap -p4 writes a simulated .ko; staprun -L loads it; EEXIST on a second load; -d unloads", async () => {
  await withWorld(async (world) => {
    const p4 = await world.sim([
      "stap",
      "-p4",
      "-m",
      "stap_fr_ko",
      "-e",
      'probe vfs.read { printf("r\\n") }',
    ]);
    assertEquals([p4.code, p4.stdout], [0, "stap_fr_ko.ko\n"]);
    const load = await world.sim(["staprun", "-L", "stap_fr_ko.ko"]);
    assertEquals([load.code, load.stderr], [
      0,
      '\nDisconnecting from systemtap module.\nTo reconnect, type "staprun -A stap_fr_ko"\n',
    ]);
    const again = await world.sim(["staprun", "-L", "stap_fr_ko.ko"]);
    assertEquals([again.code, again.stderr], [
      1,
      `ERROR: Couldn't insert module '${world.work}/stap_fr_ko.ko': File exists\n` +
      "ERROR: Rerun with staprun option '-R' to rename this module.\n",
    ]);
    const renamed = await world.sim(["staprun", "-L", "-R", "stap_fr_ko.ko"]);
    assertEquals(renamed.code, 0);
    // -R keeps the length: "stap_fr_ko" with pid 12345 becomes "stap_12345" (docs/systemtap-4.8.md 3).
    const name = /staprun -A (\S+)"\n$/.exec(renamed.stderr)![1];
    assertEquals(name.length, "stap_fr_ko".length);
    assertMatch(name, /^[a-z_]*_\d+$/);
    assertEquals((await world.sim(["staprun", "-d", "stap_fr_ko"])).code, 0);
    assertEquals((await world.sim(["staprun", "-d", name])).code, 0);
  });
});

Deno.test("stap runs a script file with positional arguments ($1, @2)", async () => {
  await withWorld(async (world) => {
    await Deno.writeTextFile(`${world.work}/x.stp`, 'probe begin { printf("%d %s\\n", $1, @2); exit() }\n');
    const r = await world.sim(["stap", "x.stp", "42", "hello"]);
    assertEquals(r, { code: 0, stdout: "42 hello\n", stderr: "" });
    const missing = await world.sim(["stap", "nosuch.stp"]);
    assertEquals(missing.code, 1);
  });
});
