package signaling

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecode: the decoder never panics, answers every failure with a
// bad_message error, and what it accepts is a well-formed version 1
// envelope whose id is safe to echo.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"hello","id":"1"}`,
		`{"v":1,"type":"subscribe_waiting_room","clinic_id":"7b0e4a52-0c4e-4a7b-9d0c-1a2b3c4d5e6f"}`,
		`{"v":1,"type":"ping","id":"a:b.c-d_e"}`,
		`{"v":2,"type":"ping"}`, `[]`, `null`, `{`, "\xff", `{"v":1,"type":"x","v":3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decode(data)
		if !validID(m.ID) {
			t.Fatalf("unsafe id %q", m.ID)
		}
		if err != nil {
			var ce *clientError
			if !errors.As(err, &ce) || ce.code != codeBadMessage {
				t.Fatalf("error %v is not a bad_message", err)
			}
			return
		}
		if m.V != ProtocolVersion || !validType(m.Type) {
			t.Fatalf("accepted %+v", m.envelope)
		}
		var again envelope
		if err := json.Unmarshal(m.raw, &again); err != nil || again != m.envelope {
			t.Fatalf("raw does not decode to the envelope: %v", err)
		}
	})
}
