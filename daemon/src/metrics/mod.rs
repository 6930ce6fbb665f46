//! Prometheus metrics: the text exposition format, a latency histogram, and the loopback HTTP
//! endpoint of `metrics-listen`. What the daemon exports is gathered in `run/metrics.rs`.

mod exposition;
mod histogram;
mod http;

pub use exposition::{Exposition, Kind, CONTENT_TYPE};
pub use histogram::{LatencyHistogram, COMMIT_BUCKETS};
pub use http::{serve, MetricsSource, MAX_CONNECTIONS, MAX_REQUEST_HEAD};
