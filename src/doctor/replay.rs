//! The mvcc revision after etcd replays committed entries into the db: the db's current
//! revision plus one for every applied request that changed something.
//!
//! etcd bumps the revision once per write transaction that recorded a change (etcd
//! mvcc/kvstore_txn.go:102, `storeTxnWrite.End`: `if len(tw.changes) != 0 { currentRev++ }`):
//! a put always changes (etcd etcdserver/apply.go:178, `Put`, unless it fails first: a lease
//! that does not exist, `ignore_value` / `ignore_lease` on a missing key); a delete range only
//! if it deleted a key; a txn once if its chosen branch put or deleted anything (etcd
//! etcdserver/apply.go:355, `Txn`); a lease revoke once if the lease had keys (etcd
//! lease/lessor.go:324, `Revoke`). Compactions, lease grants, auth, alarms, v2 requests and
//! conf changes do not touch the revision.
//!
//! To decide deletes and txn compares the replay keeps the keyspace: the db's live keys
//! (read on demand from `src/inspect`'s index) under an overlay of what the replay wrote.

use std::collections::{BTreeMap, BTreeSet};

use crate::Result;
use crate::inspect::{KeyValue, Mvcc, PageSource};

use super::request::{
    Compare, DeleteRangeRequest, InternalRaftRequest, Op, PutRequest, RequestOp, TargetUnion,
    TxnRequest,
};

/// The end of a key range as etcd's `mkGteRange` and mvcc read it: absent = the key alone,
/// `"\0"` = every key from `key` on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    Single,
    Before(Vec<u8>),
    Unbounded,
}

fn end_of(range_end: &[u8]) -> End {
    match range_end {
        [] => End::Single,
        [0] => End::Unbounded,
        e => End::Before(e.to_vec()),
    }
}

/// The keyspace during replay.
pub(super) struct Keyspace<'m, 'd, S> {
    base: Option<&'m Mvcc<'d, S>>,
    overlay: BTreeMap<Vec<u8>, Option<KeyValue>>,
    /// The current revision.
    pub rev: i64,
    leases: BTreeSet<i64>,
}

impl<'m, 'd, S: PageSource> Keyspace<'m, 'd, S> {
    /// The keyspace of a db at revision `rev` with the leases `leases` (the `lease` bucket).
    pub fn new(
        base: Option<&'m Mvcc<'d, S>>,
        rev: i64,
        leases: impl IntoIterator<Item = i64>,
    ) -> Self {
        Keyspace {
            base,
            overlay: BTreeMap::new(),
            rev,
            leases: leases.into_iter().collect(),
        }
    }

    fn base_get(&self, key: &[u8]) -> Result<Option<KeyValue>> {
        let Some(m) = self.base else { return Ok(None) };
        match m.history(key).last() {
            Some(ev) if !ev.tombstone => m.value_at(ev.rev, false).map(Some),
            _ => Ok(None),
        }
    }

    fn get(&self, key: &[u8]) -> Result<Option<KeyValue>> {
        match self.overlay.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base_get(key),
        }
    }

    /// Live keys in `[key, end)`, in key order.
    fn range(&self, key: &[u8], end: &End) -> Result<Vec<KeyValue>> {
        if *end == End::Single {
            return Ok(self.get(key)?.into_iter().collect());
        }
        let in_range = |k: &[u8]| match end {
            End::Single => k == key,
            End::Before(e) => k < e.as_slice(),
            End::Unbounded => true,
        };
        let mut keys: BTreeSet<Vec<u8>> = BTreeSet::new();
        if let Some(m) = self.base {
            for (k, events) in m.keys_from(key) {
                if !in_range(k) {
                    break;
                }
                if events.last().is_some_and(|e| !e.tombstone) {
                    keys.insert(k.to_vec());
                }
            }
        }
        for k in self.overlay.range(key.to_vec()..).map(|(k, _)| k) {
            if !in_range(k) {
                break;
            }
            keys.insert(k.clone());
        }
        let mut out = Vec::new();
        for k in keys {
            if let Some(kv) = self.get(&k)? {
                out.push(kv);
            }
        }
        Ok(out)
    }

    /// Applies one v3 request of entry `index`; says whether the revision moved.
    pub fn apply(&mut self, r: &InternalRaftRequest) -> Result<bool> {
        let mut w = Write::default();
        if let Some(p) = &r.put {
            if self.put(p, &mut w)?.is_err() {
                return Ok(false);
            }
        } else if let Some(d) = &r.delete_range {
            self.delete(d, &mut w)?;
        } else if let Some(t) = &r.txn {
            if !self.check_txn(t)? {
                return Ok(false);
            }
            self.txn(t, &mut w)?;
        } else if let Some(g) = &r.lease_grant {
            self.leases.insert(g.id);
        } else if let Some(rv) = &r.lease_revoke {
            if !self.leases.remove(&rv.id) {
                return Ok(false);
            }
            let attached: Vec<Vec<u8>> = self
                .range(&[0], &End::Unbounded)?
                .into_iter()
                .filter(|kv| kv.lease == rv.id)
                .map(|kv| kv.key)
                .collect();
            for k in attached {
                self.delete_key(&k, &mut w);
            }
        }
        Ok(self.end(w))
    }

    fn end(&mut self, w: Write) -> bool {
        if w.changes == 0 {
            return false;
        }
        self.rev += 1;
        let rev = self.rev;
        for (k, put) in w.puts {
            if let Some(Some(kv)) = self.overlay.get_mut(&k) {
                kv.mod_revision = rev;
                if put.created {
                    kv.create_revision = rev;
                }
            }
        }
        true
    }

    /// etcd's `Put` checks (etcd etcdserver/apply.go:178): `Err` when etcd refuses it.
    fn put_check(&self, p: &PutRequest) -> Result<std::result::Result<Option<KeyValue>, ()>> {
        let cur = self.get(&p.key)?;
        if (p.ignore_value || p.ignore_lease) && cur.is_none() {
            return Ok(Err(()));
        }
        if !p.ignore_lease && p.lease != 0 && !self.leases.contains(&p.lease) {
            return Ok(Err(()));
        }
        Ok(Ok(cur))
    }

    fn put(&mut self, p: &PutRequest, w: &mut Write) -> Result<std::result::Result<(), ()>> {
        let cur = match self.put_check(p)? {
            Ok(c) => c,
            Err(()) => return Ok(Err(())),
        };
        // A key put twice in one txn keeps the first put's creation.
        let created_here = w.puts.get(p.key.as_ref()).is_some_and(|x| x.created);
        let (value, lease) = match &cur {
            Some(kv) if p.ignore_value || p.ignore_lease => (
                if p.ignore_value {
                    kv.value.clone()
                } else {
                    p.value.to_vec()
                },
                if p.ignore_lease { kv.lease } else { p.lease },
            ),
            _ => (p.value.to_vec(), p.lease),
        };
        let kv = KeyValue {
            key: p.key.to_vec(),
            create_revision: cur.as_ref().map_or(0, |c| c.create_revision),
            mod_revision: 0,
            version: cur.as_ref().map_or(0, |c| c.version) + 1,
            value,
            lease,
        };
        w.puts.insert(
            p.key.to_vec(),
            PutMark {
                created: cur.is_none() || created_here,
            },
        );
        self.overlay.insert(p.key.to_vec(), Some(kv));
        w.changes += 1;
        Ok(Ok(()))
    }

    fn delete_key(&mut self, key: &[u8], w: &mut Write) {
        self.overlay.insert(key.to_vec(), None);
        w.puts.remove(key);
        w.changes += 1;
    }

    fn delete(&mut self, d: &DeleteRangeRequest, w: &mut Write) -> Result<()> {
        for kv in self.range(&d.key, &end_of(&d.range_end))? {
            self.delete_key(&kv.key, w);
        }
        Ok(())
    }

    /// etcd's `applyCompare` (etcd etcdserver/apply.go:450): a missing key compares as an
    /// empty `KeyValue`, except a VALUE compare, which fails.
    fn compare(&self, c: &Compare) -> Result<bool> {
        let kvs = self.range(&c.key, &end_of(&c.range_end))?;
        if kvs.is_empty() {
            if c.target == 3 {
                return Ok(false);
            }
            return Ok(compare_kv(c, &KeyValue::default()));
        }
        Ok(kvs.iter().all(|kv| compare_kv(c, kv)))
    }

    fn branch<'t>(&self, t: &'t TxnRequest) -> Result<&'t [RequestOp]> {
        for c in &t.compare {
            if !self.compare(c)? {
                return Ok(&t.failure);
            }
        }
        Ok(&t.success)
    }

    /// etcd's `checkRequests(..., checkPut)` over the chosen path (etcd etcdserver/apply.go:
    /// 910): any failing put fails the whole txn before it writes. True: it passes.
    fn check_txn(&self, t: &TxnRequest) -> Result<bool> {
        for op in self.branch(t)? {
            let ok = match &op.request {
                Some(Op::RequestPut(p)) => self.put_check(p)?.is_ok(),
                Some(Op::RequestTxn(inner)) => self.check_txn(inner)?,
                _ => true,
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn txn(&mut self, t: &TxnRequest, w: &mut Write) -> Result<()> {
        let ops = self.branch(t)?.to_vec();
        for op in &ops {
            match &op.request {
                Some(Op::RequestPut(p)) => {
                    let _ = self.put(p, w)?;
                }
                Some(Op::RequestDeleteRange(d)) => self.delete(d, w)?,
                Some(Op::RequestTxn(inner)) => self.txn(inner, w)?,
                Some(Op::RequestRange(_)) | None => {}
            }
        }
        Ok(())
    }
}

#[derive(Default)]
struct Write {
    changes: usize,
    puts: BTreeMap<Vec<u8>, PutMark>,
}

struct PutMark {
    created: bool,
}

/// etcd's `compareKV` (etcd etcdserver/apply.go:476): the wanted value is read only from the
/// union member of the compare's target (else 0 / empty); an unknown result is true.
fn compare_kv(c: &Compare, kv: &KeyValue) -> bool {
    use std::cmp::Ordering;
    let int = |have: i64, want: Option<i64>| have.cmp(&want.unwrap_or(0));
    let u = c.target_union.as_ref();
    let ord: Ordering = match c.target {
        3 => match u {
            Some(TargetUnion::Value(v)) => kv.value.as_slice().cmp(v.as_ref()),
            _ => kv.value.as_slice().cmp(&[][..]),
        },
        1 => int(
            kv.create_revision,
            match u {
                Some(TargetUnion::CreateRevision(x)) => Some(*x),
                _ => None,
            },
        ),
        2 => int(
            kv.mod_revision,
            match u {
                Some(TargetUnion::ModRevision(x)) => Some(*x),
                _ => None,
            },
        ),
        0 => int(
            kv.version,
            match u {
                Some(TargetUnion::Version(x)) => Some(*x),
                _ => None,
            },
        ),
        4 => int(
            kv.lease,
            match u {
                Some(TargetUnion::Lease(x)) => Some(*x),
                _ => None,
            },
        ),
        _ => Ordering::Equal,
    };
    match c.result {
        0 => ord == Ordering::Equal,
        3 => ord != Ordering::Equal,
        1 => ord == Ordering::Greater,
        2 => ord == Ordering::Less,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walpayload::pb::etcdserverpb::{LeaseGrantRequest, LeaseRevokeRequest};

    fn put(k: &str) -> InternalRaftRequest {
        InternalRaftRequest {
            put: Some(PutRequest {
                key: k.as_bytes().to_vec().into(),
                value: b"v".to_vec().into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn del(k: &str, end: &[u8]) -> InternalRaftRequest {
        InternalRaftRequest {
            delete_range: Some(DeleteRangeRequest {
                key: k.as_bytes().to_vec().into(),
                range_end: end.to_vec().into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn ks() -> Keyspace<'static, 'static, Vec<u8>> {
        Keyspace::new(None, 1, [])
    }

    #[test]
    fn puts_bump_deletes_bump_only_when_they_delete() {
        let mut k = ks();
        assert!(k.apply(&put("a")).unwrap());
        assert!(k.apply(&put("a")).unwrap());
        assert_eq!(k.rev, 3);
        assert!(!k.apply(&del("b", b"")).unwrap());
        assert!(k.apply(&del("a", b"")).unwrap());
        assert!(!k.apply(&del("a", b"")).unwrap());
        assert!(k.apply(&put("x/1")).unwrap());
        assert!(k.apply(&put("x/2")).unwrap());
        assert!(k.apply(&del("x/", b"x0")).unwrap());
        assert_eq!(k.rev, 7);
        assert!(!k.apply(&del("\0", b"\0")).unwrap());
    }

    #[test]
    fn a_txn_bumps_once_for_its_chosen_branch() {
        let mut k = ks();
        k.apply(&put("a")).unwrap();
        // if version("a") == 1 then put b, put c else delete z
        let op = |r| RequestOp { request: Some(r) };
        let t = |want: i64| InternalRaftRequest {
            txn: Some(TxnRequest {
                compare: vec![Compare {
                    result: 0,
                    target: 0,
                    key: b"a".to_vec().into(),
                    target_union: Some(TargetUnion::Version(want)),
                    range_end: Default::default(),
                }],
                success: vec![
                    op(Op::RequestPut(PutRequest {
                        key: b"b".to_vec().into(),
                        ..Default::default()
                    })),
                    op(Op::RequestPut(PutRequest {
                        key: b"c".to_vec().into(),
                        ..Default::default()
                    })),
                ],
                failure: vec![op(Op::RequestDeleteRange(DeleteRangeRequest {
                    key: b"z".to_vec().into(),
                    ..Default::default()
                }))],
            }),
            ..Default::default()
        };
        assert!(k.apply(&t(1)).unwrap());
        assert_eq!(k.rev, 3);
        assert!(!k.apply(&t(5)).unwrap(), "failure branch deletes nothing");
        assert_eq!(k.rev, 3);
        assert_eq!(k.get(b"c").unwrap().unwrap().create_revision, 3);
    }

    #[test]
    fn leases_gate_puts_and_revoke_deletes_attached_keys() {
        let mut k = ks();
        let mut p = put("l");
        p.put.as_mut().unwrap().lease = 7;
        assert!(!k.apply(&p).unwrap(), "lease 7 does not exist");
        let grant = InternalRaftRequest {
            lease_grant: Some(LeaseGrantRequest { id: 7, ttl: 60 }),
            ..Default::default()
        };
        assert!(!k.apply(&grant).unwrap());
        assert!(k.apply(&p).unwrap());
        let revoke = InternalRaftRequest {
            lease_revoke: Some(LeaseRevokeRequest { id: 7 }),
            ..Default::default()
        };
        assert!(k.apply(&revoke).unwrap());
        assert!(k.get(b"l").unwrap().is_none());
        assert!(!k.apply(&revoke).unwrap());
    }
}
