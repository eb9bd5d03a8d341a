//! China DTMF caller ID: records sent by spandsp's `dtmf_tx` (as an exchange would, before
//! the first ring) decoded after an A-law round trip; our encoder + `DtmfTx` decoded both by
//! spandsp's `dtmf_rx` and by our decoder; encoder/decoder round trip as a property.

use proptest::prelude::*;
use yingda_dsp::dtmf::{DtmfTx, DtmfTxConfig};
use yingda_dsp::dtmf_cid::{
    encode, Absence, CallerId, CidError, DtmfCidDecoder, EndDigit, StartDigit,
};
use yingda_dsp::{g711, Law};

fn spandsp_tx(digits: &str, on: u32, off: u32) -> Vec<i16> {
    let exe = yingda_testpeers::build("spandsp_dtmf_tx", &[], &["-lspandsp"]);
    let args = [digits, "-10", "0", &on.to_string(), &off.to_string(), "-99"].map(str::to_string);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut x = yingda_testpeers::i16_samples(&yingda_testpeers::run(&exe, &args));
    g711::round_trip(Law::Alaw, &mut x);
    x
}

fn decode(x: &[i16]) -> Vec<Result<CallerId, CidError>> {
    let mut d = DtmfCidDecoder::new();
    let mut out = Vec::new();
    for f in x.chunks(160) {
        d.rx(f, |r| out.push(r));
    }
    // Two seconds of silence flush any unterminated record.
    d.rx(&[0; 16000], |r| out.push(r));
    out
}

#[test]
fn dtmf_cid_every_form_from_spandsp() {
    // Chinese exchanges send 70 ms / 70 ms digits; 50/50 is the fastest seen.
    for (on, off) in [(70, 70), (50, 50)] {
        for (s, number, absence) in [
            ("A13912345678C", "13912345678", None),
            ("A075583211234#", "075583211234", None),
            ("D01062345678C", "01062345678", None),
            ("B00C", "", Some(Absence::Unavailable)),
            ("B10C", "", Some(Absence::Private)),
        ] {
            let r = decode(&spandsp_tx(s, on, off));
            assert_eq!(r.len(), 1, "{s}: {r:?}");
            let rec = r[0].clone().unwrap();
            assert_eq!(rec.number.as_str(), number, "{s}");
            assert_eq!(rec.absence, absence, "{s}");
            // The record starts after the 100 ms lead-in.
            assert!(rec.start.abs_diff(800) <= 80, "{s}: start {}", rec.start);
        }
    }
}

#[test]
fn dtmf_cid_unterminated_record_reported() {
    let r = decode(&spandsp_tx("A1391234", 70, 70));
    assert_eq!(r, vec![Err(CidError::Unterminated { digits: 7 })]);
}

fn our_tx(digits: &str) -> Vec<i16> {
    let mut tx = DtmfTx::with_config(&DtmfTxConfig {
        on_ms: 70,
        off_ms: 70,
        level_dbm0: -10.0,
        twist_db: 0.0,
    })
    .unwrap();
    tx.put(digits).unwrap();
    let mut x = vec![0i16; 800 + digits.len() * 1120 + 1600];
    tx.tx(&mut x[800..]);
    g711::round_trip(Law::Alaw, &mut x);
    x
}

#[test]
fn dtmf_cid_encoder_output_decoded_by_spandsp_and_us() {
    let s = encode("13800138000", None, StartDigit::A, EndDigit::C).unwrap();
    let x = our_tx(&s);
    let exe = yingda_testpeers::build("spandsp_dtmf_rx", &[], &["-lspandsp"]);
    let out = yingda_testpeers::run_with_samples(&exe, &[], &x);
    assert_eq!(String::from_utf8_lossy(&out).trim(), "A13800138000C");
    let r = decode(&x);
    assert_eq!(r[0].clone().unwrap().number.as_str(), "13800138000");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn dtmf_cid_encode_decode_round_trip(
        number in "[0-9]{1,16}",
        absent in proptest::option::of(0u8..100),
        d_start in any::<bool>(),
        hash_end in any::<bool>(),
    ) {
        let absence = absent.map(|c| match c { 0 => Absence::Unavailable, 10 => Absence::Private, c => Absence::Other(c) });
        let start = if d_start { StartDigit::D } else { StartDigit::A };
        let end = if hash_end { EndDigit::Hash } else { EndDigit::C };
        let s = encode(&number, absence, start, end).unwrap();
        let r = decode(&our_tx(&s));
        prop_assert_eq!(r.len(), 1);
        let rec = r[0].clone().unwrap();
        prop_assert_eq!(rec.absence, absence);
        if absence.is_none() {
            prop_assert_eq!(rec.number.as_str(), number.as_str());
        }
    }
}
