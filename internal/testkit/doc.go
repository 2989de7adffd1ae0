// Package testkit is kmsd's one test harness. Every test that needs a
// running kmsd, a short socket directory, or a FUSE or systemd
// environment takes it from here:
//
//   - [ShortDir] makes a directory whose path leaves room for a Unix
//     socket name (108 bytes), removed after the test.
//   - [RequireFUSE], [RequireSystemd], [RequireRoot] and [RequireAWSCLI]
//     skip a test that cannot run here, or, where CI is set, fail it
//     (package kmsd/internal/ci).
//   - [Start] runs the real kmsd binary (built once per test binary by
//     [Main], with the race detector when the tests have it) and returns
//     once kmsd says READY=1 on the NOTIFY_SOCKET the harness gives it:
//     no polling. [StartInProcess] runs daemon.Run in the test's own
//     process, ready through its Ready hook.
//   - [Daemon.Kmsctl] runs the real kmsctl against a daemon, and
//     [ScriptCommands] gives testscript transcripts kmsd and kmsctl.
//   - [BootSystemd] boots a real systemd as PID 1 of namespaces of its
//     own, on a copy-on-write view of the machine ([Sandbox]), where a
//     test installs and drives kmsd's units as an operator would.
//   - [Eventually] waits for a condition, with a guard against a hang.
package testkit
