/**
 * End to end on the simulator: `stapfr unit` writes a unit that `systemd-analyze verify` accepts, whose command
 * lines systemd reads back as the arguments meant (a script full of quotes, `$`, `%`, backslashes and a
 * newline among them), and whose start line starts the recorder and then adopts it; `--install` writes 0644
 * and never replaces a different unit without `--force`.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { readAll, readUntil, SimWorld } from "../support/sim_world.ts";
import {
  analyzeVerify,
  parseExecLine,
  substituteEnv,
  systemdReading,
  unitSettings,
} from "../support/systemd_unit.ts";

// Everything systemd's command-line syntax treats specially, in a script the simulator runs.
const NASTY = `# it's "nasty": $HOME \${USER} %n %% \\ back\\slash ; \`tick\` 100%
global n
probe timer.ms(20) { n++; printf("tick %d $HOME \${USER} \\"q\\" 'x' 100%%\\t%s\\n", n, "%n") }
`;
const PRINTED = /tick \d+ \$HOME \$\{USER\} "q" 'x' 100%\t%n\n/;

/** A world-readable directory (systemd's test mode reads it as nobody) holding the unit. */
async function writeUnit(text: string, name: string): Promise<{ dir: string; file: string }> {
  const dir = await Deno.makeTempDir({ prefix: "stapfr-unit-" });
  await Deno.chmod(dir, 0o755);
  const file = `${dir}/stapfr-${name}.service`;
  await Deno.writeTextFile(file, text);
  await Deno.chmod(file, 0o644);
  return { dir, file };
}

/** A unit's command line as systemd runs it: its argv, only the unit's environment plus what deno needs. */
function lineCommand(argv: string[], unitEnv: Record<string, string>, world: SimWorld): Deno.Command {
  const env: Record<string, string> = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  for (const k of ["HOME", "DENO_DIR"]) if (Deno.env.get(k)) env[k] = Deno.env.get(k)!;
  // The simulator's test tuning, but not where its state and root are: the unit must say those itself.
  for (const [k, v] of Object.entries(world.env)) {
    if (k !== "STAPFR_STATE_DIR" && k !== "STAPFR_SIM_ROOT") env[k] = v;
  }
  return new Deno.Command(argv[0], {
    args: argv.slice(1).map((w) => substituteEnv(w, unitEnv)),
    env: { ...env, ...unitEnv },
    clearEnv: true,
    cwd: "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function runLine(argv: string[], unitEnv: Record<string, string>, world: SimWorld) {
  const out = await lineCommand(argv, unitEnv, world).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("the unit verifies, systemd reads its lines as meant; start starts then adopts, stop snapshots then stops", async () => {
  const world = await SimWorld.create();
  let dir: string | undefined;
  let watcher: Deno.ChildProcess | undefined;
  try {
    const text = await world.ok([
      "unit",
      "nasty",
      "-e",
      NASTY,
      "--buffer",
      "64K",
      "--cooldown",
      "5m",
      "--on",
      "signal",
    ]);
    const unit = await writeUnit(text, "nasty");
    dir = unit.dir;
    const verify = await analyzeVerify(unit.file);
    if (typeof verify === "string") console.warn(`skipping systemd-analyze verify: ${verify}`);
    else assertEquals(verify, { code: 0, output: "" }, "systemd-analyze verify complains");

    const settings = unitSettings(text);
    assertEquals(settings.Type, ["simple"]);
    assertEquals(settings.KillMode, ["process"]);
    assertEquals(settings.Restart, ["on-failure"]);
    assertEquals(settings.WantedBy, ["multi-user.target"]);
    assertEquals(settings.Description, ["stapfr flight recorder nasty (inline script)"]);
    const pre = parseExecLine(settings.ExecStartPre[0]);
    const main = parseExecLine(settings.ExecStart[0]);
    const environment = Object.fromEntries(
      settings.Environment.flatMap(parseExecLine).map((
        kv,
      ) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
    assertEquals(environment, { STAPFR_SIM_ROOT: world.root });

    // systemd's own reading of the same file, where it can run here.
    const reading = await systemdReading(unit.dir, "stapfr-nasty.service");
    if (typeof reading === "string") console.warn(`skipping systemd's own reading: ${reading}`);
    else {
      assertEquals(reading.exec.ExecStartPre, [pre]);
      assertEquals(reading.exec.ExecStart, [main]);
      assertEquals(reading.environment, [`STAPFR_SIM_ROOT=${world.root}`]);
      assertEquals(reading.mounts, [world.stateDir]);
    }

    // What the lines say, after systemd's $ substitution: the script word for word, the pinned state.
    const startArgv = pre.map((w) => substituteEnv(w));
    const cli = startArgv.indexOf("--sim");
    assert(cli > 0 && startArgv[0].startsWith("/"), startArgv.join(" "));
    assertEquals(startArgv.slice(cli), [
      "--sim",
      "--state-dir",
      world.stateDir,
      "start",
      "nasty",
      "-e",
      NASTY,
      "--buffer",
      "64K",
      "--adopt",
    ]);
    assertEquals(main.slice(cli), [
      "--sim",
      "--state-dir",
      world.stateDir,
      "watch",
      "nasty",
      "--service",
      "--cooldown",
      "5m",
      "--on",
      "signal",
    ]);

    // The start line, run as systemd runs it: starts the recorder with exactly that script.
    const first = await runLine(pre, environment, world);
    assertEquals(first.code, 0, first.stderr);
    assertMatch(first.stdout, /^Recorder "nasty" is recording/);
    const record = JSON.parse(await Deno.readTextFile(`${world.stateDir}/nasty.json`));
    assertEquals(record.script, NASTY);
    const host = await world.hostPid("stap_fr_nasty");
    // Run again (the watcher restarted): adopts the recorder, loads nothing.
    const again = await runLine(pre, environment, world);
    assertEquals(again.code, 0, again.stderr);
    assertMatch(again.stdout, /^Recorder "nasty" was already recording: adopted it/);
    assertEquals(await world.hostPid("stap_fr_nasty"), host);
    assertEquals(await world.modules(), { stap_fr_nasty: 0 });
    // And it records what the script prints, $ and % untouched.
    let dump = "";
    for (let i = 0; i < 20 && !PRINTED.test(dump); i++) dump += await world.ok(["dump", "nasty"]);
    assertMatch(dump, PRINTED);

    // The watch line: the watcher runs in service mode; systemd's stop (SIGTERM to it alone, KillMode=process)
    // takes a final snapshot and then stops the recorder.
    watcher = lineCommand(main, environment, world).spawn();
    const stdout = readAll(watcher.stdout);
    const started = await readUntil(watcher.stderr, (t) => / watch started /.test(t));
    const reader = started.reader;
    assertMatch(started.text, / watch started /);
    watcher.kill("SIGTERM");
    let log = started.text;
    const dec = new TextDecoder();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      log += dec.decode(r.value, { stream: true });
    }
    const status = await watcher.status;
    await stdout;
    assertEquals(status.code, 0, log);
    const snaps = await world.json<{ snapshots: { reason: string | null; trigger: string }[] }>([
      "snapshots",
      "nasty",
    ]);
    assertEquals(snaps.snapshots.map((x) => [x.reason, x.trigger]), [["service stop", "service"]]);
    assertEquals(
      (await world.json<{ recorders: unknown[] }>(["list"])).recorders,
      [],
      "the recorder is stopped",
    );
    // Started again, the unit starts a new recorder (nothing to adopt).
    const fresh = await runLine(pre, environment, world);
    assertEquals(fresh.code, 0, fresh.stderr);
    assertMatch(fresh.stdout, /^Recorder "nasty" is recording/);
  } finally {
    if (dir) await Deno.remove(dir, { recursive: true });
    // A watcher a failed assertion left running.
    try {
      watcher?.kill("SIGKILL");
    } catch { /* it has exited */ }
    await watcher?.status;
    await world.cleanup();
  }
});

Deno.test("unit: file mode, paths made absolute, stap arguments and an exit-status trigger", async () => {
  const world = await SimWorld.create();
  try {
    // The world's own scratch directory (tests/support/sim_world.ts makes it).
    const cwd = world.work;
    await Deno.writeTextFile(`${cwd}/io.stp`, 'probe timer.ms(50) { printf("x\\n") }\n');
    const r = await world.run(
      [
        "unit",
        "io",
        "io.stp",
        "--output",
        "out dir",
        "--rotate",
        "1M,3",
        "--on",
        "log",
        "app.log",
        "ERROR [0-9]+$",
        "--on",
        "exit-status",
        "--interval",
        "10s",
        "--",
        "/usr/bin/curl",
        "-fsS",
        "http://localhost/health",
      ],
      {},
      cwd,
    );
    assertEquals(r.code, 0, r.stderr);
    const s = unitSettings(r.stdout);
    const pre = parseExecLine(s.ExecStartPre[0]).map((w) => substituteEnv(w));
    const main = parseExecLine(s.ExecStart[0]).map((w) => substituteEnv(w));
    const at = (argv: string[], word: string) => argv.slice(argv.indexOf(word));
    assertEquals(at(pre, "start"), [
      "start",
      "io",
      `${cwd}/io.stp`,
      "--output",
      `${cwd}/out dir`,
      "--rotate",
      "1M,3",
      "--adopt",
    ]);
    assertEquals(at(main, "watch"), [
      "watch",
      "io",
      "--service",
      "--on",
      "log",
      `${cwd}/app.log`,
      "ERROR [0-9]+$",
      "--on",
      "exit-status",
      "--interval",
      "10s",
      "--",
      "/usr/bin/curl",
      "-fsS",
      "http://localhost/health",
    ]);
    assertEquals(s.RequiresMountsFor.map((w) => parseExecLine(w)[0]), [world.stateDir, `${cwd}/out dir`]);
    assertEquals(s.Description, [`stapfr flight recorder io (script ${cwd}/io.stp)`]);
    const unit = await writeUnit(r.stdout, "io");
    try {
      const verify = await analyzeVerify(unit.file);
      if (typeof verify !== "string") assertEquals(verify, { code: 0, output: "" });
    } finally {
      await Deno.remove(unit.dir, { recursive: true });
    }
    // An exit-status trigger takes what follows "--" wherever it stands among the flags, as watch reads it.
    const first = unitSettings(
      await world.ok([
        "unit",
        "io",
        `${cwd}/io.stp`,
        "--on",
        "exit-status",
        "--cooldown",
        "5m",
        "--",
        "/bin/true",
      ]),
    );
    assertEquals(at(parseExecLine(first.ExecStart[0]), "watch"), [
      "watch",
      "io",
      "--service",
      "--on",
      "exit-status",
      "--cooldown",
      "5m",
      "--",
      "/bin/true",
    ]);
    assertEquals(at(parseExecLine(first.ExecStartPre[0]), "start").at(-1), "--adopt");
    // A prebuilt module instead of a script (a real one: unit gives it start's checks).
    await world.ok(["build", "m", "-e", 'probe timer.s(1) { printf("x\\n") }', "--out-dir", cwd]);
    const modRun = await world.run(["unit", "m", "--module", "stap_fr_m.ko"], {}, cwd);
    assertEquals(modRun.code, 0, modRun.stderr);
    const mod = unitSettings(modRun.stdout);
    assertEquals(at(parseExecLine(mod.ExecStartPre[0]), "start"), [
      "start",
      "m",
      "--module",
      `${cwd}/stap_fr_m.ko`,
      "--adopt",
    ]);
    assertEquals(mod.Description, [`stapfr flight recorder m (module ${cwd}/stap_fr_m.ko)`]);
    // Stap arguments follow -- on the start line when no exit-status trigger takes it.
    const withStap = unitSettings(
      await world.ok(["unit", "io", `${cwd}/io.stp`, "--", "-DMAXACTION=1", "a b"]),
    );
    assertEquals(at(parseExecLine(withStap.ExecStartPre[0]), "--adopt"), [
      "--adopt",
      "--",
      "-DMAXACTION=1",
      "a b",
    ]);
  } finally {
    await world.cleanup();
  }
});

Deno.test("unit --install writes 0644 under any umask, keeps an identical unit, refuses a different one without --force", async () => {
  const world = await SimWorld.create();
  const dir = `${world.root}/units`;
  await Deno.mkdir(dir);
  const file = `${dir}/stapfr-io.service`;
  // A fixed shell line (no input in it) that sets a strict umask and runs stapfr's argv as given.
  const underUmask = async (args: string[]) => {
    const argv = world.argv(args);
    const out = await new Deno.Command("sh", {
      args: ["-c", 'umask 077 && exec "$@"', "sh", ...argv],
      env: world.env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  };
  try {
    const printed = await world.ok(["unit", "io", "-e", "probe begin { }"]);
    const installed = await underUmask([
      "unit",
      "io",
      "-e",
      "probe begin { }",
      "--install",
      "--unit-dir",
      dir,
    ]);
    assertEquals(installed.code, 0, installed.stderr);
    assertEquals(
      installed.stdout,
      `Wrote "${file}"\nRun "systemctl daemon-reload", then "systemctl enable --now stapfr-io.service"\n`,
    );
    assertEquals(await Deno.readTextFile(file), printed);
    assertEquals((await Deno.stat(file)).mode! & 0o777, 0o644);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["stapfr-io.service"]);

    const same = await world.run(["unit", "io", "-e", "probe begin { }", "--install", "--unit-dir", dir]);
    assertEquals(same.code, 0);
    assertMatch(same.stdout, /^Unit ".*stapfr-io.service" is already up to date\n/);

    const other = await world.run(["unit", "io", "-e", "probe end { }", "--install", "--unit-dir", dir]);
    assertEquals(other.code, 1);
    assertEquals(
      other.stderr,
      `stapfr: Unit "${file}" already exists and differs\nGive "--force" to replace it (compare first with "systemctl cat")\n`,
    );
    assertEquals(await Deno.readTextFile(file), printed);

    const forced = await world.json<{ result: string }>([
      "unit",
      "io",
      "-e",
      "probe end { }",
      "--install",
      "--unit-dir",
      dir,
      "--force",
    ]);
    assertEquals(forced.result, "replaced");
    assertMatch(await Deno.readTextFile(file), /probe end \{ \}/);
  } finally {
    await world.cleanup();
  }
});

Deno.test("unit: bad input is one line and exit 2 (usage) or 1 (failure), and writes nothing", async () => {
  const world = await SimWorld.create();
  try {
    const cases: [string[], number, string][] = [
      [["unit"], 2, "Missing recorder name"],
      [["unit", "io"], 2, "Missing script: give SCRIPT_FILE, -e SCRIPT or --module FILE.ko"],
      [["unit", "io", "a.stp", "-e", "x"], 2, "Give one of SCRIPT_FILE, -e SCRIPT or --module FILE.ko"],
      [["unit", "io", "-e", "x", "--bogus"], 2, 'Unknown option "--bogus"'],
      [["unit", "io", "-e", "x", "--cooldown"], 2, 'Missing value for "--cooldown"'],
      [["unit", "io", "-e", "x", "--force"], 2, '"--force" needs "--install"'],
      [["unit", "io", "-e", "x", "--rotate", "1M"], 2, '"--rotate" needs "--output"'],
      [["unit", "io", "-e", "x", "--on", "log", "only-a-file"], 2, '"--on log" takes FILE REGEX'],
      [["unit", "io", "-e", "x", "--on", "bogus"], 2, 'Unknown trigger "bogus"'],
      [["unit", "Bad-Name", "-e", "x"], 2, "Invalid recorder name"],
      [["unit", "io", "/nonexistent/io.stp"], 1, 'Cannot read script "/nonexistent/io.stp"'],
      [["unit", "io", "-e", "x", "--install", "--unit-dir", `${world.root}/none`], 1, "Cannot write"],
    ];
    for (const [args, code, message] of cases) {
      const r = await world.run(args);
      assertEquals(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      assertEquals(r.stdout, "");
      assert(r.stderr.startsWith(`stapfr: ${message}`), `${args.join(" ")}: ${r.stderr}`);
      assertEquals(r.stderr.split("\n")[0].endsWith("."), false);
    }
  } finally {
    await world.cleanup();
  }
});
