#!/bin/bash
# Research run 4: the counters tapset exactly as lib/driver/counters.ts writes it (modules from build.ts), as
# run on 2026-12-07. r2 lacks its mkdir, so it shows what a missing output directory does: stapio -A prints
# "ERROR: Couldn't open output file DIR/cpu_0: No such file or directory", exits 1, and the module stays.
M=${STAPFR_RESEARCH_MODULES:?the directory of the research modules}
O=/xfer/out4
mkdir -p $O
exec > $O/research.log 2>&1
P=/proc/systemtap/stap_fr_tickb
staprun -L -b 1 $M/stap_fr_tickb.ko > $O/L.stdout 2> $O/L.stderr; echo "load rc=$?"
ls -la $P
cat $P/stapfr_counters
sleep 2
mkdir -p $O/r1; staprun -A stap_fr_tickb -o $O/r1/cpu > $O/r1.stdout 2> $O/r1.stderr & PID=$!
sleep 3; cat $P/stapfr_counters; kill -QUIT $PID; wait $PID; echo "r1 rc=$?"
cat $P/stapfr_counters
staprun -A stap_fr_tickb -o $O/r2/cpu > $O/r2.stdout 2> $O/r2.stderr & PID=$!
sleep 2; kill -TERM $PID; wait $PID; echo "r2 rc=$?"
grep "^stap_fr_tickb " /proc/modules || echo "unloaded"
