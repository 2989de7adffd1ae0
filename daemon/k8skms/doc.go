// Package k8skms is kmsd's Kubernetes KMS v2 plugin: the gRPC service
// (k8s.io/kms/apis/v2: Status, Encrypt, Decrypt) that kube-apiserver
// calls on a Unix socket to seal the seeds of its data encryption keys,
// served as one more thin front end over kmsd's request path.
//
// The caller is who the kernel says is at the other end of the socket
// (SO_PEERCRED, read once per connection at the handshake); each request
// takes that caller's share of the in-flight budget and runs as an
// Encrypt or Decrypt of kmsd's, under the one key the plugin was given,
// through the key policies, grants and audit trail like any other (source
// "k8s", the request's uid in its request id). Concurrent requests share
// the workers' passes with the other front ends'.
//
// Every ciphertext is bound to the encryption context
// {"kmsd:purpose": "kubernetes-kms-v2"}: a blob made for another purpose
// does not decrypt here, and a policy can allow the apiserver exactly this
// use (kms:EncryptionContext:kmsd:purpose).
//
// Status makes a real round trip each time it is asked: a random seed
// encrypted and decrypted under the key, as the apiserver's caller; it is
// healthy ("ok") only if the seed comes back, and otherwise says what
// failed. The key_id it answers, as Encrypt does, is derived from the
// key's ARN and the key material that sealed: stable while nothing
// changes, new after a rotation or an import, never an earlier one's.
// Decrypt opens ciphertexts made under every earlier material of the key.
package k8skms
