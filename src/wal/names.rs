//! WAL segment names, parsed as etcd parses them, and the sorting and selection rules over
//! them (etcd wal/util.go).

use std::fmt;

/// `.wal`: the suffix `parseWALName` requires.
pub const WAL_SUFFIX: &str = ".wal";

/// The `(seq, index)` of a `%016x-%016x.wal` segment: its sequence number and the raft index
/// of its first entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentName {
    /// Sequence number, counting from 0.
    pub seq: u64,
    /// The index after which the segment starts (the last index of the previous one).
    pub index: u64,
}

impl SegmentName {
    /// Parses a name as etcd's `parseWALName` (etcd wal/util.go:114): it must end in `.wal`,
    /// then `fmt.Sscanf(name, "%016x-%016x.wal")` must match its start. Go's scanner is
    /// lenient and so is this: each number is up to 16 runes counting leading white space,
    /// of one or more hex digits of either case, and anything may follow the final `.wal`
    /// (`1-2.wal`, `00…01-00…02.wal.wal` are segments to etcd).
    pub fn parse(name: &str) -> Option<SegmentName> {
        if !name.ends_with(WAL_SUFFIX) {
            return None;
        }
        let mut s = Scanner {
            rest: name.chars().collect(),
            pos: 0,
        };
        let seq = s.hex16()?;
        s.literal('-')?;
        let index = s.hex16()?;
        for c in WAL_SUFFIX.chars() {
            s.literal(c)?;
        }
        Some(SegmentName { seq, index })
    }

    /// etcd's `walName`: `%016x-%016x.wal`.
    pub fn file_name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for SegmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}-{:016x}{WAL_SUFFIX}", self.seq, self.index)
    }
}

/// Go's `fmt.Sscanf` over one input, as far as `%016x-%016x.wal` needs it.
struct Scanner {
    rest: Vec<char>,
    pos: usize,
}

impl Scanner {
    /// `%016x` into a `uint64`: `SkipSpace` then hex digits, all within a width of 16 runes
    /// (Go fmt/scan.go `scanUint`; the width bounds the spaces too, and a newline is an error).
    fn hex16(&mut self) -> Option<u64> {
        let limit = (self.pos + 16).min(self.rest.len());
        while self.pos < limit {
            let c = self.rest[self.pos];
            if c == '\r' && self.rest.get(self.pos + 1) == Some(&'\n') {
                self.pos += 1;
                continue;
            }
            if c == '\n' || !c.is_whitespace() {
                break;
            }
            self.pos += 1;
        }
        let start = self.pos;
        while self.pos < limit && self.rest[self.pos].is_ascii_hexdigit() {
            self.pos += 1;
        }
        if self.pos == start {
            return None;
        }
        let digits: String = self.rest[start..self.pos].iter().collect();
        u64::from_str_radix(&digits, 16).ok()
    }

    fn literal(&mut self, want: char) -> Option<()> {
        (self.rest.get(self.pos) == Some(&want)).then(|| self.pos += 1)
    }
}

/// What a name in the WAL folder is to etcd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalFileKind {
    /// A segment (`parseWALName` accepts it).
    Segment(SegmentName),
    /// `0.tmp` / `1.tmp`: the file pipeline's preallocated next segment (etcd
    /// wal/file_pipeline.go:73).
    Spare,
    /// Another `*.tmp` name, or a `*.broken` copy `Repair` left (etcd wal/repair.go:70).
    Leftover,
    /// Anything else: etcd warns "ignored file in WAL directory" (etcd wal/util.go:100).
    Other,
}

/// Classifies one name of the WAL folder.
pub fn classify(name: &str) -> WalFileKind {
    if let Some(seg) = SegmentName::parse(name) {
        return WalFileKind::Segment(seg);
    }
    if let Some(stem) = name.strip_suffix(".tmp") {
        if !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()) {
            return WalFileKind::Spare;
        }
        return WalFileKind::Leftover;
    }
    if name.contains(".broken") {
        return WalFileKind::Leftover;
    }
    WalFileKind::Other
}

/// etcd's `searchIndex` (etcd wal/util.go:41): the last position (names sorted) whose index is
/// at most `index`.
pub fn search_index(names: &[SegmentName], index: u64) -> Option<usize> {
    names.iter().rposition(|n| index >= n.index)
}

/// etcd's `isValidSeq` (etcd wal/util.go:61): each seq is the previous plus one, except that a
/// previous seq of 0 checks nothing (as etcd's `lastSeq != 0` test has it).
pub fn is_valid_seq(names: &[SegmentName]) -> bool {
    let mut last = 0u64;
    for n in names {
        if last != 0 && last != n.seq.wrapping_sub(1) {
            return false;
        }
        last = n.seq;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_go_sscanf() {
        let n = SegmentName::parse("0000000000000001-00000000000000ff.wal").unwrap();
        assert_eq!((n.seq, n.index), (1, 255));
        assert_eq!(n.file_name(), "0000000000000001-00000000000000ff.wal");
        assert_eq!(
            SegmentName::parse("1-2.wal"),
            Some(SegmentName { seq: 1, index: 2 })
        );
        assert!(SegmentName::parse("0000000000000001-0000000000000002.wal.tmp").is_none());
        assert!(SegmentName::parse("00000000000000001-0000000000000002.wal").is_none());
        assert!(SegmentName::parse("x-2.wal").is_none());
    }
}
