// Package poolset reads poolset files: the PMEMPOOLSET text that describes
// a pool made of several part files and replicas (man 5 poolset, PMDK
// 1.12.1). It parses exactly what C's parser accepts and refuses, with the
// line number, everything C refuses; it computes the sizes C computes from
// a parsed set (the usable size of each replica and of the pool). It maps
// nothing and writes nothing: package core/pool creates and opens pools on
// a parsed [Set], and later the set module and pmempool's sync and
// transform reuse the same [Set].
//
// # Format
//
// The first line is exactly PMEMPOOLSET. Then, one per line: a part
// ("16M /path/part0", size with an optional B, K, M, G, T, P, KiB...PiB or
// kB...PB suffix, an absolute path; a path naming a directory makes a
// directory part), REPLICA (starting the next local replica), REPLICA
// followed by a node address and a relative descriptor (a remote replica),
// OPTION SINGLEHDR (a header in the first part only) or OPTION NOHDRS (no
// headers, remote replicas only). Text from # to the end of a line is a
// comment; empty lines are skipped. Fields are separated by spaces or tabs.
//
// # Directory poolsets
//
// When the part lines name directories (all of them: C refuses a mix),
// the sizes are reservations and the parts are the files NNNNNN.pmem
// ([PartName]) in the directories: [Set.LoadDirs] lists them as C's
// util_poolset_directories_load does, and [DirSet.AppendPart] names the
// next one where C would create it.
package poolset
