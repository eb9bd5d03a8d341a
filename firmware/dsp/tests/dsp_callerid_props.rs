//! Properties of the caller ID message layer and receiver: encode/parse round trips, no
//! panic on any bytes or any audio, and streaming in any chunk size gives the same result.

use proptest::prelude::*;
use yingda_dsp::callerid::{
    encode_message, parse_message, Absence, CallerIdRx, CallerIdTx, CallerInfo, LeadIn,
    MessageFormat,
};
use yingda_dsp::fsk::FskStandard;

fn digits(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::char::range('0', '9'), 1..=max)
        .prop_map(|v| v.into_iter().collect())
}

fn absence() -> impl Strategy<Value = Absence> {
    prop_oneof![
        Just(Absence::Unavailable),
        Just(Absence::Private),
        Just(Absence::Other(b'C'))
    ]
}

fn mdmf_info() -> impl Strategy<Value = CallerInfo> {
    (
        proptest::option::of(digits(8).prop_filter("8 digits", |d| d.len() == 8)),
        proptest::option::of(digits(20)),
        proptest::option::of(absence()),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 1..=50)),
        proptest::option::of(absence()),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(|(dt, num, nabs, name, name_abs, call_type)| CallerInfo {
            datetime: dt.map(|d| d.as_str().try_into().expect("dt")),
            number: num.map(|n| n.as_str().try_into().expect("num")),
            number_absence: nabs,
            name: name.map(|n| heapless::Vec::from_slice(&n).expect("name")),
            name_absence: name_abs,
            call_type,
            ..CallerInfo::default()
        })
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_message(&bytes);
    }

    #[test]
    fn mdmf_encode_parse_round_trip(info in mdmf_info()) {
        let msg = encode_message(MessageFormat::Mdmf, &info).expect("encode");
        prop_assert_eq!(parse_message(&msg), Ok((MessageFormat::Mdmf, info)));
    }

    #[test]
    fn any_single_byte_error_is_caught(info in mdmf_info(), pos in any::<usize>(), flip in 1u8..=255) {
        let mut msg = encode_message(MessageFormat::Mdmf, &info).expect("encode");
        let pos = pos % msg.len();
        msg[pos] ^= flip;
        prop_assert!(parse_message(&msg).is_err());
    }

    #[test]
    fn receiver_survives_random_audio(samples in proptest::collection::vec(any::<i16>(), 0..4000)) {
        let mut rx = CallerIdRx::new();
        let mut ok = 0;
        rx.rx(&samples, |r| if r.is_ok() { ok += 1 });
        prop_assert_eq!(ok, 0);
    }

    #[test]
    fn chunking_does_not_change_result(chunk in 1usize..500, bell in any::<bool>()) {
        let standard = if bell { FskStandard::Bell202 } else { FskStandard::V23 };
        let info = CallerInfo {
            datetime: Some("07040101".try_into().expect("dt")),
            number: Some("02150505050".try_into().expect("num")),
            ..CallerInfo::default()
        };
        let mut tx = CallerIdTx::new(standard, -20, LeadIn::default(), MessageFormat::Mdmf, &info)
            .expect("tx");
        let mut s = vec![0i16; tx.total_samples() + 400];
        // Also exercise the transmitter in odd chunk sizes.
        let mut at = 200;
        while at < s.len() {
            let end = (at + chunk).min(s.len());
            let n = tx.fill(&mut s[at..end]);
            if n == 0 {
                break;
            }
            at += n;
        }
        let mut whole = Vec::new();
        CallerIdRx::new().rx(&s, |r| whole.push(r));
        let mut parts = Vec::new();
        let mut rx = CallerIdRx::new();
        for c in s.chunks(chunk) {
            rx.rx(c, |r| parts.push(r));
        }
        prop_assert_eq!(whole.len(), 1);
        prop_assert_eq!(&whole, &parts);
        let id = whole[0].clone().expect("decoded");
        prop_assert_eq!(id.info, info);
        prop_assert_eq!(id.standard, standard);
    }
}

#[test]
fn sdmf_encode_parse_round_trip_with_number_and_absence() {
    for (number, absence) in [(Some("13912345678"), None), (None, Some(Absence::Private))] {
        let info = CallerInfo {
            datetime: Some("01311159".try_into().expect("dt")),
            number: number.map(|n| n.try_into().expect("num")),
            number_absence: absence,
            ..CallerInfo::default()
        };
        let msg = encode_message(MessageFormat::Sdmf, &info).expect("encode");
        assert_eq!(msg[0], 0x04);
        assert_eq!(parse_message(&msg), Ok((MessageFormat::Sdmf, info)));
    }
}

#[test]
fn sdmf_without_number_or_reason_is_refused() {
    let info = CallerInfo {
        datetime: Some("01311159".try_into().expect("dt")),
        ..CallerInfo::default()
    };
    assert!(encode_message(MessageFormat::Sdmf, &info).is_err());
}

#[test]
fn unknown_etsi_parameters_are_skipped_and_known_ones_kept() {
    // ETSI call set-up: date/time, called number (0x03), visual indicator (0x0B, unknown to
    // us), redirecting number (0x1A), call type (0x11).
    let mut msg = vec![0x80, 0];
    for (code, value) in [
        (0x01u8, &b"12250800"[..]),
        (0x03, b"95555"),
        (0x0B, b"\x01"),
        (0x1A, b"01088888888"),
        (0x11, b"\x01"),
    ] {
        msg.push(code);
        msg.push(value.len() as u8);
        msg.extend_from_slice(value);
    }
    msg[1] = (msg.len() - 2) as u8;
    let sum = msg.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    msg.push(sum.wrapping_neg());
    let (format, info) = parse_message(&msg).expect("parse");
    assert_eq!(format, MessageFormat::Mdmf);
    assert_eq!(info.called_number.as_deref(), Some("95555"));
    assert_eq!(info.redirecting_number.as_deref(), Some("01088888888"));
    assert_eq!(info.call_type, Some(1));
    assert_eq!(info.datetime.as_deref(), Some("12250800"));
}

#[test]
fn parameter_overrunning_the_body_is_malformed() {
    let mut msg = vec![0x80, 4, 0x02, 9, b'1', b'2'];
    let sum = msg.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    msg.push(sum.wrapping_neg());
    assert_eq!(
        parse_message(&msg),
        Err(yingda_dsp::callerid::CallerIdError::Malformed)
    );
}
