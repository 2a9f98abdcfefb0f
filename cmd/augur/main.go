// Command augur is a stateless canary analysis engine; see README.md.
package main

import (
	"os"

	"github.com/augurproj/augur/internal/cli"
)

func main() { os.Exit(cli.Main()) }
