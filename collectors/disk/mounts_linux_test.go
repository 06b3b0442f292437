package disk

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func testdataRoot(t *testing.T, name string) string {
	t.Helper()

	root, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestDefaultExclusionFromMountinfo(t *testing.T) {
	root := testdataRoot(t, "pseudo-and-bind")
	sda1 := blockCounts{BlockSize: 4096, Blocks: 1000000, Free: 100000, Avail: 50000}
	sda2 := blockCounts{BlockSize: 4096, Blocks: 250000, Free: 200000, Avail: 190000}

	c := newCollector(root, nil, nil)
	c.mountsFn = hostMounts(root)
	fake := newFakeStatfs(map[string]blockCounts{
		root:                                    sda1,
		filepath.Join(root, "home"):             sda2,
		filepath.Join(root, "var/lib/app"):      sda1,
		filepath.Join(root, "snap/core20/2318"): {BlockSize: 4096, Blocks: 100},
		filepath.Join(root, "run"):              {BlockSize: 4096, Blocks: 400000, Free: 399000, Avail: 399000},
	})
	c.statfsFn = fake.statfs

	points, err := c.Collect(context.Background())
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	got := byMount(t, points)

	var mounts []string
	for point := range got {
		mounts = append(mounts, point)
	}
	slices.Sort(mounts)
	if !slices.Equal(mounts, []string{"/", "/home"}) {
		t.Fatalf("mounts = %v, want [/ /home]", mounts)
	}

	// A host total summed over the reported mounts counts each disk once.
	wantTotal := float64(sda1.Blocks*sda1.BlockSize + sda2.Blocks*sda2.BlockSize)
	if sum := got["/"].total + got["/home"].total; sum != wantTotal {
		t.Errorf("summed total = %v, want %v", sum, wantTotal)
	}
	for _, skipped := range []string{"var/lib/app", "snap/core20/2318", "run"} {
		if n := fake.callCount(filepath.Join(root, skipped)); n != 0 {
			t.Errorf("excluded mount /%s was statted %d times", skipped, n)
		}
	}
	assertValidBatch(t, points)
}

func TestParseMountinfo(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdataRoot(t, "escaped"), "proc", "1", "mountinfo"))
	if err != nil {
		t.Fatal(err)
	}

	mounts, err := parseMountinfo(data)
	if err == nil {
		t.Error("malformed lines were not reported")
	} else {
		for _, line := range []string{"line 3", "line 5"} {
			if !strings.Contains(err.Error(), line) {
				t.Errorf("error %q does not name %s", err, line)
			}
		}
	}
	if len(mounts) != 7 {
		t.Fatalf("parsed %d mounts, want the 7 well-formed ones", len(mounts))
	}

	want := mount{Device: "8:17", Root: "/", Point: "/mnt/backup disk", FSType: "ext4", Source: "/dev/sdb1"}
	if mounts[1] != want {
		t.Errorf("escaped mount = %+v, want %+v", mounts[1], want)
	}
	nfs := mounts[2]
	if nfs.FSType != "nfs4" || nfs.Source != "srv:/export" {
		t.Errorf("mount with two optional fields = %+v, want nfs4 from srv:/export", nfs)
	}
}

func TestSelectMountsEdgeCases(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdataRoot(t, "escaped"), "proc", "1", "mountinfo"))
	if err != nil {
		t.Fatal(err)
	}
	table, _ := parseMountinfo(data)

	selected, err := selectMounts(table, nil)
	if err != nil {
		t.Fatalf("selectMounts: %v", err)
	}
	var points []string
	for _, m := range selected {
		points = append(points, m.Point)
	}

	// The NFS mount is a real filesystem. A device mounted only through
	// sub-directories is reported once. Of two mounts on one mount point,
	// only the later, visible one is reported.
	want := []string{"/", "/mnt/backup disk", "/mnt/nfs", "/mnt/only-subdir", "/mnt/hidden"}
	if !slices.Equal(points, want) {
		t.Errorf("selected %q, want %q", points, want)
	}
	if hidden := selected[len(selected)-1]; hidden.Device != "8:65" {
		t.Errorf("/mnt/hidden device = %s, want the later mount 8:65", hidden.Device)
	}
}

func TestUnescapeOctal(t *testing.T) {
	tests := map[string]string{
		`/plain`:         "/plain",
		`/a\040b`:        "/a b",
		`/tab\011x`:      "/tab\tx",
		`/back\134slash`: `/back\slash`,
		`/short\04`:      `/short\04`,
		`/not\999octal`:  `/not\999octal`,
		`/overflow\777`:  `/overflow\777`,
		`/trailing\`:     `/trailing\`,
	}
	for in, want := range tests {
		if got := unescapeOctal(in); got != want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHostMountsMissingTable(t *testing.T) {
	root := t.TempDir()

	_, err := hostMounts(root)(context.Background())
	if err == nil {
		t.Fatal("hostMounts without a mountinfo file returned no error")
	}
	if !strings.Contains(err.Error(), filepath.Join(root, "proc", "1", "mountinfo")) {
		t.Errorf("error %q does not name the missing file", err)
	}
}

func TestStatfsThisHost(t *testing.T) {
	counts, err := statfs("/")
	if err != nil {
		t.Fatalf("statfs /: %v", err)
	}
	if counts.BlockSize == 0 || counts.Blocks == 0 {
		t.Errorf("statfs / = %+v, want a block size and a block count", counts)
	}
	if counts.Free > counts.Blocks || counts.Avail > counts.Free {
		t.Errorf("statfs / = %+v, want avail <= free <= blocks", counts)
	}
}
