// wal_oracle runs etcd 3.4's own `wal` package (Debian golang-etcd-server-dev) on a WAL
// folder, so tests/interop/wal.rs can compare etcd-snap's WAL reader with etcd itself.
//
// Build offline:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o wal_oracle wal_oracle.go
//
// Commands (one per run; the result is one JSON line on stdout):
//
//	vse <dir>                                  wal.ValidSnapshotEntries
//	readall <dir> <index> <term> read          wal.OpenForRead + ReadAll
//	readall <dir> <index> <term> write         on a copy of <dir>: wal.Open + ReadAll, and on
//	                                           io.ErrUnexpectedEOF one wal.Repair and a second
//	                                           Open + ReadAll, as etcdserver's readWAL does
//	gen <dir> <segment bytes>                  wal.Create + Save/SaveSnapshot from a script on
//	                                           stdin, with wal.SegmentSizeBytes set so segments
//	                                           are cut: `meta <hex>` (first), `snap <index>
//	                                           <term>`, `save <term> <vote> <commit>
//	                                           [<index>:<term>:<type>:<hex data>...]`
//
// A panic inside etcd (pbutil.MustUnmarshal) is reported as {"panic": "<message>"}. Entry
// data is printed in hex, or past 256 bytes as "sha256:<digest>".
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.etcd.io/etcd/raft/raftpb"
	"go.etcd.io/etcd/wal"
	"go.etcd.io/etcd/wal/walpb"
)

type result struct {
	Snaps    [][2]uint64      `json:"snaps,omitempty"`
	Metadata string           `json:"metadata"`
	State    [3]uint64        `json:"state"`
	Entries  [][4]interface{} `json:"entries"`
	Err      string           `json:"err"`
	Panic    string           `json:"panic,omitempty"`
	Repaired bool             `json:"repaired"`
	// Write mode: the last segment's size afterwards and the first byte etcd changed in it
	// (-1: none), compared with the original.
	LastSize     int64 `json:"last_size"`
	FirstChanged int64 `json:"first_changed"`
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

func out(r result) {
	if r.Entries == nil {
		r.Entries = [][4]interface{}{}
	}
	b, err := json.Marshal(r)
	must(err)
	fmt.Println(string(b))
}

func entries(ents []raftpb.Entry) [][4]interface{} {
	o := [][4]interface{}{}
	for _, e := range ents {
		o = append(o, [4]interface{}{e.Index, e.Term, int32(e.Type), data(e.Data)})
	}
	return o
}

// data is the entry data in hex, or for more than 256 bytes "sha256:" and its digest.
func data(b []byte) string {
	if len(b) > 256 {
		d := sha256.Sum256(b)
		return "sha256:" + hex.EncodeToString(d[:])
	}
	return hex.EncodeToString(b)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func copyDir(from, to string) {
	names, err := ioutil.ReadDir(from)
	must(err)
	for _, n := range names {
		if n.IsDir() {
			continue
		}
		b, err := ioutil.ReadFile(filepath.Join(from, n.Name()))
		must(err)
		must(ioutil.WriteFile(filepath.Join(to, n.Name()), b, 0600))
	}
}

func lastWal(dir string) string {
	names, err := ioutil.ReadDir(dir)
	must(err)
	var ws []string
	for _, n := range names {
		if strings.HasSuffix(n.Name(), ".wal") {
			ws = append(ws, n.Name())
		}
	}
	sort.Strings(ws)
	if len(ws) == 0 {
		return ""
	}
	return ws[len(ws)-1]
}

func readAll(dir string, snap walpb.Snapshot, write bool) (r result) {
	defer func() {
		if p := recover(); p != nil {
			r = result{Panic: fmt.Sprint(p), FirstChanged: -1}
		}
	}()
	r.FirstChanged = -1
	if !write {
		w, err := wal.OpenForRead(nil, dir, snap)
		if err != nil {
			return result{Err: err.Error(), FirstChanged: -1}
		}
		defer w.Close()
		fill(&r, w)
		return r
	}
	tmp, err := ioutil.TempDir("", "wal_oracle")
	must(err)
	defer os.RemoveAll(tmp)
	copyDir(dir, tmp)
	last := lastWal(tmp)
	var before []byte
	if last != "" {
		before, err = ioutil.ReadFile(filepath.Join(tmp, last))
		must(err)
	}
	defer func() {
		if last == "" {
			return
		}
		after, err := ioutil.ReadFile(filepath.Join(tmp, last))
		must(err)
		r.LastSize = int64(len(after))
		for i := 0; i < len(after) && i < len(before); i++ {
			if after[i] != before[i] {
				r.FirstChanged = int64(i)
				break
			}
		}
	}()
	for attempt := 0; ; attempt++ {
		w, err := wal.Open(nil, tmp, snap)
		if err != nil {
			return result{Err: err.Error(), Repaired: attempt > 0, FirstChanged: -1}
		}
		fill(&r, w)
		w.Close()
		if r.Err == io.ErrUnexpectedEOF.Error() && attempt == 0 {
			if !wal.Repair(nil, tmp) {
				r = result{Err: "repair failed: " + r.Err, FirstChanged: -1}
				return r
			}
			r = result{Repaired: true, FirstChanged: -1}
			continue
		}
		r.Repaired = attempt > 0
		return r
	}
}

func fill(r *result, w *wal.WAL) {
	md, st, ents, err := w.ReadAll()
	r.Err = errString(err)
	if err == nil || err == wal.ErrSnapshotNotFound {
		r.Metadata = hex.EncodeToString(md)
		r.State = [3]uint64{st.Term, st.Vote, st.Commit}
		r.Entries = entries(ents)
	}
}

func vse(dir string) (r result) {
	defer func() {
		if p := recover(); p != nil {
			r = result{Panic: fmt.Sprint(p)}
		}
	}()
	snaps, err := wal.ValidSnapshotEntries(nil, dir)
	r.Err = errString(err)
	r.Snaps = [][2]uint64{}
	for _, s := range snaps {
		r.Snaps = append(r.Snaps, [2]uint64{s.Index, s.Term})
	}
	return r
}

func parseU(s string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	must(err)
	return v
}

func gen(dir string, segBytes int64) {
	wal.SegmentSizeBytes = segBytes
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var w *wal.WAL
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "meta":
			md, err := hex.DecodeString(f[1])
			must(err)
			w, err = wal.Create(nil, dir, md)
			must(err)
		case "snap":
			must(w.SaveSnapshot(walpb.Snapshot{Index: parseU(f[1]), Term: parseU(f[2])}))
		case "save":
			st := raftpb.HardState{Term: parseU(f[1]), Vote: parseU(f[2]), Commit: parseU(f[3])}
			var ents []raftpb.Entry
			for _, e := range f[4:] {
				p := strings.Split(e, ":")
				data, err := hex.DecodeString(p[3])
				must(err)
				ents = append(ents, raftpb.Entry{Index: parseU(p[0]), Term: parseU(p[1]), Type: raftpb.EntryType(parseU(p[2])), Data: data})
			}
			must(w.Save(st, ents))
		default:
			must(fmt.Errorf("unknown script line %q", sc.Text()))
		}
	}
	must(sc.Err())
	must(w.Close())
	out(result{FirstChanged: -1})
}

func main() {
	a := os.Args[1:]
	switch {
	case len(a) == 2 && a[0] == "vse":
		out(vse(a[1]))
	case len(a) == 5 && a[0] == "readall":
		out(readAll(a[1], walpb.Snapshot{Index: parseU(a[2]), Term: parseU(a[3])}, a[4] == "write"))
	case len(a) == 3 && a[0] == "gen":
		n, err := strconv.ParseInt(a[2], 10, 64)
		must(err)
		gen(a[1], n)
	default:
		fmt.Fprintln(os.Stderr, "usage: see the comment at the top of wal_oracle.go")
		os.Exit(2)
	}
}
