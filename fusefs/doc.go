// Package fusefs is kmsd's view of its keys as files, for the shell.
//
// # The tree
//
//	/keys/<alias-name>/            one per alias the caller may see ("alias/" left off)
//	/keys/<prefix>/                for alias names with slashes: alias/team/db is keys/team/db/
//	/keys/by-id/<key-id>/          one per key the caller may see
//	<key>/encrypt                  write plaintext, read the ciphertext blob
//	<key>/encrypt.b64              the same, the blob in base64 with a newline
//	<key>/decrypt                  write a blob, read the plaintext
//	<key>/decrypt.b64              write the blob in base64, read the plaintext
//	<key>/datakey                  read: a new AES-256 data key, as generate-data-key JSON
//	<key>/metadata.json            read: DescribeKey, as describe-key JSON
//	<key>/policy.json              read: the key policy document
//	<key>/sign                     write a message, read its signature (the key's first signing algorithm)
//	<key>/verify                   write a signature in base64, a newline and the message; read "true"
//	<key>/mac                      write a message, read its HMAC (the key's MAC algorithm)
//	<key>/public-key.pem           read: an asymmetric key's public key, PEM
//	<key>/alg/<ALGORITHM>/         sign, verify and mac with that algorithm (ls: the key's)
//	<key>/context/<k=v,...>/       encrypt, decrypt, their .b64 forms and datakey, with that context
//
// # Transactions
//
// Every open of a file is a handle of its own: writes append to its input
// (up to the operation's limit), the first read runs the operation, and
// later reads return the rest of the result, then end of file. Offsets
// are ignored; the files are not seekable and use direct I/O, so reads
// always reach the handle and results never enter the page cache. A write
// after the result exists is EBUSY. In a shell:
//
//	exec 3<>/run/kmsd/fs/keys/app/encrypt; printf %s "$secret" >&3; cat <&3 >blob
//
// # Who acts
//
// The caller of a FUSE request (its uid, gid, thread id mapped to its
// process, that process's groups, cgroup unit and executable) is resolved
// through the Service at lookup and at open. A handle keeps the identity of
// its open: a descriptor passed on still acts as its opener. Each
// operation is then authorized and audited by the daemon exactly as on the
// socket, with source "fuse"; names the caller may not see do not exist
// for it (ENOENT), operations it may not perform are EACCES.
//
// # Errors
//
// [Errno] maps every refusal to one errno (ENOENT, EACCES, EINVAL, EBADMSG
// for a signature or MAC that does not verify, EAGAIN, EIO), and the daemon's log says why, with the caller's uid and pid.
//
// # Mounting
//
// [New] mounts (directly when root, else through fusermount3) after
// detaching a mount a crashed kmsd left behind; [Mount.Close] unmounts,
// lazily if a descriptor is open, within a bounded time.
package fusefs
