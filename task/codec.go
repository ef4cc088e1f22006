package task

import (
	"encoding/json"
	"strconv"
)

// The payloads of tasks are JSON, decoded and encoded by encoding/json.
// A task whose input or output is exactly one of Go's integer types (not
// a named type, which may have methods of its own) takes a shorter way
// for the values JSON writes as a plain integer: the same value, or the
// same bytes, as encoding/json gives, without its reflection and
// allocations. Anything else, white space around a number included,
// goes through encoding/json, with its errors.

// decode decodes payload into an In as json.Unmarshal does.
func decode[In any](payload []byte) (In, error) {
	var in In
	if decodeInt(payload, &in) {
		return in, nil
	}
	return decodeJSON[In](payload)
}

// decodeJSON is decode through encoding/json: its value escapes, and is
// allocated only on this path.
func decodeJSON[In any](payload []byte) (In, error) {
	var in In
	err := json.Unmarshal(payload, &in)
	return in, err
}

// encode encodes out as json.Marshal does.
func encode[Out any](out Out) ([]byte, error) {
	if b, ok := encodeInt(&out); ok {
		return b, nil
	}
	return json.Marshal(out)
}

// decodeInt stores in *p the integer payload holds, and reports whether
// it did: when *p is of one of the integer types and payload is a JSON
// integer, without white space, in the type's range.
func decodeInt[T any](payload []byte, p *T) bool {
	if !isJSONInt(payload) {
		return false
	}
	s := string(payload) // not allocated: strconv does not keep it
	var err error
	switch p := any(p).(type) {
	case *int:
		var v int64
		v, err = strconv.ParseInt(s, 10, strconv.IntSize)
		*p = int(v)
	case *int64:
		*p, err = strconv.ParseInt(s, 10, 64)
	case *int32:
		var v int64
		v, err = strconv.ParseInt(s, 10, 32)
		*p = int32(v)
	case *int16:
		var v int64
		v, err = strconv.ParseInt(s, 10, 16)
		*p = int16(v)
	case *int8:
		var v int64
		v, err = strconv.ParseInt(s, 10, 8)
		*p = int8(v)
	case *uint:
		var v uint64
		v, err = strconv.ParseUint(s, 10, strconv.IntSize)
		*p = uint(v)
	case *uint64:
		*p, err = strconv.ParseUint(s, 10, 64)
	case *uint32:
		var v uint64
		v, err = strconv.ParseUint(s, 10, 32)
		*p = uint32(v)
	case *uint16:
		var v uint64
		v, err = strconv.ParseUint(s, 10, 16)
		*p = uint16(v)
	case *uint8:
		var v uint64
		v, err = strconv.ParseUint(s, 10, 8)
		*p = uint8(v)
	default:
		return false
	}
	if err != nil {
		// out of range (or a negative unsigned): encoding/json says how
		var zero T
		*p = zero
		return false
	}
	return true
}

// isJSONInt reports whether b is a JSON number without fraction or
// exponent: -?(0|[1-9][0-9]*).
func isJSONInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 20 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// encodeInt encodes *p as json.Marshal does, when it is of one of the
// integer types, and reports whether it did.
func encodeInt[T any](p *T) ([]byte, bool) {
	var buf [24]byte
	var b []byte
	switch v := any(p).(type) {
	case *int:
		b = strconv.AppendInt(buf[:0], int64(*v), 10)
	case *int64:
		b = strconv.AppendInt(buf[:0], *v, 10)
	case *int32:
		b = strconv.AppendInt(buf[:0], int64(*v), 10)
	case *int16:
		b = strconv.AppendInt(buf[:0], int64(*v), 10)
	case *int8:
		b = strconv.AppendInt(buf[:0], int64(*v), 10)
	case *uint:
		b = strconv.AppendUint(buf[:0], uint64(*v), 10)
	case *uint64:
		b = strconv.AppendUint(buf[:0], *v, 10)
	case *uint32:
		b = strconv.AppendUint(buf[:0], uint64(*v), 10)
	case *uint16:
		b = strconv.AppendUint(buf[:0], uint64(*v), 10)
	case *uint8:
		b = strconv.AppendUint(buf[:0], uint64(*v), 10)
	default:
		return nil, false
	}
	return append([]byte(nil), b...), true
}
