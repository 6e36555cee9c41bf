//! Paging through the key index, as the viewer lists keys: one page of the keys under a
//! prefix that come after a cursor key, each with what its stored revisions add up to.

use super::mvcc::{Event, Mvcc};
use super::source::PageSource;

/// Which page of keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPageQuery {
    /// Only keys starting with these bytes (empty: every key).
    pub prefix: Vec<u8>,
    /// Start after this key (the previous page's [`KeyPage::next`]).
    pub after: Option<Vec<u8>>,
    /// At most this many keys.
    pub limit: usize,
    /// Also count every key under `prefix` that passes the filters ([`KeyPage::total`];
    /// walks them all).
    pub count: bool,
    /// Only keys containing these bytes anywhere (a substring search, not only a prefix).
    pub contains: Option<Vec<u8>>,
    /// Only keys live at the current revision (hide deleted ones).
    pub live_only: bool,
    /// The order of the keys. Other than [`KeySort::Key`], the page is `offset` into the
    /// sorted list and `after` is not used (every matching key is visited).
    pub sort: KeySort,
    /// With a [`KeySort`] other than `Key`: skip this many keys of the sorted list.
    pub offset: usize,
}

/// How a page of keys is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeySort {
    /// Byte order of the keys (etcd's), paged by cursor.
    #[default]
    Key,
    /// Most bytes stored in the `key` bucket first (ties in key order).
    Bytes,
    /// Most stored revisions first (ties in key order).
    Revisions,
}

/// One key of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry<'a> {
    /// The key.
    pub key: &'a [u8],
    /// Stored revisions of it (deleted ones included).
    pub revisions: usize,
    /// Its newest revision is a put at or below the current revision.
    pub live: bool,
    /// Main revision of its newest stored revision (0 if none).
    pub last_revision: i64,
    /// Bytes its stored revisions take in the `key` bucket.
    pub bytes: u64,
}

/// A page of keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPage<'a> {
    /// The keys, in key order.
    pub keys: Vec<KeyEntry<'a>>,
    /// The cursor of the next page (the last key here), if more keys follow.
    pub next: Option<&'a [u8]>,
    /// With [`KeyPageQuery::count`]: how many keys are under the prefix.
    pub total: Option<usize>,
}

impl<S: PageSource> Mvcc<'_, S> {
    fn entry<'a>(&self, key: &'a [u8], events: &[Event]) -> KeyEntry<'a> {
        let current = self.current_revision();
        let newest = events.last();
        KeyEntry {
            key,
            revisions: events.len(),
            live: newest.is_some_and(|e| !e.tombstone && e.rev.main <= current),
            last_revision: newest.map_or(0, |e| e.rev.main),
            bytes: events.iter().map(|e| e.size).sum(),
        }
    }

    /// Keys under `q.prefix` from `start` that pass `q`'s filters, in key order.
    fn matching<'a>(
        &'a self,
        q: &KeyPageQuery,
        start: &[u8],
    ) -> impl Iterator<Item = KeyEntry<'a>> + 'a {
        let prefix = q.prefix.clone();
        let contains = q.contains.clone().filter(|c| !c.is_empty());
        let live_only = q.live_only;
        self.keys_from(start)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .filter(move |(k, _)| {
                contains
                    .as_deref()
                    .is_none_or(|c| k.windows(c.len()).any(|w| w == c))
            })
            .map(|(k, ev)| self.entry(k, ev))
            .filter(move |e| !live_only || e.live)
    }

    /// The page of keys `q` asks for.
    pub fn key_page(&self, q: &KeyPageQuery) -> KeyPage<'_> {
        let prefix = q.prefix.as_slice();
        if q.sort != KeySort::Key {
            let mut all: Vec<KeyEntry<'_>> = self.matching(q, prefix).collect();
            let total = all.len();
            match q.sort {
                KeySort::Bytes => all.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.key.cmp(b.key))),
                _ => all.sort_by(|a, b| b.revisions.cmp(&a.revisions).then(a.key.cmp(b.key))),
            }
            let keys: Vec<KeyEntry<'_>> = all.into_iter().skip(q.offset).take(q.limit).collect();
            return KeyPage {
                keys,
                next: None,
                total: Some(total),
            };
        }
        let start = match &q.after {
            // The smallest key greater than `after`.
            Some(a) if a.as_slice() >= prefix => {
                let mut s = a.clone();
                s.push(0);
                s
            }
            _ => prefix.to_vec(),
        };
        let mut keys = Vec::new();
        let mut more = false;
        for e in self.matching(q, &start) {
            if keys.len() == q.limit {
                more = true;
                break;
            }
            keys.push(e);
        }
        let next = match (more, keys.last()) {
            (true, Some(k)) => Some(k.key),
            _ => None,
        };
        let total = q.count.then(|| self.matching(q, prefix).count());
        KeyPage { keys, next, total }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::KeyPageQuery;
    use crate::inspect::Db;

    const DB: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/etcd-3.4.23/cluster/follower-snap/00000000000015c5.snap.db"
    );

    /// Pages of 3, followed by their cursors, list every key under the prefix once, in
    /// order, with the totals the index gives.
    #[test]
    fn pages_cover_the_index_once() {
        let db = Db::open(std::fs::read(DB).unwrap()).unwrap();
        let m = db.mvcc().unwrap();
        for prefix in [&b""[..], b"/", b"k", b"\xff"] {
            let all: Vec<_> = m
                .keys_from(prefix)
                .take_while(|(k, _)| k.starts_with(prefix))
                .collect();
            if prefix.is_empty() {
                assert!(all.len() > 3, "the fixture spans pages");
            }
            let mut q = KeyPageQuery {
                prefix: prefix.to_vec(),
                after: None,
                limit: 3,
                count: true,
                ..Default::default()
            };
            let mut seen = Vec::new();
            loop {
                let page = m.key_page(&q);
                assert_eq!(page.total, Some(all.len()));
                assert!(page.keys.len() <= 3);
                for k in &page.keys {
                    let (key, events) = all[seen.len()];
                    assert_eq!(k.key, key);
                    assert_eq!(k.revisions, events.len());
                    assert_eq!(k.bytes, events.iter().map(|e| e.size).sum::<u64>());
                    assert_eq!(k.last_revision, events.last().map_or(0, |e| e.rev.main));
                    seen.push(k.key);
                }
                match page.next {
                    Some(n) => {
                        assert_eq!(Some(n), seen.last().copied());
                        q.after = Some(n.to_vec());
                    }
                    None => break,
                }
            }
            assert_eq!(seen.len(), all.len(), "prefix {prefix:?}");
        }
        let none = m.key_page(&KeyPageQuery {
            limit: 0,
            ..Default::default()
        });
        assert!(none.keys.is_empty());
        assert_eq!(none.total, None);
        assert_eq!(none.next, None);
    }

    /// A cursor before the prefix starts the page at the prefix.
    #[test]
    fn a_cursor_below_the_prefix_starts_at_the_prefix() {
        let db = Db::open(std::fs::read(DB).unwrap()).unwrap();
        let m = db.mvcc().unwrap();
        let q = |after: Option<&[u8]>| KeyPageQuery {
            prefix: b"/".to_vec(),
            after: after.map(<[u8]>::to_vec),
            limit: 5,
            count: false,
            ..Default::default()
        };
        assert_eq!(m.key_page(&q(Some(b"\x00"))), m.key_page(&q(None)));
    }

    /// Sorted by bytes or revisions, a page is a slice of every matching key in that order;
    /// `contains` finds keys by any substring and `live_only` hides deleted keys.
    #[test]
    fn sorts_and_filters() {
        use super::KeySort;
        let db = Db::open(std::fs::read(DB).unwrap()).unwrap();
        let m = db.mvcc().unwrap();
        let all = m.key_page(&KeyPageQuery {
            limit: usize::MAX,
            count: true,
            ..Default::default()
        });
        for sort in [KeySort::Bytes, KeySort::Revisions] {
            let key = |e: &super::KeyEntry<'_>| match sort {
                KeySort::Bytes => e.bytes,
                _ => e.revisions as u64,
            };
            let whole = m.key_page(&KeyPageQuery {
                limit: usize::MAX,
                sort,
                ..Default::default()
            });
            assert_eq!(whole.total, all.total);
            assert!(
                whole.keys.windows(2).all(|w| key(&w[0]) >= key(&w[1])),
                "{sort:?}"
            );
            let page = m.key_page(&KeyPageQuery {
                limit: 4,
                offset: 3,
                sort,
                ..Default::default()
            });
            assert_eq!(page.keys, whole.keys[3..7]);
        }
        let live = m.key_page(&KeyPageQuery {
            limit: usize::MAX,
            live_only: true,
            count: true,
            ..Default::default()
        });
        assert!(live.keys.iter().all(|k| k.live));
        assert_eq!(live.keys.len(), all.keys.iter().filter(|k| k.live).count());
        assert_eq!(live.total, Some(live.keys.len()));
        let needle = &all.keys[all.keys.len() / 2].key[2..5];
        let found = m.key_page(&KeyPageQuery {
            limit: usize::MAX,
            contains: Some(needle.to_vec()),
            ..Default::default()
        });
        let expect: Vec<_> = all
            .keys
            .iter()
            .filter(|k| k.key.windows(needle.len()).any(|w| w == needle))
            .collect();
        assert!(!expect.is_empty());
        assert_eq!(found.keys.iter().collect::<Vec<_>>(), expect);
    }
}
