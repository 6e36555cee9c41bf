//! `etcd-snap status` / `keys` against a real etcd (3.4.23 and 3.5.16) started here: a few
//! thousand keys (bulk transactions with sub-revisions, single puts, binary and UTF-8 keys, a
//! lease), deletes, a compaction, then `etcdctl snapshot save`. Our output must equal what
//! etcd reports on the same data: `snapshot status -w json|table` (etcdctl's in 3.4,
//! etcdutl's in 3.5), `get --prefix -w json`, `get --rev R`, `--limit`. Then etcd is stopped
//! and its live `member/snap/db` is checked the same way.

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

use crate::support::etcd::{Etcd, EtcdOptions, Version, per_version};
use crate::support::etcd_snap;
use serde_json::Value;

/// `etcdctl put KEY` with the value on stdin (binary-safe).
fn put_stdin(etcd: &Etcd, key: &str, value: &[u8]) {
    let mut child = etcd
        .ctl_command()
        .args(["put", key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("etcdctl");
    child.stdin.take().unwrap().write_all(value).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// One transaction of puts (etcdctl txn reads compares / success / failure from stdin).
fn txn_puts(etcd: &Etcd, kvs: &[(String, String)]) {
    let mut script = String::from("\n");
    for (k, v) in kvs {
        script.push_str(&format!("put {k} {v}\n"));
    }
    script.push_str("\n\n");
    let mut child = etcd
        .ctl_command()
        .args(["txn"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("etcdctl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).starts_with("SUCCESS"),
        "{out:?}"
    );
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("bad JSON ({e}): {s}"))
}

fn revision(etcd: &Etcd) -> i64 {
    json(&etcd.ctl(&["get", "x", "-w", "json"]))["header"]["revision"]
        .as_i64()
        .unwrap()
}

/// `snapshot status FILE -w FORMAT` of version `v` (offline, no server needed).
fn ctl_snapshot_status(v: Version, file: &Path, format: &str) -> String {
    let out = v
        .snapshot_status(file)
        .args(["-w", format])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn assert_status_equal(v: Version, file: &Path) {
    let theirs = json(&ctl_snapshot_status(v, file, "json"));
    let ours = etcd_snap(["status".as_ref(), file.as_os_str()]).json();
    assert_eq!(ours, theirs, "status of {}", file.display());
    let theirs = ctl_snapshot_status(v, file, "table");
    let ours = etcd_snap([
        "status".as_ref(),
        file.as_os_str(),
        "-w".as_ref(),
        "table".as_ref(),
    ]);
    assert_eq!(ours.ok(), theirs, "status table of {}", file.display());
}

/// Compares our `keys` with etcdctl's `get` JSON: kvs, count, more, header revision.
fn assert_keys_equal(theirs: &Value, ours: &Value, what: &str) {
    assert_eq!(ours["kvs"], theirs["kvs"], "{what}: kvs");
    assert_eq!(ours["count"], theirs["count"], "{what}: count");
    assert_eq!(ours["more"], theirs["more"], "{what}: more");
    assert_eq!(
        ours["header"]["revision"], theirs["header"]["revision"],
        "{what}: header revision"
    );
}

/// The queries compared, as (etcdctl get args, etcd-snap keys args).
fn queries(compacted: i64, mid: i64, current: i64) -> Vec<(Vec<String>, Vec<String>)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut q = vec![
        (s(&["", "--prefix"]), s(&[])),
        (s(&["bulk/01", "--prefix"]), s(&["--prefix", "bulk/01"])),
        (
            s(&["bulk/", "--prefix", "--limit", "7"]),
            s(&["--prefix", "bulk/", "--limit", "7"]),
        ),
        (s(&["single/", "--prefix"]), s(&["--prefix", "single/"])),
        (s(&["nothing/", "--prefix"]), s(&["--prefix", "nothing/"])),
    ];
    for rev in [compacted, compacted + 1, mid, current] {
        let r = rev.to_string();
        q.push((s(&["", "--prefix", "--rev", &r]), s(&["--rev", &r])));
        q.push((
            s(&["bulk/00", "--prefix", "--rev", &r]),
            s(&["--prefix", "bulk/00", "--rev", &r]),
        ));
    }
    q
}

per_version!(
    status_and_keys_equal_etcdctl,
    corrupt_db_gives_typed_cli_errors
);

fn status_and_keys_equal_etcdctl(v: Version) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let opts = EtcdOptions {
        version: v,
        ..EtcdOptions::default()
    };
    let etcd = Etcd::start(&data, &opts);

    // ~3000 keys in transactions of 120 puts: one main revision, 120 sub revisions each.
    for t in 0..25 {
        let kvs: Vec<(String, String)> = (0..120)
            .map(|i| {
                let n = t * 120 + i;
                (
                    format!("bulk/{n:05}"),
                    format!("v{n}-{}", "x".repeat(n % 37)),
                )
            })
            .collect();
        txn_puts(&etcd, &kvs);
    }
    // Single puts, updates, hostile bytes, a lease.
    for i in 0..40 {
        etcd.put(&format!("single/{i:03}"), &format!("first-{i}"));
    }
    put_stdin(
        &etcd,
        "bin/value",
        &[0, 1, 2, 0xff, 0xfe, b'\n', 0x1b, b'[', b'2', b'J'],
    );
    put_stdin(&etcd, "bin/ключ-🙂", "значение".as_bytes());
    etcd.put("bin/empty", "");
    // Values larger than a page: leaf pages with overflow pages.
    let big: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    put_stdin(&etcd, "big/one", &big);
    put_stdin(&etcd, "big/two", &big[..9000]);
    let lease = json(&etcd.ctl(&["lease", "grant", "3600", "-w", "json"]))["ID"]
        .as_i64()
        .unwrap();
    etcd.ctl(&[
        "put",
        "leased/a",
        "with-lease",
        "--lease",
        &format!("{lease:x}"),
    ]);
    for i in 0..40 {
        etcd.put(&format!("single/{i:03}"), &format!("second-{i}"));
    }
    let mid_before_compact = revision(&etcd);
    // Deletes: a range (one revision, many tombstones) and single keys.
    assert_eq!(etcd.ctl(&["del", "bulk/001", "--prefix"]).trim(), "100");
    for i in 0..10 {
        assert_eq!(etcd.del(&format!("single/{i:03}")), 1);
    }
    let compact_at = revision(&etcd) - 5;
    etcd.ctl(&["compact", &compact_at.to_string(), "--physical"]);
    // After the compaction: more history to read at older revisions.
    for i in 10..30 {
        etcd.put(&format!("single/{i:03}"), &format!("third-{i}"));
    }
    let mid = revision(&etcd);
    for i in 0..10 {
        etcd.put(&format!("single/{i:03}"), &format!("reborn-{i}"));
    }
    assert_eq!(etcd.ctl(&["del", "bulk/0020", "--prefix"]).trim(), "10");
    let current = revision(&etcd);
    assert!(mid_before_compact < compact_at && compact_at < mid && mid < current);

    // What the server says, before anything else can change it.
    let qs = queries(compact_at, mid, current);
    let expected: Vec<Value> = qs
        .iter()
        .map(|(ctl, _)| {
            let mut args = vec!["get"];
            args.extend(ctl.iter().map(String::as_str));
            args.extend(["-w", "json"]);
            json(&etcd.ctl(&args))
        })
        .collect();
    // The comparisons below are not vacuous: all keys, a page of 7 with more, history.
    assert_eq!(expected[0]["count"], 3000 - 100 - 10 + 40 + 4 + 2);
    assert_eq!(expected[2]["kvs"].as_array().unwrap().len(), 7);
    assert_eq!(expected[2]["more"], true);
    assert!(expected[4].get("kvs").is_none());
    let compacted_err = etcd.ctl_raw(&[
        "get",
        "",
        "--prefix",
        "--rev",
        &(compact_at - 1).to_string(),
    ]);
    assert!(
        String::from_utf8_lossy(&compacted_err.stderr)
            .contains("mvcc: required revision has been compacted"),
        "{compacted_err:?}"
    );

    // Members as the server lists them, then auth (users, roles; does not move the kv
    // revision), so the auth buckets are in the hash too.
    let members = json(&etcd.ctl(&["member", "list", "-w", "json"]));
    let status = json(&etcd.ctl(&["endpoint", "status", "-w", "json"]));
    let raft_term = status[0]["Status"]["header"]["raft_term"].as_u64().unwrap();
    for args in [
        &["user", "add", "root", "--new-user-password", "pw"][..],
        &["role", "add", "root"],
        &["user", "grant-role", "root", "root"],
        &["role", "add", "reader"],
        &["role", "grant-permission", "reader", "read", "/a", "/b"],
        &["user", "add", "alice", "--new-user-password", "pw2"],
        &["user", "grant-role", "alice", "reader"],
        &["auth", "enable"],
    ] {
        etcd.ctl(args);
    }

    // `etcdctl snapshot save`: a db with a sha256 trailer.
    let saved = tmp.path().join("saved.db");
    etcd.ctl(&[
        "--user",
        "root:pw",
        "snapshot",
        "save",
        saved.to_str().unwrap(),
    ]);
    let check = |db: &Path, label: &str| {
        assert_status_equal(v, db);
        for ((_, ours_args), theirs) in qs.iter().zip(&expected) {
            let mut args = vec!["keys".to_string(), db.to_str().unwrap().to_string()];
            args.extend(ours_args.iter().cloned());
            let ours = etcd_snap(&args).json();
            assert_keys_equal(theirs, &ours, &format!("{label} keys {ours_args:?}"));
        }
        let e = etcd_snap([
            "keys",
            db.to_str().unwrap(),
            "--rev",
            &(compact_at - 1).to_string(),
        ]);
        assert_eq!(e.err(), "mvcc: required revision has been compacted");
        let e = etcd_snap([
            "keys",
            db.to_str().unwrap(),
            "--rev",
            &(current + 1).to_string(),
        ]);
        assert_eq!(e.err(), "mvcc: required revision is a future revision");
    };
    check(&saved, "snapshot save");
    assert_eq!(
        std::fs::metadata(&saved).unwrap().len() % 512,
        32,
        "sha256 trailer"
    );

    // The library view of the same file: lease, members, meta, history.
    let db = etcd_snap::inspect::Db::open(std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(db.trailer(), etcd_snap::inspect::Trailer::Verified);
    let info = db.cluster_info().unwrap();
    assert_eq!(info.leases.len(), 1);
    assert_eq!(info.leases[0].id, lease);
    let theirs = &members["members"][0];
    assert_eq!(info.members.len(), 1);
    assert_eq!(
        info.members[0].id,
        format!("{:x}", theirs["ID"].as_u64().unwrap())
    );
    assert_eq!(info.members[0].name, theirs["name"].as_str().unwrap());
    assert_eq!(info.members[0].peer_urls, [etcd.peer_url.as_str()]);
    // 3.5 never stores a member's client URLs in the db: the member's record is written once,
    // by AddMember ({id, peerURLs, name}: etcd v3.5.16 server/etcdserver/api/membership/
    // member.go:79-89), and UpdateAttributes' later save is refused because the key exists
    // (etcd v3.5.16 server/etcdserver/api/membership/store.go:47-62). 3.4 overwrites the
    // record (etcd etcdserver/api/membership/store.go:46-57).
    let client_urls: &[&str] = match v {
        Version::V3_4 => &[etcd.client_url.as_str()],
        Version::V3_5 => &[],
    };
    assert_eq!(info.members[0].client_urls, client_urls);
    assert!(
        info.cluster_version
            .as_deref()
            .unwrap()
            .starts_with(v.minor())
    );
    assert!(info.auth.enabled);
    let users: Vec<(&str, Vec<String>)> = info
        .auth
        .users
        .iter()
        .map(|u| (u.name.as_str(), u.roles.clone()))
        .collect();
    assert_eq!(
        users,
        [
            ("alice", vec!["reader".to_string()]),
            ("root", vec!["root".to_string()])
        ]
    );
    assert_eq!(info.auth.roles, ["reader", "root"]);
    assert_eq!(info.meta.finished_compact_revision, Some(compact_at));
    assert!(info.meta.consistent_index.unwrap() > 0);
    // 3.5 also keeps the term of the consistent index and the ConfState in `meta` (etcd v3.5.16
    // server/mvcc/buckets/bucket.go:71, server/etcdserver/api/membership/confstate.go:31-39);
    // 3.4 has neither.
    match v {
        Version::V3_4 => {
            assert_eq!(info.meta.term, None);
            assert_eq!(info.meta.conf_state, None);
        }
        Version::V3_5 => {
            assert_eq!(info.meta.term, Some(raft_term));
            let cs = json(info.meta.conf_state.as_deref().expect("meta confState"));
            assert_eq!(cs["voters"], serde_json::json!([theirs["ID"]]), "{cs}");
        }
    }
    let key_bucket = db
        .buckets()
        .unwrap()
        .into_iter()
        .find(|b| b.name == b"key")
        .unwrap();
    assert!(
        key_bucket.pages.overflow > 0 && key_bucket.pages.branch > 0,
        "{key_bucket:?}"
    );
    let mvcc = db.mvcc().unwrap();
    let big_kv = mvcc
        .range(&etcd_snap::inspect::RangeQuery::prefix(b"big/one"))
        .unwrap();
    assert_eq!(big_kv.kvs[0].value, big);
    let hist = mvcc.history(b"single/005");
    // Compaction kept the newest revision at or below compact_at (the tombstone is dropped
    // only if it was the newest), then the reborn put.
    assert!(
        hist.last()
            .is_some_and(|e| !e.tombstone && e.rev.main > mid)
    );

    // The live db of the stopped server (no trailer), checked against the same answers.
    etcd.stop();
    let live = tmp.path().join("live.db");
    std::fs::copy(data.join("member/snap/db"), &live).unwrap();
    check(&live, "member/snap/db");
}

fn corrupt_db_gives_typed_cli_errors(v: Version) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/etcd-3.4.23/cluster/follower-snap/00000000000015c5.snap.db");
    let good = std::fs::read(&fixture).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let status = |p: &Path| etcd_snap(["status".as_ref(), p.as_os_str()]);

    // Both metas bad: bbolt's "checksum error"; one bad: the other one is used.
    let mut both = good.clone();
    both[16 + 24] ^= 1;
    both[4096 + 16 + 24] ^= 1;
    let r = status(&write("both-meta.db", &both));
    assert!(r.err().starts_with("checksum error"), "{r:?}");
    let mut one = good.clone();
    one[4096 + 16 + 24] ^= 1;
    assert_eq!(
        status(&write("one-meta.db", &one)).json()["hash"],
        2513690080u32
    );

    // Truncated: bbolt reads what is left as long as nothing past the end is reached, and
    // etcdctl reports it; so do we, with a warning (issue 9, item 10).
    let cut = write("truncated.db", &good[..good.len() - 8192]);
    let r = status(&cut);
    let etcdctl = v
        .snapshot_status(&cut)
        .args(["-w", "json"])
        .output()
        .unwrap();
    if etcdctl.status.success() {
        assert_eq!(r.json(), json(&String::from_utf8(etcdctl.stdout).unwrap()));
        assert!(
            r.stderr.starts_with("warning: ") && r.stderr.contains("truncated"),
            "{r:?}"
        );
    } else {
        r.err();
    }
    let r = status(&write("tiny.db", &good[..100]));
    assert!(r.err().contains("too small"), "{r:?}");

    // Flipped bytes in a page: an element offset of the key bucket's root points outside.
    let db = etcd_snap::inspect::Db::open(good.clone()).unwrap();
    let bolt = db.bolt();
    let key_root = bolt
        .bucket(&bolt.root(), b"key")
        .unwrap()
        .unwrap()
        .header
        .root as usize;
    let mut flipped = good.clone();
    flipped[key_root * 4096 + 16 + 4..key_root * 4096 + 16 + 8].fill(0xff);
    let p = write("flipped.db", &flipped);
    let r = status(&p);
    assert!(r.err().contains(&format!("page {key_root}:")), "{r:?}");
    let r = etcd_snap(["keys".as_ref(), p.as_os_str()]);
    assert!(r.err().starts_with(&format!("page {key_root}:")), "{r:?}");

    // sha256 trailer that does not match.
    let mut trailer = good.clone();
    trailer.extend_from_slice(&[7u8; 32]);
    let p = write("trailer.db", &trailer);
    let r = status(&p);
    assert!(r.err().starts_with("expected sha256 070707"), "{r:?}");
    let r = etcd_snap([
        "status".as_ref(),
        p.as_os_str(),
        "--skip-hash-check".as_ref(),
    ]);
    assert_eq!(r.json()["revision"], 5565);

    // Not a file at all.
    let r = status(&tmp.path().join("missing.db"));
    assert!(r.err().contains("no such file or directory"), "{r:?}");
}
