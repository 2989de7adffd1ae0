package k8s

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2"
	kmsservice "k8s.io/kms/pkg/service"

	"kmsd/internal/testkit"
	"kmsd/wire/api"
)

// BenchmarkPlugin: Encrypt and Decrypt of a 32-byte seed (what the
// apiserver sends) through the plugin, with kube-apiserver's own client,
// from one caller and from 16 at once, beside the same calls on kmsd's
// msgpack socket with the Go client (the same key, context and kmsd).
// Each op is one call; ns/op is per call, and p50-µs the median latency.
func BenchmarkPlugin(b *testing.B) {
	dir := testkit.ShortDir(b)
	sock := filepath.Join(dir, "k8s.sock")
	d := testkit.Start(b, testkit.Config{Dir: dir, Args: []string{"--k8s-kms-listen", "unix:" + sock, "--k8s-kms-key", "alias/k8s"}})
	key := strings.TrimSpace(d.OK(b, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"))
	d.OK(b, "create-alias", "--alias-name", "alias/k8s", "--target-key-id", key)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := kmsv2.NewGRPCService(ctx, "unix://"+sock, "kmsd", 10*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	c := d.Dial(b)
	seed := make([]byte, 32)
	sealed, err := svc.Encrypt(ctx, "bench", seed)
	if err != nil {
		b.Fatal(err)
	}
	ec := map[string]string{"kmsd:purpose": "kubernetes-kms-v2"}
	calls := map[string]func() error{
		"front=k8s/op=Encrypt": func() error { _, err := svc.Encrypt(ctx, "bench", make([]byte, 32)); return err },
		"front=k8s/op=Decrypt": func() error {
			_, err := svc.Decrypt(ctx, "bench", &kmsservice.DecryptRequest{Ciphertext: sealed.Ciphertext, KeyID: sealed.KeyID})
			return err
		},
		"front=socket/op=Encrypt": func() error {
			_, err := c.Encrypt(ctx, &api.EncryptInput{KeyId: "alias/k8s", Plaintext: make([]byte, 32), EncryptionContext: ec})
			return err
		},
		"front=socket/op=Decrypt": func() error {
			_, err := c.Decrypt(ctx, &api.DecryptInput{KeyId: "alias/k8s", CiphertextBlob: sealed.Ciphertext, EncryptionContext: ec})
			return err
		},
	}
	for _, name := range []string{"front=k8s/op=Encrypt", "front=socket/op=Encrypt", "front=k8s/op=Decrypt", "front=socket/op=Decrypt"} {
		for _, callers := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/callers=%d", name, callers), func(b *testing.B) {
				call := calls[name]
				var mu sync.Mutex
				var lat []time.Duration
				var wg sync.WaitGroup
				per := max(1, b.N/callers)
				b.ResetTimer()
				for range callers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						mine := make([]time.Duration, 0, per)
						for range per {
							start := time.Now()
							if err := call(); err != nil {
								b.Error(err)
								return
							}
							mine = append(mine, time.Since(start))
						}
						mu.Lock()
						lat = append(lat, mine...)
						mu.Unlock()
					}()
				}
				wg.Wait()
				b.StopTimer()
				if len(lat) > 0 {
					b.ReportMetric(float64(median(lat).Nanoseconds())/1e3, "p50-µs")
				}
			})
		}
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}
