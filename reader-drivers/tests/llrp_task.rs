//! The LLRP driver task over in-memory duplex transports with tokio's paused clock: exact keepalive and backoff timing, no sockets.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

use tagtally_protocol::llrp::{
    next_frame, ConnectionAttemptStatus, FrameLimits, Framed, Message, MessageType,
    ProtocolVersion, ReaderEvent, ReaderEventNotificationData, Timestamp,
};
use tagtally_reader_drivers::connect::Connect;
use tagtally_reader_drivers::driver::ReaderDriver;
use tagtally_reader_drivers::llrp::{LlrpSession, LlrpSettings};
use tagtally_reader_drivers::{DriverEvent, DriverOutput, ReaderId};
use tagtally_sim::llrp::reader_state::ReaderState;
use tagtally_sim::Scenario;

/// Every connect makes a duplex pair and hands the reader's end to the test.
struct DuplexConnector {
    readers: mpsc::UnboundedSender<DuplexStream>,
}

impl Connect for DuplexConnector {
    type Io = DuplexStream;

    async fn connect(&mut self) -> io::Result<DuplexStream> {
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        self.readers
            .send(theirs)
            .map_err(|_| io::Error::other("test is gone"))?;
        Ok(ours)
    }

    fn target(&self) -> String {
        "in-memory duplex".into()
    }
}

/// The reader's end of one connection: frames in, messages out.
struct FakeReader {
    stream: DuplexStream,
    rx: Vec<u8>,
    state: ReaderState,
}

impl FakeReader {
    fn new(stream: DuplexStream) -> Self {
        FakeReader {
            stream,
            rx: Vec::new(),
            state: ReaderState::new(&Scenario::default()),
        }
    }

    async fn send(&mut self, message: &Message, id: u32) {
        let mut bytes = Vec::new();
        message
            .encode(ProtocolVersion::V1_0_1, id, &mut bytes)
            .expect("encodes");
        self.stream.write_all(&bytes).await.expect("driver reads");
    }

    /// The next whole message from the driver, with its id; `None` at end of stream.
    async fn next(&mut self) -> Option<(Message, u32)> {
        loop {
            if let Ok(Framed::Complete { message, consumed }) =
                next_frame(&self.rx, &FrameLimits::default())
            {
                let id = message.header().id;
                let decoded = Message::decode(&message).expect("driver sends valid messages");
                self.rx.drain(..consumed);
                return Some((decoded, id));
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            self.rx.extend_from_slice(&chunk[..n]);
        }
    }

    /// Accepts the driver and answers until its ROSpec is enabled.
    async fn serve_until_streaming(&mut self) {
        let event = Message::ReaderEventNotification(ReaderEventNotificationData {
            timestamp: Some(Timestamp::Uptime(1)),
            events: vec![ReaderEvent::ConnectionAttempt(
                ConnectionAttemptStatus::Success,
            )],
        });
        self.send(&event, 1).await;
        while let Some((message, id)) = self.next().await {
            let enabling = message.msg_type() == MessageType::EnableRoSpec;
            if let Some(reply) = self.state.handle(message) {
                self.send(&reply, id).await;
            }
            if enabling {
                return;
            }
        }
        panic!("driver hung up during the connection sequence");
    }
}

fn spawn_driver(
    keepalive: Duration,
) -> (
    ReaderDriver,
    mpsc::Receiver<DriverOutput>,
    mpsc::UnboundedReceiver<DuplexStream>,
) {
    let mut settings = LlrpSettings::new(ReaderId(0), "duplex");
    settings.keepalive = keepalive;
    settings.report_every = Duration::from_secs(3600);
    let session = LlrpSession::new(settings, 5, Instant::now().into_std());
    let (readers, connections) = mpsc::unbounded_channel();
    let (tx, rx) = mpsc::channel(64);
    let driver = ReaderDriver::spawn(session, DuplexConnector { readers }, tx);
    (driver, rx, connections)
}

async fn next_event(rx: &mut mpsc::Receiver<DriverOutput>) -> DriverEvent {
    loop {
        match rx.recv().await.expect("driver running") {
            DriverOutput::Event(DriverEvent::Counters { .. } | DriverEvent::Heard { .. })
            | DriverOutput::Reads(_) => {}
            DriverOutput::Event(event) => return event,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn half_open_is_declared_after_exactly_three_keepalive_periods_then_backed_off() {
    let (driver, mut rx, mut connections) = spawn_driver(Duration::from_secs(10));
    let mut reader = FakeReader::new(connections.recv().await.expect("a connection"));
    reader.serve_until_streaming().await;
    let last_byte = Instant::now();
    assert!(matches!(
        next_event(&mut rx).await,
        DriverEvent::LinkUp { .. }
    ));
    // The reader now says nothing more, but keeps the connection open: a half-open link.
    let down = next_event(&mut rx).await;
    let down_at = Instant::now();
    let silent = down_at - last_byte;
    assert!(
        matches!(&down, DriverEvent::LinkDown { reason, .. } if reason.starts_with("no keepalive or data for 30s")),
        "{down:?}"
    );
    assert_eq!(silent, Duration::from_secs(30));
    // The driver closed its end; the reconnect comes within the first backoff step (full jitter: 0..=1 s).
    while reader.next().await.is_some() {}
    let _second = connections.recv().await.expect("a reconnect");
    let backoff = Instant::now() - down_at;
    assert!(backoff <= Duration::from_secs(1), "{backoff:?}");
    driver.abort();
}

#[tokio::test(start_paused = true)]
async fn keepalives_hold_the_link_for_as_long_as_they_come_and_are_acked_by_id() {
    let (driver, mut rx, mut connections) = spawn_driver(Duration::from_secs(10));
    let mut reader = FakeReader::new(connections.recv().await.expect("a connection"));
    reader.serve_until_streaming().await;
    assert!(matches!(
        next_event(&mut rx).await,
        DriverEvent::LinkUp { .. }
    ));
    for id in 1000..1030u32 {
        tokio::time::sleep(Duration::from_secs(10)).await;
        reader.send(&Message::Keepalive, id).await;
        let (ack, ack_id) = reader.next().await.expect("an ack");
        assert_eq!((ack, ack_id), (Message::KeepaliveAck, id));
    }
    // Five virtual minutes later the link is still up: nothing but counters and signs of life came,
    // one per keepalive (and one for the response that brought the link up).
    let mut heard = 0;
    while let Ok(output) = rx.try_recv() {
        assert!(
            !matches!(output, DriverOutput::Event(DriverEvent::LinkDown { .. })),
            "{output:?}"
        );
        heard += usize::from(matches!(
            output,
            DriverOutput::Event(DriverEvent::Heard { .. })
        ));
    }
    assert_eq!(heard, 31);
    driver.abort();
}
