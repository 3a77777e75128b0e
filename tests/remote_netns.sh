#!/bin/sh
# A remote attach that really crosses an interface: two network namespaces
# joined by a veth pair (10.77.N.1 <-> 10.77.N.2, nothing routed beyond
# them), the runtime in one, the client in the other, UCX over tcp.
# 100000 numbered messages with checksums through tests/remote_peer.
# Needs root and ip(8); skips (77) with the reason otherwise.
set -u
peer=./tests/remote_peer
n=${RK_NETNS_MESSAGES:-100000}
[ -n "${RK_TEST_SANITIZED:-}" ] && n=${RK_NETNS_MESSAGES:-10000} # 10-50x slower

skip() { echo "SKIP: $*"; exit 77; }
[ -x "$peer" ] || skip "no $peer"
[ "$(id -u)" = 0 ] || skip "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip "no ip(8) (apt-get install iproute2)"
"$peer" 2>/dev/null; [ $? = 2 ] || skip "remote_peer does not run"

tag=$$
a=rk-a-$tag b=rk-b-$tag
net=$(( (tag % 200) + 20 ))
ip netns add "$a" 2>/dev/null || skip "ip netns add failed: no namespace support here"
cleanup() {
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null
	ip netns del "$a" 2>/dev/null
	ip netns del "$b" 2>/dev/null
	rm -rf "${dir:-}"
}
trap cleanup EXIT INT TERM
ip netns add "$b" || skip "ip netns add failed"
ip link add "va$tag" type veth peer name "vb$tag" || skip "no veth support"
ip link set "va$tag" netns "$a" && ip link set "vb$tag" netns "$b" || exit 1
ip -n "$a" addr add "10.77.$net.1/24" dev "va$tag" && ip -n "$a" link set "va$tag" up &&
	ip -n "$a" link set lo up || exit 1
ip -n "$b" addr add "10.77.$net.2/24" dev "vb$tag" && ip -n "$b" link set "vb$tag" up &&
	ip -n "$b" link set lo up || exit 1

dir=$(mktemp -d)
mkfifo "$dir/in"
# UCX over tcp only: the point is the interface between the namespaces.
export UCX_TLS=tcp
ip netns exec "$a" "$peer" serve "rkns$tag" "10.77.$net.1:0" <"$dir/in" >"$dir/addr" 2>"$dir/srv.err" &
srv=$!
exec 3>"$dir/in" # the server runs until this closes
for i in $(seq 1 100); do [ -s "$dir/addr" ] && break; sleep 0.1; done
addr=$(head -n 1 "$dir/addr")
case $addr in
10.77.$net.1:*) ;;
*) echo "FAIL: the server did not report an address on 10.77.$net.1 ($addr)"; cat "$dir/srv.err"; exit 1 ;;
esac
echo "server in $a at $addr; client in $b"
out=$(ip netns exec "$b" "$peer" echo "$addr" "rkns$tag" "$n" 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] && [ "$out" = "ok $n" ] || { echo "FAIL: client exit $rc"; cat "$dir/srv.err"; exit 1; }
# The same address is not reachable from the root namespace: the traffic
# crossed the veth pair, not loopback.
if "$peer" echo "$addr" "rkns$tag" 1 >/dev/null 2>&1; then
	echo "FAIL: $addr answered from outside the namespaces"
	exit 1
fi
exec 3>&-
wait "$srv"
rc=$?
srv=
[ $rc = 0 ] || { echo "FAIL: server exit $rc"; cat "$dir/srv.err"; exit 1; }
echo "PASS: $n messages across namespaces $b -> $a, in order and intact"
