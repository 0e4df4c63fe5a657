package visits

import (
	"testing"

	"github.com/televisit/televisit/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m, Migrate) }
