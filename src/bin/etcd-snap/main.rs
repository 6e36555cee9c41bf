//! The `etcd-snap` command line (native). See `etcd-snap --help`.

fn main() {
    todo!()
}
