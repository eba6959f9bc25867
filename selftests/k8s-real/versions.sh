# The pinned releases and the cache directory of the real-API-server
# integration test. Sourced by build.sh, start.sh and test_k8s_real.sh.
# The releases must match apiserver/go.mod and etcd/go.mod.
XLB_K8S_VERSION=v1.36.3
XLB_ETCD_VERSION=v3.6.8
XLB_K8S_CACHE="${XLB_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xlb/k8s-$XLB_K8S_VERSION}"
