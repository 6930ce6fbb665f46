//! `metrics-listen`: where the optional Prometheus endpoint listens — a loopback address only.

use serde::Deserialize;
use std::net::SocketAddr;

/// `metrics-listen`: an IP literal on the loopback interface and a port.
///
/// Loopback only, because the endpoint has no authentication and the unit's hardening assumes the
/// daemon serves nothing to the network: a Prometheus elsewhere scrapes it through node_exporter's
/// textfile collector (`tagtally metrics`) or a local proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub(crate) struct MetricsListen(pub SocketAddr);

/// A `metrics-listen` that is not a loopback `IP:PORT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadMetricsListen {
    /// Not `IP:PORT`.
    #[error(
        "metrics-listen must be IP:PORT (e.g. \"127.0.0.1:9464\" or \"[::1]:9464\"), not `{0}`"
    )]
    NotAnAddress(String),
    /// Not on the loopback interface.
    #[error("metrics-listen must be a loopback address (127.0.0.0/8 or ::1), not `{0}`: the endpoint has no authentication; scrape it remotely through `tagtally metrics` and node_exporter's textfile collector")]
    NotLoopback(String),
}

impl TryFrom<String> for MetricsListen {
    type Error = BadMetricsListen;

    fn try_from(text: String) -> Result<Self, BadMetricsListen> {
        let addr: SocketAddr = text
            .parse()
            .map_err(|_| BadMetricsListen::NotAnAddress(text.clone()))?;
        if !addr.ip().is_loopback() {
            return Err(BadMetricsListen::NotLoopback(text));
        }
        Ok(MetricsListen(addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_only() {
        assert!(MetricsListen::try_from("127.0.0.1:9464".to_owned()).is_ok());
        assert!(MetricsListen::try_from("[::1]:9464".to_owned()).is_ok());
        assert_eq!(
            MetricsListen::try_from("0.0.0.0:9464".to_owned()),
            Err(BadMetricsListen::NotLoopback("0.0.0.0:9464".into()))
        );
        assert_eq!(
            MetricsListen::try_from("localhost:9464".to_owned()),
            Err(BadMetricsListen::NotAnAddress("localhost:9464".into()))
        );
    }
}
