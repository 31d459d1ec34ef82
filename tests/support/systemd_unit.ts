/**
 * Reading a systemd unit back as systemd does, for the tests of `stapfr unit`: a parser of the `Exec*=`
 * command-line syntax (systemd.service(5) "Command lines"), systemd's own reading of the unit (the manager's
 * test mode dumps the argv it parsed), `systemd-analyze verify`, and the `$` substitution done at exec time.
 * @module
 */

const C_UNESCAPE: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  s: " ",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

/** One backslash escape at `text[i]` (the character after the backslash); returns the text and the length. */
function unescapeAt(text: string, i: number): [string, number] {
  const c = text[i];
  if (c === undefined) throw new SyntaxError("Backslash at the end of the line");
  if (C_UNESCAPE[c] !== undefined) return [C_UNESCAPE[c], 1];
  if (c === "x" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
    return [String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16)), 3];
  }
  if (/^[0-7]{3}$/.test(text.slice(i, i + 3))) {
    return [String.fromCharCode(parseInt(text.slice(i, i + 3), 8)), 3];
  }
  if (c === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) {
    return [String.fromCodePoint(parseInt(text.slice(i + 1, i + 5), 16)), 5];
  }
  throw new SyntaxError(`Invalid escape "\\${c}"`);
}

/**
 * Splits an `Exec*=` value into words as systemd does: whitespace separates, `"…"` and `'…'` group, backslash
 * escapes are C escapes inside and outside quotes, `%%` is `%` (any other specifier is refused here). `$` is
 * left as it is: it is substituted when the command runs ({@linkcode substituteEnv}). A bare `;` word would
 * separate commands and is refused.
 */
export function parseExecLine(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  const text = line.replace(/%(.)/g, (_, c) => {
    if (c !== "%") throw new SyntaxError(`Specifier "%${c}" in a stapfr unit`);
    return "\u0000PCT";
  });
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    let word = "";
    let bare = true;
    while (i < text.length && !/\s/.test(text[i])) {
      const c = text[i];
      if (c === '"' || c === "'") {
        bare = false;
        i++;
        while (true) {
          if (i >= text.length) throw new SyntaxError("Unbalanced quoting");
          if (text[i] === c) break;
          if (text[i] === "\\") {
            const [s, n] = unescapeAt(text, i + 1);
            word += s;
            i += n + 1;
          } else word += text[i++];
        }
        i++;
      } else if (c === "\\") {
        bare = false;
        const [s, n] = unescapeAt(text, i + 1);
        word += s;
        i += n + 1;
      } else word += text[i++];
    }
    if (bare && word === ";") throw new SyntaxError("A bare ; separates commands");
    words.push(word.replaceAll("\u0000PCT", "%"));
  }
  return words;
}

/** The substitution systemd does when it runs a command: `$$` is `$`; `${NAME}` and `$NAME` take a value. */
export function substituteEnv(word: string, env: Record<string, string> = {}): string {
  return word.replace(/\$(\$|\{(\w+)\}|(\w+))/g, (_, all, braced, plain) => {
    if (all === "$") return "$";
    return env[braced ?? plain] ?? "";
  });
}

/** The settings of a unit file as `key → values` (repeated keys in order), by section-less key. */
export function unitSettings(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) (out[m[1]] ??= []).push(m[2]);
  }
  return out;
}

/** `systemd-analyze verify --man=no UNIT`: its exit code and everything it said. */
export async function analyzeVerify(unitFile: string): Promise<{ code: number; output: string } | string> {
  try {
    const out = await new Deno.Command("systemd-analyze", {
      args: ["verify", "--man=no", unitFile],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, output: (dec.decode(out.stdout) + dec.decode(out.stderr)).trim() };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return "systemd-analyze is not installed (Debian's systemd package)";
    }
    throw err;
  }
}

const SYSTEMD = "/lib/systemd/systemd";

// One double-quoted or bare word of the dump's "Command Line:" (systemd's quote_command_line).
function decodeDumpLine(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === " ") {
      i++;
      continue;
    }
    let word = "";
    if (line[i] === '"') {
      i++;
      while (line[i] !== '"') {
        if (i >= line.length) throw new SyntaxError("Unbalanced dump quoting");
        if (line[i] === "\\") {
          const c = line[i + 1];
          if ("$`".includes(c)) {
            word += c;
            i += 2;
          } else {
            const [s, n] = unescapeAt(line, i + 1);
            word += s;
            i += n + 1;
          }
        } else word += line[i++];
      }
      i++;
    } else {
      while (i < line.length && line[i] !== " ") word += line[i++];
    }
    words.push(word);
  }
  return words;
}

/** What systemd itself read from a unit: the argv of each command, its environment and mount dependencies. */
export interface SystemdReading {
  exec: Record<string, string[][]>;
  environment: string[];
  mounts: string[];
}

/**
 * Has systemd read a unit file in its test mode (`systemd --test --system`, which dumps the argv of every
 * command as it parsed them, before `$` substitution). Test mode refuses root, so as root it runs as nobody:
 * the unit's directory must be world-readable. Returns a reason when it cannot run here.
 */
export async function systemdReading(unitDir: string, unit: string): Promise<SystemdReading | string> {
  try {
    await Deno.stat(SYSTEMD);
  } catch {
    return `${SYSTEMD} is not installed`;
  }
  const argv = [SYSTEMD, "--test", "--system", `--unit=${unit}`, "--log-target=console"];
  const asNobody = Deno.uid() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
  const full = [...asNobody, ...argv];
  let out;
  try {
    out = await new Deno.Command(full[0], {
      args: full.slice(1),
      // The trailing colon keeps the system's unit directories (local-fs.target and the rest).
      env: { SYSTEMD_UNIT_PATH: `${unitDir}:` },
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return `${full[0]} is not installed`;
    throw err;
  }
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    return `systemd --test failed: ${new TextDecoder().decode(out.stderr).trim().slice(0, 300)}`;
  }
  const start = text.indexOf(`-> Unit ${unit}:`);
  if (start < 0) return `systemd --test did not dump ${unit}`;
  const next = text.indexOf("\n\t-> Unit ", start + 1);
  const section = text.slice(start, next < 0 ? undefined : next).split("\n");
  const reading: SystemdReading = { exec: {}, environment: [], mounts: [] };
  let current: string | undefined;
  for (const line of section) {
    const exec = /^\t\t-> (Exec\w+):$/.exec(line);
    if (exec) current = exec[1];
    const cmd = /^\t\t\tCommand Line: (.*)$/.exec(line);
    if (cmd && current) (reading.exec[current] ??= []).push(decodeDumpLine(cmd[1]));
    const env = /^\t\tEnvironment: (.*)$/.exec(line);
    if (env) reading.environment.push(...decodeDumpLine(env[1]));
    const mount = /^\t\tRequiresMountsFor: (.*) \(origin-file\)$/.exec(line);
    if (mount) reading.mounts.push(mount[1]);
  }
  return reading;
}
