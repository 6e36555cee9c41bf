//! gogo-protobuf's decoder, replayed: etcd 3.4's generated `Unmarshal` (and `skipRaft` /
//! `skipSnap`) walked over the bytes with a static [`Schema`], to get gogo's verdict.
//!
//! prost is the fast decoder; this walker exists for the two places where prost and gogo part
//! ways. When prost rejects a buffer, [`explain`] reports the error gogo would have reported,
//! word for word. And gogo accepts some inputs prost rejects (10-byte varints whose last byte is
//! 2..=0x7f, field numbers ≥ 2^29 or wrapping to a known field through gogo's `int32(wire>>3)`,
//! groups closed by a different field number or nested over 100 deep, packed varints straddling
//! the packed length); for those, [`canonicalize`] re-encodes gogo's reading of the bytes in a
//! form prost decodes to the same value. Unknown fields are dropped, as prost drops them.
//!
//! Go `int` arithmetic is replayed exactly, including where it wraps: a packed length that
//! overflows is silently read as empty, as gogo 3.4 does. Where gogo 3.4 *panics* (a bytes or
//! message length, or a skipped field, reaching past 2^63−1, which crashes etcd) this reports
//! `proto: negative length found during unmarshaling`, the error gogo 1.3 (etcd 3.5) gives.

use prost::encoding::{WireType, encode_key, encode_varint};

pub use crate::error::DecodeError;

/// The wire shape of a known field, enough to replay gogo's checks.
#[derive(Debug, Clone, Copy)]
pub enum FieldKind {
    /// A varint scalar (integers, bools, enums).
    Varint,
    /// A repeated varint, packed or not.
    RepeatedVarint,
    /// A length-delimited bytes field.
    Bytes,
    /// An embedded message (repeated or not).
    Message(&'static Schema),
}

/// One message's fields as gogo's `Unmarshal` knows them.
#[derive(Debug)]
pub struct Schema {
    /// Proto message name, as in gogo's errors.
    pub name: &'static str,
    /// `(field number, Go field name, kind)`.
    pub fields: &'static [(u32, &'static str, FieldKind)],
}

/// Replays gogo's `Unmarshal` over `buf`; returns the error it would report, if any.
pub fn explain(schema: &'static Schema, buf: &[u8]) -> Option<DecodeError> {
    walk(schema, buf, None, None).err()
}

/// The unknown fields gogo keeps while decoding one message: etcd 3.4's generated code
/// appends each one, key included, to the message's `XXX_unrecognized`, re-emits them on
/// `Marshal` and counts them in `Size()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unknown {
    /// Bytes of this message's unknown fields.
    pub here: u64,
    /// Each embedded message field as it occurred, in input order: `(field number, its
    /// unknown fields)`.
    pub children: Vec<(u32, Unknown)>,
}

impl Unknown {
    /// A singular embedded message: gogo merges every occurrence into one value, so their
    /// unknown fields add up.
    pub fn merged(&self, field: u32) -> Unknown {
        let mut m = Unknown::default();
        for (_, c) in self.children.iter().filter(|(f, _)| *f == field) {
            m.here += c.here;
            m.children.extend(c.children.iter().cloned());
        }
        m
    }

    /// A repeated embedded message: one value per occurrence.
    pub fn each(&self, field: u32) -> impl Iterator<Item = &Unknown> {
        self.children
            .iter()
            .filter(move |(f, _)| *f == field)
            .map(|(_, c)| c)
    }
}

/// The unknown fields of `buf` read as `schema`, message by message, or gogo's error.
pub fn unknown(schema: &'static Schema, buf: &[u8]) -> Result<Unknown, DecodeError> {
    let mut u = Unknown::default();
    walk(schema, buf, None, Some(&mut u))?;
    Ok(u)
}

/// gogo's reading of `buf` re-encoded canonically (known fields only, in input order, minimal
/// varints, unpacked repeated fields), or gogo's error. prost decodes the result to exactly the
/// value gogo decodes from `buf`.
pub fn canonicalize(schema: &'static Schema, buf: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(buf.len());
    walk(schema, buf, Some(&mut out), None)?;
    Ok(out)
}

/// Go's `int` maximum: past it, gogo 3.4's index arithmetic wraps.
pub(crate) const GO_INT_MAX: u128 = i64::MAX as u128;

/// gogo's varint loop: the overflow check comes before the EOF check, so an 11th byte is an
/// overflow even at end of input; bits past 64 are dropped.
fn read_varint(d: &[u8], i: &mut usize) -> Result<u64, DecodeError> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        if shift >= 64 {
            return Err(DecodeError::IntegerOverflow);
        }
        let b = *d.get(*i).ok_or(DecodeError::UnexpectedEof)?;
        *i += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(v);
        }
        shift += 7;
    }
}

/// A length prefix as Go's `int`, rejected when negative (gogo's `ErrInvalidLength`).
fn read_len(d: &[u8], i: &mut usize) -> Result<u128, DecodeError> {
    let n = read_varint(d, i)? as i64;
    u128::try_from(n).map_err(|_| DecodeError::NegativeLength)
}

/// The end of a length-delimited value starting at `i`, checked as gogo checks it.
fn delimited_end(d: &[u8], i: usize, len: u128) -> Result<usize, DecodeError> {
    let end = i as u128 + len;
    if end > GO_INT_MAX {
        // gogo 3.4: `postIndex` wraps negative and the slice expression panics.
        return Err(DecodeError::NegativeLength);
    }
    if end > d.len() as u128 {
        return Err(DecodeError::UnexpectedEof);
    }
    Ok(end as usize)
}

/// Nesting past which [`walk`] refuses: gogo has no limit (Go stacks grow), but etcd's request
/// schema is recursive (`TxnRequest` holds `RequestOp`s holding `TxnRequest`s), and hostile
/// nesting must not exhaust this stack. prost's own recursion limit.
pub(crate) const MAX_DEPTH: u32 = 100;

fn walk(
    schema: &'static Schema,
    d: &[u8],
    out: Option<&mut Vec<u8>>,
    unk: Option<&mut Unknown>,
) -> Result<(), DecodeError> {
    walk_at(schema, d, out, unk, 0)
}

fn walk_at(
    schema: &'static Schema,
    d: &[u8],
    mut out: Option<&mut Vec<u8>>,
    mut unk: Option<&mut Unknown>,
    depth: u32,
) -> Result<(), DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::Other("recursion limit reached".into()));
    }
    let l = d.len();
    let mut i = 0usize;
    while i < l {
        let pre = i;
        let wire = read_varint(d, &mut i)?;
        let field_num = (wire >> 3) as u32 as i32;
        let wire_type = (wire & 7) as u8;
        if wire_type == 4 {
            return Err(DecodeError::EndGroup(schema.name));
        }
        if field_num <= 0 {
            return Err(DecodeError::IllegalTag {
                message: schema.name,
                field: field_num,
                key: wire,
            });
        }
        let Some(&(num, name, kind)) = schema
            .fields
            .iter()
            .find(|(n, _, _)| *n as i32 == field_num)
        else {
            let end = skip(d, pre)?;
            // `skippy < 0` (end − pre wrapped) and `iNdEx + skippy` wrapping (a panic in
            // gogo 3.4) both end as a negative-length error.
            if end > GO_INT_MAX {
                return Err(DecodeError::NegativeLength);
            }
            if end > l as u128 {
                return Err(DecodeError::UnexpectedEof);
            }
            if let Some(u) = unk.as_deref_mut() {
                u.here += (end as usize - pre) as u64;
            }
            i = end as usize;
            continue;
        };
        let wrong = || DecodeError::WrongWireType {
            wire_type,
            field: name,
        };
        match kind {
            FieldKind::Varint => {
                if wire_type != 0 {
                    return Err(wrong());
                }
                let v = read_varint(d, &mut i)?;
                if let Some(out) = out.as_deref_mut() {
                    encode_key(num, WireType::Varint, out);
                    encode_varint(v, out);
                }
            }
            FieldKind::RepeatedVarint => match wire_type {
                0 => {
                    let v = read_varint(d, &mut i)?;
                    if let Some(out) = out.as_deref_mut() {
                        encode_key(num, WireType::Varint, out);
                        encode_varint(v, out);
                    }
                }
                2 => {
                    let len = read_len(d, &mut i)?;
                    let end = i as u128 + len;
                    // A wrapped `postIndex` is negative: gogo reads no element and goes on.
                    let end = if end > GO_INT_MAX { 0 } else { end };
                    if end > l as u128 {
                        return Err(DecodeError::UnexpectedEof);
                    }
                    // Elements may run past `end` (gogo bounds them by the message, not the
                    // packed length); the loop stops at the first element ending at or past it.
                    while (i as u128) < end {
                        let v = read_varint(d, &mut i)?;
                        if let Some(out) = out.as_deref_mut() {
                            encode_key(num, WireType::Varint, out);
                            encode_varint(v, out);
                        }
                    }
                }
                _ => return Err(wrong()),
            },
            FieldKind::Bytes | FieldKind::Message(_) => {
                if wire_type != 2 {
                    return Err(wrong());
                }
                let len = read_len(d, &mut i)?;
                let end = delimited_end(d, i, len)?;
                let body = &d[i..end];
                let mut child = unk.is_some().then(Unknown::default);
                match (kind, out.as_deref_mut()) {
                    (FieldKind::Message(sub), Some(out)) => {
                        let mut inner = Vec::with_capacity(body.len());
                        walk_at(sub, body, Some(&mut inner), child.as_mut(), depth + 1)?;
                        encode_key(num, WireType::LengthDelimited, out);
                        encode_varint(inner.len() as u64, out);
                        out.extend_from_slice(&inner);
                    }
                    (FieldKind::Message(sub), None) => {
                        walk_at(sub, body, None, child.as_mut(), depth + 1)?
                    }
                    (_, Some(out)) => {
                        encode_key(num, WireType::LengthDelimited, out);
                        encode_varint(body.len() as u64, out);
                        out.extend_from_slice(body);
                    }
                    (_, None) => {}
                }
                if let (FieldKind::Message(_), Some(u), Some(c)) = (kind, unk.as_deref_mut(), child)
                {
                    u.children.push((num, c));
                }
                i = end;
            }
        }
    }
    Ok(())
}

/// gogo's `skipRaft`/`skipSnap` on the field whose key starts at `d[start]`: returns where the
/// field ends (may lie past `d`; the caller reports that). Groups are skipped iteratively with
/// gogo's rules (the end key's field number is never compared; no depth limit), so hostile
/// nesting cannot exhaust the stack.
fn skip(d: &[u8], start: usize) -> Result<u128, DecodeError> {
    let l = d.len() as u128;
    // Start offsets of the enclosing group skips (each is a recursive `skip` call in gogo,
    // whose `int` indices are relative to it).
    let mut groups: Vec<usize> = Vec::new();
    let mut pos = start;
    loop {
        let base = pos;
        let wire = read_varint(d, &mut pos)?;
        let end: u128 = match wire & 7 {
            0 => {
                read_varint(d, &mut pos)?;
                pos as u128
            }
            1 => pos as u128 + 8,
            2 => {
                let len = read_len(d, &mut pos)?;
                let end = pos as u128 + len;
                if end - base as u128 > GO_INT_MAX {
                    // Wraps negative: `skippy < 0` at the top, an index panic inside a group.
                    return Err(DecodeError::NegativeLength);
                }
                end
            }
            3 => {
                groups.push(base);
                continue;
            }
            4 => match groups.pop() {
                // The end key of the innermost group: that group's skip ends here.
                Some(_) => pos as u128,
                None => return Ok(pos as u128),
            },
            5 => pos as u128 + 4,
            wt => return Err(DecodeError::IllegalWireType(wt as u8)),
        };
        let Some(&group) = groups.last() else {
            return Ok(end);
        };
        // Back in the enclosing group's loop: `iNdEx = start + next`, then the next key read.
        if end - group as u128 > GO_INT_MAX {
            return Err(DecodeError::NegativeLength);
        }
        if end >= l {
            return Err(DecodeError::UnexpectedEof);
        }
        pos = end as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static S: Schema = Schema {
        name: "snapshot",
        fields: &[(1, "Crc", FieldKind::Varint), (2, "Data", FieldKind::Bytes)],
    };

    fn err(hex: &[u8]) -> String {
        explain(&S, hex).map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn spec_examples() {
        assert_eq!(err(b"bad"), "unexpected EOF");
        assert_eq!(
            err(&[0x0c]),
            "proto: snapshot: wiretype end group for non-group"
        );
        assert_eq!(err(&[0, 1]), "proto: snapshot: illegal tag 0 (wire type 0)");
        assert_eq!(err(&[0x0a, 0]), "proto: wrong wireType = 2 for field Crc");
        assert_eq!(err(&[0xff; 16]), "proto: integer overflow");
    }
}
