/**
 * `stapfr completions bash|zsh|fish` through the CLI: each script is loaded into its shell and asked for
 * candidates (bash: its completion function with COMP_WORDS set; fish: `complete -C`; zsh: its function with
 * `words` and `CURRENT` set and compsys's `compadd`/`_files` stood in for), against a simulated world with a
 * recorder and a snapshot in it, through a `stapfr` on PATH as a user has it.
 */
import { assertEquals } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { PERMISSIONS, shellQuote } from "../../lib/self.ts";
import { COMMANDS } from "../../lib/declarations/declarations.ts";
import { CLI } from "../support/stapfr.ts";

type Shell = "bash" | "zsh" | "fish";

// Fixed drivers: the words to complete come in as arguments, never as shell text.
const BASH_DRIVER = `source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
_stapfr
printf '%s\\n' "\${COMPREPLY[@]}"
`;
const ZSH_DRIVER = `compdef() { : }
# compsys keeps the candidates that start with what is typed.
compadd() { [[ $1 == -- ]] && shift; local w; for w in "$@"; do [[ $w == "\${words[CURRENT]}"* ]] && print -- "$w"; done; true }
_files() { print -- "<files>" }
source "$1"; shift
words=("$@"); CURRENT=$#
_stapfr
`;

async function which(shell: Shell): Promise<boolean> {
  try {
    return (await new Deno.Command(shell, { args: ["-c", "exit 0"], stdout: "null", stderr: "null" })
      .output())
      .success;
  } catch {
    return false;
  }
}

/** A simulated world with recorder "io" and one snapshot of it, the scripts, and a `stapfr` on PATH. */
async function setUp() {
  const world = await SimWorld.create();
  await world.ok(["start", "io", "-e", 'probe timer.ms(50) { printf("x\\n") }']);
  const snap = await world.json<{ id: string }>(["snapshot", "io"]);
  const dir = `${world.root}/completion`;
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  const argv = [Deno.execPath(), "run", "--quiet", ...PERMISSIONS, CLI];
  await Deno.writeTextFile(`${bin}/stapfr`, `#!/bin/sh\nexec ${argv.map(shellQuote).join(" ")} "$@"\n`);
  await Deno.chmod(`${bin}/stapfr`, 0o755);
  for (const shell of ["bash", "zsh", "fish"] as const) {
    await Deno.writeTextFile(`${dir}/stapfr.${shell}`, await world.ok(["completions", shell]));
  }
  await Deno.writeTextFile(`${dir}/bash_driver`, BASH_DRIVER);
  await Deno.writeTextFile(`${dir}/zsh_driver`, ZSH_DRIVER);
  await Deno.writeTextFile(`${dir}/cfile.txt`, "");
  await Deno.mkdir(`${dir}/empty-state`);
  // Only what is typed on the line says --sim and the state directory; the simulator's root is the world's.
  const env: Record<string, string> = {
    PATH: `${bin}:${Deno.env.get("PATH")}`,
    HOME: Deno.env.get("HOME") ?? "/",
    STAPFR_SIM_ROOT: world.root,
    NO_COLOR: "1",
  };
  if (Deno.env.get("DENO_DIR")) env.DENO_DIR = Deno.env.get("DENO_DIR")!;
  return { world, dir, env, snapshotId: snap.id };
}

/** The candidates a shell offers for a command line (the last word is the one being completed). */
async function complete(
  shell: Shell,
  line: string[],
  dir: string,
  env: Record<string, string>,
): Promise<string[]> {
  const args = shell === "bash"
    ? [`${dir}/bash_driver`, `${dir}/stapfr.bash`, ...line]
    : shell === "zsh"
    ? ["-f", `${dir}/zsh_driver`, `${dir}/stapfr.zsh`, ...line]
    : ["--no-config", "-c", "source $argv[1]; complete -C $argv[2]", `${dir}/stapfr.fish`, line.join(" ")];
  const out = await new Deno.Command(shell, {
    args,
    cwd: dir,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`${shell} failed: ${new TextDecoder().decode(out.stderr)}`);
  // fish prints "candidate<TAB>description".
  return [...new Set(text.split("\n").map((l) => l.split("\t")[0]).filter((l) => l !== ""))].sort();
}

const KINDS = ["exit-status", "log", "marker", "pressure", "process", "signal"];

for (const shell of ["bash", "zsh", "fish"] as const) {
  const available = await which(shell);
  Deno.test({
    name:
      `${shell} completions: commands, flags, --on kinds, recorder names and snapshot IDs from the line's registry`,
    ignore: !available,
    fn: async () => {
      const { world, dir, env, snapshotId } = await setUp();
      try {
        const c = (line: string[]) => complete(shell, line, dir, env);
        assertEquals(await c(["stapfr", ""]), Object.keys(COMMANDS).sort());
        assertEquals(await c(["stapfr", "st"]), ["start", "status", "stop"]);
        assertEquals(
          await c(["stapfr", "--s"]),
          ["--sim", "--state-dir"],
        );
        assertEquals(await c(["stapfr", "start", "--b"]), [
          "--buffer",
          "--bulk",
        ]);
        assertEquals(await c(["stapfr", "--sim", "status", ""]), ["io"]);
        assertEquals(
          await c(["stapfr", "--sim", "--state-dir", world.stateDir, "stop", "i"]),
          ["io"],
        );
        // The --state-dir on the line decides: an empty registry has no names.
        assertEquals(await c(["stapfr", "--sim", "--state-dir", `${dir}/empty-state`, "status", ""]), []);
        assertEquals(await c(["stapfr", "watch", "io", "--on", ""]), KINDS);
        assertEquals(await c(["stapfr", "unit", "io", "-e", "probe begin {}", "--on", ""]), KINDS);
        assertEquals(await c(["stapfr", "completions", ""]), ["bash", "fish", "zsh"]);
        assertEquals(await c(["stapfr", "--sim", "snapshots", "show", ""]), [snapshotId]);
        assertEquals(await c(["stapfr", "--sim", "snapshots", ""]), [
          "fetch",
          "io",
          "prune",
          "show",
          "verify",
        ]);
        assertEquals(
          await c(["stapfr", "dump", "io", "-o", "cf"]),
          shell === "zsh" ? ["<files>"] : ["cfile.txt"],
        );
        if (shell === "bash") {
          // bash splits --state-dir=DIR at "=" (COMP_WORDBREAKS).
          assertEquals(await c(["stapfr", "--sim", "--state-dir", "=", world.stateDir, "status", ""]), [
            "io",
          ]);
        }
      } finally {
        await world.cleanup();
      }
    },
  });
}

Deno.test("completions: a missing or unknown shell is a usage error", async () => {
  const world = await SimWorld.create();
  try {
    const none = await world.run(["completions"]);
    assertEquals([none.code, none.stderr.split("\n")[0]], [2, "stapfr: Missing shell: bash, zsh or fish"]);
    const tcsh = await world.run(["completions", "tcsh"]);
    assertEquals([tcsh.code, tcsh.stderr.split("\n")[0]], [
      2,
      'stapfr: Unknown shell "tcsh": expected bash, zsh or fish',
    ]);
  } finally {
    await world.cleanup();
  }
});

for (const shell of ["zsh", "fish"] as const) {
  Deno.test({
    name: `${shell} -n accepts the ${shell} script`,
    ignore: !(await which(shell)),
    fn: async () => {
      const world = await SimWorld.create();
      try {
        const file = `${world.root}/stapfr.${shell}`;
        await Deno.writeTextFile(file, await world.ok(["completions", shell]));
        const out = await new Deno.Command(shell, { args: ["-n", file], stdout: "piped", stderr: "piped" })
          .output();
        assertEquals([out.code, new TextDecoder().decode(out.stderr)], [0, ""]);
      } finally {
        await world.cleanup();
      }
    },
  });
}
