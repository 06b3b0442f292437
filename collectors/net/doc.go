// Package net reports network traffic per interface: net.bytes_in and
// net.bytes_out, the bytes received and sent since the previous sample,
// labelled iface="<interface name>".
//
// The kernel's counters are cumulative, so each value is the difference of
// two readings. The first reading of an interface is a baseline only and
// emits nothing. A counter that goes backwards, because the interface was
// re-created, the host rebooted or a 32-bit counter wrapped, emits no point
// for that tick for that interface, and the new reading becomes the
// baseline. An unsigned subtraction would instead report about 1.8e19
// bytes (https://github.com/shirou/gopsutil/issues/693). An interface that
// disappears is forgotten, so when it comes back its first reading is again
// a baseline (https://github.com/shirou/gopsutil/issues/511).
//
// # Which interfaces are reported
//
// By default every interface except loopback ("lo", "lo0", Windows'
// "Loopback Pseudo-Interface N") and the virtual interfaces that container
// runtimes, hypervisors and overlay networks create, whose traffic a
// physical interface already carries. Their names start with one of
// virtualPrefixes: veth, docker, br-, virbr, vnet, tap, cali, flannel, cni,
// cilium_, weave, vxlan, tunl, kube-, lxc, lxdbr, podman, ifb, dummy,
// nlmon. Config.NetIfaces, when set, replaces this rule: only interfaces
// matching one of its entries are reported, where an entry is a name or a
// path.Match pattern such as "eth*". A listed interface that does not exist
// is not an error, because interfaces come and go.
//
// # Containers
//
// On Linux the counters are read from RootPath/proc/1/net/dev, the network
// namespace of the host's init process. Inside a container that has the
// host's /proc under RootPath this is the host's network, not the
// container's. On a bare host (RootPath "/") the collector falls back to
// /proc/net/dev when /proc/1 is hidden (hidepid).
package net
