# A plan (see guest.sh) that records the book's chapter 2 sessions on this
# layout: each command is printed as the book shows it (`$ sudo ...`), then
# run as root (the guest has no sudo), its output after it. Record with:
#   MINI_DOCKER_VM_PLAN=scripts/vm/book-sessions.sh sudo bash scripts/vm/cgroup-tests.sh v2 v1
# and find them in target/vm/console-v2.log and console-v1.log.
repo="$(cd "$(dirname "$CH02_E2E")/../../.." && pwd)"
export PATH="$repo/target/debug:$PATH"
session() {
  echo "$ $1"
  eval "${1#sudo }" 2>&1
  status=$?
}
# `echo $?` as the book shows it: the status of the session before.
session_status() {
  echo '$ echo $?'
  echo "$status"
}
say "---- sessions on $layout"
session "sudo mini-docker doctor | sed -n '/^ok      cgroups/,/device rules/p'"
session "sudo ch02-cgroups -m 64m --cpus 0.5 --pids-limit 20 -- /bin/busybox sh -c 'cat /proc/self/cgroup; ls /sys/fs/cgroup'"
if [ "$layout" = v2 ]; then
  session "sudo ch02-cgroups -m 64m --cpus 0.5 --pids-limit 20 -- /bin/busybox sh -c 'cd /sys/fs/cgroup; cat memory.max cpu.max pids.max; echo 100 > pids.max'"
  session "sudo ch02-cgroups --cgroupns host --name web --pids-limit 20 -- /bin/busybox sh -c 'cat /proc/self/cgroup; cat /sys/fs/cgroup/mini-docker/web/pids.max'"
  session "sudo ch02-cgroups --privileged --pids-limit 20 -- /bin/busybox sh -c 'echo 30 > /sys/fs/cgroup/pids.max; mkdir /sys/fs/cgroup/inner && echo 10 > /sys/fs/cgroup/inner/cgroup.max.depth && echo made inner'"
else
  session "sudo ch02-cgroups -m 64m --cpus 0.5 --pids-limit 20 -- /bin/busybox sh -c 'cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us pids/pids.max; echo 100 > pids/pids.max'"
  session "sudo ch02-cgroups --cgroupns private --name web --pids-limit 20 -- /bin/busybox sh -c 'cat /proc/self/cgroup; cat /sys/fs/cgroup/pids/pids.max'"
fi
session "sudo ch02-cgroups --name ticker -- /bin/busybox sh -c 'while :; do sleep 1; done' &"
sleep 2
session "sudo ch02-cgroups --explain pause ticker"
if [ "$layout" = v2 ]; then
  session "cat /sys/fs/cgroup/mini-docker/ticker/cgroup.events"
else
  session "cat /sys/fs/cgroup/freezer/mini-docker/ticker/freezer.state"
fi
session "sudo ch02-cgroups --explain unpause ticker"
ticker="$(ls -d /sys/fs/cgroup/mini-docker/ticker /sys/fs/cgroup/memory/mini-docker/ticker 2>/dev/null | head -1)"
kill -9 $(cat "$ticker/cgroup.procs")
wait
# The parent would keep the pids controller enabled below the root.
# (deepest first: a container of the sessions may have made a cgroup inside its own)
find /sys/fs/cgroup -depth -type d -path '*/mini-docker*' -exec rmdir {} + 2>/dev/null
drop_controller pids
session "sudo ch02-cgroups --pids-limit 20 -- /bin/true"
session_status
session "sudo ch02-cgroups -m 64m -- /bin/busybox echo 'no pids controller, and -m still works'"
say "---- end of sessions"
