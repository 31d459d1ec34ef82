/**
 * `deno task bundle`: `dist/stapfr.js`, stapfr as one JavaScript file that `deno` runs (README "One file to
 * ship"), and the input of `deno task compile`. Three steps: `deno bundle` (esbuild) from `cli.ts`, minified,
 * with the S3 client left out (it loads from npm when a fleet command runs); the eager functions of the quick
 * commands (build/eager.ts); and the mode of an executable, so that its first line runs it.
 *
 * Run: `deno run --allow-read --allow-write --allow-run --allow-env build/bundle.ts [OUT]` (default
 * `dist/stapfr.js`, relative to the repository).
 * @module
 */
import { filePath } from "../lib/self.ts";
import { makeEager } from "./eager.ts";

/** This repository's root. */
const REPO = filePath(new URL("../", import.meta.url));

/** The arguments of `deno bundle`, before `--output`. */
export const BUNDLE_ARGS: readonly string[] = [
  "bundle",
  "--quiet",
  "--external",
  "npm:@aws-sdk/*",
  "--minify",
  "--keep-names",
];

/**
 * Builds the bundle into `out` (absolute, or relative to the repository); returns its absolute path and how
 * many functions were made eager.
 */
export async function buildBundle(out: string): Promise<{ path: string; eager: number; left: number }> {
  const path = out.startsWith("/") ? out : `${REPO}${out}`;
  const built = await new Deno.Command(Deno.execPath(), {
    args: [...BUNDLE_ARGS, "--output", path, "cli.ts"],
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!built.success) {
    throw new Error(`deno ${BUNDLE_ARGS.join(" ")} failed:\n${new TextDecoder().decode(built.stderr)}`);
  }
  const { eager, left } = await makeEager(path);
  await Deno.chmod(path, 0o755);
  return { path, eager, left };
}

if (import.meta.main) {
  try {
    const { path, eager, left } = await buildBundle(Deno.args[0] ?? "dist/stapfr.js");
    console.log(
      `${path}: ${eager} functions of the quick commands compiled eagerly (${left} methods left lazy)`,
    );
  } catch (err) {
    console.error(`bundle: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
