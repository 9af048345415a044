//! Blocking `Read`/`Write` ends of async byte channels: format code runs on a blocking
//! thread and reads/writes streams the async side moves to and from storage.

use bytes::{Bytes, BytesMut};
use std::io::{self, Read, Write};
use tokio::sync::mpsc;

/// Bytes written are sent in chunks of this size.
const WRITE_CHUNK: usize = 1 << 20;

/// Reads the chunks of a channel in order; the end of the channel is end of file.
pub(crate) struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl ChannelReader {
    pub(crate) fn new(rx: mpsc::Receiver<Bytes>) -> Self {
        Self {
            rx,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Collects written bytes into chunks and sends them; a closed receiver is an error.
pub(crate) struct ChannelWriter {
    tx: mpsc::Sender<Bytes>,
    buffer: BytesMut,
}

impl ChannelWriter {
    pub(crate) fn new(tx: mpsc::Sender<Bytes>) -> Self {
        Self {
            tx,
            buffer: BytesMut::with_capacity(WRITE_CHUNK),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = self.buffer.split().freeze();
        self.tx
            .blocking_send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "storage writer stopped"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= WRITE_CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_cross_the_bridge_in_order() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (tx, rx) = mpsc::channel(2);
        let (otx, mut orx) = mpsc::channel(2);
        let worker = std::thread::spawn(move || {
            let mut data = Vec::new();
            ChannelReader::new(rx).read_to_end(&mut data).unwrap();
            let mut w = ChannelWriter::new(otx);
            w.write_all(&data).unwrap();
            w.flush().unwrap();
        });
        let got = rt.block_on(async {
            for chunk in [&b"ab"[..], b"", b"cde", b"f"] {
                tx.send(Bytes::copy_from_slice(chunk)).await.unwrap();
            }
            drop(tx);
            let mut got = Vec::new();
            while let Some(c) = orx.recv().await {
                got.extend_from_slice(&c);
            }
            got
        });
        worker.join().unwrap();
        assert_eq!(got, b"abcdef");
    }
}
