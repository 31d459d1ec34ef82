/**
 * Parity of the syntax tree with stap's: for every example script that stap -p1 accepts, our dump of the tree
 * (`dumpScript`, stap's notation with every operand parenthesised) must equal stap's `-p1` parse-tree dump
 * byte for byte. This checks precedence, associativity and every node's contents. Skips when `stap` or the
 * examples are not installed.
 */

import { assertEquals } from "@std/assert";
import { checkScript } from "../../sim/lang/check.ts";
import { dumpScript } from "../../sim/lang/dump.ts";
import {
  ARCH,
  CONFIG,
  EXAMPLES_DIR,
  inBatches,
  invocationOf,
  KERNEL_RELEASE,
  listScripts,
  makeStapEnv,
  readScript,
  runStap,
  skipReason,
} from "./stap_env.ts";

/** The first line where two texts differ, with its neighbours. */
function firstDifference(a: string, b: string): string {
  const la = a.split("\n"), lb = b.split("\n");
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}\n    stap: ${la[i]}\n    ours: ${lb[i]}`;
  }
  return "";
}

/** Scripts that use every construct of the language (guru mode, two positional arguments "7" and "x"). */
const CONSTRUCTS = [
  `global a = -5, b = "s\\"q", c[100], d%[10], e%, f
private global g
private h
global st
probe begin, end(1), timer.ms(100)?, kernel.function("vfs_*").return!, {a,b}.c if (a > 1) {
  x = 1 + 2 * 3 - 4 / 5 % 6; y = x << 1 >> 2 >>> 3; z = x & 1 | 2 ^ 3
  s = "a" . "b" "c"; s .= "d"; x += 1; x -= 1; x *= 2; x /= 2; x %= 3; x <<= 1; x >>= 1; x &= 1; x |= 1; x ^= 1
  t = x < 1 || x > 2 && !x || x <= 3 == x >= 4 != 5
  u = ~x + -x + +x; ++x; x--; --c[1]; c[1, "k"]++
  v = x ? 1 : y ? 2 : 3; w = s =~ "^a" || s !~ "b"
  if (k in c) print(1) else if ([1, *] in c) println()
  if (!([x, y] in c)) next
  st <<< x; st[1] <<< 2
  printf("%d %s %5.2x %-ld %%\\n", @count(st), sprint(@sum(st)), @min(st), @max(st))
  printd(",", @avg(st), @variance(st), @variance(st, 2)); printdln("|", 1, 2); sprintln(1); sprintd(":", 1, 2)
  print(@hist_log(st)); println(@hist_linear(st, 0, 100, 10)); print(@hist_log(st)[2], 1)
  foreach (k in c) continue
  foreach ([k1, k2-] in c limit 10) break
  foreach (v2 = [k] in c+) { }
  foreach (v3- = [k3, k4] in c[*, 5]) { }
  foreach (k5 in st @sum-) { }
  foreach (bk in @hist_log(st)) { }
  for (i = 0; i < 10; i++) { ; }
  for (;;) break
  while (x) x--
  try { error("e") } catch (msg) { println(msg) }
  try { } catch { }
  delete c; delete c[1]; delete c[*, 2]
  x = $fd + $file->f_path->dentry + $argv[1] + &$var->f + @entry($fd) + @defined($x)
  y = $var$ . $var$$ . $var->field$ . $$parms . $$vars$ . $$locals . $$return
  z = @cast(p, "task_struct", "kernel")->pid + @cast(p, "foo")[1]->x + &@cast(0, "t")[1]
  z = @var("jiffies@kernel/time.c")->x + @var("x", "mod") + task()->mm + (p)->f[0] + f()[1]
  z = @perf("cycles") + @uregister(3) + @kregister(2) + @uderef(4, p) + @kderef(8, p) + @probewrite(x)
  z = @const("HZ") + %{ 42 %}
  z = $1 + @2 . @# . $#
  z = @choose_defined($a, 1) + @cast_sizeof("struct foo")
  z = 0x1f + 017 + 0xffffffffffffffff + 9223372036854775808
}
probe my.read = kernel.function("vfs_read") { n = 1 }
probe my.w += begin { }
probe my.x = my.y { }, { }
function f:string (a:long, b:string) { return a . b }
function g() { return }
private function h() : 3 { }
function k:long () %{ STAP_RETURN(1); %}
%{ #include <linux/x.h> %}
`,
];

Deno.test({
  name: "parity: a script with every construct dumps as stap -p1 dumps it",
  ignore: skipReason !== "",
  async fn() {
    const env = await makeStapEnv();
    try {
      for (const [i, source] of CONSTRUCTS.entries()) {
        const file = `${env.kernelDir}/constructs${i}.stp`;
        Deno.writeTextFileSync(file, source);
        const inv = { guru: true, args: ["7", "x"] };
        const theirs = await runStap(env, file, inv, true);
        assertEquals(theirs.stderr.split("\n").filter((l) => l.startsWith("parse error")), []);
        const r = checkScript(source, {
          file,
          ...inv,
          kernelRelease: KERNEL_RELEASE,
          arch: ARCH,
          config: CONFIG,
          tapsetDir: env.tapsetDir,
        });
        assertEquals(r.errors, []);
        const stapDump = theirs.stdout.replace(/^# parse tree dump\n/, "");
        assertEquals(firstDifference(stapDump, dumpScript(r.script)), "");
      }
    } finally {
      await env.remove();
    }
  },
});

Deno.test({
  name: "parity: the syntax tree of every accepted example dumps as stap -p1 dumps it",
  ignore: skipReason !== "",
  async fn() {
    const env = await makeStapEnv();
    try {
      const scripts = listScripts(EXAMPLES_DIR);
      const invocations = scripts.map(invocationOf);
      const theirs = await inBatches(
        scripts.map((s, i) => ({ s, inv: invocations[i] })),
        ({ s, inv }) => runStap(env, s, inv, true),
      );
      const disagreements: string[] = [];
      let compared = 0;
      scripts.forEach((script, i) => {
        if (!theirs[i].ok) return;
        const r = checkScript(readScript(script), {
          file: script,
          ...invocations[i],
          kernelRelease: KERNEL_RELEASE,
          arch: ARCH,
          config: CONFIG,
          tapsetDir: env.tapsetDir,
        });
        compared++;
        const stapDump = theirs[i].stdout.replace(/^# parse tree dump\n/, "");
        const ours = dumpScript(r.script);
        if (ours !== stapDump) disagreements.push(`${script}: ${firstDifference(stapDump, ours)}`);
      });
      console.log(`parity: ${compared - disagreements.length}/${compared} syntax trees agree`);
      for (const d of disagreements.slice(0, 40)) console.log(d);
      assertEquals(disagreements.length, 0);
    } finally {
      await env.remove();
    }
  },
});
