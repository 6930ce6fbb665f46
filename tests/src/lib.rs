//! Cross-crate scenario tests: emulated stores, a broker and the real `tagtally` binary (see `tests/`).
