//! `etcd-snap wal` and `etcd-snap doctor` over a real etcd 3.4.23 data dir
//! (tests/fixtures/member-3.4.23, made by its make.sh) and faulted copies of it: the printed
//! text and the exit status a user relies on.

use std::path::{Path, PathBuf};

use crate::support::etcd_snap;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/member-3.4.23/data")
}

const SEGMENT: &str = "member/wal/0000000000000000-0000000000000000.wal";

/// A writable copy of the fixture data dir.
fn copy() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let dst = t.path().join("data");
    for sub in ["member/snap", "member/wal"] {
        std::fs::create_dir_all(dst.join(sub)).unwrap();
        for e in std::fs::read_dir(data_dir().join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join(sub).join(e.file_name())).unwrap();
        }
    }
    (t, dst)
}

/// Flips one byte of the value `value 55` in the WAL: the record still unmarshals, its CRC no
/// longer matches.
fn flip_value(dir: &Path) {
    let p = dir.join(SEGMENT);
    let mut b = std::fs::read(&p).unwrap();
    let at = b.windows(8).position(|w| w == b"value 55").unwrap();
    b[at + 7] ^= 0x01;
    std::fs::write(&p, b).unwrap();
}

fn s<P: AsRef<Path>>(p: P) -> String {
    p.as_ref().display().to_string()
}

const HEAD: &str = "Snapshot:
term=2 index=63 nodes=[8e2b90bc12f1b3bb] confstate={\"voters\":[10244440914830406587],\"auto_leave\":false}
Start dumping log entries from snapshot.
WAL metadata:
nodeID=8e2b90bc12f1b3bb clusterID=e965cffd5be85258 term=2 commitIndex=67 vote=8e2b90bc12f1b3bb
WAL entries:
lastIndex=67
term\t     index\ttype\tdata
";

#[test]
fn wal_table_is_etcd_dump_logs_layout() {
    let out = etcd_snap(["wal".into(), s(data_dir())]).ok().to_owned();
    assert!(out.starts_with(HEAD), "{out}");
    let body = &out[HEAD.len()..];
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 4 + 2, "{body}");
    assert!(
        lines[0].starts_with("   2\t        64\tnorm\theader:<ID:"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with("put:<key:\"/app/k55\" value:\"value 55\" > "),
        "{}",
        lines[0]
    );
    assert_eq!(lines[4], "");
    assert_eq!(lines[5], "Entry types (Normal,ConfigChange) count is : 4");
}

#[test]
fn wal_accepts_data_dir_member_and_wal_folder() {
    let a = etcd_snap(["wal".into(), s(data_dir())]).ok().to_owned();
    let b = etcd_snap(["wal".into(), s(data_dir().join("member"))])
        .ok()
        .to_owned();
    let c = etcd_snap(["wal".into(), s(data_dir().join("member/wal"))])
        .ok()
        .to_owned();
    assert_eq!(a, b);
    assert_eq!(a, c);
    let r = etcd_snap(["wal".into(), s(data_dir().join("member/snap"))]);
    assert!(
        r.err()
            .ends_with("not a data dir (no member, snap or wal folder, no WAL segment)")
    );
}

#[test]
fn wal_start_index_and_entry_type_filters() {
    let out = etcd_snap([
        "wal".into(),
        s(data_dir()),
        "--start-index".into(),
        "1".into(),
        "--entry-type".into(),
        "IRRTxn,IRRLeaseGrant,IRRCompaction,IRRDeleteRange,ConfigChange".into(),
    ])
    .ok()
    .to_owned();
    assert!(
        out.starts_with("Start dumping log entries from index 1.\nWAL metadata:\n"),
        "{out}"
    );
    assert!(out.contains("WAL entries:\nlastIndex=67\n"), "{out}");
    // ReadAll returns the entries after the index: the ConfChangeAddNode at 1 is not listed.
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("   ")).collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("   2\t        55\tnorm\t"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with("delete_range:<key:\"/app/k7\" > "),
        "{}",
        lines[0]
    );
    assert!(lines[1].ends_with("lease_grant:<TTL:3600 ID:3727751497477786169 > "));
    assert!(lines[2].ends_with(
        "txn:<compare:<target:VALUE key:\"/app/k1\" value:\"value 1\" > success:<request_put:<key:\"/app/txn\" value:\"yes\" > > > "
    ));
    assert!(lines[3].ends_with("compaction:<revision:44 > "));
    assert!(out.ends_with(
        "\nEntry types (IRRTxn,IRRLeaseGrant,IRRCompaction,IRRDeleteRange,ConfigChange) count is : 4\n"
    ));
}

#[test]
fn wal_unknown_entry_type_is_ignored_with_etcds_message() {
    let r = etcd_snap([
        "wal".into(),
        s(data_dir()),
        "--entry-type".into(),
        "Bogus,IRRPut".into(),
    ]);
    assert!(r.ok().ends_with("count is : 4\n"));
    assert!(
        r.stderr
            .starts_with("warning: [Bogus] is not a valid entry-type, ignored.\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn wal_json_is_one_document_with_decoded_requests() {
    let r = etcd_snap([
        "wal".into(),
        s(data_dir()),
        "-w".into(),
        "json".into(),
        "--end-index".into(),
        "65".into(),
    ]);
    let v = r.json();
    assert_eq!(v["snapshot"]["index"], 63);
    assert_eq!(v["node_id"], "8e2b90bc12f1b3bb");
    assert_eq!(v["commit_index"], 67);
    assert_eq!(v["entries"], 2);
    assert_eq!(v["last_index"], 65);
    assert_eq!(v["count"], 2);
    let e = &v["list"][0];
    assert_eq!(e["index"], 64);
    assert_eq!(e["type"], "norm");
    assert_eq!(e["kind"], "InternalRaftRequest");
    // "/app/k55", "value 55" in protojson's base64.
    assert_eq!(e["request"]["fields"]["put"]["key"], "L2FwcC9rNTU=");
    assert_eq!(e["request"]["fields"]["put"]["value"], "dmFsdWUgNTU=");
}

#[test]
fn wal_raw_reads_past_crc_mismatches() {
    let clean = etcd_snap(["wal".into(), s(data_dir()), "--raw".into()]);
    assert!(
        clean.ok().ends_with("\nRecords: 140, CRC mismatches: 0\n"),
        "{}",
        clean.stdout
    );
    let (_t, d) = copy();
    flip_value(&d);
    let r = etcd_snap(["wal".into(), s(&d), "--raw".into()]);
    assert!(
        r.ok().ends_with("\nRecords: 140, CRC mismatches: 1\n"),
        "{r:#?}"
    );
    assert_eq!(r.stdout.matches("\twalpb: crc mismatch\t").count(), 1);
    assert!(
        r.stderr
            .starts_with("warning: walpb: crc mismatch at 0000000000000000-0000000000000000.wal:"),
        "{}",
        r.stderr
    );
    // Without --raw, etcd's ReadAll stops at the mismatch.
    assert_eq!(
        etcd_snap(["wal".into(), s(&d), "--start-index".into(), "1".into()]).err(),
        "walpb: crc mismatch"
    );
}

#[test]
fn doctor_clean_member_starts_exit_0() {
    for (v, want) in [
        (
            "3.5",
            "etcd 3.5 starts from snapshot 2/63 (db consistent index 67), replaying 4 entries to commit 67, at revision 62.",
        ),
        (
            "3.4",
            "etcd 3.4 starts from snapshot 2/63 (db consistent index 67), replaying 4 entries to commit 67, at revision 62.",
        ),
    ] {
        let r = etcd_snap(["doctor".into(), s(data_dir()), "--etcd".into(), v.into()]);
        let out = r.ok();
        assert_eq!(out.lines().next(), Some(want), "{out}");
        assert!(out.contains("\nSteps:\n   1. tmp_cleanup: "), "{out}");
        assert!(
            out.contains("load_newest_available: loads 0000000000000002-000000000000003f.snap"),
            "{out}"
        );
        assert!(out.contains("\nWarnings:\n  none\n"), "{out}");
        assert!(out.contains("\nFacts:\n  member 8e2b90bc12f1b3bb in cluster e965cffd5be85258"));
    }
}

#[test]
fn doctor_newest_snap_not_in_wal_is_skipped() {
    // etcd's LoadNewestAvailable, not Load: a .snap newer than any WAL snapshot record.
    let (_t, d) = copy();
    let snap = d.join("member/snap");
    // A snapshot at index 80 (0x50): it reads, but the WAL has no record of it.
    etcd_snap(["save".into(), s(&snap), "2".into(), "80".into(), "-".into()]).ok();
    let r = etcd_snap(["doctor".into(), s(&d)]);
    let out = r.ok();
    assert!(
        out.starts_with("etcd 3.5 starts from snapshot 2/63 "),
        "{out}"
    );
    assert!(
        out.contains("0000000000000002-0000000000000050.snap: readable, not in the WAL"),
        "{out}"
    );
}

#[test]
fn doctor_would_fail_exits_3_and_recommends_among_members() {
    let (_t, bad) = copy();
    flip_value(&bad);
    let r = etcd_snap(["doctor".into(), s(&bad)]);
    assert_eq!(r.code, Some(3), "{r:#?}");
    assert_eq!(
        r.stdout.lines().next(),
        Some("etcd 3.5 fails at valid_snapshot_entries: discovery failed: walpb: crc mismatch."),
        "{}",
        r.stdout
    );

    let r = etcd_snap(["doctor".into(), s(&bad), s(data_dir())]);
    assert_eq!(r.code, Some(3), "{r:#?}");
    assert!(
        r.stdout.starts_with(&format!("== {}\n", s(&bad))),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "\nRecommendation:\n  recover from {}\n",
            s(data_dir())
        )),
        "{}",
        r.stdout
    );

    let v = etcd_snap([
        "doctor".into(),
        s(&bad),
        s(data_dir()),
        "-w".into(),
        "json".into(),
    ]);
    assert_eq!(v.code, Some(3));
    let v: serde_json::Value = serde_json::from_str(&v.stdout).unwrap();
    assert_eq!(v["members"][0]["verdict"]["verdict"], "fails");
    assert_eq!(v["members"][1]["verdict"]["verdict"], "starts");
    assert_eq!(
        v["members"][1]["summary"]
            .as_str()
            .unwrap()
            .split(" (")
            .next(),
        Some("etcd 3.5 starts from snapshot 2/63")
    );
    assert_eq!(v["recommendation"]["member"], s(data_dir()));
}

#[test]
fn doctor_exit_statuses_unreadable_and_usage() {
    let r = etcd_snap(["doctor", "/nonexistent/data"]);
    assert_eq!(r.err(), "open /nonexistent/data: no such file or directory");
    let r = etcd_snap(["doctor"]);
    assert_eq!(r.code, Some(2));
    let r = etcd_snap(["doctor", "x", "--etcd", "3.3"]);
    assert_eq!(r.code, Some(2));
    let help = etcd_snap(["doctor", "--help"]);
    assert!(
        help.ok()
            .contains("Exit status: 0 when etcd starts on every member, 3 when it would fail"),
        "{}",
        help.stdout
    );
}

/// The doctor fixtures written by etcd 3.4.23 and 3.5.16 (tests/fixtures/doctor/README.md: each
/// server started on them from snapshot 33 to commit 36 / 37 at revision 30).
#[test]
fn doctor_and_wal_on_the_real_3_4_and_3_5_members() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/doctor");
    for (v, dir, commit, ci, replay) in [
        ("3.4", "etcd-3.4.23", 36, 35, 3),
        ("3.5", "etcd-3.5.16", 37, 36, 4),
    ] {
        let d = root.join(dir);
        let out = etcd_snap(["doctor".into(), s(&d), "--etcd".into(), v.into()])
            .ok()
            .to_owned();
        assert_eq!(
            out.lines().next().unwrap(),
            format!(
                "etcd {v} starts from snapshot 2/33 (db consistent index {ci}), replaying {replay} entries to commit {commit}, at revision 30."
            ),
        );
        let wal = etcd_snap(["wal".into(), s(d.join("member")), "--etcd".into(), v.into()])
            .ok()
            .to_owned();
        assert!(
            wal.starts_with("Snapshot:\nterm=2 index=33 nodes=["),
            "{wal}"
        );
        assert!(
            wal.contains(&format!(" term=2 commitIndex={commit} vote=")),
            "{wal}"
        );
        assert!(
            wal.ends_with(&format!(
                "\nEntry types (Normal,ConfigChange) count is : {}\n",
                wal.lines().filter(|l| l.starts_with("   2\t")).count()
            )),
            "{wal}"
        );
    }
}
