package examples

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// codeOutputs reads, from the source of cmd/*/main.go, the outputs each command sets: the
// commands are those a binary hands to actionio.Parse (named by their Command's Name), and an
// output is an actionio.Output's Name or the name given to actionio.Bool, Int or List, in the
// function that parses the command or, in a binary with one command, anywhere. A name built
// at run time, such as status's key + "_tag", is returned as its literal part after "*"
// ("*_tag").
func codeOutputs(t *testing.T, root string) map[string][]string {
	t.Helper()
	dirs, err := os.ReadDir(filepath.Join(root, "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string][]string{}
	for _, d := range dirs {
		path := filepath.Join(root, "cmd", d.Name(), "main.go")
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		consts := map[string]string{}
		names := map[string]string{} // Command variable -> the command's name
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if i >= len(n.Values) {
						break
					}
					if s, ok := stringValue(n.Values[i], consts); ok {
						consts[id.Name] = s
					}
					if c, ok := n.Values[i].(*ast.CompositeLit); ok && isSelector(c.Type, "actionio", "Command") {
						if s, ok := stringValue(field(c, "Name"), consts); ok {
							names[id.Name] = s
						}
					}
				}
			}
			return true
		})
		var parsed []string
		perFunc := map[string][]string{} // command -> outputs set in the function parsing it
		var loose []string               // outputs set in functions that parse no command
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			var command string
			var found []string
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					switch {
					case isSelector(n.Fun, "actionio", "Parse") && len(n.Args) > 0:
						if id, ok := n.Args[0].(*ast.Ident); ok && names[id.Name] != "" {
							command = names[id.Name]
							parsed = append(parsed, command)
						}
					case isSelector(n.Fun, "actionio", "Bool"), isSelector(n.Fun, "actionio", "Int"), isSelector(n.Fun, "actionio", "List"):
						if s, ok := stringValue(n.Args[0], consts); ok {
							found = append(found, s)
						}
					}
				case *ast.CompositeLit:
					if isSelector(n.Type, "actionio", "Outputs") {
						for _, e := range n.Elts {
							if c, ok := e.(*ast.CompositeLit); ok && c.Type == nil {
								found = append(found, outputName(t, path, field(c, "Name"), consts))
							}
						}
					}
					if isSelector(n.Type, "actionio", "Output") {
						found = append(found, outputName(t, path, field(n, "Name"), consts))
					}
				}
				return true
			})
			if command != "" {
				perFunc[command] = append(perFunc[command], found...)
			} else {
				loose = append(loose, found...)
			}
		}
		switch {
		case len(parsed) == 1:
			outs[parsed[0]] = append(append(outs[parsed[0]], perFunc[parsed[0]]...), loose...)
		case len(loose) > 0:
			t.Errorf("%s: outputs %v are set outside the functions that parse its commands %v: the test cannot tell whose they are", path, loose, parsed)
		default:
			for _, c := range parsed {
				outs[c] = append(outs[c], perFunc[c]...)
			}
		}
	}
	for c := range outs {
		slices.Sort(outs[c])
		outs[c] = slices.Compact(outs[c])
	}
	return outs
}

// outputName is an output's name, or "*suffix" for one built at run time as expr + "suffix".
func outputName(t *testing.T, path string, e ast.Expr, consts map[string]string) string {
	if s, ok := stringValue(e, consts); ok {
		return s
	}
	if b, ok := e.(*ast.BinaryExpr); ok && b.Op == token.ADD {
		if s, ok := stringValue(b.Y, consts); ok {
			return "*" + s
		}
	}
	t.Errorf("%s: an output's name %T is neither a string nor X + \"suffix\"", path, e)
	return ""
}

// stringValue evaluates a string literal, a constant, or a sum of them.
func stringValue(e ast.Expr, consts map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.Ident:
		s, ok := consts[e.Name]
		return s, ok
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			x, ok1 := stringValue(e.X, consts)
			y, ok2 := stringValue(e.Y, consts)
			return x + y, ok1 && ok2
		}
	}
	return "", false
}

func field(c *ast.CompositeLit, name string) ast.Expr {
	for _, e := range c.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == name {
				return kv.Value
			}
		}
	}
	return nil
}

func isSelector(e ast.Expr, pkg, name string) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok || s.Sel.Name != name {
		return false
	}
	id, ok := s.X.(*ast.Ident)
	return ok && id.Name == pkg
}

// The reading of the code finds what the binaries print: every output a run prints is one the
// code sets (or matches a name built at run time), and every output the code sets by name is
// printed. Without this, a change in how outputs are written could make codeOutputs find
// nothing, and the documentation check pass on nothing.
func TestCodeOutputsMatchARun(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	code := codeOutputs(t, root)
	ran := binaryOutputs(t, root, buildBinaries(t, root))
	for command, printed := range ran {
		set, ok := code[command]
		if !ok {
			t.Errorf("%s prints outputs %v, but no command of that name parses its inputs in cmd/", command, printed)
			continue
		}
		for _, o := range printed {
			if !slices.ContainsFunc(set, func(s string) bool { return s == o || strings.HasPrefix(s, "*") && strings.HasSuffix(o, s[1:]) }) {
				t.Errorf("%s prints output %s, which the code does not set by that name: codeOutputs misses it (it has %v)", command, o, set)
			}
		}
		for _, s := range set {
			if !strings.HasPrefix(s, "*") && !slices.Contains(printed, s) {
				t.Errorf("the code of %s sets output %s, which a run does not print (it prints %v)", command, s, printed)
			}
		}
	}
	for _, c := range []string{"build-rc", "ocipromote rollback", "ocipromote prune"} {
		if len(code[c]) == 0 {
			t.Errorf("codeOutputs finds no output of %s", c)
		}
	}
}
