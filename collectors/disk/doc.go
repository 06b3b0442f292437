// Package disk reports filesystem usage per mount point: disk.total_bytes,
// disk.used_bytes and disk.used_pct, each labelled mount="<mount point>".
//
// The numbers follow df, from the statfs(2) block counts:
//
//	total_bytes = f_blocks * block size
//	used_bytes  = (f_blocks - f_bfree) * block size
//	used_pct    = used / (used + f_bavail * block size) * 100
//
// The percentage leaves out the blocks reserved for root, as df does, so a
// volume df shows at 95 % is reported at 95 %, not 90 %
// (https://github.com/shirou/gopsutil/issues/562).
//
// # Which mounts are reported
//
// By default one mount per real filesystem, like df. On Linux the mount
// table is read from RootPath/proc/1/mountinfo, which gives each mount's
// device number (major:minor) and the directory of the filesystem it shows.
// A mount is skipped when:
//
//   - its filesystem type is a pseudo, in-memory, container-layer or
//     read-only image type (see pseudoFSTypes): tmpfs, overlay, squashfs
//     (snap packages, always 100 % used), proc, sysfs, cgroup, ...;
//   - it is backed by a loop device (major 7 or a /dev/loopN source);
//   - another mount of the same device was already chosen: bind mounts and
//     btrfs subvolumes repeat one filesystem, so only one mount of each
//     device is reported, preferring the one whose root is "/"
//     (https://github.com/shirou/gopsutil/issues/664);
//   - a later mount on the same mount point hides it.
//
// Config.DiskMounts, when set, replaces these rules: exactly the listed
// mount points are reported, and a listed mount point that is not mounted is
// an error. On other operating systems the mount table comes from gopsutil's
// Partitions, with the same exclusion rules keyed on the device name.
//
// # Containers
//
// Mount points are reported as they are on the host, but statted under
// Config.RootPath: with RootPath "/host" the mount "/home" is statted at
// /host/home and reported as mount="/home". The host's root must be mounted
// recursively (rbind) for its sub-mounts to be visible there.
//
// # Hung mounts
//
// statfs on a dead NFS server can block for minutes, and the call cannot be
// cancelled. Each statfs runs in its own goroutine, and a tick waits for all
// of them together for at most statTimeout (2 s by default). A mount that
// has not responded by then is skipped for that tick. The collector logs a
// warning once when a mount hangs and an info line when it responds again,
// and returns no error for it, so that a caller logging every collection
// error does not repeat the warning every tick. While the statfs of a mount
// is still running, later ticks wait on that call instead of starting a
// second one, so a hung mount holds at most one goroutine.
package disk
