//! The relay protocol's HTTP, carried by the app's own client.

use std::sync::Arc;

/// One HTTP request of the relay protocol, for the app's own HTTP stack to carry.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RelayHttpRequest {
    /// "GET", "POST" or "PUT".
    pub method: String,
    pub url: String,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

/// The relay's answer, whatever its status.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RelayHttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum RelayHttpError {
    /// No answer came (no network, a timeout, TLS refused). `reason` is shown to
    /// developers; it must carry no personal data.
    #[error("{reason}")]
    Unreachable { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for RelayHttpError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        RelayHttpError::Unreachable { reason: e.reason }
    }
}

/// The app's HTTP client (OkHttp, URLSession), as mozilla's viaduct lets the app bring
/// its own: the core builds and signs each request and reads each answer.
#[uniffi::export(with_foreign)]
pub trait RelayHttp: Send + Sync {
    fn send(&self, request: RelayHttpRequest) -> Result<RelayHttpResponse, RelayHttpError>;
}

/// Lets the core call the app's HTTP client.
pub(crate) struct ForeignRelayHttp(pub(crate) Arc<dyn RelayHttp>);

impl redbook_core::sync::relay_protocol::RelayTransport for ForeignRelayHttp {
    fn send(
        &self,
        request: redbook_core::sync::relay_protocol::HttpRequest,
    ) -> Result<redbook_core::sync::relay_protocol::HttpResponse, String> {
        let request = RelayHttpRequest {
            method: request.method,
            url: request.url,
            headers: request
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            body: request.body,
        };
        let response = self.0.send(request).map_err(|e| e.to_string())?;
        Ok(redbook_core::sync::relay_protocol::HttpResponse {
            status: response.status,
            body: response.body,
        })
    }
}
