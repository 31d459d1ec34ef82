/**
 * The one file stapfr ships as, for the tests: the bundle (`deno task bundle`, JavaScript that `deno` runs) or
 * the compiled binary (`deno task compile`, the runtime included). Tests run the artifact `STAPFR_BIN` names,
 * or build the bundle from this tree, as the task does.
 * @module
 */

/** The two kinds of artifact. */
export type ArtifactKind = "bundle" | "compiled";

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

/** Builds the bundle from this tree, as the bundle task does. */
export { buildBundle } from "../../build/bundle.ts";
