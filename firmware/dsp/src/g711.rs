//! G.711 A-law and µ-law companding, bit-exact with ITU-T G.711 (as in the G.191 reference
//! code and spandsp's `g711.h`).
//!
//! Decoding and A-law encoding use tables built at compile time (A-law depends only on the
//! top 13 bits of a sample); µ-law encoding is computed.
//!
//! Every function is total: any code and any sample is valid, nothing allocates or panics.
//! The slice functions convert as many elements as the shorter slice holds.

use crate::Law;

/// A-law even-bit inversion mask.
const ALAW_AMI_MASK: u8 = 0x55;
/// µ-law bias.
const ULAW_BIAS: i32 = 0x84;

const fn top_bit(x: i32) -> i32 {
    31 - (x as u32).leading_zeros() as i32
}

/// Reference A-law encoder (ITU-T G.711 clause 2), used to build the table.
const fn alaw_encode_ref(linear: i32) -> u8 {
    let (mask, lin) = if linear >= 0 {
        (ALAW_AMI_MASK | 0x80, linear)
    } else {
        (ALAW_AMI_MASK, -linear - 1)
    };
    let seg = top_bit(lin | 0xFF) - 7;
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let shift = if seg != 0 { seg + 3 } else { 4 };
    (((seg << 4) | ((lin >> shift) & 0x0F)) as u8) ^ mask
}

/// µ-law encoder (ITU-T G.711 clause 3). Negative samples are negated (not complemented),
/// as in the Sun/CCITT reference and spandsp, so every bit of the input matters and no
/// reduced table is possible; the arithmetic is a few instructions.
const fn ulaw_encode_ref(linear: i32) -> u8 {
    let (mask, lin) = if linear < 0 {
        (0x7F, ULAW_BIAS - linear)
    } else {
        (0xFF, ULAW_BIAS + linear)
    };
    let seg = top_bit(lin | 0xFF) - 7;
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    (((seg << 4) | ((lin >> (seg + 3)) & 0x0F)) as u8) ^ mask
}

const fn alaw_decode_ref(code: u8) -> i16 {
    let a = code ^ ALAW_AMI_MASK;
    let mut i = ((a & 0x0F) as i32) << 4;
    let seg = ((a & 0x70) >> 4) as i32;
    if seg != 0 {
        i = (i + 0x108) << (seg - 1);
    } else {
        i += 8;
    }
    (if a & 0x80 != 0 { i } else { -i }) as i16
}

const fn ulaw_decode_ref(code: u8) -> i16 {
    let u = !code;
    let t = ((((u & 0x0F) as i32) << 3) + ULAW_BIAS) << (((u & 0x70) >> 4) as i32);
    (if u & 0x80 != 0 {
        ULAW_BIAS - t
    } else {
        t - ULAW_BIAS
    }) as i16
}

static ALAW_DECODE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = alaw_decode_ref(c as u8);
        c += 1;
    }
    t
};

static ULAW_DECODE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = ulaw_decode_ref(c as u8);
        c += 1;
    }
    t
};

/// A-law code indexed by the top 13 bits of the sample (`(x >> 3) + 4096`).
static ALAW_ENCODE: [u8; 8192] = {
    let mut t = [0u8; 8192];
    let mut i = 0;
    while i < 8192 {
        t[i] = alaw_encode_ref(((i as i32) - 4096) << 3);
        i += 1;
    }
    t
};

/// Decode one A-law code.
#[inline]
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_DECODE[code as usize]
}

/// Decode one µ-law code.
#[inline]
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_DECODE[code as usize]
}

/// Encode one sample to A-law.
#[inline]
pub fn linear_to_alaw(x: i16) -> u8 {
    ALAW_ENCODE[((x >> 3) as i32 + 4096) as usize]
}

/// Encode one sample to µ-law.
#[inline]
pub fn linear_to_ulaw(x: i16) -> u8 {
    ulaw_encode_ref(x as i32)
}

/// The code for silence: A-law 0xD5, µ-law 0xFF.
pub const fn silence(law: Law) -> u8 {
    match law {
        Law::Alaw => 0xD5,
        Law::Ulaw => 0xFF,
    }
}

/// Decode `codes` into `out` (lengths must match; extra elements of the longer are untouched).
pub fn decode(law: Law, codes: &[u8], out: &mut [i16]) {
    let table = match law {
        Law::Alaw => &ALAW_DECODE,
        Law::Ulaw => &ULAW_DECODE,
    };
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = table[c as usize];
    }
}

/// Encode `samples` into `out` (lengths must match; extra elements of the longer are untouched).
pub fn encode(law: Law, samples: &[i16], out: &mut [u8]) {
    match law {
        Law::Alaw => {
            for (o, &x) in out.iter_mut().zip(samples) {
                *o = linear_to_alaw(x);
            }
        }
        Law::Ulaw => {
            for (o, &x) in out.iter_mut().zip(samples) {
                *o = linear_to_ulaw(x);
            }
        }
    }
}

/// Decode one code in `law`.
#[inline]
pub fn to_linear(law: Law, code: u8) -> i16 {
    match law {
        Law::Alaw => alaw_to_linear(code),
        Law::Ulaw => ulaw_to_linear(code),
    }
}

/// Encode one sample in `law`.
#[inline]
pub fn from_linear(law: Law, x: i16) -> u8 {
    match law {
        Law::Alaw => linear_to_alaw(x),
        Law::Ulaw => linear_to_ulaw(x),
    }
}

/// Pass `samples` through an encode/decode round trip in place, as a line would.
pub fn round_trip(law: Law, samples: &mut [i16]) {
    for s in samples.iter_mut() {
        *s = to_linear(law, from_linear(law, *s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_reference_encoders_for_every_input() {
        for x in i16::MIN..=i16::MAX {
            assert_eq!(linear_to_alaw(x), alaw_encode_ref(x as i32), "A-law {x}");
            assert_eq!(linear_to_ulaw(x), ulaw_encode_ref(x as i32), "µ-law {x}");
        }
    }

    #[test]
    fn known_itu_values() {
        // ITU-T G.711 Table 1/2: A-law 0xD5 and 0x55 are the smallest positive/negative steps.
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        // µ-law 0xFF/0x7F are both zero; 0x80 is full-scale positive.
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
    }

    #[test]
    fn every_code_word_survives_decode_encode() {
        for c in 0..=255u8 {
            assert_eq!(linear_to_alaw(alaw_to_linear(c)), c, "A-law code {c:#04x}");
            let back = linear_to_ulaw(ulaw_to_linear(c));
            // µ-law has two zeros (0x7F and 0xFF); zero encodes as 0xFF.
            let expect = if c == 0x7F { 0xFF } else { c };
            assert_eq!(back, expect, "µ-law code {c:#04x}");
        }
    }
}
