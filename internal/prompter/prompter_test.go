package prompter

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/generator"
)

// Streams that are not a terminal's give a clear error, not a hang or a panic.
func TestStreamsThatAreNotATerminalCannotPrompt(t *testing.T) {
	s := New(&bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{})
	q := generator.Question{Name: "database", Prompt: "Database", Choices: []generator.Choice{{Value: "postgres"}}}
	if _, err := s.Select(q, "postgres", nil); err == nil || !strings.Contains(err.Error(), "must be a terminal") {
		t.Errorf("Select: %v", err)
	}
	if _, err := s.Input(q, "", func(string) error { return nil }); err == nil {
		t.Error("Input asked without a terminal")
	}
	if _, err := s.Confirm("Write?", true); err == nil {
		t.Error("Confirm asked without a terminal")
	}
}
