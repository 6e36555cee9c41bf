// gogo_oracle runs etcd 3.4's own gogo-generated Unmarshal on hex inputs and prints the verdict,
// so the Rust decoder can be compared with etcd's (tests/interop/pb.rs live;
// tests/testsuite/pb/gogo_golden.rs replays the verdicts recorded by regen.sh).
//
// Build offline against Debian's golang-etcd-server-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o gogo_oracle tests/oracle/gogo_oracle.go
//
// Input, one case per line: `<type> <hex>` where type is one of the names in `types` below.
// Output, one line per case: `OK <hex>` (the decoded value re-marshalled by gogo, with every
// XXX_unrecognized cleared, since etcd-snap drops unknown fields), `ERR <error text>`, or
// `PANIC` when gogo's generated code panics (possible on lengths near 2^63).
// A type prefixed `size:` (`size:raftpb.Message <hex>`) prints `SIZE <n>` instead: gogo's
// Size() of the decoded value, unknown fields (XXX_unrecognized) included; for a Message also
// its Snapshot's Size().
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"reflect"
	"strings"

	"go.etcd.io/etcd/etcdserver/api/snap/snappb"
	"go.etcd.io/etcd/raft/raftpb"
	"go.etcd.io/etcd/wal/walpb"
)

type message interface {
	Unmarshal([]byte) error
	Marshal() ([]byte, error)
}

var types = map[string]func() message{
	"snappb.snapshot":         func() message { return &snappb.Snapshot{} },
	"walpb.Snapshot":          func() message { return &walpb.Snapshot{} },
	"raftpb.Entry":            func() message { return &raftpb.Entry{} },
	"raftpb.ConfState":        func() message { return &raftpb.ConfState{} },
	"raftpb.SnapshotMetadata": func() message { return &raftpb.SnapshotMetadata{} },
	"raftpb.Snapshot":         func() message { return &raftpb.Snapshot{} },
	"raftpb.HardState":        func() message { return &raftpb.HardState{} },
	"raftpb.Message":          func() message { return &raftpb.Message{} },
	"raftpb.ConfChange":       func() message { return &raftpb.ConfChange{} },
	"raftpb.ConfChangeSingle": func() message { return &raftpb.ConfChangeSingle{} },
	"raftpb.ConfChangeV2":     func() message { return &raftpb.ConfChangeV2{} },
}

// clearUnrecognized zeroes every XXX_unrecognized field, recursively.
func clearUnrecognized(v reflect.Value) {
	switch v.Kind() {
	case reflect.Ptr:
		if !v.IsNil() {
			clearUnrecognized(v.Elem())
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct {
			for i := 0; i < v.Len(); i++ {
				clearUnrecognized(v.Index(i))
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Name == "XXX_unrecognized" {
				v.Field(i).SetBytes(nil)
			} else {
				clearUnrecognized(v.Field(i))
			}
		}
	}
}

type sized interface{ Size() int }

func verdict(typ string, in []byte) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = "PANIC"
		}
	}()
	if t := strings.TrimPrefix(typ, "size:"); t != typ {
		m := types[t]()
		if err := m.Unmarshal(in); err != nil {
			return "ERR " + err.Error()
		}
		if msg, ok := m.(*raftpb.Message); ok {
			return fmt.Sprintf("SIZE %d %d", msg.Size(), msg.Snapshot.Size())
		}
		return fmt.Sprintf("SIZE %d", m.(sized).Size())
	}
	m := types[typ]()
	if err := m.Unmarshal(in); err != nil {
		return "ERR " + err.Error()
	}
	clearUnrecognized(reflect.ValueOf(m))
	b, err := m.Marshal()
	if err != nil {
		return "MARSHAL-ERR " + err.Error()
	}
	return "OK " + hex.EncodeToString(b)
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, " ", 2)
		if len(parts) == 1 {
			parts = append(parts, "")
		}
		if _, ok := types[strings.TrimPrefix(parts[0], "size:")]; !ok {
			fmt.Fprintf(w, "BAD-TYPE %s\n", parts[0])
			continue
		}
		in, err := hex.DecodeString(strings.TrimSpace(parts[1]))
		if err != nil {
			fmt.Fprintf(w, "BAD-HEX %v\n", err)
			continue
		}
		fmt.Fprintln(w, verdict(parts[0], in))
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
