/**
 * What the simulated `stap` prints for `-p1` (the parsed script) and `-p2` (what it resolved). The simulator
 * has no tapset elaboration of its own beyond the interpreter, so both are honest summaries of the parse:
 * `-p1` lists the declarations in source order as stap's parse-tree dump does (without the bodies), `-p2`
 * lists probe points and functions under stap's `# probes` / `# functions` headings.
 * @module
 */
import type { ProbePoint, Script } from "../lang/ast.ts";

/** A probe point as written: `kernel.function("vfs_read").return?`. */
export function pointText(p: ProbePoint): string {
  const parts = p.components.map((c) => {
    if (!c.arg) return c.name + (c.emptyParens ? "()" : "");
    const arg = c.arg.kind === "number" ? c.arg.text : JSON.stringify(c.arg.value);
    return `${c.name}(${arg})`;
  });
  return parts.join(".") + (p.sufficient ? "!" : p.optional ? "?" : "");
}

/** `stap -p1`: the parse tree, one declaration per line. */
export function parseDump(script: Script): string {
  const lines = ["# parse tree dump", `# file ${script.file}`];
  for (const item of script.items) {
    switch (item.kind) {
      case "probe":
        lines.push(`probe ${item.points.map(pointText).join(", ")}{ … }`);
        break;
      case "alias":
        lines.push(
          `probe ${item.names.map(pointText).join(", ")} ${item.style === "prologue" ? "=" : "+="} ${
            item.points.map(pointText).join(", ")
          }{ … }`,
        );
        break;
      case "function":
        lines.push(
          `function ${item.name}${item.returnType ? `:${item.returnType}` : ""} (${
            item.params.map((p) => p.name + (p.type ? `:${p.type}` : "")).join(", ")
          }){ … }`,
        );
        break;
      case "global":
        lines.push(`global ${item.name}`);
        break;
      default:
        lines.push("%{ … %}");
    }
  }
  return lines.join("\n") + "\n";
}

/** `stap -p2`: the probes and functions, as stap's elaboration listing heads them. */
export function elaborationDump(script: Script): string {
  const lines: string[] = [];
  if (script.globals.length) {
    lines.push("# globals", ...script.globals.map((g) => `${g.name}`));
  }
  if (script.functions.length) {
    lines.push(
      "# functions",
      ...script.functions.map((f) =>
        `${f.name}${f.returnType ? `:${f.returnType}` : ""} (${f.params.map((p) => p.name).join(", ")})`
      ),
    );
  }
  lines.push("# probes");
  for (const probe of script.probes) {
    for (const p of probe.points) lines.push(`${pointText(p)} /* <- ${pointText(p)} */`);
  }
  return lines.join("\n") + "\n";
}
