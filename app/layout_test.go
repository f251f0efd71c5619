package app_test

import (
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The dependency rule, written once: data flows HTTP → api → Temporal →
// workflows → activities → Postgres, and internal/ holds the layers below
// them. Paths are relative to the module root; "x/..." is x and every
// package under it, "..." is every package.
//
// Each rule refuses imports of forbid by the packages matching from (unless
// they match except). Only the non-test files of a package count, except
// for rules with tests set, whose packages' test files count too.
var layoutRules = []struct {
	from, except, forbid []string
	tests                bool
	why                  string
}{{
	from:   []string{"internal/..."},
	except: []string{"internal/testkit"},
	forbid: topLevelPackages,
	tests:  true,
	why:    "internal/ is the layer below the service; only the test kit boots the service",
}, {
	from:   []string{"api/..."},
	forbid: []string{"activities/...", "workflows/...", "worker/...", "app/..."},
	why:    "the API talks to Temporal only through internal/flow",
}, {
	from:   []string{"internal/domain/..."},
	forbid: []string{"internal/..."},
	tests:  true,
	why:    "the domain is pure decisions: no storage, no Temporal, no HTTP",
}, {
	from:   []string{"internal/flow/..."},
	forbid: []string{"internal/store/..."},
	tests:  true,
	why:    "workflow payloads are their own types, never store rows, so a table change cannot change a history",
}, {
	from:   []string{"workflows/..."},
	forbid: []string{"api/...", "worker/...", "app/...", "internal/store/..."},
	why:    "workflows orchestrate; they know neither the API nor how they are hosted, and reach Postgres only through activities",
}, {
	from:   []string{"activities/..."},
	forbid: []string{"workflows/...", "api/...", "worker/...", "app/..."},
	why:    "activities are side effects ordered by workflows, which they do not know",
}, {
	from:   []string{"worker/..."},
	forbid: []string{"api/...", "app/..."},
	why:    "the worker hosts workflows and activities; the API is another process",
}, {
	from:   []string{"..."},
	except: []string{"app/...", "cmd/...", "scripts/...", "internal/testkit"},
	forbid: []string{"app/..."},
	why:    "app is the composition root: only commands, scripts, the test kit and tests build the service",
}}

// topLevelPackages are the module's directories beside internal/: every
// package under one is above internal/ in the layering.
// TestLayoutKnowsEveryTopLevelPackage keeps the list complete.
var topLevelPackages = []string{
	"api/...", "workflows/...", "activities/...", "worker/...", "app/...",
	"cmd/...", "ui/...", "faultinject/...", "modeltest/...", "scripts/...",
}

// modulePackage is one package of the module and what it imports.
type modulePackage struct {
	rel                  string // path relative to the module root
	imports, testImports []string
}

func TestLayoutFollowsTheDependencyRule(t *testing.T) {
	module, pkgs := modulePackages(t)
	violations := 0
	for _, p := range pkgs {
		for _, r := range layoutRules {
			if !matchesAny(p.rel, r.from) || matchesAny(p.rel, r.except) {
				continue
			}
			imports := p.imports
			if r.tests {
				imports = append(slices.Clone(p.imports), p.testImports...)
			}
			for _, imp := range imports {
				rel, ok := strings.CutPrefix(imp, module+"/")
				// An external test package imports the package it tests.
				if ok && rel != p.rel && matchesAny(rel, r.forbid) {
					violations++
					t.Errorf("layout: %s imports %s (%s)", p.rel, rel, r.why)
				}
			}
		}
	}
	if violations > 0 {
		t.Logf("%d imports break the dependency rule (layoutRules in app/layout_test.go)", violations)
	}
}

func TestLayoutKnowsEveryTopLevelPackage(t *testing.T) {
	_, pkgs := modulePackages(t)
	for _, p := range pkgs {
		if !matchesAny(p.rel, append([]string{"internal/..."}, topLevelPackages...)) {
			t.Errorf("layout: package %s is in no layer: add its top-level directory to topLevelPackages in app/layout_test.go", p.rel)
		}
	}
}

// matches reports whether rel matches pattern ("x", "x/..." or "...").
func matches(rel, pattern string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

func matchesAny(rel string, patterns []string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matches(rel, p) })
}

// modulePackages reads every package of the module from its source, as the
// go command would build it (with the fault suite's build tag), without the
// network or the go command.
func modulePackages(t *testing.T) (module string, pkgs []modulePackage) {
	t.Helper()
	root, module := moduleRoot(t)
	ctx := build.Default
	ctx.BuildTags = append(slices.Clone(ctx.BuildTags), "faultinject")
	err := filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		name := d.Name()
		if dir != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		p, err := ctx.ImportDir(dir, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, dir)
		pkgs = append(pkgs, modulePackage{
			rel: filepath.ToSlash(rel), imports: p.Imports,
			testImports: append(slices.Clone(p.TestImports), p.XTestImports...),
		})
		return nil
	})
	if err != nil {
		t.Fatalf("list the module's packages: %v", err)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].rel < pkgs[j].rel })
	return module, pkgs
}

// moduleRoot finds go.mod above the test's directory and the module's path.
func moduleRoot(t *testing.T) (root, module string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		raw, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(raw), "\n") {
				if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
					return dir, strings.Trim(strings.TrimSpace(m), `"`)
				}
			}
			t.Fatalf("%s/go.mod names no module", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
