/**
 * A child process of the conformance harness with its stdout and stderr captured as they arrive, so that a
 * scenario can wait for output and still read everything at the end; plus helpers for processes that are not
 * our children (the `-D` daemon, module hosts).
 * @module
 */

import { sleep, until } from "../support/poll.ts";
import { alive } from "../support/processes.ts";
import { joinBytes } from "../../lib/bytes.ts";

export { alive, sleep };

/** How long any wait of a scenario may take before it counts as a failure. */
export const WAIT_LIMIT_MS = 20_000;

const decoder = new TextDecoder();

/** A started command whose output is collected. */
export class Proc {
  readonly child: Deno.ChildProcess;
  readonly #stdout: Uint8Array[] = [];
  readonly #stderr: Uint8Array[] = [];
  readonly #drained: Promise<void>;
  #status: Deno.CommandStatus | undefined;
  readonly status: Promise<Deno.CommandStatus>;

  /** Spawns; with `closeStdout` the read end of stdout is closed at once (writes then fail with EPIPE). */
  constructor(command: Deno.Command, options: { closeStdout?: boolean } = {}) {
    this.child = command.spawn();
    const out = options.closeStdout ? this.child.stdout.cancel() : collect(this.child.stdout, this.#stdout);
    this.#drained = Promise.all([out, collect(this.child.stderr, this.#stderr)]).then(() => {});
    this.status = this.child.status.then(async (s) => {
      this.#status = s;
      await this.#drained;
      return s;
    });
  }

  get pid(): number {
    return this.child.pid;
  }

  get exited(): boolean {
    return this.#status !== undefined;
  }

  get stdout(): string {
    return decoder.decode(join(this.#stdout));
  }

  get stderr(): string {
    return decoder.decode(join(this.#stderr));
  }

  /** Sends a signal unless the process is gone. */
  kill(signal: Deno.Signal): void {
    if (this.exited) return;
    try {
      this.child.kill(signal);
    } catch {
      // it just exited
    }
  }

  /** Waits for the exit, sending `signal` again every `resendMs` (stapio 4.8 loses signals under `-A`). */
  async stop(signal: Deno.Signal, resendMs = 5000): Promise<Deno.CommandStatus> {
    this.kill(signal);
    const start = Date.now();
    let resent = 0;
    const ended = await until(`process ${this.pid} to exit after ${signal}`, () => {
      const due = Math.floor((Date.now() - start) / resendMs);
      if (!this.exited && due > resent) {
        resent = due;
        this.kill(signal);
      }
      return this.exited;
    }, { timeoutMs: WAIT_LIMIT_MS, intervalMs: 100 }).then(() => true, () => false);
    if (!ended) {
      this.kill("SIGKILL");
      await this.status;
      throw new Error(`Process ${this.pid} did not exit after ${signal}`);
    }
    return await this.status;
  }

  /**
   * Waits for the exit for at most {@linkcode WAIT_LIMIT_MS}; then kills it and says it did not exit (an
   * outcome the scenario records and compares between the sides, not a failure of the harness).
   */
  async exit(): Promise<Deno.CommandStatus | "did not exit"> {
    const ended = await until("exit", () => this.exited, { timeoutMs: WAIT_LIMIT_MS, intervalMs: 50 })
      .then(() => true, () => false);
    if (ended) return await this.status;
    await this.end();
    return "did not exit";
  }

  /** Kills (if still running) and waits: for clean-up. */
  async end(): Promise<void> {
    this.kill("SIGKILL");
    await this.status;
  }
}

async function collect(stream: ReadableStream<Uint8Array>, into: Uint8Array[]): Promise<void> {
  for await (const chunk of stream) into.push(chunk);
}

/** Concatenates chunks. */
export const join: (chunks: Uint8Array[]) => Uint8Array = joinBytes;

/** Polls `ready` until it holds; fails the test with `what` after {@linkcode WAIT_LIMIT_MS}. */
export async function waitFor(what: string, ready: () => boolean | Promise<boolean>): Promise<void> {
  await until(what, ready, { timeoutMs: WAIT_LIMIT_MS, intervalMs: 25 });
}

/** SIGKILLs a pid that is not our child (a daemon, a host) if it still runs. */
export async function killPid(pid: number): Promise<void> {
  if (await alive(pid)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}
