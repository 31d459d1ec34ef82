import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { PERMISSIONS, shellQuote } from "../../lib/self.ts";
import { artifactKind } from "./artifact.ts";
import { CLI, runCli, stapfrArgv, stapfrArgvFor, testingArtifact } from "./stapfr.ts";

Deno.test("stapfrArgvFor: the artifact alone when STAPFR_BIN names one, else deno run of cli.ts", () => {
  // The compiled binary carries its permissions, the bundle's first line names them: no `run`, no flags. From
  // source, the same permissions (tests/cli/artifact_test.ts checks the first line's).
  assertEquals(stapfrArgvFor("/opt/stapfr", "/usr/bin/deno", "/w"), ["/opt/stapfr"]);
  assertEquals(stapfrArgvFor("dist/stapfr", "/usr/bin/deno", "/w"), ["/w/dist/stapfr"]);
  const fromSource = stapfrArgvFor(undefined, "/usr/bin/deno", "/w");
  assertEquals(fromSource, ["/usr/bin/deno", "run", "--quiet", ...PERMISSIONS, CLI]);
  assertEquals(stapfrArgvFor("", "/usr/bin/deno", "/w"), fromSource);
});

Deno.test("stapfrArgv: a STAPFR_BIN that names no file fails instead of testing nothing", () => {
  const saved = Deno.env.get("STAPFR_BIN");
  Deno.env.set("STAPFR_BIN", "/nonexistent/stapfr");
  try {
    assertThrows(() => stapfrArgv(), Error, "is no file");
  } finally {
    if (saved === undefined) Deno.env.delete("STAPFR_BIN");
    else Deno.env.set("STAPFR_BIN", saved);
  }
});

Deno.test("the CLI tests run what stapfrArgv names: the shims it writes invoke that very program", async () => {
  // `sim shims` writes the command line by which the running stapfr invokes itself (lib/self.ts): the binary
  // alone, deno run of the bundle, or deno run of cli.ts. So this tells which program the tests ran.
  const dir = await Deno.makeTempDir({ prefix: "stapfr-argv-test-" });
  try {
    const r = await runCli(["sim", "shims", dir]);
    assertEquals(r.code, 0, r.stderr);
    const shim = await Deno.readTextFile(`${dir}/stap`);
    if (!testingArtifact()) {
      assertStringIncludes(shim, `exec ${shellQuote(stapfrArgv()[0])} `);
      assertStringIncludes(shim, shellQuote(CLI));
    } else if (await artifactKind(stapfrArgv()[0]) === "compiled") {
      assertStringIncludes(shim, `exec ${shellQuote(stapfrArgv()[0])} 'sim' 'stap' `);
    } else {
      assertStringIncludes(shim, ` '--no-config' `);
      assertStringIncludes(shim, ` ${shellQuote(stapfrArgv()[0])} 'sim' 'stap' `);
    }
    if (testingArtifact()) assert(!shim.includes("cli.ts"), shim);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
