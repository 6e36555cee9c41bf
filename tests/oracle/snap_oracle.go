// snap_oracle runs etcd 3.4's own `snap` package (Debian golang-etcd-server-dev) on a
// directory, so tests/interop/snapshotter.rs can compare etcd-snap with etcd itself.
//
// Build offline:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o snap_oracle snap_oracle.go
//
// Commands (one per run; the result is one line on stdout: a JSON summary of a snapshot in the
// shape of the fixtures' expected/*.json, `OK`, `PATH <path>`, `N <bytes>`, or `ERR <etcd's
// error text>`):
//
//	load <dir>
//	loadavail <dir> <term>:<index>[,<term>:<index>...]
//	read <file>
//	save <dir>                      (a marshalled raftpb.Snapshot on stdin)
//	savedb <dir> <index>            (body on stdin)
//	dbpath <dir> <index>
//	release <dir> <index>
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"go.etcd.io/etcd/etcdserver/api/snap"
	"go.etcd.io/etcd/raft/raftpb"
	"go.etcd.io/etcd/wal/walpb"
	"go.uber.org/zap"
)

type confState struct {
	Voters         []uint64 `json:"voters"`
	Learners       []uint64 `json:"learners"`
	VotersOutgoing []uint64 `json:"voters_outgoing"`
	LearnersNext   []uint64 `json:"learners_next"`
	AutoLeave      bool     `json:"auto_leave"`
}

type summary struct {
	Term       uint64    `json:"term"`
	Index      uint64    `json:"index"`
	ConfState  confState `json:"conf_state"`
	DataNil    bool      `json:"data_nil"`
	DataLen    int       `json:"data_len"`
	DataSha256 string    `json:"data_sha256"`
	PbSize     int       `json:"pb_size"`
}

func nonNil(v []uint64) []uint64 {
	if v == nil {
		return []uint64{}
	}
	return v
}

func printSnap(s *raftpb.Snapshot) {
	sum := sha256.Sum256(s.Data)
	cs := s.Metadata.ConfState
	out, _ := json.Marshal(summary{
		Term:  s.Metadata.Term,
		Index: s.Metadata.Index,
		ConfState: confState{
			Voters:         nonNil(cs.Voters),
			Learners:       nonNil(cs.Learners),
			VotersOutgoing: nonNil(cs.VotersOutgoing),
			LearnersNext:   nonNil(cs.LearnersNext),
			AutoLeave:      cs.AutoLeave,
		},
		DataNil:    s.Data == nil,
		DataLen:    len(s.Data),
		DataSha256: hex.EncodeToString(sum[:]),
		PbSize:     s.Size(),
	})
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Printf("ERR %s\n", err)
	os.Exit(0)
}

func u64(s string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad number", s)
		os.Exit(2)
	}
	return v
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: snap_oracle <cmd> <dir|file> [arg]")
		os.Exit(2)
	}
	lg := zap.NewNop()
	cmd, dir := os.Args[1], os.Args[2]
	ss := snap.New(lg, dir)
	switch cmd {
	case "load":
		s, err := ss.Load()
		if err != nil {
			fail(err)
		}
		printSnap(s)
	case "loadavail":
		var walSnaps []walpb.Snapshot
		for _, p := range strings.Split(os.Args[3], ",") {
			ti := strings.SplitN(p, ":", 2)
			walSnaps = append(walSnaps, walpb.Snapshot{Term: u64(ti[0]), Index: u64(ti[1])})
		}
		s, err := ss.LoadNewestAvailable(walSnaps)
		if err != nil {
			fail(err)
		}
		printSnap(s)
	case "read":
		s, err := snap.Read(lg, dir)
		if err != nil {
			fail(err)
		}
		printSnap(s)
	case "save":
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			fail(err)
		}
		var s raftpb.Snapshot
		if err := s.Unmarshal(b); err != nil {
			fail(err)
		}
		if err := ss.SaveSnap(s); err != nil {
			fail(err)
		}
		fmt.Println("OK")
	case "savedb":
		n, err := ss.SaveDBFrom(os.Stdin, u64(os.Args[3]))
		if err != nil {
			fail(err)
		}
		fmt.Printf("N %d\n", n)
	case "dbpath":
		p, err := ss.DBFilePath(u64(os.Args[3]))
		if err != nil {
			fail(err)
		}
		fmt.Printf("PATH %s\n", p)
	case "release":
		if err := ss.ReleaseSnapDBs(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: u64(os.Args[3])}}); err != nil {
			fail(err)
		}
		fmt.Println("OK")
	default:
		fmt.Fprintln(os.Stderr, "unknown command", cmd)
		os.Exit(2)
	}
}
