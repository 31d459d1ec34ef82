#!/bin/bash
# Research run 2 in the lab guest (raw staprun, bulk modules). Output under /xfer/out2.
M=${STAPFR_RESEARCH_MODULES:?the directory of the research modules}
O=/xfer/out2
mkdir -p $O
exec > $O/research.log 2>&1
T0=$(date +%s%N)
ts() { echo "[$(( ($(date +%s%N) - T0) / 1000000 )) ms] $*"; }
snap() { local P=/proc/systemtap/$1; ts "snap $2"; cat $P/stapfr_counters $P/stapfr_lab_relay; grep "^$1 " /proc/modules; }
ended() { # pid label: waits up to 5 s
  local j; for j in $(seq 50); do kill -0 $1 2>/dev/null || return 0; sleep 0.1; done; return 1
}
detach() { # pid label
  local i
  for i in 1 2 3; do
    kill -QUIT $1 2>/dev/null || break
    if ended $1; then ts "$2 detached after QUIT $i"; break; fi
    ts "$2 QUIT $i lost"
  done
  kill -0 $1 2>/dev/null && { ts "$2 KILL"; kill -KILL $1; }
  wait $1; ts "$2 rc=$?"
}
term() { # pid label
  local i
  for i in 1 2 3 4; do
    kill -TERM $1 2>/dev/null || break
    if ended $1; then ts "$2 ended after TERM $i"; break; fi
    ts "$2 TERM $i lost"
  done
  kill -0 $1 2>/dev/null && { ts "$2 KILL"; kill -KILL $1; }
  wait $1; ts "$2 rc=$?"
}
attach() { # module dir  -> sets PID
  mkdir -p $2
  staprun -A $1 -o $2/cpu > $2.stdout 2> $2.stderr &
  PID=$!
}

ts "=== A tickb"
staprun -L -b 1 $M/stap_fr_tickb.ko > $O/aL.stdout 2> $O/aL.stderr; ts "load rc=$?"
sleep 3; snap stap_fr_tickb "3s"
attach stap_fr_tickb $O/a1; sleep 3; snap stap_fr_tickb "a1 attached"; detach $PID a1
attach stap_fr_tickb $O/a2; sleep 3; ts "a2 SIGKILL stapio"; kill -KILL $PID; wait $PID; ts "a2 rc=$?"
snap stap_fr_tickb "after a2 killed"
sleep 2
mkdir -p $O/a3; cd $O/a3; staprun -A stap_fr_tickb > $O/a3.stdout 2> $O/a3.stderr & PID=$!; cd /
sleep 3; detach $PID a3; ls -la $O/a3
attach stap_fr_tickb $O/a4; sleep 3; term $PID a4
grep "^stap_fr_tickb " /proc/modules || ts "tickb unloaded"

ts "=== C fastb slow reader"
staprun -L -b 1 $M/stap_fr_fastb.ko > $O/cL.stdout 2> $O/cL.stderr; ts "load rc=$?"
sleep 5; snap stap_fr_fastb "5s"
mkdir -p /tmp/f6; mkfifo /tmp/f6/cpu_0 /tmp/f6/cpu_1
(timeout 200 cat /tmp/f6/cpu_0 | { sleep 20; cat > $O/c1_0; }) & C0=$!
(timeout 200 cat /tmp/f6/cpu_1 | { sleep 20; cat > $O/c1_1; }) & C1=$!
staprun -A stap_fr_fastb -o /tmp/f6/cpu > $O/c1.stdout 2> $O/c1.stderr & PID=$!
for k in 1 2 3 4 5; do sleep 5; snap stap_fr_fastb "c1 $((k*5))s"; done
detach $PID c1
wait $C0 $C1; ts "consumers done"; ls -la $O/c1_0 $O/c1_1
snap stap_fr_fastb "after c1"
attach stap_fr_fastb $O/c2; sleep 3; term $PID c2
grep "^stap_fr_fastb " /proc/modules || ts "fastb unloaded"

ts "=== B fastr wrapped first read"
staprun -L -b 1 $M/stap_fr_fastr.ko > $O/bL.stdout 2> $O/bL.stderr; ts "load rc=$?"
sleep 45; snap stap_fr_fastr "45s"
attach stap_fr_fastr $O/b1; sleep 0.5; snap stap_fr_fastr "b1 0.5s"; sleep 3; snap stap_fr_fastr "b1 3.5s"; detach $PID b1
snap stap_fr_fastr "after b1"
sleep 3
attach stap_fr_fastr $O/b2; sleep 3; snap stap_fr_fastr "b2 3s"; detach $PID b2
attach stap_fr_fastr $O/b3; sleep 2; term $PID b3
grep "^stap_fr_fastr " /proc/modules || ts "fastr unloaded"
ts "=== done"
