//! Persistent store for config and call detail records (sled behind a trait)
