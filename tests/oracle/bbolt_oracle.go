// bbolt_oracle runs the system's bbolt (Debian golang-github-coreos-bbolt-dev 1.3.6, the one
// etcd 3.4.23 is built with) and etcd 3.4.23's own backend defrag, so tests/interop can hold
// etcd-snap's bbolt writer (src/inspect/bbolt/write.rs) to what bbolt checks, reads and
// writes.
//
// Build offline:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o bbolt_oracle bbolt_oracle.go
//
// Commands (one per run; the result is one JSON line on stdout):
//
//	verify <file> [<ref>]      bbolt's tx.Check(); every key of every bucket found again with
//	                           Cursor.Seek and Bucket.Get (a wrong branch key sends a Seek to
//	                           the wrong leaf); bucket.Stats() of each top-level bucket; with
//	                           <ref>, every bucket, sequence, key and value compared with it
//	copy <src> <dst> <fill> <batch>
//	                           bbolt's own copy of <src> into a new <dst>: buckets in key
//	                           order (nested ones too, with their sequences), FillPercent
//	                           <fill> on each, a commit every <batch> keys (0: one
//	                           transaction), as etcd's defragdb does
//	etcd-defrag <file>         etcd 3.4.23's backend.Defrag (mvcc/backend/backend.go:363) on
//	                           <file>, in place
//	gen <out> <seed> <keys> <page size> <nested 0|1>
//	                           a fragmented db made by bbolt: <keys> keys put in random order
//	                           over many transactions with values of 0 B to 40 KiB (overflow
//	                           pages), a third deleted and some overwritten; small, empty and
//	                           sequence-carrying buckets; with nested=1 also nested buckets
//	                           (inline and not, two levels)
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/mvcc/backend"
)

func fail(err error) {
	json.NewEncoder(os.Stdout).Encode(map[string]string{"error": err.Error()})
	os.Exit(1)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fail(err)
	}
	return n
}

type report struct {
	Check    []string                    `json:"check"`
	Seek     []string                    `json:"seek"`
	Diff     []string                    `json:"diff"`
	Size     int64                       `json:"size"`
	PageSize int                         `json:"pageSize"`
	Buckets  int                         `json:"buckets"`
	Keys     int                         `json:"keys"`
	Stats    map[string]bolt.BucketStats `json:"stats"`
}

func (r *report) note(list *[]string, format string, args ...interface{}) {
	if len(*list) < 20 {
		*list = append(*list, fmt.Sprintf(format, args...))
	}
}

// walk counts and re-finds every key of b (and of its nested buckets).
func (r *report) walk(path string, b *bolt.Bucket) {
	c := b.Cursor()
	seek := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		sk, sv := seek.Seek(k)
		if !bytes.Equal(sk, k) || !bytes.Equal(sv, v) {
			r.note(&r.Seek, "%s: Seek(%x) found %x", path, k, sk)
		}
		if v == nil {
			r.Buckets++
			child := b.Bucket(k)
			if child == nil {
				r.note(&r.Seek, "%s: %x has no value and is no bucket", path, k)
				continue
			}
			r.walk(path+"/"+hex.EncodeToString(k), child)
			continue
		}
		r.Keys++
		if g := b.Get(k); !bytes.Equal(g, v) {
			r.note(&r.Seek, "%s: Get(%x) differs from the cursor's value", path, k)
		}
	}
}

// diff compares bucket a (of the file) with bucket b (of the reference).
func (r *report) diff(path string, a, b *bolt.Bucket) {
	if a.Sequence() != b.Sequence() {
		r.note(&r.Diff, "%s: sequence %d, reference %d", path, a.Sequence(), b.Sequence())
	}
	ca, cb := a.Cursor(), b.Cursor()
	ka, va := ca.First()
	kb, vb := cb.First()
	for ka != nil || kb != nil {
		switch {
		case kb == nil || (ka != nil && bytes.Compare(ka, kb) < 0):
			r.note(&r.Diff, "%s: %x only in the file", path, ka)
			ka, va = ca.Next()
		case ka == nil || bytes.Compare(ka, kb) > 0:
			r.note(&r.Diff, "%s: %x only in the reference", path, kb)
			kb, vb = cb.Next()
		default:
			switch {
			case (va == nil) != (vb == nil):
				r.note(&r.Diff, "%s: %x is a bucket in one and a value in the other", path, ka)
			case va == nil:
				r.diff(path+"/"+hex.EncodeToString(ka), a.Bucket(ka), b.Bucket(kb))
			case !bytes.Equal(va, vb):
				r.note(&r.Diff, "%s: value of %x differs (%d bytes, reference %d)", path, ka, len(va), len(vb))
			}
			ka, va = ca.Next()
			kb, vb = cb.Next()
		}
	}
}

func verify(file, ref string) {
	db, err := bolt.Open(file, 0400, &bolt.Options{ReadOnly: true})
	if err != nil {
		fail(err)
	}
	defer db.Close()
	r := report{Check: []string{}, Seek: []string{}, Diff: []string{}, Stats: map[string]bolt.BucketStats{}}
	err = db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			r.note(&r.Check, "%v", e)
		}
		r.Size = tx.Size()
		r.PageSize = db.Info().PageSize
		root := tx.Cursor()
		for k, v := root.First(); k != nil; k, v = root.Next() {
			b := tx.Bucket(k)
			if v != nil || b == nil {
				r.note(&r.Seek, "root: %x is not a bucket", k)
				continue
			}
			r.Buckets++
			r.Stats[hex.EncodeToString(k)] = b.Stats()
			r.walk(hex.EncodeToString(k), b)
		}
		if ref == "" {
			return nil
		}
		rdb, err := bolt.Open(ref, 0400, &bolt.Options{ReadOnly: true})
		if err != nil {
			return err
		}
		defer rdb.Close()
		return rdb.View(func(rtx *bolt.Tx) error {
			ca, cb := tx.Cursor(), rtx.Cursor()
			ka, _ := ca.First()
			kb, _ := cb.First()
			for ka != nil || kb != nil {
				switch {
				case kb == nil || (ka != nil && bytes.Compare(ka, kb) < 0):
					r.note(&r.Diff, "bucket %x only in the file", ka)
					ka, _ = ca.Next()
				case ka == nil || bytes.Compare(ka, kb) > 0:
					r.note(&r.Diff, "bucket %x only in the reference", kb)
					kb, _ = cb.Next()
				default:
					r.diff(hex.EncodeToString(ka), tx.Bucket(ka), rtx.Bucket(kb))
					ka, _ = ca.Next()
					kb, _ = cb.Next()
				}
			}
			return nil
		})
	})
	if err != nil {
		fail(err)
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

// copier is etcd's defragdb (mvcc/backend/backend.go:490) extended to nested buckets the way
// bbolt's Compact (compact.go) does them.
type copier struct {
	dst   *bolt.DB
	tx    *bolt.Tx
	fill  float64
	batch int
	count int
}

// bucket opens path in the current transaction, with the fill percent on each level.
func (c *copier) bucket(path [][]byte) *bolt.Bucket {
	b := c.tx.Bucket(path[0])
	b.FillPercent = c.fill
	for _, k := range path[1:] {
		b = b.Bucket(k)
		b.FillPercent = c.fill
	}
	return b
}

func (c *copier) copy(src *bolt.Bucket, path [][]byte) error {
	return src.ForEach(func(k, v []byte) error {
		c.count++
		if c.batch > 0 && c.count > c.batch {
			if err := c.tx.Commit(); err != nil {
				return err
			}
			tx, err := c.dst.Begin(true)
			if err != nil {
				return err
			}
			c.tx = tx
			c.count = 0
		}
		dst := c.bucket(path)
		if v != nil {
			return dst.Put(k, v)
		}
		child := src.Bucket(k)
		nb, err := dst.CreateBucket(k)
		if err != nil {
			return err
		}
		nb.FillPercent = c.fill
		if err := nb.SetSequence(child.Sequence()); err != nil {
			return err
		}
		return c.copy(child, append(append([][]byte{}, path...), k))
	})
}

func copyDb(srcPath, dstPath string, fill float64, batch int) {
	src, err := bolt.Open(srcPath, 0400, &bolt.Options{ReadOnly: true})
	if err != nil {
		fail(err)
	}
	defer src.Close()
	// NoSync: an oracle's file need not survive a crash, and a commit per key must be quick.
	dst, err := bolt.Open(dstPath, 0600, &bolt.Options{NoFreelistSync: true, NoSync: true, PageSize: src.Info().PageSize})
	if err != nil {
		fail(err)
	}
	c := &copier{dst: dst, fill: fill, batch: batch}
	c.tx, err = dst.Begin(true)
	if err != nil {
		fail(err)
	}
	err = src.View(func(stx *bolt.Tx) error {
		return stx.ForEach(func(name []byte, b *bolt.Bucket) error {
			nb, err := c.tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			if err := nb.SetSequence(b.Sequence()); err != nil {
				return err
			}
			return c.copy(b, [][]byte{name})
		})
	})
	if err == nil {
		err = c.tx.Commit()
	}
	if err == nil {
		err = dst.Close()
	}
	if err != nil {
		fail(err)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]bool{"ok": true})
}

func etcdDefrag(file string) {
	b := backend.NewDefaultBackend(file)
	before := b.Size()
	if err := b.Defrag(); err != nil {
		fail(err)
	}
	after := b.Size()
	if err := b.Close(); err != nil {
		fail(err)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]int64{"before": before, "after": after})
}

// value is n bytes derived from the key, so a copy that mixes values up is caught.
func value(rng *rand.Rand, key []byte) []byte {
	var n int
	switch p := rng.Intn(100); {
	case p < 80:
		n = rng.Intn(200)
	case p < 95:
		n = 200 + rng.Intn(2800)
	case p < 99:
		n = 3000 + rng.Intn(6000)
	default:
		n = 9000 + rng.Intn(31000)
	}
	v := make([]byte, n)
	rng.Read(v)
	copy(v, key)
	return v
}

func gen(out string, seed int64, keys, pageSize int, nested bool) {
	rng := rand.New(rand.NewSource(seed))
	db, err := bolt.Open(out, 0600, &bolt.Options{PageSize: pageSize, NoSync: true})
	if err != nil {
		fail(err)
	}
	update := func(f func(tx *bolt.Tx) error) {
		if err := db.Update(f); err != nil {
			fail(err)
		}
	}
	update(func(tx *bolt.Tx) error {
		for _, name := range []string{"key", "meta", "empty", "lease", "z-last"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		if err := tx.Bucket([]byte("key")).SetSequence(7); err != nil {
			return err
		}
		m := tx.Bucket([]byte("meta"))
		m.Put([]byte("consistent_index"), []byte{0, 0, 0, 0, 0, 0, 1, 0})
		m.Put([]byte("term"), []byte{0, 0, 0, 0, 0, 0, 0, 2})
		l := tx.Bucket([]byte("lease"))
		for i := 0; i < 300; i++ {
			l.Put([]byte(fmt.Sprintf("lease-%05d", i)), []byte(fmt.Sprintf("ttl=%d", i)))
		}
		tx.Bucket([]byte("z-last")).Put([]byte{0xff}, bytes.Repeat([]byte{0xee}, 500))
		return nil
	})
	perm := rng.Perm(keys)
	// Keys of the `key` bucket as etcd's revisions (main, '_', sub), so `snapshot status`
	// reads the db.
	name := func(i int) []byte {
		k := make([]byte, 17)
		binary.BigEndian.PutUint64(k, uint64(i+1))
		k[8] = '_'
		return k
	}
	for start := 0; start < keys; start += 2000 {
		end := start + 2000
		if end > keys {
			end = keys
		}
		update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("key"))
			for _, i := range perm[start:end] {
				if err := b.Put(name(i), value(rng, name(i))); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// Deletes and overwrites, in small transactions: pages freed all over the file.
	for round := 0; round < 40; round++ {
		update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("key"))
			for j := 0; j < keys/100; j++ {
				i := rng.Intn(keys)
				if rng.Intn(3) == 0 {
					if err := b.Put(name(i), value(rng, name(i))); err != nil {
						return err
					}
				} else if err := b.Delete(name(i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if nested {
		update(func(tx *bolt.Tx) error {
			n, err := tx.CreateBucket([]byte("nest"))
			if err != nil {
				return err
			}
			n.Put([]byte("0-plain"), []byte("before the buckets"))
			a, _ := n.CreateBucket([]byte("a-inline"))
			a.Put([]byte("x"), []byte("1"))
			a.Put([]byte("y"), []byte("2"))
			b, _ := n.CreateBucket([]byte("b-big"))
			b.SetSequence(42)
			for i := 0; i < 5000; i++ {
				k := []byte(fmt.Sprintf("b%06d", i))
				b.Put(k, value(rng, k))
			}
			n.Put([]byte("c-plain"), []byte("between"))
			d, _ := n.CreateBucket([]byte("d-deeper"))
			d.SetSequence(3)
			e, _ := d.CreateBucket([]byte("e-inline"))
			e.Put([]byte("only"), []byte("key"))
			f, _ := d.CreateBucket([]byte("f-big"))
			for i := 0; i < 800; i++ {
				f.Put([]byte(fmt.Sprintf("f%05d", i)), bytes.Repeat([]byte{byte(i)}, 40))
			}
			d.CreateBucket([]byte("g-empty"))
			return nil
		})
	}
	if err := db.Close(); err != nil {
		fail(err)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]bool{"ok": true})
}

func main() {
	if len(os.Args) < 3 {
		fail(fmt.Errorf("usage: bbolt_oracle verify|copy|etcd-defrag|gen ..."))
	}
	switch os.Args[1] {
	case "verify":
		ref := ""
		if len(os.Args) > 3 {
			ref = os.Args[3]
		}
		verify(os.Args[2], ref)
	case "copy":
		fill, err := strconv.ParseFloat(os.Args[4], 64)
		if err != nil {
			fail(err)
		}
		copyDb(os.Args[2], os.Args[3], fill, atoi(os.Args[5]))
	case "etcd-defrag":
		etcdDefrag(os.Args[2])
	case "gen":
		gen(os.Args[2], int64(atoi(os.Args[3])), atoi(os.Args[4]), atoi(os.Args[5]), os.Args[6] == "1")
	default:
		fail(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}
