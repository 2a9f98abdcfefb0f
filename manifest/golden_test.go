package manifest

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with the golden file, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// equalSets compares the objects of two sets; nil and empty are equal.
func equalSets(t *testing.T, want, got *Set) {
	t.Helper()
	opts := cmpopts.EquateEmpty()
	if diff := cmp.Diff(want.Canaries, got.Canaries, opts); diff != "" {
		t.Errorf("canaries differ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.Templates, got.Templates, opts); diff != "" {
		t.Errorf("templates differ (-want +got):\n%s", diff)
	}
}

// TestGolden runs every file in testdata: *.good.yaml must decode, validate
// and resolve, and its golden *.good.yaml.json is the decoded set re-encoded;
// *.bad.yaml must fail to decode with the golden *.bad.yaml.err;
// *.invalid.yaml must decode and fail Validate or Resolve with the golden
// *.invalid.yaml.err.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src := filepath.ToSlash(file)
			switch {
			case strings.HasSuffix(name, ".good.yaml"):
				set, err := DecodeFile(src)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if err := Validate(set); err != nil {
					t.Errorf("validate: %v", err)
				}
				if err := Resolve(set); err != nil {
					t.Errorf("resolve: %v", err)
				}
				out, err := EncodeJSON(set)
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				golden(t, file+".json", string(out))
				again, err := DecodeBytes(out, "re-encoded")
				if err != nil {
					t.Fatalf("decoding the re-encoded set: %v", err)
				}
				equalSets(t, set, again)
			case strings.HasSuffix(name, ".bad.yaml"):
				set, err := DecodeFile(src)
				if err == nil {
					t.Fatalf("decoded without error: %d canaries, %d templates", len(set.Canaries), len(set.Templates))
				}
				if set != nil {
					t.Errorf("a failed decode returned a set")
				}
				checkErrors(t, err)
				golden(t, file+".err", err.Error()+"\n")
			case strings.HasSuffix(name, ".invalid.yaml"):
				set, err := DecodeFile(src)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				var b strings.Builder
				verr, rerr := Validate(set), Resolve(set)
				if verr == nil && rerr == nil {
					t.Fatal("no validation or resolution errors")
				}
				for _, part := range []struct {
					name string
					err  error
					kind error
				}{{"Validate", verr, ErrInvalid}, {"Resolve", rerr, ErrUnresolved}} {
					if part.err == nil {
						continue
					}
					checkErrors(t, part.err)
					if !errors.Is(part.err, part.kind) {
						t.Errorf("%s error does not wrap %v", part.name, part.kind)
					}
					b.WriteString(part.name + ":\n" + part.err.Error() + "\n")
				}
				golden(t, file+".err", b.String())
			default:
				t.Fatalf("testdata file %s is not *.good.yaml, *.bad.yaml or *.invalid.yaml", name)
			}
		})
	}
}

// checkErrors checks that err joins only *Errors, each wrapping a sentinel
// and naming its source.
func checkErrors(t *testing.T, err error) {
	t.Helper()
	checkErrorsFrom(t, err, true)
}

// checkErrorsFrom is checkErrors; withSource says whether the objects came
// from an input (objects built in code have no source).
func checkErrorsFrom(t *testing.T, err error, withSource bool) {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var me *Error
		if !errors.As(e, &me) {
			t.Errorf("%v is not a *manifest.Error", e)
			continue
		}
		if me.Err == nil {
			t.Errorf("%v wraps no sentinel", e)
		}
		if withSource && me.Source == "" {
			t.Errorf("%v names no source", e)
		}
	}
}
