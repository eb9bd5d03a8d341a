//! Raspberry Pi GPIO (rppal), /dev/watchdog and systemd notify
