//! The constants and struct layouts in `yingda_hal_dahdi::abi` against `<dahdi/user.h>`.

use std::collections::BTreeMap;
use std::mem::{offset_of, size_of};
use std::sync::OnceLock;

use yingda_hal_dahdi::abi::{self, DahdiChanConfig, DahdiGains, DahdiLineConfig, DahdiParams};

/// Built and run once per test binary: `yingda_testpeers::build` names its temporary file by
/// process id, so two threads of one test process must not build the same peer at once.
fn header_values() -> &'static BTreeMap<String, i64> {
    static VALUES: OnceLock<BTreeMap<String, i64>> = OnceLock::new();
    VALUES.get_or_init(run_header_program)
}

fn run_header_program() -> BTreeMap<String, i64> {
    let inc = yingda_testpeers::dahdi_include();
    assert!(
        inc.join("dahdi/user.h").exists(),
        "{}/dahdi/user.h missing: run tools/setup-deps.sh",
        inc.display()
    );
    let flag = format!("-I{}", inc.display());
    let exe = yingda_testpeers::build("dahdi_abi", &[&flag], &[]);
    let out = String::from_utf8(yingda_testpeers::run(&exe, &[])).expect("utf-8 output");
    out.lines()
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').expect("NAME VALUE line");
            (name.to_owned(), value.parse().expect("integer value"))
        })
        .collect()
}

fn layout() -> Vec<(&'static str, usize)> {
    vec![
        ("sizeof(dahdi_params)", size_of::<DahdiParams>()),
        (
            "offsetof(dahdi_params.channo)",
            offset_of!(DahdiParams, channo),
        ),
        (
            "offsetof(dahdi_params.spanno)",
            offset_of!(DahdiParams, spanno),
        ),
        (
            "offsetof(dahdi_params.chanpos)",
            offset_of!(DahdiParams, chanpos),
        ),
        (
            "offsetof(dahdi_params.sigtype)",
            offset_of!(DahdiParams, sigtype),
        ),
        (
            "offsetof(dahdi_params.sigcap)",
            offset_of!(DahdiParams, sigcap),
        ),
        (
            "offsetof(dahdi_params.rxisoffhook)",
            offset_of!(DahdiParams, rxisoffhook),
        ),
        (
            "offsetof(dahdi_params.rxbits)",
            offset_of!(DahdiParams, rxbits),
        ),
        (
            "offsetof(dahdi_params.txbits)",
            offset_of!(DahdiParams, txbits),
        ),
        (
            "offsetof(dahdi_params.txhooksig)",
            offset_of!(DahdiParams, txhooksig),
        ),
        (
            "offsetof(dahdi_params.rxhooksig)",
            offset_of!(DahdiParams, rxhooksig),
        ),
        (
            "offsetof(dahdi_params.curlaw)",
            offset_of!(DahdiParams, curlaw),
        ),
        (
            "offsetof(dahdi_params.idlebits)",
            offset_of!(DahdiParams, idlebits),
        ),
        ("offsetof(dahdi_params.name)", offset_of!(DahdiParams, name)),
        (
            "offsetof(dahdi_params.prewinktime)",
            offset_of!(DahdiParams, prewinktime),
        ),
        (
            "offsetof(dahdi_params.preflashtime)",
            offset_of!(DahdiParams, preflashtime),
        ),
        (
            "offsetof(dahdi_params.winktime)",
            offset_of!(DahdiParams, winktime),
        ),
        (
            "offsetof(dahdi_params.flashtime)",
            offset_of!(DahdiParams, flashtime),
        ),
        (
            "offsetof(dahdi_params.starttime)",
            offset_of!(DahdiParams, starttime),
        ),
        (
            "offsetof(dahdi_params.rxwinktime)",
            offset_of!(DahdiParams, rxwinktime),
        ),
        (
            "offsetof(dahdi_params.rxflashtime)",
            offset_of!(DahdiParams, rxflashtime),
        ),
        (
            "offsetof(dahdi_params.debouncetime)",
            offset_of!(DahdiParams, debouncetime),
        ),
        (
            "offsetof(dahdi_params.pulsebreaktime)",
            offset_of!(DahdiParams, pulsebreaktime),
        ),
        (
            "offsetof(dahdi_params.pulsemaketime)",
            offset_of!(DahdiParams, pulsemaketime),
        ),
        (
            "offsetof(dahdi_params.pulseaftertime)",
            offset_of!(DahdiParams, pulseaftertime),
        ),
        (
            "offsetof(dahdi_params.chan_alarms)",
            offset_of!(DahdiParams, chan_alarms),
        ),
        ("sizeof(dahdi_gains)", size_of::<DahdiGains>()),
        ("offsetof(dahdi_gains.chan)", offset_of!(DahdiGains, chan)),
        (
            "offsetof(dahdi_gains.rxgain)",
            offset_of!(DahdiGains, rxgain),
        ),
        (
            "offsetof(dahdi_gains.txgain)",
            offset_of!(DahdiGains, txgain),
        ),
        ("sizeof(dahdi_lineconfig)", size_of::<DahdiLineConfig>()),
        (
            "offsetof(dahdi_lineconfig.span)",
            offset_of!(DahdiLineConfig, span),
        ),
        (
            "offsetof(dahdi_lineconfig.name)",
            offset_of!(DahdiLineConfig, name),
        ),
        (
            "offsetof(dahdi_lineconfig.lbo)",
            offset_of!(DahdiLineConfig, lbo),
        ),
        (
            "offsetof(dahdi_lineconfig.lineconfig)",
            offset_of!(DahdiLineConfig, lineconfig),
        ),
        (
            "offsetof(dahdi_lineconfig.sync)",
            offset_of!(DahdiLineConfig, sync),
        ),
        ("sizeof(dahdi_chanconfig)", size_of::<DahdiChanConfig>()),
        (
            "offsetof(dahdi_chanconfig.chan)",
            offset_of!(DahdiChanConfig, chan),
        ),
        (
            "offsetof(dahdi_chanconfig.name)",
            offset_of!(DahdiChanConfig, name),
        ),
        (
            "offsetof(dahdi_chanconfig.sigtype)",
            offset_of!(DahdiChanConfig, sigtype),
        ),
        (
            "offsetof(dahdi_chanconfig.deflaw)",
            offset_of!(DahdiChanConfig, deflaw),
        ),
        (
            "offsetof(dahdi_chanconfig.master)",
            offset_of!(DahdiChanConfig, master),
        ),
        (
            "offsetof(dahdi_chanconfig.idlebits)",
            offset_of!(DahdiChanConfig, idlebits),
        ),
        (
            "offsetof(dahdi_chanconfig.netdev_name)",
            offset_of!(DahdiChanConfig, netdev_name),
        ),
    ]
}

#[test]
fn ioctl_numbers_and_constants_match_user_h() {
    let header = header_values();
    let ours = abi::constants();
    for (name, value) in &ours {
        assert_eq!(
            header.get(*name),
            Some(value),
            "{name}: ours {value}, user.h {:?}",
            header.get(*name)
        );
    }
    // Everything the header program prints is checked by one of the two tests.
    let layout = layout();
    for name in header.keys() {
        assert!(
            ours.iter().any(|(n, _)| n == name) || layout.iter().any(|(n, _)| n == name),
            "{name} printed by dahdi_abi.c but not checked"
        );
    }
}

#[test]
fn struct_layouts_match_user_h() {
    let header = header_values();
    for (name, value) in layout() {
        assert_eq!(header.get(name).copied(), Some(value as i64), "{name}");
    }
}
