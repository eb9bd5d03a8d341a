//! The same capture stored as 16-bit PCM, A-law (format tag 6) and µ-law (7) gives the same
//! findings: G.711 companding must not change what a field engineer sees.

mod common;

use common::{decode_json, mixed_call, wav};
use yingda_dsp::wav::Encoding;
use yingda_dsp::Law;

#[test]
fn encodings_pcm_alaw_ulaw_give_the_same_findings() {
    let (x, _) = mixed_call();
    let pcm = decode_json(&wav(&x, Encoding::Pcm16).path);
    assert_eq!(pcm.len(), 5, "{pcm:?}");
    for law in [Law::Alaw, Law::Ulaw] {
        let g711 = decode_json(&wav(&x, Encoding::G711(law)).path);
        assert_eq!(g711, pcm, "{law:?}");
    }
}
