/**
 * End to end on the simulator: control characters and terminal escapes that come from arguments, reasons and
 * followed logs reach the operator's terminal escaped (lib/terminal_text.ts): in error messages, the
 * `snapshots` listing, `status`, `list` and the watcher's log lines. Data (`dump`, `snapshots show --data`)
 * passes untouched.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";

const TICKS = 'probe timer.ms(50) { printf("tick\\n") }';
// Retitle the terminal, clear the screen, ring the bell; a newline that would forge a second line.
const HOSTILE = "\x1b]0;owned\x07\x1b[2J\x9b31m\nstapfr: forged";
const SHOWN = "\\e]0;owned\\x07\\e[2J\\x9b31m\\nstapfr: forged";
// One line of a log holds no newline.
const LINE = HOSTILE.split("\n")[0];
const LINE_SHOWN = SHOWN.split("\\n")[0];

function inert(text: string, what: string): void {
  // deno-lint-ignore no-control-regex
  const raw = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/.exec(text);
  assert(
    raw === null,
    `${what} printed a raw control character ${JSON.stringify(raw?.[0])}: ${JSON.stringify(text)}`,
  );
  assert(!/^stapfr: forged/m.test(text), `${what} let an argument forge a line: ${JSON.stringify(text)}`);
}

Deno.test("an argument's escapes are shown escaped in the error that quotes it", async () => {
  const world = await SimWorld.create();
  try {
    for (const args of [["status", HOSTILE], ["dump", "r1", "--bogus" + HOSTILE], ["start", "r1", HOSTILE]]) {
      const r = await world.run(args);
      assert(r.code !== 0, args.join(" "));
      inert(r.stderr, args[0]);
      assertStringIncludes(r.stderr, SHOWN);
    }
  } finally {
    await world.cleanup();
  }
});

Deno.test("a reason and log text reach snapshots, status and the watcher's log lines escaped", async () => {
  const world = await SimWorld.create();
  // A file name may hold escapes too: it shows in status (the watcher's triggers) and in every log line.
  const log = `${world.root}/app\x1b[2J.log`;
  try {
    await world.ok(["start", "r1", "-e", TICKS]);
    await world.ok(["snapshot", "r1", "--reason", HOSTILE]);
    await Deno.writeTextFile(log, "");
    const watcher = world.spawn(["watch", "r1", "--on", "log", log, "ERROR.*"]);
    let stderr = "";
    const pump = (async () => {
      const d = new TextDecoder();
      for await (const c of watcher.stderr) stderr += d.decode(c, { stream: true });
    })();
    try {
      await until("the watcher to start", () => stderr.includes(" watch started "));
      await Deno.writeTextFile(log, `ERROR ${LINE}\n`, { append: true });
      await until("the log snapshot", () => / log .* snapshot \d{8}T/.test(stderr));
      const status = await world.run(["status", "r1"]);
      assertEquals(status.code, 0, status.stderr);
      inert(status.stdout, "status");
      assertStringIncludes(status.stdout, "app\\e[2J.log");
    } finally {
      watcher.kill("SIGTERM");
      await watcher.status;
      await pump;
      await watcher.stdout.cancel();
    }
    inert(stderr, "the watcher's log");
    assertStringIncludes(stderr, `ERROR ${LINE_SHOWN}`);
    const listing = await world.run(["snapshots", "r1"]);
    assertEquals(listing.code, 0, listing.stderr);
    inert(listing.stdout, "snapshots");
    assertStringIncludes(listing.stdout, SHOWN);
    // The manifest keeps the text as it was (JSON escapes it); only the terminal's view is escaped.
    const snaps =
      (await world.json<{ snapshots: { reason: string | null }[] }>(["snapshots", "r1"])).snapshots;
    assertEquals(snaps[0].reason, HOSTILE);
  } finally {
    await world.cleanup();
  }
});
