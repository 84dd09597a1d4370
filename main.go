// Command rampart generates secure-by-default Flask applications.
package main

import (
	"os"

	"github.com/rampart-dev/rampart/internal/cli"
)

func main() {
	os.Exit(cli.Main())
}
