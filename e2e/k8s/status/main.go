// Command status asks a KMS v2 plugin for its Status with kube-apiserver's
// own client (k8s.io/apiserver's kmsv2 gRPC service) and prints what the
// apiserver sees: the API version, healthz and key_id, one per line.
//
//	go run ./status unix:///run/kmsd/k8s.sock
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: status unix:///PATH")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	svc, err := kmsv2.NewGRPCService(ctx, os.Args[1], "kmsd", 10*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "status:", err)
		os.Exit(1)
	}
	st, err := svc.Status(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "status:", err)
		os.Exit(1)
	}
	fmt.Printf("version: %s\nhealthz: %s\nkey_id: %s\n", st.Version, st.Healthz, st.KeyID)
}
