//go:build tools

// Package tools pins the etcd server the upstream tier runs: v3.6.x, as the
// tier's spec asks (kube-apiserver v1.37 supports it; kubeadm v1.37 itself
// deploys 3.7.0). It is its own module because k8s.io/kubernetes v1.37.2
// requires the v3.7 etcd libraries, which would lift etcd to v3.7 in the
// parent module's graph.
package tools

import _ "go.etcd.io/etcd/server/v3"
