import { assert, assertEquals, assertThrows } from "@std/assert";
import { StapfrError } from "../errors.ts";
import { MANIFEST_SCHEMA, parseManifest } from "./manifest.ts";

/** A manifest as capture writes it (the fields the commands rely on). */
function manifest(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema: MANIFEST_SCHEMA,
    id: "20261201T051200Z-001",
    recorder: "web",
    mode: "memory",
    module: "stap_fr_web",
    host_kind: "sim",
    host_name: "h",
    kernel_release: null,
    systemtap_version: "simulator",
    script_sha256: null,
    script_file: null,
    stap_args: [],
    recorder_started_at: "2026-12-01T05:00:00.000Z",
    reason: null,
    trigger: { kind: "user", detail: null },
    capture_started_at: "2026-12-01T05:12:00.000Z",
    capture_ended_at: "2026-12-01T05:12:01.000Z",
    files: [{ name: "web.out", bytes: 3, lines: 1, sha256: "ab", cpu: null }],
    bytes: 3,
    lines: 1,
    per_cpu_bytes: null,
    capacity: 1024,
    wrapped: false,
    wrapped_evidence: null,
    damaged_lines: 0,
    damaged_bytes: 0,
    transport_failures: null,
    previous: null,
    contiguous: false,
    gap_reason: "no earlier snapshot of this run",
    window_seconds: 1,
    ...over,
  };
}

function refused(value: unknown, why: string | RegExp, text = JSON.stringify(value)): StapfrError {
  const err = assertThrows(() => parseManifest("/s/web/X/manifest.json", text), StapfrError) as StapfrError;
  assertEquals(err.code, "damaged");
  if (typeof why === "string") {
    assertEquals(err.message, `Unreadable snapshot manifest "/s/web/X/manifest.json": ${why}`);
  } else assert(why.test(err.message), err.message);
  return err;
}

Deno.test("schema 2 and schema 1 manifests are read; a newer schema is refused, said by its number", () => {
  assertEquals(parseManifest("m", JSON.stringify(manifest())).recorder, "web");
  assertEquals(parseManifest("m", JSON.stringify(manifest({ schema: 1 }))).schema, 1);
  refused(manifest({ schema: 3 }), "schema 3 is not one of 1, 2");
  refused(manifest({ schema: "2; rm -rf /" }), "its schema is not one of 1, 2");
  refused(manifest({ schema: undefined }), "its schema is not one of 1, 2");
});

Deno.test("a manifest that is not JSON, or not an object, is damaged, and its bytes are never quoted", () => {
  const err = refused(null, "not valid JSON", "SECRET-TOKEN {");
  assert(!err.message.includes("SECRET"));
  refused(null, "not an object", "null");
  refused(null, "not an object", "[1,2]");
  refused(null, "not an object", '"a string"');
});

Deno.test("each field the commands use must have its type", () => {
  refused(manifest({ recorder: 7 }), `"recorder" is not a string`);
  refused(manifest({ capture_started_at: undefined }), `"capture_started_at" is not a string`);
  refused(manifest({ bytes: "3" }), `"bytes" is not a number`);
  refused(manifest({ contiguous: "yes" }), `"contiguous" is not a boolean`);
  refused(manifest({ mode: "ring" }), `"mode" is not "memory" or "file"`);
  refused(manifest({ files: {} }), `"files" is not a list`);
  refused(manifest({ files: [null] }), "a file entry is malformed");
  refused(manifest({ files: [{ name: "web.out" }] }), "a file entry is malformed");
});

Deno.test("a data file named with a path is refused: the manifest cannot point outside its snapshot", () => {
  for (const name of ["../../etc/shadow", "/etc/shadow", "sub/web.out"]) {
    refused(
      manifest({ files: [{ name, bytes: 1, lines: 0, sha256: "ab", cpu: null }] }),
      "a file entry is malformed",
    );
  }
});
