// Package mem reports physical memory: mem.total_bytes, mem.used_bytes and
// mem.used_pct.
//
// Used memory is defined once, as total minus available:
//
//	used     = MemTotal - MemAvailable
//	used_pct = 100 * used / MemTotal
//
// This is what the used column of free shows (checked against free from
// procps-ng 4.0.2, which reports MemTotal - MemAvailable). It counts shmem
// and tmpfs pages as used, because the kernel cannot reclaim them, and
// leaves reclaimable page cache out. gopsutil's own Used field subtracts
// free, buffers and cache instead and so reads lower on hosts with a lot of
// tmpfs or shared memory. On kernels before 3.14, which lack MemAvailable,
// gopsutil estimates available memory. On macOS and Windows, available is
// what the operating system reports through gopsutil.
//
// Config.RootPath selects the proc filesystem: the values are read from
// RootPath/proc/meminfo, so an agent in a container with the host's root
// mounted at /host reads the host's memory. The HOST_PROC environment
// variable of gopsutil is overridden by RootPath.
package mem
