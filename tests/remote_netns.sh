#!/bin/sh
# Remote attach and remote routes that really cross an interface: two
# network namespaces joined by a veth pair (10.77.N.1 <-> 10.77.N.2,
# nothing routed beyond them), UCX over tcp. 100000 numbered messages with
# checksums through a remote attach from one to the other, then through a
# chain whose two remote routes cross the link each way (tests/remote_peer).
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
# A chain both ways across the pair: host -> A (in $b) -> fwd (in $a) ->
# C (in $b) -> host, two remote routes, each crossing the veth link.
mkfifo "$dir/cin"
ip netns exec "$b" "$peer" chain "$addr" "rkns$tag" "$n" "10.77.$net.2:0" <"$dir/cin" \
	>"$dir/chain.out" 2>"$dir/chain.err" &
cpid=$!
exec 4>"$dir/cin"
for i in $(seq 1 100); do grep -q '^listening' "$dir/chain.out" && break; sleep 0.1; done
set -- $(grep '^listening' "$dir/chain.out")
[ "${1:-}" = listening ] || { echo "FAIL: the chain's runtime did not start"; cat "$dir/chain.err"; exit 1; }
echo "route $2 $3 C" >&3
for i in $(seq 1 100); do [ "$(sed -n 2p "$dir/addr")" ] && break; sleep 0.1; done
[ "$(sed -n 2p "$dir/addr")" = ok ] ||
	{ echo "FAIL: fwd's route back to $2: $(sed -n 2p "$dir/addr")"; cat "$dir/srv.err"; exit 1; }
echo go >&4
wait "$cpid"
rc=$?
exec 4>&-
out=$(tail -n 1 "$dir/chain.out")
echo "$out"
[ $rc = 0 ] && [ "$out" = "ok $n" ] || { echo "FAIL: chain exit $rc"; cat "$dir/chain.err"; exit 1; }
echo "ok: $n messages through $b -> $a -> $b over two remote routes"
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
echo "PASS: $n messages across namespaces $b -> $a, in order and intact, attached and routed"
