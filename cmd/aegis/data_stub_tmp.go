package main

import "io"

func runDataImport(args []string, stdout io.Writer) error { return nil }
func runDataExport(args []string, stdout io.Writer) error { return nil }
