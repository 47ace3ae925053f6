//! The benchmarks' HTTP/1.1 client: one keep-alive connection, a request at a time.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One keep-alive HTTP/1.1 connection: sends a request and reads its whole answer.
pub struct Connection {
    pub stream: TcpStream,
    pub buf: Vec<u8>,
}

impl Connection {
    /// Sends a request; returns the answer's status and body length.
    pub async fn request(&mut self, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, usize) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        // One write, so that the body does not wait for the head's acknowledgement (Nagle).
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        self.stream.write_all(&request).await.unwrap();
        // Read until the header block and the announced body are in.
        self.buf.clear();
        loop {
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
                let status: u16 = head[9..12].parse().unwrap();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                    .unwrap_or(0);
                if self.buf.len() >= end + 4 + length {
                    return (status, length);
                }
            }
        }
    }
}
