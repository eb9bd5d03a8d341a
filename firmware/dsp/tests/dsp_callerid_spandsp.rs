//! FSK caller ID against spandsp's ADSI transmitter and receiver (an implementation we did
//! not write): spandsp's audio must decode to exactly the fields it was given, and our audio
//! must be decoded by spandsp to exactly our bytes. Every signal goes through an A-law round
//! trip, as it would over an E1 or a DAHDI FXO card.

use yingda_dsp::callerid::{
    encode_message, Absence, CallerId, CallerIdError, CallerIdRx, CallerIdTx, CallerInfo, LeadIn,
    MessageFormat,
};
use yingda_dsp::fsk::{dbm0_to_amplitude, FskStandard};
use yingda_dsp::{g711, Law};

fn spandsp_tx(standard: &str, format: &str, fields: &[&str]) -> Vec<i16> {
    let exe = yingda_testpeers::build("spandsp_adsi_tx", &[], &["-lspandsp"]);
    let mut args = vec![standard, format];
    args.extend_from_slice(fields);
    yingda_testpeers::i16_samples(&yingda_testpeers::run(&exe, &args))
}

/// Lines printed by spandsp's receiver: `msg <hex>` and `field <code> <hex>`.
fn spandsp_rx(standard: &str, samples: &[i16]) -> Vec<String> {
    let exe = yingda_testpeers::build("spandsp_adsi_rx", &[], &["-lspandsp"]);
    let out = yingda_testpeers::run_with_samples(&exe, &[standard], samples);
    String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn alaw(mut s: Vec<i16>) -> Vec<i16> {
    g711::round_trip(Law::Alaw, &mut s);
    s
}

fn decode(samples: &[i16]) -> Vec<Result<CallerId, CallerIdError>> {
    let mut rx = CallerIdRx::new();
    let mut out = Vec::new();
    // 20 ms frames, as the audio path delivers them.
    for chunk in samples.chunks(160) {
        rx.rx(chunk, |r| out.push(r));
    }
    out
}

fn decode_one(samples: &[i16]) -> CallerId {
    let got = decode(samples);
    assert_eq!(got.len(), 1, "expected exactly one message, got {got:?}");
    got.into_iter().next().expect("one").expect("decoded")
}

fn peak(s: &[i16]) -> f32 {
    s.iter().map(|&x| f32::from(x).abs()).fold(0.0, f32::max)
}

/// Scale so the FSK peak amplitude corresponds to a sine at `dbm0`.
fn set_level(s: &[i16], dbm0: f32) -> Vec<i16> {
    let g = dbm0_to_amplitude(dbm0) / peak(s);
    s.iter()
        .map(|&x| (f32::from(x) * g).round() as i16)
        .collect()
}

/// Deterministic white Gaussian noise (xorshift + sum of 12 uniforms) of `rms`.
fn add_noise(s: &[i16], rms: f32, seed: u64) -> Vec<i16> {
    let mut st = seed | 1;
    s.iter()
        .map(|&x| {
            let mut acc = 0.0f32;
            for _ in 0..12 {
                st ^= st << 13;
                st ^= st >> 7;
                st ^= st << 17;
                acc += (st >> 40) as f32 / (1u64 << 24) as f32;
            }
            (f32::from(x) + (acc - 6.0) * rms).clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// Twist without phase distortion: the linear-phase FIR `[c, a, 1, a, c]`, gain
/// `1 + 2a cos w + 2c cos 2w`. `(0.42, 0.17)` makes the mark 6.6 (V.23) to 8.1 (Bell 202) dB
/// louder than the space, `(-0.5, 0.0)` makes it 7.1 to 9.0 dB quieter.
fn twist(s: &[i16], a: f32, c: f32) -> Vec<i16> {
    let at = |i: isize| {
        usize::try_from(i)
            .ok()
            .and_then(|i| s.get(i))
            .map_or(0.0, |&x| f32::from(x))
    };
    (0..s.len() as isize)
        .map(|i| {
            let y = at(i) + a * (at(i - 1) + at(i + 1)) + c * (at(i - 2) + at(i + 2));
            y.clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

fn mean_power_at(s: &[i16], hz: f32) -> f32 {
    let (mut re, mut im) = (0.0f64, 0.0f64);
    for (n, &x) in s.iter().enumerate() {
        let ph = 2.0 * std::f64::consts::PI * f64::from(hz) * n as f64 / 8000.0;
        re += f64::from(x) * ph.cos();
        im += f64::from(x) * ph.sin();
    }
    ((re * re + im * im) / (s.len() as f64).powi(2)) as f32
}

fn info_number(dt: &str, number: &str, name: Option<&str>) -> CallerInfo {
    CallerInfo {
        datetime: Some(dt.try_into().expect("dt")),
        number: Some(number.try_into().expect("number")),
        name: name.map(|n| heapless::Vec::from_slice(n.as_bytes()).expect("name")),
        ..CallerInfo::default()
    }
}

#[test]
fn spandsp_class_sdmf_decodes_as_bell202() {
    let s = alaw(spandsp_tx("class", "sdmf", &["dt=01020304", "num=5551234"]));
    let id = decode_one(&s);
    assert_eq!(id.standard, FskStandard::Bell202);
    assert_eq!(id.format, MessageFormat::Sdmf);
    assert_eq!(id.info, info_number("01020304", "5551234", None));
    assert!(id.seizure, "spandsp sends a 300 bit seizure");
    // 100 ms of leading silence: the burst starts at sample 800.
    assert!(id.start.abs_diff(800) <= 14, "start {}", id.start);
    assert!(
        id.end > id.start && id.end <= s.len() as u64 - 800,
        "end {}",
        id.end
    );
}

#[test]
fn spandsp_clip_sdmf_with_absence_decodes_as_v23() {
    for (code, absence) in [("O", Absence::Unavailable), ("P", Absence::Private)] {
        let arg = format!("numabs={code}");
        let s = alaw(spandsp_tx("clip", "sdmf", &["dt=12312359", &arg]));
        let id = decode_one(&s);
        assert_eq!(id.standard, FskStandard::V23);
        assert_eq!(id.format, MessageFormat::Sdmf);
        assert_eq!(id.info.datetime.as_deref(), Some("12312359"));
        assert_eq!(id.info.number, None);
        assert_eq!(id.info.number_absence, Some(absence));
    }
}

#[test]
fn spandsp_mdmf_number_and_name_decode_exactly_on_both_standards() {
    for (std_name, standard) in [("class", FskStandard::Bell202), ("clip", FskStandard::V23)] {
        let s = alaw(spandsp_tx(
            std_name,
            "mdmf",
            &["dt=06151830", "num=075512345678", "name=ZHANG SAN"],
        ));
        let id = decode_one(&s);
        assert_eq!(id.standard, standard, "{std_name}");
        assert_eq!(id.format, MessageFormat::Mdmf);
        assert_eq!(
            id.info,
            info_number("06151830", "075512345678", Some("ZHANG SAN"))
        );
        assert_eq!(id.info.name_str(), Some("ZHANG SAN"));
    }
}

#[test]
fn spandsp_mdmf_absence_reasons_decode() {
    let s = alaw(spandsp_tx(
        "clip",
        "mdmf",
        &["dt=01010000", "numabs=P", "nameabs=O"],
    ));
    let id = decode_one(&s);
    assert_eq!(id.info.number, None);
    assert_eq!(id.info.name, None);
    assert_eq!(id.info.number_absence, Some(Absence::Private));
    assert_eq!(id.info.name_absence, Some(Absence::Unavailable));
}

#[test]
fn spandsp_signal_decodes_at_minus_30_dbm0_with_noise() {
    // -30 dBm0 per tone with white noise at -50 dBm0 (20 dB SNR over the 4 kHz band).
    for std_name in ["class", "clip"] {
        let clean = spandsp_tx(std_name, "mdmf", &["dt=02281200", "num=13800138000"]);
        for seed in 1..=5 {
            let noisy = add_noise(
                &set_level(&clean, -30.0),
                dbm0_to_amplitude(-50.0) / std::f32::consts::SQRT_2,
                seed,
            );
            let id = decode_one(&alaw(noisy));
            assert_eq!(
                id.info.number.as_deref(),
                Some("13800138000"),
                "{std_name} {seed}"
            );
            assert_eq!(id.info.datetime.as_deref(), Some("02281200"));
        }
    }
}

#[test]
fn spandsp_signal_decodes_with_over_six_db_twist_either_way() {
    for std_name in ["class", "clip"] {
        let clean = spandsp_tx(std_name, "mdmf", &["dt=02281200", "num=13800138000"]);
        let (mark, space) = if std_name == "class" {
            (1200.0, 2200.0)
        } else {
            (1300.0, 2100.0)
        };
        for (a, c) in [(0.42f32, 0.17f32), (-0.5, 0.0)] {
            let twisted = set_level(&twist(&clean, a, c), -25.0);
            // Check the twist really is about 6 dB, measured on steady mark and space tones.
            let tone = |hz: f32| {
                let t: Vec<i16> = (0..8000)
                    .map(|n| {
                        (1000.0 * (2.0 * std::f32::consts::PI * hz * n as f32 / 8000.0).sin())
                            as i16
                    })
                    .collect();
                10.0 * mean_power_at(&twist(&t, a, c)[800..], hz).log10()
            };
            let twist_db = (tone(mark) - tone(space)).abs();
            assert!(twist_db > 6.0, "twist only {twist_db} dB");
            let id = decode_one(&alaw(twisted));
            assert_eq!(
                id.info.number.as_deref(),
                Some("13800138000"),
                "{std_name} a={a} c={c}"
            );
        }
    }
}

#[test]
fn our_transmitter_is_decoded_by_spandsp() {
    let cases = [
        (
            FskStandard::Bell202,
            "class",
            MessageFormat::Sdmf,
            info_number("03150930", "4155551212", None),
        ),
        (
            FskStandard::V23,
            "clip",
            MessageFormat::Mdmf,
            info_number("10011000", "01062345678", Some("LI SI")),
        ),
        (
            FskStandard::V23,
            "clip",
            MessageFormat::Mdmf,
            CallerInfo {
                datetime: Some("11112222".try_into().expect("dt")),
                number_absence: Some(Absence::Private),
                name_absence: Some(Absence::Unavailable),
                ..CallerInfo::default()
            },
        ),
        (
            FskStandard::Bell202,
            "class",
            MessageFormat::Sdmf,
            CallerInfo {
                datetime: Some("11112222".try_into().expect("dt")),
                number_absence: Some(Absence::Unavailable),
                ..CallerInfo::default()
            },
        ),
    ];
    for (standard, std_name, format, info) in cases {
        let mut tx = CallerIdTx::new(standard, -13, LeadIn::default(), format, &info).expect("tx");
        let mut s = vec![0i16; 800];
        let mut buf = [0i16; 160];
        loop {
            let n = tx.fill(&mut buf);
            s.extend_from_slice(&buf[..n]);
            if n < buf.len() {
                break;
            }
        }
        assert!(tx.is_done());
        s.extend(std::iter::repeat_n(0, 800));
        let s = alaw(s);
        let lines = spandsp_rx(std_name, &s);
        let msg = encode_message(format, &info).expect("encode");
        // spandsp hands over the message without its checksum.
        assert_eq!(
            lines.first().map(String::as_str),
            Some(format!("msg {}", hex(&msg[..msg.len() - 1])).as_str()),
            "{std_name} {format:?}: {lines:?}"
        );
        if format == MessageFormat::Mdmf {
            let mut want = vec![format!("field 80 ")];
            if let Some(dt) = &info.datetime {
                want.push(format!("field 01 {}", hex(dt.as_bytes())));
            }
            if let Some(n) = &info.number {
                want.push(format!("field 02 {}", hex(n.as_bytes())));
            }
            if let Some(a) = info.number_absence {
                want.push(format!("field 04 {}", hex(&[a.code()])));
            }
            if let Some(n) = &info.name {
                want.push(format!("field 07 {}", hex(n)));
            }
            if let Some(a) = info.name_absence {
                want.push(format!("field 08 {}", hex(&[a.code()])));
            }
            assert_eq!(&lines[1..], &want[..]);
        }
        // And our own receiver agrees with itself on the same audio.
        let id = decode_one(&s);
        assert_eq!(
            (id.standard, id.format, &id.info),
            (standard, format, &info)
        );
    }
}

#[test]
fn corrupted_checksum_is_an_error_for_us_and_ignored_by_spandsp() {
    let info = info_number("01020304", "5551234", Some("BAD SUM"));
    let mut msg = encode_message(MessageFormat::Mdmf, &info).expect("encode");
    let last = msg.len() - 1;
    msg[last] = msg[last].wrapping_add(1);
    let mut tx =
        CallerIdTx::from_message(FskStandard::V23, -13, LeadIn::default(), &msg).expect("tx");
    let mut s = vec![0i16; tx.total_samples() + 1600];
    let n = tx.fill(&mut s[800..]);
    assert_eq!(n, tx.total_samples());
    let s = alaw(s);
    let got = decode(&s);
    // The checksum byte is one too high, so the message sums to 1.
    assert_eq!(got, vec![Err(CallerIdError::Checksum(1))]);
    let lines = spandsp_rx("clip", &s);
    assert!(
        lines.is_empty(),
        "spandsp accepted a bad checksum: {lines:?}"
    );
}
