package cluster

import (
	"testing"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/visits"
)

func TestMain(m *testing.M) { pgtest.Main(m, visits.Migrate) }
