// Package examples checks what users copy from ocipromote: the Flux objects under examples/flux
// decode into Flux's own API types, the action and workflow files follow the project's Actions
// rules and match the binaries, README.md links the example files, and docs/ shows them as they
// are or links them.
//
// It is a module of its own so that Flux's API modules never become dependencies of ocipromote.
package examples

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const rootModule = "module github.com/ocipromote/ocipromote\n"

// repoRoot returns the ocipromote repository this module sits in (test/examples).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte(rootModule)) {
		t.Fatalf("%s is not the ocipromote repository (go.mod: %v); run the tests from test/examples", root, err)
	}
	return root
}

// findFiles lists the files under root/dir (or root/dir itself when it is a file) whose names end
// in one of exts, as slash-separated paths relative to root, in lexical order. A missing dir
// gives none.
func findFiles(t *testing.T, root, dir string, exts ...string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		for _, ext := range exts {
			if strings.HasSuffix(path, ext) {
				rel, err := filepath.Rel(root, path)
				if err != nil {
					return err
				}
				files = append(files, filepath.ToSlash(rel))
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
