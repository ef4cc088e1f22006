package task

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

// FuzzDecodeInt checks the integer decoding against encoding/json: a
// payload decoded the short way gives the value json.Unmarshal gives,
// and decode and json.Unmarshal agree on every payload, in value and in
// failing or not.
func FuzzDecodeInt(f *testing.F) {
	for _, s := range []string{"0", "-0", "1", "-1", "007", "1.0", "1e3", " 1", "1 ", "null", `"1"`, "-", "",
		"127", "128", "-128", "-129", "255", "256", "65535", "2147483648", "-9223372036854775808",
		"9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616", "99999999999999999999999"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		check[int](t, payload)
		check[int64](t, payload)
		check[int32](t, payload)
		check[int16](t, payload)
		check[int8](t, payload)
		check[uint](t, payload)
		check[uint64](t, payload)
		check[uint32](t, payload)
		check[uint16](t, payload)
		check[uint8](t, payload)
	})
}

func check[T any](t *testing.T, payload []byte) {
	t.Helper()
	var want T
	werr := json.Unmarshal(payload, &want)
	var fast T
	if decodeInt(payload, &fast) {
		if werr != nil {
			t.Fatalf("decodeInt(%q) into %T = %v; json.Unmarshal fails: %v", payload, fast, fast, werr)
		}
		if any(fast) != any(want) {
			t.Fatalf("decodeInt(%q) into %T = %v; json.Unmarshal = %v", payload, fast, fast, want)
		}
	}
	got, err := decode[T](payload)
	if (err == nil) != (werr == nil) || (err == nil && any(got) != any(want)) {
		t.Fatalf("decode(%q) into %T = %v, %v; json.Unmarshal = %v, %v", payload, got, got, err, want, werr)
	}
}

// TestEncodeInt checks that integers encode as json.Marshal encodes them.
func TestEncodeInt(t *testing.T) {
	t.Parallel()
	for _, v := range []int64{0, 1, -1, 9, 10, 255, 256, -129, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64} {
		same(t, int(v))
		same(t, v)
		same(t, int32(v))
		same(t, int16(v))
		same(t, int8(v))
		same(t, uint(v))
		same(t, uint64(v))
		same(t, uint32(v))
		same(t, uint16(v))
		same(t, uint8(v))
	}
	same(t, uint64(math.MaxUint64))
	// other types go through encoding/json
	type named int
	same(t, named(3))
	same(t, "<a>")
	same(t, []int{1, 2})
}

func same[T any](t *testing.T, v T) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, err := encode(v)
	if !bytes.Equal(got, want) || (err == nil) != (werr == nil) {
		t.Fatalf("encode(%T %v) = %q, %v; json.Marshal = %q, %v", v, v, got, err, want, werr)
	}
}

// TestInvokeIntAllocs checks that a task from int to int decodes and
// encodes without encoding/json's allocations: one, its output's bytes.
func TestInvokeIntAllocs(t *testing.T) {
	inc := New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	ctx := context.Background()
	payload := []byte(strconv.Itoa(12345))
	allocs := testing.AllocsPerRun(100, func() {
		if out, err := inc.def.Invoke(ctx, payload); err != nil || string(out) != "12346" {
			t.Fatalf("Invoke = %q, %v", out, err)
		}
	})
	if allocs > 1 {
		t.Errorf("Invoke of an int task: %v allocations, want at most 1", allocs)
	}
}
