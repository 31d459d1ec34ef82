/**
 * The engine's layers only call down (docs/architecture.md "Layers"): every relative import in `lib/`, `cli.ts`
 * and `mod.ts` goes to its own layer or one below it, and `lib/` and `cli.ts` load `sim/` only through
 * `import()`, so a real server never loads the simulator (`mod.ts` offers the in-process simulator by design). The simulator uses only the engine's lowest layers (its stand-in commands,
 * which run as `stapfr sim …`, the command line's context too).
 */
import { assertEquals } from "@std/assert";
import { join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The layers, top first: a path belongs to the first whose prefixes match it. Kept in docs/architecture.md. */
export const LAYERS: { name: string; paths: string[] }[] = [
  {
    name: "command line",
    paths: [
      "cli.ts",
      "mod.ts",
      "lib/cli/",
      "lib/commands/",
      "lib/completions/",
      "lib/service/",
      "lib/demo.ts",
    ],
  },
  { name: "library", paths: ["lib/api/"] },
  { name: "watching and shipping", paths: ["lib/watch/", "lib/fleet/"] },
  { name: "snapshots", paths: ["lib/snapshots/"] },
  { name: "operations", paths: ["lib/recorder/"] },
  {
    name: "state",
    paths: ["lib/registry.ts", "lib/registry_record.ts", "lib/state.ts", "lib/watcher_record.ts"],
  },
  { name: "kernel and data", paths: ["lib/driver/", "lib/read_path/"] },
  { name: "shared", paths: ["lib/"] },
];

/** The layer of a repository path (0 is the top); undefined outside the engine. */
export function layerOf(path: string): number | undefined {
  const i = LAYERS.findIndex((l) => l.paths.some((p) => p.endsWith("/") ? path.startsWith(p) : path === p));
  return i < 0 ? undefined : i;
}

/** Every relative import of a source text: static, `export … from`, and `import()`. */
export function importsOf(text: string): { spec: string; dynamic: boolean }[] {
  const found: { spec: string; dynamic: boolean }[] = [];
  const re = /(?:^|[^\w.])(?:(from)\s*|import\s*(\()\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of text.matchAll(re)) found.push({ spec: m[3], dynamic: m[2] === "(" });
  return found;
}

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(ROOT, dir))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await sources(path));
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) out.push(path);
  }
  return out;
}

/** The imports that break the rules, as "FROM -> TO (why)". */
async function violations(files: string[]): Promise<string[]> {
  const bad: string[] = [];
  for (const from of files) {
    const text = await Deno.readTextFile(join(ROOT, from));
    for (const { spec, dynamic } of importsOf(text)) {
      const to = relative(ROOT, normalize(join(ROOT, from, "..", spec)));
      const [a, b] = [layerOf(from), layerOf(to)];
      if (from.startsWith("sim/")) {
        const allowed = b !== undefined && (b >= layerOf("lib/driver/")! ||
          (from.startsWith("sim/cmd/") && to === "lib/cli/context.ts"));
        if (to.startsWith("lib/") && !allowed) {
          bad.push(`${from} -> ${to} (the simulator above the engine's base)`);
        }
      } else if (to.startsWith("sim/")) {
        // mod.ts is the library's entry, which offers the in-process simulator by design.
        if (!dynamic && from !== "mod.ts") {
          bad.push(`${from} -> ${to} (the simulator loaded by a static import)`);
        }
      } else if (a !== undefined && b !== undefined && b < a) {
        bad.push(`${from} -> ${to} (${LAYERS[a].name} calls up to ${LAYERS[b].name})`);
      }
    }
  }
  return bad;
}

Deno.test("layers: every import in lib/ goes to its own layer or one below, and sim/ is loaded lazily", async () => {
  const files = ["cli.ts", "mod.ts", ...await sources("lib"), ...await sources("sim")];
  assertEquals(await violations(files), []);
});

Deno.test("layers: docs/architecture.md draws the same layers", async () => {
  const doc = await Deno.readTextFile(join(ROOT, "docs/architecture.md"));
  const block = doc.split("\n## Layers\n")[1]?.split("```")[1] ?? "";
  const drawn = block.split("\n").filter((l) => /^\w/.test(l)).map((l) => {
    const [name, paths] = l.trim().split(/\s{2,}/);
    return { name, paths };
  });
  assertEquals(
    drawn,
    LAYERS.map((l) => ({
      name: l.name,
      paths: l.name === "shared" ? "every other file at the top of lib/, and lib/deps/" : l.paths.join(", "),
    })),
  );
});

Deno.test("layers: an import running back up is caught", async () => {
  const dir = await Deno.makeTempDir({ dir: join(ROOT, "lib/registry_record.ts", ".."), prefix: ".layers-" });
  const probe = relative(ROOT, join(dir, "probe.ts"));
  try {
    // lib/.layers-X/probe.ts sits in the shared layer; one import calls up, one loads the simulator statically.
    await Deno.writeTextFile(
      join(ROOT, probe),
      'import { Recorders } from "../api/recorders.ts";\nimport "../../sim/lang/mod.ts";\nimport("../../sim/lang/mod.ts");\n',
    );
    assertEquals(await violations([probe]), [
      `${probe} -> lib/api/recorders.ts (shared calls up to library)`,
      `${probe} -> sim/lang/mod.ts (the simulator loaded by a static import)`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
