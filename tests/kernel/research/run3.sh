#!/bin/bash
# Research run 3: the unload warning; records cut short under a blocked reader (flood, bulk).
M=${STAPFR_RESEARCH_MODULES:?the directory of the research modules}
O=/xfer/out3
mkdir -p $O
exec > $O/research.log 2>&1
T0=$(date +%s%N)
ts() { echo "[$(( ($(date +%s%N) - T0) / 1000000 )) ms] $*"; }
snap() { local P=/proc/systemtap/$1; ts "snap $2"; cat $P/stapfr_counters $P/stapfr_lab_relay; grep "^$1 " /proc/modules; }
ended() { local j; for j in $(seq 50); do kill -0 $1 2>/dev/null || return 0; sleep 0.1; done; return 1; }
signal() { # SIG pid label tries
  local i
  for i in $(seq $4); do
    kill -$1 $2 2>/dev/null || break
    if ended $2; then ts "$3 ended after $1 $i"; break; fi
    ts "$3 $1 $i lost"
  done
  kill -0 $2 2>/dev/null && { ts "$3 KILL"; kill -KILL $2; }
  wait $2; ts "$3 rc=$?"
}
ts "=== tickb: first read after sub-buffer 0 filled, then stop"
staprun -L -b 1 $M/stap_fr_tickb.ko > $O/tL.stdout 2> $O/tL.stderr; ts "load rc=$?"
sleep 30; snap stap_fr_tickb "30s"
mkdir -p $O/t1; staprun -A stap_fr_tickb -o $O/t1/cpu > $O/t1.stdout 2> $O/t1.stderr & P=$!
sleep 4; snap stap_fr_tickb "t1 attached"; signal TERM $P t1 4
grep "^stap_fr_tickb " /proc/modules || ts "tickb unloaded"

ts "=== floodb: reader blocked on FIFOs for 15 s"
staprun -L -b 1 $M/stap_fr_floodb.ko > $O/xL.stdout 2> $O/xL.stderr; ts "load rc=$?"
sleep 2; snap stap_fr_floodb "2s"
mkdir -p /tmp/f9; mkfifo /tmp/f9/cpu_0 /tmp/f9/cpu_1
(timeout 200 cat /tmp/f9/cpu_0 | { sleep 15; cat > $O/x1_0; }) & C0=$!
(timeout 200 cat /tmp/f9/cpu_1 | { sleep 15; cat > $O/x1_1; }) & C1=$!
staprun -A stap_fr_floodb -o /tmp/f9/cpu > $O/x1.stdout 2> $O/x1.stderr & P=$!
for k in 1 2 3 4; do sleep 5; snap stap_fr_floodb "x1 $((k*5))s"; done
signal QUIT $P x1 3
wait $C0 $C1; ts "consumers done"; ls -la $O/x1_0 $O/x1_1
snap stap_fr_floodb "after x1"
ts "=== done"
