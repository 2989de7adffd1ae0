// Package systemd holds kmsd's unit files, kmsd.socket and kmsd.service;
// its tests check them with systemd-analyze verify and against the rules
// a FUSE mount and socket activation need.
package systemd
