/**
 * `stapfr dump NAME` of a text file recorder, as a user runs it into a pipe, a file or a full device: the bytes
 * go from the files to stdout in the kernel where stdout allows (lib/read_path/send_file.ts), and everything a
 * user can see is as it was: the same bytes as `dump -o` (which writes the usual way) and as a stapfr without
 * FFI, the same report of what the cleaner cut, a closed pipe as quiet as ever, Ctrl-C with the bytes printed
 * counted exactly, a second Ctrl-C on a consumer that stopped reading still ending it.
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { registerFinished } from "../../bench/support/file_run.ts";
import { joinBytes } from "../../lib/bytes.ts";
import { LIBRARY_PERMISSIONS } from "../support/library_program.ts";
import { exitWithin } from "../support/readers.ts";
import { SimWorld } from "../support/sim_world.ts";
import { CLI } from "../support/stapfr.ts";

const encoder = new TextEncoder();
const MiB = 1024 * 1024;

/** Numbered lines, `bytes` of them (the last one cut short, without a newline, when it falls so). */
function lines(from: number, bytes: number, width = 80): Uint8Array {
  const parts: string[] = [];
  let size = 0;
  for (let n = from; size < bytes; n++) {
    const line = `${String(n).padStart(9, "0")} vfs_read pid=4242 comm=postgres `.padEnd(width - 1, "x") +
      "\n";
    parts.push(line);
    size += line.length;
  }
  return encoder.encode(parts.join("").slice(0, bytes));
}

/** A run with what the line cleaner cuts and keeps, and files that end in the middle of a line. */
function run(mib: number): Uint8Array[] {
  const damaged = joinBytes([
    encoder.encode("0 damaged \x00\x1f\x00\x00 line\ncaf\u00e9 \u2192 kept\n"),
    new Uint8Array([0x6e, 0x6f, 0x74, 0x20, 0xff, 0xfe, 0x0a]), // "not \xff\xfe": not UTF-8
  ]);
  const long = encoder.encode("L".repeat(MiB + 100_000) + "\x01" + "L".repeat(1000) + "\n");
  const files = [
    joinBytes([lines(1, 300_000), damaged, lines(5000, 900_000)]),
    joinBytes([long, lines(2e5, MiB)]),
  ];
  for (let i = 0; i < mib; i++) files.push(lines(1e6 * (i + 1), MiB + 12345 * i));
  return files;
}

/** Registers `name` as a finished text file recorder whose run is `files`. */
async function recorder(world: SimWorld, name: string, files: Uint8Array[]): Promise<Uint8Array> {
  const runDir = `${world.work}/out/${name}-run`;
  await Deno.mkdir(runDir, { recursive: true });
  for (const [i, bytes] of files.entries()) await Deno.writeFile(`${runDir}/${name}.out.${i}`, bytes);
  await Deno.mkdir(world.stateDir, { recursive: true });
  const all = joinBytes(files);
  // The registry's rotation size: a whole number of bytes, as a real recorder's is.
  const rotation = Math.ceil(all.length / files.length) * files.length;
  await registerFinished(world.stateDir, name, world.work, runDir, rotation, files.length);
  return all;
}

async function dump(world: SimWorld, args: string[], withoutFfi = false) {
  const command = withoutFfi
    ? new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...LIBRARY_PERMISSIONS, CLI, "--sim", ...args],
      env: world.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    })
    : world.command(["--sim", ...args]);
  const out = await command.output();
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

Deno.test("a file dump into a pipe is byte for byte what dump -o writes, with FFI and without; --raw is the files", async () => {
  await SimWorld.with(async (world) => {
    const files = await recorder(world, "t", run(6));
    const piped = await dump(world, ["dump", "t"]);
    assertEquals(piped.code, 0, piped.stderr);
    // What the cleaner cut, said as before: two damaged lines and the long one with a control byte in it.
    assertMatch(
      piped.stderr,
      /^stapfr: Cut 3 damaged lines \(\d+ bytes\) from the output: 2 with binary bytes, 1 not UTF-8;/,
    );
    const path = `${world.work}/dump.txt`;
    const written = await dump(world, ["dump", "t", "-o", path]);
    assertEquals(written.code, 0, written.stderr);
    assert(same(piped.stdout, await Deno.readFile(path)), "dump | … and dump -o hold the same bytes");
    assertEquals(piped.stderr, written.stderr.replace(/^Wrote .*\n/m, ""));
    const plain = await dump(world, ["dump", "t"], true);
    assertEquals(plain.stderr, piped.stderr);
    assert(same(plain.stdout, piped.stdout), "without FFI, the same bytes");
    for (const withoutFfi of [false, true]) {
      const raw = await dump(world, ["dump", "--raw", "t"], withoutFfi);
      assertEquals([raw.code, raw.stderr], [0, ""]);
      assert(same(raw.stdout, files), `--raw is the files as they are${withoutFfi ? " (without FFI)" : ""}`);
    }
  });
});

Deno.test("a file dump into a file, an appending file and a full device: the same bytes, and the same failure", async () => {
  await SimWorld.with(async (world) => {
    await recorder(world, "t", run(3));
    const { stdout: expected, stderr: cut } = await dump(world, ["dump", "t"]);
    const into = async (redirect: string, path: string) => {
      const child = new Deno.Command("sh", {
        args: ["-c", `out=$1; shift; exec "$@" ${redirect} "$out"`, "sh", path, ...world.argv(["dump", "t"])],
        env: world.env,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        detached: true,
      }).spawn();
      return await exitWithin(child);
    };
    const file = `${world.work}/out.txt`;
    assertEquals(await into(">", file), { code: 0, stderr: cut });
    assert(same(await Deno.readFile(file), expected), "into a file");
    // sendfile refuses a file opened to append: written the usual way, after what was there.
    await Deno.writeTextFile(file, "before\n");
    assertEquals(await into(">>", file), { code: 0, stderr: cut });
    assert(same(await Deno.readFile(file), joinBytes([encoder.encode("before\n"), expected])), "appended");
    const full = await into(">", "/dev/full");
    assertEquals(full.code, 1, full.stderr);
    // As before: Deno's write says it (sendfile does not write to /dev/full), in stapfr's words.
    assertEquals(
      full.stderr,
      'stapfr: Cannot dump "t": no space left on device\nThe file system is full: free space on it, or use another one\n',
    );
  });
});

Deno.test("a consumer that closes early ends a file dump quietly: exit 0, nothing on stderr", async () => {
  await SimWorld.with(async (world) => {
    await recorder(world, "t", run(24));
    const child = world.spawn(["dump", "t"]);
    const reader = child.stdout.getReader();
    await reader.read();
    await reader.cancel();
    const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
    assertEquals([status.code, stderr], [0, ""]);
  });
});

Deno.test("Ctrl-C during a file dump: exit 130, and the partial dump's bytes are those the consumer got", async () => {
  await SimWorld.with(async (world) => {
    await recorder(world, "t", run(24));
    const child = world.spawn(["dump", "t"]);
    const reader = child.stdout.getReader();
    let printed = (await reader.read()).value?.length ?? 0;
    // The dump waits on a full pipe now; Ctrl-C, then read on, as a slow consumer: it stops at the end of the
    // chunk it was at, or the next.
    Deno.kill(-child.pid, "SIGINT");
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      printed += r.value.length;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
    assertEquals(status.code, 130, stderr);
    const m = /^stapfr: Interrupted: the dump printed is partial \((\d+) bytes\); "t" keeps recording$/m.exec(
      stderr,
    );
    assert(m, stderr);
    assertEquals(Number(m[1]), printed);
    assert(printed < 24 * MiB, `${printed} bytes: it stopped early`);
  });
});

Deno.test("a file dump whose consumer stopped reading still ends at the second Ctrl-C", async () => {
  await SimWorld.with(async (world) => {
    await recorder(world, "t", run(24));
    const child = world.spawn(["dump", "t"]);
    const reader = child.stdout.getReader();
    await reader.read();
    // Nothing more is read: the dump waits on a full pipe, and must still take in signals.
    Deno.kill(-child.pid, "SIGINT");
    await new Promise((r) => setTimeout(r, 300));
    Deno.kill(-child.pid, "SIGINT");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      child.status,
      new Promise<"hung">((r) => timer = setTimeout(() => r("hung"), 10_000)),
    ]);
    clearTimeout(timer);
    if (status === "hung") Deno.kill(-child.pid, "SIGKILL");
    await reader.cancel();
    await child.stderr.cancel();
    assertEquals(status === "hung" ? "hung" : status.code, 130);
  });
});
