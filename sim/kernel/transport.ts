/**
 * The SystemTap 4.8 transport as the simulator speaks it between a module and a reader: control messages on
 * `.cmd` and relay records on `traceN` (docs/systemtap-4.8.md sections 0, 2 and 4.9; docs/architecture.md "The simulator").
 *
 * On a real kernel `.cmd` is a procfs file whose reads and writes are whole messages. The simulator's module
 * host serves it as a Unix stream socket, so each message is framed by its length:
 * `uint32 length` (of type + payload) then `uint32 type` then the payload. `traceN` is a Unix stream socket on
 * which each `read()` and each ppoll of the relay file is a request and its answer, so that a reader gets what
 * the ring holds at the moment it reads, as from the real file (sim/kernel/relay.ts), and what it does not read stays
 * in the ring. The reader sends `uint32 count, uint32 flags`; the host answers `int32 rc` and, for a read with
 * rc > 0, `rc` bytes:
 * - a read (flags 0): rc is the bytes read, or a negative errno (`-ENODATA` for an empty file);
 * - a ppoll ({@linkcode TRACE_WAIT}, count 0): rc 0 once the file has data; if it has none yet, first
 *   {@linkcode TRACE_PARKED} (the reader now sits in ppoll). At the end of a run (STP_EXIT) the host closes
 *   the connection instead, once the ring is empty.
 * The relay bytes are the ring's stream: records `uint32 seq, uint32 len, payload`, and whatever damage 4.8
 * leaves between them. Everything is little-endian.
 * @module
 */
import { concatBytes } from "../../lib/bytes.ts";

/** Control message numbers of SystemTap 4.8, in the order of the enum in the installed
 * `runtime/transport/transport_msgs.h`. 5.x moved them to start at 0x50. */
/** The host's first byte on `.cmd`: this connection is the module's reader (the kernel's open() succeeded). */
export const CMD_ATTACHED: Uint8Array = new Uint8Array([1]);
/** The host's first byte on `.cmd`: a reader is already attached (the kernel's open() failed with EBUSY). */
export const CMD_BUSY: Uint8Array = new Uint8Array([0]);

export const Msg = {
  START: 0,
  EXIT: 1,
  OOB_DATA: 2,
  SYSTEM: 3,
  TRANSPORT: 4,
  CONNECT: 5,
  DISCONNECT: 6,
  BULK: 7,
  READY: 8,
  RELOCATION: 9,
  BUF_INFO: 10,
  SUBBUFS_CONSUMED: 11,
  REALTIME_DATA: 12,
  REQUEST_EXIT: 13,
  TZINFO: 14,
  PRIVILEGE_CREDENTIALS: 15,
  REMOTE_ID: 16,
  MAX_CMD: 17,
  NAMESPACES_PID: 18,
} as const;

/** A control message: its type and payload. */
export interface ControlMessage {
  type: number;
  payload: Uint8Array;
}

/** Bytes of a relay record header: uint32 sequence number, uint32 payload length. */
export const RECORD_HEADER = 8;

/** Largest payload of one record: stap's print buffer holds 8 KiB. */
export const MAX_RECORD_PAYLOAD = 8192;

/** Encodes one control message with its length frame, ready for a stream socket. */
export function encodeControl(type: number, payload: Uint8Array = new Uint8Array()): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 4 + payload.length, true);
  view.setUint32(4, type, true);
  out.set(payload, 8);
  return out;
}

/**
 * Splits a byte stream into control messages. Feed it chunks as they arrive; it returns the whole messages
 * so far and keeps a partial one for the next chunk.
 */
export class ControlDecoder {
  #pending = new Uint8Array(0);

  /** Adds a chunk and returns the messages it completes. */
  push(chunk: Uint8Array): ControlMessage[] {
    const buf = this.#pending.length ? concatBytes(this.#pending, chunk) : chunk;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const out: ControlMessage[] = [];
    let at = 0;
    while (buf.length - at >= 4) {
      const len = view.getUint32(at, true);
      if (len < 4) throw new RangeError(`Malformed control frame: length ${len}`);
      if (buf.length - at - 4 < len) break;
      out.push({ type: view.getUint32(at + 4, true), payload: buf.slice(at + 8, at + 4 + len) });
      at += 4 + len;
    }
    this.#pending = buf.slice(at);
    return out;
  }
}

/** One relay record. */
export interface RelayRecord {
  seq: number;
  payload: Uint8Array;
  /**
   * The length its header says, when it is not the payload's (stapio 4.8 writes the header as read and only
   * the payload bytes of its last read: docs/loss-accounting.md "Where records are lost").
   */
  length?: number;
}

/** traceN request flag: ppoll until the relay file has data. */
export const TRACE_WAIT = 1;
/**
 * traceN request flag: read the ring as it is, without bringing the writer up to now first (a stopping reader's
 * last read: every CPU's last read sees the rings at the same moment).
 */
export const TRACE_AS_IS = 2;
/** traceN answer to a ppoll: the file has no data yet, the reader waits; rc 0 follows when it has. */
export const TRACE_PARKED = -11;

/** Encodes a traceN request: one `read()` of up to `count` bytes, or (`wait`) a ppoll. */
export function encodeTraceRequest(count: number, wait: boolean, asIs = false): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, count, true);
  view.setUint32(4, (wait ? TRACE_WAIT : 0) | (asIs ? TRACE_AS_IS : 0), true);
  return out;
}

/** Encodes a traceN answer: `rc` and, when positive, that many bytes of `bytes`. */
export function encodeTraceAnswer(rc: number, bytes?: Uint8Array): Uint8Array {
  const n = rc > 0 ? rc : 0;
  const out = new Uint8Array(4 + n);
  new DataView(out.buffer).setInt32(0, rc, true);
  if (n > 0) out.set(bytes!.subarray(0, n), 4);
  return out;
}

/** One traceN answer. */
export interface TraceAnswer {
  rc: number;
  /** The bytes read (empty unless rc > 0). */
  bytes: Uint8Array;
}

/** Splits a traceN byte stream into answers, keeping a partial one for the next chunk. */
export class TraceAnswerDecoder {
  #pending = new Uint8Array(0);

  /** Adds a chunk and returns the answers it completes. */
  push(chunk: Uint8Array): TraceAnswer[] {
    const buf = this.#pending.length ? concatBytes(this.#pending, chunk) : chunk;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const out: TraceAnswer[] = [];
    let at = 0;
    while (buf.length - at >= 4) {
      const rc = view.getInt32(at, true);
      const n = rc > 0 ? rc : 0;
      if (buf.length - at - 4 < n) break;
      out.push({ rc, bytes: buf.slice(at + 4, at + 4 + n) });
      at += 4 + n;
    }
    this.#pending = buf.slice(at);
    return out;
  }
}

/** Splits a traceN request stream (the host's side). */
export class TraceRequestDecoder {
  #pending = new Uint8Array(0);

  /** Adds a chunk and returns the requests it completes. */
  push(chunk: Uint8Array): { count: number; wait: boolean; asIs: boolean }[] {
    const buf = this.#pending.length ? concatBytes(this.#pending, chunk) : chunk;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const out: { count: number; wait: boolean; asIs: boolean }[] = [];
    let at = 0;
    for (; buf.length - at >= 8; at += 8) {
      const flags = view.getUint32(at + 4, true);
      out.push({
        count: view.getUint32(at, true),
        wait: (flags & TRACE_WAIT) !== 0,
        asIs: (flags & TRACE_AS_IS) !== 0,
      });
    }
    this.#pending = buf.slice(at);
    return out;
  }
}

/** Encodes a relay record (header + payload); `length` is what the header says (the payload's by default). */
export function encodeRecord(seq: number, payload: Uint8Array, length = payload.length): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, seq >>> 0, true);
  view.setUint32(4, length, true);
  out.set(payload, RECORD_HEADER);
  return out;
}

/** Splits a stream of relay records, keeping a partial record for the next chunk. */
export class RecordDecoder {
  #pending = new Uint8Array(0);

  /** Adds a chunk and returns the records it completes. */
  push(chunk: Uint8Array): RelayRecord[] {
    const buf = this.#pending.length ? concatBytes(this.#pending, chunk) : chunk;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const out: RelayRecord[] = [];
    let at = 0;
    while (buf.length - at >= RECORD_HEADER) {
      const len = view.getUint32(at + 4, true);
      if (buf.length - at - RECORD_HEADER < len) break;
      out.push({
        seq: view.getUint32(at, true),
        payload: buf.slice(at + RECORD_HEADER, at + RECORD_HEADER + len),
      });
      at += RECORD_HEADER + len;
    }
    this.#pending = buf.slice(at);
    return out;
  }

  /** Bytes held back as an incomplete record. */
  get pendingBytes(): number {
    return this.#pending.length;
  }
}
