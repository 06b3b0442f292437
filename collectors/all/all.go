// Package all compiles every built-in collector into a program. The agent
// imports it for its side effects:
//
//	import _ "github.com/kamerrezz/theminidog/collectors/all"
//
// Each imported package registers itself with the collectors registry from
// its init function. Adding a collector means adding its package and one
// blank import here.
package all

import (
	_ "github.com/kamerrezz/theminidog/collectors/cpu"  // cpu.usage_pct
	_ "github.com/kamerrezz/theminidog/collectors/disk" // disk.total_bytes, disk.used_bytes, disk.used_pct
	_ "github.com/kamerrezz/theminidog/collectors/mem"  // mem.total_bytes, mem.used_bytes, mem.used_pct
	_ "github.com/kamerrezz/theminidog/collectors/net"  // net.bytes_in, net.bytes_out
)
