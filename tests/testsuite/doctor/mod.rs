//! The member doctor (issue 10).

mod scratch;
