#!/usr/bin/env bash
# Chapter 11's figures, on three mini-dockerd nodes in network namespaces of
# their own on one test bridge (as tests/e2e_swarm.rs builds them):
#   - time from `service create --replicas 10` to ten running tasks;
#   - time to replace a lost node's tasks after its daemon stops (the
#     heartbeat period, 5 s unless HEARTBEAT says, is included);
#   - requests per second through the routing mesh beside straight to one
#     replica's node port.
# Prints figures; it is not a test. Traffic stays on the bench's bridge.
#   sudo bash scripts/bench-swarm.sh            (release build)
#   sudo BIN=target/debug bash scripts/bench-swarm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "bench-swarm: needs root: run with sudo" >&2; exit 1; }
command -v docker >/dev/null || { echo "bench-swarm: needs the docker CLI" >&2; exit 1; }
heartbeat="${HEARTBEAT:-5s}"
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet -p mini-docker --bins
  BIN=target/release
fi
bin="$(cd "$BIN" && pwd)"
tag="mdbench$$"
net=10.197.$(( $$ % 200 ))
work="$(mktemp -d /tmp/mdbs.XXXXXX)"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for i in 1 2 3; do
    root="$work/n$i"
    [ -d "$root" ] || continue
    ids="$("$bin/mini-docker" --root "$root" ps -a -q 2>/dev/null || true)"
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086
      env MINI_DOCKER_CGROUP_PARENT="${tag}cg$i" nsenter --net="/run/netns/${tag}n$i" "$bin/mini-docker" --root "$root" rm -f $ids >/dev/null 2>&1 || true
    fi
    env MINI_DOCKER_BRIDGE="${tag}b$i" MINI_DOCKER_SUBNET="10.196.$i.0/24" \
      nsenter --net="/run/netns/${tag}n$i" "$bin/mini-docker" --root "$root" network prune -f >/dev/null 2>&1 || true
    ip netns del "${tag}n$i" 2>/dev/null || true
    for dir in /sys/fs/cgroup/"${tag}cg$i" /sys/fs/cgroup/*/"${tag}cg$i"; do rmdir "$dir" 2>/dev/null || true; done
  done
  ip link del "${tag}br" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

docker_on() { local i="$1"; shift; docker -H "unix://$work/n$i/d.sock" "$@"; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

bash scripts/make-busybox-image.sh "$work/busybox.tar" >/dev/null
ip link add "${tag}br" type bridge
ip addr add "$net.1/24" dev "${tag}br"
ip link set "${tag}br" up
for i in 1 2 3; do
  ns="${tag}n$i"
  ip netns add "$ns"
  ip link add "${tag}v$i" type veth peer name eth0 netns "$ns"
  ip link set "${tag}v$i" master "${tag}br" up
  ip -n "$ns" addr add "$net.1$i/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  mkdir -p "$work/n$i"
  "$bin/mini-docker" --root "$work/n$i" load -i "$work/busybox.tar" >/dev/null 2>&1
  MINI_DOCKER_CGROUP_PARENT="${tag}cg$i" MINI_DOCKER_BRIDGE="${tag}b$i" MINI_DOCKER_SUBNET="10.196.$i.0/24" \
    unshare --uts sh -c "hostname node$i && exec nsenter --net=/run/netns/$ns $bin/mini-dockerd -H unix://$work/n$i/d.sock --data-root $work/n$i" \
    >"$work/n$i.log" 2>&1 </dev/null &
  pids+=($!)
done
for i in 1 2 3; do
  until [ -S "$work/n$i/d.sock" ]; do sleep 0.1; done
done

docker_on 1 swarm init --advertise-addr "$net.11" --dispatcher-heartbeat "$heartbeat" >/dev/null
token="$(docker_on 1 swarm join-token -q worker)"
for i in 2 3; do docker_on "$i" swarm join --token "$token" "$net.11:2377" >/dev/null; done

server='mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www'
start="$(now)"
docker_on 1 service create -d --no-resolve-image --name web --replicas 10 -p 8080:80 \
  --stop-grace-period 1s busybox sh -c "$server" >/dev/null
until [ "$(docker_on 1 service ls --format '{{.Replicas}}')" = "10/10" ]; do sleep 0.1; done
echo "service create --replicas 10 to 10 running tasks on 3 nodes: $(since "$start") s"

running_elsewhere() {
  docker_on 1 service ps web --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' |
    grep -v '^node3 ' | grep -c '^node[12] Running' || true
}
kill -TERM "${pids[2]}"
wait "${pids[2]}" 2>/dev/null || true
start="$(now)"
until [ "$(running_elsewhere)" = 10 ]; do sleep 0.1; done
echo "a stopped node's tasks running elsewhere (heartbeat $heartbeat): $(since "$start") s"

# Straight to one replica: a task container's node port on node1.
container="$(docker_on 1 ps -q --filter label=com.docker.swarm.service.name=web | head -1)"
direct="$(docker_on 1 inspect --format '{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}' "$container")"
rate() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
count, end = 0, time.time() + 5
while time.time() < end:
    s = socket.create_connection((host, port), timeout=3)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    while s.recv(4096):
        pass
    s.close()
    count += 1
print(f"{count / 5:.0f}")
PY
}
echo "requests/s through the mesh (node2:8080): $(rate "$net.12" 8080)"
echo "requests/s straight to one replica (node1:$direct): $(rate "$net.11" "$direct")"
