//! Human names for the vendor and model numbers an LLRP reader reports in GeneralDeviceCapabilities.

/// "Impinj R700", "Zebra model 1234", "vendor 4242 model 7": what a technician recognises.
pub fn describe(manufacturer: u32, model: u32) -> String {
    let vendor = match manufacturer {
        25882 => "Impinj",
        161 => "Zebra",
        24831 => "Sirit",
        // Alien Technology's IANA number.
        17360 => "Alien",
        other => return format!("vendor {other} model {model}"),
    };
    // Impinj model numbers per EdgeX device-rfid-llrp-go internal/driver/types.go.
    let impinj_model = match (manufacturer, model) {
        (25882, 2_001_001) => Some("R220"),
        (25882, 2_001_002) => Some("R420"),
        (25882, 2_001_003) => Some("xPortal"),
        (25882, 2_001_004) => Some("xArray WM"),
        (25882, 2_001_006) => Some("xArray EAP"),
        (25882, 2_001_007) => Some("xArray"),
        (25882, 2_001_008) => Some("xSpan"),
        (25882, 2_001_009) => Some("R120"),
        (25882, 2_001_052) => Some("R700"),
        _ => None,
    };
    match impinj_model {
        Some(name) => format!("{vendor} {name}"),
        None => format!("{vendor} model {model}"),
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn known_and_unknown_models() {
        assert_eq!(describe(25882, 2_001_052), "Impinj R700");
        assert_eq!(describe(25882, 5), "Impinj model 5");
        assert_eq!(describe(161, 1234), "Zebra model 1234");
        assert_eq!(describe(4242, 7), "vendor 4242 model 7");
    }
}
