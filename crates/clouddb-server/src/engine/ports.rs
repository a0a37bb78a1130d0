//! Free loopback ports for engine servers: bind 127.0.0.1:0, read the port, release it. Another
//! process may take it before the engine binds it; the backend then picks another and retries.

use std::net::{Ipv4Addr, TcpListener};

use super::driver::EngineError;

/// A loopback port that is free now and not in `taken` (ports other engines were given).
pub fn free_port(taken: impl Fn(u16) -> bool) -> Result<u16, EngineError> {
    for _ in 0..64 {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| EngineError::Other(format!("finding a free loopback port: {e}")))?;
        let port = l
            .local_addr()
            .map_err(|e| EngineError::Other(format!("finding a free loopback port: {e}")))?
            .port();
        if !taken(port) {
            return Ok(port);
        }
    }
    Err(EngineError::Other(
        "no free loopback port found in 64 tries".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_is_never_returned() {
        let first = free_port(|_| false).unwrap_or(0);
        assert_ne!(first, 0);
        let other = free_port(|p| p == first).unwrap_or(first);
        assert_ne!(other, first);
    }
}
