//! `etcd-snap frame` / `unframe` against etcd's real sender body and its verdict JSON.

use crate::support::{etcd_snap, fixtures};

#[test]
fn frame_writes_etcds_exact_body() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("hello.db");
    std::fs::write(&db, "hello").unwrap();
    let out = tmp.path().join("body.bin");
    let args = [
        "frame",
        out.to_str().unwrap(),
        "2",
        "100",
        db.to_str().unwrap(),
    ];
    let v = etcd_snap(
        args.iter()
            .copied()
            .chain(["--from", "1", "--to", "2", "--voters", "1,2,3"]),
    )
    .json();
    let golden = std::fs::read(fixtures().join("wire/golden-msgsnap-tiny.bin")).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), golden);
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixtures().join("expected/wire/golden-msgsnap-tiny.frame.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(v["bytes"], expected["bytes"]);
    assert_eq!(v["sha256"], expected["sha256"]);
    assert_eq!(v["length_prefix"], expected["length_prefix"]);

    // Defaults are etcd's zero values; --msg-term defaults to TERM; --data sets Snapshot.Data.
    let data = tmp.path().join("v2.json");
    std::fs::write(&data, "v2").unwrap();
    let out2 = tmp.path().join("g9.bin");
    let args = [
        "frame",
        out2.to_str().unwrap(),
        "3",
        "10",
        db.to_str().unwrap(),
    ];
    let flags = ["--to", "2", "--from", "1", "--voters", "1,2", "--data"];
    etcd_snap(
        args.iter()
            .copied()
            .chain(flags)
            .chain([data.to_str().unwrap()]),
    )
    .ok();
    // etcd's 51-byte body for G9 (tests/pb_golden.rs) plus the db `hello`.
    let g9 = "000000000000002608071002180120032800300040004a120a027632120c0a06080108022800100a18035000580068656c6c6f";
    let hex: String = std::fs::read(&out2)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, g9);
}

#[test]
fn unframe_prints_etcds_verdict_and_stores_the_db() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("snap");
    let body = fixtures().join("wire/golden-msgsnap-tiny.bin");
    let v = etcd_snap(["unframe", body.to_str().unwrap(), dir.to_str().unwrap()]).json();
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixtures().join("expected/wire/golden-msgsnap-tiny.frame.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(v["message"], expected["message"]);
    assert_eq!(v["length_prefix"], expected["length_prefix"]);
    assert_eq!(v["db_bytes"], expected["db_bytes"]);
    assert_eq!(v["db_sha256"], expected["db_sha256"]);
    let path = dir.join("0000000000000064.snap.db");
    assert_eq!(v["db_path"], path.to_str().unwrap());
    assert_eq!(std::fs::read(&path).unwrap(), b"hello");
}

#[test]
fn unframe_bad_bodies_fail_with_etcds_words_and_store_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("snap");
    std::fs::create_dir(&dir).unwrap();
    let cases: [(&[u8], &str); 4] = [
        (b"", "EOF"),
        (&[0, 0, 0, 0], "unexpected EOF"),
        (
            &[0x80, 0, 0, 0, 0, 0, 0, 0],
            "rafthttp: error limit exceeded",
        ),
        (&[0, 0, 0, 0, 0, 0, 0, 0], "wrong raft message type"),
    ];
    for (body, want) in cases {
        let f = tmp.path().join("body");
        std::fs::write(&f, body).unwrap();
        let run = etcd_snap(["unframe", f.to_str().unwrap(), dir.to_str().unwrap()]);
        assert_eq!(run.err(), want);
    }
    // A configurable cap: 36 is the tiny message's size, 35 is one too few.
    let body = fixtures().join("wire/golden-msgsnap-tiny.bin");
    let run = etcd_snap([
        "unframe",
        body.to_str().unwrap(),
        dir.to_str().unwrap(),
        "--limit",
        "35",
    ]);
    assert_eq!(run.err(), "rafthttp: error limit exceeded");
    assert_eq!(crate::support::names_in(&dir), Vec::<String>::new());
}
