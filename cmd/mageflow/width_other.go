//go:build !unix

package main

import "os"

// termWidth returns 0: the width is $COLUMNS, or 80.
func termWidth(*os.File) int { return 0 }
