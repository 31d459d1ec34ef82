/**
 * The procfs files of a module's `procfs("NAME").read` probes (`ROOT/proc/systemtap/MODULE/NAME`), such as
 * stapfr's `stapfr_counters`. On a kernel, reading the file runs the probe; a file on disk cannot run code
 * when it is read, so the module host runs each probe as time passes ({@linkcode ProcfsFiles.refresh}, every
 * tick of its loop) and replaces the file with the text when it changed. A reader therefore sees what was
 * true at some recent moment (what came after it is seen by the next read), always a whole file (written
 * aside, then renamed over the old one), and never waits: it is a plain file, which stays (with its last
 * text) if the host dies, and goes with the module's directory at unload.
 *
 * The difference from a kernel: a probe whose body does more than set `$value` (prints, counts) runs at every
 * refresh rather than at every read.
 * @module
 */
import type { SimModule } from "./module.ts";

/** Keeps one module's procfs files up to date. */
export class ProcfsFiles {
  readonly #module: SimModule;
  readonly #dir: string;
  readonly #written = new Map<string, string>();

  constructor(module: SimModule, dir: string) {
    this.#module = module;
    this.#dir = dir;
  }

  /** Runs each procfs probe and rewrites the files whose text changed. */
  refresh(): void {
    for (const name of this.#module.procfsFiles) {
      const text = this.#module.readProcfs(name);
      if (text === undefined || this.#written.get(name) === text) continue;
      if (this.#write(name, text)) this.#written.set(name, text);
    }
  }

  /** Writes the file aside and renames it into place (mode 0400, as the runtime makes it). */
  #write(name: string, text: string): boolean {
    const path = `${this.#dir}/${name}`;
    const temp = `${this.#dir}/.${name}.${Deno.pid}.tmp`;
    // The probe's text is a byte string: one byte per character.
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
    try {
      Deno.removeSync(temp);
    } catch { /* none left over */ }
    try {
      Deno.writeFileSync(temp, bytes, { mode: 0o400, createNew: true });
      Deno.renameSync(temp, path);
      return true;
    } catch {
      // The module's directory is going (unload): nothing to keep up to date.
      return false;
    }
  }
}
