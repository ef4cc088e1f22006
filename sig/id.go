package sig

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
)

// crockford is the base-32 alphabet of root ids: no I, L, O or U, and
// lexical order matches numeric order.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewRootID returns a fresh root id: 26 characters, 48 bits of milliseconds
// followed by 80 random bits, so ids sort by creation time.
func NewRootID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("sig: crypto/rand failed: " + err.Error())
	}
	return encode(b)
}

// encode writes 128 bits as 26 base-32 characters (the first holds 3 bits).
func encode(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ChildID is the id of step or item i of container parent.
func ChildID(parent string, i int) string { return place(parent, ".", i) }

// SuccessID is the id of success callback i of node parent.
func SuccessID(parent string, i int) string { return place(parent, ".s", i) }

// ErrorID is the id of error callback i of node parent.
func ErrorID(parent string, i int) string { return place(parent, ".e", i) }

// place is parent, sep and i, built with one allocation.
func place(parent, sep string, i int) string {
	var buf [96]byte
	b := append(buf[:0], parent...)
	b = append(b, sep...)
	return string(strconv.AppendInt(b, int64(i), 10))
}

// RootOf returns the root id of the graph id belongs to.
func RootOf(id string) string {
	if i := strings.IndexByte(id, '.'); i >= 0 {
		return id[:i]
	}
	return id
}

// ValidID reports whether id is a non-empty id made of characters that are
// safe in store keys and backend metadata.
func ValidID(id string) bool {
	if id == "" || len(id) > 512 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '.', c == '-', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// Place returns where id hangs: its parent, its role and its index there.
// ok is false when id is not of the form the functions above make.
func Place(id string) (parent string, role Role, index int, ok bool) {
	i := strings.LastIndexByte(id, '.')
	if i < 0 {
		return "", RoleRoot, 0, id != ""
	}
	parent, last := id[:i], id[i+1:]
	role = RoleChild
	if last != "" && (last[0] == 's' || last[0] == 'e') {
		if last[0] == 's' {
			role = RoleSuccess
		} else {
			role = RoleError
		}
		last = last[1:]
	}
	n, err := strconv.Atoi(last)
	if err != nil || n < 0 || parent == "" {
		return "", "", 0, false
	}
	return parent, role, n, true
}

// SpawnBase is what the ids of the flows task record id starts in epoch
// epoch (Record.Epoch) derive from, with DerivedRootID.
func SpawnBase(id string, epoch int) string {
	if epoch == 0 {
		return id
	}
	return id + "@" + strconv.Itoa(epoch)
}

// DerivedRootID is the root id of the n-th graph created by the task of
// record parent (its SpawnBase): the same parent and n give the same id,
// so a retried task finds what its earlier attempt created.
func DerivedRootID(parent string, n int) string {
	sum := sha256.Sum256([]byte(parent + "/" + strconv.Itoa(n)))
	var b [16]byte
	copy(b[:], sum[:16])
	return encode(b)
}
