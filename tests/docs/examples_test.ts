/**
 * Every example of `stapfr watch` and `stapfr unit` in README.md and docs/ runs, on the simulator, as written:
 * the command lines of the fenced `sh` blocks (continuation lines joined), the `watch` line of the unit that
 * docs/service.md shows, and the inline examples (`journalctl -f | stapfr watch …`). A watcher must start and
 * stop cleanly on SIGTERM; `unit` must write its unit. The paths the examples name (a log, a script) are made
 * in the test's world, the recorder they name is started there, and `--install` writes into the world.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";
import { shellWords } from "../support/shell_words.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const SCRIPT = 'probe timer.ms(50) { printf("x\\n") }';

/** One example: where it is and its words after `stapfr`, with what reaches its standard input. */
interface Example {
  where: string;
  argv: string[];
  stdin: boolean;
}

/** The `stapfr watch` and `stapfr unit` examples of a Markdown file. */
function examplesOf(file: string, text: string): Example[] {
  const out: Example[] = [];
  const lines = text.split("\n");
  let fence: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const where = `${file}:${i + 1}`;
    const open = /^```(\w*)/.exec(line);
    if (open) {
      fence = fence === null ? open[1] : null;
      continue;
    }
    if (fence === "sh") {
      let command = line;
      while (command.endsWith("\\") && i + 1 < lines.length) command = command.slice(0, -1) + lines[++i];
      const words = shellWords(command);
      if (words[0] === "stapfr" && (words[1] === "watch" || words[1] === "unit")) {
        out.push({ where, argv: words.slice(1), stdin: false });
      }
    } else if (fence === "ini") {
      // The unit's watch line, as systemd would split it (its quoting is the shell's double quotes here).
      const m = /^ExecStart=\S+ (.*)$/.exec(line);
      if (m) {
        const words = shellWords(m[1]);
        out.push({ where, argv: words.slice(words.indexOf("watch")), stdin: false });
      }
    } else if (fence === null) {
      for (const m of line.matchAll(/`([^`]*\bstapfr (?:watch|unit) [a-z][^`]*)`/g)) {
        const pipeline = m[1].replaceAll("\\|", "|").split("|").map((p) => p.trim());
        const words = shellWords(pipeline.at(-1)!);
        if (words[0] === "stapfr") out.push({ where, argv: words.slice(1), stdin: pipeline.length > 1 });
      }
    }
  }
  return out;
}

async function allExamples(): Promise<Example[]> {
  const files = ["README.md", ...[...Deno.readDirSync(`${ROOT}/docs`)].map((e) => `docs/${e.name}`)]
    .filter((f) => f.endsWith(".md")).sort();
  return (await Promise.all(files.map(async (f) => examplesOf(f, await Deno.readTextFile(`${ROOT}/${f}`)))))
    .flat();
}

Deno.test("every watch and unit example of README.md and docs/ runs on the simulator as written", async () => {
  const examples = await allExamples();
  // The README's incident example, its service example, docs/service.md's (command and unit), docs/watch.md's.
  assert(examples.length >= 5, `found only ${examples.map((e) => e.where).join(", ")}`);
  for (const example of examples) {
    const world = await SimWorld.create();
    try {
      // The paths the examples name, made in this world.
      const paths: Record<string, string> = {
        "/var/log/app.log": `${world.root}/app.log`,
        "/srv/trace/io.stp": `${world.root}/io.stp`,
        "/var/lib/stapfr": world.stateDir,
        "/etc/stapfr/aws.env": `${world.root}/aws.env`,
      };
      await Deno.writeTextFile(`${world.root}/app.log`, "");
      // Credentials only root reads, as the README says to install them.
      await Deno.writeTextFile(`${world.root}/aws.env`, "AWS_ACCESS_KEY_ID=x\nAWS_SECRET_ACCESS_KEY=y\n", {
        mode: 0o600,
      });
      await Deno.writeTextFile(`${world.root}/io.stp`, SCRIPT);
      const argv = example.argv.map((w) => {
        if (!w.startsWith("/")) return w;
        assert(w in paths, `${example.where}: the test does not know the path "${w}"; add it`);
        return paths[w];
      });
      const name = argv[1];
      const what = `${example.where}: stapfr ${example.argv.join(" ")}`;
      if (argv[0] === "unit") {
        await Deno.mkdir(`${world.root}/units`);
        const args = argv.includes("--install") ? [...argv, "--unit-dir", `${world.root}/units`] : argv;
        // A prebuilt module (mods/RELEASE/stap_fr_NAME.ko), built here for a simulated kernel of that release.
        const env: Record<string, string> = {};
        const at = args.indexOf("--module");
        if (at >= 0) {
          const release = args[at + 1].split("/").at(-2)!;
          const dir = `${world.root}/mods/${release}`;
          await world.ok(["build", name, "-e", SCRIPT, "--kernel", release, "--out-dir", dir]);
          args[at + 1] = `${dir}/stap_fr_${name}.ko`;
          env.STAPFR_SIM_RELEASE = release;
        }
        const r = await world.run(args, env);
        assertEquals(r.code, 0, `${what}\n${r.stderr}`);
        if (argv.includes("--install")) assertMatch(r.stdout, /^Wrote "/, what);
        else assertMatch(r.stdout, /^ExecStart=.* watch /m, what);
        continue;
      }
      await world.ok(["start", name, "-e", SCRIPT]);
      const child = world.command(["--sim", ...argv], { detached: true }).spawn();
      let stderr = "";
      const pump = (async () => {
        const d = new TextDecoder();
        for await (const c of child.stderr) stderr += d.decode(c, { stream: true });
      })();
      try {
        await until(
          `${what} to start`,
          () => stderr.includes(" watch started ") || stderr.includes("Usage:"),
        );
        assert(!stderr.includes("Usage:"), `${what}\n${stderr}`);
      } finally {
        child.kill("SIGTERM");
        const status = await child.status;
        await pump;
        await child.stdout.cancel();
        assertEquals(status.code, 0, `${what}\n${stderr}`);
      }
    } finally {
      await world.cleanup();
    }
  }
});
