// Package cpu reports cpu.usage_pct, the share of CPU time spent busy since
// the previous sample, for the whole host (core="total") and for each core
// (core="0", "1", ...).
//
// The collector works from the kernel's cumulative CPU time counters rather
// than gopsutil's Percent, for three reasons:
//
//   - iowait is idle time. A CPU waiting on disk I/O is free to run other
//     work, so busy = total - idle - iowait. Counting iowait as busy showed
//     hosts that only wait on disk at about 90 % CPU
//     (https://github.com/shirou/gopsutil/issues/902).
//   - guest and guest_nice are already included in user and nice on Linux,
//     so they are left out of the total instead of being counted twice.
//   - A percentage needs two samples. The first call only stores a baseline
//     and emits nothing, and a call whose counters did not advance emits
//     nothing either, instead of a meaningless 0 % or NaN
//     (https://github.com/shirou/gopsutil/issues/44).
//
// A core whose counters go backwards (CPU hot-plug, counter reset) emits no
// point for that sample and its new reading becomes the baseline. Only the
// busy and idle sums are checked, because the kernel documents per-CPU iowait
// as unreliable: on tickless kernels time can move between iowait and idle,
// so iowait alone may decrease.
//
// Config.RootPath selects the proc filesystem: the counters are read from
// RootPath/proc/stat, so an agent in a container with the host's root
// mounted at /host reads the host's counters. The HOST_PROC and HOST_SYS
// environment variables of gopsutil are overridden by RootPath.
package cpu
