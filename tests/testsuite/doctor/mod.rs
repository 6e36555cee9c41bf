//! The member doctor (issue 10): etcd's startup predicted on real members.

mod fixtures;
