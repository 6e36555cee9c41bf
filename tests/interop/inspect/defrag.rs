//! `etcd-snap defrag` against real etcd (3.4.23 and 3.5.16): a db fragmented by etcd itself
//! (14,000 keys in transactions, values up to 8 KiB, each overwritten three times, a range
//! delete, a physical compaction), saved with `etcdctl snapshot save`, then defragmented online by
//! `etcdctl defrag` and offline by us. Our copy has the tree of etcd's (bbolt's
//! `Bucket.Stats()` equal), its size within a few pages, the same content and `status` hash;
//! and etcd, started on a data dir whose db is our copy, serves every key at the same
//! revision with the same `endpoint hashkv`.

use std::ffi::OsStr;
use std::path::Path;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::doctor_cases::Gateway;
use crate::support::etcd::{Etcd, EtcdOptions, Version, per_version};
use crate::support::etcd_snap;

per_version!(defrag_gives_etcds_tree_and_etcd_serves_the_copy);

fn b64(b: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn key(i: u64) -> String {
    format!("k/{i:05}")
}

/// Value `round` of key `i`: mostly short, every 37th over a page (overflow pages).
fn value(i: u64, round: u64) -> Vec<u8> {
    let n = if (i + round).is_multiple_of(37) {
        5000 + (i * 131) % 3000
    } else {
        10 + (i * 7 + round * 13) % 300
    };
    let mut v = format!("{i}/{round}/").into_bytes();
    v.resize(n as usize, b'a' + (i % 26) as u8);
    v
}

fn puts(gw: &mut Gateway, keys: impl Iterator<Item = u64>, round: u64) {
    let ops: Vec<Value> = keys
        .map(|i| json!({"request_put": {"key": b64(key(i)), "value": b64(value(i, round))}}))
        .collect();
    for chunk in ops.chunks(100) {
        gw.post_ok("/v3/kv/txn", &json!({"success": chunk}));
    }
}

/// Every key and the header revision, as `etcdctl get --from-key ""` gives them.
fn all_keys(etcd: &Etcd) -> (Value, Value) {
    let v: Value =
        serde_json::from_str(&etcd.ctl(&["get", "", "--from-key", "-w", "json"])).unwrap();
    (v["kvs"].clone(), v["header"]["revision"].clone())
}

fn hashkv(etcd: &Etcd) -> Value {
    let v: Value = serde_json::from_str(&etcd.ctl(&["endpoint", "hashkv", "-w", "json"])).unwrap();
    v[0]["HashKV"]["hash"].clone()
}

fn oracle_verify(file: &Path, reference: &Path) -> Value {
    let bin = crate::support::go::oracle("bbolt_oracle");
    let out = std::process::Command::new(bin)
        .args([
            OsStr::new("verify"),
            file.as_os_str(),
            reference.as_os_str(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn defrag_gives_etcds_tree_and_etcd_serves_the_copy(v: Version) {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let opts = EtcdOptions {
        version: v,
        ..Default::default()
    };
    let etcd = Etcd::start(&data, &opts);
    let mut gw = Gateway::new(&etcd.client_url);
    puts(&mut gw, 0..14_000, 0);
    for round in 1..4 {
        puts(&mut gw, (0..14_000).map(|i| (i * 7919) % 14_000), round);
    }
    gw.post_ok(
        "/v3/kv/deleterange",
        &json!({"key": b64(key(0)), "range_end": b64(key(2_000))}),
    );
    let rev = gw.post_ok(
        "/v3/kv/put",
        &json!({"key": b64("last"), "value": b64("x")}),
    )["header"]["revision"]
        .as_str()
        .unwrap()
        .to_owned();
    gw.post_ok(
        "/v3/kv/compaction",
        &json!({"revision": rev, "physical": true}),
    );

    let saved = t.path().join("saved.db");
    etcd.ctl(&["snapshot", "save", saved.to_str().unwrap()]);
    let (kvs, revision) = all_keys(&etcd);
    assert!(kvs.as_array().unwrap().len() > 10_000);
    let hash = hashkv(&etcd);
    etcd.ctl(&["defrag"]);
    let status: Value =
        serde_json::from_str(&etcd.ctl(&["endpoint", "status", "-w", "json"])).unwrap();
    let etcd_size = status[0]["Status"]["dbSize"].as_u64().unwrap();
    etcd.stop();
    let etcds = t.path().join("etcd-defragged.db");
    std::fs::copy(data.join("member/snap/db"), &etcds).unwrap();

    let ours = t.path().join("ours.db");
    let report = etcd_snap([
        OsStr::new("defrag"),
        saved.as_os_str(),
        OsStr::new("--out"),
        ours.as_os_str(),
    ])
    .json();
    let size = report["after"]["totalSize"].as_u64().unwrap();
    let before = report["before"]["totalSize"].as_u64().unwrap();
    eprintln!(
        "etcd {}: fragmented {before} bytes, etcd's defrag {etcd_size}, ours {size}",
        v.release()
    );
    assert!(
        size * 2 < before,
        "{report}: the compaction freed most pages"
    );
    // etcd's copy keeps bbolt's init pages and the pages its last commit freed.
    assert!(
        size <= etcd_size && etcd_size - size <= 4 * 4096,
        "ours {size}, etcd's {etcd_size}"
    );
    let r = oracle_verify(&ours, &etcds);
    for list in ["check", "seek", "diff"] {
        assert_eq!(r[list], json!([]), "{list}: {r}");
    }
    assert_eq!(
        r["stats"],
        oracle_verify(&etcds, &ours)["stats"],
        "the tree of etcd's defrag"
    );
    let status = |p: &Path| etcd_snap([OsStr::new("status"), p.as_os_str()]).json();
    assert_eq!(status(&ours)["hash"], status(&saved)["hash"]);
    assert_eq!(status(&ours)["hash"], status(&etcds)["hash"]);

    // etcd started on our copy serves the same keys at the same revision.
    std::fs::copy(&ours, data.join("member/snap/db")).unwrap();
    let etcd = Etcd::start(&data, &opts);
    assert_eq!(all_keys(&etcd), (kvs, revision));
    assert_eq!(hashkv(&etcd), hash);
    etcd.stop();
}
