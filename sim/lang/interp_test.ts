import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import {
  type CompileOptions,
  compileScript,
  ScriptError,
  unsupportedIn,
  UnsupportedScriptError,
} from "./mod.ts";
import { parseScript } from "./parser.ts";

interface Captured {
  out: string;
  records: { cpu: number; text: string }[];
  warnings: string[];
  errors: string[];
  exits: number;
  hits: number;
}

/** Runs a script: begin, advance to `untilNs`, end; returns everything it printed. */
function run(
  src: string,
  opts: { untilNs?: number; rate?: number; cpus?: number; seed?: number } & CompileOptions = {},
): Captured {
  const c: Captured = { out: "", records: [], warnings: [], errors: [], exits: 0, hits: 0 };
  const dec = new TextDecoder("latin1");
  const r = compileScript(src, opts).instantiate({
    cpus: opts.cpus ?? 2,
    seed: opts.seed ?? 7,
    rate: opts.rate ?? 0,
    sink: {
      print: (cpu, b) => {
        const text = dec.decode(b);
        c.records.push({ cpu, text });
        c.out += text;
      },
      warning: (t) => c.warnings.push(t),
      error: (t) => c.errors.push(t),
      exit: () => c.exits++,
    },
  });
  r.begin();
  r.advance(opts.untilNs ?? 0);
  r.end();
  c.hits = r.hits;
  return c;
}

Deno.test("the seed script prints seed-shaped vfs lines and the end probe last", () => {
  const c = run(
    'probe vfs.* { printdln("**", pn(), cmdline_str(), pid()) } probe end { printf("exited\\n") }',
    { rate: 20000, untilNs: 50e6 },
  );
  const lines = c.out.split("\n").filter((l) => l !== "");
  assertEquals(lines[lines.length - 1], "exited");
  assert(lines.length > 50);
  for (const l of lines.slice(0, -1)) assertMatch(l, /^vfs\.(read|write)\*\*.*\*\*\d+$/);
  assert(lines.includes('vfs.write**postgres: wal writer process    "" "" ""**7014'));
  // One record per hit.
  assertEquals(c.records.length, lines.length);
});

Deno.test("the workload is deterministic for a seed and differs between seeds", () => {
  const src = 'probe vfs.read, syscall.write { printf("%s %d %d\\n", pn(), pid(), cpu()) }';
  const a = run(src, { rate: 5000, untilNs: 100e6, seed: 3 });
  const b = run(src, { rate: 5000, untilNs: 100e6, seed: 3 });
  const d = run(src, { rate: 5000, untilNs: 100e6, seed: 4 });
  assertEquals(a.out, b.out);
  assert(a.out !== d.out);
  assert(a.records.some((r) => r.cpu === 1) && a.records.some((r) => r.cpu === 0));
});

Deno.test("control flow: if/else, while, for, break, continue, next, return", () => {
  const c = run(`
    function fact(n) { if (n <= 1) return 1; return n * fact(n - 1) }
    function sign:string(x:long) { if (x < 0) return "neg" else if (x == 0) return "zero"; return "pos" }
    probe begin {
      for (i = 0; i < 10; i++) { if (i == 2) continue; if (i == 5) break; printf("%d,", i) }
      j = 3; while (j > 0) { j--; print(j) }
      println("")
      printf("%d %s %s %s\\n", fact(10), sign(-5), sign(0), sign(9))
      if (1) next
      println("not reached")
    }`);
  assertEquals(c.out, "0,1,3,4,210\n3628800 neg zero pos\n");
});

Deno.test("associative arrays: multi-key, in, delete, default values, wildcard delete", () => {
  const c = run(`
    global a, s, n
    probe begin {
      a[1, "x"] = 10; a[2, "y"] = 20; a[3, "x"] = 30
      s["k"] .= "ab"; s["k"] .= "cd"
      n["missing"]++
      printf("%d %d %d\\n", a[1, "x"], a[9, "z"], [2, "y"] in a)
      delete a[*, "x"]
      foreach ([k, v] in a) printf("left %d %s\\n", k, v)
      printf("%s %d %d\\n", s["k"], n["missing"], ["nope"] in s)
      delete a
      printf("%d\\n", [2, "y"] in a)
    }`);
  assertEquals(c.out, "10 0 1\nleft 2 y\nabcd 1 0\n0\n");
});

Deno.test("foreach: insertion order, sorted by value and key, limit, value variable", () => {
  const c = run(`
    global a
    probe begin {
      a["c"] = 3; a["a"] = 1; a["d"] = 4; a["b"] = 2; a["e"] = 4
      foreach (k in a) printf("%s", k); println("")
      foreach (k in a-) printf("%s", k); println("")
      foreach (k+ in a) printf("%s", k); println("")
      foreach (v = k in a+ limit 2) printf("%s=%d ", k, v); println("")
    }`);
  assertEquals(c.out, "cadbe\ndecba\nabcde\na=1 b=2 \n");
});

Deno.test("aggregates: count sum min max avg, empty aggregate, stat arrays sorted", () => {
  const c = run(`
    global s, t, e
    probe begin {
      for (i = 1; i <= 10; i++) s <<< i * 10
      printf("%d %d %d %d %d\\n", @count(s), @sum(s), @min(s), @max(s), @avg(s))
      t["x"] <<< 1; t["y"] <<< 5; t["y"] <<< 7
      foreach (k in t-) printf("%s:%d/%d ", k, @count(t[k]), @sum(t[k])); println("")
      printf("%d %d\\n", @count(e), @sum(e))
      printf("%d\\n", @min(e))
    }`);
  assertEquals(c.out, "10 550 10 100 55\ny:2/12 x:1/1 \n0 0\n");
  assertEquals(c.errors, ["empty aggregate near operator '@min' at <input>:9:22"]);
});

Deno.test("print(@hist_log) prints the runtime's ASCII histogram", () => {
  const c = run(`
    global s
    probe begin { foreach (v in vals) s <<< v }
    global vals
    probe begin(-1) { vals[1]=1; vals[2]=2; vals[3]=3; vals[4]=8; vals[5]=8; vals[6]=64; vals[7]=0 }
    probe end { print(@hist_log(s)) }`);
  // Keys of vals are iterated, so s gets 1..7.
  assertEquals(
    c.out,
    [
      "value |-------------------------------------------------- count",
      "    0 |                                                   0",
      "    1 |@                                                  1",
      "    2 |@@                                                 2",
      "    4 |@@@@                                               4",
      "    8 |                                                   0",
      "   16 |                                                   0",
      "",
      "",
    ].join("\n"),
  );
});

Deno.test("print(@hist_linear) with elision, underflow and overflow", () => {
  const c = run(`
    global s
    probe begin { s <<< -5; for (i = 0; i < 3; i++) s <<< 15; s <<< 95; s <<< 500; print(@hist_linear(s, 0, 100, 10)) }`);
  assertEquals(
    c.out,
    [
      "value |-------------------------------------------------- count",
      "   <0 |@                                                  1",
      "    0 |                                                   0",
      "   10 |@@@                                                3",
      "   20 |                                                   0",
      "   30 |                                                   0",
      "      ~",
      "   70 |                                                   0",
      "   80 |                                                   0",
      "   90 |@                                                  1",
      "  100 |                                                   0",
      " >100 |@                                                  1",
      "",
      "",
    ].join("\n"),
  );
});

Deno.test("printf conversions, widths, precision, flags and sprintf", () => {
  const c = run(`
    probe begin {
      printf("[%5d][%-5d][%05d][%+d][% d][%x][%X][%#x][%o][%#o][%u]\\n", 42, 42, 42, 42, 42, 255, 255, 255, 8, 8, -1)
      printf("[%s][%10s][%-10s][%.2s][%c][%%][%p][%*d][%.3d]\\n", "str", "right", "left", "trunc", 65, 4096, 6, 7, 5)
      s = sprintf("%d-%s", -9223372036854775807 - 1, "min"); println(s)
      printf("%d %d\\n", 9223372036854775807 + 1, 0x7fffffffffffffff)
      printf("%b", 0x41424344)
      println(sprint(1, "a", 2), " ", sprintln("x"))
      printd(",", 1, "two", 3); println("")
    }`);
  assertEquals(
    c.out,
    "[   42][42   ][00042][+42][ 42][ff][FF][0xff][10][010][18446744073709551615]\n" +
      "[str][     right][left      ][tr][A][%][0x1000][     7][005]\n" +
      "-9223372036854775808-min\n" +
      "-9223372036854775808 9223372036854775807\n" +
      "DCBA\0\0\0\0" +
      "1a2 x\n\n" +
      "1,two,3\n",
  );
});

Deno.test("strings: tapset functions", () => {
  const c = run(`
    probe begin {
      printf("%d %s %d %s\\n", strlen("hello"), substr("hello", 1, 3), isinstr("hello", "ll"), str_replace("a-b-c", "-", "+"))
      printf("%d %d %d %s\\n", strtol("ff", 16), strtol("-12", 10), stringat("A", 0), text_str("a\\tb\\n"))
      t = tokenize("a b  c", " "); while (t != "") { printf("<%s>", t); t = tokenize("", " ") } println("")
      printf("%s|%s\\n", execname(), pp())
    }`);
  assertEquals(c.out, "5 ell 1 a+b+c\n255 -12 65 a\\tb\\n\n<a><b><c>\nstapio|begin\n");
});

Deno.test("errors: division by zero stops the session at the first error (MAXERRORS 0), error probes run", () => {
  const c = run(`
    global x
    probe begin { println("before"); x = 10 / x; println("after") }
    probe end { println("end") }
    probe error { println("error probe") }`);
  assertEquals(c.out, "before\nerror probe\n");
  assertEquals(c.errors, ["division by 0 near operator '/' at <input>:3:45"]);
  assertEquals(c.warnings, ["Number of errors: 1, skipped probes: 0"]);
  assertEquals(c.exits, 1);
});

Deno.test("errors: MAXERRORS lets a script survive errors; error() and try/catch", () => {
  const c = run(
    `
    global n
    probe timer.ms(10) { n++; if (n % 2) error(sprintf("odd %d", n)); try { x = 1 / 0 } catch (msg) { printf("caught %s\\n", msg) } }
    probe end { printf("n=%d\\n", n) }`,
    { defines: { MAXERRORS: 2 }, untilNs: 50e6 },
  );
  assertEquals(c.errors, ["odd 1", "odd 3", "odd 5"]);
  // Hits 1, 3 and 5 fail before their try; 2 and 4 reach it. The 3rd error exceeds MAXERRORS=2: no end probe.
  assertEquals(c.out, "caught division by 0\ncaught division by 0\n");
  assertEquals(c.exits, 1);
});

Deno.test("MAXACTION exceeded in an endless loop, with stap's message", () => {
  const c = run("probe timer.s(1) { while (1) { x++ } }", { untilNs: 2e9 });
  assertEquals(c.errors, ["MAXACTION exceeded near keyword at <input>:1:20"]);
  assertEquals(c.hits, 1);
});

Deno.test("MAXMAPENTRIES and declared sizes overflow with stap's messages; % arrays wrap", () => {
  const a = run("global a[3] probe begin { for (i = 0; i < 5; i++) a[i] = i }");
  assertEquals(a.errors, ["Array overflow, check size limit (3) near identifier 'a' at <input>:1:51"]);
  const b = run("global a probe begin { for (i = 0; i < 3000; i++) a[i] = i }", {
    defines: { MAXACTION: 100000 },
  });
  assertEquals(b.errors, ["Array overflow, check MAXMAPENTRIES near identifier 'a' at <input>:1:51"]);
  const w = run("global a%[3] probe begin { for (i = 0; i < 5; i++) a[i] = i; foreach (k in a) print(k) }");
  assertEquals(w.out, "234");
});

Deno.test("exit() stops probes, end probes still run, the host is asked to unload once", () => {
  const c = run(
    `global n
     probe timer.ms(1) { n++; if (n == 3) exit() }
     probe end { printf("n=%d\\n", n) }`,
    { untilNs: 100e6 },
  );
  assertEquals(c.out, "n=3\n");
  assertEquals(c.exits, 1);
});

Deno.test("timers: ms, hz, jiffies and profile fire on virtual time", () => {
  const c = run(
    `global a, b, c, d
     probe timer.ms(100) { a++ } probe timer.hz(50) { b++ } probe timer.jiffies(25) { c++ } probe timer.profile { d++ }
     probe end { printf("%d %d %d %d\\n", a, b, c, d) }`,
    { untilNs: 1e9, cpus: 2 },
  );
  assertEquals(c.out, "10 50 10 499\n");
});

Deno.test("syscall probes: context variables, .return with $return and retstr", () => {
  const c = run(
    `probe syscall.write { if (execname() == "bash") { printf("%s(%s) fd=%d\\n", name, argstr, fd); exit() } }`,
    { rate: 50000, untilNs: 1e9 },
  );
  assertMatch(c.out, /^write\(\d+, ".*"(\.\.\.)?, \d+\) fd=\d+\n$/);
  const r = run(
    `global n probe syscall.read.return { if ($return > 0) { printf("%s %s %d\\n", name, retstr, $return); if (++n == 2) exit() } }`,
    { rate: 50000, untilNs: 1e9 },
  );
  assertMatch(r.out, /^read (\d+) \1\nread (\d+) \2\n$/);
});

Deno.test("scheduler, kernel.function and process probes resolve, with wildcards and aliases", () => {
  const c = run(
    `global n
     probe my.io = kernel.function("vfs_*") { what = "io" }
     probe my.io { n[what, ppfunc()]++ }
     probe scheduler.cpu_on { n["sched", "on"]++ }
     probe process("postgres").function("XLog*") { n["pg", ppfunc()]++ }
     probe end { foreach ([a, b+] in n) printf("%s %s\\n", a, b) }`,
    { rate: 50000, untilNs: 200e6 },
  );
  assertEquals(c.out.split("\n").filter((l) => l).sort(), [
    "io vfs_read",
    "io vfs_write",
    "pg XLogBackgroundFlush",
    "pg XLogFlush",
    "sched on",
  ]);
});

Deno.test("unsupported probes and functions are listed with their place; instantiate refuses", () => {
  const cs = compileScript(
    'probe kernel.function("no_such_fn") { }\nprobe netfilter.ip.local_in ? { }\nprobe begin { foo_bar() }',
    {
      file: "x.stp",
    },
  );
  assertEquals(cs.unsupported.map((u) => `${u.line}:${u.column}`), ["1:7", "3:15"]);
  assertThrows(
    () =>
      cs.instantiate({
        cpus: 1,
        seed: 1,
        rate: 0,
        sink: { print() {}, warning() {}, error() {}, exit() {} },
      }),
    UnsupportedScriptError,
  );
});

Deno.test("parse errors throw with file:line:column", () => {
  assertThrows(
    () => compileScript("probe begin { x = }", { file: "bad.stp" }),
    ScriptError,
    /^bad\.stp:1:19: parse error/,
  );
});

Deno.test("print buffer: one record per hit; printf reserves whole, literal print splits at 8 KiB", () => {
  const c = run('probe begin { for (i = 0; i < 300; i++) printf("%050d\\n", i) }');
  // 51-byte printfs: 160 fit in 8192 bytes, the 161st flushes first.
  assertEquals(c.records.map((r) => r.text.length), [8160, 300 * 51 - 8160]);
  const d = run(
    'probe begin { for (i = 0; i < 300; i++) print("0123456789012345678901234567890123456789012345678\\n") }',
  );
  assertEquals(d.records.map((r) => r.text.length), [8192, 300 * 50 - 8192]);
});

Deno.test("print(@hist_log) ends the record (the runtime flushes after a histogram)", () => {
  const c = run('global s probe begin { s <<< 1; printf("a\\n"); print(@hist_log(s)); printf("b\\n") }');
  assertEquals(c.records.length, 2);
  assertEquals(c.records[1].text, "b\n");
});

Deno.test("positional arguments given at instantiate are substituted", () => {
  const out: string[] = [];
  const r = compileScript('probe begin { printf("%d %s\\n", $1, @2) }').instantiate({
    cpus: 1,
    seed: 1,
    rate: 0,
    args: ["42", "hello"],
    sink: { print: (_c, b) => out.push(new TextDecoder().decode(b)), warning() {}, error() {}, exit() {} },
  });
  r.begin();
  r.end();
  assertEquals(out.join(""), "42 hello\n");
});

Deno.test("script tapset functions (thread_indent, ansi_*) and ctime", () => {
  const c = run(`
    probe begin {
      printf("%s|\\n", ctime(0))
      printf("%s>\\n", thread_indent(1)); printf("%s>\\n", thread_indent(1)); printf("%s<\\n", thread_indent(-1))
      ansi_set_color(31); ansi_reset_color()
    }`);
  assertEquals(
    c.out,
    "Thu Jan  1 00:00:00 1970|\n     0 stapio(4242):>\n     0 stapio(4242): >\n     0 stapio(4242): <\n" +
      "\x1b[31m\x1b[0;0m",
  );
});

Deno.test("openat and close fire; syscalls the workload never makes resolve and stay quiet", () => {
  const c = run(
    `global n
     probe syscall.openat { n["open", filename]++ } probe syscall.close.return { n["close", retstr]++ }
     probe syscall.execve, syscall.unlink { n["never", name]++ }
     probe end { foreach ([a, b] in n) printf("%s %s\\n", a, b) }`,
    { rate: 50000, untilNs: 1e9 },
  );
  const lines = c.out.split("\n").filter((l) => l);
  assert(lines.includes('open "/home/alice/.bash_history"'));
  assert(lines.includes("close 0"));
  assert(!lines.some((l) => l.startsWith("never")));
});

Deno.test("next in a function without another overload: all functions exhausted", () => {
  const c = run("global g function f() { g++; next; return 1 } probe begin { x = f(); println(x) }");
  assertEquals(c.errors, ["all functions exhausted near identifier 'f' at <input>:1:65"]);
});

Deno.test("user_string reads the current call's buffer and faults elsewhere", () => {
  const c = run(
    `probe syscall.openat { if (execname() == "bash") { printf("%s\\n", user_string($filename)); exit() } }`,
    { rate: 50000, untilNs: 2e9 },
  );
  assertEquals(c.out, "/home/alice/.bash_history\n");
  const f = run('probe begin { println(user_string(4096, "<fault>")); println(user_string(4096)) }');
  assertEquals(f.out, "<fault>\n");
  assertEquals(f.errors, [
    "user string copy fault -14 at 0x1000 [man error::fault] near identifier 'user_string_n' at " +
    "/usr/share/systemtap/tapset/uconversions.stp:29:9",
  ]);
});

Deno.test("type mismatches are semantic errors, as in stap's pass 2", () => {
  assertThrows(
    () => compileScript('global a\nprobe begin { a = 1; a = "x" }', { file: "t7.stp" }),
    ScriptError,
    "t7.stp:2:22: semantic error: type mismatch (string): identifier 'a' (first inferred as long at t7.stp:2:15)",
  );
  assertThrows(
    () => compileScript('probe begin { x = 1; printf("%s", x) }', { file: "t8.stp" }),
    ScriptError,
    "t8.stp:1:35: semantic error: type mismatch (string): identifier 'x'",
  );
});

Deno.test('@entry keeps a value from the call\'s entry; function("f@file") matches the source file', () => {
  const c = run(
    `global lat, fns
     probe syscall.fdatasync.return { lat <<< gettimeofday_ns() - @entry(gettimeofday_ns()) }
     probe kernel.function("*@net/socket.c").return { fns[ppfunc()] = 1 }
     probe end { printf("%d %d\\n", @count(lat) > 0, @min(lat) > 0); foreach (f+ in fns) println(f) }`,
    { rate: 50000, untilNs: 1e9 },
  );
  assertEquals(c.out, "1 1\n__x64_sys_recvfrom\n__x64_sys_sendto\n");
  assertThrows(
    () => compileScript("probe begin { x = @entry(1) }"),
    ScriptError,
    /@entry is only valid in .return probes/,
  );
});

Deno.test("unsupportedIn lists what cannot run for checkScript", () => {
  const parsed = parseScript('probe kernel.function("nope") { }\nprobe begin { print_backtrace() }', {
    file: "u.stp",
  });
  assertEquals(unsupportedIn(parsed.script).map((u) => `${u.file}:${u.line}:${u.column}`), [
    "u.stp:1:7",
    "u.stp:2:15",
  ]);
  const bad = parseScript('global a\nprobe begin { a = 1; a = "x" }', { file: "t.stp" });
  assertEquals(
    unsupportedIn(bad.script)[0].message,
    "semantic error: type mismatch (string): identifier 'a' (first inferred as long at t.stp:2:15)",
  );
});

Deno.test("%m and %M print the bytes of the current call's buffer; other addresses fault", () => {
  const c = run(
    `probe syscall.write { if (execname() == "bash") { printf("[%.4m][%.4M]\\n", buf_uaddr, buf_uaddr); exit() } }`,
    { rate: 50000, untilNs: 2e9 },
  );
  // The buffer is either text or a binary length prefix: the NUL bytes are what %m prints.
  // deno-lint-ignore no-control-regex
  assertMatch(c.out, /^\[(psql|\x00\x00\x00\x1c)\]\[[0-9a-f]{8}\]\n$/);
  const f = run('probe begin { printf("%m", 4096) }');
  assertEquals(f.errors, [
    "read fault [man error::fault] at 0x1000 near identifier 'printf' at <input>:1:15",
  ]);
});

Deno.test("$$parms and $$return list the point's target variables", () => {
  const c = run(
    `global n
     probe kernel.function("vfs_read") { if (n++ == 0) println($$parms) }
     probe kernel.function("vfs_read").return { if (n++ == 1) { println($$return); exit() } }`,
    { rate: 50000, untilNs: 1e9 },
  );
  assertMatch(
    c.out,
    /^file=0x[0-9a-f]+ buf=0x[0-9a-f]+ count=0x[0-9a-f]+ pos=0x[0-9a-f]+\nreturn=0x[0-9a-f]+\n$/,
  );
});

Deno.test("foreach over a histogram visits every bucket; @hist_log(s)[b] is a bucket count", () => {
  const c = run(`
    global s
    probe begin {
      s <<< 1; s <<< 5; s <<< 6
      n = 0; foreach (b in @hist_log(s)) { n++; if (@hist_log(s)[b]) printf("%d:%d ", b, @hist_log(s)[b]) }
      printf("of %d\\n", n)
    }`);
  assertEquals(c.out, "65:1 67:2 of 128\n");
});

Deno.test("probe point conditions, optional (?) and sufficient (!) points", () => {
  const c = run(
    `global on, n, w, z
     probe timer.ms(100) { on = !on }
     probe vfs.read if (on) { n[on]++ }
     probe kernel.function("no_such") !, kernel.function("vfs_write") !, kernel.function("vfs_read") { w[ppfunc()]++ }
     probe kernel.function("also_missing") ? { z++ }
     probe end { printf("%d %d %d\\n", [0] in n, [1] in n, z); foreach (f in w) println(f) }`,
    { rate: 50000, untilNs: 1e9 },
  );
  assertEquals(c.out, "0 1 0\nvfs_write\n");
});

Deno.test("timer.randomize jitters around the period; scheduler.ctxswitch variables", () => {
  const c = run(
    `global t, last, sw
     probe timer.ms(100).randomize(50) { now = gettimeofday_ms(); if (last) t <<< now - last; last = now }
     probe scheduler.ctxswitch { if (!sw) printf("%s(%d) -> %s(%d)\\n", prev_task_name, prev_pid, next_task_name, next_pid); sw++ }
     probe end { printf("%d %d %d\\n", @count(t), @min(t) >= 50, @max(t) <= 150) }`,
    { rate: 20000, untilNs: 5e9 },
  );
  const lines = c.out.split("\n");
  assertMatch(lines[0], /^[\w/:.-]+\(\d+\) -> [\w/:.-]+\(\d+\)$/);
  assertMatch(lines[1], /^\d+ 1 1$/);
  assert(Number(lines[1].split(" ")[0]) >= 30);
});

Deno.test("PostgreSQL's query__start/query__done markers carry the query text", () => {
  const c = run(
    `global q
     probe process("postgres").mark("query__start") { q[tid()] = user_string($arg1) }
     probe process("postgres").mark("query__done") { if (tid() in q) { printf("%d %s\\n", pid(), q[tid()]); exit() } }`,
    { rate: 50000, untilNs: 2e9 },
  );
  assertMatch(c.out, /^71(20|21) (SELECT|UPDATE|INSERT|BEGIN|COMMIT).*;\n$/);
});

Deno.test("raw syscall tracepoints, syscall_any and kprobe.function", () => {
  const c = run(
    `global ids, any, kp
     probe kernel.trace("sys_enter") { ids[$id]++ }
     probe syscall_any.return { any[name] = retval >= -4095 }
     probe kprobe.function("vfs_read") { kp[pp()] = 1 }
     probe end { printf("%d %d %d %d\\n", [0] in ids, [257] in ids, ["openat"] in any, ["kprobe.function(\\"vfs_read\\")"] in kp) }`,
    { rate: 50000, untilNs: 1e9 },
  );
  assertEquals(c.out, "1 1 1 1\n");
});

Deno.test("scheduler.wakeup names the woken task", () => {
  const c = run(
    `global w probe scheduler.wakeup { w[task_pid] = 1 } probe end { printf("%d %d\\n", [7014] in w, [0] in w) }`,
    { rate: 50000, untilNs: 1e9 },
  );
  assertEquals(c.out, "1 0\n");
});

Deno.test("MAXNESTING: ten nested calls run, the eleventh fails near the call", () => {
  const c = run(
    "global d function f(n) { d = n; return f(n + 1) } probe begin { f(1) } probe error { println(d) }",
  );
  assertEquals(c.errors, ["MAXNESTING exceeded near identifier 'f' at <input>:1:40"]);
  assertEquals(c.out, "10\n");
});

Deno.test("@defined decides at compile time; the dead branch may use what the point lacks", () => {
  const c = run(
    `probe kernel.function("vfs_read") {
       printf("%d %d\\n", @defined($count) ? $count > 0 : -1, @defined($nosuch) ? $nosuch->x : 7)
       if (!@defined($nosuch)) exit() else println($nosuch)
     }`,
    { rate: 50000, untilNs: 1e9 },
  );
  assertEquals(c.out, "1 7\n");
});

Deno.test("functions overload by arity, and by priority with next", () => {
  const c = run(`
    function f(a) { return a + 1 }
    function f(a, b) { return a * b }
    function g:string(x) : 1 { if (x < 0) next; return "first" }
    function g:string(x) : 2 { return "second" }
    probe begin { printf("%d %d %s %s\\n", f(1), f(2, 3), g(1), g(-1)) }`);
  assertEquals(c.out, "2 6 first second\n");
});
