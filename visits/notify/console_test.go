package notify_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/visits/notify"
)

func TestConsoleSenderPrintsMessage(t *testing.T) {
	ctx := context.Background()
	pool, keys := pgtest.NewDB(t), newKeys(t, "k1")
	log, logs := newLog(t)
	var out bytes.Buffer
	m := emailMsg(newVisit(t, pool))
	m.Channel = notify.ChannelConsole
	id := enqueue(t, pool, keys, m)[0]
	w := newWorker(t, fastConfig(), pool, keys,
		map[notify.Channel]notify.Sender{notify.ChannelConsole: notify.ConsoleSender{W: &out}}, log)

	if sent, err := w.RunOnce(ctx); err != nil || sent != 1 {
		t.Fatalf("RunOnce = %d, %v", sent, err)
	}
	s := out.String()
	for _, want := range []string{"TELEVISIT DEV NOTIFICATION", "To:        " + patientEmail,
		"Subject:   Your video visit with Test clinic", linkBody, "Channel:   console"} {
		if !strings.Contains(s, want) {
			t.Errorf("console output lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "=====") < 2 {
		t.Errorf("no closing banner:\n%s", s)
	}
	if strings.Contains(logs.String(), linkToken) {
		t.Error("console message went to the logger")
	}
	if r := readRow(t, pool, id); r.Status != "sent" {
		t.Fatalf("row = %+v", r)
	}
}
