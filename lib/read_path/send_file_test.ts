import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { joinBytes } from "../bytes.ts";
import { LineCleaner, MAX_HELD_LINE } from "./clean.ts";
import { type ByteSink, COPY_BLOCK, copyFiles } from "./concat.ts";
import { takingFileChunks } from "./file_chunks.ts";
import type { RunFile } from "./files.ts";
import { READ_SIZE, SendfileOutput, sendFiles, WAIT_MS } from "./send_file.ts";

const encoder = new TextEncoder();

async function writeFiles(dir: string, contents: Uint8Array[]): Promise<RunFile[]> {
  const files: RunFile[] = [];
  for (const [i, bytes] of contents.entries()) {
    const path = `${dir}/o.${i}`;
    await Deno.writeFile(path, bytes);
    files.push({ path, name: `o.${i}`, cpu: null, index: i });
  }
  return files;
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "stapfr-send-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Numbered lines of about `width` bytes, `bytes` of them in all (the last one cut short, without a newline). */
function lines(from: number, bytes: number, width = 60): Uint8Array {
  let text = "";
  for (let n = from; text.length < bytes; n++) text += `${n} `.padEnd(width - 1, "x") + "\n";
  return encoder.encode(text.slice(0, bytes));
}

/**
 * A run with what the cleaner must get right: long lines (longer than a read step, and than MAX_HELD_LINE, one
 * of them damaged past its first MiB), damaged and UTF-8 lines, and files that end in the middle of a line.
 */
function hardRun(): Uint8Array[] {
  const longClean = encoder.encode("L".repeat(MAX_HELD_LINE + 300_000) + "\n");
  const longDamaged = encoder.encode("D".repeat(MAX_HELD_LINE + 200_000) + "\0" + "D".repeat(50_000) + "\n");
  return [
    joinBytes([lines(1, 700_000), encoder.encode("caf\u00e9 \u2192 ok\nbad\x01line\n"), lines(2e4, 600_000)]),
    joinBytes([
      encoder.encode("end of the line cut at the file's end\n"),
      longClean,
      lines(3e4, 2_000_000, 200),
    ]),
    joinBytes([lines(5e4, 50_000), longDamaged, encoder.encode("x".repeat(200_000)), lines(6e4, 1_500_000)]),
    lines(8e4, COPY_BLOCK), // exactly a block: its end comes with a read of nothing
    lines(9e4, 3 * COPY_BLOCK + 17),
  ];
}

/** What a sink is given, and the stream offsets where it was told a block ends. */
async function collect(
  copy: (sink: ByteSink) => Promise<{ bytes: number; missing: number }>,
  clean = false,
  ignoreMore = false,
) {
  const cleaner = new LineCleaner();
  const out: Uint8Array[] = [];
  const ends: number[] = [];
  let offset = 0;
  const result = await copy(async (chunk, more) => {
    offset += chunk.length;
    if (!more) ends.push(offset);
    if (!clean) out.push(chunk.slice());
    else for (const piece of cleaner.pieces(chunk, ignoreMore ? false : more)) out.push(piece.slice());
    await Promise.resolve();
  });
  if (clean) out.push(cleaner.finish());
  return { bytes: joinBytes(out), ends, result, counts: cleaner.counts };
}

Deno.test("sendFiles hands on what copyFiles does, its blocks ending where copyFiles ends its chunks", async () => {
  await withDir(async (dir) => {
    const files = await writeFiles(dir, hardRun());
    // From an offset, and with a file rotated away before it could be opened.
    const list = [{ ...files[0], offset: 1234 }, { ...files[1], path: `${dir}/gone` }, ...files.slice(1)];
    const copied = await collect((sink) => copyFiles(list, sink));
    const sent = await collect((sink) => sendFiles(list, takingFileChunks(sink)));
    assertEquals(sent.result, copied.result);
    assertEquals(copied.result.missing, 1);
    assert(sent.bytes.length === copied.bytes.length && sent.bytes.every((b, i) => b === copied.bytes[i]));
    assertEquals(sent.ends, copied.ends);
    // It read in steps (the sink never sent anything to make the reads larger): more chunks than blocks.
    assert(READ_SIZE < COPY_BLOCK);
  });
});

Deno.test("the line cleaner's output is the same from sendFiles' steps as from copyFiles' blocks", async () => {
  await withDir(async (dir) => {
    const files = await writeFiles(dir, hardRun());
    const copied = await collect((sink) => copyFiles(files, sink), true);
    const sent = await collect((sink) => sendFiles(files, takingFileChunks(sink)), true);
    assertEquals(new TextDecoder().decode(sent.bytes), new TextDecoder().decode(copied.bytes));
    assertEquals(sent.counts, copied.counts);
    assertEquals(copied.counts.reasons, { binary: 2, invalid_utf8: 0, stale: 0 });
    // Not by chance: a cleaner told nothing of the blocks lets the damaged long line go at another place.
    const blind = await collect((sink) => sendFiles(files, takingFileChunks(sink)), true, true);
    assertNotEquals(blind.bytes.length, copied.bytes.length);
  });
});

Deno.test("a file removed before it is opened counts as missing; one removed while read is read to its end", async () => {
  await withDir(async (dir) => {
    const run = async (copy: typeof copyFiles) => {
      const files = await writeFiles(dir, [lines(1, 300_000), lines(2, 300_000), lines(3, 300_000)]);
      // stapio rotating meanwhile: the second file is deleted before the copy gets to it, the first while it is
      // read. (Deleted at the first chunk, the second could race the copy's read-ahead, which opens the next
      // file while the sink runs.)
      await Deno.remove(files[1].path);
      let first = true;
      return await collect((sink) =>
        copy(
          files,
          takingFileChunks(async (chunk, more) => {
            if (first) await Deno.remove(files[0].path);
            first = false;
            await sink(chunk, more);
          }),
        )
      );
    };
    const copied = await run(copyFiles);
    const sent = await run(sendFiles);
    assertEquals([sent.result, sent.bytes.length], [copied.result, copied.bytes.length]);
    assertEquals([sent.result.missing, sent.bytes.length], [1, 600_000]);
  });
});

Deno.test("a failing sink stops sendFiles, leaving no file or library open", async () => {
  await withDir(async (dir) => {
    const files = await writeFiles(dir, [lines(1, 500_000), lines(2, 500_000)]);
    let calls = 0;
    await assertRejects(
      () =>
        sendFiles(
          files,
          takingFileChunks(() => {
            calls++;
            return Promise.reject(new Deno.errors.BrokenPipe("closed"));
          }),
        ),
      Deno.errors.BrokenPipe,
    );
    assertEquals(calls, 1);
  });
});

// The test's own libc, for descriptors to send to (the flags are the same on x86_64 and aarch64).
const LIBC = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
} as const;
const O_WRONLY = 0o1, O_CREAT = 0o100, O_TRUNC = 0o1000, O_APPEND = 0o2000, O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

async function withLibc<T>(
  fn: (libc: Deno.DynamicLibrary<typeof LIBC>["symbols"]) => Promise<T>,
): Promise<T> {
  const library = Deno.dlopen("libc.so.6", LIBC);
  try {
    return await fn(library.symbols);
  } finally {
    library.close();
  }
}

/** A sink that sends through `out` and writes what it does not send itself (as the command line's stdout). */
function sendingSink(out: SendfileOutput, write: (bytes: Uint8Array) => void, counts: { sent: number }) {
  return takingFileChunks(async (chunk: Uint8Array) => {
    const sent = await out.send(chunk) ?? 0;
    counts.sent += sent;
    if (sent < chunk.length) write(chunk.subarray(sent));
  });
}

Deno.test("SendfileOutput into a file sends the file chunks and writes the cleaner's copies; an O_APPEND file falls back to writes", async () => {
  await withDir(async (dir) => {
    await withLibc(async (libc) => {
      const files = await writeFiles(dir, hardRun());
      const expected = await collect((sink) => copyFiles(files, sink), true);
      for (const append of [false, true]) {
        const path = `${dir}/out-${append}`;
        const flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (append ? O_APPEND : 0);
        const fd = libc.open(encoder.encode(`${path}\0`), flags, 0o600);
        assert(fd >= 0);
        const counts = { sent: 0 };
        let tail: Uint8Array = new Uint8Array();
        try {
          const write = (bytes: Uint8Array) => {
            for (let at = 0; at < bytes.length;) {
              const n = Number(libc.write(fd, bytes.subarray(at), BigInt(bytes.length - at)));
              assert(n > 0);
              at += n;
            }
          };
          const cleaner = new LineCleaner();
          const out = new SendfileOutput(fd);
          const sink = sendingSink(out, write, counts);
          await sendFiles(
            files,
            takingFileChunks(async (chunk, more) => {
              for (const piece of cleaner.pieces(chunk, more)) await sink(piece);
            }),
          );
          // The last line, without a newline, comes out when the read has ended: written by the caller.
          tail = cleaner.finish();
          write(tail);
        } finally {
          libc.close(fd);
        }
        assertEquals(await Deno.readFile(path), expected.bytes);
        // Into a plain file, all of it went through sendfile or libc; sendfile refuses an O_APPEND file.
        assertEquals(counts.sent, append ? 0 : expected.bytes.length - tail.length);
      }
    });
  });
});

Deno.test("SendfileOutput into a pipe nobody empties lets timers (and so signals) run while it waits, and goes on once it is emptied", async () => {
  await withDir(async (dir) => {
    await withLibc(async (libc) => {
      const files = await writeFiles(dir, [lines(1, 5 * COPY_BLOCK)]);
      const fds = new Int32Array(2);
      assertEquals(libc.pipe2(new Uint8Array(fds.buffer), O_NONBLOCK | O_CLOEXEC), 0);
      const [readEnd, writeEnd] = fds;
      const got: Uint8Array[] = [];
      const drain = () => {
        for (;;) {
          const buffer = new Uint8Array(65536);
          const n = Number(libc.read(readEnd, buffer, BigInt(buffer.length)));
          if (n <= 0) return;
          got.push(buffer.subarray(0, n));
        }
      };
      let ticks = 0;
      // Nobody reads for the first 200 ms: the send waits on a full pipe, and this timer still runs (the
      // send polls for at most WAIT_MS at a time, then lets the event loop turn).
      const started = Date.now();
      const timer = setInterval(() => {
        if (Date.now() - started <= 200) ticks++;
        else drain();
      }, 10);
      try {
        const counts = { sent: 0 };
        const out = new SendfileOutput(writeEnd);
        await sendFiles(files, sendingSink(out, () => assert(false, "all of it is sent"), counts));
        assert(ticks >= 200 / (2 * WAIT_MS), `the timer ran ${ticks} times while the pipe was full`);
        assertEquals(counts.sent, 5 * COPY_BLOCK);
      } finally {
        clearInterval(timer);
        drain();
        libc.close(readEnd);
        libc.close(writeEnd);
      }
      assertEquals(joinBytes(got), await Deno.readFile(files[0].path));
    });
  });
});

Deno.test("SendfileOutput into a pipe whose reader is gone throws BrokenPipe, as a write does", async () => {
  await withDir(async (dir) => {
    await withLibc(async (libc) => {
      const files = await writeFiles(dir, [lines(1, 100_000)]);
      const fds = new Int32Array(2);
      assertEquals(libc.pipe2(new Uint8Array(fds.buffer), O_CLOEXEC), 0);
      libc.close(fds[0]);
      try {
        const out = new SendfileOutput(fds[1]);
        await assertRejects(
          () => sendFiles(files, sendingSink(out, () => assert(false, "nothing is written"), { sent: 0 })),
          Deno.errors.BrokenPipe,
        );
      } finally {
        libc.close(fds[1]);
      }
    });
  });
});
