package poolset

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// PartExt is the extension of the part files in the directories of a
// directory poolset.
const PartExt = ".pmem"

// PartName returns the name of part file i in a directory of a directory
// poolset, as C names it: six digits, zero-padded, and [PartExt]
// ("000003.pmem").
func PartName(i int) string { return fmt.Sprintf("%06d%s", i, PartExt) }

// partIndex returns the index of a part file of a directory poolset from
// its name, and false for a file that is not one. C reads the index with
// strtol, which turns a name without leading digits into part 0; here a
// part file name is digits then [PartExt], and any other file is ignored.
func partIndex(name string) (int, bool) {
	digits, ok := strings.CutSuffix(name, PartExt)
	if !ok || digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n > 1<<31-1 {
		return 0, false
	}
	return n, true
}

// ReserveSize returns the reservation of a directory poolset: the sum of
// the sizes of the directories of each local replica, the smallest over
// the replicas (C's resvsize, what the pool may grow to), or 0 for a set
// without directories.
func (s *Set) ReserveSize() int64 {
	if !s.Directories {
		return 0
	}
	size := int64(-1)
	for _, rep := range s.Replicas {
		if rep.Remote != nil {
			continue
		}
		var n int64
		for _, d := range rep.Parts {
			n += d.Size
		}
		if size < 0 || n < size {
			size = n
		}
	}
	return max(size, 0)
}

// DirSet is a directory poolset with the part files its directories hold.
type DirSet struct {
	// Set is the poolset with the part files in place of the
	// directories: a set of file parts (Directories false; Line is the
	// line of the directory a part is in), usable as any other.
	*Set
	// Dirs are the directories of each replica, as parsed.
	Dirs [][]Part
	// NextID is the index of the next part file to create, and NextDir
	// the directory (modulo the replica's count) it goes to (C's
	// next_id and next_directory_id).
	NextID, NextDir int
}

// LoadDirs lists the part files of directory poolset s, as C's
// util_poolset_directories_load does: in each directory, the regular files
// named by [PartName] are the parts of the replica, in the order of their
// index, sized as the files are. The parts of a replica must be numbered
// from 0 without a gap (C would fail later on the missing part; an error
// here names it). A replica with fewer parts than the replica with the
// most gets, as in C, that replica's part sizes with paths in its own
// first directory, to be created or to be found missing. The next part
// goes to the directory after the last one that had fewer parts than the
// one before it in the primary, spreading parts across directories.
func (s *Set) LoadDirs() (*DirSet, error) {
	if !s.Directories {
		return nil, fmt.Errorf("poolset: not a directory poolset")
	}
	out := &DirSet{Set: &Set{Options: s.Options}, Dirs: make([][]Part, len(s.Replicas))}
	most := -1
	for r, rep := range s.Replicas {
		out.Dirs[r] = rep.Parts
		nr := Replica{Remote: rep.Remote, Line: rep.Line}
		if rep.Remote == nil {
			parts, err := loadReplicaDirs(rep.Parts)
			if err != nil {
				return nil, err
			}
			nr.Parts = parts
			if most < 0 || len(parts) > len(out.Replicas[most].Parts) {
				most = r
			}
			if r == 0 {
				out.NextID = len(parts)
				prev := -1
				for _, d := range rep.Parts {
					n := 0
					for _, p := range parts {
						if filepath.Dir(p.Path) == filepath.Clean(d.Path) {
							n++
						}
					}
					if prev > n {
						out.NextDir++
					}
					prev = n
				}
			}
		}
		out.Replicas = append(out.Replicas, nr)
	}
	if most < 0 {
		return out, nil
	}
	model := out.Replicas[most].Parts
	for r := range out.Replicas {
		rep := &out.Replicas[r]
		if rep.Remote != nil || len(rep.Parts) == len(model) {
			continue
		}
		dir := out.Dirs[r][0]
		rep.Parts = make([]Part, len(model))
		for i, m := range model {
			rep.Parts[i] = Part{Path: filepath.Join(dir.Path, PartName(i)), Size: m.Size, Line: dir.Line}
		}
	}
	return out, nil
}

// loadReplicaDirs lists the part files in the directories of one replica.
func loadReplicaDirs(dirs []Part) ([]Part, error) {
	var parts []Part
	byIndex := map[int]int{}
	for _, d := range dirs {
		ents, err := os.ReadDir(d.Path)
		if err != nil {
			return nil, fmt.Errorf("poolset: directory of poolset line %d: %w", d.Line, err)
		}
		for _, e := range ents {
			i, ok := partIndex(e.Name())
			if !ok || !e.Type().IsRegular() {
				continue
			}
			path := filepath.Join(d.Path, e.Name())
			st, err := os.Stat(path)
			if err != nil {
				return nil, fmt.Errorf("poolset: part %s: %w", path, err)
			}
			if j, dup := byIndex[i]; dup {
				return nil, fmt.Errorf("poolset: parts %s and %s have the same index %d", parts[j].Path, path, i)
			}
			byIndex[i] = len(parts)
			parts = append(parts, Part{Path: path, Size: st.Size(), Line: d.Line})
		}
	}
	ordered := make([]Part, len(parts))
	for i := range ordered {
		j, ok := byIndex[i]
		if !ok {
			return nil, fmt.Errorf("poolset: part %d (%s) missing in the directories of poolset line %d", i, PartName(i), dirs[0].Line)
		}
		ordered[i] = parts[j]
	}
	return ordered, nil
}

// AppendPart adds a new part file of size bytes to every local replica of
// d, as C's util_poolset_append_new_part: named [PartName](NextID) in the
// replica's directory NextDir (modulo its count). It creates nothing.
func (d *DirSet) AppendPart(size int64) {
	for r := range d.Replicas {
		rep := &d.Replicas[r]
		if rep.Remote != nil {
			continue
		}
		dir := d.Dirs[r][d.NextDir%len(d.Dirs[r])]
		rep.Parts = append(rep.Parts, Part{Path: filepath.Join(dir.Path, PartName(d.NextID)), Size: size, Line: dir.Line})
	}
	d.NextID++
	d.NextDir++
}
