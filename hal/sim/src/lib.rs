//! Simulated FXO card and central office for development and tests
