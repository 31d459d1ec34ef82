/**
 * The part of the bash and zsh completion scripts that is the same shell code in both: asking stapfr for
 * recorder names and snapshot IDs (`stapfr completions words names|snapshots`, one a line), and the tables of
 * each command's flags, keywords and choices.
 * @module
 */
import type { CommandCompletion } from "./model.ts";
import { caseTable } from "./shell_words.ts";

/** The `_stapfr_query` and `_stapfr_data` shell functions for the commands of `model`. */
export function queryAndData(model: CommandCompletion[]): string {
  const table = (pick: (c: CommandCompletion) => string[]) =>
    caseTable(model.map((c) => [c.name, pick(c)]), "      ");
  const choices = model.flatMap((c) =>
    Object.entries(c.choices).map(([flag, list]) => [`${c.name}:${flag}`, list] as [string, string[]])
  );
  return `# Recorder names or snapshot IDs, one a line, from the stapfr being completed ("completions words").
_stapfr_query() {
  local what=$1
  shift
  "$@" completions words "$what" 2>/dev/null
}

_stapfr_data() {
  local kind=$1 cmd=$2
  case $kind in
    flags)
      case $cmd in
${table((c) => c.flags)}
      esac ;;
    value_flags)
      case $cmd in
${table((c) => c.valueFlags)}
      esac ;;
    file_flags)
      case $cmd in
${table((c) => c.fileFlags)}
      esac ;;
    dir_flags)
      case $cmd in
${table((c) => c.dirFlags)}
      esac ;;
    keywords)
      case $cmd in
${table((c) => c.keywords)}
      esac ;;
    takes_name)
      case $cmd in
${table((c) => (c.takesName ? ["yes"] : []))}
      esac ;;
    choices)
      case $cmd in
${caseTable(choices, "      ")}
      esac ;;
  esac
}
`;
}
