/**
 * Research analysis of a directory of bulk outputs (tests/kernel/research/README.md): frames per file as the
 * headers say, frames whose text is not the scripts' numbered lines, the merged sequence gaps and the gaps in the
 * scripts' own numbers. `deno run --allow-read analyze.ts DIR…`
 * @module
 */
const dec = new TextDecoder("latin1");
interface Frame {
  file: string;
  off: number;
  seq: number;
  len: number;
  got: number;
  text: string;
}
function frames(file: string): { frames: Frame[]; notes: string[] } {
  const b = Deno.readFileSync(file);
  const v = new DataView(b.buffer);
  const out: Frame[] = [];
  const notes: string[] = [];
  let o = 0;
  while (o + 8 <= b.length) {
    const seq = v.getUint32(o, true), len = v.getUint32(o + 4, true);
    const got = Math.min(len, b.length - o - 8);
    out.push({ file, off: o, seq, len, got, text: dec.decode(b.subarray(o + 8, o + 8 + got)) });
    if (len === 0 || len > 131072) notes.push(`${file}@${o}: implausible header seq ${seq} len ${len}`);
    o += 8 + got;
  }
  if (o < b.length) notes.push(`${file}: ${b.length - o} trailing bytes`);
  return { frames: out, notes };
}
const NUM = [/^tick (\d+)$/, /^(\d+) abcdefghijklmnopqrstuvwxyz$/, /^(\d+) x{100}$/];
function numbersOf(text: string): { nums: number[]; bad: string[] } {
  const nums: number[] = [], bad: string[] = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  else bad.push(`(no final newline) ${JSON.stringify(lines.at(-1)!.slice(-60))}`);
  for (const l of lines) {
    const m = NUM.map((r) => r.exec(l)).find((x) => x);
    if (m) nums.push(Number(m[1]));
    else if (l !== "begin" && l !== "exited") {
      bad.push(JSON.stringify(l.length > 140 ? l.slice(0, 60) + "…" + l.slice(-60) : l));
    }
  }
  return { nums, bad };
}
function ranges(xs: number[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < xs.length; i++) {
    if (xs[i] - xs[i - 1] > 1) out.push(`${xs[i - 1] + 1}-${xs[i] - 1} (${xs[i] - xs[i - 1] - 1})`);
  }
  return out;
}
for (const dir of Deno.args) {
  const files = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => `${dir}/${e.name}`).sort();
  console.log(`== ${dir}: ${files.map((f) => `${f.split("/").pop()} ${Deno.statSync(f).size}`).join(", ")}`);
  const all: Frame[] = [];
  for (const f of files) {
    const { frames: fr, notes } = frames(f);
    notes.forEach((n) => console.log("  NOTE " + n));
    for (const x of fr) all.push(x);
    const sizes = new Map<number, number>();
    for (const x of fr) sizes.set(x.len, (sizes.get(x.len) ?? 0) + 1);
    const top = [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([l, n]) => `${l}x${n}`).join(" ");
    console.log(
      `  ${f.split("/").pop()}: ${fr.length} frames, seq ${fr[0]?.seq}..${fr.at(-1)?.seq}, lens ${top}`,
    );
    for (const x of fr) {
      const { nums, bad } = numbersOf(x.text);
      if (bad.length || x.got < x.len) {
        console.log(
          `    frame@${x.off} seq ${x.seq} len ${x.len} got ${x.got} nums ${nums[0]}..${nums.at(-1)} BAD ${
            bad.slice(0, 3).join(" | ")
          }`,
        );
      }
    }
  }
  all.sort((a, b) => a.seq - b.seq);
  const seqs = all.map((x) => x.seq);
  const dup = seqs.filter((s, i) => i && s === seqs[i - 1]).length;
  console.log(
    `  merged: ${all.length} frames seq ${seqs[0]}..${seqs.at(-1)} dups ${dup} seq gaps: ${
      ranges(seqs).slice(0, 12).join(", ")
    }`,
  );
  const nums: number[] = [];
  for (const x of all) for (const n of numbersOf(x.text).nums) nums.push(n);
  const sorted = [...nums].sort((a, b) => a - b);
  const inOrder = nums.every((n, i) => i === 0 || n > nums[i - 1]);
  console.log(
    `  numbers: ${nums.length} ${sorted[0]}..${sorted.at(-1)} in-order-by-seq ${inOrder} gaps: ${
      ranges(sorted).slice(0, 12).join(", ")
    }`,
  );
  // number minus sequence at the first and last frame (failures between them = change of the offset)
  const first = all.find((x) => numbersOf(x.text).nums.length),
    last = [...all].reverse().find((x) => numbersOf(x.text).nums.length);
  if (first && last) {
    const n0 = numbersOf(first.text).nums[0], n1 = numbersOf(last.text).nums.at(-1)!;
    console.log(`  first frame seq ${first.seq} starts n ${n0}; last frame seq ${last.seq} ends n ${n1}`);
  }
}
