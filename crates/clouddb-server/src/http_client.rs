//! A minimal HTTP/1.1 keep-alive client over TCP, for the integration tests and the load tool
//! (loopback only; no TLS, no redirects).

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`null` when empty or not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One keep-alive connection.
pub struct Conn {
    stream: BufReader<TcpStream>,
    addr: SocketAddr,
    closed: bool,
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(s),
            addr,
            closed: false,
        })
    }

    /// Sends one request and reads the response; reconnects if the server had closed the connection.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> io::Result<Resp> {
        if self.closed {
            *self = Self::connect(self.addr).await?;
        }
        let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {}\r\n", self.addr);
        for (k, v) in headers {
            req.push_str(k);
            req.push_str(": ");
            req.push_str(v);
            req.push_str("\r\n");
        }
        if let Some(b) = body {
            req.push_str("content-type: application/json\r\n");
            req.push_str(&format!("content-length: {}\r\n", b.len()));
        } else if method != "GET" && method != "HEAD" {
            req.push_str("content-length: 0\r\n");
        }
        req.push_str("\r\n");
        let mut buf = req.into_bytes();
        if let Some(b) = body {
            buf.extend_from_slice(b);
        }
        self.stream.get_mut().write_all(&buf).await?;
        let resp = self.read_response(method == "HEAD").await;
        if resp.is_err() {
            self.closed = true;
        }
        resp
    }

    async fn read_response(&mut self, head: bool) -> io::Result<Resp> {
        let mut line = String::new();
        if self.stream.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("bad status line"))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(bad("eof in headers"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        if get("connection").is_some_and(|c| c.eq_ignore_ascii_case("close")) {
            self.closed = true;
        }
        let mut body = Vec::new();
        if head || status == 204 || status == 304 || (100..200).contains(&status) {
        } else if let Some(len) = get("content-length") {
            let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
            body.resize(len, 0);
            self.stream.read_exact(&mut body).await?;
        } else if get("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
            loop {
                line.clear();
                self.stream.read_line(&mut line).await?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| bad("bad chunk size"))?;
                let start = body.len();
                body.resize(start + size, 0);
                self.stream.read_exact(&mut body[start..]).await?;
                line.clear();
                self.stream.read_line(&mut line).await?;
                if size == 0 {
                    break;
                }
            }
        } else {
            self.stream.read_to_end(&mut body).await?;
            self.closed = true;
        }
        Ok(Resp {
            status,
            headers,
            body,
        })
    }
}

/// A convenience client with a bearer token; one fresh connection per call.
#[derive(Debug, Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub token: String,
}

impl Client {
    pub fn new(addr: SocketAddr, token: &str) -> Self {
        Self {
            addr,
            token: token.to_string(),
        }
    }

    /// Sends a request with extra headers and an optional JSON body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> io::Result<Resp> {
        let auth = format!("Bearer {}", self.token);
        let mut h: Vec<(&str, &str)> = vec![("authorization", auth.as_str())];
        h.extend_from_slice(headers);
        let bytes = body.map(|b| b.to_string().into_bytes());
        let mut c = Conn::connect(self.addr).await?;
        c.request(method, path, &h, bytes.as_deref()).await
    }

    pub async fn get(&self, path: &str) -> io::Result<Resp> {
        self.send("GET", path, &[], None).await
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> io::Result<Resp> {
        self.send("POST", path, &[], Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &serde_json::Value) -> io::Result<Resp> {
        self.send("PATCH", path, &[], Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> io::Result<Resp> {
        self.send("DELETE", path, &[], None).await
    }
}
