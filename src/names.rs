//! File names in a snap directory, exactly as etcd forms and matches them.

/// `.snap`: the suffix `snapNames` keeps.
pub const SNAP_SUFFIX: &str = ".snap";
/// `.snap.db`: received database snapshots.
pub const DB_SUFFIX: &str = ".snap.db";
/// `.broken`: appended by `Load` to unreadable snapshots.
pub const BROKEN_SUFFIX: &str = ".broken";
/// Prefix of `SaveDBFrom` temp files (and etcd-snap's own atomic-writer temp files), removed by
/// etcd at startup and by etcd-snap when a folder is opened.
pub const TMP_PREFIX: &str = "tmp";
/// Prefix of bbolt defrag leftovers, removed by every etcd directory scan.
pub const DB_TMP_PREFIX: &str = "db.tmp";
/// The live backend file; the only non-snap name etcd's scan does not warn about.
pub const LIVE_DB: &str = "db";

/// `%016x-%016x.snap`.
pub fn snap_name(term: u64, index: u64) -> String {
    format!("{term:016x}-{index:016x}{SNAP_SUFFIX}")
}

/// `%016x.snap.db`.
pub fn db_name(index: u64) -> String {
    format!("{index:016x}{DB_SUFFIX}")
}

/// `<name>.broken`: what `Load` renames an unreadable `.snap` to.
pub fn broken_name(name: &str) -> String {
    format!("{name}{BROKEN_SUFFIX}")
}

/// Parses a well-formed `%016x-%016x.snap` name into `(term, index)`. etcd itself never
/// parses `.snap` names (it sorts strings); this is for display and listings.
pub fn parse_snap_name(name: &str) -> Option<(u64, u64)> {
    let stem = name.strip_suffix(SNAP_SUFFIX)?;
    let (t, i) = stem.split_once('-')?;
    if t.len() != 16 || i.len() != 16 || !is_lower_hex(t) || !is_lower_hex(i) {
        return None;
    }
    Some((
        u64::from_str_radix(t, 16).ok()?,
        u64::from_str_radix(i, 16).ok()?,
    ))
}

/// Parses a `.snap.db` name as `ReleaseSnapDBs` does: `strconv.ParseUint(s, 16, 64)` of the
/// stem, so any length and either case, as long as it fits 64 bits.
pub fn parse_db_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(DB_SUFFIX)?;
    if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(stem, 16).ok()
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What a directory entry is, by name alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// Ends in `.snap` (well-formed or not): considered by `Load`.
    Snap,
    /// A `%x.snap.db` name `ReleaseSnapDBs` can parse.
    Db(u64),
    /// Ends in `.broken`.
    Broken,
    /// `db.tmp*`: a defrag leftover, deleted by every scan.
    DbTmp,
    /// `tmp*`: a temp file, deleted when a folder is opened.
    Tmp,
    /// `db`: the live backend.
    LiveDb,
    /// Anything else (etcd warns and skips).
    Other,
}

impl NameKind {
    /// The kind as the CLIs' `ls` and the JS `list()` print it.
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Snap => "snap",
            NameKind::Db(_) => "db",
            NameKind::Broken => "broken",
            NameKind::DbTmp => "db.tmp",
            NameKind::Tmp => "tmp",
            NameKind::LiveDb => "live-db",
            NameKind::Other => "other",
        }
    }
}

/// Classifies a name the way etcd's scans and cleanups would treat it.
pub fn classify(name: &str) -> NameKind {
    if name.starts_with(DB_TMP_PREFIX) {
        NameKind::DbTmp
    } else if name.ends_with(SNAP_SUFFIX) {
        NameKind::Snap
    } else if let Some(i) = parse_db_name(name) {
        NameKind::Db(i)
    } else if name.ends_with(BROKEN_SUFFIX) {
        NameKind::Broken
    } else if name.starts_with(TMP_PREFIX) {
        NameKind::Tmp
    } else if name == LIVE_DB {
        NameKind::LiveDb
    } else {
        NameKind::Other
    }
}

/// etcd's `snapNames` order: `.snap` names only, byte-wise descending.
pub fn snap_names_newest_first<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = names
        .into_iter()
        .filter(|n| n.ends_with(SNAP_SUFFIX))
        .map(str::to_owned)
        .collect();
    v.sort_unstable_by(|a, b| b.as_bytes().cmp(a.as_bytes()));
    v
}

/// The names etcd's `Load` tries, in its order: [`snap_names_newest_first`] of the names left
/// once `snapNames` has removed the `db.tmp*` leftovers (etcd 3.4.23
/// `etcdserver/api/snap/snapshotter.go:236`).
pub fn load_candidates<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    snap_names_newest_first(names.into_iter().filter(|n| !n.starts_with(DB_TMP_PREFIX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_format_as_etcd() {
        assert_eq!(snap_name(1, 1), "0000000000000001-0000000000000001.snap");
        assert_eq!(
            snap_name(u64::MAX, 1 << 40),
            "ffffffffffffffff-0000010000000000.snap"
        );
        assert_eq!(db_name(42), "000000000000002a.snap.db");
        assert_eq!(broken_name("x.snap"), "x.snap.broken");
    }

    #[test]
    fn db_names_parse_like_strconv_parseuint() {
        assert_eq!(parse_db_name("1.snap.db"), Some(1));
        assert_eq!(parse_db_name("0000000000000063.snap.db"), Some(0x63));
        assert_eq!(parse_db_name("FFFFFFFFFFFFFFFF.snap.db"), Some(u64::MAX));
        assert_eq!(parse_db_name("zz.snap.db"), None);
        assert_eq!(parse_db_name(".snap.db"), None);
        assert_eq!(parse_db_name("10000000000000000.snap.db"), None);
        assert_eq!(parse_db_name("+1.snap.db"), None);
    }

    #[test]
    fn snap_names_sort_bytewise_descending() {
        let names = [
            "1.snap",
            "3.snap",
            "2.snap",
            "x.snap.db",
            "5.snap",
            "4.snap",
            "db",
        ];
        assert_eq!(
            snap_names_newest_first(names),
            ["5.snap", "4.snap", "3.snap", "2.snap", "1.snap"]
        );
    }

    #[test]
    fn load_candidates_skip_db_tmp_leftovers() {
        let names = ["a.snap", "db.tmp.1.snap", "b.snap", "b.snap.broken", "db"];
        assert_eq!(load_candidates(names), ["b.snap", "a.snap"]);
        // Byte order, not UTF-16 order: U+10000 (F0 ..) sorts after U+FF21 (EF ..).
        assert_eq!(
            load_candidates(["\u{ff21}.snap", "\u{10000}.snap"]),
            ["\u{10000}.snap", "\u{ff21}.snap"]
        );
    }

    #[test]
    fn classify_matches_etcd_prefix_rules() {
        assert_eq!(classify("db.tmp.123"), NameKind::DbTmp);
        assert_eq!(classify("tmp12345"), NameKind::Tmp);
        assert_eq!(classify("db"), NameKind::LiveDb);
        assert_eq!(classify("sub.snap"), NameKind::Snap);
        assert_eq!(classify("000000000000000a.snap.db"), NameKind::Db(10));
        assert_eq!(classify("x.snap.broken"), NameKind::Broken);
        assert_eq!(classify("zz.snap.db"), NameKind::Other);
    }
}
