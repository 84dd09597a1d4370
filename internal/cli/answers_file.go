package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/rampart-dev/rampart/generator"
)

// readAnswersFile reads answers in the format of a project's .rampart.yaml.
func readAnswersFile(path string, bp *generator.Blueprint) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err // the path is in the message already
		}
		return nil, &generator.InputError{Err: fmt.Errorf("cannot read --answers %s: %w", path, err)}
	}
	var rec generator.Record
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&rec); err != nil {
		return nil, &generator.InputError{Err: fmt.Errorf("answers file %s: %w (expected keys: blueprint, blueprint_version, rampart_version, answers)", path, err)}
	}
	if rec.Blueprint != "" && rec.Blueprint != bp.Name {
		return nil, &generator.InputError{Err: fmt.Errorf("answers file %s is for blueprint %q, not %q (use --blueprint %s)", path, rec.Blueprint, bp.Name, rec.Blueprint)}
	}
	if rec.Answers == nil {
		return map[string]string{}, nil
	}
	return rec.Answers, nil
}
