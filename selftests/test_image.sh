#!/bin/bash
# The container image without a Docker engine: tools/image.sh builds the
# Dockerfile with buildah over a Debian 12 base made by debootstrap
# (once; buildah's layer cache keeps later builds to the steps a change
# touches), then podman runs it: `xlbd --help`, and xlbd with the demo's
# config in the LB of a namespace topology, with the chart's
# capabilities for socketLB "off" (BPF, NET_ADMIN, PERFMON; all others
# dropped, no new privileges, read-only root, seccomp unconfined as the
# chart sets it), balancing the demo's traffic. Reports the image's size
# and the libraries xlbd loads.
set -u
. "$(dirname "$0")/lib.sh"
xlb_init
start=$(date +%s)
pman() { "$XLB_ROOT/tools/image.sh" --podman "$@"; }
# podman's default limits (RLIMIT_NOFILE, RLIMIT_NPROC) are above what a
# host without CAP_SYS_RESOURCE (a container itself) may give: the
# host's open-files limit and 4096 processes instead.
run=(run --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
ctr="xlb-test-$XLB_PFX"
trap 'rc=$?; pman rm -f -t 2 "$ctr" >/dev/null 2>&1; (exit $rc); xlb_cleanup' EXIT

t0=$(date +%s)
if image="$("$XLB_ROOT/tools/image.sh" 2>"$XLB_RUN/image.log")" && [ -n "$image" ]; then
	xlb_pass "tools/image.sh built $image ($(($(date +%s) - t0)) s)"
else
	xlb_fail "tools/image.sh: $(tail -n 8 "$XLB_RUN/image.log")"
	exit 1
fi
size=$(pman image inspect --format '{{.Size}}' "$image")
xlb_log "image size: $((size / 1000000)) MB"
for base in debian:12 debian:12-slim; do
	if pman image exists "docker.io/library/$base"; then
		xlb_pass "base $base: made here by debootstrap"
	else
		xlb_fail "base $base missing from the local storage"
	fi
done

if out="$(pman "${run[@]}" --rm "$image" --help 2>&1)" && grep -q -- '--socket-lb' <<<"$out"; then
	xlb_pass "podman run $image --help"
else
	xlb_fail "podman run $image --help: $(tail -n 3 <<<"$out")"
fi
libs="$(pman "${run[@]}" --rm --entrypoint /usr/bin/ldd "$image" /usr/local/bin/xlbd 2>&1)"
xlb_log "xlbd's libraries: $(awk '{ print $1 }' <<<"$libs" | paste -sd' ')"
if grep -q 'not found' <<<"$libs" || ! grep -q libbpf <<<"$libs"; then
	xlb_fail "xlbd's libraries in the image: $libs"
else
	xlb_pass "every library of xlbd is in the image ($(wc -l <<<"$libs"))"
fi

xlb_topo_create 1 3 || exit 1
xlb_bpffs_mount || exit 1
xlb_backends_start
xlb_backends_wait || { xlb_fail "backends do not answer"; exit 1; }
lbns="${XLB_NS_LB[1]}"
if ! pman "${run[@]}" -d --name "$ctr" --network "ns:/run/netns/$lbns" \
	--cap-drop all --cap-add BPF,NET_ADMIN,PERFMON \
	--security-opt no-new-privileges --security-opt seccomp=unconfined \
	--read-only -v "$XLB_BPFFS:/run/xlb-bpffs" \
	-v "$XLB_ROOT/examples/demo.json:/etc/xlb/xlb.json:ro" \
	"$image" --config /etc/xlb/xlb.json --iface ethc,ethb \
	--bpffs /run/xlb-bpffs/lb1 --socket-lb off "${XLB_XLBD_ARGS[@]}" >"$XLB_RUN/run.log" 2>&1; then
	xlb_fail "podman run xlbd: $(tail -n 5 "$XLB_RUN/run.log")"
	exit 1
fi
if xlb_wait_until 20 sh -c "'$XLB_ROOT/tools/image.sh' --podman logs '$ctr' 2>&1 | grep -q 'ready:'"; then
	xlb_pass "xlbd in the container ready: $(pman logs "$ctr" 2>&1 | grep -m1 -o 'ready:.*')"
else
	xlb_fail "xlbd in the container not ready after 20 s: $(pman logs "$ctr" 2>&1 | tail -n 5)"
	exit 1
fi
n=$(xlb_http_burst "$XLB_VIP4" 80 30 | awk '$2 == 200' | wc -l)
xlb_check_eq "$n" 30 "demo web: 30 of 30 requests to $XLB_VIP4 answered"
n=$(xlb_http_burst "$XLB_VIP6" 80 30 | awk '$2 == 200' | wc -l)
xlb_check_eq "$n" 30 "demo web6: 30 of 30 requests to $XLB_VIP6 answered"
pman stop -t 5 "$ctr" >/dev/null
xlb_check_eq "$(pman inspect --format '{{.State.ExitCode}}' "$ctr")" 0 "podman stop (SIGTERM): xlbd exits 0"
n=$(xlb_http_burst "$XLB_VIP4" 80 10 | awk '$2 == 200' | wc -l)
xlb_check_eq "$n" 10 "after the container stops: the datapath still balances"
xlb_log "test time $(($(date +%s) - start)) s"
echo "$XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ]
