//! Differential test against etcd 3.4's own decoder: thousands of malformed inputs (mutated,
//! truncated and spliced encodings of every message type, plus random bytes) are decoded by
//! etcd-snap and by gogo (tests/oracle/gogo_oracle.go, built from Debian's
//! golang-etcd-server-dev, which .ci/setup installs); verdicts and decoded values must agree.
//! Requires `go`; it fails (does not skip) without it.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::support::pb::*;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

fn run_oracle(bin: &std::path::Path, cases: &[(&'static str, Vec<u8>)]) -> Vec<String> {
    let mut child = Command::new(bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn oracle");
    let mut input = String::new();
    for (typ, b) in cases {
        input.push_str(typ);
        input.push(' ');
        input.push_str(&hex(b));
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("oracle output");
    writer.join().unwrap().expect("write oracle stdin");
    assert!(out.status.success(), "oracle failed");
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        lines.len(),
        cases.len(),
        "oracle answered {} of {} cases",
        lines.len(),
        cases.len()
    );
    lines
}

/// `ETCD_SNAP_DIFF_SCALE=N` runs N times as many cases (each scale step has its own seed), for
/// deeper runs by hand; the default keeps the test at a few seconds.
fn generate_cases() -> Vec<(&'static str, Vec<u8>)> {
    let scale: u64 = std::env::var("ETCD_SNAP_DIFF_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    (0..scale.max(1)).flat_map(generate_batch).collect()
}

fn generate_batch(batch: u64) -> Vec<(&'static str, Vec<u8>)> {
    let mut runner = TestRunner::new_with_rng(
        Default::default(),
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &[batch as u8; 32],
        ),
    );
    let mut r = splitmix(0x5eed_e7cd ^ batch);
    let strategy = arb_encoded();
    let mut cases = Vec::new();
    for _ in 0..2500 {
        let (typ, valid) = strategy.new_tree(&mut runner).unwrap().current();
        cases.push((typ, valid.clone()));
        for _ in 0..8 {
            cases.push((typ, mutate(&valid, &mut r)));
        }
        // the same bytes read as another type
        let other = TYPES[(r() % TYPES.len() as u64) as usize];
        cases.push((other, mutate(&valid, &mut r)));
    }
    for _ in 0..3000 {
        let typ = TYPES[(r() % TYPES.len() as u64) as usize];
        let n = (r() % 24) as usize;
        cases.push((typ, (0..n).map(|_| r() as u8).collect()));
    }
    cases
}

#[test]
fn etcd_snap_decodes_like_etcd_gogo() {
    let bin = crate::support::go::oracle("gogo_oracle");
    let cases = generate_cases();
    let go = run_oracle(&bin, &cases);

    let (mut mismatches, mut lenient, mut errors, mut oks) = (Vec::new(), 0, 0, 0);
    for ((typ, b), want) in cases.iter().zip(&go) {
        let got = verdict(typ, b);
        let agree = match (want.split_once(' ').unwrap_or((want.as_str(), "")), &got) {
            (("OK", h), Ok(g)) => h == g,
            (("ERR", e), Err(g)) => e == g,
            (("PANIC", _), Err(g)) => g == "proto: negative length found during unmarshaling",
            _ => false,
        };
        if !agree {
            mismatches.push(format!("{typ} {}: gogo {want}, etcd-snap {got:?}", hex(b)));
        }
        let prost_ok = prost_accepts(typ, b);
        if want.starts_with("OK") {
            oks += 1;
            lenient += usize::from(!prost_ok);
        } else {
            errors += 1;
            // prost must never accept what gogo rejects: `pb::decode` trusts prost's successes.
            if prost_ok {
                mismatches.push(format!("{typ} {}: prost accepts, gogo says {want}", hex(b)));
            }
        }
    }
    eprintln!(
        "{} cases: {oks} accepted ({lenient} only through the gogo replay), {errors} rejected",
        cases.len()
    );
    assert!(
        errors > 5000 && oks > 5000,
        "generator lost its balance: {oks} ok / {errors} err"
    );
    assert!(
        lenient > 50,
        "too few gogo-lenient cases exercised: {lenient}"
    );
    assert!(
        mismatches.is_empty(),
        "{} disagreements with gogo:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// gogo's `Size()` counts the unknown fields it keeps (`XXX_unrecognized`, at every level);
/// `pb::size` must give etcd's number for every input gogo accepts, as `pb_size` /
/// `msg_size` report it (issue 9, item 10).
#[test]
fn gogo_size_counts_unknown_fields_like_etcd() {
    use bytes::Bytes;
    use etcd_snap::pb::{self, Message, Snapshot};
    let bin = crate::support::go::oracle("gogo_oracle");
    let cases: Vec<(&'static str, Vec<u8>)> = generate_cases()
        .into_iter()
        .filter_map(|(t, b)| match t {
            "raftpb.Snapshot" => Some(("size:raftpb.Snapshot", b)),
            "raftpb.Message" => Some(("size:raftpb.Message", b)),
            _ => None,
        })
        .collect();
    let go = run_oracle(&bin, &cases);
    let (mut checked, mut with_unknown, mut mismatches) = (0, 0, Vec::new());
    for ((typ, b), want) in cases.iter().zip(&go) {
        let Some(want) = want.strip_prefix("SIZE ") else {
            continue;
        };
        let raw = Bytes::from(b.clone());
        let (got, known) = if *typ == "size:raftpb.Message" {
            let m: Message = pb::decode(raw).expect("gogo accepted it");
            let (size, snap) = pb::size::message_size(&m, b).unwrap();
            let known = prost::Message::encoded_len(&m);
            (format!("{size} {snap}"), known as u64 != size)
        } else {
            let s: Snapshot = pb::decode(raw).expect("gogo accepted it");
            let size = pb::size::snapshot_size(&s, b).unwrap();
            (
                size.to_string(),
                prost::Message::encoded_len(&s) as u64 != size,
            )
        };
        checked += 1;
        with_unknown += usize::from(known);
        if got != want {
            mismatches.push(format!("{typ} {}: gogo {want}, etcd-snap {got}", hex(b)));
        }
    }
    eprintln!("{checked} accepted inputs, {with_unknown} with unknown fields");
    assert!(
        checked > 500 && with_unknown > 50,
        "{checked} / {with_unknown}"
    );
    assert!(
        mismatches.is_empty(),
        "{} sizes differ from gogo's:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(20)].join("\n")
    );
}
