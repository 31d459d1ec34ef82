import { assert, assertEquals, assertMatch } from "@std/assert";
import { sleep, until } from "../../tests/support/poll.ts";
import { alive, killAndWait } from "../../tests/support/processes.ts";
import type { RecorderRecord } from "../registry.ts";
import { compilePattern } from "./pattern.ts";
import { parsePressureExpr, type TriggerSpec } from "./spec.ts";
import {
  makeTrigger,
  passes,
  pressureValue,
  type Trigger,
  type TriggerContext,
  type TriggerSink,
} from "./triggers.ts";
import { sendTrigger } from "./trigger_socket.ts";

/** What the triggers reported, in order. */
class Sink implements TriggerSink {
  events: string[] = [];
  conditions: [boolean, string][] = [];
  problems: string[] = [];
  answer = "fired: snapshot now";
  event(_t: Trigger, detail: string): string {
    this.events.push(detail);
    return this.answer;
  }
  condition(_t: Trigger, value: boolean, detail: string): void {
    this.conditions.push([value, detail]);
  }
  problem(_t: Trigger, message: string): void {
    this.problems.push(message);
  }
}

/** A trigger run as the watcher runs it: prepared, then run until `stop`. */
class Running {
  readonly sink = new Sink();
  readonly trigger: Trigger;
  #abort = new AbortController();
  #run: Promise<void> | undefined;
  constructor(spec: TriggerSpec, ctx: TriggerContext) {
    this.trigger = makeTrigger(spec, ctx);
  }
  async start(): Promise<this> {
    await this.trigger.prepare?.(this.sink, this.#abort.signal);
    this.#run = this.trigger.run(this.sink, this.#abort.signal);
    return this;
  }
  /** Stops it; how long the trigger took to end. */
  async stop(): Promise<number> {
    const t = Date.now();
    this.#abort.abort();
    await this.#run;
    return Date.now() - t;
  }
}

/** Runs `fn` with a temporary directory and a trigger context in it; every trigger started is stopped. */
async function withTriggers(
  fn: (
    dir: string,
    run: (spec: TriggerSpec, ctx?: Partial<TriggerContext>) => Promise<Running>,
  ) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const running: Running[] = [];
  const ctx: TriggerContext = {
    procRoot: `${dir}/proc`,
    record: {} as RecorderRecord,
    triggerSocket: `${dir}/r.trigger.sock`,
    pollMs: 50,
  };
  try {
    await fn(dir, async (spec, more = {}) => {
      const r = new Running(spec, { ...ctx, ...more });
      running.push(r);
      return await r.start();
    });
  } finally {
    for (const r of running) await r.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

function log(file: string, pattern: string): TriggerSpec {
  return { kind: "log", file, pattern: compilePattern(pattern, "log") };
}

async function append(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { append: true });
}

Deno.test("log: lines already there are history; each new matching line fires with the text matched", async () => {
  await withTriggers(async (dir, run) => {
    const file = `${dir}/app.log`;
    await Deno.writeTextFile(file, "ERROR old one\nERROR old two\n");
    const t = await run(log(file, "ERROR (\\w+)"));
    await append(file, "fine\n12:00 ERROR disk full\nERROR half");
    await until("the first match", () => t.sink.events.length === 1);
    await append(file, "way\n");
    await until("the line completed", () => t.sink.events.length === 2);
    assertEquals(t.sink.events, ["match: ERROR disk", "match: ERROR halfway"]);
    assertEquals(t.sink.problems, []);
  });
});

Deno.test("log: a rename-and-create rotation reads the old file to its end, then the new one from its start", async () => {
  await withTriggers(async (dir, run) => {
    const file = `${dir}/app.log`;
    await Deno.writeTextFile(file, "history\n");
    const t = await run(log(file, "ERROR \\w+"));
    await append(file, "ERROR one\n");
    await until("the first match", () => t.sink.events.length === 1);
    // logrotate: the old file moves aside (the application still writes to it a little), a new one appears.
    await Deno.link(file, `${dir}/app.log.1`);
    await append(file, "ERROR two\n");
    await Deno.writeTextFile(`${dir}/new`, "ERROR three\n");
    await Deno.rename(`${dir}/new`, file);
    await until("the new file's line", () => t.sink.events.length === 3);
    assertEquals(t.sink.events, ["match: ERROR one", "match: ERROR two", "match: ERROR three"]);
  });
});

Deno.test("log: a copytruncate rotation (the file emptied in place) is read again from its start", async () => {
  await withTriggers(async (dir, run) => {
    const file = `${dir}/app.log`;
    await Deno.writeTextFile(file, "x".repeat(1000) + "\n");
    const t = await run(log(file, "ERROR \\w+"));
    await append(file, "ERROR before\n");
    await until("the first match", () => t.sink.events.length === 1);
    await Deno.truncate(file, 0);
    await append(file, "ERROR after\n");
    await until("the match after the truncation", () => t.sink.events.length === 2);
    assertEquals(t.sink.events, ["match: ERROR before", "match: ERROR after"]);
  });
});

Deno.test("log: a symbolic link at the path is never followed; said once; a real file there later is read", async () => {
  await withTriggers(async (dir, run) => {
    const file = `${dir}/app.log`;
    await Deno.writeTextFile(`${dir}/secret`, "ERROR in a file the watcher must not read\n");
    await Deno.symlink(`${dir}/secret`, file);
    const t = await run(log(file, "ERROR \\w+"));
    await append(`${dir}/secret`, "ERROR more\n");
    await until("the complaint", () => t.sink.problems.length > 0);
    // That it is said only once: several polls (every 250 ms) go by with the link in place.
    await sleep(600);
    assertEquals(t.sink.problems.length, 1, t.sink.problems.join("\n"));
    assertMatch(t.sink.problems[0], /is a symbolic link, which is not followed/);
    await Deno.remove(file);
    await Deno.writeTextFile(`${dir}/new`, "ERROR real\n");
    await Deno.rename(`${dir}/new`, file);
    await until("the real file's line", () => t.sink.events.length === 1);
    assertEquals(t.sink.events, ["match: ERROR real"]);
  });
});

Deno.test("log: a FIFO at the path is refused without blocking, and the trigger still stops at once", async () => {
  await withTriggers(async (dir, run) => {
    const file = `${dir}/app.log`;
    const mk = await new Deno.Command("mkfifo", { args: [file] }).output();
    assert(mk.success);
    const t = await run(log(file, "ERROR"));
    await until("the complaint", () => t.sink.problems.length > 0);
    assertMatch(t.sink.problems[0], /is not a regular file/);
    assert((await t.stop()) < 1000);
  });
});

Deno.test("log: a file that does not exist yet is waited for, and read from its start when it comes", async () => {
  await withTriggers(async (dir, run) => {
    const file = `${dir}/app.log`;
    const t = await run(log(file, "ERROR \\w+"));
    await until("the complaint", () => t.sink.problems.length > 0);
    assertMatch(t.sink.problems[0], /does not exist/);
    await Deno.writeTextFile(`${dir}/new`, "ERROR first\n");
    await Deno.rename(`${dir}/new`, file);
    await until("its first line", () => t.sink.events.length === 1);
    assertEquals(t.sink.events, ["match: ERROR first"]);
  });
});

Deno.test("pressure: the threshold as written, bounds exact; an unreadable file is said once", async () => {
  await withTriggers(async (dir, run) => {
    const psi = `${dir}/proc/pressure/memory`;
    const write = (avg10: number) =>
      Deno.writeTextFile(
        psi,
        `some avg10=${
          avg10.toFixed(2)
        } avg60=1.00 avg300=0.00 total=5\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`,
      );
    const spec = (expr: string): TriggerSpec => ({
      kind: "pressure",
      resource: "memory",
      scope: "some",
      expr: parsePressureExpr(expr),
    });
    const over = await run(spec("avg10>40"));
    const atLeast = await run(spec("avg10>=40"));
    await until("the complaint", () => over.sink.problems.length > 0);
    await sleep(200); // That it is said once: several polls (every 50 ms) go by without the file.
    assertEquals(over.sink.problems, [`cannot read some avg10 from "${psi}"`]);
    await Deno.mkdir(`${dir}/proc/pressure`, { recursive: true });
    await write(40);
    await until("a reading", () => over.sink.conditions.length > 0 && atLeast.sink.conditions.length > 0);
    assertEquals(over.sink.conditions[0], [false, "some avg10=40"]);
    assertEquals(atLeast.sink.conditions[0], [true, "some avg10=40"]);
    await write(40.5);
    await until("the new reading", () => over.sink.conditions.at(-1)![0]);
    assertEquals(over.sink.conditions.at(-1), [true, "some avg10=40.5"]);
  });
});

Deno.test("pressureValue and passes: the scope's line, the field asked for, each comparison at its bound", () => {
  const text =
    "some avg10=12.50 avg60=3.00 avg300=1.00 total=777\nfull avg10=0.25 avg60=0.00 avg300=0.00 total=9\n";
  assertEquals(pressureValue(text, "some", "avg10"), 12.5);
  assertEquals(pressureValue(text, "some", "total"), 777);
  assertEquals(pressureValue(text, "full", "avg10"), 0.25);
  assertEquals(pressureValue(text, "full", "avg300"), 0);
  // The CPU file of older kernels has no "full" line; a damaged line has no value.
  assertEquals(pressureValue("some avg10=1.00 avg60=0.00 avg300=0.00 total=1\n", "full", "avg10"), undefined);
  assertEquals(pressureValue("some avg10= avg60=0.00\n", "some", "avg10"), undefined);
  assertEquals(pressureValue("", "some", "avg10"), undefined);
  const at = (expr: string, value: number) => passes(value, parsePressureExpr(expr));
  assertEquals([at("avg10>5", 5), at("avg10>5", 5.01)], [false, true]);
  assertEquals([at("avg10>=5", 4.99), at("avg10>=5", 5)], [false, true]);
  assertEquals([at("avg10<5", 5), at("avg10<5", 4.99)], [false, true]);
  assertEquals([at("avg10<=5", 5.01), at("avg10<=5", 5)], [false, true]);
});

Deno.test("process: a pid is running until it ends, then gone", async () => {
  await withTriggers(async (_dir, run) => {
    const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
    try {
      const t = await run({ kind: "process", pid: child.pid });
      await until("a reading", () => t.sink.conditions.length > 0);
      assertEquals(t.sink.conditions[0], [false, `pid ${child.pid} is running`]);
      child.kill("SIGKILL");
      await child.status;
      await until("it is gone", () => t.sink.conditions.at(-1)![0]);
      assertEquals(t.sink.conditions.at(-1), [true, `pid ${child.pid} is gone`]);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* ended */ }
      await child.status;
    }
  });
});

Deno.test("process: a name is running while any process of that name is, and gone after the last", async () => {
  await withTriggers(async (dir, run) => {
    // A command name nothing else on this machine has (at most 15 characters, as the kernel keeps it).
    const name = `stapfrt${Deno.pid % 100_000_000}`.slice(0, 15);
    const which = await new Deno.Command("sh", { args: ["-c", "command -v sleep"] }).output();
    assert(which.success, "sleep is on PATH");
    await Deno.copyFile(new TextDecoder().decode(which.stdout).trim(), `${dir}/${name}`);
    await Deno.chmod(`${dir}/${name}`, 0o755);
    const children = [0, 1].map(() => new Deno.Command(`${dir}/${name}`, { args: ["30"] }).spawn());
    try {
      const t = await run({ kind: "process", name });
      await until("a reading", () => t.sink.conditions.length > 0);
      assertEquals(t.sink.conditions[0], [false, `"${name}" is running`]);
      children[0].kill("SIGKILL");
      await children[0].status;
      const seen = t.sink.conditions.length;
      await until("two more readings", () => t.sink.conditions.length >= seen + 2);
      assertEquals(t.sink.conditions.at(-1), [false, `"${name}" is running`], "one is still there");
      children[1].kill("SIGKILL");
      await children[1].status;
      await until("it is gone", () => t.sink.conditions.at(-1)![0]);
      assertEquals(t.sink.conditions.at(-1), [true, `"${name}" is gone`]);
    } finally {
      for (const c of children) {
        try {
          c.kill("SIGKILL");
        } catch { /* ended */ }
        await c.status;
      }
    }
  });
});

Deno.test("exit-status: a failing check holds, a passing one does not, one that cannot run holds", async () => {
  await withTriggers(async (_dir, run) => {
    const check = (command: string[]): TriggerSpec => ({ kind: "exit-status", command, intervalMs: 5000 });
    const failing = await run(check(["sh", "-c", "exit 3"]));
    const passing = await run(check(["true"]));
    const missing = await run(check(["/nonexistent/check"]));
    await until(
      "three readings",
      () =>
        failing.sink.conditions.length > 0 && passing.sink.conditions.length > 0 &&
        missing.sink.conditions.length > 0,
    );
    assertEquals(failing.sink.conditions, [[true, "sh exited with status 3"]]);
    assertEquals(passing.sink.conditions, [[false, "true exited with status 0"]]);
    assertEquals(missing.sink.conditions[0][0], true);
    assertMatch(missing.sink.conditions[0][1], /^cannot run \/nonexistent\/check: /);
  });
});

Deno.test("exit-status: a check that does not answer in time is killed with everything it started", async () => {
  await withTriggers(async (dir, run) => {
    const script = `sleep 300 & echo $! > ${dir}/child; sleep 300`;
    const t = await run({ kind: "exit-status", command: ["sh", "-c", script], intervalMs: 300 });
    await until("a reading", () => t.sink.conditions.length > 0);
    const left = Number(await Deno.readTextFile(`${dir}/child`));
    try {
      assertEquals(t.sink.conditions[0], [
        true,
        "sh did not answer within 300 ms (killed with its process group)",
      ]);
      await until("its background child to be gone", async () => !(await alive(left)), { timeoutMs: 5000 });
    } finally {
      await killAndWait([left]);
    }
  });
});

Deno.test("exit-status: what a check that answered left running goes with it", async () => {
  await withTriggers(async (dir, run) => {
    const script = `sleep 300 & echo $! > ${dir}/child; exit 0`;
    const t = await run({ kind: "exit-status", command: ["sh", "-c", script], intervalMs: 60_000 });
    await until("a reading", () => t.sink.conditions.length > 0);
    assertEquals(t.sink.conditions[0], [false, "sh exited with status 0"]);
    const left = Number(await Deno.readTextFile(`${dir}/child`));
    try {
      await until("its background child to be gone", async () => !(await alive(left)), { timeoutMs: 5000 });
    } finally {
      await killAndWait([left]);
    }
  });
});

Deno.test("exit-status: a stopping watcher kills the running check at once", async () => {
  await withTriggers(async (dir, run) => {
    const t = await run({
      kind: "exit-status",
      command: ["sh", "-c", `echo $$ > ${dir}/pid; exec sleep 300`],
      intervalMs: 60_000,
    });
    const pid = Number(
      await until("the check to start", () => Deno.readTextFile(`${dir}/pid`).catch(() => "")),
    );
    try {
      assert((await t.stop()) < 1000);
      await until("the check to be gone", async () => !(await alive(pid)), { timeoutMs: 5000 });
    } finally {
      await killAndWait([pid]);
    }
    assertEquals(t.sink.conditions, [], "a killed check is no reading");
  });
});

Deno.test("signal: a trigger request is an event with its reason, answered with the policies' decision", async () => {
  await withTriggers(async (dir, run) => {
    const t = await run({ kind: "signal" });
    t.sink.answer = "suppressed by cooldown until 2026-12-01T05:22:00.000Z";
    assertEquals(await sendTrigger(`${dir}/r.trigger.sock`, "deploy went wrong"), t.sink.answer);
    assertEquals(await sendTrigger(`${dir}/r.trigger.sock`, null), t.sink.answer);
    assertEquals(t.sink.events, ["deploy went wrong", "stapfr trigger"]);
  });
});

Deno.test("marker: new lines of a file recorder's output match, across its file switches; old ones are history", async () => {
  await withTriggers(async (dir, run) => {
    const runDir = `${dir}/run`;
    await Deno.mkdir(runDir);
    await Deno.writeTextFile(`${runDir}/web.out.0`, "MARK old\n");
    const record = { output: { dir, runDir, base: "web.out", bulk: false } } as RecorderRecord;
    const t = await run({ kind: "marker", pattern: compilePattern("MARK \\w+", "marker") }, { record });
    await append(`${runDir}/web.out.0`, "tick\nMARK one\n");
    await until("the first marker", () => t.sink.events.length === 1);
    await Deno.writeTextFile(`${runDir}/web.out.1`, "MARK two\n");
    await until("the marker in the next file", () => t.sink.events.length === 2);
    assertEquals(t.sink.events, ["output: MARK one", "output: MARK two"]);
  });
});
