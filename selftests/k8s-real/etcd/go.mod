// Builds etcd from its published server module, for the integration test
// only (see ../build.sh). The version is the one Kubernetes v1.36.3 uses
// for its etcd client.
module xlb.local/k8s-real/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 v3.6.8
