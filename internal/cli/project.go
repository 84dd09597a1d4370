package cli

import (
	"fmt"
	"strings"

	"github.com/rampart-dev/rampart/generator"
)

// openProject reads the record of the project in dir and finds the built-in
// blueprint it names (check, update and set start here).
func openProject(f *Factory, dir string) (generator.Record, *generator.Blueprint, error) {
	record, err := generator.ReadRecord(dir)
	if err != nil {
		return record, nil, err
	}
	all, err := f.Blueprints()
	if err != nil {
		return record, nil, runError{fmt.Errorf("loading blueprints: %w", err)}
	}
	b := all[record.Blueprint]
	if b == nil {
		return record, nil, &generator.InputError{Err: fmt.Errorf("the project was generated from blueprint %q, which this rampart does not have (it has %s)",
			record.Blueprint, strings.Join(generator.SortedNames(all), ", "))}
	}
	return record, b, nil
}
