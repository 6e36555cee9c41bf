// dumplogs_oracle prints WAL entries as etcd-dump-logs prints them, with etcd 3.4's own types
// (Debian golang-etcd-server-dev) and etcd-dump-logs' own printing code, so
// tests/interop/walpayload.rs can compare src/walpayload with etcd.
//
// Build offline:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o dumplogs_oracle dumplogs_oracle.go
//
// Commands:
//
//	entries             stdin: lines `<entry type> <term> <index> <hex data>`; stdout: for each,
//	                    the line etcd-dump-logs prints under the default --entry-type
//	                    (Normal,ConfigChange), hex-encoded, or an empty line when it prints none
//	wal <dir>           reads <dir> (a member/wal directory) with etcd's wal package; stdout:
//	                    `M <hex metadata>` then `S <metadata line>`, then per entry
//	                    `E <type> <term> <index> <hex data>` and `L <hex dump-logs line>`
//
// Everything between the `copied` markers is etcd v3.5.16 tools/etcd-dump-logs/main.go
// (excerpt, the pass* filters, the print* printers, evaluateEntrytypeFlag; the 3.5 import
// paths replaced by 3.4's), unchanged.
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/etcdserver/etcdserverpb"
	"go.etcd.io/etcd/pkg/pbutil"
	"go.etcd.io/etcd/pkg/types"
	"go.etcd.io/etcd/raft/raftpb"
	"go.etcd.io/etcd/wal"
	"go.etcd.io/etcd/wal/walpb"
	"go.uber.org/zap"
)

// ---- copied from etcd v3.5.16 tools/etcd-dump-logs/main.go ----

func parseWALMetadata(b []byte) (id, cid types.ID) {
	var metadata etcdserverpb.Metadata
	pbutil.MustUnmarshal(&metadata, b)
	id = types.ID(metadata.NodeID)
	cid = types.ID(metadata.ClusterID)
	return id, cid
}

// excerpt replaces middle part with ellipsis and returns a double-quoted
// string safely escaped with Go syntax.
func excerpt(str string, pre, suf int) string {
	if pre+suf > len(str) {
		return fmt.Sprintf("%q", str)
	}
	return fmt.Sprintf("%q...%q", str[:pre], str[len(str)-suf:])
}

type EntryFilter func(e raftpb.Entry) (bool, string)

func passConfChange(entry raftpb.Entry) (bool, string) {
	return entry.Type == raftpb.EntryConfChange, "ConfigChange"
}

func passInternalRaftRequest(entry raftpb.Entry) (bool, string) {
	var rr etcdserverpb.InternalRaftRequest
	return entry.Type == raftpb.EntryNormal && rr.Unmarshal(entry.Data) == nil, "InternalRaftRequest"
}

func passUnknownNormal(entry raftpb.Entry) (bool, string) {
	var rr1 etcdserverpb.Request
	var rr2 etcdserverpb.InternalRaftRequest
	return (entry.Type == raftpb.EntryNormal) && (rr1.Unmarshal(entry.Data) != nil) && (rr2.Unmarshal(entry.Data) != nil), "UnknownNormal"
}

func passRequest(entry raftpb.Entry) (bool, string) {
	var rr1 etcdserverpb.Request
	var rr2 etcdserverpb.InternalRaftRequest
	return entry.Type == raftpb.EntryNormal && rr1.Unmarshal(entry.Data) == nil && rr2.Unmarshal(entry.Data) != nil, "Request"
}

type EntryPrinter func(e raftpb.Entry)

func printInternalRaftRequest(entry raftpb.Entry) {
	var rr etcdserverpb.InternalRaftRequest
	if err := rr.Unmarshal(entry.Data); err == nil {
		fmt.Printf("%4d\t%10d\tnorm\t%s", entry.Term, entry.Index, rr.String())
	}
}

func printUnknownNormal(entry raftpb.Entry) {
	fmt.Printf("%4d\t%10d\tnorm\t???", entry.Term, entry.Index)
}

func printConfChange(entry raftpb.Entry) {
	fmt.Printf("%4d\t%10d", entry.Term, entry.Index)
	fmt.Printf("\tconf")
	var r raftpb.ConfChange
	if err := r.Unmarshal(entry.Data); err != nil {
		fmt.Printf("\t???")
	} else {
		fmt.Printf("\tmethod=%s id=%s", r.Type, types.ID(r.NodeID))
	}
}

func printRequest(entry raftpb.Entry) {
	var r etcdserverpb.Request
	if err := r.Unmarshal(entry.Data); err == nil {
		fmt.Printf("%4d\t%10d\tnorm", entry.Term, entry.Index)
		switch r.Method {
		case "":
			fmt.Printf("\tnoop")
		case "SYNC":
			fmt.Printf("\tmethod=SYNC time=%q", time.Unix(0, r.Time).UTC())
		case "QGET", "DELETE":
			fmt.Printf("\tmethod=%s path=%s", r.Method, excerpt(r.Path, 64, 64))
		default:
			fmt.Printf("\tmethod=%s path=%s val=%s", r.Method, excerpt(r.Path, 64, 64), excerpt(r.Val, 128, 0))
		}
	}
}

// ---- end of copied code ----

// captured runs printEntry with os.Stdout (where the copied printers write) sent to a file, and
// returns what it printed, hex-encoded: a v2 Method is printed raw with %s and may hold any
// byte, newlines included.
func captured(e raftpb.Entry) string {
	f, err := os.CreateTemp("", "dumplogs")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	stdout := os.Stdout
	os.Stdout = f
	printEntry(e)
	os.Stdout = stdout
	b, err := os.ReadFile(f.Name())
	if err != nil {
		log.Fatal(err)
	}
	return hex.EncodeToString(bytes.TrimSuffix(b, []byte("\n")))
}

// printEntry is listEntriesType's loop body for one entry under the default filters
// ("Normal,ConfigChange" = passInternalRaftRequest, passRequest, passUnknownNormal,
// passConfChange), without a stream decoder.
func printEntry(e raftpb.Entry) {
	filters := []EntryFilter{passInternalRaftRequest, passRequest, passUnknownNormal, passConfChange}
	printerMap := map[string]EntryPrinter{"InternalRaftRequest": printInternalRaftRequest,
		"Request":       printRequest,
		"ConfigChange":  printConfChange,
		"UnknownNormal": printUnknownNormal}
	for _, filter := range filters {
		if passed, currtype := filter(e); passed {
			printerMap[currtype](e)
			break
		}
	}
	fmt.Println()
}

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: dumplogs_oracle entries | wal <dir>")
	}
	switch os.Args[1] {
	case "entries":
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 3 {
				log.Fatalf("bad line %q", sc.Text())
			}
			typ, _ := strconv.Atoi(f[0])
			term, _ := strconv.ParseUint(f[1], 10, 64)
			index, _ := strconv.ParseUint(f[2], 10, 64)
			var data []byte
			if len(f) > 3 {
				var err error
				if data, err = hex.DecodeString(f[3]); err != nil {
					log.Fatal(err)
				}
			}
			fmt.Println(captured(raftpb.Entry{Type: raftpb.EntryType(typ), Term: term, Index: index, Data: data}))
		}
	case "wal":
		w, err := wal.OpenForRead(zap.NewNop(), os.Args[2], walpb.Snapshot{})
		if err != nil {
			log.Fatalf("Failed opening WAL: %v", err)
		}
		wmetadata, state, ents, err := w.ReadAll()
		w.Close()
		if err != nil {
			log.Fatalf("Failed reading WAL: %v", err)
		}
		fmt.Printf("M %s\n", hex.EncodeToString(wmetadata))
		id, cid := parseWALMetadata(wmetadata)
		vid := types.ID(state.Vote)
		fmt.Printf("S nodeID=%s clusterID=%s term=%d commitIndex=%d vote=%s\n",
			id, cid, state.Term, state.Commit, vid)
		for _, e := range ents {
			fmt.Printf("E %d %d %d %s\nL %s\n", int32(e.Type), e.Term, e.Index, hex.EncodeToString(e.Data), captured(e))
		}
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}
