package app_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// Size limits for the module's non-test Go files: past them a file or a
// function is hard to hold in one's head. A function may be longer when its
// doc comment has a line starting with longMarker that says why.
const (
	maxFileLines = 400
	maxFuncLines = 80
	longMarker   = "Long:"
)

func TestSizeLimits(t *testing.T) {
	root, _ := moduleRoot(t)
	var violations []string
	err := filepath.WalkDir(root, func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if file != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, file)
		found, err := oversized(file, filepath.ToSlash(rel))
		violations = append(violations, found...)
		return err
	})
	if err != nil {
		t.Fatalf("read the module's files: %v", err)
	}
	for _, v := range violations {
		t.Error("size: " + v)
	}
	if len(violations) > 0 {
		t.Logf("%d files or functions over the limits (%d lines a file, %d a function without a %q line in its doc comment)",
			len(violations), maxFileLines, maxFuncLines, "// "+longMarker)
	}
}

// oversized lists what in one file is over the limits; generated files are
// not checked.
func oversized(file, rel string) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", rel, err)
	}
	if ast.IsGenerated(f) {
		return nil, nil
	}
	var found []string
	if n := fset.File(f.Pos()).LineCount(); n > maxFileLines {
		found = append(found, fmt.Sprintf("%s has %d lines (limit %d)", rel, n, maxFileLines))
	}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil || explainsLength(fn.Doc) {
			continue
		}
		start, end := fset.Position(fn.Pos()), fset.Position(fn.End())
		if n := end.Line - start.Line + 1; n > maxFuncLines {
			found = append(found, fmt.Sprintf("%s:%d: func %s has %d lines (limit %d; a %q line in its doc comment says why)",
				rel, start.Line, funcName(fn), n, maxFuncLines, "// "+longMarker))
		}
	}
	return found, nil
}

// explainsLength reports whether a doc comment has a line starting with
// longMarker followed by a reason.
func explainsLength(doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	for _, line := range strings.Split(doc.Text(), "\n") {
		if reason, ok := strings.CutPrefix(strings.TrimSpace(line), longMarker); ok && strings.TrimSpace(reason) != "" {
			return true
		}
	}
	return false
}

// funcName is a function's name, with its receiver's type for a method.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	typ := fn.Recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	if generic, ok := typ.(*ast.IndexExpr); ok {
		typ = generic.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}
