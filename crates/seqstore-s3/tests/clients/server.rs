//! The endpoint on 127.0.0.1:0, on its own thread and runtime, with its logs captured.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use seqstore_s3::{ObjectSource, ServiceOptions};
use tokio::sync::oneshot;

pub struct TestServer {
    pub port: u16,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    logs: Arc<Mutex<Vec<u8>>>,
}

/// Appends log lines to a shared buffer.
#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl TestServer {
    pub fn start(source: Arc<dyn ObjectSource>, options: ServiceOptions) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let service = seqstore_s3::s3_service(source, &options).unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Sink(Arc::clone(&logs));
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            // A current-thread runtime: every task runs here, under this thread's subscriber.
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .with_writer(move || sink.clone())
                .finish();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            tracing::subscriber::with_default(subscriber, || {
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let limits = seqstore_s3::ConnectionLimits::default();
                    seqstore_s3::serve(listener, service, limits, async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
                });
            });
        });
        Self {
            port,
            stop: Some(stop),
            thread: Some(thread),
            logs,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Shuts the server down (requests in flight finish first) and returns everything it
    /// logged at INFO or above.
    pub fn stop(mut self) -> String {
        self.shutdown();
        String::from_utf8_lossy(&self.logs.lock().unwrap()).into_owned()
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}
