//! Network addresses written as `host`, `host:port`, `[ipv6]:port` or a bare IPv6 address.

use std::fmt;
use std::net::Ipv6Addr;

/// A host name or IP address and a TCP port. The host is kept as text: name resolution
/// belongs to the connecting task (a reader's DNS name may change while the daemon runs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// Host name, IPv4 address or IPv6 address (without brackets).
    pub host: String,
    /// TCP port, never 0.
    pub port: u16,
}

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostPortError {
    /// Nothing before the port.
    #[error("the host is empty")]
    EmptyHost,
    /// Characters no host name or IP address contains.
    #[error("`{host}` is not a host name or IP address")]
    BadHost {
        /// The host part as written.
        host: String,
    },
    /// The port is not a number from 1 to 65535.
    #[error("port `{port}` is not a number from 1 to 65535")]
    BadPort {
        /// The port part as written.
        port: String,
    },
    /// No port given where there is no default.
    #[error("a port is required (host:port)")]
    MissingPort,
}

impl HostPort {
    /// Parses `text`; `default_port` fills in a missing port, or a missing port is an error.
    pub fn parse(text: &str, default_port: Option<u16>) -> Result<HostPort, HostPortError> {
        let (host, port) = split_host_port(text)?;
        if host.is_empty() {
            return Err(HostPortError::EmptyHost);
        }
        let port = match port {
            Some(port) => match port.parse::<u16>() {
                Ok(number) if number != 0 => number,
                _ => {
                    return Err(HostPortError::BadPort {
                        port: port.to_owned(),
                    })
                }
            },
            None => default_port.ok_or(HostPortError::MissingPort)?,
        };
        Ok(HostPort {
            host: host.to_owned(),
            port,
        })
    }
}

/// Splits into host and optional port text, checking the host's characters.
fn split_host_port(text: &str) -> Result<(&str, Option<&str>), HostPortError> {
    if let Some(bracketed) = text.strip_prefix('[') {
        let (host, rest) = bracketed.split_once(']').ok_or_else(|| bad_host(text))?;
        host.parse::<Ipv6Addr>().map_err(|_| bad_host(host))?;
        return match rest {
            "" => Ok((host, None)),
            _ => match rest.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(bad_host(text)),
            },
        };
    }
    // Two or more colons without brackets can only be a bare IPv6 address.
    if text.matches(':').count() > 1 {
        text.parse::<Ipv6Addr>().map_err(|_| bad_host(text))?;
        return Ok((text, None));
    }
    let (host, port) = match text.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    };
    let host_chars_ok = host
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.' || byte == b'_');
    if !host_chars_ok {
        return Err(bad_host(host));
    }
    Ok((host, port))
}

fn bad_host(host: &str) -> HostPortError {
    HostPortError::BadHost {
        host: host.to_owned(),
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        if self.host.contains(':') {
            write!(formatter, "[{}]:{}", self.host, self.port)
        } else {
            write!(formatter, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, default_port: Option<u16>) -> (String, u16) {
        let parsed = HostPort::parse(text, default_port).unwrap_or_else(|e| panic!("{text}: {e}"));
        (parsed.host, parsed.port)
    }

    #[test]
    fn a_bare_host_takes_the_default_port() {
        assert_eq!(ok("10.0.0.21", Some(5084)), ("10.0.0.21".into(), 5084));
        assert_eq!(
            ok("reader-1.store", Some(5084)),
            ("reader-1.store".into(), 5084)
        );
    }

    #[test]
    fn an_explicit_port_wins() {
        assert_eq!(ok("10.0.0.21:5085", Some(5084)), ("10.0.0.21".into(), 5085));
    }

    #[test]
    fn ipv6_bare_or_bracketed() {
        assert_eq!(ok("fe80::1", Some(5084)), ("fe80::1".into(), 5084));
        assert_eq!(ok("[fe80::1]:4001", None), ("fe80::1".into(), 4001));
        assert_eq!(ok("[::1]", Some(1883)), ("::1".into(), 1883));
    }

    #[test]
    fn bad_ports_are_refused() {
        for text in ["h:0", "h:65536", "h:", "h:http", "h:-1"] {
            assert!(
                matches!(
                    HostPort::parse(text, Some(1)),
                    Err(HostPortError::BadPort { .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_hosts_are_refused() {
        assert_eq!(
            HostPort::parse(":5084", Some(1)),
            Err(HostPortError::EmptyHost)
        );
        assert_eq!(HostPort::parse("", Some(1)), Err(HostPortError::EmptyHost));
        for text in ["a b", "host/path", "[not-v6]:1", "1:2:zz", "[::1]x"] {
            assert!(
                matches!(
                    HostPort::parse(text, Some(1)),
                    Err(HostPortError::BadHost { .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn a_missing_port_without_default_is_refused() {
        assert_eq!(
            HostPort::parse("bridge", None),
            Err(HostPortError::MissingPort)
        );
    }

    #[test]
    fn display_brackets_ipv6() {
        assert_eq!(
            HostPort::parse("fe80::1", Some(5084)).unwrap().to_string(),
            "[fe80::1]:5084"
        );
        assert_eq!(
            HostPort::parse("r1", Some(5084)).unwrap().to_string(),
            "r1:5084"
        );
    }
}
