/**
 * The one file alone, as a server gets it: the artifact (`STAPFR_BIN`, else the bundle built from this tree)
 * is copied into an empty directory as `stapfr` and run there, with a bare environment (no source tree, no
 * `deno.json`, an empty Deno cache, and `deno` on PATH only for the bundle, whose first line asks for it). It
 * starts a memory and a file recorder on the simulator, dumps, snapshots, stops them and runs the demo; the
 * simulator's own processes (module hosts, the stapio daemon, the shims) must be the artifact too, with
 * SIGUSR1 blocked.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { type ArtifactKind, artifactKind, buildBundle } from "../support/artifact.ts";
import { BUNDLE_ARGS } from "../../build/bundle.ts";
import { SimWorld } from "../support/sim_world.ts";
import { denoRunFlags, PERMISSIONS } from "../../lib/self.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const TICKS = 'global n probe timer.ms(10) { n++; printf("tick %d\\n", n) }';

/** The artifact under test, copied alone into a new empty directory. */
async function artifactAlone(scratch: string): Promise<{ dir: string; path: string; kind: ArtifactKind }> {
  let source = Deno.env.get("STAPFR_BIN");
  if (!source) {
    source = `${scratch}/stapfr.js`;
    await buildBundle(source);
  }
  const dir = await Deno.makeTempDir({ prefix: "stapfr-artifact-alone-" });
  const path = `${dir}/stapfr`;
  await Deno.copyFile(source, path);
  await Deno.chmod(path, 0o755);
  return { dir, path, kind: await artifactKind(path) };
}

/** Whether SIGUSR1 is blocked in a process (read through grep: Deno reads /proc/PID only with -A). */
async function usr1Blocked(pid: number): Promise<boolean> {
  const { stdout } = await new Deno.Command("grep", { args: ["^SigBlk:", `/proc/${pid}/status`] }).output();
  const mask = BigInt("0x" + new TextDecoder().decode(stdout).split(/\s+/)[1]);
  return (mask & (1n << 9n)) !== 0n;
}

async function commandLine(pid: number): Promise<string> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "args=", "-p", String(pid)] }).output();
  return new TextDecoder().decode(stdout).trim();
}

async function processesMentioning(text: string): Promise<string[]> {
  const out = await new Deno.Command("ps", { args: ["axww", "-o", "pid=,args="], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((line) => line.includes(text));
}

Deno.test("the artifact alone in an empty directory: start, dump, snapshot, stop and demo on the simulator", async () => {
  const world = await SimWorld.create();
  const { dir, path, kind } = await artifactAlone(world.work);
  const home = `${world.root}/home`;
  await Deno.mkdir(home);
  // Only what a server's shell would have: the bundle finds deno on PATH, the binary needs none.
  const env: Record<string, string> = {
    ...world.env,
    PATH: kind === "bundle" ? `${dirname(Deno.execPath())}:/usr/bin:/bin` : "/usr/bin:/bin",
    HOME: home,
    DENO_DIR: `${world.root}/deno-dir`,
  };
  const run = async (args: string[]) => {
    const out = await new Deno.Command(path, {
      args,
      cwd: dir,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  };
  const ok = async (args: string[]) => {
    const r = await run(args);
    assertEquals(r.code, 0, `stapfr ${args.join(" ")}: ${r.stderr}${r.stdout.slice(-2000)}`);
    return r.stdout;
  };
  try {
    const { version } = JSON.parse(await Deno.readTextFile(`${REPO}/deno.json`));
    assertEquals(await ok(["--version"]), `stapfr ${version}\n`);

    await ok(["--sim", "start", "mem", "-e", TICKS, "--buffer", "64K"]);
    await ok(["--sim", "start", "file", "-e", TICKS, "--output", world.work]);
    const list = JSON.parse(await ok(["--sim", "--json", "list"])).recorders;
    assertEquals(list.map((r: { name: string; state: string }) => `${r.name} ${r.state}`).sort(), [
      "file recording",
      "mem recording",
    ]);

    // The simulator's processes are the artifact again, never the source tree, and SIGUSR1 opens no port.
    const daemon = list.find((r: { name: string }) => r.name === "file").pid;
    const simProcesses = {
      "module host of mem": await world.hostPid("stap_fr_mem"),
      "module host of file": await world.hostPid("stap_fr_file"),
      "stapio daemon": daemon,
    };
    for (const [what, pid] of Object.entries(simProcesses)) {
      const args = await commandLine(pid);
      assertStringIncludes(args, path, what);
      assert(!args.includes(REPO), `${what} runs from the source tree: ${args}`);
      if (kind === "bundle") assertStringIncludes(args, "--no-config", what);
      assert(await usr1Blocked(pid), `${what}: SIGUSR1 blocked`);
    }

    assertMatch(await ok(["--sim", "dump", "mem"]), /^tick \d+$/m);
    assertMatch(await ok(["--sim", "dump", "file"]), /^tick \d+$/m);
    const manifest = JSON.parse(await ok(["--sim", "--json", "snapshot", "mem", "--reason", "alone"]));
    assertEquals(manifest.reason, "alone");
    assert(manifest.lines > 0, "the snapshot holds what came after the dump");
    assertMatch(await ok(["--sim", "snapshots", "show", `mem/${manifest.id}`, "--data"]), /^tick \d+$/m);

    // The shims and a systemd unit name the artifact too.
    const shims = `${world.work}/shims`;
    await ok(["sim", "shims", shims]);
    const lsmod = await new Deno.Command(`${shims}/lsmod`, { env, clearEnv: true, cwd: dir }).output();
    assertMatch(new TextDecoder().decode(lsmod.stdout), /^stap_fr_mem\s/m);
    const unit = await ok(["--sim", "unit", "svc", "-e", TICKS]);
    const execStart = unit.split("\n").find((l) => l.startsWith("ExecStart="))!;
    assertStringIncludes(execStart, path);
    assert(!execStart.includes(REPO), execStart);

    assertMatch(await ok(["--sim", "stop", "mem"]), /^tick \d+$/m);
    await ok(["--sim", "stop", "file"]);
    assertEquals(JSON.parse(await ok(["--sim", "--json", "list"])).recorders, []);

    const demo = JSON.parse(await ok(["--json", "demo"]));
    assert(demo.memory.dump1_lines > 0 && demo.memory.dump2_lines > 0, JSON.stringify(demo));
    assertEquals([demo.memory.stop_last_line, demo.file.stop_last_line], ["exited", "exited"]);

    assertEquals(
      (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name),
      ["stapfr"],
      "nothing beside it",
    );
    assertEquals(await processesMentioning(path), [], "nothing of the artifact left running");
  } finally {
    await world.cleanup();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("both artifacts run with the permissions of lib/self.ts; the binary is the bundle plus the runtime", async () => {
  // The bundle's first line (cli.ts's, which deno bundle keeps) is how a server and the tests run it.
  const firstLine = (await Deno.readTextFile(`${REPO}/cli.ts`)).split("\n")[0];
  assertEquals(
    firstLine,
    `#!/usr/bin/env -S deno ${[...denoRunFlags("bundle"), ...PERMISSIONS].join(" ")}`,
  );
  const { tasks } = JSON.parse(await Deno.readTextFile(`${REPO}/deno.json`));
  // The tests build the bundle as the task does (build/bundle.ts): it leaves the S3 client out (loaded from npm
  // when a command ships) and ends executable.
  assertEquals(BUNDLE_ARGS.slice(0, 4), ["bundle", "--quiet", "--external", "npm:@aws-sdk/*"]);
  assertStringIncludes(tasks.bundle.command, "build/bundle.ts dist/stapfr.js");
  for (const name of ["compile", "compile:linux-x86_64", "compile:linux-aarch64"]) {
    const words: string[] = tasks[name].command.split(" ");
    assertEquals(tasks[name].dependencies, ["bundle"], name);
    assertEquals(words.filter((w) => w.startsWith("--allow")), [...PERMISSIONS], name);
    assertEquals(words.at(-1), "dist/stapfr.js", name);
  }
});

Deno.test("the bundle imports nothing at start-up: every node: or npm: module loads with the code that uses it", async () => {
  // esbuild hoists a static import of an external module (node:…) to the top of the bundle, where it loads at
  // every start-up whichever command runs; Deno's Node layer costs more than `stapfr list` itself.
  const dir = await Deno.makeTempDir({ prefix: "stapfr-bundle-imports-" });
  try {
    await buildBundle(`${dir}/stapfr.js`);
    const text = await Deno.readTextFile(`${dir}/stapfr.js`);
    // Minified, a statement may follow another on the same line (`…;import{a as b}from"node:fs"`).
    const staticImport = /(?:^|[;}])\s*(?:import(?=[\s{*"'])(?!\s*\()|export\s*(?:\*|\{[^}]*\})\s*from\b)/m;
    assertEquals(text.match(new RegExp(staticImport, "gm")) ?? [], []);
    assert(staticImport.test('x;import{a as b}from"node:fs";'), "the pattern finds a minified static import");
    assertStringIncludes(text, 'await import("node:crypto")', "the test looks at a bundle that uses node:");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
