/**
 * Every error code of the library (lib/errors.ts ERROR_CODES, README "Errors by code"), each brought about by a
 * library program the way a user's program would meet it, on the simulator: the program reports what it
 * caught, and every code must have been caught, from an error class the library exports, with a message that
 * names no command-line flag where it names an option.
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { ERROR_CODES } from "../../lib/errors.ts";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";
import { LIBRARY_PERMISSIONS, runProgram } from "../support/library_program.ts";

const TICKS = 'probe timer.ms(20) { printf("tick %d\\\\n", gettimeofday_ms()) }';

/** The scenarios: each is tried in the program, and reports `{ scenario, code, name, message }`. */
const SCENARIOS = `
const recorders = new stapfr.Recorders({ sim: true });
const SCRIPT = { text: '${TICKS}' };
const attempt = async (scenario: string, fn: () => Promise<unknown>) => {
  try {
    await fn();
    report({ scenario, code: null });
  } catch (err) {
    report({ scenario, ...codeOf(err), exported: Object.values(stapfr).some((c) => typeof c === "function" && err instanceof c) });
  }
};
const cat = async (path: string) => new TextDecoder().decode((await new Deno.Command("cat", { args: [path] }).output()).stdout);

await recorders.start({ name: "m", script: SCRIPT });
await attempt("invalid_option", () => recorders.tail("m", () => {}, { lines: -3 }));
await attempt("invalid_environment", async () => new stapfr.Recorders({ sim: true, env: (n) => n === "STAPFR_IDLE_MS" ? "soon" : Deno.env.get(n) }));
await attempt("not_found", () => recorders.status("nope"));
await attempt("exists", () => recorders.start({ name: "m", script: SCRIPT }));
await attempt("busy", () => recorders.dump("held", () => {}));
await recorders.start({ name: "gone", script: SCRIPT });
Deno.kill(Number((await cat(\`\${Deno.env.get("STAPFR_SIM_ROOT")}/proc/systemtap/stap_fr_gone/host.pid\`)).trim()), "SIGKILL");
await attempt("not_running", async () => {
  for (let i = 0; i < 100 && (await recorders.status("gone")).state !== "dead"; i++) await new Promise((r) => setTimeout(r, 50));
  await recorders.dump("gone", () => {});
});
await attempt("wrong_host", () => new stapfr.Recorders({ stateDir: recorders.stateDir }).status("m"));
await attempt("compile_failed", () => recorders.start({ name: "bad", script: { text: "probe begin {" } }));
await attempt("unsupported", () => recorders.start({ name: "nosim", script: { text: 'probe kernel.function("no_such_fn") { }' } }));
await attempt("rejected_option", () => recorders.start({ name: "opt", script: SCRIPT, stapArgs: ["-s", "99999"] }));
await Deno.writeTextFile("stap_fr_mod.ko", "not a kernel module");
await attempt("rejected_module", () => recorders.start({ name: "mod", module: "stap_fr_mod.ko" }));
await Deno.mkdir("open", { mode: 0o777 });
await Deno.chmod("open", 0o777);
await attempt("unsafe_path", () => new stapfr.Recorders({ sim: true, store: \`\${Deno.cwd()}/open\` }).snapshot("m"));
const taken = await recorders.snapshot("m", { reason: "to damage" });
const data = \`\${taken.path}/\${taken.manifest.files[0].name}\`;
const bytes = await Deno.readFile(data);
bytes[0] ^= 0xff;
await Deno.writeFile(data, bytes);
await attempt("damaged", () => recorders.snapshotData(taken.manifest.id, () => {}));
await attempt("confirmation_needed", () => new stapfr.Recorders({ sim: true, stateDir: \`\${Deno.cwd()}/other-state\` }).gc({ unloadOrphans: true }));
await attempt("output_failed", () => recorders.dump("m", new WritableStream({ write() { throw new Error("disk on fire"); } })));
// A watcher that answers no trigger: its state names this live process, its socket never replies.
const stat = await cat(\`/proc/\${Deno.pid}/stat\`);
const pidStart = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
await Deno.writeTextFile(\`\${recorders.stateDir}/m.watch\`, JSON.stringify({ pid: Deno.pid, pidStart, started_at: new Date().toISOString(), triggers: ["signal"], fired: 0, snapshots: 0, failed: 0, suppressed: {}, last: null }));
const silent = Deno.listen({ transport: "unix", path: \`\${recorders.stateDir}/m.trigger.sock\` });
const held: Deno.Conn[] = [];
(async () => { for await (const conn of silent) held.push(conn); })();
await attempt("timeout", () => recorders.trigger("m"));
silent.close();
for (const c of held) c.close();
await Deno.remove(\`\${recorders.stateDir}/m.watch\`);
await attempt("missing_program", () => new stapfr.Recorders({ host: stapfr.realHost({ stap: "/nonexistent/stap" }), stateDir: recorders.stateDir }).check(SCRIPT));
await Deno.writeTextFile("afile", "");
await attempt("io", () => new stapfr.Recorders({ sim: true, stateDir: \`\${Deno.cwd()}/afile/state\` }).start({ name: "x", script: SCRIPT }));
await attempt("failed", () => recorders.plan({ script: { text: "probe begin { }" }, windowMs: 60_000, measureMs: 500 }));
const interrupted = new AbortController();
interrupted.abort(new stapfr.Interrupted("SIGINT"));
await attempt("interrupted", () => recorders.dump("m", () => {}, { signal: interrupted.signal }));
report({ listed: (await recorders.list()).recorders.map((r) => [r.name, r.state]) });
`;

Deno.test("every error code, caught by a library program as a user's program meets it", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "held", "-e", TICKS.replaceAll("\\\\", "\\")]);
    // Another process holds "held": the program's dump of it is refused.
    const attach = world.spawn(["attach", "held"]);
    try {
      await until("the other reader", async () => (await world.modules())["stap_fr_held"] === 1);
      const r = await runProgram(world, "errors", SCENARIOS);
      assertEquals(r.code, 0, r.stderr);
      const caught = new Map(r.reports.filter((x) => x.scenario).map((x) => [x.scenario as string, x]));
      for (const [scenario, x] of caught) {
        assertEquals(x.code, scenario, `${scenario}: ${JSON.stringify(x)}`);
        assert(x.exported, `${scenario}: ${x.name} is a class mod.ts exports`);
        assert(!/ \(os error \d+\)/.test(x.message as string), `${scenario}: no bare OS error: ${x.message}`);
      }
      assertMatch(
        caught.get("invalid_option")!.message as string,
        /^Invalid option "lines": expected a whole number of lines/,
      );
      assertMatch(caught.get("output_failed")!.message as string, /disk on fire/);
      // Nothing it refused was changed: only the recorders it started are there.
      const listed = r.reports.find((x) => x.listed)!.listed as [string, string][];
      assertEquals(listed.map(([name]) => name).sort(), ["gone", "held", "m"]);
      const missing = Object.keys(ERROR_CODES).filter((code) => !caught.has(code));
      // `permission` and `no_space` need a program of their own (below).
      assertEquals(missing.sort(), ["no_space", "permission"]);
    } finally {
      attach.kill("SIGTERM");
      await attach.status;
      await attach.stdout.cancel().catch(() => {});
      await attach.stderr.cancel().catch(() => {});
    }
  });
});

Deno.test("permission: a permission the program was not given is said with the flag it needs", async () => {
  await SimWorld.with(async (world) => {
    const withoutEnv = await runProgram(
      world,
      "no_env",
      `try { new stapfr.Recorders({ sim: true }); } catch (err) { report(codeOf(err)); }`,
      { permissions: LIBRARY_PERMISSIONS.filter((p) => p !== "--allow-env") },
    );
    assertEquals(withoutEnv.code, 0, withoutEnv.stderr);
    assertEquals(withoutEnv.reports[0].code, "permission");
    assertMatch(
      withoutEnv.reports[0].message as string,
      /^Cannot set up Recorders: the program was not given --allow-env/,
    );
    // With its own `env`, a program without --allow-env gets going (the simulator's root and state given).
    const ownEnv = await runProgram(
      world,
      "own_env",
      `const r = new stapfr.Recorders({ sim: true, simRoot: "${world.root}", stateDir: "${world.stateDir}", env: () => undefined });
       report({ recorders: (await r.list()).recorders.length });`,
      { permissions: LIBRARY_PERMISSIONS.filter((p) => p !== "--allow-env") },
    );
    assertEquals([ownEnv.code, ownEnv.reports[0]?.recorders], [0, 0], ownEnv.stderr);
    // The other flags README "Library" lists, each refused the same way where the library needs it.
    for (
      const [flag, body] of [
        [
          "--allow-run",
          `await new stapfr.Recorders({ sim: true }).start({ name: "r", script: { text: "probe begin { }" } })`,
        ],
        // The watcher goes on without its trigger socket, and says why in a problem event.
        [
          "--allow-net",
          `const stop = new AbortController();
           await new stapfr.Recorders({ sim: true }).watch({
             name: "r",
             triggers: [{ kind: "signal" }],
             until: stop.signal,
             onEvent: (e) => {
               if (e.type !== "problem") return;
               report({ code: "permission", message: e.message });
               stop.abort();
             },
           })`,
        ],
        // A watcher runs (the command line's): the trigger goes to its socket.
        ["--allow-net", `await new stapfr.Recorders({ sim: true }).trigger("r")`],
      ] as const
    ) {
      if (flag === "--allow-net" && (await world.modules())["stap_fr_r"] === undefined) {
        await world.ok(["start", "r", "-e", 'probe timer.s(1) { printf("x\\n") }']);
      }
      const watcher = body.includes("trigger(") ? world.spawn(["watch", "r", "--on", "signal"]) : undefined;
      try {
        if (watcher) {
          await until(
            "the watcher",
            () => Deno.stat(`${world.stateDir}/r.trigger.sock`).then(() => true, () => false),
          );
        }
        const r = await runProgram(
          world,
          "without",
          `try { ${body}; } catch (err) { report(codeOf(err)); }`,
          {
            permissions: LIBRARY_PERMISSIONS.filter((p) => p !== flag),
          },
        );
        assertEquals(r.reports[0]?.code, "permission", `${flag}: ${body}: ${r.stdout}${r.stderr}`);
        assertMatch(r.reports[0].message as string, new RegExp(`the program was not given ${flag}`));
      } finally {
        watcher?.kill("SIGTERM");
        await watcher?.output();
      }
    }
  });
});

/** A 64 KiB file system for the store needs a mount namespace of the program's own (root and unshare). */
const MOUNTS =
  (await new Deno.Command("unshare", { args: ["-m", "true"], stderr: "null" }).output().catch(() =>
    undefined
  ))
    ?.success ?? false;

Deno.test({
  name: "no_space: a full snapshot store is said with the store, the path and what to do" +
    (MOUNTS ? "" : " (skipped: no mount namespace here, which needs root and unshare)"),
  ignore: !MOUNTS,
}, async () => {
  await SimWorld.with(async (world) => {
    await world.ok([
      "start",
      "big",
      "-e",
      'probe timer.ms(1) { printf("%s\\n", "0123456789abcdef0123456789abcdef0123456789abcdef") }',
    ]);
    await new Promise((r) => setTimeout(r, 1500)); // about 75 KB of output: 16 KiB fill with the data, before the manifest
    const store = `${world.work}/tiny`;
    await Deno.mkdir(store);
    const program = `${world.work}/full.ts`;
    await Deno.writeTextFile(
      program,
      `import * as stapfr from "${new URL("../../mod.ts", import.meta.url).href}";
       try { await new stapfr.Recorders({ sim: true, store: "${store}" }).snapshot("big"); console.log("{}"); }
       catch (err) { console.log(JSON.stringify({ code: err.code, name: err.name, message: err.message, hint: err.hint })); }`,
    );
    const out = await new Deno.Command("unshare", {
      args: [
        "-m",
        "sh",
        "-c",
        'mount -t tmpfs -o size=16k tmpfs "$1" && shift && exec "$@"',
        "sh",
        store,
        Deno.execPath(),
        "run",
        "--quiet",
        "--no-lock",
        `--config=${new URL("../../deno.json", import.meta.url).pathname}`,
        ...LIBRARY_PERMISSIONS,
        program,
      ],
      env: world.env,
      cwd: world.work,
    }).output();
    const report = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    assertEquals(
      [report.name, report.code],
      ["StoreError", "no_space"],
      new TextDecoder().decode(out.stderr),
    );
    assertMatch(report.message, /^Cannot write snapshot data ".*\/big\.out": no space left on device/);
    assertMatch(report.hint, /The file system holding the snapshot store is full/);
    assertEquals((await world.json<{ state: string }>(["status", "big"])).state, "recording");
  });
});
