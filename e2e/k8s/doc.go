// Package k8s tests kmsd's Kubernetes KMS v2 plugin with the apiserver's
// own client: k8s.io/apiserver's kmsv2 gRPC service and envelope
// transformer, the code kube-apiserver runs, in a module of its own so
// that kmsd's does not carry the apiserver's dependencies.
package k8s
