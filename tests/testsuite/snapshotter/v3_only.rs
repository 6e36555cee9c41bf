//! A snap folder as etcd main writes it (PR #22263: no v2 `.snap`, only `.snap.db` files and
//! `db`), made from the real etcd 3.4.23 follower folder without its `.snap`: listed clean,
//! nothing renamed, `Load` is etcd's `ErrNoSnapshot` (snapshotter.go `snapNames` at main
//! c34dc7ee0, which main's bootstrap never calls: e74bb6a0e).

use crate::support::snapshotter::{Env, fixtures, open};
use crate::support::{etcd_snap, names_in};
use etcd_snap::names::NameKind;
use etcd_snap::snapshotter::v3_only_folder;
use etcd_snap::{Error, Snapshotter};

const DB: &str = "00000000000015c5.snap.db";

fn main_style<E: Env>(env: &E) {
    let db = std::fs::read(fixtures().join("cluster/follower-snap").join(DB)).unwrap();
    env.put(DB, &db);
    env.put("db", &db);
}

async fn main_folder_is_not_broken<E: Env>(env: E) {
    main_style(&env);
    let before = env.names();
    let ss = open(&env).await;
    let list = ss.list().await.unwrap();
    let kinds: Vec<(String, NameKind)> = list.iter().map(|f| (f.name.clone(), f.kind)).collect();
    assert_eq!(
        kinds,
        [
            (DB.to_owned(), NameKind::Db(0x15c5)),
            ("db".to_owned(), NameKind::LiveDb)
        ]
    );
    assert!(list.iter().all(|f| f.verdict.is_none()), "{list:?}");
    assert!(v3_only_folder(list.iter().map(|f| f.name.as_str())));
    assert!(matches!(ss.load().await, Err(Error::NoSnapshot)));
    // The received db is still found by its index, and nothing was renamed or removed.
    assert!(ss.db_file_path(0x15c5).await.unwrap().ends_with(DB));
    assert_eq!(env.names(), before);
    drop::<Snapshotter<_>>(ss);
}

crate::both_backends!(main_folder_is_not_broken);

#[test]
fn v3_only_needs_a_db_and_no_snap() {
    assert!(v3_only_folder(["db"]));
    assert!(v3_only_folder(["0000000000000010.snap.db", "db.tmp123"]));
    // A leftover .snap (an upgraded member): etcd 3.4-3.7 would read it, so not v3-only.
    assert!(!v3_only_folder([
        "db",
        "0000000000000002-00000000000015c5.snap"
    ]));
    assert!(!v3_only_folder(["x.snap.broken"]));
    assert!(!v3_only_folder([] as [&str; 0]));
}

#[test]
fn ls_lists_a_main_folder_with_ok_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let db = std::fs::read(fixtures().join("cluster/follower-snap").join(DB)).unwrap();
    std::fs::write(dir.path().join(DB), &db).unwrap();
    std::fs::write(dir.path().join("db"), &db).unwrap();
    let r = etcd_snap(["ls".as_ref(), dir.path().as_os_str()]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(!r.stdout.contains("broken"), "{}", r.stdout);
    let rows: Vec<&str> = r.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{}", r.stdout);
    assert!(
        rows.iter().all(|l| l.trim_end().ends_with(" ok")),
        "{}",
        r.stdout
    );
    assert_eq!(names_in(dir.path()), [DB, "db"]);
}
