/**
 * The simulated `stap`: passes 1–2 with the simulator's language (`-p1`, `-p2`), `-p4` writes a simulated
 * `.ko`, and pass 5 runs it through the simulated staprun as stap 4.8 does (docs/systemtap-4.8.md 1.1, 1.3, 2, 3):
 * without `-F` in the foreground until exit(), `-T` or a signal; `-F` alone loads it with `staprun -L`
 * (memory mode); `-F -o FILE` starts the `staprun -D` daemon (file mode).
 *
 * Differences from a real stap: pass 5 runs staprun in this process instead of a child, so a SIGQUIT to a
 * foreground `stap` detaches instead of killing stap alone (docs/systemtap-4.8.md 2.4).
 * @module
 */
import { join } from "../../lib/path.ts";
import { checkScript } from "../lang/check.ts";
import { compileScript, ScriptError, type TapsetFile } from "../lang/mod.ts";
import type { ModuleSpec } from "./module_file.ts";
import { writeModuleFile } from "./module_file.ts";
import { elaborationDump, parseDump } from "./passes.ts";
import { defaultModuleName, parseStapArgs, type StapOptions } from "./stap_args.ts";
import { type CommandIo, staprunMain } from "./staprun.ts";

const VERSION_TEXT = "Systemtap translator/driver (version 4.8/0.188, Debian version 4.8-2)\n" +
  "Copyright (C) 2005-2022 Red Hat, Inc. and others\n" +
  "This is free software; see the source for copying conditions.\n" +
  "stapfr simulator: the kernel module is simulated; no root or kernel is needed.\n";

const USAGE = `Systemtap translator/driver (version 4.8/0.188, Debian version 4.8-2), simulated by stapfr

Usage: stap [options] FILE                    Run script in file.
   or: stap [options] -                       Run script on stdin.
   or: stap [options] -e SCRIPT               Run given script.

Options (the ones the simulator honours):
   --         end of translator options, script options follow
   -h --help  show help
   -V --version  show version
   -p NUM     stop after pass NUM 1-5 (parse, elaborate, translate, compile, run)
   -v         add verbosity to all passes
   -g         guru mode
   -e SCRIPT  run given script instead of script file
   -E SCRIPT  run given script in addition to the main script
   -I DIR     look in DIR for additional tapset files
   -s NUM     buffer size in megabytes per cpu, instead of 16
   -o FILE    send script output to file, instead of stdout
   -S size[,n]  switch to the next output file when it reaches size MB; keep n files
   -b         bulk (percpu file) mode
   -m MODULE  set probe module name, instead of stap_<hash>_<n>
   -r DIR|RELEASE  cross-compile for that kernel (its release goes into the module's vermagic)
   --modinfo NM=VAL  include a MODULE_INFO(NM,VAL) in the module
   -T TIME    terminate the script after TIME seconds
   -w         suppress warnings
   -x PID     sets target() to PID
   -F         flight recorder mode: load and detach (-o FILE: run in the background)
`;

/** `stap ARGS…`: returns the exit status. */
export async function stapMain(args: string[], io: CommandIo): Promise<number> {
  try {
    return await stap(args, io);
  } finally {
    await io.out.flush();
    await io.err.flush();
  }
}

async function readScript(o: StapOptions): Promise<{ source: string; file: string } | string> {
  if (o.scriptText !== undefined) return { source: o.scriptText, file: "<input>" };
  const file = o.scriptFile!;
  try {
    return {
      source: file === "-" ? await new Response(Deno.stdin.readable).text() : await Deno.readTextFile(file),
      file,
    };
  } catch {
    return `ERROR: Couldn't open script file '${file}': No such file or directory\n`;
  }
}

async function stap(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseStapArgs(args);
  if (parsed.kind === "help") {
    io.out.text(USAGE);
    return 0;
  }
  if (parsed.kind === "version") {
    io.err.text(VERSION_TEXT);
    return 0;
  }
  if (parsed.kind === "error") {
    io.err.text(parsed.stderr);
    return 1;
  }
  const o = parsed.options;
  for (const note of o.notes) io.err.text(note + "\n");
  const script = await readScript(o);
  if (typeof script === "string") {
    io.err.text(script);
    return 1;
  }
  let source = script.source;
  // stap -T adds a synthetic timer probe that calls exit() (docs/systemtap-4.8.md 1.1).
  if (o.timeoutSeconds !== undefined) {
    source += `\nprobe timer.ms(${Math.round(o.timeoutSeconds * 1000)}) { exit() }\n`;
  }

  if (o.verbose) io.err.text("Pass 1: parsed user script and 0 library scripts.\n");
  const checked = checkScript(source, { file: script.file, args: o.args, guru: o.guru });
  if (!checked.ok) {
    io.err.text(checked.text);
    return 1;
  }
  if (o.lastPass === 1) {
    io.out.text(parseDump(checked.script));
    return 0;
  }
  const tapsets = await readTapsets(o.includeDirs);
  try {
    const compiled = compileScript(source, {
      file: script.file,
      args: o.args,
      guru: o.guru,
      extraScripts: o.extraScripts,
      tapsets,
    });
    if (compiled.unsupported.length) {
      for (const u of compiled.unsupported) {
        io.err.text(`semantic error: ${u.message} (not simulated): at ${u.file}:${u.line}:${u.column}\n`);
      }
      io.err.text("Pass 2: analysis failed.  [man error::pass2]\n");
      return 1;
    }
  } catch (err) {
    if (!(err instanceof ScriptError)) throw err;
    io.err.text(err.text.endsWith("\n") ? err.text : err.text + "\n");
    io.err.text("Pass 2: analysis failed.  [man error::pass2]\n");
    return 1;
  }
  if (o.lastPass === 2) {
    io.out.text(elaborationDump(checked.script));
    return 0;
  }
  const release = await targetRelease(o.kernel, io);
  if (typeof release !== "string") {
    io.err.text(release.error);
    return 1;
  }
  let lastPass = o.lastPass;
  if (release !== io.release && lastPass > 4) {
    // stap 4.8 builds for another kernel but cannot run there (session.cxx).
    io.err.text("WARNING: kernel release/architecture mismatch with host forces last-pass 4.\n");
    lastPass = 4;
  }
  const name = o.moduleName ?? defaultModuleName(source, [
    ...o.extraScripts,
    ...o.args,
    o.bulk ? "-b" : "",
    o.guru ? "-g" : "",
    o.bufferSize ?? "",
  ]);
  const spec: ModuleSpec = {
    name,
    path: join(lastPass === 4 ? io.cwd : "/tmp", `${name}.ko`),
    scriptSource: source,
    bulk: o.bulk,
    guru: o.guru,
    args: o.args,
    bufferBytes: o.bufferBytes,
    release,
    modinfo: o.modinfo,
    ...(o.extraScripts.length ? { extraScripts: o.extraScripts } : {}),
    ...(tapsets.length ? { tapsets } : {}),
  };
  if (lastPass < 5) {
    if (lastPass === 4) {
      await writeModuleFile(spec);
      // stap prints the module's file name relative to its working directory, where it wrote it.
      io.out.text(`${name}.ko\n`);
    }
    return 0;
  }
  return await pass5(spec, o, io);
}

/**
 * The tapset files of the `-I` directories (`*.stp` in each, in name order). A directory that cannot be read
 * adds nothing, as stap goes on without it.
 */
async function readTapsets(dirs: readonly string[]): Promise<TapsetFile[]> {
  const out: TapsetFile[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await Array.fromAsync(Deno.readDir(dir))).filter((e) => e.isFile && e.name.endsWith(".stp"))
        .map((e) => e.name).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const file = join(dir, name);
      out.push({ file, source: await Deno.readTextFile(file) });
    }
  }
  return out;
}

/**
 * The release `-r` names: a release as it is, or a build tree's `include/config/kernel.release` (stap reads the
 * same file). Without `-r`, the running (simulated) kernel's.
 */
async function targetRelease(kernel: string | undefined, io: CommandIo): Promise<string | { error: string }> {
  if (kernel === undefined) return io.release;
  if (!kernel.includes("/")) return kernel;
  try {
    return (await Deno.readTextFile(join(kernel, "include/config/kernel.release"))).trim();
  } catch (err) {
    return {
      error: `Checking "${join(kernel, ".config")}" failed with error: ${
        err instanceof Deno.errors.NotFound ? "No such file or directory" : (err as Error).message
      }\n`,
    };
  }
}

/** Builds staprun's argv as stap 4.8 does (docs/systemtap-4.8.md 1.1) and runs it. */
async function pass5(spec: ModuleSpec, o: StapOptions, io: CommandIo): Promise<number> {
  const argv: string[] = [];
  for (let i = 1; i < o.verbose; i++) argv.push("-v");
  if (o.suppressWarnings) argv.push("-w");
  if (o.outfile !== undefined) argv.push("-o", o.outfile);
  if (o.targetCmd !== undefined) argv.push("-c", o.targetCmd);
  if (o.targetPid !== undefined) argv.push("-t", String(o.targetPid));
  if (o.bufferSize !== undefined) argv.push("-b", o.bufferSize);
  if (o.flightRecorder) argv.push(o.outfile !== undefined ? "-D" : "-L");
  if (o.moduleName === undefined) argv.push("-R");
  if (o.sizeSpec !== undefined) argv.push("-S", o.sizeSpec);
  argv.push(spec.path);
  if (o.verbose) io.err.text("Pass 5: starting run.\n");
  const started = performance.now();
  const rc = await staprunMain(argv, { ...io, argv0: "/usr/bin/staprun" }, spec);
  if (rc !== 0) {
    if (!o.suppressWarnings) io.err.text(`WARNING: /usr/bin/staprun exited with status: ${rc}\n`);
    io.err.text("Pass 5: run failed.  [man error::pass5]\n");
    return 1;
  }
  if (o.verbose) {
    io.err.text(`Pass 5: run completed in 0usr/0sys/${Math.round(performance.now() - started)}real ms.\n`);
  }
  return 0;
}
