/**
 * A text file dump into stdout as fast as `cat`, or faster: the bytes go from the run's files to stdout in the
 * kernel (sendfile(2)) instead of being written from JavaScript. Deno's own writes into a pipe reached about
 * half of `cat`'s throughput (a promise and a trip through Deno's I/O threads for every write); this path
 * reaches 0.7 to 0.8 of it into the usual 64 KiB pipe, and outruns it (1.2 to 2.6 times, as `cat` itself ran
 * at 2.6 to 1.3 GB/s on a busy machine) into a pipe of 1 MiB, which it grows stdout's to ({@linkcode PIPE_SIZE};
 * bench/dump.ts).
 *
 * The line cleaner still sees every byte, in the same blocks as ever. {@linkcode sendFiles} reads the files
 * through libc (`pread`, by FFI) into a buffer in WebAssembly memory, where the cleaner's plain-text check runs
 * in place (lib/read_path/plain_text.ts), and hands on views of that buffer, as {@linkcode copyFiles} hands on
 * its blocks. A sink marked as taking file chunks (lib/read_path/file_chunks.ts: the command line's stdout,
 * when it is the process's own and no terminal) gives each chunk to a {@linkcode SendfileOutput}, which finds
 * the file range a view holds and has the kernel copy that range to its descriptor; a piece the cleaner copied
 * (a line held across blocks) it writes through libc. The bytes sent are the bytes read and checked: stapio
 * only ever appends to its files, and a file cut shorter in between sends less, so the sink writes the rest
 * from the buffer.
 *
 * A call into libc blocks the event loop, and the signal listeners (Ctrl-C) run on the event loop, so no call
 * here blocks for long: stdout is polled for room (at most {@linkcode WAIT_MS} at a time) before each call,
 * and the copy lets the event loop take in signals at least every {@linkcode TURN_MS}. A sendfile into a pipe
 * with room never blocks (it fills what room there is); sockets and terminals, where a send could block for as
 * long as the other side likes, are written the usual way. Calls that run on a thread of their own
 * (`nonblocking` FFI symbols) would not block the event loop, but each costs a hand-over between threads, and
 * a pipe of 64 KiB takes one every 64 KiB: they ran at half of `cat`'s speed.
 *
 * Without FFI (a library program run without `--allow-ffi`), or when libc fails in a way not handled here, the
 * usual way does the work (lib/read_path/concat.ts, Deno's writes): the same bytes, errors in Deno's words.
 * @module
 */
import { cString, ERRNO, errno, openLibc, type Symbols } from "../driver/proc_libc.ts";
import { type ByteSink, COPY_BLOCK, copyFiles } from "./concat.ts";
import { takesFileChunks, whileSendingFiles } from "./file_chunks.ts";
import type { RunFile } from "./files.ts";
import { plainTextBuffer } from "./plain_text.ts";

/**
 * Each symbol costs about 0.2 ms at every `dlopen` (lib/driver/proc_libc.ts): one `dlopen` per dump. The counts
 * `pread`, `sendfile` and `write` return (`ssize_t`) are taken as `i32`: none is asked for more than a block
 * (1 MiB), so the low 32 bits are the whole count, or -1; a 64-bit result is a BigInt, allocated at every call
 * (garbage that grows the JavaScript heap).
 */
const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  pread: { parameters: ["i32", "buffer", "usize", "i64"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  sendfile: { parameters: ["i32", "i32", "buffer", "usize"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  // Variadic in C; F_GETPIPE_SZ reads no third argument, and 0 is passed for the one glibc fetches anyway.
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  ...ERRNO,
} as const;

type Libc = Symbols<typeof SYMBOLS>;

/** O_RDONLY | O_CLOEXEC | O_NOCTTY. */
const OPEN_FLAGS = 0o2000000 | 0o400;
const ENOENT = 2, EINTR = 4, EAGAIN = 11, EPIPE = 32;
const POLLOUT = 4;
const F_GETPIPE_SZ = 1032;
const F_SETPIPE_SZ = 1031;
const SEEK_CUR = 1;
const NEWLINE = 0x0a;
/** The most a write into a pipe with room takes whole, without blocking. */
const PIPE_BUF = 4096;

/**
 * How much is read at a time into a pipe of the usual 64 KiB: a read and its check take less time than the
 * consumer needs to empty the pipe, so it is never left waiting (measured: 128 KiB beats 64 KiB and 1 MiB). Into
 * a pipe of {@linkcode PIPE_SIZE}, or a file, a whole block is read at once (fewer rounds; the pipe holds a
 * block, which the consumer is still emptying while the next is read and checked). The blocks the line cleaner
 * sees stay {@linkcode COPY_BLOCK}s either way.
 */
export const READ_SIZE = 128 * 1024;
/**
 * The size stdout's pipe is grown to, if it is smaller (Linux's F_SETPIPE_SZ; 1 MiB is the most an unprivileged
 * process may ask for by default, /proc/sys/fs/pipe-max-size). A pipe of 64 KiB takes a sendfile of at most
 * 64 KiB, and each costs a poll, a call and a wake-up of both sides: with 1 MiB the dump went from 0.7 of
 * `cat`'s speed to more than `cat`'s (bench/dump.ts, where `cat` writes into a pipe of 64 KiB). The pipe is the consumer's too: it only holds more unread bytes, which
 * changes nothing it can see. Where growing fails (a user over /proc/sys/fs/pipe-user-pages-soft, a lower
 * pipe-max-size), the pipe stays as it was and the reads stay small.
 */
export const PIPE_SIZE = 1024 * 1024;
/** The longest a poll for room in stdout blocks the event loop; then the event loop turns. */
export const WAIT_MS = 20;
/**
 * The longest the copy goes on without letting the event loop take in signals (Ctrl-C): each time costs 1 to
 * 2 ms (see `Reading.turn`), 2 to 4 % at this interval (measured against 10, 20 and 100 ms). A Ctrl-C while
 * the copy waits for room in stdout is taken in at once (poll is interrupted), and one while it waits on a
 * stalled consumer within {@linkcode WAIT_MS}.
 */
export const TURN_MS = 50;
/** EINTR or EAGAIN this many times in a row, with poll saying there is room: the usual way takes over. */
const RETRIES = 100;

/** One {@linkcode sendFiles} in progress: the buffer it reads into, and the file its bytes came from. */
class Reading {
  readonly lib: Libc;
  readonly buffer: Uint8Array;
  /** The file descriptor the buffer's bytes were read from; -1 between files. */
  fd = -1;
  /** The file offset of the buffer's first byte. */
  position = 0;
  /** How many of the buffer's bytes hold the file's (a view beyond them is not the file's). */
  length = 0;
  /** How much to read at a time ({@linkcode READ_SIZE}, or the whole buffer: see there). */
  step: number;
  /** sendfile's offset, which it reads and advances, and its bytes (what sendfile is given). */
  readonly offset = new BigInt64Array(1);
  readonly offsetBytes = new Uint8Array(this.offset.buffer);
  #lastTurn = performance.now();

  constructor(lib: Libc, buffer: Uint8Array) {
    this.lib = lib;
    this.buffer = buffer;
    this.step = Math.min(READ_SIZE, buffer.length);
  }

  /**
   * Lets the event loop take in signals: a timer of 0 ms, about 1 to 2 ms. It has to be a wait on which the
   * event loop goes idle: only then does Deno's runtime look at what the kernel delivered (signals, expired
   * timers). A message to ourselves (MessageChannel, 5 µs) or a call on another thread does not make it idle,
   * and a SIGINT waited up to seconds behind a copy that turned that way.
   */
  turn(): Promise<void> {
    this.#lastTurn = performance.now();
    return new Promise((resolve) => setTimeout(resolve, 0));
  }

  /** Whether the last turn is {@linkcode TURN_MS} ago (a check, not a promise: it runs at every call). */
  due(): boolean {
    return performance.now() - this.#lastTurn >= TURN_MS;
  }
}

/** The readings in progress, by their buffer's memory: a chunk that is a view of one came from its file. */
const readings = new WeakMap<ArrayBufferLike, Reading>();
/** The same, for a chunk that is not the file's (its libc is open while one is). */
const active = new Set<Reading>();

/**
 * A file descriptor that chunks read by {@linkcode sendFiles} are sent to from their files: a pipe or a file
 * (including a device that can seek, such as `/dev/null`), which never make a send wait long once poll said
 * there is room. Anything else (a terminal, a socket) takes no chunk, and nor does anything once a send failed
 * otherwise than by a closed pipe (an `O_APPEND` file, a full disk): the caller writes those itself, and says
 * what went wrong in Deno's words, as before.
 */
export class SendfileOutput {
  readonly #fd: number;
  #usable: boolean | undefined;
  /** A file, or a pipe of at least {@linkcode PIPE_SIZE}: whole blocks are read at once. */
  #wide = false;
  readonly #pollfd = new Uint8Array(8);

  constructor(fd: number) {
    this.#fd = fd;
    // struct pollfd { int fd; short events; short revents; }
    const view = new DataView(this.#pollfd.buffer);
    view.setInt32(0, fd, true);
    view.setInt16(4, POLLOUT, true);
  }

  /**
   * Sends `chunk` from the file it was read from. A chunk that is not a view of what {@linkcode sendFiles}
   * read, while one runs (a line the cleaner held across blocks, copied), is written through libc, PIPE_BUF
   * bytes at a time (a write that small into a pipe with room never blocks): about one a block, each of which
   * would otherwise cost a trip through Deno's I/O threads. Undefined when no file is being sent (or this output
   * takes nothing): the caller writes the chunk. Otherwise the bytes sent, fewer than the chunk's when the
   * kernel's way failed: the caller writes the rest. Throws `BrokenPipe` when the reader went away, as a write
   * does.
   */
  async send(chunk: Uint8Array): Promise<number | undefined> {
    if (this.#usable === false) return undefined;
    const reading = readings.get(chunk.buffer);
    const at = reading ? chunk.byteOffset - reading.buffer.byteOffset : -1;
    const inFile = reading !== undefined && reading.fd >= 0 && at >= 0 && at + chunk.length <= reading.length;
    const via = inFile ? reading : active.values().next().value;
    if (via === undefined) return undefined;
    if (this.#usable === undefined) this.#settle(via.lib);
    if (!this.#usable) return undefined;
    if (this.#wide) via.step = via.buffer.length;
    const lib = via.lib;
    let sent: number;
    if (inFile) {
      via.offset[0] = BigInt(via.position + at);
      const from = via.fd;
      sent = await this.#pump(
        via,
        chunk.length,
        (left) => lib.sendfile(this.#fd, from, via.offsetBytes, BigInt(left)),
      );
    } else {
      sent = await this.#pump(via, chunk.length, (left) => {
        const start = chunk.length - left;
        const n = Math.min(left, PIPE_BUF);
        return lib.write(this.#fd, chunk.subarray(start, start + n), BigInt(n));
      });
    }
    if (sent < chunk.length) this.#usable = false;
    return sent;
  }

  /**
   * Whether this output takes chunks: a pipe (it has a pipe size; grown to {@linkcode PIPE_SIZE}) or something
   * that can seek (a file, /dev/null); no terminal, no socket.
   */
  #settle(lib: Libc): void {
    const size = lib.fcntl(this.#fd, F_GETPIPE_SZ, 0);
    if (size >= 0) {
      this.#usable = true;
      this.#wide = size >= PIPE_SIZE || lib.fcntl(this.#fd, F_SETPIPE_SZ, PIPE_SIZE) >= PIPE_SIZE;
    } else {
      this.#usable = this.#wide = lib.lseek(this.#fd, 0n, SEEK_CUR) >= 0n;
    }
  }

  /**
   * Calls `move(bytes left)` (a sendfile or a write) until `length` bytes went, each time after poll said
   * stdout has room; returns how many went.
   */
  async #pump(reading: Reading, length: number, move: (left: number) => number): Promise<number> {
    const lib = reading.lib;
    let sent = 0;
    let retries = 0;
    while (sent < length) {
      if (reading.due()) await reading.turn();
      const ready = lib.poll(this.#pollfd, 1n, WAIT_MS);
      if (ready === 0) {
        // No room: the consumer is slow or stopped. Signals get their turn while it is.
        await reading.turn();
        continue;
      }
      if (ready < 0) {
        // Interrupted by a signal that came to this thread (Ctrl-C comes to the main thread first): the
        // event loop takes it in now.
        if (errno(lib) !== EINTR) return sent;
        await reading.turn();
        continue;
      }
      const n = move(length - sent);
      if (n > 0) {
        sent += n;
        retries = 0;
        continue;
      }
      // sendfile: the file ends before the bytes read from it, cut shorter since; the caller has the bytes.
      if (n === 0) return sent;
      const e = errno(lib);
      if (e === EPIPE) throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
      // EAGAIN: a stdout set non-blocking by someone else filled up between the poll and the call.
      if ((e === EINTR || e === EAGAIN) && ++retries < RETRIES) continue;
      return sent;
    }
    return sent;
  }
}

/**
 * {@linkcode copyFiles}, for a sink marked as taking file chunks (lib/read_path/file_chunks.ts): the files are
 * read through libc, in steps of {@linkcode READ_SIZE} cut after the last newline (so that the line cleaner's
 * fast path takes each step whole and the sink sends it as one range) or of a whole block, and the sink learns
 * where a block ends, where {@linkcode copyFiles} would have ended it (the `more` argument: false). Any other
 * sink, or no FFI, gets {@linkcode copyFiles} itself.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { takingFileChunks } from "./file_chunks.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.0`, "one\n");
 * await Deno.writeTextFile(`${dir}/a.1`, "two\n");
 * const files = [0, 1, 2].map((i) => ({ path: `${dir}/a.${i}`, name: `a.${i}`, cpu: null, index: i }));
 * let text = "";
 * const sink = takingFileChunks((c: Uint8Array) => Promise.resolve(void (text += new TextDecoder().decode(c))));
 * const result = await sendFiles(files, sink);
 * assertEquals([text, result.bytes, result.missing], ["one\ntwo\n", 8, 1]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function sendFiles(
  files: readonly RunFile[],
  sink: ByteSink,
  blockSize = COPY_BLOCK,
): Promise<{ bytes: number; missing: number }> {
  const library = takesFileChunks(sink) ? openLibc(SYMBOLS) : null;
  if (library === null) return await copyFiles(files, sink, blockSize);
  try {
    return await whileSendingFiles(() => sendWith(library.symbols, files, sink, blockSize));
  } finally {
    library.close();
  }
}

async function sendWith(
  lib: Libc,
  files: readonly RunFile[],
  sink: ByteSink,
  blockSize: number,
): Promise<{ bytes: number; missing: number }> {
  const reading = new Reading(lib, plainTextBuffer(blockSize));
  readings.set(reading.buffer.buffer, reading);
  active.add(reading);
  let bytes = 0;
  let missing = 0;
  /** The usual way, for what libc could not do: Deno reads (or fails) as it always did. */
  const viaDeno = async (f: RunFile, offset: number) => {
    const r = await copyFiles([{ ...f, offset }], sink, blockSize);
    bytes += r.bytes;
    missing += r.missing;
  };
  try {
    for (const f of files) {
      const fd = lib.open(cString(f.path), OPEN_FLAGS);
      if (fd < 0) {
        // Rotated away before it could be opened (stapio deletes old files at switches), as copyFiles counts it.
        if (errno(lib) === ENOENT) missing++;
        else await viaDeno(f, f.offset ?? 0);
        continue;
      }
      let failedAt: number | undefined;
      try {
        reading.fd = fd;
        const r = await sendOne(reading, f.offset ?? 0, sink, blockSize);
        bytes += r.bytes;
        failedAt = r.failedAt;
      } finally {
        reading.fd = -1;
        lib.close(fd);
      }
      if (failedAt !== undefined) await viaDeno(f, failedAt);
    }
  } finally {
    readings.delete(reading.buffer.buffer);
    active.delete(reading);
  }
  return { bytes, missing };
}

/**
 * Reads one open file from `start` to its end into the reading's buffer and hands it on. Returns the bytes
 * handed on, and where a read failed (the file offset of the first byte not handed on) if one did.
 */
async function sendOne(
  reading: Reading,
  start: number,
  sink: ByteSink,
  blockSize: number,
): Promise<{ bytes: number; failedAt?: number }> {
  const { lib, buffer, fd } = reading;
  let position = start; // the file offset of the next byte to read
  let carry = 0; // bytes at the buffer's start read but not handed on (the end of a line)
  let left = blockSize; // bytes of the current block not read yet
  let bytes = 0;
  for (;;) {
    const want = Math.min(reading.step - carry, left);
    const n = readAt(lib, fd, buffer.subarray(carry, carry + want), position);
    if (n < 0) return { bytes, failedAt: position - carry };
    const blockHadBytes = left < blockSize;
    position += n;
    left -= n;
    const have = carry + n;
    reading.position = position - have;
    reading.length = have;
    if (n < want || left === 0) {
      // The block ends where one read of it would have ended (copyFiles): at its size, or at the end of the
      // file for now. The line cleaner lets a long line go only at a block's end, so its output is the same.
      if (have > 0 || blockHadBytes) await sink(buffer.subarray(0, have), false);
      bytes += have;
      carry = 0;
      left = blockSize;
      if (n === 0) return { bytes };
    } else {
      const cut = buffer.lastIndexOf(NEWLINE, have - 1) + 1 || have;
      await sink(buffer.subarray(0, cut), true);
      bytes += cut;
      buffer.copyWithin(0, cut, have);
      carry = have - cut;
    }
    if (reading.due()) await reading.turn();
  }
}

/** pread(2) of `into.length` bytes at `position`, again after EINTR; -1 on another failure. */
function readAt(lib: Libc, fd: number, into: Uint8Array, position: number): number {
  for (;;) {
    const n = lib.pread(fd, into, BigInt(into.length), BigInt(position));
    if (n >= 0 || errno(lib) !== EINTR) return n;
  }
}
