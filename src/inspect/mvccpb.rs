//! The protobuf messages etcd keeps in its db, as hand-written prost structs (no protoc):
//! `mvccpb.KeyValue` (bucket `key`), `leasepb.Lease` (bucket `lease`), `authpb.User` and
//! `authpb.Role` (buckets `authUsers`, `authRoles`), `etcdserverpb.AlarmMember` (`alarm`).

/// `mvccpb.KeyValue`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct KeyValue {
    /// The user key.
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    /// Revision of the key's last creation.
    #[prost(int64, tag = "2")]
    pub create_revision: i64,
    /// Revision of this modification.
    #[prost(int64, tag = "3")]
    pub mod_revision: i64,
    /// Modifications since creation (1 = created).
    #[prost(int64, tag = "4")]
    pub version: i64,
    /// The value.
    #[prost(bytes = "vec", tag = "5")]
    pub value: Vec<u8>,
    /// Attached lease id, 0 for none.
    #[prost(int64, tag = "6")]
    pub lease: i64,
}

/// `leasepb.Lease`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Lease {
    /// Lease id.
    #[prost(int64, tag = "1")]
    pub id: i64,
    /// Granted TTL in seconds.
    #[prost(int64, tag = "2")]
    pub ttl: i64,
    /// Remaining TTL when checkpointed (etcd 3.4+ with checkpointing).
    #[prost(int64, tag = "3")]
    pub remaining_ttl: i64,
}

/// `authpb.UserAddOptions`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct UserAddOptions {
    /// The user has no password.
    #[prost(bool, tag = "1")]
    pub no_password: bool,
}

/// `authpb.User` (the password hash is decoded but never shown).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct User {
    /// User name.
    #[prost(bytes = "vec", tag = "1")]
    pub name: Vec<u8>,
    /// bcrypt hash.
    #[prost(bytes = "vec", tag = "2")]
    pub password: Vec<u8>,
    /// Granted roles.
    #[prost(string, repeated, tag = "3")]
    pub roles: Vec<String>,
    /// Options.
    #[prost(message, optional, tag = "4")]
    pub options: Option<UserAddOptions>,
}

/// `authpb.Permission`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Permission {
    /// READ = 0, WRITE = 1, READWRITE = 2.
    #[prost(int32, tag = "1")]
    pub perm_type: i32,
    /// Key (or range start).
    #[prost(bytes = "vec", tag = "2")]
    pub key: Vec<u8>,
    /// Range end (empty for a single key).
    #[prost(bytes = "vec", tag = "3")]
    pub range_end: Vec<u8>,
}

/// `authpb.Role`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Role {
    /// Role name.
    #[prost(bytes = "vec", tag = "1")]
    pub name: Vec<u8>,
    /// Key permissions.
    #[prost(message, repeated, tag = "2")]
    pub key_permission: Vec<Permission>,
}

/// `etcdserverpb.AlarmMember`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct AlarmMember {
    /// Member id that raised the alarm.
    #[prost(uint64, tag = "1")]
    pub member_id: u64,
    /// NONE = 0, NOSPACE = 1, CORRUPT = 2.
    #[prost(int32, tag = "2")]
    pub alarm: i32,
}
