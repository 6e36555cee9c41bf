//! Interop with a live etcd (3.4.23 and 3.5.16; `.ci/setup` installs both): etcd writes
//! `.snap` files, the `etcd-snap` binary reads, loads and rewrites them byte for byte, and
//! etcd restarts on a snap folder whose files etcd-snap wrote and opened.

use std::path::Path;

use crate::support::etcd::{Etcd, EtcdOptions, Version, per_version};
use crate::support::{copy_dir, etcd_snap, names_in};

/// Small snapshot interval so a few dozen puts give several `.snap` files; no purge, so the
/// files stay put while the test looks at them.
fn opts(v: Version) -> EtcdOptions {
    EtcdOptions {
        snapshot_count: Some(20),
        max_snapshots: Some(0),
        version: v,
        ..EtcdOptions::default()
    }
}

fn key(i: usize) -> String {
    format!("/etcd-snap/k{i:04}")
}

fn value(i: usize) -> String {
    format!("v{i}-{}", "x".repeat(i % 37))
}

/// `read` of one file as JSON.
fn read_json(path: &Path) -> serde_json::Value {
    etcd_snap(["read".as_ref(), path.as_os_str()]).json()
}

per_version!(etcd_snap_reads_rewrites_and_hands_back_live_etcd_snapshots);

fn etcd_snap_reads_rewrites_and_hands_back_live_etcd_snapshots(version: Version) {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let etcd = Etcd::start(&data_dir, &opts(version));
    let (cluster_id, member_id) = etcd.ids();

    // ~130 raft entries with --snapshot-count 20: a snapshot about every 21 applied entries.
    let n = 120;
    for i in 0..n {
        etcd.put(&key(i), &value(i));
    }
    etcd.put("/etcd-snap/ключ", "значение");
    assert_eq!(etcd.del(&key(7)), 1);
    let snaps = etcd.wait_snap_files(4);
    let snap_dir = etcd.snap_dir();
    etcd.stop();
    // After a graceful stop the set is final.
    let snaps_after_stop = names_in(&snap_dir)
        .into_iter()
        .filter(|n| n.ends_with(".snap"))
        .collect::<Vec<_>>();
    assert!(
        snaps_after_stop.len() >= snaps.len(),
        "{snaps_after_stop:?}"
    );
    let snaps = snaps_after_stop;
    eprintln!("etcd wrote {snaps:?}");

    // 1. Every .snap reads, its metadata matches its name, and the voter is the member.
    let mut summaries = Vec::new();
    for name in &snaps {
        let (term, index) = etcd_snap::names::parse_snap_name(name).expect("etcd's name format");
        let v = read_json(&snap_dir.join(name));
        assert_eq!(
            (v["term"].as_u64(), v["index"].as_u64()),
            (Some(term), Some(index)),
            "{name}"
        );
        assert_eq!(
            v["conf_state"]["voters"],
            serde_json::json!([member_id]),
            "{name}"
        );
        assert_eq!(v["data_nil"], false);
        summaries.push((name.clone(), v));
    }
    // 3.4 and 3.5 keep the v2 store as JSON in Data.
    let newest = snaps.iter().max().unwrap();
    let bytes = std::fs::read(snap_dir.join(newest)).unwrap();
    let snap = etcd_snap::codec::decode_snap_file(bytes.into()).unwrap();
    let v2: serde_json::Value = serde_json::from_slice(snap.data.as_deref().unwrap())
        .expect("etcd 3.4 / 3.5 .snap data is the v2 store JSON");
    assert!(v2.is_object());

    // 2. ls agrees: every .snap is ok.
    let ls = etcd_snap([
        "ls".as_ref(),
        snap_dir.as_os_str(),
        "-w".as_ref(),
        "json".as_ref(),
    ])
    .json();
    let ls_snaps: Vec<(&str, &str)> = ls
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "snap")
        .map(|r| (r["name"].as_str().unwrap(), r["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ls_snaps,
        snaps.iter().map(|n| (n.as_str(), "ok")).collect::<Vec<_>>()
    );

    // 3. Load (on a copy) is the newest by name.
    let copy = copy_dir(&snap_dir, &tmp.path().join("copy"));
    let loaded = etcd_snap(["load".as_ref(), copy.as_os_str()]).json();
    let newest_summary = &summaries.iter().find(|(n, _)| n == newest).unwrap().1;
    assert_eq!(&loaded, newest_summary);

    // 4. read -> save into another folder is byte-identical for every file.
    let rewritten = tmp.path().join("rewritten");
    std::fs::create_dir(&rewritten).unwrap();
    for name in &snaps {
        let original = std::fs::read(snap_dir.join(name)).unwrap();
        let snap = etcd_snap::codec::decode_snap_file(original.clone().into()).unwrap();
        let data_file = tmp.path().join("payload");
        std::fs::write(&data_file, snap.data.as_deref().unwrap()).unwrap();
        let m = &snap.metadata;
        let voters: Vec<String> = m.conf_state.voters.iter().map(u64::to_string).collect();
        assert!(m.conf_state.learners.is_empty());
        etcd_snap([
            "save",
            rewritten.to_str().unwrap(),
            &m.term.to_string(),
            &m.index.to_string(),
            data_file.to_str().unwrap(),
            "--voters",
            &voters.join(","),
        ])
        .ok();
        assert_eq!(
            std::fs::read(rewritten.join(name)).unwrap(),
            original,
            "{name}"
        );
    }

    // 5. Hand etcd a folder that etcd-snap wrote and opened: our files replace etcd's, a junk
    //    newest .snap and a stale temp file are added, and `load` (with lock and cleanup)
    //    quarantines the junk and removes the temp file.
    for name in &snaps {
        std::fs::remove_file(snap_dir.join(name)).unwrap();
        std::fs::copy(rewritten.join(name), snap_dir.join(name)).unwrap();
    }
    let junk = "ffffffffffffffff-ffffffffffffffff.snap";
    std::fs::write(snap_dir.join(junk), b"not a snapshot").unwrap();
    std::fs::write(snap_dir.join("tmp1234567"), b"interrupted").unwrap();
    let loaded = etcd_snap(["load".as_ref(), snap_dir.as_os_str()]).json();
    assert_eq!(&loaded, newest_summary);
    let names = names_in(&snap_dir);
    assert!(names.contains(&format!("{junk}.broken")), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("tmp")), "{names:?}");

    // 6. etcd restarts on it, recovers from our newest snapshot, and serves the same keys.
    let etcd = Etcd::start(&data_dir, &opts(version));
    assert_eq!(etcd.ids(), (cluster_id, member_id));
    let newest_index = newest_summary["index"].as_u64().unwrap();
    let log = etcd.this_log();
    eprintln!("etcd restarted from snapshot index {newest_index}");
    assert!(
        log.contains("recovered v2 store from snapshot")
            && log.contains(&format!("\"snapshot-index\":{newest_index}")),
        "etcd did not recover from snapshot {newest_index}:\n{log}"
    );
    let mut want: Vec<(String, String)> = (0..n)
        .filter(|&i| i != 7)
        .map(|i| (key(i), value(i)))
        .collect();
    want.push(("/etcd-snap/ключ".into(), "значение".into()));
    want.sort();
    assert_eq!(etcd.get_prefix("/etcd-snap/"), want);
    assert_eq!(etcd.get(&key(7)), None);

    // 7. It keeps going on top of our files: more puts, a newer snapshot, which we load.
    let before = etcd.snap_files().len();
    for i in n..n + 30 {
        etcd.put(&key(i), &value(i));
    }
    etcd.wait_snap_files(before + 1);
    etcd.stop();
    let after = etcd_snap(["load".as_ref(), snap_dir.as_os_str()]).json();
    assert!(after["index"].as_u64().unwrap() > newest_index, "{after}");
    assert_eq!(
        after["conf_state"]["voters"],
        serde_json::json!([member_id])
    );
    // etcd renamed nothing of ours.
    let broken: Vec<String> = names_in(&snap_dir)
        .into_iter()
        .filter(|n| n.ends_with(".broken"))
        .collect();
    assert_eq!(broken, [format!("{junk}.broken")]);
}
