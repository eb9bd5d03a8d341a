//! The D-channel parsers under random and mutated input: never a panic, and whatever parses
//! re-encodes to something that parses to the same message (or frame).

use proptest::prelude::*;
use yingda_signaling::isdn::q921::{Frame, Side};
use yingda_signaling::isdn::q931::Message;

/// Real messages to mutate: a libpri-style SETUP, a DISCONNECT with cause, a RESTART.
const SEEDS: &[&[u8]] = &[
    &[
        0x08, 0x02, 0x00, 0x01, 0x05, 0x04, 0x03, 0x80, 0x90, 0xa3, 0x18, 0x03, 0xa9, 0x83, 0x81,
        0x6c, 0x06, 0x21, 0x83, b'1', b'3', b'8', b'0', 0x70, 0x05, 0x81, b'4', b'0', b'0', b'8',
        0xa1,
    ],
    &[0x08, 0x02, 0x80, 0x01, 0x45, 0x08, 0x02, 0x82, 0x90],
    &[0x08, 0x02, 0x00, 0x00, 0x46, 0x79, 0x01, 0x87],
];

fn stable(bytes: &[u8]) {
    if let Ok(m) = Message::parse(bytes) {
        let again = Message::parse(&m.encode());
        assert_eq!(again.as_ref(), Ok(&m), "{bytes:02x?}");
    }
    for side in [Side::User, Side::Network] {
        if let Ok(f) = Frame::parse(bytes, side) {
            assert_eq!(Frame::parse(&f.encode(side), side), Ok(f), "{bytes:02x?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("YINGDA_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000)
    ))]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        stable(&bytes);
    }

    #[test]
    fn mutated_messages(
        seed in 0..SEEDS.len(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let mut b = SEEDS[seed].to_vec();
        for (at, v, op) in edits {
            let i = at % (b.len() + 1);
            match op {
                0 if i < b.len() => b[i] = v,
                1 => b.insert(i, v),
                _ if i < b.len() => { b.remove(i); }
                _ => {}
            }
        }
        stable(&b);
        // The same bytes behind a Q.921 I-frame header.
        let mut framed = vec![0x02, 0x01, 0x00, 0x00];
        framed.extend(&b);
        stable(&framed);
    }
}
