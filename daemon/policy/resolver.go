package policy

import (
	"os/user"
	"strconv"
)

// OSResolver resolves names with the system's user and group databases.
type OSResolver struct{}

// LookupUser returns the uid of a user name.
func (OSResolver) LookupUser(name string) (uint32, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(u.Uid, 10, 32)
	return uint32(n), err
}

// LookupGroup returns the gid of a group name.
func (OSResolver) LookupGroup(name string) (uint32, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(g.Gid, 10, 32)
	return uint32(n), err
}
