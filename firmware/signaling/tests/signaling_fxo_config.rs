//! The FXO config as the daemon reads it from TOML.

use yingda_signaling::fxo::{CidSignalling, CidStart, ConfigError, Fxo, FxoConfig, LineSignalling};

#[test]
fn every_key_parses_with_dahdi_names() {
    let cfg: FxoConfig = toml::from_str(
        r#"
        signalling = "fxs_ks"
        answer_after_rings = 3
        usecallerid = true
        cidsignalling = "v23"
        cidstart = "polarity"
        busydetect = false
        busycount = 6
        hanguponpolarityswitch = true
        answeronpolarityswitch = true
        answeronvoice = false
        ring_timeout_ms = 8000
        cid_prering_timeout_ms = 4000
        dialtone_timeout_ms = 5000
        blind_dial = true
        blind_dial_delay_ms = 1000
        digits_timeout_ms = 20000
        no_answer_timeout_ms = 60000
        flash_ms = 600
        transfer_wait_dialtone = false
        transfer_pause_ms = 1500
        transfer_no_answer_timeout_ms = 25000
        onhook_guard_ms = 3000
        "#,
    )
    .unwrap();
    assert_eq!(cfg.signalling, LineSignalling::FxsKs);
    assert_eq!(cfg.answer_after_rings, 3);
    assert_eq!(cfg.cidsignalling, CidSignalling::V23);
    assert_eq!(cfg.cidstart, CidStart::Polarity);
    assert!(!cfg.busydetect);
    assert_eq!(cfg.busycount, 6);
    assert!(cfg.hanguponpolarityswitch && cfg.answeronpolarityswitch && !cfg.answeronvoice);
    assert_eq!(cfg.ring_timeout_ms, 8000);
    assert_eq!(cfg.cid_prering_timeout_ms, 4000);
    assert_eq!(cfg.dialtone_timeout_ms, 5000);
    assert!(cfg.blind_dial);
    assert_eq!(cfg.blind_dial_delay_ms, 1000);
    assert_eq!(cfg.digits_timeout_ms, 20_000);
    assert_eq!(cfg.no_answer_timeout_ms, 60_000);
    assert_eq!(cfg.flash_ms, 600);
    assert!(!cfg.transfer_wait_dialtone);
    assert_eq!(cfg.transfer_pause_ms, 1500);
    assert_eq!(cfg.transfer_no_answer_timeout_ms, 25_000);
    assert_eq!(cfg.onhook_guard_ms, 3000);
    assert_eq!(cfg.validate(), Ok(()));
}

#[test]
fn missing_keys_take_china_defaults() {
    let cfg: FxoConfig = toml::from_str("busycount = 5\ncidsignalling = \"dtmf\"").unwrap();
    assert_eq!(
        cfg,
        FxoConfig {
            busycount: 5,
            cidsignalling: CidSignalling::Dtmf,
            ..FxoConfig::default()
        }
    );
    let d = FxoConfig::default();
    assert_eq!(d.signalling, LineSignalling::FxsLs);
    assert_eq!(d.cidstart, CidStart::Ring);
    assert_eq!(d.ring_timeout_ms, 6000);
    assert!(d.busydetect);
}

#[test]
fn unknown_keys_and_values_are_rejected() {
    assert!(toml::from_str::<FxoConfig>("busycont = 4").is_err());
    assert!(toml::from_str::<FxoConfig>("signalling = \"fxo_ls\"").is_err());
    assert!(toml::from_str::<FxoConfig>("cidstart = \"usehist\"").is_err());
}

#[test]
fn invalid_config_cannot_build_a_line() {
    let cfg: FxoConfig = toml::from_str("flash_ms = 10").unwrap();
    assert_eq!(
        Fxo::new(cfg).map(|_| ()),
        Err(ConfigError::OutOfRange {
            field: "flash_ms",
            value: 10,
            min: 50,
            max: 2000
        })
    );
}
