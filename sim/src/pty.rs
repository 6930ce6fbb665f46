//! A pseudo-terminal that plays an emulated serial module's UART: the emulator holds the master
//! side, a driver opens the slave path like any `/dev/ttyUSB0`. Optionally a stable symlink
//! points at the slave, the way udev's `/dev/serial/by-id/...` names a real adapter, so an
//! "unplugged" module can come back at the same path although the kernel hands out a new pty.
//!
//! Built on tokio-serial's `SerialStream::pair` (posix_openpt/grantpt/unlockpt, raw mode): no
//! extra dependency and no `unsafe` here.

use std::io;
use std::path::{Path, PathBuf};

use tokio_serial::SerialStream;

/// One plugged-in emulated module.
#[derive(Debug)]
pub struct Pty {
    master: SerialStream,
    /// Held open so the master does not see a hang-up while no driver has the slave open; never
    /// read (that would steal the driver's bytes).
    idle_slave: SerialStream,
    slave_path: PathBuf,
    link: Option<PathBuf>,
}

impl Pty {
    /// Opens a new pseudo-terminal; with `link`, (re)points that symlink at its slave.
    pub fn open(link: Option<&Path>) -> io::Result<Self> {
        let (master, idle_slave) = serialport::TTYPort::pair().map_err(io::Error::from)?;
        // `pair` opens both ends without close-on-exec: a process spawned later (the daemon under
        // test) would inherit them and keep the line alive, so unplugging would never hang up its
        // driver. Close-on-exec duplicates replace them (the originals close when dropped).
        let master = SerialStream::try_from(master.try_clone_native().map_err(io::Error::from)?)
            .map_err(io::Error::from)?;
        let idle_slave =
            SerialStream::try_from(idle_slave.try_clone_native().map_err(io::Error::from)?)
                .map_err(io::Error::from)?;
        let slave_path = tokio_serial::SerialPort::name(&idle_slave)
            .map(PathBuf::from)
            .ok_or_else(|| io::Error::other("the pseudo-terminal has no slave path"))?;
        if let Some(link) = link {
            replace_symlink(&slave_path, link)?;
        }
        Ok(Self {
            master,
            idle_slave,
            slave_path,
            link: link.map(Path::to_owned),
        })
    }

    /// The kernel's name of the slave (`/dev/pts/N`).
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    /// Where a driver should open: the symlink when there is one, else the slave itself.
    pub fn device_path(&self) -> &Path {
        self.link.as_deref().unwrap_or(&self.slave_path)
    }

    /// The module's side of the line.
    pub fn master(&mut self) -> &mut SerialStream {
        &mut self.master
    }

    /// Throws away what the module sent that no driver read (a UART with nobody listening
    /// loses its bytes; a pty would otherwise fill up and block the emulator).
    pub fn discard_unread(&self) -> io::Result<()> {
        tokio_serial::SerialPort::clear(&self.idle_slave, tokio_serial::ClearBuffer::Input)
            .map_err(io::Error::from)
    }

    /// Unplugs the module: the symlink disappears and the driver's open slave sees a hang-up.
    pub fn unplug(self) {
        if let Some(link) = &self.link {
            // Already gone is fine: the point is that it is gone.
            let _ = std::fs::remove_file(link);
        }
    }
}

/// Points `link` at `target`, replacing an older link atomically (rename over it).
fn replace_symlink(target: &Path, link: &Path) -> io::Result<()> {
    let file_name = link
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "link path has no file name"))?;
    let mut temporary = link.to_owned();
    temporary.set_file_name(format!(".{}.new", file_name.to_string_lossy()));
    let _ = std::fs::remove_file(&temporary);
    std::os::unix::fs::symlink(target, &temporary)?;
    std::fs::rename(&temporary, link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn bytes_cross_in_both_directions_and_unplug_hangs_up_the_driver() {
        let dir = tempfile::tempdir().expect("temp dir");
        let link = dir.path().join("ttyEMU0");
        let mut pty = Pty::open(Some(&link)).expect("pty");
        assert!(pty.slave_path().starts_with("/dev/pts"));
        assert_eq!(std::fs::read_link(&link).unwrap(), pty.slave_path());
        let mut driver =
            tagtally_reader_drivers::serial_port::open_device(&link, 115_200).expect("open slave");
        pty.master().write_all(&[0xFF, 0x00, 0x03]).await.unwrap();
        let mut buf = [0u8; 3];
        driver.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, [0xFF, 0x00, 0x03]);
        driver.write_all(&[1, 2]).await.unwrap();
        let mut buf = [0u8; 2];
        pty.master().read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, [1, 2]);
        pty.unplug();
        assert!(std::fs::symlink_metadata(&link).is_err(), "link removed");
        let mut rest = [0u8; 8];
        let outcome =
            tokio::time::timeout(std::time::Duration::from_secs(5), driver.read(&mut rest))
                .await
                .expect("the hang-up is seen at once");
        assert!(matches!(outcome, Ok(0) | Err(_)), "{outcome:?}");
        let again = Pty::open(Some(&link)).expect("replug");
        assert_eq!(std::fs::read_link(&link).unwrap(), again.slave_path());
    }

    /// A daemon spawned after the emulator must not inherit the line, or unplugging would not hang it up.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn neither_end_leaks_into_processes_spawned_later() {
        use std::os::unix::io::AsRawFd;
        const O_CLOEXEC: u32 = 0o2_000_000;
        let pty = Pty::open(None).expect("pty");
        for fd in [pty.master.as_raw_fd(), pty.idle_slave.as_raw_fd()] {
            let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).expect("fdinfo");
            let flags = info
                .lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .expect("flags line");
            let flags = u32::from_str_radix(flags.trim(), 8).expect("octal flags");
            assert_ne!(flags & O_CLOEXEC, 0, "fd {fd} is close-on-exec: {info}");
        }
    }
}
