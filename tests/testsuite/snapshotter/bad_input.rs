//! Bad input through the Snapshotter: every case is a typed error with etcd's message, nothing
//! is lost, nothing panics. Both backends.

use crate::support::snapshotter::{Env, open};
use bytes::Bytes;
use etcd_snap::codec::{crc32c, encode_snap_file};
use etcd_snap::names::{db_name, snap_name};
use etcd_snap::pb::{self, DecodeError, SnapFile};
use etcd_snap::{ConfState, Error, Snapshot, SnapshotMetadata};
use futures_util::io::Cursor;

fn test_snap() -> Snapshot {
    Snapshot {
        data: Some(Bytes::from_static(b"some snapshot")),
        metadata: SnapshotMetadata {
            conf_state: ConfState {
                voters: vec![1, 2, 3],
                ..Default::default()
            },
            index: 1,
            term: 1,
        },
    }
}

const NAME: &str = "0000000000000001-0000000000000001.snap";

/// Reads `bytes` stored as `NAME`; then Load must quarantine it (content kept) and report
/// `ErrNoSnapshot`.
async fn read_err<E: Env>(env: &E, bytes: &[u8]) -> Error {
    env.put(NAME, bytes);
    let ss = open(env).await;
    let err = ss.read(NAME).await.unwrap_err();
    let load = ss.load().await.unwrap_err();
    assert!(matches!(load, Error::NoSnapshot), "{load:?}");
    assert_eq!(env.names(), [format!("{NAME}.broken")]);
    assert_eq!(env.get(&format!("{NAME}.broken")).unwrap(), bytes);
    err
}

async fn truncated<E: Env>(env: E) {
    let mut file = encode_snap_file(&test_snap());
    file.truncate(file.len() - 3);
    let err = read_err(&env, &file).await;
    assert!(
        matches!(err, Error::Decode(DecodeError::UnexpectedEof)),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "unexpected EOF");
    assert_eq!(err.code(), "ERR_DECODE");
}

async fn zero_length<E: Env>(env: E) {
    let err = read_err(&env, b"").await;
    assert!(matches!(err, Error::EmptySnapshot), "{err:?}");
}

async fn wrong_crc<E: Env>(env: E) {
    let inner = pb::encode(&test_snap());
    let file = pb::encode(&SnapFile {
        crc: crc32c(&inner).wrapping_add(1),
        data: Some(Bytes::from(inner)),
    });
    let err = read_err(&env, &file).await;
    assert!(matches!(err, Error::CrcMismatch), "{err:?}");
}

async fn varint_overflow<E: Env>(env: E) {
    let err = read_err(&env, &[0xff; 16]).await;
    assert_eq!(err.to_string(), "proto: integer overflow");
}

/// Garbage shapes `Read` rejects (etcd etcdserver/api/snap/snapshotter.go:169), with gogo's message.
async fn envelope_garbage<E: Env>(env: E) {
    let inner = pb::encode(&test_snap());
    let data_only = pb::encode(&SnapFile {
        crc: 0,
        data: Some(Bytes::from(inner)),
    });
    let mut crc_zero_then_data = vec![0x08, 0x00];
    crc_zero_then_data.extend_from_slice(&data_only);
    let bad_inner = vec![0xff, 0xff];
    let inner_garbage = pb::encode(&SnapFile {
        crc: crc32c(&bad_inner),
        data: Some(Bytes::from(bad_inner)),
    });
    let cases: [(&[u8], &str); 9] = [
        (b"bad", "unexpected EOF"),
        (&[0x0c], "proto: snapshot: wiretype end group for non-group"),
        (
            &[0x00, 0x01],
            "proto: snapshot: illegal tag 0 (wire type 0)",
        ),
        (&[0x0a, 0x00], "proto: wrong wireType = 2 for field Crc"),
        // crc only
        (&[0x08, 0x01], "snap: empty snapshot"),
        // data only (crc defaults to 0)
        (&data_only, "snap: empty snapshot"),
        // crc=0 with valid data
        (&crc_zero_then_data, "snap: empty snapshot"),
        // data length runs past EOF
        (&[0x08, 0x01, 0x12, 0x05, 0x00], "unexpected EOF"),
        // good CRC over inner bytes ff ff
        (&inner_garbage, "unexpected EOF"),
    ];
    let ss = open(&env).await;
    for (i, (bytes, want)) in cases.iter().enumerate() {
        let name = format!("{i}.snap");
        env.put(&name, bytes);
        let err = ss.read(&name).await.unwrap_err();
        assert_eq!(err.to_string(), *want, "{bytes:02x?}");
    }
}

/// Unknown fields in the envelope and in the inner snapshot are accepted (etcd 3.4 keeps
/// them; decoding must not fail).
async fn unknown_fields_accepted<E: Env>(env: E) {
    let mut file = encode_snap_file(&test_snap());
    file.extend_from_slice(&[0x18, 0x2a]); // field 3, varint 42
    let mut inner = pb::encode(&test_snap());
    inner.extend_from_slice(&[0x7a, 0x02, b'h', b'i']); // field 15, bytes "hi"
    let inner_file = pb::encode(&SnapFile {
        crc: crc32c(&inner),
        data: Some(Bytes::from(inner)),
    });
    env.put(NAME, &file);
    env.put("0000000000000000-0000000000000001.snap", &inner_file);
    let ss = open(&env).await;
    assert_eq!(ss.read(NAME).await.unwrap(), test_snap());
    assert_eq!(
        ss.read("0000000000000000-0000000000000001.snap")
            .await
            .unwrap(),
        test_snap()
    );
    assert_eq!(ss.load().await.unwrap(), test_snap());
    assert_eq!(env.names().len(), 2, "nothing renamed");
}

/// A directory named `x.snap`: Read fails with a storage error; Load renames it
/// `x.snap.broken`, as etcd does, and goes on to the next name.
async fn directory_named_snap<E: Env>(env: E) {
    env.mkdir("x.snap");
    env.put(NAME, &encode_snap_file(&test_snap()));
    let ss = open(&env).await;
    let err = ss.read("x.snap").await.unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert!(err.to_string().contains("is a directory"), "{err}");
    assert_eq!(ss.load().await.unwrap(), test_snap());
    assert_eq!(env.names(), [NAME, "x.snap.broken"]);
}

/// Term and index 2^64−1 in names, files and db names.
async fn max_term_and_index<E: Env>(env: E) {
    let mut s = test_snap();
    s.metadata.term = u64::MAX;
    s.metadata.index = u64::MAX;
    let ss = open(&env).await;
    ss.save_snap(&s).await.unwrap();
    assert_eq!(env.names(), [snap_name(u64::MAX, u64::MAX)]);
    assert_eq!(
        snap_name(u64::MAX, u64::MAX),
        "ffffffffffffffff-ffffffffffffffff.snap"
    );
    assert_eq!(ss.load().await.unwrap(), s);
    let n = ss
        .save_db_from(Cursor::new(b"x".to_vec()), u64::MAX)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert!(
        ss.db_file_path(u64::MAX)
            .await
            .unwrap()
            .ends_with("ffffffffffffffff.snap.db")
    );
    env.put(&db_name(u64::MAX - 1), b"y");
    env.put("10000000000000000.snap.db", b"overflow: skipped");
    ss.release_snap_dbs(&s).await.unwrap();
    assert_eq!(
        env.names(),
        [
            "10000000000000000.snap.db",
            "ffffffffffffffff-ffffffffffffffff.snap",
            "ffffffffffffffff.snap.db",
        ]
    );
}

/// Names that are not plain file names are refused with a typed error, never used as paths.
async fn hostile_names<E: Env>(env: E) {
    let ss = open(&env).await;
    for name in ["../x.snap", "a/b.snap", "", "..", "nul\0.snap"] {
        let err = ss.read(name).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(_) | Error::Io(_)),
            "{name:?}: {err:?}"
        );
    }
}

crate::both_backends!(
    truncated,
    zero_length,
    wrong_crc,
    varint_overflow,
    envelope_garbage,
    unknown_fields_accepted,
    directory_named_snap,
    max_term_and_index,
    hostile_names,
);

mod native_only {

    use etcd_snap::storage::NativeStorage;
    use etcd_snap::{LockMode, Options, Snapshotter};
    use futures_executor::block_on;
    use futures_util::io::Cursor;

    use crate::support::snapshotter::{Env, NativeEnv};

    /// A missing directory: every operation reports Go's `*os.PathError` wording, and open
    /// with the lock fails instead of creating anything.
    #[test]
    fn missing_directory_errors() {
        block_on(async {
            let env = NativeEnv::new();
            let dir = env.dir.path().join("gone");
            let d = dir.display().to_string();
            let locked = Snapshotter::open(NativeStorage::new(&dir), Options::default()).await;
            assert!(locked.is_err(), "lock on a missing directory must fail");
            assert!(!dir.exists());
            let opts = Options {
                lock: None,
                ..Options::default()
            };
            let ss = Snapshotter::open(NativeStorage::new(&dir), opts)
                .await
                .unwrap();
            let want = format!("open {d}: no such file or directory");
            assert_eq!(ss.load().await.unwrap_err().to_string(), want);
            assert_eq!(ss.db_file_path(1).await.unwrap_err().to_string(), want);
            let err = ss
                .save_db_from(Cursor::new(b"x".to_vec()), 1)
                .await
                .unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.starts_with(&format!("open {d}/tmp"))
                    && msg.ends_with(": no such file or directory"),
                "{msg}"
            );
            assert!(err.is_not_found());
        });
    }

    #[test]
    fn lock_wait_native() {
        use futures_util::future::{FutureExt as _, join};
        let env = NativeEnv::new();
        block_on(async {
            let first = crate::support::snapshotter::open(&env).await;
            let opts = Options {
                lock: Some(LockMode::Wait),
                ..Options::default()
            };
            let mut second = Box::pin(Snapshotter::open(env.storage(), opts));
            assert!((&mut second).now_or_never().is_none(), "must wait");
            let (second, ()) = join(second, async { drop(first) }).await;
            second.unwrap();
        });
    }
}
