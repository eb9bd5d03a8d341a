//! Sans-IO line signalling state machines: FXO loop start
