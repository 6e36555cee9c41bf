//! `snapshot status` by storage version, against the crafted 3.6-style dbs of
//! tests/fixtures/etcd-3.6 (their README says how they and the expected numbers were made:
//! etcd v3.6.0's `Status` ported into a Go oracle over real bbolt, and etcd 3.5.16's etcdutl).

use std::path::PathBuf;

use etcd_snap::inspect::{Compat, Db, etcdctl};

use crate::support::{etcd_snap, fixtures};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/etcd-3.6")
}

fn open(name: &str) -> Db<Vec<u8>> {
    Db::open(std::fs::read(dir().join(name)).unwrap()).unwrap()
}

/// `(file, semantics, etcdutl -w json)` lines of expected-status.txt.
fn expected() -> Vec<(String, Compat, String)> {
    let text = std::fs::read_to_string(dir().join("expected-status.txt")).unwrap();
    let v: Vec<_> = text
        .lines()
        .map(|l| {
            let mut p = l.splitn(3, ' ');
            let (f, c, j) = (p.next().unwrap(), p.next().unwrap(), p.next().unwrap());
            (f.to_owned(), c.parse().unwrap(), j.to_owned())
        })
        .collect();
    assert_eq!(v.len(), 4);
    v
}

#[test]
fn status_as_each_etcd_equals_its_etcdutl() {
    for (file, compat, want) in expected() {
        let st = open(&file).status_as(compat).unwrap();
        assert_eq!(etcdctl::status_json(&st), want, "{file} as {compat:?}");
    }
}

#[test]
fn default_semantics_follow_the_storage_version() {
    let want = expected();
    let pick = |f: &str, c: Compat| {
        want.iter()
            .find(|(ff, cc, _)| ff == f && *cc == c)
            .unwrap()
            .2
            .clone()
    };
    // storageVersion 3.6.0: 3.6's numbers, with `version`.
    let db = open("storage-3.6.db");
    let sv = db.schema_version().unwrap();
    assert_eq!(sv.storage_version.as_deref(), Some("3.6.0"));
    assert_eq!(sv.compat, Compat::V3_6);
    assert_eq!(
        etcdctl::status_json(&db.status().unwrap()),
        pick("storage-3.6.db", Compat::V3_6)
    );
    // term + confState, no storageVersion: UnsafeDetectSchemaVersion's 3.5, 3.5's numbers.
    let db = open("fields-3.5.db");
    let sv = db.schema_version().unwrap();
    assert_eq!(
        (sv.storage_version, sv.detected.as_deref(), sv.compat),
        (None, Some("3.5.0"), Compat::V3_5)
    );
    assert_eq!(
        etcdctl::status_json(&db.status().unwrap()),
        pick("fields-3.5.db", Compat::V3_5)
    );
}

#[test]
fn etcd_34_db_is_undetected_and_keeps_34_numbers() {
    let d =
        std::fs::read(fixtures().join("cluster/follower-snap/00000000000015c5.snap.db")).unwrap();
    let db = Db::open(d).unwrap();
    let sv = db.schema_version().unwrap();
    assert_eq!(sv.detect_error, Some("missing confstate information"));
    assert_eq!(sv.compat, Compat::V3_4);
    assert_eq!(
        etcdctl::status_json(&db.status().unwrap()),
        r#"{"hash":2513690080,"revision":5565,"totalKey":269,"totalSize":57344}"#
    );
    // 3.6's etcdutl on the same db: the oracle's `status` prints
    // {"hash":2513690080,"revision":5565,"totalKey":261,"totalSize":57344,"version":""}.
    assert_eq!(
        etcdctl::status_json(&db.status_as(Compat::V3_6).unwrap()),
        r#"{"hash":2513690080,"revision":5565,"totalKey":261,"totalSize":57344,"version":""}"#
    );
}

#[test]
fn table_has_36s_version_column() {
    let st = open("storage-3.6.db").status().unwrap();
    assert_eq!(
        etcdctl::status_table(&st),
        "\
+----------+----------+------------+------------+---------+
|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE | VERSION |
+----------+----------+------------+------------+---------+
| 8c67e99a |     5569 |        261 |      66 kB |   3.6.0 |
+----------+----------+------------+------------+---------+
"
    );
}

#[test]
fn cli_compat_flag_chooses_the_semantics() {
    let f = dir().join("storage-3.6.db");
    let want = expected();
    for (flag, c) in [
        ("3.4", Compat::V3_4),
        ("3.5", Compat::V3_5),
        ("3.6", Compat::V3_6),
    ] {
        let r = etcd_snap([
            "status".as_ref(),
            "--compat".as_ref(),
            flag.as_ref(),
            f.as_os_str(),
        ]);
        assert_eq!(r.code, Some(0), "{r:?}");
        let line = &want
            .iter()
            .find(|(ff, cc, _)| {
                ff == "storage-3.6.db" && *cc == if c == Compat::V3_4 { Compat::V3_5 } else { c }
            })
            .unwrap()
            .2;
        assert_eq!(r.stdout.trim_end(), line, "--compat {flag}");
    }
    let r = etcd_snap([
        "status".as_ref(),
        "--compat".as_ref(),
        "3.7".as_ref(),
        f.as_os_str(),
    ]);
    assert_eq!(r.code, Some(2), "{r:?}");
}
