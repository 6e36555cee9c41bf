//! bbolt's reading of damaged dbs, compared with real `snapshot status` (etcdctl 3.4.23 with
//! bbolt 1.3.6; etcdutl 3.5.16 with bbolt 1.3.11) on dbs written by bbolt itself
//! (tests/js/viewer/gen-bigdb: two transactions, so the two meta pages point at different
//! trees, revisions R-1 and R) and then damaged. Issue 9, item 10: the meta page bbolt uses is
//! the one we use.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::etcd::{Version, per_version};
use crate::support::etcd_snap;

per_version!(
    newest_meta_with_an_odd_page_size_is_used_as_bbolt_uses_it,
    meta_page_0_states_the_page_size_even_when_it_is_odd,
    truncated_dbs_read_as_etcdctl_reads_them_with_a_warning,
    elements_running_into_the_next_page_read_as_etcdctl_reads_them_with_a_warning,
);

/// Builds gen-bigdb (offline, Debian's Go packages) once, and writes a small two-transaction
/// db with it.
fn generated_db() -> Vec<u8> {
    static DB: OnceLock<Vec<u8>> = OnceLock::new();
    DB.get_or_init(|| {
        let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("inspect-bbolt");
        std::fs::create_dir_all(&work).unwrap();
        let generator = crate::support::go::package("gen-bigdb", "tests/js/viewer/gen-bigdb");
        let db = work.join("two-tx.db");
        let out = Command::new(&generator)
            .arg("-out")
            .arg(&db)
            .args(["-size", "1", "-value", "10"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        std::fs::read(&db).unwrap()
    })
    .clone()
}

fn fnv64a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Offset of meta page `n`'s meta struct (4096-byte pages).
fn meta_at(n: usize) -> usize {
    n * 4096 + 16
}

fn txid(db: &[u8], n: usize) -> u64 {
    let o = meta_at(n) + 48;
    u64::from_le_bytes(db[o..o + 8].try_into().unwrap())
}

/// Sets the page size meta page `n` states, with a valid checksum.
fn set_page_size(db: &mut [u8], n: usize, ps: u32) {
    let o = meta_at(n);
    db[o + 8..o + 12].copy_from_slice(&ps.to_le_bytes());
    let sum = fnv64a(&db[o..o + 56]);
    db[o + 56..o + 64].copy_from_slice(&sum.to_le_bytes());
}

fn write(dir: &Path, name: &str, db: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, db).unwrap();
    p
}

/// `snapshot status FILE -w json` of etcd `v` (etcdctl's in 3.4, etcdutl's in 3.5): stdout
/// on success, `None` if it failed (or panicked).
fn etcdctl_status(v: Version, file: &Path) -> Option<String> {
    let out = v
        .snapshot_status(file)
        .args(["-w", "json"])
        .output()
        .expect("snapshot status");
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap().trim_end().to_owned())
}

fn newest_meta_with_an_odd_page_size_is_used_as_bbolt_uses_it(v: Version) {
    let tmp = tempfile::tempdir().unwrap();
    let good = generated_db();
    // bbolt writes meta page txid % 2: gen-bigdb's last transaction lands on page 1.
    assert!(txid(&good, 1) > txid(&good, 0));
    let newest = 1;
    let base = etcdctl_status(v, &write(tmp.path(), "good.db", &good)).expect("etcdctl reads it");

    // The newest meta states 4097: bbolt still reads every page at meta 0's size and uses
    // the newest meta (its page size field is not checked).
    let mut db = good.clone();
    set_page_size(&mut db, newest, 4097);
    let file = write(tmp.path(), "newest-4097.db", &db);
    let want = etcdctl_status(v, &file).expect("etcdctl reads it");
    assert_eq!(want, base, "etcdctl uses the newest meta");
    let ours = etcd_snap(["status".as_ref(), file.as_os_str()]);
    assert_eq!(ours.ok().trim_end(), want);

    // Any other page size the newest meta states, valid checksum: the same.
    for ps in [512, 8192, 65536, 1 << 20] {
        let mut db = good.clone();
        set_page_size(&mut db, newest, ps);
        let file = write(tmp.path(), &format!("newest-{ps}.db"), &db);
        assert_eq!(
            etcdctl_status(v, &file).as_deref(),
            Some(base.as_str()),
            "{ps}"
        );
        let ours = etcd_snap(["status".as_ref(), file.as_os_str()]);
        assert_eq!(ours.ok().trim_end(), base, "page size {ps}");
    }
}

fn meta_page_0_states_the_page_size_even_when_it_is_odd(v: Version) {
    // bbolt takes the page size of a valid meta page 0, 4097 included: meta page 1 and every
    // other page are then read at multiples of 4097, which is garbage. etcdctl panics on this
    // db; we must fail with a typed error, not read the db at 4096 as if nothing were wrong.
    let tmp = tempfile::tempdir().unwrap();
    let mut db = generated_db();
    set_page_size(&mut db, 0, 4097);
    let file = write(tmp.path(), "meta0-4097.db", &db);
    assert_eq!(etcdctl_status(v, &file), None, "etcdctl cannot read it");
    let ours = etcd_snap(["status".as_ref(), file.as_os_str()]);
    assert!(!ours.stderr.contains("panicked"), "{}", ours.stderr);
    assert!(ours.err().starts_with("page "), "{}", ours.stderr);
}

fn follower_db() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/etcd-3.4.23/cluster/follower-snap/00000000000015c5.snap.db"
    ))
    .unwrap()
}

/// Runs `etcd-snap status` and `etcdctl snapshot status` on `file`. Where etcdctl answers, we
/// give its JSON byte for byte, and unless that equals `undamaged` (the damage lies where
/// nothing reads it) a `warning:` line containing `warning`; where it fails (or panics), we
/// fail with a typed error. Returns whether etcdctl answered with other numbers.
fn same_as_etcdctl(v: Version, file: &Path, undamaged: Option<&str>, warning: &str) -> bool {
    let ours = etcd_snap(["status".as_ref(), file.as_os_str()]);
    assert!(!ours.stderr.contains("panicked"), "{}", ours.stderr);
    match etcdctl_status(v, file) {
        Some(want) => {
            assert_eq!(
                ours.ok().trim_end(),
                want,
                "{}: {}",
                file.display(),
                ours.stderr
            );
            if undamaged == Some(want.as_str()) {
                return false;
            }
            assert!(
                ours.stderr
                    .lines()
                    .any(|l| l.starts_with("warning: ") && l.contains(warning)),
                "{}: a warning about {warning:?}: {:?}",
                file.display(),
                ours.stderr
            );
            true
        }
        None => {
            ours.err();
            false
        }
    }
}

fn truncated_dbs_read_as_etcdctl_reads_them_with_a_warning(v: Version) {
    // bbolt maps the file and never compares it with the high water mark: etcdctl reports
    // a truncated db as long as nothing past the end is reached (zeros up to the end of the
    // last OS page). We report the same numbers and warn; where etcdctl fails, so do we.
    let tmp = tempfile::tempdir().unwrap();
    let good = follower_db();
    let mut answered = 0;
    let lens = (8192..good.len()).step_by(4096).flat_map(|l| [l, l + 1000]);
    for len in lens {
        let file = write(tmp.path(), &format!("cut-{len}.db"), &good[..len]);
        answered += usize::from(same_as_etcdctl(v, &file, None, "high water mark"));
    }
    assert!(answered >= 3, "etcdctl read {answered} truncated dbs");
}

/// Leaf pages without overflow of a db (4096-byte pages): `(page id, element count)`.
fn leaf_pages(db: &[u8]) -> Vec<(usize, usize)> {
    (2..db.len() / 4096)
        .filter_map(|id| {
            let p = &db[id * 4096..];
            let flags = u16::from_le_bytes([p[8], p[9]]);
            let count = u16::from_le_bytes([p[10], p[11]]) as usize;
            let overflow = u32::from_le_bytes(p[12..16].try_into().unwrap());
            let id_in_header = u64::from_le_bytes(p[..8].try_into().unwrap()) as usize;
            (flags == 0x02 && count > 0 && overflow == 0 && id_in_header == id)
                .then_some((id, count))
        })
        .collect()
}

fn elements_running_into_the_next_page_read_as_etcdctl_reads_them_with_a_warning(v: Version) {
    // bbolt reads an element whose value runs past its page from the bytes after it (the
    // next pages of the map); etcdctl reports what it read. The last value of each leaf page
    // is made longer by a few bytes to a few pages, staying inside the file.
    let tmp = tempfile::tempdir().unwrap();
    let good = follower_db();
    let base = etcdctl_status(v, &write(tmp.path(), "good.db", &good)).unwrap();
    let mut answered = 0;
    for (id, count) in leaf_pages(&good) {
        for grow in [100u32, 5000] {
            let mut db = good.clone();
            let h = id * 4096 + 16 + (count - 1) * 16;
            let vsize = u32::from_le_bytes(db[h + 12..h + 16].try_into().unwrap()) + grow;
            let pos = u32::from_le_bytes(db[h + 4..h + 8].try_into().unwrap());
            let ksize = u32::from_le_bytes(db[h + 8..h + 12].try_into().unwrap());
            let end = h + (pos + ksize + vsize) as usize;
            if end <= (id + 1) * 4096 || end > db.len() {
                continue;
            }
            db[h + 12..h + 16].copy_from_slice(&vsize.to_le_bytes());
            let file = write(tmp.path(), &format!("spill-{id}-{grow}.db"), &db);
            answered += usize::from(same_as_etcdctl(
                v,
                &file,
                Some(&base),
                "into the next pages",
            ));
        }
    }
    assert!(answered >= 3, "etcdctl read {answered} of the spilled dbs");
}
