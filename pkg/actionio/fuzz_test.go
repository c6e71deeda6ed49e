package actionio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary flags and INPUT_* values. Whatever it accepts is well formed
// (booleans are "true" or "false", required inputs are set, flag values are trimmed); whatever it
// refuses is a usage error (or --help) on one line that names the problem. Seeds are in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, arg1, arg2, arg3, repository, dryRun, jsonIn string) {
		var args []string
		for _, a := range []string{arg1, arg2, arg3} {
			if a != "" {
				args = append(args, a)
			}
		}
		env := map[string]string{"INPUT_REPOSITORY": repository, "INPUT_DRY_RUN": dryRun, "INPUT_JSON": jsonIn}
		var log bytes.Buffer
		v, err := Parse(cmd, action(env, &log), args, io.Discard)
		if err != nil {
			if errors.Is(err, ErrHelp) {
				return
			}
			if !errors.Is(err, ErrUsage) {
				t.Errorf("Parse(%q) error %v is not a usage error", args, err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("Parse(%q) error carries a raw line break: %q", args, err)
			}
			return
		}
		for _, in := range cmd.Inputs {
			val := v.Get(in.Name)
			if in.Bool && val != "true" && val != "false" {
				t.Errorf("boolean %s = %q", in.Name, val)
			}
			if in.Required && val == "" {
				t.Errorf("required %s is empty", in.Name)
			}
		}
		for _, a := range args {
			name, val, ok := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if ok && strings.HasPrefix(a, "-") && name == "repository" && v.Get("repository") != strings.TrimSpace(val) {
				t.Errorf("--repository=%q parsed as %q", val, v.Get("repository"))
			}
		}
	})
}
