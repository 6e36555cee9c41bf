// gen-bigdb writes an etcd v3 backend db (bbolt, etcd 3.4 layout) of at least -size bytes
// with bbolt and mvccpb from etcd's own Go source (Debian golang-etcd-server-dev), much faster
// than putting the same data through a live server. Keys /bulk/<n> get -value bytes each;
// every 10th key is updated once more and every 50th deleted, so histories and tombstones exist;
// one last key, /huge/value, holds 1 MiB.
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build -o gen-bigdb .
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"os"

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

func main() {
	out := flag.String("out", "big.db", "output file")
	size := flag.Int64("size", 64<<20, "minimum db size (high water mark, etcdctl totalSize) in bytes")
	valueLen := flag.Int("value", 3000, "value size in bytes")
	flag.Parse()
	os.Remove(*out)
	db, err := bolt.Open(*out, 0600, &bolt.Options{NoSync: true})
	if err != nil {
		log.Fatal(err)
	}
	val := make([]byte, *valueLen)
	for i := range val {
		val[i] = byte('a' + i%26)
	}
	rev := int64(1)
	keys := 0
	for {
		err := db.Update(func(tx *bolt.Tx) error {
			kb, err := tx.CreateBucketIfNotExists([]byte("key"))
			if err != nil {
				return err
			}
			kb.FillPercent = 0.9
			for n := 0; n < 2000; n++ {
				k := []byte(fmt.Sprintf("/bulk/%08d", keys))
				kv := mvccpb.KeyValue{Key: k, CreateRevision: rev, ModRevision: rev, Version: 1, Value: val}
				v, _ := kv.Marshal()
				if err := kb.Put(revKey(rev, 0, false), v); err != nil {
					return err
				}
				created := rev
				rev++
				if keys%10 == 0 {
					kv = mvccpb.KeyValue{Key: k, CreateRevision: created, ModRevision: rev, Version: 2, Value: []byte(fmt.Sprintf(`{"updated":%d}`, keys))}
					v, _ = kv.Marshal()
					if err := kb.Put(revKey(rev, 0, false), v); err != nil {
						return err
					}
					rev++
				}
				if keys%50 == 0 {
					kv = mvccpb.KeyValue{Key: k, ModRevision: rev}
					v, _ = kv.Marshal()
					if err := kb.Put(revKey(rev, 0, true), v); err != nil {
						return err
					}
					rev++
				}
				keys++
			}
			mb, err := tx.CreateBucketIfNotExists([]byte("meta"))
			if err != nil {
				return err
			}
			ci := make([]byte, 8)
			binary.BigEndian.PutUint64(ci, uint64(rev))
			return mb.Put([]byte("consistent_index"), ci)
		})
		if err != nil {
			log.Fatal(err)
		}
		// tx.Size() is the high water mark etcdctl reports as totalSize.
		var hwm int64
		if err := db.View(func(tx *bolt.Tx) error { hwm = tx.Size(); return nil }); err != nil {
			log.Fatal(err)
		}
		if hwm >= *size {
			break
		}
	}
	// One 1 MiB value, larger than the viewer reads for a history at first.
	err = db.Update(func(tx *bolt.Tx) error {
		huge := make([]byte, 1<<20)
		for i := range huge {
			huge[i] = byte('A' + i%26)
		}
		kv := mvccpb.KeyValue{Key: []byte("/huge/value"), CreateRevision: rev, ModRevision: rev, Version: 1, Value: huge}
		v, _ := kv.Marshal()
		rev++
		return tx.Bucket([]byte("key")).Put(revKey(rev-1, 0, false), v)
	})
	if err != nil {
		log.Fatal(err)
	}
	keys++
	if err := db.Sync(); err != nil {
		log.Fatal(err)
	}
	if err := db.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("{\"keys\":%d,\"revision\":%d}\n", keys, rev-1)
}
