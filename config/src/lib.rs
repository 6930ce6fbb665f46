//! The tagtally configuration: schema, loader and validation (SPEC §4).
