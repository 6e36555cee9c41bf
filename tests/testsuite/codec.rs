//! The `.snap` codec against real etcd 3.4.23 files (tests/fixtures/etcd-3.4.23): each decodes
//! to etcd's own verdict (JSON summary or error string), each good file re-encodes byte for
//! byte, and decoding slices the payload out of the input instead of copying it.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use etcd_snap::codec::{crc32c, decode_snap_file, encode_snap_file};
use etcd_snap::summary::SnapSummary;
use etcd_snap::{Error, pb};

const DIRS: &[&str] = &[
    "golden/saved",
    "golden/corrupt",
    "single/member-snap",
    "cluster/follower-snap",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/etcd-3.4.23")
}

fn snap_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "snap"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_fixture_matches_etcds_verdict() {
    let (mut good, mut bad) = (0, 0);
    for dir in DIRS {
        for path in snap_files(dir) {
            let name = path.file_name().unwrap().to_str().unwrap();
            let expected = root().join("expected").join(dir);
            let json = expected.join(format!("{name}.json"));
            let err = expected.join(format!("{name}.err.txt"));
            let file = Bytes::from(std::fs::read(&path).unwrap());
            let got = decode_snap_file(file.clone());
            match (json.exists(), err.exists()) {
                (true, false) => {
                    let want: serde_json::Value =
                        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
                    let snap = got.unwrap_or_else(|e| panic!("{dir}/{name}: {e}"));
                    let summary = serde_json::to_value(SnapSummary::of(&snap)).unwrap();
                    assert_eq!(summary, want, "{dir}/{name}");
                    assert!(
                        encode_snap_file(&snap) == file,
                        "{dir}/{name}: re-encoding is not byte-identical"
                    );
                    good += 1;
                }
                (false, true) => {
                    let want = std::fs::read_to_string(&err).unwrap();
                    let want = want
                        .trim_end()
                        .strip_prefix("ERROR: ")
                        .expect("ERROR: prefix");
                    let e = got
                        .err()
                        .unwrap_or_else(|| panic!("{dir}/{name}: decoded, etcd said {want}"));
                    assert_eq!(e.to_string(), want, "{dir}/{name}");
                    bad += 1;
                }
                other => panic!("{dir}/{name}: expected exactly one verdict file, found {other:?}"),
            }
        }
    }
    assert_eq!((good, bad), (11, 5), "fixture set changed");
}

#[test]
fn payload_is_sliced_not_copied() {
    for dir in ["single/member-snap", "cluster/follower-snap"] {
        for path in snap_files(dir) {
            let file = Bytes::from(std::fs::read(&path).unwrap());
            let range = file.as_ptr() as usize..file.as_ptr() as usize + file.len();
            let snap = decode_snap_file(file.clone()).unwrap();
            let data = snap.data.expect("data");
            assert!(!data.is_empty());
            let p = data.as_ptr() as usize;
            assert!(
                range.contains(&p) && p + data.len() <= range.end,
                "{}: payload was copied out of the input buffer",
                path.display()
            );
        }
    }
}

fn file_with(crc: u32, data: Option<&[u8]>) -> Bytes {
    Bytes::from(pb::encode(&pb::SnapFile {
        crc,
        data: data.map(Bytes::copy_from_slice),
    }))
}

fn err(file: Bytes) -> Error {
    decode_snap_file(file).expect_err("must fail")
}

/// `Read` (etcd etcdserver/api/snap/snapshotter.go:169), checks in etcd's order.
#[test]
fn read_check_order() {
    let inner = pb::encode(&etcd_snap::Snapshot::default());
    let good = crc32c(&inner);
    // 1. zero-length file
    assert!(matches!(err(Bytes::new()), Error::EmptySnapshot));
    // 2. envelope decode errors come before the emptiness checks
    assert_eq!(
        err(Bytes::from_static(b"bad")).to_string(),
        "unexpected EOF"
    );
    assert_eq!(
        err(Bytes::from_static(&[0x0c])).to_string(),
        "proto: snapshot: wiretype end group for non-group"
    );
    assert_eq!(
        err(Bytes::from_static(&[0, 1])).to_string(),
        "proto: snapshot: illegal tag 0 (wire type 0)"
    );
    assert_eq!(
        err(Bytes::from_static(&[0x0a, 0])).to_string(),
        "proto: wrong wireType = 2 for field Crc"
    );
    assert_eq!(
        err(Bytes::from_static(&[0x12, 5, 1])).to_string(),
        "unexpected EOF"
    );
    // 3. crc only, data only, crc = 0 with valid data, empty data: all "empty snapshot"
    assert!(matches!(err(file_with(good, None)), Error::EmptySnapshot));
    let data_only = {
        let mut v = vec![0x12, inner.len() as u8];
        v.extend_from_slice(&inner);
        Bytes::from(v)
    };
    assert!(matches!(err(data_only), Error::EmptySnapshot));
    assert!(matches!(
        err(file_with(0, Some(&inner))),
        Error::EmptySnapshot
    ));
    assert!(matches!(
        err(file_with(good, Some(&[]))),
        Error::EmptySnapshot
    ));
    // 4. CRC mismatch, before looking at the inner bytes
    let e = err(file_with(good ^ 1, Some(&inner)));
    assert!(matches!(e, Error::CrcMismatch));
    assert_eq!(e.to_string(), "snap: crc mismatch");
    assert_eq!(e.code(), "ERR_CRC_MISMATCH");
    assert!(matches!(
        err(file_with(1, Some(&[0xff, 0xff]))),
        Error::CrcMismatch
    ));
    // 5. inner decode error with a valid CRC
    let e = err(file_with(crc32c(&[0xff, 0xff]), Some(&[0xff, 0xff])));
    assert_eq!(e.to_string(), "unexpected EOF");
    assert_eq!(e.code(), "ERR_DECODE");
    let e = err(file_with(
        crc32c(&[0x12, 0x01, 0x0c]),
        Some(&[0x12, 0x01, 0x0c]),
    ));
    assert_eq!(
        e.to_string(),
        "proto: SnapshotMetadata: wiretype end group for non-group"
    );
    // 6. success; unknown envelope fields are accepted
    let mut extra = file_with(good, Some(&inner)).to_vec();
    extra.extend_from_slice(&[0x1a, 0x01, 0x78]);
    assert_eq!(
        decode_snap_file(Bytes::from(extra)).unwrap(),
        etcd_snap::Snapshot::default()
    );
}

#[test]
fn crc32c_check_value() {
    assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    assert_eq!(crc32c(b""), 0);
}

/// A file gogo accepts but prost alone does not (CRC written as a 10-byte varint whose top
/// bits gogo drops) loads as it does in etcd.
#[test]
fn gogo_lenient_envelope_loads() {
    let snap = etcd_snap::Snapshot {
        data: Some(Bytes::from_static(b"v2")),
        ..Default::default()
    };
    let inner = pb::encode(&snap);
    let crc = u64::from(crc32c(&inner));
    let mut file = vec![0x08];
    for i in 0..9 {
        file.push(((crc >> (7 * i)) & 0x7f) as u8 | 0x80);
    }
    file.push(0x7e); // bits 63.. : ignored by gogo, rejected by prost
    file.push(0x12);
    file.push(inner.len() as u8);
    file.extend_from_slice(&inner);
    assert!(<pb::SnapFile as prost::Message>::decode(&file[..]).is_err());
    assert_eq!(decode_snap_file(Bytes::from(file)).unwrap(), snap);
}
