//! The shapes of the generated tables (`generated/schema.rs`): one [`Msg`] per message, its
//! fields in declaration order (the Go struct order gogo's text marshaler walks), with what
//! gogo's generated code does with each (`nullable`, oneof, proto2/proto3 presence).

use crate::pb::gogo::Schema;

/// One protobuf message.
#[derive(Debug)]
pub struct Msg {
    /// Full proto name (`etcdserverpb.InternalRaftRequest`).
    pub name: &'static str,
    /// proto3 (zero scalars not printed) or proto2 (printed when set, or always if non-nullable).
    pub proto3: bool,
    /// The same message as gogo's `Unmarshal` sees it (Go field names), for its verdict.
    pub gogo: &'static Schema,
    /// Fields in declaration order.
    pub fields: &'static [Field],
}

/// One field.
#[derive(Debug)]
pub struct Field {
    /// Field number.
    pub number: u32,
    /// The proto name, as gogo's text marshaler prints it (`OrigName`).
    pub name: &'static str,
    /// Its type.
    pub ty: Type,
    /// `repeated`.
    pub repeated: bool,
    /// `(gogoproto.nullable)`: false makes a message field a Go struct value, always printed.
    pub nullable: bool,
    /// The oneof it belongs to.
    pub oneof: Option<&'static str>,
}

/// A field's type (the kinds etcd's request messages use; the generator refuses others).
#[derive(Debug, Clone, Copy)]
pub enum Type {
    /// `uint64`.
    Uint64,
    /// `int64`.
    Int64,
    /// `uint32`.
    Uint32,
    /// `int32`.
    Int32,
    /// `bool`.
    Bool,
    /// `string` (gogo does not check UTF-8: any bytes).
    String,
    /// `bytes`.
    Bytes,
    /// An enum (Go `int32`).
    Enum(&'static Enum),
    /// An embedded message.
    Message(&'static Msg),
}

/// An enum's values, for the names gogo's `String()` prints.
#[derive(Debug)]
pub struct Enum {
    /// `(number, name)`.
    pub values: &'static [(i32, &'static str)],
}

impl Enum {
    /// Go's `proto.EnumName`: the name, or the number when unknown.
    pub fn name(&self, v: i32) -> std::borrow::Cow<'static, str> {
        match self.values.iter().find(|(n, _)| *n == v) {
            Some((_, name)) => (*name).into(),
            None => v.to_string().into(),
        }
    }
}
