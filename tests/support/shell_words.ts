/**
 * Splitting a shell command line of the documentation into words, as the shell would: for the tests that
 * read the examples of README.md and docs/ (tests/docs/examples_test.ts, tests/docs/declarations_test.ts).
 * @module
 */

/** Splits a shell command line into words: single and double quotes, backslash escapes, `#` comments. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      // An unclosed quote runs to the end of the line.
      const end = line.indexOf("'", i + 1) < 0 ? line.length : line.indexOf("'", i + 1);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= "";
      for (i++; i < line.length && line[i] !== '"'; i++) word += line[i] === "\\" ? line[++i] : line[i];
    } else if (c === "\\") word = (word ?? "") + line[++i];
    else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "#" && word === null) break;
    else word = (word ?? "") + c;
  }
  if (word !== null) words.push(word);
  return words;
}
