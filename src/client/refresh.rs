//! Reads for refresh (ReadResource), answered from a read-ahead listing when the provider's
//! `batch_reads` is on (see [`readahead`](super::readahead) for the rules), and with one GET per
//! object otherwise or whenever the listing does not know the object.
//!
//! Only refresh reads go through here: the reads inside a create, update or delete (waiting for an
//! operation, claiming a lost create) always GET, since they must see the write they follow.
//!
//! Every write this client sends under `/instances/{name}` (the instance, its actions, its
//! sub-resources) marks the instance and its sub-resource collections as written
//! ([`Client::note_write`]), so nothing this provider instance changed is ever read from a listing
//! that may predate the change.

use super::children::{ChildKind, ChildRecord, Database, FirewallRule, User};
use super::readahead::ReadAhead;
use super::types::Instance;
use super::{ApiError, Client, MAX_PAGE_SIZE, Page};
use serde_json::value::RawValue;

/// The read-ahead state of one configured provider: one collection kind each.
#[derive(Default)]
pub struct Reads {
    /// The project's instances (one collection, key `""`), each as its JSON text until read.
    instances: ReadAhead<Box<RawValue>>,
    /// Sub-resources, one collection per instance (key: the instance name).
    databases: ReadAhead<Database>,
    users: ReadAhead<User>,
    firewall_rules: ReadAhead<FirewallRule>,
}

/// The read-ahead of a sub-resource record type.
pub trait ReadAheadOf: ChildRecord + Clone + Sized {
    fn read_ahead(reads: &Reads) -> &ReadAhead<Self>;
}

impl ReadAheadOf for Database {
    fn read_ahead(reads: &Reads) -> &ReadAhead<Self> {
        &reads.databases
    }
}

impl ReadAheadOf for User {
    fn read_ahead(reads: &Reads) -> &ReadAhead<Self> {
        &reads.users
    }
}

impl ReadAheadOf for FirewallRule {
    fn read_ahead(reads: &Reads) -> &ReadAhead<Self> {
        &reads.firewall_rules
    }
}

impl Reads {
    /// A write to instance `name` (or anything under it) is about to be sent.
    fn wrote_instance(&self, name: &str) {
        self.instances.touch("", name);
        self.databases.touch_collection(name);
        self.users.touch_collection(name);
        self.firewall_rules.touch_collection(name);
    }
}

impl Client {
    /// The instance `name` for a refresh; `Ok(None)` when a GET says it does not exist.
    pub async fn read_instance(&self, name: &str) -> Result<Option<Instance>, ApiError> {
        if let Some(reads) = &self.inner.reads {
            let listed = reads
                .instances
                .get("", name, |token| async move {
                    let page = self.list_instances_page_raw(MAX_PAGE_SIZE, token).await?;
                    Ok::<_, ApiError>(Some(page))
                })
                .await;
            if let Some(raw) = listed {
                match serde_json::from_str::<Instance>(raw.get()) {
                    Ok(inst) => return Ok(Some(inst)),
                    // The GET below reports what is wrong with the record, with its request id.
                    Err(e) => tracing::debug!(name, error = %e, "listed instance does not parse"),
                }
            }
        }
        self.get_instance(name).await
    }

    /// The sub-resource `name` of `instance` for a refresh; `Ok(None)` when a GET says it (or its
    /// instance) does not exist.
    pub async fn read_child<T: ReadAheadOf>(
        &self,
        kind: ChildKind,
        instance: &str,
        name: &str,
    ) -> Result<Option<T>, ApiError> {
        if let Some(reads) = &self.inner.reads {
            let listed = T::read_ahead(reads)
                .get(instance, name, |token| async move {
                    let page = self
                        .list_children_page::<T>(kind, instance, MAX_PAGE_SIZE, token)
                        .await?;
                    Ok::<_, ApiError>(page.map(|p| keyed(p, |r: &T| r.name().to_string())))
                })
                .await;
            if let Some(rec) = listed {
                return Ok(Some(rec));
            }
        }
        self.get_child(kind, instance, name).await
    }

    /// Called before every request that may change something: `path` is relative to the
    /// project (`/instances/{name}/…`). A create (`POST /instances`) needs nothing: the new
    /// name was in no earlier listing, so its first read is a GET anyway.
    pub(super) fn note_write(&self, path: &str) {
        let Some(reads) = &self.inner.reads else {
            return;
        };
        if let Some(rest) = path.strip_prefix("/instances/") {
            let segment = rest.split(['/', ':', '?']).next().unwrap_or_default();
            if !segment.is_empty() {
                reads.wrote_instance(&decode_segment(segment));
            }
        }
    }
}

fn keyed<T>(page: Page<T>, key: impl Fn(&T) -> String) -> Page<(String, T)> {
    Page {
        items: page.items.into_iter().map(|t| (key(&t), t)).collect(),
        next: page.next,
    }
}

/// The inverse of `encode_segment` (names are plain in practice; this keeps the two in step).
fn decode_segment(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::super::{ClientConfig, encode_segment, fake};
    use super::*;

    fn instance_json(name: &str, tier: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "tier": tier, "etag": format!("\"{name}-{tier}\""), "state": "READY"})
    }

    /// A fake project of `n` instances `i000`…, served by list pages of 100 and by GET, where
    /// `i007` has been deleted (listed by neither).
    async fn project(n: usize, batch_reads: bool) -> (Client, fake::Log) {
        let names: Vec<String> = (0..n)
            .map(|i| format!("i{i:03}"))
            .filter(|n| n != "i007")
            .collect();
        let (url, log) = fake::serve(move |req, _| {
            let path = req.path.trim_start_matches("/v1/projects/p");
            if let Some(q) = path.strip_prefix("/instances?") {
                let after = q
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("page_token="))
                    .unwrap_or("");
                let page: Vec<_> = names
                    .iter()
                    .filter(|n| n.as_str() > after)
                    .take(100)
                    .collect();
                let mut body = serde_json::json!({
                    "instances": page.iter().map(|n| instance_json(n, "small")).collect::<Vec<_>>()
                });
                if page.len() == 100 && names.last() != page.last().copied() {
                    body["next_page_token"] = serde_json::json!(page[99]);
                }
                return (200, vec![], body.to_string());
            }
            match path.strip_prefix("/instances/") {
                Some(name) if names.iter().any(|n| n == name) => {
                    (200, vec![], instance_json(name, "small").to_string())
                }
                _ => (
                    404,
                    vec![],
                    fake::problem(404, "NOT_FOUND", false, "no such instance"),
                ),
            }
        })
        .await;
        let mut cfg = ClientConfig::new(url, "t", "p");
        cfg.batch_reads = batch_reads;
        (Client::new(cfg).expect("client"), log)
    }

    fn gets(log: &fake::Log) -> (usize, usize) {
        let log = log.lock().expect("log");
        let lists = log
            .iter()
            .filter(|r| r.path.contains("/instances?"))
            .count();
        (lists, log.len() - lists)
    }

    #[tokio::test]
    async fn reads_come_from_pages_and_a_miss_is_confirmed_by_one_get() {
        let (client, log) = project(300, true).await;
        for i in 0..300 {
            let name = format!("i{i:03}");
            let got = client.read_instance(&name).await.expect("read");
            assert_eq!(got.map(|i| i.name), (i != 7).then_some(name));
        }
        assert_eq!(
            gets(&log),
            (3, 1),
            "3 pages, and one GET for the deleted i007"
        );
    }

    #[tokio::test]
    async fn with_batch_reads_off_every_read_is_one_get() {
        let (client, log) = project(50, false).await;
        for i in 0..50 {
            client
                .read_instance(&format!("i{i:03}"))
                .await
                .expect("read");
        }
        assert_eq!(gets(&log), (0, 50));
    }

    #[tokio::test]
    async fn a_written_instance_is_read_with_a_get() {
        let (client, log) = project(50, true).await;
        client.read_instance("i001").await.expect("read");
        assert_eq!(gets(&log), (1, 0));
        client.note_write(&format!("/instances/{}/restart", encode_segment("i001")));
        client.read_instance("i001").await.expect("read");
        client.read_instance("i002").await.expect("read");
        assert_eq!(gets(&log), (1, 1), "only i001 bypasses the listing");
    }

    /// Listed records are kept as JSON text and parsed when a read takes one: a record that does
    /// not parse (or has no name) is answered by its own GET instead, and the rest of the page
    /// still answers its reads.
    #[tokio::test]
    async fn a_listed_record_that_does_not_parse_is_read_with_a_get() {
        let (url, log) = fake::serve(|req, _| {
            let path = req.path.trim_start_matches("/v1/projects/p");
            if path.starts_with("/instances?") {
                let body = serde_json::json!({"instances": [
                    instance_json("a", "small"),
                    {"name": "b", "storage_gb": "not a number"},
                    {"storage_gb": 1},
                    instance_json("c", "small"),
                ]});
                return (200, vec![], body.to_string());
            }
            let name = path.trim_start_matches("/instances/");
            (200, vec![], instance_json(name, "large").to_string())
        })
        .await;
        let client = Client::new(ClientConfig::new(url, "t", "p")).expect("client");
        let tier = |i: Option<Instance>| i.expect("found").tier;
        assert_eq!(tier(client.read_instance("a").await.expect("a")), "small");
        assert_eq!(
            tier(client.read_instance("b").await.expect("b")),
            "large",
            "b by GET"
        );
        assert_eq!(tier(client.read_instance("c").await.expect("c")), "small");
        assert_eq!(gets(&log), (1, 1), "one listing, one GET for b");
    }

    #[test]
    fn segments_round_trip() {
        for s in ["db-1", "a/b c", "ü"] {
            assert_eq!(decode_segment(&encode_segment(s)), s);
        }
    }
}
