// Package tailer follows log files for the MiniObserv agent and turns each
// complete line, or each group of lines that belong together, into a
// model.LogEntry.
//
// A Tailer watches files and glob patterns. It finds files through fsnotify
// events on their directories and, because events can be lost or unsupported
// (network file systems, inotify limits), through a scan every PollInterval.
//
// Files are identified by device and inode, so a renamed file keeps its read
// offset whatever name it has now:
//
//   - Rename rotation (logrotate "create", lumberjack): the old file is read to
//     its end, including lines the writer still appends through its open
//     descriptor, and released once it has been idle for RotateWait. The new
//     file at the watched name is read from byte 0.
//   - copytruncate: a file whose size drops below the read offset, or whose
//     first bytes change, is read again from byte 0. A copy of it that a glob
//     also matches is recognised by its first bytes and is not shipped again.
//
// Only complete lines are shipped. The state file records, per file, the
// offset just past the last line that was handed to emit, so a restarted
// tailer continues without loss and without repeats.
package tailer
