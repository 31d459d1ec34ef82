#!/bin/bash
# Research run 1 in the lab guest (raw staprun, bulk modules), as run on 2026-12-07. Output under /xfer/out.
# Known flaw, kept as run: readto() signals the pid of `timeout`, which passes QUIT on but not KILL, and t4 signals
# a subshell: t4, t5 and everything after f2 began (f2's detach, f6 to x2) are not evidence; run 2 repeats them.
M=${STAPFR_RESEARCH_MODULES:?the directory of the research modules}
O=/xfer/out
mkdir -p $O
exec > $O/research.log 2>&1
T0=$(date +%s%N)
ts() { echo "[$(( ($(date +%s%N) - T0) / 1000000 )) ms] $*"; }
snap() { # module label
  local P=/proc/systemtap/$1
  ts "snap $2"
  echo "--- counters"; cat $P/stapfr_counters
  echo "--- relay"; cat $P/stapfr_lab_relay
  grep "^$1 " /proc/modules
}
detach() { # pid label
  local pid=$1 i j
  for i in 1 2 3; do
    kill -QUIT $pid 2>/dev/null || { ts "$2 gone before QUIT $i"; break; }
    for j in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    if ! kill -0 $pid 2>/dev/null; then ts "$2 detached after QUIT $i"; break; fi
    ts "$2 QUIT $i lost"
  done
  if kill -0 $pid 2>/dev/null; then ts "$2 KILL"; kill -KILL $pid; fi
  wait $pid; ts "$2 rc=$?"
}
readto() { # module dir seconds label  (files, -o DIR/cpu)
  mkdir -p $2
  timeout -s KILL 300 staprun -A $1 -o $2/cpu > $2.stdout 2> $2.stderr &
  local pid=$!
  ts "$4 started pid $pid"
  sleep $3
  snap $1 "$4 attached"
  detach $pid "$4"
  ls -la $2
}
stopmod() { # module dir label
  mkdir -p $2
  timeout -s KILL 300 staprun -A $1 -o $2/cpu > $2.stdout 2> $2.stderr &
  local pid=$! i j
  sleep 3
  for i in 1 2 3 4; do
    kill -TERM $pid 2>/dev/null || break
    for j in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    kill -0 $pid 2>/dev/null || { ts "$3 ended after TERM $i"; break; }
    ts "$3 TERM $i lost"
  done
  kill -0 $pid 2>/dev/null && { ts "$3 KILL"; kill -KILL $pid; }
  wait $pid; ts "$3 rc=$?"
  grep "^$1 " /proc/modules || ts "$1 unloaded"
  ls -la $2
}

ts "=== tickb"
staprun -L -b 1 $M/stap_fr_tickb.ko > $O/tL.stdout 2> $O/tL.stderr; ts "load rc=$?"
ls -la /proc/systemtap/stap_fr_tickb/
snap stap_fr_tickb loaded
sleep 40
snap stap_fr_tickb "before r1"
readto stap_fr_tickb $O/t1 6 t1
snap stap_fr_tickb "after r1"
sleep 5
readto stap_fr_tickb $O/t2 5 t2
# FIFOs pre-created at the output names, readers first
mkdir -p /tmp/f3
mkfifo /tmp/f3/cpu_0 /tmp/f3/cpu_1
cat /tmp/f3/cpu_0 > $O/t3_fifo_0 & C0=$!
cat /tmp/f3/cpu_1 > $O/t3_fifo_1 & C1=$!
readto stap_fr_tickb /tmp/f3 4 t3
wait $C0 $C1; ts "fifo readers done"
ls -la /tmp/f3; cp /tmp/f3.stdout $O/t3.stdout; cp /tmp/f3.stderr $O/t3.stderr
# no -o: stpd_cpuN in the working directory
mkdir -p $O/t4
(cd $O/t4 && timeout -s KILL 120 staprun -A stap_fr_tickb > ../t4.stdout 2> ../t4.stderr) & P4=$!
sleep 4; snap stap_fr_tickb "t4 attached"; detach $P4 t4; ls -la $O/t4
stopmod stap_fr_tickb $O/t5 t5

ts "=== fastb"
staprun -L -b 1 $M/stap_fr_fastb.ko > $O/fL.stdout 2> $O/fL.stderr; ts "load rc=$?"
snap stap_fr_fastb loaded
sleep 10; snap stap_fr_fastb "10s"
sleep 50; snap stap_fr_fastb "60s before f1"
readto stap_fr_fastb $O/f1 8 f1
snap stap_fr_fastb "after f1"
sleep 5
readto stap_fr_fastb $O/f2 8 f2
snap stap_fr_fastb "after f2"
# slow reader: FIFOs whose consumers stall 20 s behind a pipe
mkdir -p /tmp/f6; mkfifo /tmp/f6/cpu_0 /tmp/f6/cpu_1
(cat /tmp/f6/cpu_0 | { sleep 20; cat > $O/f6_0; }) & C0=$!
(cat /tmp/f6/cpu_1 | { sleep 20; cat > $O/f6_1; }) & C1=$!
timeout -s KILL 300 staprun -A stap_fr_fastb -o /tmp/f6/cpu > $O/f6.stdout 2> $O/f6.stderr & P6=$!
for k in 1 2 3 4; do sleep 5; snap stap_fr_fastb "f6 stalled $k"; done
sleep 5; snap stap_fr_fastb "f6 drained"
detach $P6 f6
wait $C0 $C1; ts "f6 consumers done"; ls -la $O/f6_0 $O/f6_1
snap stap_fr_fastb "after f6"
sleep 3
readto stap_fr_fastb $O/f7 6 f7
stopmod stap_fr_fastb $O/f8 f8

ts "=== floodb"
staprun -L -b 1 $M/stap_fr_floodb.ko > $O/xL.stdout 2> $O/xL.stderr; ts "load rc=$?"
sleep 20; snap stap_fr_floodb "20s"
readto stap_fr_floodb $O/x1 6 x1
snap stap_fr_floodb "after x1"
stopmod stap_fr_floodb $O/x2 x2
dmesg | tail -30
ts "=== done"
