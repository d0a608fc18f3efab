//! The Rust HTTP client for the relay protocol (the CLI, tests, benchmarks); the apps
//! carry the same requests with OkHttp or URLSession.

use redbook_core::sync::relay_protocol::{HttpRequest, HttpResponse, RelayTransport, MAX_MESSAGE};
use std::time::Duration;

pub struct HttpTransport {
    agent: ureq::Agent,
}

impl Default for HttpTransport {
    fn default() -> Self {
        // A timeout per phase, not one for the whole call: with a whole-call timeout,
        // ureq resolves the host on a new thread for every request (even on a pooled
        // connection) so it can give up on it; a thread per request costs more CPU than
        // the request.
        let phase = Some(Duration::from_secs(60));
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_send_request(phase)
            .timeout_send_body(phase)
            .timeout_recv_response(phase)
            .timeout_recv_body(phase)
            .build()
            .into();
        Self { agent }
    }
}

impl RelayTransport for HttpTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, String> {
        let describe = |e: ureq::Error| e.to_string();
        let response = match request.method.as_str() {
            "GET" => {
                let mut call = self.agent.get(&request.url);
                for (name, value) in &request.headers {
                    call = call.header(name, value);
                }
                call.call().map_err(describe)?
            }
            "POST" | "PUT" => {
                let mut call = if request.method == "POST" {
                    self.agent.post(&request.url)
                } else {
                    self.agent.put(&request.url)
                };
                for (name, value) in &request.headers {
                    call = call.header(name, value);
                }
                call.send(&request.body[..]).map_err(describe)?
            }
            other => return Err(format!("method {other} is not used by the relay protocol")),
        };
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .with_config()
            .limit(redbook_core::sync::relay_protocol::MAX_BATCH as u64 * MAX_MESSAGE as u64)
            .read_to_vec()
            .map_err(describe)?;
        Ok(HttpResponse { status, body })
    }
}
