// Package keyspec is the material of kmsd's keys that are not symmetric
// encryption keys: RSA, elliptic-curve and ML-DSA key pairs, and HMAC keys,
// with what AWS KMS lets each do (its KeySpec and KeyUsage).
//
// A key's material is kept as bytes that package keystore seals under the
// root key: PKCS#8 DER for RSA and elliptic-curve keys (secp256k1 written
// as RFC 5915 inside PKCS#8, as OpenSSL writes it), PKCS#8 holding the
// 32-byte seed for ML-DSA (RFC 9881's seed form), and the raw key for
// HMAC. Parse turns them into a [Private], which signs, verifies, decrypts,
// computes MACs and agrees keys exactly as AWS KMS specifies its
// algorithms, so that OpenSSL and JOSE libraries accept what it makes:
//
//   - RSASSA_PSS_SHA_*: salt length equal to the digest's;
//   - RSASSA_PKCS1_V1_5_SHA_*;
//   - ECDSA_SHA_*: DER signatures (SEQUENCE of r and s);
//   - ML_DSA_SHAKE_256: FIPS 204 ML-DSA of the message, empty context;
//   - RSAES_OAEP_SHA_1 and _SHA_256: MGF1 with the same hash, no label;
//   - HMAC_SHA_*: RFC 2104;
//   - ECDH: the raw shared secret (the x coordinate), as AWS returns it.
//
// Everything here composes the standard library, golang.org/x/crypto's
// siblings cloudflare/circl (ML-DSA) and decred's secp256k1: no primitive
// is written here. Errors wrap the package's sentinels so that the key
// service can answer each with AWS's exception.
package keyspec
