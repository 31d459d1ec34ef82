/**
 * Snapshots made by hand in a real store, for the unit tests of the store, its checks and retention: each is
 * written as a capture writes one (through `SnapshotStore.begin` and `commit`), with a manifest that describes
 * its files truly, so that a test can then damage exactly what it means to.
 * @module
 */
import { Digest } from "../../lib/snapshots/digest.ts";
import { type Manifest, MANIFEST_SCHEMA } from "../../lib/snapshots/manifest.ts";
import { SnapshotStore, type StoredSnapshot } from "../../lib/snapshots/store.ts";

/** A data file's content: text, or bytes. */
export type Content = string | Uint8Array;

function bytesOf(c: Content): Uint8Array {
  return typeof c === "string" ? new TextEncoder().encode(c) : c;
}

/**
 * Writes a complete snapshot of recorder `recorder` holding `files` (name → content), captured at `at` (ms;
 * default now). `over` replaces manifest fields. Bulk per-CPU files get their CPU from their name.
 */
export async function putSnapshot(
  store: SnapshotStore,
  recorder: string,
  files: Record<string, Content>,
  options: { at?: number; over?: Partial<Manifest> } = {},
): Promise<StoredSnapshot> {
  const at = options.at ?? Date.now();
  const partial = await store.begin(recorder, at);
  const entries = [];
  for (const [name, content] of Object.entries(files)) {
    const data = bytesOf(content);
    await Deno.writeFile(`${partial.dir}/${name}`, data, { mode: 0o600 });
    const d = new Digest();
    d.update(data);
    const cpu = /_cpu(\d+)\.\d+$|_(\d+)$/.exec(name);
    entries.push({
      name,
      bytes: d.bytes,
      lines: d.lines,
      sha256: d.hex(),
      cpu: cpu ? Number(cpu[1] ?? cpu[2]) : null,
    });
  }
  const time = new Date(at).toISOString();
  const manifest: Omit<Manifest, "id"> = {
    schema: MANIFEST_SCHEMA,
    recorder,
    mode: Object.keys(files).some((f) => f !== `${recorder}.out`) ? "file" : "memory",
    module: `stap_fr_${recorder}`,
    host_kind: "sim",
    host_name: "test",
    kernel_release: null,
    systemtap_version: "simulator",
    script_sha256: null,
    script_file: null,
    stap_args: [],
    recorder_started_at: time,
    reason: null,
    trigger: { kind: "user", detail: null },
    capture_started_at: time,
    capture_ended_at: time,
    files: entries,
    bytes: entries.reduce((n, f) => n + f.bytes, 0),
    lines: entries.reduce((n, f) => n + f.lines, 0),
    per_cpu_bytes: null,
    capacity: null,
    wrapped: false,
    wrapped_evidence: null,
    damaged_lines: 0,
    damaged_bytes: 0,
    transport_failures: null,
    previous: null,
    contiguous: false,
    gap_reason: "no earlier snapshot of this run",
    window_seconds: null,
    ...options.over,
  };
  const { id, path } = await partial.commit(manifest);
  return { path, manifest: { ...manifest, id } as Manifest };
}

/** A pid no process can have (above Linux's highest, 2^22): a writer or reader that is surely gone. */
export const DEAD_PID = 4_194_305;

/** A temporary store, removed after `fn`. */
export async function withStore(fn: (store: SnapshotStore, root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "stapfr-store-test-" });
  try {
    await fn(new SnapshotStore(`${root}/store`), root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
