//! `tagtally hq-tail`: the reference HQ consumer — subscribes to every store's deltas, snapshots
//! (all parts) and status, reports gaps and duplicates, asks for a gap with `cmd/replay`, and
//! prints chain-wide per-SKU totals.
//!
//! A command of the `tagtally` binary rather than an example, so an integrator has it wherever
//! tagtally is installed and the interop suite can run the very binary that ships.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tagtally::exit;
use tagtally::uplink::{client_config, TlsFiles};
use tagtally_config::{read_secret_file, BrokerUrl};
use tagtally_contract::{ReplayCommand, StoreTopic, Topics};
use tagtally_tooling::consumer::{ChainTracker, Observation};

/// Asks a store to re-publish the seqs of a gap (`cmd/replay`); the store coalesces requests, so
/// asking once per gap seen is enough.
fn ask_replay(client: &rumqttc::AsyncClient, prefix: &str, store: &str, from: u64, to: u64) {
    let Ok(topics) = Topics::new(prefix, store) else {
        return;
    };
    let command = ReplayCommand {
        from_seq: from,
        to_seq: to,
        request_id: None,
    };
    if let Err(e) = client.try_publish(
        topics.cmd_replay(),
        rumqttc::QoS::AtLeastOnce,
        false,
        command.encode(),
    ) {
        eprintln!("tagtally hq-tail: cannot ask {store} for a replay: {e}");
    }
}

/// Arguments of `tagtally hq-tail`.
#[derive(Debug, Args)]
pub struct HqTailArgs {
    /// Broker URL, mqtt://host[:port] or mqtts://host[:port].
    #[arg(long)]
    pub url: String,
    /// Topic prefix the stores publish under.
    #[arg(long, default_value = "tagtally/v1")]
    pub topic_prefix: String,
    /// MQTT client id (default: tagtally-hq-tail-PID).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Keep a persistent session (clean session off): the broker queues deltas while away.
    #[arg(long)]
    pub persistent: bool,
    /// Share the load with other consumers: subscribe as $share/GROUP/... .
    #[arg(long)]
    pub share: Option<String>,
    /// Username.
    #[arg(long, requires = "password_file")]
    pub username: Option<String>,
    /// File holding the password.
    #[arg(long, requires = "username")]
    pub password_file: Option<PathBuf>,
    /// CA certificates (PEM) for mqtts://; system roots otherwise.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS.
    #[arg(long, requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// Client key (PEM) for mutual TLS.
    #[arg(long, requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Print totals every this many seconds (0: only at the end).
    #[arg(long, default_value_t = 10)]
    pub every: u64,
    /// Stop after this many delta messages (duplicates included) and print the totals.
    #[arg(long)]
    pub max_deltas: Option<u64>,
    /// JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: &HqTailArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tagtally hq-tail: cannot start the runtime: {e}");
            return exit::code(exit::IO_ERR);
        }
    };
    runtime.block_on(tail(args))
}

fn options(args: &HqTailArgs) -> Result<rumqttc::MqttOptions, String> {
    let url =
        BrokerUrl::parse(&args.url).map_err(|e| format!("invalid url `{}`: {e}", args.url))?;
    let id = args
        .client_id
        .clone()
        .unwrap_or_else(|| format!("tagtally-hq-tail-{}", std::process::id()));
    let mut o = rumqttc::MqttOptions::new(id, url.address.host.clone(), url.address.port);
    o.set_keep_alive(Duration::from_secs(30));
    o.set_clean_session(!args.persistent);
    // Snapshots of big stores are large; 16 MiB bounds what one message may cost us.
    o.set_max_packet_size(16 * 1024 * 1024, 64 * 1024);
    if let (Some(user), Some(file)) = (&args.username, &args.password_file) {
        let password = read_secret_file(file).map_err(|e| e.to_string())?;
        o.set_credentials(user.clone(), password.expose());
    }
    let files = TlsFiles {
        ca_file: args.ca_file.clone(),
        client_cert: args.client_cert.clone(),
        client_key: args.client_key.clone(),
    };
    if url.tls {
        let config = client_config(&files).map_err(|e| e.to_string())?;
        o.set_transport(rumqttc::Transport::tls_with_config(
            rumqttc::TlsConfiguration::Rustls(config),
        ));
    } else if files != TlsFiles::default() {
        return Err(format!("tls files given for a plaintext url {url}"));
    }
    Ok(o)
}

async fn tail(args: &HqTailArgs) -> ExitCode {
    let opts = match options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("tagtally hq-tail: {e}");
            return exit::code(exit::CONFIG);
        }
    };
    let share = |filter: String| match &args.share {
        Some(group) => format!("$share/{group}/{filter}"),
        None => filter,
    };
    let prefix = &args.topic_prefix;
    let filters = Topics::all_stores_filters(prefix).map(share);
    let (client, mut eventloop) = rumqttc::AsyncClient::new(opts, 16);
    let mut out = Output { json: args.json };
    let mut tracker = ChainTracker::new();
    let mut ever_connected = false;
    let mut failures = 0u32;
    let mut ticker = tokio::time::interval(Duration::from_secs(args.every.max(1)));
    ticker.tick().await;
    loop {
        let event = tokio::select! {
            event = eventloop.poll() => event,
            _ = ticker.tick(), if args.every > 0 => {
                out.totals(&tracker);
                continue;
            }
            _ = tokio::signal::ctrl_c() => {
                out.totals(&tracker);
                return exit::code(exit::OK);
            }
        };
        match event {
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                ever_connected = true;
                failures = 0;
                for f in &filters {
                    if let Err(e) = client.try_subscribe(f.clone(), rumqttc::QoS::AtLeastOnce) {
                        eprintln!("tagtally hq-tail: subscribe failed: {e}");
                    }
                }
            }
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => out.subscribed(),
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                let observations = match Topics::classify(prefix, &p.topic) {
                    Some((_, StoreTopic::Delta)) => tracker.on_delta(&p.payload),
                    Some((_, StoreTopic::Snapshot { .. })) => tracker.on_snapshot(&p.payload),
                    Some((_, StoreTopic::Status)) => tracker.on_status(&p.payload),
                    _ => Vec::new(),
                };
                for o in &observations {
                    out.observation(&p.topic, o);
                    if let Observation::Gap {
                        store, from, to, ..
                    } = o
                    {
                        ask_replay(&client, prefix, store, *from, *to);
                    }
                }
                if args
                    .max_deltas
                    .is_some_and(|max| tracker.tally().deltas >= max)
                {
                    out.totals(&tracker);
                    return exit::code(exit::OK);
                }
            }
            Ok(_) => {}
            Err(e) if !ever_connected => {
                eprintln!("tagtally hq-tail: cannot reach {}: {e}", args.url);
                return exit::code(exit::UNAVAILABLE);
            }
            Err(e) => {
                failures += 1;
                eprintln!("tagtally hq-tail: connection lost ({e}); reconnecting");
                // Capped backoff so a dead broker is not hammered.
                let delay = Duration::from_millis(250 * u64::from(failures.min(20)));
                tokio::time::sleep(delay).await;
            }
        }
    }
}

struct Output {
    json: bool,
}

impl Output {
    fn line(&mut self, text: String) {
        let mut stdout = std::io::stdout().lock();
        // A closed pipe (`| head`) is the reader's choice, not an error worth a panic.
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    }

    fn subscribed(&mut self) {
        if self.json {
            self.line(r#"{"event":"subscribed"}"#.to_owned());
        } else {
            self.line("subscribed".to_owned());
        }
    }

    fn observation(&mut self, topic: &str, o: &Observation) {
        let j = |v: serde_json::Value| v.to_string();
        let line = match (o, self.json) {
            (Observation::Applied { .. }, _) => return,
            (Observation::Duplicate { store, epoch, seq }, true) => j(serde_json::json!(
                {"event":"duplicate","store":store,"epoch":epoch,"seq":seq}
            )),
            (Observation::Duplicate { store, epoch, seq }, false) => {
                format!("duplicate  {store} epoch {epoch} seq {seq}")
            }
            (
                Observation::Gap {
                    store,
                    epoch,
                    from,
                    to,
                },
                true,
            ) => j(serde_json::json!(
                {"event":"gap","store":store,"epoch":epoch,"from":from,"to":to}
            )),
            (
                Observation::Gap {
                    store,
                    epoch,
                    from,
                    to,
                },
                false,
            ) => format!("gap        {store} epoch {epoch} seq {from}..={to} missing"),
            (Observation::NewEpoch { store, epoch }, true) => {
                j(serde_json::json!({"event":"epoch","store":store,"epoch":epoch}))
            }
            (Observation::NewEpoch { store, epoch }, false) => {
                format!("epoch      {store} epoch {epoch}")
            }
            (Observation::Resynced { store, epoch, seq }, true) => j(serde_json::json!(
                {"event":"snapshot","store":store,"epoch":epoch,"seq":seq}
            )),
            (Observation::Resynced { store, epoch, seq }, false) => {
                format!("snapshot   {store} epoch {epoch} through seq {seq}")
            }
            (
                Observation::Status {
                    store,
                    state,
                    boot,
                    connection,
                    seq,
                },
                true,
            ) => j(serde_json::json!(
                {"event":"status","store":store,"state":state,"boot":boot,"connection":connection,"seq":seq}
            )),
            (
                Observation::Status {
                    store,
                    state,
                    boot,
                    connection,
                    seq,
                },
                false,
            ) => format!(
                "status     {store} {state:?} boot {boot} connection {connection} seq {seq}"
            ),
            (Observation::Invalid { reason }, true) => j(serde_json::json!(
                {"event":"invalid","topic":topic,"reason":reason}
            )),
            (Observation::Invalid { reason }, false) => format!("invalid    {topic}: {reason}"),
        };
        self.line(line);
    }

    fn totals(&mut self, tracker: &ChainTracker) {
        let t = tracker.tally();
        let totals = tracker.totals();
        if self.json {
            let line = serde_json::json!({
                "event": "totals", "stores": tracker.stores(), "deltas": t.deltas,
                "duplicates": t.duplicates, "gaps": t.gaps, "skus": totals,
            });
            self.line(line.to_string());
        } else {
            self.line(format!(
                "totals     {} stores, {} deltas ({} duplicates, {} gaps)",
                tracker.stores(),
                t.deltas,
                t.duplicates,
                t.gaps
            ));
            for (sku, count) in totals {
                self.line(format!("  {sku:<40} {count}"));
            }
        }
    }
}
