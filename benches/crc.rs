//! CRC-32C crates side by side: MB/s at 4 KiB, 1 MiB and 64 MiB, for choosing the one behind
//! `etcd_snap::codec::crc32c` (every `.snap` read and write checksums the whole payload).
//!
//! Native:  `cargo bench --bench crc`
//! wasm32:  `make bench-crc-wasm` (builds this same file for wasm32-wasip1 through
//!          benches/crc-wasi/ and runs it under Node's built-in WASI with benches/crc-wasi.mjs).
//!
//! Each cell is the best of 5 interleaved runs of at least 100 ms (4 KiB: the same buffer
//! hashed repeatedly, cache-hot; 64 MiB: far larger than any cache).

use std::hint::black_box;
use std::time::{Duration, Instant};

/// etcd-snap's own braided software CRC-32C (the one `codec::crc32c` uses on wasm32).
#[path = "../src/crc32c_braid.rs"]
#[cfg_attr(test, allow(dead_code, unused_imports))] // its unit tests run with the lib
mod crc32c_braid;

type CrcFn = fn(&[u8]) -> u32;

fn braided(b: &[u8]) -> u32 {
    crc32c_braid::crc32c_append(0, b)
}

fn crc32c_crate(b: &[u8]) -> u32 {
    crc32c::crc32c(b)
}

fn crc_fast_crate(b: &[u8]) -> u32 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, b) as u32
}

static CRC_TABLE16: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);

fn crc_crate_slice16(b: &[u8]) -> u32 {
    CRC_TABLE16.checksum(b)
}

static CRC_TABLE1: crc::Crc<u32, crc::Table<1>> =
    crc::Crc::<u32, crc::Table<1>>::new(&crc::CRC_32_ISCSI);

fn crc_crate_table1(b: &[u8]) -> u32 {
    CRC_TABLE1.checksum(b)
}

const CANDIDATES: &[(&str, CrcFn)] = &[
    ("crc32c 0.6 (native)", crc32c_crate),
    ("braided N=10 (wasm32)", braided),
    ("crc-fast 1.10", crc_fast_crate),
    ("crc 3.4 Table<16>", crc_crate_slice16),
    ("crc 3.4 Table<1>", crc_crate_table1),
];

const SIZES: &[(usize, &str)] = &[(4 << 10, "4 KiB"), (1 << 20, "1 MiB"), (64 << 20, "64 MiB")];

/// One timed run of at least 100 ms, in MB/s.
fn run(f: CrcFn, buf: &[u8]) -> f64 {
    let min = Duration::from_millis(100);
    let start = Instant::now();
    let mut bytes = 0usize;
    while start.elapsed() < min {
        black_box(f(black_box(buf)));
        bytes += buf.len();
    }
    bytes as f64 / start.elapsed().as_secs_f64() / 1e6
}

fn main() {
    // Correctness first: etcd's check value and agreement on a pseudo-random buffer.
    let mut buf = vec![0u8; SIZES.iter().map(|s| s.0).max().unwrap()];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for b in buf.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let reference = crc32c_crate(&buf[..1 << 20]);
    for (name, f) in CANDIDATES {
        assert_eq!(f(b"123456789"), 0xE306_9283, "{name}: wrong check value");
        assert_eq!(
            f(&buf[..1 << 20]),
            reference,
            "{name}: disagrees with crc32c"
        );
        assert_eq!(
            f(&buf[..777]),
            crc32c_crate(&buf[..777]),
            "{name}: odd length"
        );
    }

    let target = if cfg!(target_arch = "wasm32") {
        "wasm32"
    } else {
        std::env::consts::ARCH
    };
    println!("CRC-32C throughput, MB/s (best of 5), {target}");
    print!("| {:<24} |", "crate");
    for (_, label) in SIZES {
        print!(" {label:>9} |");
    }
    println!(" vs crc32c @1 MiB |");
    print!("|{:-<26}|", "");
    for _ in SIZES {
        print!("{:->11}|", "");
    }
    println!("{:->18}|", "");
    // Runs are interleaved (every candidate once per round, 5 rounds, best kept) so that load
    // from other processes hits all candidates alike.
    let mut best = vec![[0f64; SIZES.len()]; CANDIDATES.len()];
    for _round in 0..5 {
        for (s, (size, _)) in SIZES.iter().enumerate() {
            for (c, (_, f)) in CANDIDATES.iter().enumerate() {
                best[c][s] = best[c][s].max(run(*f, &buf[..*size]));
            }
        }
    }
    let one_mib = SIZES.iter().position(|s| s.0 == 1 << 20).unwrap();
    for (c, (name, _)) in CANDIDATES.iter().enumerate() {
        print!("| {name:<24} |");
        for r in &best[c] {
            print!(" {r:>9.0} |");
        }
        println!(" {:>15.2}x |", best[c][one_mib] / best[0][one_mib]);
    }
}
