package sigma

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

func isRuleFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yml" || ext == ".yaml"
}

// LoadPaths loads rule files and directories (recursively, *.yml and
// *.yaml). Unreadable paths become errors; loading goes on.
func LoadPaths(paths ...string) *Collection {
	c := &Collection{}
	for _, root := range paths {
		var files []string
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				c.Errors.Add(p, Pos{1, 1}, CodeIO, "%v", err)
				return nil
			}
			if !d.IsDir() && (p == root || isRuleFile(p)) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			c.Errors.Add(root, Pos{1, 1}, CodeIO, "%v", err)
		}
		sort.Strings(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				c.Errors.Add(f, Pos{1, 1}, CodeIO, "%v", err)
				continue
			}
			c.Parse(f, data)
		}
	}
	c.finish()
	return c
}

// LoadFS loads every *.yml and *.yaml under root in fsys (embedded rules).
func LoadFS(fsys fs.FS, root string) *Collection {
	c := &Collection{}
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			c.Errors.Add(p, Pos{1, 1}, CodeIO, "%v", err)
			return nil
		}
		if d.IsDir() || !isRuleFile(path.Base(p)) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			c.Errors.Add(p, Pos{1, 1}, CodeIO, "%v", err)
			return nil
		}
		c.Parse(p, data)
		return nil
	})
	if err != nil {
		c.Errors.Add(root, Pos{1, 1}, CodeIO, "%v", err)
	}
	c.finish()
	return c
}

// finish warns about duplicate ids and sorts the diagnostics.
func (c *Collection) finish() {
	seen := map[string]*Rule{}
	for _, r := range c.Rules {
		if r.ID == "" {
			continue
		}
		if first, dup := seen[r.ID]; dup {
			c.Warnings.Add(r.Path, r.Pos, CodeDuplicateID, "id %s already used by %s", r.ID, first.Path)
			continue
		}
		seen[r.ID] = r
	}
	c.Errors.Sort()
	c.Warnings.Sort()
}
