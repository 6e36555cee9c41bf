//! A decoded message as gogo's Go struct holds it, and two renderings of it: the
//! `proto.CompactTextString` (what etcd-dump-logs prints for an `InternalRaftRequest`) and a
//! protojson-style JSON value.
//!
//! Input is the canonical form [`crate::pb::gogo::canonicalize`] makes of bytes gogo accepted
//! (known fields only, minimal varints, unpacked repeated scalars), so the only decisions left
//! are gogo's Unmarshal semantics: the last scalar wins, a singular message merges every
//! occurrence (their bytes concatenated), a repeated field appends, a oneof keeps its last
//! member (a fresh value each time). Rendering follows golang/protobuf's text marshaler, which
//! etcd's generated `String()` calls (1.3.5 `proto/text.go` `writeStruct` for etcd 3.4, whose
//! rules 1.5's protoreflect-based one keeps for etcd 3.5): declaration order, a oneof at its
//! first member's place, Go value fields skipped when zero (proto2's non-nullable ones too),
//! pointers written when set, proto3 empty bytes skipped, a oneof member written even when
//! zero, nil messages skipped, non-nullable ones always written; compact mode turns each
//! `\n` into a space.

use std::borrow::Cow;

use base64::Engine as _;
use prost::encoding::{WireType, decode_key, decode_varint};

use super::schema::{Enum, Field, Msg, Type};
use crate::error::DecodeError;

/// gogo's Go struct depth past which the walk refuses (prost's own recursion limit).
pub(crate) const MAX_DEPTH: u32 = 100;

/// One field value.
#[derive(Debug)]
pub(crate) enum Value {
    U64(u64),
    I64(i64),
    U32(u32),
    I32(i32),
    Bool(bool),
    Enum(i32, &'static Enum),
    /// `string` or `bytes` (gogo keeps strings as raw bytes).
    Bytes(Vec<u8>, bool),
    Msg(Node),
}

/// A decoded message: its set fields in gogo's print order (a repeated field once per element).
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub entries: Vec<(&'static Field, Value)>,
}

impl Node {
    /// The last value of the field named `name`, if set.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .rev()
            .find(|(f, _)| f.name == name)
            .map(|(_, v)| v)
    }
}

enum Raw<'a> {
    Varint(u64),
    Len(&'a [u8]),
}

fn bad() -> DecodeError {
    DecodeError::Other("non-canonical input".into())
}

fn parse(mut b: &[u8]) -> Result<Vec<(u32, Raw<'_>)>, DecodeError> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (tag, wt) = decode_key(&mut b).map_err(|_| bad())?;
        match wt {
            WireType::Varint => {
                out.push((tag, Raw::Varint(decode_varint(&mut b).map_err(|_| bad())?)))
            }
            WireType::LengthDelimited => {
                let len = decode_varint(&mut b).map_err(|_| bad())?;
                let len = usize::try_from(len)
                    .ok()
                    .filter(|l| *l <= b.len())
                    .ok_or_else(bad)?;
                out.push((tag, Raw::Len(&b[..len])));
                b = &b[len..];
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// Builds `msg` from canonical bytes, as gogo's Unmarshal would fill the Go struct.
pub(crate) fn build(msg: &'static Msg, buf: &[u8], depth: u32) -> Result<Node, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::Other("recursion limit reached".into()));
    }
    let occ = parse(buf)?;
    let mut node = Node::default();
    let mut oneofs_done: Vec<&str> = Vec::new();
    for f in msg.fields {
        if let Some(o) = f.oneof {
            if oneofs_done.contains(&o) {
                continue;
            }
            oneofs_done.push(o);
            let last = occ.iter().rev().find_map(|(n, raw)| {
                msg.fields
                    .iter()
                    .find(|g| g.number == *n && g.oneof == Some(o))
                    .map(|g| (g, raw))
            });
            if let Some((g, raw)) = last {
                node.entries.push((g, value(g, raw, depth)?));
            }
            continue;
        }
        let mut mine = occ.iter().filter(|(n, _)| *n == f.number).map(|(_, r)| r);
        if f.repeated {
            for r in mine {
                node.entries.push((f, value(f, r, depth)?));
            }
            continue;
        }
        if let Type::Message(sub) = f.ty {
            let mut cat = Vec::new();
            let mut any = false;
            for r in mine {
                let Raw::Len(b) = r else { return Err(bad()) };
                cat.extend_from_slice(b);
                any = true;
            }
            if any || !f.nullable {
                node.entries
                    .push((f, Value::Msg(build(sub, &cat, depth + 1)?)));
            }
            continue;
        }
        let Some(r) = mine.next_back() else { continue };
        let v = value(f, r, depth)?;
        // The Go field is a pointer (proto2 `nullable` scalar): written when set. A slice
        // (`bytes`): when set, and non-empty in proto3. A Go value: when not zero.
        let pointer = !msg.proto3 && f.nullable && !matches!(f.ty, Type::Bytes);
        let skip = match (&v, pointer) {
            (_, true) => false,
            (Value::Bytes(b, false), _) => msg.proto3 && b.is_empty(),
            (v, _) => is_zero(v),
        };
        if skip {
            continue;
        }
        node.entries.push((f, v));
    }
    Ok(node)
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::U64(x) => *x == 0,
        Value::I64(x) => *x == 0,
        Value::U32(x) => *x == 0,
        Value::I32(x) | Value::Enum(x, _) => *x == 0,
        Value::Bool(x) => !*x,
        Value::Bytes(b, _) => b.is_empty(),
        Value::Msg(_) => false,
    }
}

/// A varint as gogo's generated code reads it into the Go type (32-bit types keep the low
/// 32 bits; `bool` is `v != 0`).
fn scalar(f: &Field, v: u64) -> Option<Value> {
    Some(match f.ty {
        Type::Uint64 => Value::U64(v),
        Type::Int64 => Value::I64(v as i64),
        Type::Uint32 => Value::U32(v as u32),
        Type::Int32 => Value::I32(v as u32 as i32),
        Type::Bool => Value::Bool(v != 0),
        Type::Enum(e) => Value::Enum(v as u32 as i32, e),
        _ => return None,
    })
}

fn value(f: &'static Field, raw: &Raw<'_>, depth: u32) -> Result<Value, DecodeError> {
    match (raw, f.ty) {
        (Raw::Len(b), Type::Message(sub)) => Ok(Value::Msg(build(sub, b, depth + 1)?)),
        (Raw::Len(b), Type::String) => Ok(Value::Bytes(b.to_vec(), true)),
        (Raw::Len(b), Type::Bytes) => Ok(Value::Bytes(b.to_vec(), false)),
        (Raw::Varint(v), _) => scalar(f, *v).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// gogo's `writeString`: bytes, not runes; `\n \r \t \" \\` escaped, other bytes outside
/// 0x20..0x7f as three-digit octal.
pub(crate) fn write_string(out: &mut String, s: &[u8]) {
    out.push('"');
    for &c in s {
        match c {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..0x7f => out.push(c as char),
            _ => out.push_str(&format!("\\{c:03o}")),
        }
    }
    out.push('"');
}

/// golang/protobuf's `proto.CompactTextString` of a decoded message.
pub(crate) fn compact_text(node: &Node, out: &mut String) {
    for (f, v) in &node.entries {
        out.push_str(f.name);
        out.push(':');
        match v {
            Value::U64(x) => out.push_str(&x.to_string()),
            Value::I64(x) => out.push_str(&x.to_string()),
            Value::U32(x) => out.push_str(&x.to_string()),
            Value::I32(x) => out.push_str(&x.to_string()),
            Value::Bool(x) => out.push_str(if *x { "true" } else { "false" }),
            Value::Enum(x, e) => out.push_str(&e.name(*x)),
            Value::Bytes(b, _) => write_string(out, b),
            Value::Msg(n) => {
                out.push('<');
                compact_text(n, out);
                out.push('>');
            }
        }
        out.push(' ');
    }
}

/// protojson's mapping with proto field names: 64-bit integers as strings, bytes as base64,
/// enums by name, strings as text (invalid UTF-8 replaced), repeated fields as arrays.
pub(crate) fn to_json(node: &Node) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (f, v) in &node.entries {
        let j = match v {
            Value::U64(x) => x.to_string().into(),
            Value::I64(x) => x.to_string().into(),
            Value::U32(x) => (*x).into(),
            Value::I32(x) => (*x).into(),
            Value::Bool(x) => (*x).into(),
            Value::Enum(x, e) => match e.name(*x) {
                Cow::Borrowed(n) => n.into(),
                Cow::Owned(_) => (*x).into(),
            },
            Value::Bytes(b, true) => String::from_utf8_lossy(b).into_owned().into(),
            Value::Bytes(b, false) => base64::engine::general_purpose::STANDARD.encode(b).into(),
            Value::Msg(n) => to_json(n),
        };
        if f.repeated {
            let slot = map
                .entry(f.name)
                .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            if let serde_json::Value::Array(a) = slot {
                a.push(j);
            }
        } else {
            map.insert(f.name.to_owned(), j);
        }
    }
    serde_json::Value::Object(map)
}
