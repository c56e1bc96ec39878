#!/bin/busybox sh
# The test VM's guest side, run as PID 1 from the host's (read-only) tree:
# give the guest its own writable places, mount the cgroup layout under
# test (md.layout=v2 or v1), run the plan (md.plan, a script of `check`
# lines; md.env names the generated file with the test binaries' paths),
# print the verdict on the serial console and power off. The host side
# (scripts/vm/boot.sh) reads the verdict from the console.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "mini-docker-vm: $*"; }
halt() { sync; poweroff -f; sleep 5; echo o > /proc/sysrq-trigger; }
die() { say "FAIL: $*"; halt; }

arg() {
  for word in $(cat /proc/cmdline); do
    case "$word" in "md.$1="*) echo "${word#md.$1=}" ;; esac
  done
}

for dir in /tmp /run /var/tmp /var/lib /root; do
  mount -t tmpfs -o mode=755 tmpfs "$dir" || die "tmpfs on $dir"
done
chmod 1777 /tmp /var/tmp
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
ip link set lo up
hostname mini-docker-vm
export HOME=/root

# ---- the cgroup layouts
# Pure v2: one cgroup2 tree with every controller, as systemd mounts it.
mount_v2() {
  mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || die "mounting cgroup2"
}

# Pure v1: a tmpfs with one hierarchy per controller (cpu and cpuacct
# together, as systemd does), a named systemd hierarchy, and no cgroup2.
V1_HIERARCHIES="cpu,cpuacct memory pids freezer devices cpuset blkio"
mount_v1() {
  mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup || die "tmpfs on /sys/fs/cgroup"
  for hierarchy in $V1_HIERARCHIES; do
    mkdir "/sys/fs/cgroup/$hierarchy"
    mount -t cgroup -o "$hierarchy" cgroup "/sys/fs/cgroup/$hierarchy" || die "mounting $hierarchy"
  done
  ln -s cpu,cpuacct /sys/fs/cgroup/cpu
  ln -s cpu,cpuacct /sys/fs/cgroup/cpuacct
  mkdir /sys/fs/cgroup/systemd
  mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd || die "mounting name=systemd"
}

# Take CONTROLLER away, for the plan's "a controller is missing" checks:
# on v1 its hierarchy is unmounted; on v2 it is bound to a v1 hierarchy
# that is unmounted again (it lingers, holding the controller), so that
# cgroup2 no longer offers it, as on a kernel built without it.
# A removed cgroup's state is freed by the kernel a little later: until
# then the controller is still in use on v2 and a v1 mount of it says
# EBUSY. Try for five seconds.
mount_v1_when_free() {
  for _ in $(seq 50); do
    mount -t cgroup -o "$1" cgroup "/run/v1-$1" 2>/dev/null && return 0
    sleep 0.1
  done
  mount -t cgroup -o "$1" cgroup "/run/v1-$1"
}

drop_controller() {
  controller="$1"
  case "$layout" in
    v1) umount "/sys/fs/cgroup/$controller" && rmdir "/sys/fs/cgroup/$controller" ;;
    v2)
      echo "-$controller" > /sys/fs/cgroup/cgroup.subtree_control
      mkdir -p "/run/v1-$controller"
      mount_v1_when_free "$controller" \
        && mkdir "/run/v1-$controller/held" && umount "/run/v1-$controller"
      ;;
  esac || die "taking the $controller controller away"
  say "the $controller controller is gone: $(grep "^$controller" /proc/cgroups)"
}

# ---- the plan's vocabulary
passed=0
failed=""
# check NAME COMMAND...: run one step of the plan, its output on the console.
check() {
  name="$1"
  shift
  say "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    say "!! $name failed (exit $?)"
    failed="$failed $name"
  fi
}

layout="$(arg layout)"
case "$layout" in
  v2) mount_v2 ;;
  v1) mount_v1 ;;
  *) die "unknown layout md.layout=$layout (v2 or v1)" ;;
esac
for module in overlay; do [ -d "/sys/module/$module" ] || die "module $module not loaded"; done
say "kernel $(uname -r), layout $layout:"
grep cgroup /proc/self/mountinfo

env_file="$(arg env)"
plan="$(arg plan)"
[ -r "$env_file" ] || die "no env file $env_file"
[ -r "$plan" ] || die "no plan $plan"
set -a
. "$env_file"
set +a
. "$plan"

if [ -z "$failed" ]; then
  say "PASS layout=$layout ($passed checks)"
else
  say "FAIL layout=$layout:$failed"
fi
halt
