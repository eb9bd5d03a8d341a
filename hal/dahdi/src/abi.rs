//! Kernel ABI of DAHDI as far as this back-end uses it.
//!
//! Provenance: mirrored by hand from `include/dahdi/user.h` of DAHDI Linux (the `dahdi-source`
//! package, unpacked by `tools/setup-deps.sh`). Every number and struct layout here is checked
//! against that header by `tests/dahdi_abi.rs`, which compiles `tests/peers/c/dahdi_abi.c`.
//! Change nothing here without re-running that test.
//!
//! Ioctl numbers are computed with nix's `request_code_*` macros, which encode direction, type
//! `0xDA`, number and argument size exactly like the kernel's `_IOW`/`_IOR`/`_IOWR` on every
//! architecture nix supports (including the ones where the direction bits differ).

use std::mem::size_of;

use libc::{c_char, c_int};
use nix::sys::ioctl::ioctl_num_type;

/// `DAHDI_CODE`: the ioctl type byte of every DAHDI request.
pub const DAHDI_CODE: u8 = 0xDA;

/// `DAHDI_SET_BLOCKSIZE`: `_IOW(DAHDI_CODE, 1, int)`; samples per read/write.
pub const DAHDI_SET_BLOCKSIZE: ioctl_num_type =
    nix::request_code_write!(DAHDI_CODE, 1, size_of::<c_int>());
/// `DAHDI_FLUSH`: `_IOW(DAHDI_CODE, 3, int)`; argument is a mask of `DAHDI_FLUSH_*`.
pub const DAHDI_FLUSH: ioctl_num_type = nix::request_code_write!(DAHDI_CODE, 3, size_of::<c_int>());
/// `DAHDI_GET_PARAMS`: `_IOWR(DAHDI_CODE, 5, struct dahdi_params)`.
pub const DAHDI_GET_PARAMS: ioctl_num_type =
    nix::request_code_readwrite!(DAHDI_CODE, 5, size_of::<DahdiParams>());
/// `DAHDI_HOOK`: `_IOW(DAHDI_CODE, 7, int)`; argument is `DAHDI_ONHOOK`, `DAHDI_OFFHOOK`, ...
pub const DAHDI_HOOK: ioctl_num_type = nix::request_code_write!(DAHDI_CODE, 7, size_of::<c_int>());
/// `DAHDI_GETEVENT`: `_IOR(DAHDI_CODE, 8, int)`; returns a `DAHDI_EVENT_*` (0: none).
pub const DAHDI_GETEVENT: ioctl_num_type =
    nix::request_code_read!(DAHDI_CODE, 8, size_of::<c_int>());
/// `DAHDI_SETGAINS`: `_IOW(DAHDI_CODE, 16, struct dahdi_gains)`.
pub const DAHDI_SETGAINS: ioctl_num_type =
    nix::request_code_write!(DAHDI_CODE, 16, size_of::<DahdiGains>());
/// `DAHDI_SPECIFY`: `_IOW(DAHDI_CODE, 38, int)`; binds a `/dev/dahdi/channel` fd to a channel.
pub const DAHDI_SPECIFY: ioctl_num_type =
    nix::request_code_write!(DAHDI_CODE, 38, size_of::<c_int>());
/// `DAHDI_SETLAW`: `_IOW(DAHDI_CODE, 39, int)`; argument is a `DAHDI_LAW_*`.
pub const DAHDI_SETLAW: ioctl_num_type =
    nix::request_code_write!(DAHDI_CODE, 39, size_of::<c_int>());

/// `ELAST`: the errno a read or write returns while an event is waiting (user.h defines it as
/// 500 where the C library does not).
pub const ELAST: i32 = 500;

/// `DAHDI_LAW_DEFAULT`: the span's default law.
pub const DAHDI_LAW_DEFAULT: c_int = 0;
/// `DAHDI_LAW_MULAW`.
pub const DAHDI_LAW_MULAW: c_int = 1;
/// `DAHDI_LAW_ALAW`.
pub const DAHDI_LAW_ALAW: c_int = 2;

/// `DAHDI_ONHOOK`.
pub const DAHDI_ONHOOK: c_int = 0;
/// `DAHDI_OFFHOOK`.
pub const DAHDI_OFFHOOK: c_int = 1;
/// `DAHDI_FLASH`.
pub const DAHDI_FLASH: c_int = 3;

/// `DAHDI_FLUSH_READ`.
pub const DAHDI_FLUSH_READ: c_int = 1;
/// `DAHDI_FLUSH_WRITE`.
pub const DAHDI_FLUSH_WRITE: c_int = 2;
/// `DAHDI_FLUSH_EVENT`.
pub const DAHDI_FLUSH_EVENT: c_int = 4;
/// `DAHDI_FLUSH_ALL`.
pub const DAHDI_FLUSH_ALL: c_int = 7;

/// `DAHDI_EVENT_NONE`.
pub const DAHDI_EVENT_NONE: c_int = 0;
/// `DAHDI_EVENT_ONHOOK`.
pub const DAHDI_EVENT_ONHOOK: c_int = 1;
/// `DAHDI_EVENT_RINGOFFHOOK`.
pub const DAHDI_EVENT_RINGOFFHOOK: c_int = 2;
/// `DAHDI_EVENT_ALARM`.
pub const DAHDI_EVENT_ALARM: c_int = 4;
/// `DAHDI_EVENT_NOALARM`.
pub const DAHDI_EVENT_NOALARM: c_int = 5;
/// `DAHDI_EVENT_OVERRUN`.
pub const DAHDI_EVENT_OVERRUN: c_int = 7;
/// `DAHDI_EVENT_RINGEROFF`.
pub const DAHDI_EVENT_RINGEROFF: c_int = 11;
/// `DAHDI_EVENT_HOOKCOMPLETE`.
pub const DAHDI_EVENT_HOOKCOMPLETE: c_int = 12;
/// `DAHDI_EVENT_POLARITY`.
pub const DAHDI_EVENT_POLARITY: c_int = 17;
/// `DAHDI_EVENT_RINGBEGIN`.
pub const DAHDI_EVENT_RINGBEGIN: c_int = 18;
/// `DAHDI_EVENT_REMOVED`: the card was unplugged or its driver unloaded.
pub const DAHDI_EVENT_REMOVED: c_int = 20;
/// `DAHDI_EVENT_READ_OVERRUN`.
pub const DAHDI_EVENT_READ_OVERRUN: c_int = 29;
/// `DAHDI_EVENT_WRITE_UNDERRUN`.
pub const DAHDI_EVENT_WRITE_UNDERRUN: c_int = 30;

/// `DAHDI_SIG_FXSLS`: FXS signalling (an FXO port), loop start.
pub const DAHDI_SIG_FXSLS: c_int = (1 << 0) | (1 << 13);
/// `DAHDI_SIG_FXSKS`: FXS signalling (an FXO port), kewl start.
pub const DAHDI_SIG_FXSKS: c_int = (1 << 2) | (1 << 13);

// --- E1 spans: span and channel configuration, CAS bits, HDLC D channel ---

/// `DAHDI_SPANCONFIG`: framing, line coding and timing of a span.
pub const DAHDI_SPANCONFIG: ioctl_num_type =
    nix::request_code_write!(DAHDI_CODE, 18, size_of::<DahdiLineConfig>());
/// `DAHDI_CHANCONFIG`: signalling type of a channel (CAS, clear, HDLC D channel).
pub const DAHDI_CHANCONFIG: ioctl_num_type =
    nix::request_code_write!(DAHDI_CODE, 19, size_of::<DahdiChanConfig>());
/// `DAHDI_CHANNO`: the channel number an fd is bound to.
pub const DAHDI_CHANNO: ioctl_num_type =
    nix::request_code_read!(DAHDI_CODE, 34, size_of::<c_int>());
/// `DAHDI_GETRXBITS`: the received CAS ABCD bits.
pub const DAHDI_GETRXBITS: ioctl_num_type =
    nix::request_code_read!(DAHDI_CODE, 43, size_of::<c_int>());
/// `DAHDI_SETTXBITS`: the CAS ABCD bits to send.
pub const DAHDI_SETTXBITS: ioctl_num_type =
    nix::request_code_write!(DAHDI_CODE, 43, size_of::<c_int>());
/// `DAHDI_STARTUP`: bring a configured span up.
pub const DAHDI_STARTUP: ioctl_num_type =
    nix::request_code_write!(DAHDI_CODE, 99, size_of::<c_int>());
/// `DAHDI_SHUTDOWN`: take a span down.
pub const DAHDI_SHUTDOWN: ioctl_num_type =
    nix::request_code_write!(DAHDI_CODE, 100, size_of::<c_int>());

/// `DAHDI_CONFIG_AMI`: AMI line coding.
pub const DAHDI_CONFIG_AMI: c_int = 1 << 6;
/// `DAHDI_CONFIG_B8ZS` (T1).
pub const DAHDI_CONFIG_B8ZS: c_int = 1 << 7;
/// `DAHDI_CONFIG_CCS`: common channel signalling (ISDN PRI) rather than CAS.
pub const DAHDI_CONFIG_CCS: c_int = 1 << 8;
/// `DAHDI_CONFIG_HDB3`: HDB3 line coding (E1).
pub const DAHDI_CONFIG_HDB3: c_int = 1 << 9;
/// `DAHDI_CONFIG_CRC4`: CRC-4 multiframe.
pub const DAHDI_CONFIG_CRC4: c_int = 1 << 10;

/// `DAHDI_SIG_CLEAR`: clear (bearer) channel.
pub const DAHDI_SIG_CLEAR: c_int = 1 << 7;
/// `DAHDI_SIG_HDLCRAW`: HDLC without FCS handling.
pub const DAHDI_SIG_HDLCRAW: c_int = (1 << 8) | DAHDI_SIG_CLEAR;
/// `DAHDI_SIG_HDLCFCS`: HDLC with FCS computed by DAHDI (the PRI D channel).
pub const DAHDI_SIG_HDLCFCS: c_int = (1 << 9) | DAHDI_SIG_HDLCRAW;
/// `DAHDI_SIG_CAS`: raw CAS bits (MFC/R2).
pub const DAHDI_SIG_CAS: c_int = 1 << 15;

/// `DAHDI_ABIT`…`DAHDI_DBIT`: CAS bit positions in the ABCD nibble.
pub const DAHDI_ABIT: c_int = 1 << 3;
/// B bit.
pub const DAHDI_BBIT: c_int = 1 << 2;
/// C bit.
pub const DAHDI_CBIT: c_int = 1 << 1;
/// D bit.
pub const DAHDI_DBIT: c_int = 1 << 0;

/// `DAHDI_EVENT_ABORT`: an HDLC frame was aborted.
pub const DAHDI_EVENT_ABORT: c_int = 6;
/// `DAHDI_EVENT_BADFCS`: an HDLC frame with a bad FCS was dropped.
pub const DAHDI_EVENT_BADFCS: c_int = 8;
/// `DAHDI_EVENT_BITSCHANGED`: the received CAS bits changed.
pub const DAHDI_EVENT_BITSCHANGED: c_int = 13;

/// `lineconfig` of an E1 span as a DAHDI admin writes it in `system.conf`
/// (`span=1,1,0,ccs,hdb3,crc4`): HDB3 always, CCS for a PRI (CAS for MFC/R2), CRC-4 if asked.
pub fn e1_lineconfig(ccs: bool, crc4: bool) -> c_int {
    DAHDI_CONFIG_HDB3
        | if ccs { DAHDI_CONFIG_CCS } else { 0 }
        | if crc4 { DAHDI_CONFIG_CRC4 } else { 0 }
}

/// `struct dahdi_lineconfig` (`DAHDI_SPANCONFIG`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiLineConfig {
    /// Span number (0: use `name`).
    pub span: c_int,
    /// Span name.
    pub name: [c_char; 20],
    /// Line build-out (0 for E1).
    pub lbo: c_int,
    /// `DAHDI_CONFIG_*` framing and coding bits.
    pub lineconfig: c_int,
    /// Timing source priority: 0 free-running (we are not a clock source), 1 first choice…
    pub sync: c_int,
}

/// `struct dahdi_chanconfig` (`DAHDI_CHANCONFIG`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs)] // field names and meanings are the kernel's; see user.h
pub struct DahdiChanConfig {
    pub chan: c_int,
    pub name: [c_char; 40],
    pub sigtype: c_int,
    pub deflaw: c_int,
    pub master: c_int,
    pub idlebits: c_int,
    pub netdev_name: [c_char; 16],
}

/// `struct dahdi_params` (`DAHDI_GET_PARAMS`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs)] // field names and meanings are the kernel's; see user.h
pub struct DahdiParams {
    pub channo: c_int,
    pub spanno: c_int,
    pub chanpos: c_int,
    pub sigtype: c_int,
    pub sigcap: c_int,
    pub rxisoffhook: c_int,
    pub rxbits: c_int,
    pub txbits: c_int,
    pub txhooksig: c_int,
    pub rxhooksig: c_int,
    pub curlaw: c_int,
    pub idlebits: c_int,
    pub name: [c_char; 40],
    pub prewinktime: c_int,
    pub preflashtime: c_int,
    pub winktime: c_int,
    pub flashtime: c_int,
    pub starttime: c_int,
    pub rxwinktime: c_int,
    pub rxflashtime: c_int,
    pub debouncetime: c_int,
    pub pulsebreaktime: c_int,
    pub pulsemaketime: c_int,
    pub pulseaftertime: c_int,
    pub chan_alarms: u32,
}

impl DahdiParams {
    /// All zero, ready to be filled by `DAHDI_GET_PARAMS` (`channo` 0: the bound channel).
    pub fn zeroed() -> Self {
        Self {
            channo: 0,
            spanno: 0,
            chanpos: 0,
            sigtype: 0,
            sigcap: 0,
            rxisoffhook: 0,
            rxbits: 0,
            txbits: 0,
            txhooksig: 0,
            rxhooksig: 0,
            curlaw: 0,
            idlebits: 0,
            name: [0; 40],
            prewinktime: 0,
            preflashtime: 0,
            winktime: 0,
            flashtime: 0,
            starttime: 0,
            rxwinktime: 0,
            rxflashtime: 0,
            debouncetime: 0,
            pulsebreaktime: 0,
            pulsemaketime: 0,
            pulseaftertime: 0,
            chan_alarms: 0,
        }
    }
}

/// `struct dahdi_gains` (`DAHDI_SETGAINS`): per-code translation tables applied by the kernel
/// to companded audio.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DahdiGains {
    /// Channel number, 0 for the bound channel.
    pub chan: c_int,
    /// Receive translation table, indexed by received code.
    pub rxgain: [u8; 256],
    /// Transmit translation table, indexed by code to send.
    pub txgain: [u8; 256],
}

/// Every ioctl request number and constant above, by its C name, for the header check.
pub fn constants() -> Vec<(&'static str, i64)> {
    vec![
        ("DAHDI_CODE", i64::from(DAHDI_CODE)),
        ("DAHDI_SET_BLOCKSIZE", request(DAHDI_SET_BLOCKSIZE)),
        ("DAHDI_FLUSH", request(DAHDI_FLUSH)),
        ("DAHDI_GET_PARAMS", request(DAHDI_GET_PARAMS)),
        ("DAHDI_HOOK", request(DAHDI_HOOK)),
        ("DAHDI_GETEVENT", request(DAHDI_GETEVENT)),
        ("DAHDI_SETGAINS", request(DAHDI_SETGAINS)),
        ("DAHDI_SPECIFY", request(DAHDI_SPECIFY)),
        ("DAHDI_SETLAW", request(DAHDI_SETLAW)),
        ("ELAST", i64::from(ELAST)),
        ("DAHDI_LAW_DEFAULT", i64::from(DAHDI_LAW_DEFAULT)),
        ("DAHDI_LAW_MULAW", i64::from(DAHDI_LAW_MULAW)),
        ("DAHDI_LAW_ALAW", i64::from(DAHDI_LAW_ALAW)),
        ("DAHDI_ONHOOK", i64::from(DAHDI_ONHOOK)),
        ("DAHDI_OFFHOOK", i64::from(DAHDI_OFFHOOK)),
        ("DAHDI_FLASH", i64::from(DAHDI_FLASH)),
        ("DAHDI_FLUSH_READ", i64::from(DAHDI_FLUSH_READ)),
        ("DAHDI_FLUSH_WRITE", i64::from(DAHDI_FLUSH_WRITE)),
        ("DAHDI_FLUSH_EVENT", i64::from(DAHDI_FLUSH_EVENT)),
        ("DAHDI_FLUSH_ALL", i64::from(DAHDI_FLUSH_ALL)),
        ("DAHDI_EVENT_NONE", i64::from(DAHDI_EVENT_NONE)),
        ("DAHDI_EVENT_ONHOOK", i64::from(DAHDI_EVENT_ONHOOK)),
        (
            "DAHDI_EVENT_RINGOFFHOOK",
            i64::from(DAHDI_EVENT_RINGOFFHOOK),
        ),
        ("DAHDI_EVENT_ALARM", i64::from(DAHDI_EVENT_ALARM)),
        ("DAHDI_EVENT_NOALARM", i64::from(DAHDI_EVENT_NOALARM)),
        ("DAHDI_EVENT_OVERRUN", i64::from(DAHDI_EVENT_OVERRUN)),
        ("DAHDI_EVENT_RINGEROFF", i64::from(DAHDI_EVENT_RINGEROFF)),
        (
            "DAHDI_EVENT_HOOKCOMPLETE",
            i64::from(DAHDI_EVENT_HOOKCOMPLETE),
        ),
        ("DAHDI_EVENT_POLARITY", i64::from(DAHDI_EVENT_POLARITY)),
        ("DAHDI_EVENT_RINGBEGIN", i64::from(DAHDI_EVENT_RINGBEGIN)),
        ("DAHDI_EVENT_REMOVED", i64::from(DAHDI_EVENT_REMOVED)),
        (
            "DAHDI_EVENT_READ_OVERRUN",
            i64::from(DAHDI_EVENT_READ_OVERRUN),
        ),
        (
            "DAHDI_EVENT_WRITE_UNDERRUN",
            i64::from(DAHDI_EVENT_WRITE_UNDERRUN),
        ),
        ("DAHDI_SIG_FXSLS", i64::from(DAHDI_SIG_FXSLS)),
        ("DAHDI_SIG_FXSKS", i64::from(DAHDI_SIG_FXSKS)),
        ("DAHDI_SPANCONFIG", request(DAHDI_SPANCONFIG)),
        ("DAHDI_CHANCONFIG", request(DAHDI_CHANCONFIG)),
        ("DAHDI_CHANNO", request(DAHDI_CHANNO)),
        ("DAHDI_GETRXBITS", request(DAHDI_GETRXBITS)),
        ("DAHDI_SETTXBITS", request(DAHDI_SETTXBITS)),
        ("DAHDI_STARTUP", request(DAHDI_STARTUP)),
        ("DAHDI_SHUTDOWN", request(DAHDI_SHUTDOWN)),
        ("DAHDI_CONFIG_AMI", i64::from(DAHDI_CONFIG_AMI)),
        ("DAHDI_CONFIG_B8ZS", i64::from(DAHDI_CONFIG_B8ZS)),
        ("DAHDI_CONFIG_CCS", i64::from(DAHDI_CONFIG_CCS)),
        ("DAHDI_CONFIG_HDB3", i64::from(DAHDI_CONFIG_HDB3)),
        ("DAHDI_CONFIG_CRC4", i64::from(DAHDI_CONFIG_CRC4)),
        ("DAHDI_SIG_CLEAR", i64::from(DAHDI_SIG_CLEAR)),
        ("DAHDI_SIG_HDLCRAW", i64::from(DAHDI_SIG_HDLCRAW)),
        ("DAHDI_SIG_HDLCFCS", i64::from(DAHDI_SIG_HDLCFCS)),
        ("DAHDI_SIG_CAS", i64::from(DAHDI_SIG_CAS)),
        ("DAHDI_ABIT", i64::from(DAHDI_ABIT)),
        ("DAHDI_BBIT", i64::from(DAHDI_BBIT)),
        ("DAHDI_CBIT", i64::from(DAHDI_CBIT)),
        ("DAHDI_DBIT", i64::from(DAHDI_DBIT)),
        ("DAHDI_EVENT_ABORT", i64::from(DAHDI_EVENT_ABORT)),
        ("DAHDI_EVENT_BADFCS", i64::from(DAHDI_EVENT_BADFCS)),
        (
            "DAHDI_EVENT_BITSCHANGED",
            i64::from(DAHDI_EVENT_BITSCHANGED),
        ),
    ]
}

/// An ioctl request number as the unsigned 32-bit value the kernel sees, whatever width the
/// C library gives the request argument.
fn request(r: ioctl_num_type) -> i64 {
    i64::from(r as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e1_line_configs() {
        // PRI: ccs,hdb3,crc4 = 0x100 | 0x200 | 0x400.
        assert_eq!(e1_lineconfig(true, true), 0x700);
        // MFC/R2 China: cas,hdb3 (CRC-4 usually off on R2 trunks).
        assert_eq!(e1_lineconfig(false, false), 0x200);
    }
}
