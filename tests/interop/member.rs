//! `etcd-snap wal` and `etcd-snap doctor` on data dirs written by real etcd 3.4.23 and 3.5.16.
//! `wal`'s table is compared with etcd-dump-logs' own printing code run over etcd 3.4's `wal`
//! package (the walpayload oracle, tests/oracle/dumplogs_oracle.go): the `WAL metadata:`
//! line and every entry line. `doctor`'s verdict is checked against what the same etcd does
//! when started again on the data dir (the full fault matrix is the harness's,
//! tests/interop/doctor*).

use std::collections::BTreeMap;
use std::process::Command;

use crate::support::etcd::{Etcd, EtcdOptions, Version, per_version};
use crate::support::etcd_snap;
use crate::walpayload::oracle;

/// Fields etcd 3.5 added that the 3.4-typed oracle does not know (it drops them).
const ONLY_35: &[&str] = &[
    "cluster_version_set",
    "cluster_member_attr_set",
    "downgrade_info_set",
    "auth_status",
];

fn write_load(etcd: &Etcd) {
    for i in 0..30 {
        etcd.put(&format!("/k/{i}"), &format!("v{i}"));
    }
    etcd.del("/k/3");
    let lease = etcd.ctl(&["lease", "grant", "600"]);
    let id = lease.split_whitespace().nth(1).unwrap().to_owned();
    etcd.ctl(&["put", "--lease", &id, "/leased", "x"]);
    etcd.ctl(&["compact", "5"]);
}

fn wal_table_is_etcd_dump_logs(v: Version) {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let etcd = Etcd::start(
        &data,
        &EtcdOptions {
            version: v,
            ..Default::default()
        },
    );
    write_load(&etcd);
    etcd.stop();

    // No .snap (default snapshot count): etcd-dump-logs reads the WAL from its start, as the
    // oracle does.
    let ours = etcd_snap([
        "wal".as_ref(),
        data.as_os_str(),
        "--entry-type".as_ref(),
        "Normal,ConfigChange".as_ref(),
    ])
    .ok()
    .to_owned();
    let out = Command::new(oracle())
        .arg("wal")
        .arg(data.join("member/wal"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let state = text.lines().find_map(|l| l.strip_prefix("S ")).unwrap();
    let (mut lines, mut last) = (BTreeMap::new(), 0);
    let mut it = text.lines().peekable();
    while let Some(l) = it.next() {
        if let Some(e) = l.strip_prefix("E ") {
            let index: u64 = e.split(' ').nth(2).unwrap().parse().unwrap();
            last = index;
            // The oracle hex-encodes the line etcd-dump-logs prints.
            let hex = it.next().unwrap().strip_prefix("L ").unwrap_or("");
            let bytes: Vec<u8> = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            let line = String::from_utf8(bytes).unwrap();
            if !line.is_empty() {
                lines.insert(index, line);
            }
        }
    }
    assert!(
        ours.starts_with(&format!(
            "Snapshot:\nempty\nStart dumping log entries from snapshot.\nWAL metadata:\n{state}\nWAL entries:\nlastIndex={last}\n"
        )),
        "{ours}\n--- oracle: {state}"
    );
    let printed: Vec<&str> = ours.lines().filter(|l| l.starts_with("   ")).collect();
    let mut compared = 0;
    for l in &printed {
        let index: u64 = l.split('\t').nth(1).unwrap().trim().parse().unwrap();
        if ONLY_35.iter().any(|f| l.contains(f)) {
            continue;
        }
        assert_eq!(Some(&l.to_string()), lines.get(&index), "entry {index}");
        compared += 1;
    }
    if v == Version::V3_4 {
        assert_eq!(printed.len(), lines.len());
    }
    assert!(compared >= 34, "compared {compared} lines");
    assert!(ours.ends_with(&format!(
        "\nEntry types (Normal,ConfigChange) count is : {}\n",
        printed.len()
    )));
}

fn doctor_agrees_with_a_restart(v: Version) {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let opts = EtcdOptions {
        version: v,
        snapshot_count: Some(10),
        ..Default::default()
    };
    let etcd = Etcd::start(&data, &opts);
    write_load(&etcd);
    etcd.stop();

    let r = etcd_snap([
        "doctor".as_ref(),
        data.as_os_str(),
        "--etcd".as_ref(),
        v.minor().as_ref(),
        "-w".as_ref(),
        "json".as_ref(),
    ]);
    let doc = r.json();
    let m = &doc["members"][0];
    assert_eq!(m["verdict"]["verdict"], "starts", "{m:#}");
    let summary = m["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!("etcd {} starts from snapshot ", v.minor())),
        "{summary}"
    );
    let commit = m["verdict"]["commit"].as_u64().unwrap();
    let revision = m["verdict"]["revision"]["value"].as_i64().unwrap();

    // etcd itself, started again on the data dir: it serves, at that revision.
    let etcd = Etcd::start(&data, &opts);
    let got = etcd.ctl(&["get", "/k/1", "-w", "json"]);
    let got: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(
        got["header"]["revision"].as_i64(),
        Some(revision),
        "{summary}"
    );
    etcd.stop();
    assert!(commit > 30, "{summary}");
}

/// A v2 `PUT /v2/keys/<key>` (form-encoded `value=`), as `etcdctl --api 2 set` sends it.
fn v2_set(etcd: &Etcd, key: &str, value: &str) {
    use std::io::{Read, Write};
    let addr = etcd.client_url.trim_start_matches("http://");
    let body = format!("value={value}");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PUT /v2/keys/{key} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 201"), "v2 set {key}: {reply}");
}

/// `etcd-snap check v2store` and the doctor's warnings on data dirs whose snapshot carries a
/// v2 key (and whose WAL replays another, which etcd 3.6 would refuse) or not, against etcd itself: 3.5.16, started again, logs `detected custom v2store
/// content` exactly when we say it will (v3.5.16 server/etcdserver/server.go:506); 3.4 does
/// not look, and we only warn that 3.6 would refuse the data dir.
fn check_v2store_and_the_doctor_agree_with_etcd(v: Version) {
    const WARNING: &str = "detected custom v2store content";
    for with_v2_key in [false, true] {
        let t = tempfile::tempdir().unwrap();
        let data = t.path().join("data");
        let opts = EtcdOptions {
            version: v,
            snapshot_count: Some(10),
            extra_args: vec!["--enable-v2=true".into()],
            ..Default::default()
        };
        let etcd = Etcd::start(&data, &opts);
        if with_v2_key {
            v2_set(&etcd, "dir/foo", "bar");
        }
        for i in 0..25 {
            etcd.put(&format!("/k/{i}"), "v");
        }
        etcd.wait_snap_files(1);
        if with_v2_key {
            // After the snapshot: replayed on start, which 3.6 refuses for a v2 key.
            v2_set(&etcd, "dir/late", "x");
        }
        etcd.stop();

        let r = etcd_snap(["check".as_ref(), "v2store".as_ref(), data.as_os_str()]);
        if with_v2_key {
            assert_eq!(r.code, Some(1), "{r:#?}");
            assert_eq!(r.stdout, "");
            let lines: Vec<&str> = r.stderr.lines().collect();
            assert_eq!(lines.len(), 2, "{r:#?}");
            assert!(
                lines[0].starts_with("custom content: /1 (1 children) in "),
                "{r:#?}"
            );
            assert_eq!(lines[1], "Error: detected custom content in v2store");
        } else {
            assert_eq!(r.ok(), "No custom content found in v2store.\n");
        }
        let json = etcd_snap([
            "check".as_ref(),
            "v2store".as_ref(),
            data.as_os_str(),
            "-w".as_ref(),
            "json".as_ref(),
        ]);
        let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        assert!(
            doc["snapshot"].as_str().unwrap().ends_with(".snap"),
            "{doc}"
        );

        let doctor = etcd_snap([
            "doctor".as_ref(),
            data.as_os_str(),
            "--etcd".as_ref(),
            v.minor().as_ref(),
            "-w".as_ref(),
            "json".as_ref(),
        ]);
        let m = &doctor.json()["members"][0];
        let warned: Vec<&str> = m["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["kind"] == "v2_custom_content")
            .map(|w| w["message"].as_str().unwrap())
            .collect();
        assert_eq!(warned.len(), usize::from(with_v2_key), "{m:#}");
        let refused: Vec<&str> = m["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["kind"] == "v2_wal_entries")
            .flat_map(|w| w["names"].as_array().unwrap())
            .map(|n| n.as_str().unwrap())
            .collect();
        if with_v2_key {
            assert_eq!(refused.len(), 1, "{m:#}");
            assert!(
                refused[0].ends_with(
                    "detected disallowed v2 WAL for stage --v2-deprecation=write-only (method PUT, path \"/1/dir/late\")"
                ),
                "{m:#}"
            );
        } else {
            assert!(refused.is_empty(), "{m:#}");
        }
        if let Some(w) = warned.first() {
            assert!(w.contains("etcd 3.6 refuses to start"), "{w}");
            assert_eq!(w.contains(WARNING), v == Version::V3_5, "{w}");
        }

        // etcd itself, started again: it recovers the v2 store from that snapshot.
        let etcd = Etcd::start(&data, &opts);
        let log = etcd.this_log();
        etcd.stop();
        // 3.4 logs with capnslog unless --logger=zap.
        assert!(
            log.contains("recovered v2 store from snapshot")
                || log.contains("recovered store from snapshot"),
            "{log}"
        );
        let expect_warning = with_v2_key && v == Version::V3_5;
        assert_eq!(log.contains(WARNING), expect_warning, "{log}");
    }
}

/// etcd 3.6's `MinimalEtcdVersion` on real WALs (no 3.6 binary here: the rule is pinned by
/// etcd's own cases in src/walpayload/version.rs). A new member of either version publishes
/// its attributes and cluster version as v2 PUTs (etcd PR #19168), which carry no annotation;
/// `put --prev-kv` needs 3.1 (`PutRequest.prev_kv`), and 3.5's `auth status` goes through
/// raft as a 3.5 request.
fn wal_minimal_version_of_a_new_member(v: Version) {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let etcd = Etcd::start(
        &data,
        &EtcdOptions {
            version: v,
            ..Default::default()
        },
    );
    etcd.put("/a", "1");
    etcd.ctl(&["put", "--prev-kv", "/a", "2"]);
    if v == Version::V3_5 {
        etcd.ctl(&["auth", "status"]);
    }
    etcd.stop();
    let r = etcd_snap([
        "doctor".as_ref(),
        data.as_os_str(),
        "-w".as_ref(),
        "json".as_ref(),
    ]);
    let w = &r.json()["members"][0]["facts"]["wal_minimal_version"];
    let dump = etcd_snap(["wal".as_ref(), data.as_os_str()]).stdout;
    let ctx = format!("{w:#}\n{dump}");
    assert!(w["error"].is_null(), "{ctx}");
    match v {
        Version::V3_5 => {
            assert_eq!(w["version"], "3.5.0", "{ctx}");
            assert_eq!(
                w["by"], "etcdserverpb.InternalRaftRequest.auth_status",
                "{w:#}"
            );
        }
        Version::V3_4 => {
            assert_eq!(w["version"], "3.1.0", "{ctx}");
            assert_eq!(w["by"], "etcdserverpb.PutRequest.prev_kv", "{ctx}");
        }
    }
    let table = etcd_snap(["doctor".as_ref(), data.as_os_str()]);
    assert!(
        table
            .stdout
            .contains("  WAL version (etcd 3.6's MinimalEtcdVersion): "),
        "{table:#?}"
    );
}

per_version!(
    wal_minimal_version_of_a_new_member,
    wal_table_is_etcd_dump_logs,
    doctor_agrees_with_a_restart,
    check_v2store_and_the_doctor_agree_with_etcd
);
