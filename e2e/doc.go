// Package e2e holds kmsd's end-to-end tests: the real kmsd and kmsctl
// binaries (built by internal/testkit) on real sockets, state directories,
// FUSE mounts and file systems, driven as users and operators drive them:
// kill -9 and SIGTERM under load, hostile users, full and frozen disks,
// backups and root-key rotation, kmsctl transcripts (testdata/*.txtar),
// and docs/operations.md run step by step under a real systemd.
package e2e
