//! TEMPORARY: prints the diagnosis of $DOCTOR_DIR (removed before the end).
#[test]
#[ignore]
fn scratch() {
    let dir = std::env::var("DOCTOR_DIR").unwrap();
    let v: etcd_snap::EtcdVersion = std::env::var("DOCTOR_V")
        .unwrap_or("3.4".into())
        .parse()
        .unwrap();
    let snap = etcd_snap::storage::NativeStorage::new(format!("{dir}/member/snap"));
    let wal = etcd_snap::storage::NativeStorage::new(format!("{dir}/member/wal"));
    let d = futures_executor::block_on(etcd_snap::doctor::diagnose(snap, wal, v)).unwrap();
    println!("{}", serde_json::to_string_pretty(&d).unwrap());
    println!("{}", d.summary());
}
