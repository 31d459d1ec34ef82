/**
 * The shape of a command's declaration (lib/declarations/declarations.ts): its name, arguments, flags with their types,
 * defaults, units and help. Parsing (lib/cli/parse.ts), `--help` and the usage lines (lib/cli/help.ts), the
 * README's command reference (lib/cli/reference.ts), the shell completions (lib/completions/), the unit
 * writer's sorting of its arguments (lib/service/unit_args.ts) and the library's ranges where they overlap the
 * command line's are all read from the declarations. Types only: importing this file costs nothing.
 * @module
 */

/**
 * What a value is, which says its unit and how it is completed and documented:
 *
 * - `size`: bytes, with `K`, `M`, `G` (binary); a bare number is MiB, as in stap (`min`/`max` in bytes);
 * - `duration`: `ms`, `s`, `m`, `h`, `d` (`min`/`max` in milliseconds);
 * - `count`: a whole number (`min`/`max` as is);
 * - `file`, `dir`, `path`: a file, a directory, either (completed as such; `unit` makes them absolute);
 * - `text`, `url`, `regex`, `when`, `name`: anything else, said in words.
 */
export type ValueKind =
  | "text"
  | "size"
  | "duration"
  | "count"
  | "file"
  | "dir"
  | "path"
  | "url"
  | "regex"
  | "when"
  | "name";

/** One word a flag's value may be (`--on log`), with what follows it and what it does. */
export interface ChoiceDeclaration {
  /** The word. */
  readonly word: string;
  /** The words that follow it, as the usage says them (`FILE REGEX`). */
  readonly args?: string;
  /** What it does. */
  readonly help: string;
  /** Flags of its own, among its words (`--on exit-status --interval D`). */
  readonly flags?: readonly FlagDeclaration[];
}

/** One flag of a command. */
export interface FlagDeclaration {
  /** The long name, without the dashes (`buffer` is `--buffer`). */
  readonly long: string;
  /** The one-letter short name (`e` is `-e`). */
  readonly short?: string;
  /** The placeholder of its value (`SIZE`); a flag without one is a switch. */
  readonly value?: string;
  /** What the value is (default `text`). */
  readonly kind?: ValueKind;
  /**
   * The value may be left out (`--ship [URL]`): the next word is its value only when it starts with this
   * prefix (`s3://`); given alone, the flag's value is `true`.
   */
  readonly optionalPrefix?: string;
  /** The value it has when it is not given (the parser fills it in; help and docs say it). */
  readonly default?: string;
  /** The default in words, when it is not a value the parser could fill in (`the running kernel's`). */
  readonly defaultText?: string;
  /** The smallest value it takes, in the kind's unit (bytes, milliseconds, a count). */
  readonly min?: number;
  /** The largest value it takes, in the kind's unit. */
  readonly max?: number;
  /** Given several times, its values are collected. */
  readonly multiple?: boolean;
  /** It must be given (`plan --window`). */
  readonly required?: boolean;
  /** It applies only together with this other flag (long name): refused without it, nested in the usage. */
  readonly needs?: string;
  /** The words its value may be. */
  readonly choices?: readonly ChoiceDeclaration[];
  /** What it does, for `--help`. */
  readonly help: string;
}

/** One positional argument. */
export interface PositionalDeclaration {
  /** As the usage says it (`NAME`, `SCRIPT_FILE`, `ID`). */
  readonly name: string;
  /**
   * What it is, for completion: a recorder's name, a snapshot's ID, a file, or one of `choices`.
   */
  readonly kind?: "recorder" | "snapshot" | "file" | "dir" | "text";
  /** It may be left out. */
  readonly optional?: boolean;
  /** It takes every remaining positional word. */
  readonly variadic?: boolean;
  /** The words it may be (`bash`, `zsh`, `fish`). */
  readonly choices?: readonly string[];
}

/** One form of a command: the command itself, or one of its subcommands (`snapshots show`). */
export interface FormDeclaration {
  /** The subcommand word; none for the command's own form. */
  readonly keyword?: string;
  /** What the form does (one line, for help; a command's first form takes the command's summary). */
  readonly summary?: string;
  /**
   * A form for stapfr's own scripts (the completion scripts ask `completions words` for names): help lists
   * it, the completions do not offer it.
   */
  readonly internal?: boolean;
  readonly positionals: readonly PositionalDeclaration[];
  readonly flags: readonly FlagDeclaration[];
  /** What it takes after a literal `--` (`STAP_ARGS…`), with its help; without it, `--` ends nothing. */
  readonly rest?: { readonly name: string; readonly help: string };
  /**
   * Exactly one of these is given (positional names and flag long names): `(SCRIPT_FILE | -e SCRIPT)` in
   * the usage. The command checks it, with its own words.
   */
  readonly oneOf?: readonly string[];
}

/** One command. */
export interface CommandDeclaration {
  readonly name: string;
  /** One line: what it does. */
  readonly summary: string;
  /** Its forms: the command's own first, then its subcommands. */
  readonly forms: readonly FormDeclaration[];
  /** It also takes every flag of these commands (`unit` takes `start`'s and `watch`'s). */
  readonly flagsFrom?: readonly string[];
  /** Paragraphs of help after the flags. */
  readonly notes?: readonly string[];
  /** Every argument is passed on as it is (`sim`): nothing is parsed, nothing completed after its word. */
  readonly passThrough?: boolean;
  /**
   * Ctrl-Z (SIGTSTP) detaches its reader before the process stops, and it attaches again when continued
   * (lib/cli/suspend.ts): the commands that show live output.
   */
  readonly suspendable?: boolean;
  /** The command handles SIGINT and SIGTERM itself (cli.ts installs no listeners for it). */
  readonly ownSignals?: boolean;
  /**
   * The command ends well within the 500 ms after which Deno answers SIGUSR1 by opening its inspector, so it
   * does not pay for the restart that blocks SIGUSR1 (lib/inspector_guard.ts); every other command does.
   */
  readonly quick?: boolean;
}
