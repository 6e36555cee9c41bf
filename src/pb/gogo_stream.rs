//! gogo's `Unmarshal` verdict over a stream, in bounded memory: the top level of a message is
//! walked as [`gogo`](super::gogo)'s `walk` walks it (same checks, same order, same words),
//! but from a [`Cursor`] that only moves forward, so a `bytes` field of gigabytes is never
//! held. Embedded messages (small: `SnapshotMetadata`) are read into memory and handed to the
//! slice walker. Used by [`crate::codec::verify_snap_stream`] (issue 9, item 7).

use super::gogo::{DecodeError, FieldKind, GO_INT_MAX, Schema, explain};
use crate::error::{Error, Result};

/// A forward-only view of one message's bytes whose length is known up front (gogo's `l`).
pub(crate) trait Cursor {
    /// Bytes consumed so far (gogo's `iNdEx`, relative to the message start).
    fn pos(&self) -> u64;
    /// The message length.
    fn len(&self) -> u64;
    /// Consumes and returns the next `1..=max` bytes (`max >= 1`, `pos() < len()`).
    async fn chunk(&mut self, max: u64) -> Result<&[u8]>;
}

/// What a walk does with the top-level fields it meets (all but `bytes` are just checked).
pub(crate) trait Fields<C: Cursor> {
    /// A varint scalar field `num` with value `v`.
    fn varint(&mut self, _num: u32, _v: u64) {}
    /// A `bytes` field `num` whose value runs from `c.pos()` to `end` (within the message):
    /// must consume up to `end` or fail.
    async fn bytes(&mut self, _num: u32, c: &mut C, end: u64) -> Result<()> {
        skip_to(c, end).await
    }
}

/// Checks every field and skips `bytes` values.
pub(crate) struct SkipBytes;
impl<C: Cursor> Fields<C> for SkipBytes {}

async fn byte<C: Cursor>(c: &mut C) -> Result<u8> {
    if c.pos() >= c.len() {
        return Err(DecodeError::UnexpectedEof.into());
    }
    Ok(c.chunk(1).await?[0])
}

/// Consumes up to `end` (`<= len()`).
pub(crate) async fn skip_to<C: Cursor>(c: &mut C, end: u64) -> Result<()> {
    while c.pos() < end {
        let n = end - c.pos();
        c.chunk(n).await?;
    }
    Ok(())
}

async fn read_vec<C: Cursor>(c: &mut C, end: u64) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    while c.pos() < end {
        let n = end - c.pos();
        v.extend_from_slice(c.chunk(n).await?);
    }
    Ok(v)
}

/// gogo's varint loop (overflow checked before EOF), as `gogo::read_varint`.
async fn read_varint<C: Cursor>(c: &mut C) -> Result<u64> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        if shift >= 64 {
            return Err(DecodeError::IntegerOverflow.into());
        }
        let b = byte(c).await?;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(v);
        }
        shift += 7;
    }
}

async fn read_len<C: Cursor>(c: &mut C) -> Result<u128> {
    let n = read_varint(c).await? as i64;
    u128::try_from(n).map_err(|_| DecodeError::NegativeLength.into())
}

fn delimited_end(i: u64, len: u128, l: u64) -> Result<u64> {
    let end = u128::from(i) + len;
    if end > GO_INT_MAX {
        return Err(DecodeError::NegativeLength.into());
    }
    if end > u128::from(l) {
        return Err(DecodeError::UnexpectedEof.into());
    }
    Ok(end as u64)
}

/// `gogo::walk` over a stream (top level only; see the module doc).
pub(crate) async fn walk<C: Cursor, F: Fields<C>>(
    schema: &'static Schema,
    c: &mut C,
    fields: &mut F,
) -> Result<()> {
    let l = c.len();
    while c.pos() < l {
        let pre = c.pos();
        let wire = read_varint(c).await?;
        let field_num = (wire >> 3) as u32 as i32;
        let wire_type = (wire & 7) as u8;
        if wire_type == 4 {
            return Err(DecodeError::EndGroup(schema.name).into());
        }
        if field_num <= 0 {
            return Err(DecodeError::IllegalTag {
                message: schema.name,
                field: field_num,
                key: wire,
            }
            .into());
        }
        let Some(&(num, name, kind)) = schema
            .fields
            .iter()
            .find(|(n, _, _)| *n as i32 == field_num)
        else {
            let end = skip(c, pre, wire).await?;
            if end > GO_INT_MAX {
                return Err(DecodeError::NegativeLength.into());
            }
            if end > u128::from(l) {
                return Err(DecodeError::UnexpectedEof.into());
            }
            skip_to(c, end as u64).await?;
            continue;
        };
        let wrong = || -> Error {
            DecodeError::WrongWireType {
                wire_type,
                field: name,
            }
            .into()
        };
        match kind {
            FieldKind::Varint => {
                if wire_type != 0 {
                    return Err(wrong());
                }
                let v = read_varint(c).await?;
                fields.varint(num, v);
            }
            FieldKind::RepeatedVarint => match wire_type {
                0 => {
                    read_varint(c).await?;
                }
                2 => {
                    let len = read_len(c).await?;
                    let end = u128::from(c.pos()) + len;
                    let end = if end > GO_INT_MAX { 0 } else { end };
                    if end > u128::from(l) {
                        return Err(DecodeError::UnexpectedEof.into());
                    }
                    while u128::from(c.pos()) < end {
                        read_varint(c).await?;
                    }
                }
                _ => return Err(wrong()),
            },
            FieldKind::Bytes => {
                if wire_type != 2 {
                    return Err(wrong());
                }
                let len = read_len(c).await?;
                let end = delimited_end(c.pos(), len, l)?;
                fields.bytes(num, c, end).await?;
                skip_to(c, end).await?;
            }
            FieldKind::Message(sub) => {
                if wire_type != 2 {
                    return Err(wrong());
                }
                let len = read_len(c).await?;
                let end = delimited_end(c.pos(), len, l)?;
                let body = read_vec(c, end).await?;
                if let Some(e) = explain(sub, &body) {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(())
}

/// `gogo::skip` over a stream, for the field whose key (`wire`) started at `start` and has
/// just been read. Returns where the field ends (may lie past the message).
async fn skip<C: Cursor>(c: &mut C, start: u64, wire: u64) -> Result<u128> {
    let l = u128::from(c.len());
    let mut groups: Vec<u64> = Vec::new();
    let mut first = Some((start, wire));
    loop {
        let (base, wire) = match first.take() {
            Some(f) => f,
            None => {
                let base = c.pos();
                (base, read_varint(c).await?)
            }
        };
        let end: u128 = match wire & 7 {
            0 => {
                read_varint(c).await?;
                u128::from(c.pos())
            }
            1 => u128::from(c.pos()) + 8,
            2 => {
                let len = read_len(c).await?;
                let end = u128::from(c.pos()) + len;
                if end - u128::from(base) > GO_INT_MAX {
                    return Err(DecodeError::NegativeLength.into());
                }
                end
            }
            3 => {
                groups.push(base);
                continue;
            }
            4 => match groups.pop() {
                Some(_) => u128::from(c.pos()),
                None => return Ok(u128::from(c.pos())),
            },
            5 => u128::from(c.pos()) + 4,
            wt => return Err(DecodeError::IllegalWireType(wt as u8).into()),
        };
        let Some(&group) = groups.last() else {
            return Ok(end);
        };
        if end - u128::from(group) > GO_INT_MAX {
            return Err(DecodeError::NegativeLength.into());
        }
        if end >= l {
            return Err(DecodeError::UnexpectedEof.into());
        }
        skip_to(c, end as u64).await?;
    }
}
