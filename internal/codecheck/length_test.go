package codecheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// maxFuncLines is the longest a function outside tests may be, in lines from its func keyword to
// its closing brace.
const maxFuncLines = 80

// TestNoLongFunctions fails listing every function or method outside tests longer than
// maxFuncLines, so that the rule holds for code written after it, not only for the code it was
// first checked on.
func TestNoLongFunctions(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	var long []string
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// What the go tool ignores is not the module's code: hidden directories (.git, build
			// output), testdata and vendored sources.
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		for _, l := range longFuncs(fset, f) {
			long = append(long, filepath.ToSlash(rel)+":"+l)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no Go file found under %s: the check would pass on nothing", root)
	}
	if len(long) > 0 {
		t.Errorf("%d functions are longer than %d lines; split each into named steps:\n%s",
			len(long), maxFuncLines, strings.Join(long, "\n"))
	}
}

// TestLongFuncsCountsFromFuncToBrace pins where the limit lies: a function of exactly
// maxFuncLines lines passes, one more line fails, and a doc comment does not count.
func TestLongFuncsCountsFromFuncToBrace(t *testing.T) {
	var src strings.Builder
	src.WriteString("package p\n\ntype T struct{}\n")
	var want []string
	// add appends a function of n lines in all (its func line, n-2 statements, its brace) after a
	// doc comment, and expects it reported, as shown, when n is over the limit.
	add := func(recv, name, shown string, n int) {
		src.WriteString("\n// A doc comment is not part of the function,\n// however long it is.\n")
		if n > maxFuncLines {
			line := strings.Count(src.String(), "\n") + 1
			want = append(want, fmt.Sprintf("%d: %s is %d lines", line, shown, n))
		}
		fmt.Fprintf(&src, "func %s%s() {\n%s}\n", recv, name, strings.Repeat("\t_ = 0\n", n-2))
	}
	add("", "fits", "fits", maxFuncLines)
	add("", "tooLong", "tooLong", maxFuncLines+1)
	add("(*T) ", "method", "T.method", maxFuncLines+2)
	add("(T) ", "methodFits", "T.methodFits", maxFuncLines)

	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src.String(), parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	if got := longFuncs(fset, f); !slices.Equal(got, want) {
		t.Errorf("longFuncs reported\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// longFuncs lists the functions of f longer than maxFuncLines, each as "line: name is n lines".
func longFuncs(fset *token.FileSet, f *ast.File) []string {
	var long []string
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		// fn.Pos() is the func keyword: a doc comment is not part of the function.
		from, to := fset.Position(fn.Pos()), fset.Position(fn.Body.Rbrace)
		if n := to.Line - from.Line + 1; n > maxFuncLines {
			long = append(long, fmt.Sprintf("%d: %s is %d lines", from.Line, funcName(fn), n))
		}
	}
	return long
}

// funcName is how a reader finds the function: Name, or Type.Name for a method.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	typ := fn.Recv.List[0].Type
	for {
		switch x := typ.(type) {
		case *ast.StarExpr:
			typ = x.X
		case *ast.IndexExpr: // a generic receiver, T[P]
			typ = x.X
		case *ast.IndexListExpr: // T[P, Q]
			typ = x.X
		case *ast.Ident:
			return x.Name + "." + fn.Name.Name
		default:
			return fn.Name.Name
		}
	}
}

// moduleRoot is the directory of the go.mod above the test's own directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
