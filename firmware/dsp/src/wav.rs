//! Minimal RIFF/WAVE reader and writer for line captures and prompts.
//!
//! Reads 16-bit PCM, A-law (format tag 6) and µ-law (7), plain or `WAVE_FORMAT_EXTENSIBLE`;
//! everything else is an error naming what was found. Audio is returned as 16-bit linear.
//! This parser faces files from the field: it never panics, whatever the bytes. It returns
//! owned `Vec`s, so it is for loading prompts and writing captures, never for the real-time
//! audio path.

use crate::g711;
use crate::Law;

/// Why a WAV file could not be read.
#[non_exhaustive]
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WavError {
    /// The file does not start with a RIFF/WAVE header.
    #[error("not a WAV file (no RIFF/WAVE header)")]
    NotWav,
    /// The file ends inside a chunk header or the format chunk.
    #[error("WAV file is truncated")]
    Truncated,
    /// No `fmt ` chunk before the `data` chunk.
    #[error("WAV file has no format chunk")]
    NoFormat,
    /// No `data` chunk.
    #[error("WAV file has no data chunk")]
    NoData,
    /// A sample encoding other than 16-bit PCM, A-law or µ-law.
    #[error("unsupported WAV encoding: format tag {tag:#06x}, {bits} bits per sample (need 16-bit PCM, A-law or µ-law)")]
    UnsupportedEncoding {
        /// The format tag found.
        tag: u16,
        /// Bits per sample found.
        bits: u16,
    },
}

/// How the samples were stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 16-bit signed little-endian PCM.
    Pcm16,
    /// G.711 in the given law, one byte per sample.
    G711(Law),
}

/// A decoded WAV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wav {
    /// Samples per second.
    pub rate: u32,
    /// Channel count (samples are interleaved).
    pub channels: u16,
    /// Encoding in the file.
    pub encoding: Encoding,
    /// Linear 16-bit samples, interleaved.
    pub samples: Vec<i16>,
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(i)?,
        *b.get(i + 1)?,
        *b.get(i + 2)?,
        *b.get(i + 3)?,
    ]))
}

/// Parse a WAV file held in memory.
///
/// # Errors
/// A [`WavError`] saying what is missing or unsupported; a `data` chunk that claims more
/// bytes than the file holds is read to the end of the file instead.
pub fn parse(bytes: &[u8]) -> Result<Wav, WavError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(WavError::NotWav);
    }
    let mut pos = 12usize;
    let mut fmt: Option<(u16, u16, u32, u16)> = None;
    // `pos` may exceed the file (a chunk length past its end); compare without overflow.
    while bytes.len().saturating_sub(pos) >= 8 {
        let id = &bytes[pos..pos + 4];
        let len = u32_at(bytes, pos + 4).ok_or(WavError::Truncated)? as usize;
        let body_start = pos + 8;
        // A data chunk whose declared length overruns the file (common in captures that were
        // cut off while recording) is read up to the end of the file.
        let body_end = body_start.saturating_add(len).min(bytes.len());
        let body = &bytes[body_start..body_end];
        match id {
            b"fmt " => {
                let mut tag = u16_at(body, 0).ok_or(WavError::Truncated)?;
                let channels = u16_at(body, 2).ok_or(WavError::Truncated)?;
                let rate = u32_at(body, 4).ok_or(WavError::Truncated)?;
                let bits = u16_at(body, 14).ok_or(WavError::Truncated)?;
                if tag == 0xFFFE {
                    // WAVE_FORMAT_EXTENSIBLE: the real tag is the first two bytes of the GUID.
                    tag = u16_at(body, 24).ok_or(WavError::Truncated)?;
                }
                fmt = Some((tag, channels, rate, bits));
            }
            b"data" => {
                let (tag, channels, rate, bits) = fmt.ok_or(WavError::NoFormat)?;
                let (encoding, samples) = match (tag, bits) {
                    (1, 16) => (
                        Encoding::Pcm16,
                        body.chunks_exact(2)
                            .map(|c| i16::from_le_bytes([c[0], c[1]]))
                            .collect(),
                    ),
                    (6, 8) => (
                        Encoding::G711(Law::Alaw),
                        body.iter().map(|&c| g711::alaw_to_linear(c)).collect(),
                    ),
                    (7, 8) => (
                        Encoding::G711(Law::Ulaw),
                        body.iter().map(|&c| g711::ulaw_to_linear(c)).collect(),
                    ),
                    _ => return Err(WavError::UnsupportedEncoding { tag, bits }),
                };
                return Ok(Wav {
                    rate,
                    channels,
                    encoding,
                    samples,
                });
            }
            _ => {}
        }
        // Chunks are padded to even length.
        pos = body_start.saturating_add(len).saturating_add(len & 1);
    }
    Err(if fmt.is_some() {
        WavError::NoData
    } else {
        WavError::NoFormat
    })
}

/// Serialise mono samples as a WAV file in `encoding`.
pub fn write(rate: u32, encoding: Encoding, samples: &[i16]) -> Vec<u8> {
    let (tag, bits, data): (u16, u16, Vec<u8>) = match encoding {
        Encoding::Pcm16 => (
            1,
            16,
            samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
        ),
        Encoding::G711(law) => {
            let mut d = vec![0u8; samples.len()];
            g711::encode(law, samples, &mut d);
            (if law == Law::Alaw { 6 } else { 7 }, 8, d)
        }
    };
    let block_align = bits / 8;
    let mut out = Vec::with_capacity(44 + data.len() + 1);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((36 + data.len() + (data.len() & 1)) as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    if data.len() & 1 == 1 {
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_each_encoding() {
        let samples: Vec<i16> = (0..801)
            .map(|i| ((i * 37) % 2000 - 1000) as i16 * 8)
            .collect();
        for enc in [
            Encoding::Pcm16,
            Encoding::G711(Law::Alaw),
            Encoding::G711(Law::Ulaw),
        ] {
            let w = parse(&write(8000, enc, &samples)).unwrap();
            assert_eq!((w.rate, w.channels, w.encoding), (8000, 1, enc));
            let mut expect = samples.clone();
            if let Encoding::G711(law) = enc {
                g711::round_trip(law, &mut expect);
            }
            assert_eq!(w.samples, expect);
        }
    }

    #[test]
    fn rejects_garbage_and_unsupported_with_reasons() {
        assert_eq!(parse(b"hello"), Err(WavError::NotWav));
        let mut w = write(8000, Encoding::Pcm16, &[1, 2, 3]);
        w[20] = 3; // IEEE float
        w[34] = 32;
        assert_eq!(
            parse(&w),
            Err(WavError::UnsupportedEncoding { tag: 3, bits: 32 })
        );
        let w = write(8000, Encoding::Pcm16, &[1, 2, 3]);
        assert_eq!(parse(&w[..30]), Err(WavError::Truncated));
    }

    #[test]
    fn never_panics_on_any_truncation() {
        let w = write(8000, Encoding::G711(Law::Alaw), &[5; 100]);
        for n in 0..w.len() {
            let _ = parse(&w[..n]);
        }
    }
}
