//! Local CloudFormation endpoints for the deploy tests, started on 127.0.0.1 and stopped when
//! dropped: moto (light, partial) and LocalStack (heavier, more faithful).
//!
//! Every child process gets the endpoint, a region and static test credentials through the
//! environment, with the instance metadata service off, so nothing leaves loopback.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::workspace_root;

/// A running endpoint; stopped (killed and reaped) when dropped.
pub struct Endpoint {
    child: Child,
    port: u16,
    _dir: Option<tempfile_dir::Dir>,
    /// Which endpoint, for messages.
    pub kind: &'static str,
}

/// A private temporary directory removed on drop (LocalStack's state).
mod tempfile_dir {
    use std::path::{Path, PathBuf};

    pub(crate) struct Dir(PathBuf);

    impl Dir {
        pub(crate) fn new(prefix: &str) -> std::io::Result<Dir> {
            let unique = format!(
                "{prefix}-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos())
            );
            let path = std::env::temp_dir().join(unique);
            std::fs::create_dir_all(path.join("home"))?;
            Ok(Dir(path))
        }

        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A free port on 127.0.0.1.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `GET path` on 127.0.0.1:port; the status code, if the server answered.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

impl Endpoint {
    /// Starts moto (`$OMC_MOTO_SERVER`, or `.tools/venv/bin/moto_server`).
    pub fn moto() -> Result<Endpoint, String> {
        let server = std::env::var_os("OMC_MOTO_SERVER").map_or_else(
            || workspace_root().join(".tools/venv/bin/moto_server"),
            PathBuf::from,
        );
        if !server.exists() {
            return Err(format!(
                "{} is missing: run scripts/test (it installs the pinned tools)",
                server.display()
            ));
        }
        let port = free_port().map_err(|e| e.to_string())?;
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", server.display()))?;
        let endpoint = Endpoint {
            child,
            port,
            _dir: None,
            kind: "moto",
        };
        endpoint.wait_ready("/moto-api/", Duration::from_secs(30))?;
        Ok(endpoint)
    }

    /// Starts LocalStack (`$OMC_LOCALSTACK_PYTHON`, or `.tools/localstack/bin/python`) with
    /// the services the OMC templates use, its own state directory, and no DNS server.
    pub fn localstack() -> Result<Endpoint, String> {
        let python = std::env::var_os("OMC_LOCALSTACK_PYTHON").map_or_else(
            || workspace_root().join(".tools/localstack/bin/python"),
            PathBuf::from,
        );
        if !python.exists() {
            return Err(format!(
                "{} is missing: run scripts/test (it installs LocalStack with scripts/localstack)",
                python.display()
            ));
        }
        let port = free_port().map_err(|e| e.to_string())?;
        let dir = tempfile_dir::Dir::new("omc-localstack").map_err(|e| e.to_string())?;
        let child = Command::new(&python)
            .args(["-m", "localstack.runtime.main"])
            .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env("DNS_ADDRESS", "0")
            .env("DISABLE_EVENTS", "1")
            .env("SKIP_SSL_CERT_DOWNLOAD", "1")
            .env(
                "SERVICES",
                "cloudformation,s3,sts,iam,ssm,sns,sqs,ec2,logs,kms,secretsmanager,events,scheduler,cloudwatch,acm",
            )
            .env("FILESYSTEM_ROOT", dir.path())
            .env("HOME", dir.path().join("home"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start LocalStack with {}: {e}", python.display()))?;
        let endpoint = Endpoint {
            child,
            port,
            _dir: Some(dir),
            kind: "LocalStack",
        };
        endpoint.wait_ready("/_localstack/health", Duration::from_secs(90))?;
        Ok(endpoint)
    }

    fn wait_ready(&self, path: &str, limit: Duration) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if http_status(self.port, path) == Some(200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "{} did not answer on 127.0.0.1:{} within {limit:?}",
            self.kind, self.port
        ))
    }

    /// The endpoint URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment a program needs to use this endpoint and nothing else.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ]
    }

    /// A command for `program` with this endpoint's environment (and no `AWS_PROFILE`).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env_remove("AWS_PROFILE");
        for (key, value) in self.env() {
            command.env(key, value);
        }
        command
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback HTTP server that answers requests from a script: a stand-in for AWS answers no
/// local endpoint gives on demand (an expired token, throttling, events in pages). Stopped
/// when dropped.
pub struct Responder {
    port: u16,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Responder {
    /// Answers every request with `status` and the XML `body` (the AWS query protocol, which
    /// STS and CloudFormation speak).
    pub fn xml(status: u16, body: &str) -> std::io::Result<Responder> {
        Responder::script(vec![(status, body.to_owned())])
    }

    /// Answers the requests with these responses in turn, the last one again after that.
    pub fn script(responses: Vec<(u16, String)>) -> std::io::Result<Responder> {
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let responses: Vec<String> = responses
            .into_iter()
            .map(|(status, body)| {
                format!(
                    "HTTP/1.1 {status} Scripted\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            })
            .collect();
        let (log, halt) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                        if let Ok(request) = read_request(&mut stream) {
                            let mut log = log
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            let n = log.len().min(responses.len().saturating_sub(1));
                            log.push(request);
                            drop(log);
                            if let Some(response) = responses.get(n) {
                                let _ = stream.write_all(response.as_bytes());
                            }
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(Responder {
            port,
            requests,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.bodies().len()
    }

    /// The bodies of the requests so far (form-encoded for the query protocol).
    pub fn bodies(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Reads one request (the head, then `Content-Length` bytes of body) and returns its body.
fn read_request(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(String::new());
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while data.len() < end + 4 + length {
                let n = stream.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
            }
            return Ok(String::from_utf8_lossy(&data[end + 4..]).into_owned());
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on: connections are refused.
pub fn closed_port() -> std::io::Result<u16> {
    free_port()
}
