// status36_oracle crafts an etcd 3.6-style backend db from a real etcd 3.4 one and prints
// `etcdutl snapshot status -w json` as etcd v3.6.0 computes it, so tests can pin etcd-snap's
// 3.6 semantics without a 3.6 binary (none is reachable from this machine).
//
// Build offline:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o status36_oracle status36_oracle.go
//
// Commands:
//
//	craft <in.db> <out.db> <storageVersion|-|fields-3.5>
//	    copies in.db, then with bbolt: sets meta/storageVersion (skipped for "-"; for
//	    "fields-3.5" sets 3.5's meta/term and meta/confState instead), writes a
//	    tombstone for the first user key, a put of /etcd36/new, a tombstone then a put again
//	    of the second user key (so distinct live keys differ from entries)
//	status <db>
//	    etcd v3.6.0 etcdutl/snapshot/v3_snapshot.go:117-200 Status, ported line for line
//	    (seenKeys: a put adds kv.Key, a tombstone deletes it; version from
//	    schema.ReadStorageVersionFromSnapshot, server/storage/schema/version.go:48-55)
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"

	"github.com/coreos/go-semver/semver"
	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

func revKey(main, sub int64, tomb bool) []byte {
	b := make([]byte, 17, 18)
	binary.BigEndian.PutUint64(b[0:8], uint64(main))
	b[8] = '_'
	binary.BigEndian.PutUint64(b[9:], uint64(sub))
	if tomb {
		b = append(b, 't')
	}
	return b
}

// isTombstone: etcd v3.6.0 server/storage/mvcc/revision.go (markedRevBytesLen, 't').
func isTombstone(b []byte) bool { return len(b) == 18 && b[17] == 't' }

func die(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func craft(in, out, sv string) {
	src, err := os.Open(in)
	if err != nil {
		die(err)
	}
	dst, err := os.Create(out)
	if err != nil {
		die(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		die(err)
	}
	src.Close()
	dst.Close()
	db, err := bolt.Open(out, 0o600, nil)
	if err != nil {
		die(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		if sv == "fields-3.5" {
			// What UnsafeDetectSchemaVersion (v3.6.0 server/storage/schema/schema.go:103-111)
			// takes for 3.5: a confState and a non-zero term next to consistent_index.
			term := make([]byte, 8)
			binary.BigEndian.PutUint64(term, 2)
			if err := meta.Put([]byte("term"), term); err != nil {
				return err
			}
			if err := meta.Put([]byte("confState"), []byte(`{"voters":[1]}`)); err != nil {
				return err
			}
		} else if sv != "-" {
			if err := tx.Bucket([]byte("meta")).Put([]byte("storageVersion"), []byte(sv)); err != nil {
				return err
			}
		}
		kb := tx.Bucket([]byte("key"))
		var first, second []byte
		c := kb.Cursor()
		for k, v := c.First(); k != nil && second == nil; k, v = c.Next() {
			var kv mvccpb.KeyValue
			if err := kv.Unmarshal(v); err != nil {
				return err
			}
			if first == nil {
				first = kv.Key
			} else if string(kv.Key) != string(first) {
				second = kv.Key
			}
		}
		lk, _ := c.Last()
		rev := int64(binary.BigEndian.Uint64(lk[0:8]))
		put := func(tomb bool, key []byte) error {
			rev++
			kv := mvccpb.KeyValue{Key: key}
			if !tomb {
				kv = mvccpb.KeyValue{Key: key, CreateRevision: rev, ModRevision: rev, Version: 1, Value: []byte("v36")}
			}
			v, err := kv.Marshal()
			if err != nil {
				return err
			}
			return kb.Put(revKey(rev, 0, tomb), v)
		}
		for _, op := range []struct {
			tomb bool
			key  []byte
		}{{true, first}, {false, []byte("/etcd36/new")}, {true, second}, {false, second}} {
			if err := put(op.tomb, op.key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		die(err)
	}
}

type status struct {
	Hash      uint32 `json:"hash"`
	Revision  int64  `json:"revision"`
	TotalKey  int    `json:"totalKey"`
	TotalSize int64  `json:"totalSize"`
	Version   string `json:"version"`
}

func stat(path string) {
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		die(err)
	}
	defer db.Close()
	var ds status
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	seenKeys := make(map[string]struct{})
	err = db.View(func(tx *bolt.Tx) error {
		var dbErrStrings []string
		for dbErr := range tx.Check() {
			dbErrStrings = append(dbErrStrings, dbErr.Error())
		}
		if len(dbErrStrings) > 0 {
			return fmt.Errorf("snapshot file integrity check failed. %d errors found.\n"+strings.Join(dbErrStrings, "\n"), len(dbErrStrings))
		}
		ds.TotalSize = tx.Size()
		if v, err := semver.NewVersion(string(tx.Bucket([]byte("meta")).Get([]byte("storageVersion")))); err == nil {
			ds.Version = v.String()
		}
		c := tx.Cursor()
		for next, _ := c.First(); next != nil; next, _ = c.Next() {
			b := tx.Bucket(next)
			if b == nil {
				return fmt.Errorf("nil bucket: %q", string(next))
			}
			h.Write(next)
			iskeyb := string(next) == "key"
			if err := b.ForEach(func(k, v []byte) error {
				h.Write(k)
				h.Write(v)
				if iskeyb {
					ds.Revision = int64(binary.BigEndian.Uint64(k[0:8]))
					var kv mvccpb.KeyValue
					if err := kv.Unmarshal(v); err != nil {
						return fmt.Errorf("cannot unmarshal value, key: %q value: %q err: %w", k, v, err)
					}
					key := string(kv.Key)
					if !isTombstone(k) {
						seenKeys[key] = struct{}{}
					} else {
						delete(seenKeys, key)
					}
				}
				return nil
			}); err != nil {
				return fmt.Errorf("error during bucket key iteration, name: %q err: %w", string(next), err)
			}
		}
		return nil
	})
	if err != nil {
		die(err)
	}
	ds.TotalKey = len(seenKeys)
	ds.Hash = h.Sum32()
	b, _ := json.Marshal(ds)
	fmt.Println(string(b))
}

func main() {
	switch {
	case len(os.Args) == 5 && os.Args[1] == "craft":
		craft(os.Args[2], os.Args[3], os.Args[4])
	case len(os.Args) == 3 && os.Args[1] == "status":
		stat(os.Args[2])
	default:
		die(fmt.Errorf("usage: status36_oracle craft <in> <out> <storageVersion|-> | status <db>"))
	}
}
