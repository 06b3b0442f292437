package disk

import (
	"fmt"
	"strings"
)

// mount is one entry of the mount table.
type mount struct {
	// Device identifies the filesystem: "major:minor" on Linux, the device
	// name elsewhere.
	Device string
	// Root is the directory of the filesystem that the mount shows: "/"
	// for a normal mount, a sub-directory for a bind mount.
	Root string
	// Point is the mount point in the host's mount namespace.
	Point  string
	FSType string
	// Source is the mounted device or pseudo source, such as /dev/sda1.
	Source string
}

// pseudoFSTypes are filesystem types that are not disks: kernel interfaces,
// memory-backed filesystems, container image layers and read-only images
// that are always full.
var pseudoFSTypes = map[string]bool{
	"autofs":          true,
	"aufs":            true,
	"binfmt_misc":     true,
	"bpf":             true,
	"cgroup":          true,
	"cgroup2":         true,
	"configfs":        true,
	"debugfs":         true,
	"devfs":           true,
	"devpts":          true,
	"devtmpfs":        true,
	"efivarfs":        true,
	"erofs":           true,
	"fuse.gvfsd-fuse": true,
	"fuse.lxcfs":      true,
	"fuse.portal":     true,
	"fuse.snapfuse":   true,
	"fusectl":         true,
	"hugetlbfs":       true,
	"iso9660":         true,
	"mqueue":          true,
	"nfsd":            true,
	"nsfs":            true,
	"nullfs":          true,
	"overlay":         true,
	"proc":            true,
	"procfs":          true,
	"pstore":          true,
	"ramfs":           true,
	"rpc_pipefs":      true,
	"securityfs":      true,
	"selinuxfs":       true,
	"squashfs":        true,
	"sysfs":           true,
	"tmpfs":           true,
	"tracefs":         true,
}

// loopMajor is the Linux block device major number of loop devices.
const loopMajor = "7"

// selectMounts picks the mounts to report: the allow-list entries when allow
// is not empty, otherwise one mount per real filesystem. A listed mount
// point that is not mounted is returned in the error, next to the others.
func selectMounts(table []mount, allow []string) ([]mount, error) {
	visible := visibleMounts(table)
	if len(allow) > 0 {
		return allowedMounts(visible, allow)
	}
	return onePerDevice(realFilesystems(visible)), nil
}

// visibleMounts drops mounts hidden by a later mount on the same mount
// point, keeping the table order.
func visibleMounts(table []mount) []mount {
	last := make(map[string]int, len(table))
	for i, m := range table {
		last[m.Point] = i
	}

	out := make([]mount, 0, len(last))
	for i, m := range table {
		if last[m.Point] == i {
			out = append(out, m)
		}
	}
	return out
}

func allowedMounts(visible []mount, allow []string) ([]mount, error) {
	byPoint := make(map[string]mount, len(visible))
	for _, m := range visible {
		byPoint[m.Point] = m
	}

	out := make([]mount, 0, len(allow))
	var missing []string
	for _, point := range allow {
		m, ok := byPoint[point]
		if !ok {
			missing = append(missing, point)
			continue
		}
		out = append(out, m)
	}

	if len(missing) > 0 {
		return out, fmt.Errorf("disk mounts %s are not mounted: fix the disk mount list or mount them", strings.Join(missing, ", "))
	}
	return out, nil
}

func realFilesystems(mounts []mount) []mount {
	out := make([]mount, 0, len(mounts))
	for _, m := range mounts {
		if pseudoFSTypes[m.FSType] || strings.HasPrefix(m.FSType, "cgroup") || isLoop(m) {
			continue
		}
		out = append(out, m)
	}
	return out
}

func isLoop(m mount) bool {
	return strings.HasPrefix(m.Device, loopMajor+":") || strings.HasPrefix(m.Source, "/dev/loop")
}

// onePerDevice keeps one mount per device, in table order: the first one
// whose root is "/", or the first one when none is.
func onePerDevice(mounts []mount) []mount {
	chosen := make(map[string]int, len(mounts)) // device -> index in out
	out := make([]mount, 0, len(mounts))
	for _, m := range mounts {
		i, seen := chosen[m.Device]
		if !seen {
			chosen[m.Device] = len(out)
			out = append(out, m)
			continue
		}
		if out[i].Root != "/" && m.Root == "/" {
			out[i] = m
		}
	}
	return out
}

// normalizeMountPoint removes a trailing slash so that "/home/" in the
// configuration matches the mount point "/home".
func normalizeMountPoint(point string) string {
	trimmed := strings.TrimRight(point, "/")
	if trimmed == "" && point != "" {
		return "/"
	}
	return trimmed
}
