//! This device's relay client (docs/adr/0008-relay.md): every signed request it makes to a
//! relay (its record mailboxes, and the recovery kit's backup slot), what it keeps of each
//! relay (cursors, the introduction a restored phone still has to post), and one bounded
//! exchange of a record's messages (`exchange`).

use super::relay_protocol::{
    refusal_reason, HttpRequest, HttpResponse, Mailbox, RelayTransport, FROM_HEADER,
};
use crate::model::ValidationError;
use crate::Error;
use serde::Serialize;

mod cursors;
pub mod exchange;
pub mod introduction;

/// What one exchange with a relay did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RelayReport {
    /// Messages fetched and accepted.
    pub received: u32,
    /// Messages fetched and refused (not from a member, tampered, under another key):
    /// each changed nothing.
    pub refused: u32,
    /// Messages posted for other devices.
    pub posted: u32,
    /// Whether the record changed.
    pub changed: bool,
    /// More messages wait than one exchange fetches: exchange again.
    pub more_waiting: bool,
    /// An admin removed this device from the record: it no longer posts (words for a
    /// parent: `RedBook::removal_notice`).
    pub removed: bool,
    /// HTTP requests made.
    pub round_trips: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl RelayReport {
    /// Adds what a later exchange did (a caller that exchanges while more waits).
    pub fn add(&mut self, later: &RelayReport) {
        self.received += later.received;
        self.refused += later.refused;
        self.posted += later.posted;
        self.changed |= later.changed;
        self.more_waiting = later.more_waiting;
        self.removed |= later.removed;
        self.round_trips += later.round_trips;
        self.bytes_sent += later.bytes_sent;
        self.bytes_received += later.bytes_received;
    }
}

/// The app's transport and the relay's base URL; counts what crosses. Every signed
/// request to a relay (mailboxes, and the recovery kit's backup slot) goes through it.
pub struct Relay<'a> {
    transport: &'a dyn RelayTransport,
    /// The relay's base URL, without a trailing slash: also what its cursors are kept by.
    pub base: &'a str,
}

impl<'a> Relay<'a> {
    /// The relay at `base_url`, refused unless it is an address a request can go to: a
    /// person types it (`127.0.0.1:8787` alone would fail later as "invalid format").
    pub fn new(transport: &'a dyn RelayTransport, base_url: &'a str) -> Result<Self, Error> {
        let base = base_url.trim().trim_end_matches('/');
        let host = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"))
            .unwrap_or_default();
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(ValidationError::new(
                "relay",
                "is an address starting http:// or https://, e.g. https://relay.example.org or http://127.0.0.1:8787",
            )
            .into());
        }
        Ok(Self { transport, base })
    }

    pub fn call(
        &self,
        mailbox: &Mailbox,
        method: &str,
        path: &str,
        body: Vec<u8>,
        report: &mut RelayReport,
    ) -> Result<Vec<u8>, Error> {
        self.call_from(mailbox, method, path, body, None, report)
    }

    pub fn call_from(
        &self,
        mailbox: &Mailbox,
        method: &str,
        path: &str,
        body: Vec<u8>,
        from: Option<String>,
        report: &mut RelayReport,
    ) -> Result<Vec<u8>, Error> {
        let response = self.send(mailbox, method, path, body, from, report)?;
        if !(200..300).contains(&response.status) {
            return Err(refused(&response));
        }
        Ok(response.body)
    }

    /// One signed request and the relay's answer, whatever its status (a caller that reads
    /// a refusal's body, as a backup upload reads the version the relay keeps).
    pub fn send(
        &self,
        mailbox: &Mailbox,
        method: &str,
        path: &str,
        body: Vec<u8>,
        from: Option<String>,
        report: &mut RelayReport,
    ) -> Result<HttpResponse, Error> {
        let mut headers = mailbox.sign_request(method, path, chrono::Utc::now().timestamp(), &body);
        if let Some(from) = from {
            headers.push((FROM_HEADER.to_string(), from));
        }
        headers.push((
            "content-type".to_string(),
            "application/octet-stream".to_string(),
        ));
        report.round_trips += 1;
        report.bytes_sent += body.len() as u64;
        let response = self
            .transport
            .send(HttpRequest {
                method: method.to_string(),
                url: format!("{}{path}", self.base),
                headers,
                body,
            })
            .map_err(Error::RelayUnreachable)?;
        report.bytes_received += response.body.len() as u64;
        Ok(response)
    }
}

/// A relay's refusal as the app's error, with the reason it gave.
pub fn refused(response: &HttpResponse) -> Error {
    Error::RelayRefused {
        status: response.status,
        reason: refusal_reason(&response.body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transport the address check runs before: never called.
    struct Unused;
    impl RelayTransport for Unused {
        fn send(&self, _: HttpRequest) -> Result<HttpResponse, String> {
            unreachable!("no request for a refused address")
        }
    }

    #[test]
    fn a_relay_address_is_refused_unless_a_request_can_go_to_it() {
        for typed in [
            "127.0.0.1:8787",
            "relay.example.org",
            "https://",
            "ftp://x",
            "http://a b",
            "",
        ] {
            match Relay::new(&Unused, typed) {
                Err(Error::InvalidInput(e)) => assert_eq!(e.field, "relay", "{typed}"),
                _ => panic!("{typed:?} taken as a relay address"),
            }
        }
        for (typed, base) in [
            ("http://127.0.0.1:8787/", "http://127.0.0.1:8787"),
            (" https://relay.example.org ", "https://relay.example.org"),
        ] {
            assert_eq!(Relay::new(&Unused, typed).unwrap().base, base);
        }
    }
}
