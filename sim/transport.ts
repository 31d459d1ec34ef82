/**
 * The SystemTap 4.8 transport as the simulator speaks it between a module and a reader: control messages on
 * `.cmd` and relay records on `traceN` (docs/systemtap-4.8.md sections 0, 2 and 4.9; docs/architecture.md "The simulator").
 *
 * On a real kernel `.cmd` is a procfs file whose reads and writes are whole messages. The simulator's module
 * host serves it as a Unix stream socket, so each message is framed by its length:
 * `uint32 length` (of type + payload) then `uint32 type` then the payload. `traceN` is a Unix stream socket
 * carrying relay records back to back: `uint32 seq, uint32 len, payload`. Everything is little-endian.
 * @module
 */

/** Control message numbers of SystemTap 4.8, in the order of the enum in the installed
 * `runtime/transport/transport_msgs.h`. 5.x moved them to start at 0x50. */
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
    const buf = this.#pending.length ? concat(this.#pending, chunk) : chunk;
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
}

/** Encodes a relay record (header + payload). */
export function encodeRecord(seq: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, seq >>> 0, true);
  view.setUint32(4, payload.length, true);
  out.set(payload, RECORD_HEADER);
  return out;
}

/** Splits a stream of relay records, keeping a partial record for the next chunk. */
export class RecordDecoder {
  #pending = new Uint8Array(0);

  /** Adds a chunk and returns the records it completes. */
  push(chunk: Uint8Array): RelayRecord[] {
    const buf = this.#pending.length ? concat(this.#pending, chunk) : chunk;
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

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
