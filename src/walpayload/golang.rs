//! The few Go formatting rules etcd-dump-logs' lines depend on: `%q` (strconv.Quote, in
//! [`crate::go_fmt`], which the error messages use too), `time.Time.String()` in UTC, and
//! `types.ID.String()`.

pub use crate::go_fmt::quote;

/// etcd `types.ID.String()`: lowercase hex, no padding (client/pkg/types/id.go).
pub fn format_id(id: u64) -> String {
    format!("{id:x}")
}

/// etcd-dump-logs `excerpt` (tools/etcd-dump-logs/main.go): the whole string quoted when
/// `pre + suf` exceeds its length, else its first `pre` and last `suf` bytes quoted around
/// `...` (byte offsets, as Go slices a string).
pub fn excerpt(s: &[u8], pre: usize, suf: usize) -> String {
    if pre + suf > s.len() {
        return quote(s);
    }
    format!("{}...{}", quote(&s[..pre]), quote(&s[s.len() - suf..]))
}

/// Go's `time.Unix(0, nanos).UTC().String()`: `2006-01-02 15:04:05.999999999 +0000 UTC`
/// (fraction without trailing zeros, none when whole).
pub fn unix_nanos_utc(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    );
    if frac != 0 {
        let f = format!("{frac:09}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
}

/// Howard Hinnant's days-to-civil (proleptic Gregorian), days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_formats() {
        assert_eq!(
            quote(b"a\"b\\\n\x01\xff\xe2\x82\xac"),
            r#""a\"b\\\n\x01\xff€""#
        );
        assert_eq!(excerpt(b"abc", 1, 1), r#""a"..."c""#);
        assert_eq!(excerpt(b"abc", 2, 2), r#""abc""#);
        assert_eq!(unix_nanos_utc(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            unix_nanos_utc(1_600_000_000_120_000_000),
            "2020-09-13 12:26:40.12 +0000 UTC"
        );
        assert_eq!(
            unix_nanos_utc(-1),
            "1969-12-31 23:59:59.999999999 +0000 UTC"
        );
        assert_eq!(format_id(0x8e9e05c52164694d), "8e9e05c52164694d");
    }
}
