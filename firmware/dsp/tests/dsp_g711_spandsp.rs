//! G.711 against spandsp: every code word decoded and every 16-bit sample encoded must agree.

use yingda_dsp::g711;

#[test]
fn g711_matches_spandsp_for_every_code_and_sample() {
    let exe = yingda_testpeers::build("g711_ref", &[], &["-lspandsp"]);
    let out = yingda_testpeers::run(&exe, &[]);
    assert_eq!(out.len(), 512 + 512 + 65536 * 2);
    let alaw_dec = yingda_testpeers::i16_samples(&out[..512]);
    let ulaw_dec = yingda_testpeers::i16_samples(&out[512..1024]);
    let alaw_enc = &out[1024..1024 + 65536];
    let ulaw_enc = &out[1024 + 65536..];
    for c in 0..256usize {
        assert_eq!(
            g711::alaw_to_linear(c as u8),
            alaw_dec[c],
            "A-law decode {c:#04x}"
        );
        assert_eq!(
            g711::ulaw_to_linear(c as u8),
            ulaw_dec[c],
            "µ-law decode {c:#04x}"
        );
    }
    for i in 0..65536usize {
        let x = (i as i32 - 32768) as i16;
        assert_eq!(g711::linear_to_alaw(x), alaw_enc[i], "A-law encode {x}");
        assert_eq!(g711::linear_to_ulaw(x), ulaw_enc[i], "µ-law encode {x}");
    }
}
