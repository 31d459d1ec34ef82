/**
 * The one file stapfr ships as, for the tests: the bundle (`deno task bundle`, JavaScript that `deno` runs) or
 * the compiled binary (`deno task compile`, the runtime included). Tests run the artifact `STAPFR_BIN` names,
 * or build the bundle from this tree, as the task does.
 * @module
 */
import { fileURLToPath } from "node:url";

/** The two kinds of artifact. */
export type ArtifactKind = "bundle" | "compiled";

/** This repository's root. */
const REPO = fileURLToPath(new URL("../../", import.meta.url));

/**
 * What kind of artifact a file is, from its first bytes: an ELF executable is the compiled binary, a script
 * (`#!`, the line cli.ts starts with) the bundle; anything else is no artifact.
 */
export async function artifactKind(path: string): Promise<ArtifactKind> {
  const file = await Deno.open(path);
  try {
    const head = new Uint8Array(4);
    const n = (await file.read(head)) ?? 0;
    const text = new TextDecoder().decode(head.subarray(0, n));
    if (text === "\x7fELF") return "compiled";
    if (text.startsWith("#!")) return "bundle";
    throw new Error(`${path} is neither the bundle nor the compiled binary`);
  } finally {
    file.close();
  }
}

/**
 * The `deno` arguments that build the bundle into `out`: the bundle task's own (deno.json), with its output
 * replaced, so that the tests build exactly what the task builds.
 */
export function bundleArgs(out: string): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${REPO}/deno.json`));
  const command: string = config.tasks.bundle.command.split(" && ")[0];
  const words = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
  if (words[0] !== "deno") throw new Error(`The bundle task does not start with deno: ${command}`);
  const args = words.slice(1);
  const at = args.indexOf("--output");
  if (at < 0) throw new Error(`The bundle task names no --output: ${command}`);
  args[at + 1] = out;
  return args;
}

/** Builds the bundle from this tree into `out`, executable as the bundle task leaves it. */
export async function buildBundle(out: string): Promise<void> {
  const built = await new Deno.Command(Deno.execPath(), {
    args: bundleArgs(out),
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!built.success) {
    throw new Error(`deno ${bundleArgs(out).join(" ")} failed:\n${new TextDecoder().decode(built.stderr)}`);
  }
  await Deno.chmod(out, 0o755);
}
