/**
 * Research analysis of the `fastr` module's bulk output (tests/kernel/research/README.md): each record is
 * `N cCPU pPRODUCED cCONSUMED bBYTES_CONSUMED oOFFSET wWRITE_SUBBUF ovOVERWRITE`, the relay's bookkeeping when it
 * was written. Prints the first frames, then every frame after a gap. `deno run --allow-read analyze_r.ts FILE [N]`
 * @module
 */
const dec = new TextDecoder("latin1");
const file = Deno.args[0];
const b = Deno.readFileSync(file);
const v = new DataView(b.buffer);
let o = 0, i = 0, prev: number | null = null, prevN: number | null = null;
const RE = /^(\d+) c\d+ p(\d+) c(\d+) b(\d+) o(\d+) w(\d+) ov(\d)\n$/;
const show = Number(Deno.args[1] ?? "15");
while (o + 8 <= b.length) {
  const seq = v.getUint32(o, true), len = v.getUint32(o + 4, true);
  const got = Math.min(len, b.length - o - 8);
  const text = dec.decode(b.subarray(o + 8, o + 8 + got));
  const m = RE.exec(text);
  const gap = prev !== null && seq !== prev + 1;
  if (
    i < show || !m || gap ||
    (m && prevN !== null && Number(m[1]) !== prevN + 1 && i < 100000 && Number(m[1]) - prevN! > 1)
  ) {
    console.log(
      `#${i} @${o} seq ${seq} len ${len}${got < len ? ` got ${got}` : ""}${
        gap ? ` SEQGAP ${prev! + 1}-${seq - 1}` : ""
      } ${
        m
          ? `n ${m[1]} p${m[2]} c${m[3]} b${m[4]} o${m[5]} w${m[6]} ov${m[7]}`
          : "BAD " + JSON.stringify(text.slice(0, 100))
      }`,
    );
  }
  if (m) prevN = Number(m[1]);
  if (len > 0 && len <= 131072) prev = seq;
  o += 8 + got;
  i++;
}
console.log(`frames ${i}, bytes ${b.length}, end at ${o}`);
