//! The yingda daemon
