//! ALSA back-end: local headset or speaker as a line
