//! The watchdog ioctl numbers in `yingda_hal_rpi::watchdog` against `<linux/watchdog.h>`.

use std::collections::BTreeMap;

#[test]
fn watchdog_ioctls_match_linux_header() {
    let exe = yingda_testpeers::build("watchdog_abi", &[], &[]);
    let out = String::from_utf8(yingda_testpeers::run(&exe, &[])).expect("utf-8 output");
    let header: BTreeMap<&str, i64> = out
        .lines()
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').expect("NAME VALUE line");
            (name, value.parse().expect("integer value"))
        })
        .collect();
    let ours = yingda_hal_rpi::watchdog::constants();
    assert_eq!(
        header.len(),
        ours.len(),
        "header program and crate list different names"
    );
    for (name, value) in ours {
        assert_eq!(header.get(name), Some(&value), "{name}");
    }
}
