/**
 * Writing the table's words into shell scripts. They are flags, command names and keywords; anything else
 * is refused rather than quoted, so that no generated script can carry a word a shell would read as code.
 * @module
 */

const SAFE = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$|^--?[A-Za-z0-9][A-Za-z0-9_-]*$/;

function safe(word: string): string {
  if (!SAFE.test(word)) throw new RangeError(`Unexpected word "${word}" in the command table`);
  return word;
}

/** Words separated by spaces (every one checked). */
export function words(list: readonly string[]): string {
  return list.map(safe).join(" ");
}

/** The arms of a POSIX `case` (`key) echo "w1 w2" ;;`), skipping keys without words. */
export function caseTable(rows: readonly [string, readonly string[]][], indent: string): string {
  return rows
    .filter(([, list]) => list.length > 0)
    .map(([key, list]) => `${indent}  ${key.split(":").map(safe).join(":")}) echo "${words(list)}" ;;`)
    .join("\n");
}
