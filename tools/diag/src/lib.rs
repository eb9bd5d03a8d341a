//! Field diagnostics: decode line captures
