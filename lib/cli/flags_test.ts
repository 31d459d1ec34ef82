import { assert, assertEquals } from "@std/assert";
import { COMMANDS } from "./commands.ts";
import { commandShape } from "./flags.ts";
import { runMain } from "../../tests/helpers.ts";

Deno.test("the flags read from the table are the ones each command's parser takes", async () => {
  // An empty simulated world: a flag that gets past the parser finds nothing to act on.
  const root = await Deno.makeTempDir({ prefix: "stapfr-flags-" });
  const env = { STAPFR_SIM: "1", STAPFR_SIM_ROOT: root, STAPFR_STATE_DIR: `${root}/state`, NO_COLOR: "1" };
  try {
    let checked = 0;
    for (const [name, info] of Object.entries(COMMANDS)) {
      if (name === "sim" || name === "demo") continue;
      const shape = commandShape(info);
      for (const flag of shape.flags) {
        const word = flag.long ?? flag.short!;
        const value = flag.value ? ["x"] : [];
        // A subcommand's flags (snapshots show --data) are taken after its keyword.
        const forms = [[name, word, ...value], ...shape.keywords.map((k) => [name, k, word, ...value])];
        const results = [];
        for (const args of forms) results.push(await runMain(args, env));
        assert(
          results.some((r) => !r.stderr.includes("Unknown option")),
          `"stapfr ${name}" does not take "${word}" that its table row lists: ${results[0].stderr}`,
        );
        checked++;
      }
    }
    assert(checked > 40, `only ${checked} flags checked`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("commandShape reads flags, values, keywords and NAME from usage and help", () => {
  const shape = commandShape({
    summary: "",
    usage: "snapshots [NAME] | snapshots show ID [--data [-o FILE]] | snapshots prune [--keep N]",
    help: "  -o, --output FILE     with --data: write to a new file\n  --dry-run             say what",
  });
  assertEquals(shape.flags, [
    { short: "-o", long: "--output", value: "FILE" },
    { long: "--dry-run" },
    { long: "--data" },
    { long: "--keep", value: "N" },
  ]);
  assertEquals(shape.keywords, ["show", "prune"]);
  assertEquals(shape.takesName, true);
});
