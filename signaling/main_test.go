package signaling

import (
	"testing"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/visits"
)

func TestMain(m *testing.M) { pgtest.Main(m, visits.Migrate) }

// The real service and hub are what the server is written against.
var (
	_ Visits = (*visits.Service)(nil)
	_ Events = (*visits.Hub)(nil)
)
