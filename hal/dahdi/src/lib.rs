//! DAHDI back-end: FXO channels through /dev/dahdi/channel ioctls
