//! The `etcd-snap` binary's snap subcommands (`read`, `load`, `save`, `savedb`, `release`,
//! `ls`) over the real etcd 3.4.23 fixtures: output must equal etcd's verdicts exactly
//! (JSON byte for byte, errors as the last stderr line) and written files must equal the
//! files etcd wrote.

use std::path::{Path, PathBuf};

use crate::support::{copy_dir, etcd_snap, etcd_snap_stdin, expected_err, fixtures, names_in};

/// Every fixture `.snap`, with the expectation file beside it under `expected/`.
fn fixture_snaps() -> Vec<(PathBuf, PathBuf)> {
    let root = fixtures();
    let mut out = Vec::new();
    for sub in [
        "single/member-snap",
        "cluster/follower-snap",
        "golden/saved",
        "golden/corrupt",
    ] {
        for name in names_in(&root.join(sub)) {
            if name.ends_with(".snap") {
                out.push((
                    root.join(sub).join(&name),
                    root.join("expected").join(sub).join(name),
                ));
            }
        }
    }
    out
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn read_text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn read_every_fixture_matches_etcd_verdict() {
    let snaps = fixture_snaps();
    assert_eq!(
        snaps.len(),
        6 + 1 + 4 + 5,
        "fixture set changed: {snaps:#?}"
    );
    let (mut oks, mut errs) = (0, 0);
    for (file, expected) in snaps {
        let run = etcd_snap(["read".as_ref(), file.as_os_str()]);
        let json = with_suffix(&expected, ".json");
        let err = with_suffix(&expected, ".err.txt");
        if json.exists() {
            assert_eq!(
                run.ok().trim_end(),
                read_text(&json).trim_end(),
                "read {}",
                file.display()
            );
            oks += 1;
        } else {
            assert_eq!(run.err(), expected_err(&err), "read {}", file.display());
            errs += 1;
        }
    }
    assert_eq!((oks, errs), (11, 5));
}

#[test]
fn read_errors_are_gos_path_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("0000000000000001-0000000000000001.snap");
    assert_eq!(
        etcd_snap(["read".as_ref(), missing.as_os_str()]).err(),
        format!("open {}: no such file or directory", missing.display())
    );
    let dir = tmp.path().join("sub.snap");
    std::fs::create_dir(&dir).unwrap();
    assert_eq!(
        etcd_snap(["read".as_ref(), dir.as_os_str()]).err(),
        format!("read {}: is a directory", dir.display())
    );
}

#[test]
fn read_of_a_bare_name_reports_the_path_as_given() {
    let run = |name: &str| {
        let o = std::process::Command::new(crate::support::bin())
            .args(["read", name])
            .current_dir(fixtures().join("golden/corrupt"))
            .output()
            .unwrap();
        (o.status.code(), String::from_utf8(o.stderr).unwrap())
    };
    let (code, stderr) = run("0000000000000002-0000000000000065.snap");
    assert_eq!((code, stderr.as_str()), (Some(1), "snap: crc mismatch\n"));
    let (code, stderr) = run("nope.snap");
    assert_eq!(
        (code, stderr.as_str()),
        (Some(1), "open nope.snap: no such file or directory\n")
    );
}

#[test]
fn load_single_folder_is_newest_and_renames_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_dir(
        &fixtures().join("single/member-snap"),
        &tmp.path().join("snap"),
    );
    let run = etcd_snap(["load".as_ref(), dir.as_os_str()]);
    assert_eq!(
        run.ok().trim_end(),
        read_text(&fixtures().join("expected/single/member-snap.load.json")).trim_end()
    );
    let after = read_text(&fixtures().join("expected/single/member-snap.after-load.ls"));
    assert_eq!(names_in(&dir), after.lines().collect::<Vec<_>>());
}

#[test]
fn load_corrupt_folder_fails_and_quarantines_every_file_as_etcd() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_dir(&fixtures().join("golden/corrupt"), &tmp.path().join("snap"));
    let run = etcd_snap(["load".as_ref(), dir.as_os_str()]);
    assert_eq!(
        run.err(),
        expected_err(&fixtures().join("expected/golden/corrupt.load.err.txt"))
    );
    let after = read_text(&fixtures().join("expected/golden/corrupt.after-load.ls"));
    assert_eq!(names_in(&dir), after.lines().collect::<Vec<_>>());
    // A second load finds nothing to try.
    assert_eq!(
        etcd_snap(["load".as_ref(), dir.as_os_str()]).err(),
        "snap: no available snapshot"
    );
}

#[test]
fn load_newest_available_follows_wal_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_dir(
        &fixtures().join("single/member-snap"),
        &tmp.path().join("snap"),
    );
    let before = names_in(&dir);
    let load = |wal: &str| {
        etcd_snap([
            "load".as_ref(),
            dir.as_os_str(),
            "--wal-snaps".as_ref(),
            wal.as_ref(),
        ])
    };
    let expect = |name: &str| {
        read_text(
            &fixtures()
                .join("expected/single/member-snap")
                .join(format!("{name}.json")),
        )
    };
    // The WAL knows 0x101 (257) but not the newest 0x134: the newest *known* one wins.
    assert_eq!(
        load("2:51,2:257,0:0").ok().trim_end(),
        expect("0000000000000002-0000000000000101.snap").trim_end()
    );
    // Order does not matter.
    assert_eq!(
        load("2:102, 2:51").ok().trim_end(),
        expect("0000000000000002-0000000000000066.snap").trim_end()
    );
    // Nothing matches: ErrNoSnapshot, and valid non-matching files are left untouched.
    assert_eq!(load("9:9").err(), "snap: no available snapshot");
    assert_eq!(load("").err(), "snap: no available snapshot");
    assert_eq!(names_in(&dir), before);
}

#[test]
fn load_empty_and_missing_folders() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(
        etcd_snap(["load".as_ref(), tmp.path().as_os_str()]).err(),
        "snap: no available snapshot"
    );
    let missing = tmp.path().join("nope");
    let run = etcd_snap(["load".as_ref(), missing.as_os_str()]);
    assert_eq!(
        run.err(),
        format!("open {}: no such file or directory", missing.display())
    );
}

#[test]
fn load_removes_stale_tmp_and_db_tmp_but_keeps_db_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_dir(
        &fixtures().join("cluster/follower-snap"),
        &tmp.path().join("snap"),
    );
    std::fs::write(dir.join("tmp123456"), b"interrupted write").unwrap();
    std::fs::write(dir.join("db.tmp.42"), b"defrag leftover").unwrap();
    std::fs::write(dir.join("db"), b"live backend").unwrap();
    let run = etcd_snap(["load".as_ref(), dir.as_os_str()]);
    assert_eq!(
        run.ok().trim_end(),
        read_text(
            &fixtures()
                .join("expected/cluster/follower-snap/0000000000000002-00000000000015c5.snap.json")
        )
        .trim_end()
    );
    assert_eq!(
        names_in(&dir),
        [
            "0000000000000002-00000000000015c5.snap",
            "00000000000015c5.snap.db",
            "db"
        ]
    );
}

#[test]
fn load_fails_while_another_process_holds_the_folder_lock_but_ls_works() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_dir(
        &fixtures().join("single/member-snap"),
        &tmp.path().join("snap"),
    );
    let holder = std::fs::File::open(&dir).unwrap();
    holder.try_lock().unwrap();
    let run = etcd_snap(["load".as_ref(), dir.as_os_str()]);
    let line = run.err();
    assert!(
        line.starts_with(&format!("lock {}", dir.display())),
        "{line}"
    );
    assert!(
        etcd_snap(["ls".as_ref(), dir.as_os_str()])
            .ok()
            .contains("0000000000000002-0000000000000134.snap")
    );
    drop(holder);
    // Other tests spawn processes in parallel, and a child forked in the instant before its
    // exec shares our descriptor (and so the flock) until it execs: allow for that briefly.
    let mut run = etcd_snap(["load".as_ref(), dir.as_os_str()]);
    for _ in 0..50 {
        if run.code == Some(0) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        run = etcd_snap(["load".as_ref(), dir.as_os_str()]);
    }
    run.ok();
}

/// The golden `SaveSnap` outputs: (term, index, data file or `-`, voters, expected file).
fn golden_saves() -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
)> {
    vec![
        ("1", "1", "-", "1", "0000000000000001-0000000000000001.snap"),
        (
            "1",
            "2",
            "empty.data",
            "1",
            "0000000000000001-0000000000000002.snap",
        ),
        (
            "2",
            "100",
            "hello.data",
            "1,2,3",
            "0000000000000002-0000000000000064.snap",
        ),
        (
            "18446744073709551615",
            "18446744073709551614",
            "hello.data",
            "18446744073709551615,9223372036854775808",
            "ffffffffffffffff-fffffffffffffffe.snap",
        ),
    ]
}

#[test]
fn save_reproduces_etcds_files_byte_for_byte() {
    let golden = fixtures().join("golden");
    let tmp = tempfile::tempdir().unwrap();
    for (term, index, data, voters, name) in golden_saves() {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        let data = if data == "-" {
            "-".to_owned()
        } else {
            golden.join(data).to_string_lossy().into_owned()
        };
        let run = etcd_snap([
            "save",
            dir.to_str().unwrap(),
            term,
            index,
            &data,
            "--voters",
            voters,
        ]);
        let want = std::fs::read(golden.join("saved").join(name)).unwrap();
        let got_path = dir.join(name);
        assert_eq!(
            run.ok().trim_end(),
            format!(
                r#"{{"path":{},"bytes":{}}}"#,
                serde_json::to_string(got_path.to_str().unwrap()).unwrap(),
                want.len()
            )
        );
        assert_eq!(std::fs::read(&got_path).unwrap(), want, "{name}");
        assert_eq!(
            names_in(&dir),
            [name],
            "only the .snap is left (no temp files)"
        );
        // And it reads back as etcd's verdict says.
        let json = fixtures()
            .join("expected/golden/saved")
            .join(format!("{name}.json"));
        assert_eq!(
            etcd_snap(["read".as_ref(), got_path.as_os_str()])
                .ok()
                .trim_end(),
            read_text(&json).trim_end()
        );
    }
}

#[test]
fn save_rewrites_every_real_etcd_snap_identically() {
    // read -> save of each real etcd file gives the same bytes (learners included).
    let tmp = tempfile::tempdir().unwrap();
    for sub in ["single/member-snap", "cluster/follower-snap"] {
        for name in names_in(&fixtures().join(sub))
            .into_iter()
            .filter(|n| n.ends_with(".snap"))
        {
            let src = fixtures().join(sub).join(&name);
            let sum = etcd_snap(["read".as_ref(), src.as_os_str()]).json();
            assert_eq!(sum["conf_state"]["voters_outgoing"], serde_json::json!([]));
            // The .snap holds the v2 store JSON: extract it by decoding with our own read
            // is not possible from the CLI, so go through the library's codec.
            let snap =
                etcd_snap::codec::decode_snap_file(std::fs::read(&src).unwrap().into()).unwrap();
            let data = tmp.path().join(format!("{name}.data"));
            std::fs::write(&data, snap.data.as_deref().unwrap()).unwrap();
            let join = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
            let out = tmp.path().join(format!("{name}.out"));
            std::fs::create_dir(&out).unwrap();
            let mut args = vec![
                "save".to_owned(),
                out.to_string_lossy().into_owned(),
                snap.metadata.term.to_string(),
                snap.metadata.index.to_string(),
                data.to_string_lossy().into_owned(),
                "--voters".into(),
                join(&snap.metadata.conf_state.voters),
            ];
            if !snap.metadata.conf_state.learners.is_empty() {
                args.push("--learners".into());
                args.push(join(&snap.metadata.conf_state.learners));
            }
            etcd_snap(&args).ok();
            assert_eq!(
                std::fs::read(out.join(&name)).unwrap(),
                std::fs::read(&src).unwrap(),
                "{sub}/{name}"
            );
        }
    }
}

#[test]
fn save_index_zero_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let hello = fixtures().join("golden/hello.data");
    let run = etcd_snap([
        "save".as_ref(),
        tmp.path().as_os_str(),
        "5".as_ref(),
        "0".as_ref(),
        hello.as_os_str(),
    ]);
    assert_eq!(run.ok().trim_end(), r#"{"path":null,"bytes":0}"#);
    assert!(names_in(tmp.path()).is_empty());
}

#[test]
fn save_with_learners_round_trips_and_missing_datafile_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let hello = fixtures().join("golden/hello.data");
    let d = tmp.path().to_str().unwrap();
    etcd_snap([
        "save",
        d,
        "3",
        "7",
        hello.to_str().unwrap(),
        "--voters",
        "1,2",
        "--learners",
        "7,8",
    ])
    .ok();
    let v = etcd_snap([
        "read".as_ref(),
        tmp.path()
            .join("0000000000000003-0000000000000007.snap")
            .as_os_str(),
    ])
    .json();
    assert_eq!(v["conf_state"]["voters"], serde_json::json!([1, 2]));
    assert_eq!(v["conf_state"]["learners"], serde_json::json!([7, 8]));
    assert_eq!(v["data_len"], 5);
    let missing = tmp.path().join("missing.data");
    assert_eq!(
        etcd_snap(["save", d, "3", "8", missing.to_str().unwrap()]).err(),
        format!("open {}: no such file or directory", missing.display())
    );
}

#[test]
fn savedb_streams_stdin_and_keeps_an_existing_db() {
    let tmp = tempfile::tempdir().unwrap();
    let db =
        std::fs::read(fixtures().join("cluster/follower-snap/00000000000015c5.snap.db")).unwrap();
    let d = tmp.path().to_str().unwrap();
    let want_path = tmp.path().join("00000000000015c5.snap.db");
    let run = etcd_snap_stdin(["savedb", d, "5573", "-"], &db);
    assert_eq!(
        run.ok().trim_end(),
        format!(
            r#"{{"bytes":{},"path":{}}}"#,
            db.len(),
            serde_json::to_string(want_path.to_str().unwrap()).unwrap()
        )
    );
    assert_eq!(std::fs::read(&want_path).unwrap(), db);
    // Same index again with other bytes: etcd keeps the old file and reports success.
    let run = etcd_snap_stdin(["savedb", d, "5573", "-"], b"hello");
    assert_eq!(run.json()["bytes"], 5);
    assert_eq!(std::fs::read(&want_path).unwrap(), db);
    // From a file; an empty stream is a valid (empty) db, as in etcd.
    let hello = fixtures().join("golden/hello.data");
    let run = etcd_snap(["savedb", d, "10", hello.to_str().unwrap()]);
    assert_eq!(run.json()["bytes"], 5);
    assert_eq!(
        std::fs::read(tmp.path().join("000000000000000a.snap.db")).unwrap(),
        b"hello"
    );
    let run = etcd_snap_stdin(["savedb", d, "11", "-"], b"");
    assert_eq!(run.json()["bytes"], 0);
    assert_eq!(
        std::fs::metadata(tmp.path().join("000000000000000b.snap.db"))
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        names_in(tmp.path()),
        [
            "000000000000000a.snap.db",
            "000000000000000b.snap.db",
            "00000000000015c5.snap.db"
        ],
        "no temp files are left"
    );
    let missing = tmp.path().join("missing.db");
    assert_eq!(
        etcd_snap(["savedb", d, "12", missing.to_str().unwrap()]).err(),
        format!("open {}: no such file or directory", missing.display())
    );
}

#[test]
fn savedb_of_a_large_stream_is_exact() {
    // 24 MiB through a pipe: larger than any internal buffer, so it really streams.
    let tmp = tempfile::tempdir().unwrap();
    let body: Vec<u8> = (0..24u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let run = etcd_snap_stdin(["savedb", tmp.path().to_str().unwrap(), "1", "-"], &body);
    assert_eq!(run.json()["bytes"], body.len() as u64);
    assert!(std::fs::read(tmp.path().join("0000000000000001.snap.db")).unwrap() == body);
}

#[test]
fn release_removes_older_dbs_as_etcd() {
    let tmp = tempfile::tempdir().unwrap();
    for name in [
        "0000000000000064.snap.db",
        "00000000000000c8.snap.db",
        "000000000000012c.snap.db",
        "0000000000000190.snap.db",
        "1.snap.db",
        "zz.snap.db",
        "0000000000000001-0000000000000001.snap",
    ] {
        std::fs::write(tmp.path().join(name), name).unwrap();
    }
    let run = etcd_snap(["release", tmp.path().to_str().unwrap(), "300"]);
    assert_eq!(
        run.ok().trim_end(),
        r#"{"removed":["0000000000000064.snap.db","00000000000000c8.snap.db","1.snap.db"]}"#
    );
    assert_eq!(
        names_in(tmp.path()),
        [
            "0000000000000001-0000000000000001.snap",
            "000000000000012c.snap.db",
            "0000000000000190.snap.db",
            "zz.snap.db"
        ]
    );
    let run = etcd_snap(["release", tmp.path().to_str().unwrap(), "300"]);
    assert_eq!(run.ok().trim_end(), r#"{"removed":[]}"#);
}

/// A folder with good, corrupt and other files; ls must judge each and change nothing.
fn mixed_folder(root: &Path) -> PathBuf {
    let dir = copy_dir(&fixtures().join("golden/corrupt"), &root.join("snap"));
    copy_dir(&fixtures().join("cluster/follower-snap"), &dir);
    std::fs::write(dir.join("tmp99"), b"x").unwrap();
    std::fs::write(dir.join("0000000000000001.snap.db"), b"").unwrap();
    std::fs::write(
        dir.join("0000000000000001-0000000000000001.snap.broken"),
        b"old",
    )
    .unwrap();
    std::fs::create_dir(dir.join("sub.snap")).unwrap();
    dir
}

#[test]
fn ls_json_judges_every_file_and_renames_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = mixed_folder(tmp.path());
    let before = names_in(&dir);
    let v = etcd_snap([
        "ls".as_ref(),
        dir.as_os_str(),
        "-w".as_ref(),
        "json".as_ref(),
    ])
    .json();
    assert_eq!(names_in(&dir), before, "ls changes nothing");
    let rows = v.as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, before.iter().map(String::as_str).collect::<Vec<_>>());
    for r in rows {
        let name = r["name"].as_str().unwrap();
        let path = dir.join(name);
        assert_eq!(
            r["size"],
            if path.is_dir() {
                0
            } else {
                std::fs::metadata(&path).unwrap().len()
            }
        );
        assert_eq!(r["dir"], path.is_dir());
        let err = fixtures()
            .join("expected/golden/corrupt")
            .join(format!("{name}.err.txt"));
        match name {
            "0000000000000002-00000000000015c5.snap" => {
                assert_eq!(
                    (r["kind"].as_str(), r["verdict"].as_str()),
                    (Some("snap"), Some("ok"))
                );
                assert_eq!(
                    (r["term"].as_u64(), r["index"].as_u64()),
                    (Some(2), Some(0x15c5))
                );
                assert!(r["code"].is_null());
            }
            "00000000000015c5.snap.db" => {
                assert_eq!(r["kind"], "db");
                assert_eq!(
                    (r["term"].as_u64(), r["index"].as_u64()),
                    (None, Some(0x15c5))
                );
                assert_eq!(
                    (r["verdict"].as_str(), r["code"].as_str()),
                    (Some("ok"), None)
                );
            }
            "0000000000000001.snap.db" => {
                assert_eq!(r["kind"], "db");
                let v = r["verdict"].as_str().unwrap();
                assert!(v.starts_with("invalid database"), "{v}");
                assert_eq!(r["code"], "ERR_BAD_DB");
            }
            "sub.snap" => {
                assert_eq!(r["kind"], "snap");
                assert!(r["term"].is_null());
                assert_eq!(
                    r["verdict"].as_str().unwrap(),
                    format!("read {}: is a directory", path.display())
                );
            }
            "tmp99" => assert_eq!(
                (r["kind"].as_str(), r["verdict"].as_str()),
                (Some("tmp"), None)
            ),
            n if n.ends_with(".broken") => assert_eq!(r["kind"], "broken"),
            _ => {
                assert_eq!(r["kind"], "snap");
                assert_eq!(r["verdict"].as_str().unwrap(), expected_err(&err), "{name}");
                assert!(r["code"].as_str().unwrap().starts_with("ERR_"));
            }
        }
    }
}

#[test]
fn ls_table_has_a_row_per_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = mixed_folder(tmp.path());
    let before = names_in(&dir);
    let text = etcd_snap(["ls".as_ref(), dir.as_os_str()]).ok().to_owned();
    assert_eq!(
        text,
        etcd_snap([
            "ls".as_ref(),
            dir.as_os_str(),
            "-w".as_ref(),
            "table".as_ref()
        ])
        .ok()
    );
    assert_eq!(names_in(&dir), before);
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["NAME", "KIND", "TERM", "INDEX", "SIZE", "VERDICT"]);
    assert_eq!(lines.len(), 1 + before.len());
    let row = |name: &str| -> Vec<String> {
        let l = lines
            .iter()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap();
        l.split_whitespace().map(str::to_owned).collect()
    };
    assert_eq!(
        row("0000000000000002-00000000000015c5.snap"),
        [
            "0000000000000002-00000000000015c5.snap",
            "snap",
            "2",
            "5573",
            "8983",
            "ok"
        ]
    );
    assert_eq!(
        row("00000000000015c5.snap.db"),
        ["00000000000015c5.snap.db", "db", "-", "5573", "57344", "ok"]
    );
    assert_eq!(
        row("0000000000000002-0000000000000065.snap")[5..].join(" "),
        "snap: crc mismatch"
    );
    // The VERDICT column starts at the same offset on every line.
    let col = lines[0].find("VERDICT").unwrap();
    for l in &lines[1..] {
        assert!(l[..col].ends_with("  "), "aligned: {l}");
    }
}

/// `ls` judges a member `db` as it judges a `.snap.db` (the one listing rule the viewer also
/// applies, `inspect::listing_verdict`): empty, cut short or gzipped, each says so.
#[test]
fn ls_judges_member_dbs_and_cut_or_compressed_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("snap");
    std::fs::create_dir(&dir).unwrap();
    let good =
        std::fs::read(fixtures().join("cluster/follower-snap/00000000000015c5.snap.db")).unwrap();
    std::fs::write(dir.join("db"), &good[..good.len() - 4096]).unwrap();
    std::fs::write(
        dir.join("0000000000000001.snap.db"),
        b"\x1f\x8b\x08\x00rest",
    )
    .unwrap();
    std::fs::write(dir.join("00000000000015c5.snap.db"), &good).unwrap();
    let v = etcd_snap([
        "ls".as_ref(),
        dir.as_os_str(),
        "-w".as_ref(),
        "json".as_ref(),
    ])
    .json();
    let by = |n: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == n)
            .unwrap()
            .clone()
    };
    let db = by("db");
    assert_eq!(db["kind"], "live-db");
    assert_eq!(db["code"], "ERR_BAD_DB");
    let verdict = db["verdict"].as_str().unwrap();
    assert!(
        verdict.contains("does not fit the 53248-byte file (truncated?)"),
        "{verdict}"
    );
    let gz = by("0000000000000001.snap.db");
    assert!(
        gz["verdict"]
            .as_str()
            .unwrap()
            .starts_with("a gzip-compressed file, not a bbolt db"),
        "{gz}"
    );
    assert_eq!(by("00000000000015c5.snap.db")["verdict"], "ok");
}

#[test]
fn ls_missing_folder_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    assert_eq!(
        etcd_snap(["ls".as_ref(), missing.as_os_str()]).err(),
        format!("open {}: no such file or directory", missing.display())
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec![],
        vec!["read"],
        vec!["nosuch"],
        vec!["save", "/tmp", "x", "1", "-"],
        vec!["load", "/tmp", "--wal-snaps", "1-2"],
        vec!["ls", "/tmp", "-w", "yaml"],
    ] {
        let run = etcd_snap(&args);
        assert_eq!(run.code, Some(2), "{args:?}: {run:#?}");
        assert_eq!(run.stdout, "");
        assert!(!run.stderr.is_empty());
    }
    assert_eq!(etcd_snap(["--help"]).code, Some(0));
}
