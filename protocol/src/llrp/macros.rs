//! `wire_enum!`: protocol code enums that keep unknown values (`Unknown(n)`) instead of failing.

/// Declares a `Copy` enum for a wire code of type `$repr` plus an `Unknown($repr)` variant, with
/// lossless `From` conversions both ways. A peer speaking a newer revision must never make us fail,
/// so every value decodes; only the canonical variant of a known value is produced by `from`.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident($repr:ty) {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know, kept as received.
            Unknown($repr),
        }

        impl From<$repr> for $name {
            #[inline]
            fn from(value: $repr) -> Self {
                match value {
                    $( $value => $name::$variant, )+
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $repr {
            #[inline]
            fn from(value: $name) -> $repr {
                match value {
                    $( $name::$variant => $value, )+
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}
