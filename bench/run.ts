/**
 * `deno task bench`: runs every benchmark script in this folder, one after the other (never in parallel, so
 * they do not disturb each other's timings), and passes their figures through.
 * @module
 */
const here = new URL(".", import.meta.url).pathname;
const only = Deno.args;
const scripts = [...Deno.readDirSync(here)]
  .map((e) => e.name)
  .filter((n) => n.endsWith(".ts") && n !== "run.ts" && !n.endsWith("_test.ts"))
  .filter((n) => only.length === 0 || only.some((o) => n.includes(o)))
  .sort();
let failed = 0;
for (const name of scripts) {
  console.log(`# ${name}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    // The measuring scripts read other processes' /proc entries (CPU time, peak memory), which Deno allows only
    // with --allow-all; what they measure (stapfr itself) runs with the permissions lib/self.ts names.
    args: ["run", "--allow-all", here + name],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.log(`# ${name} failed with exit code ${code}`);
    failed++;
  }
}
Deno.exit(failed ? 1 : 0);
