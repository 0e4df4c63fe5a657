package notify

import (
	"context"
	"time"

	"github.com/televisit/televisit/internal/pglisten"
)

// listen keeps a LISTEN connection open for as long as ctx lives and turns
// every notification into a non-blocking wake-up, and each (re)LISTEN too:
// it catches up on whatever was enqueued while the connection was down.
// Meanwhile Run still polls.
func (w *Worker) listen(ctx context.Context, wake chan<- struct{}) {
	pglisten.Run(ctx, w.pool, pglisten.Config{
		Channel:    NotifyChannel,
		MinBackoff: time.Second,
		MaxBackoff: maxOutageDelay,
		OnListen:   func(context.Context, bool) { notify(wake) },
		OnNotify:   func(context.Context, string) { notify(wake) },
	}, w.log)
}

func notify(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
