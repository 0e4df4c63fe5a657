package main

import (
	"testing"

	"github.com/televisit/televisit/internal/pgtest"
)

// TestMain starts a throwaway PostgreSQL; databases start empty, so the
// migrate command is what creates the schema.
func TestMain(m *testing.M) { pgtest.Main(m, nil) }
