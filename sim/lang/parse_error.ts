/**
 * The errors of the simulator's parser and preprocessor, as stap reports them.
 * @module
 */

import type { Token } from "./lexer.ts";

/** A parse error as stap reports it: the message and the offending token (null: end of file). */
export class ParseError extends Error {
  readonly token: Token | null;
  /** After this error the parser skips tokens up to the next top-level keyword (stap's skip_some). */
  readonly skipSome: boolean;
  constructor(message: string, token: Token | null = null, skipSome = true) {
    super(message);
    this.name = "ParseError";
    this.token = token;
    this.skipSome = skipSome;
  }
}

/**
 * An error that stops stap altogether (an exception outside the parser's error handling, e.g. `bad lexical
 * cast` for `%( guru_mode == 0x0 …`): it prints only the message and nothing after it.
 */
export class FatalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FatalError";
  }
}
