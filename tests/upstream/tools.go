//go:build tools

// Package tools pins the upstream programs this module builds, so `go mod tidy`
// keeps every module they need in go.mod/go.sum. build.sh builds them with
// `go build <import path>`; nothing from upstream is copied into the repository.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubeadm"
)
