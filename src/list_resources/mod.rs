//! List resources (`terraform query`, Terraform ≥ 1.14): one per managed type, each streaming
//! what exists page by page with the managed type's identity, a display name and (only when
//! Terraform asks) the state the type's own read would produce, so that
//! `-generate-config-out` and the import that follows agree with the resource.
//!
//! `instance` lists `clouddb_instance` (filters `engine`, `labels`, `state`), `children` the
//! sub-resources of one instance (generic over [`crate::resources::child::ChildType`]),
//! `backup` the project's backups (optionally of one instance).

pub mod backup;
pub mod children;
pub mod instance;

use std::future::Future;
use std::sync::Arc;

use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::provider::{ListItem, ListResource, ListStream};

use crate::client::{Client, MAX_PAGE_SIZE, Page};
use crate::resources::{database, firewall_rule, user};

/// A list longer than this many pages is a broken API (a page token that never ends).
const MAX_PAGES: usize = 1000;

/// All list resources.
pub fn all() -> Vec<Arc<dyn ListResource<Client>>> {
    vec![
        Arc::new(instance::InstanceList),
        Arc::new(children::ChildList::<database::DatabaseType>::default()),
        Arc::new(children::ChildList::<user::UserType>::default()),
        Arc::new(children::ChildList::<firewall_rule::FirewallRuleType>::default()),
        Arc::new(backup::BackupList),
    ]
}

/// The page size to ask for: what Terraform still wants, within what the API serves.
fn page_size(out: &ListStream) -> u64 {
    out.remaining().clamp(1, MAX_PAGE_SIZE)
}

/// Fetches pages with `fetch(page_size, token)` and pushes every record `item` turns into an
/// item (`None`: filtered out) as soon as its page arrives, until Terraform has enough, the
/// pages end, or the API repeats a page token (which would loop forever). `what` names the
/// listing in errors.
async fn stream_pages<T, F, Fut, I>(
    out: &mut ListStream,
    what: &str,
    mut fetch: F,
    mut item: I,
) -> Result<(), Diagnostics>
where
    F: FnMut(u64, Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, Diagnostics>>,
    I: FnMut(T) -> Result<Option<ListItem>, Diagnostics>,
{
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = fetch(page_size(out), token.clone()).await?;
        for rec in page.items {
            if let Some(i) = item(rec)?
                && !out.push(i).await
            {
                return Ok(()); // Terraform has enough: fetch no further pages
            }
        }
        match page.next {
            None => return Ok(()),
            Some(t) if token.as_ref() == Some(&t) => {
                return Err(Diagnostic::error(
                    format!("Error listing {what}"),
                    "The API answered the same next_page_token twice; the list never ends.",
                )
                .into());
            }
            Some(t) => token = Some(t),
        }
    }
    Err(Diagnostic::error(
        format!("Error listing {what}"),
        format!("The list did not end after {MAX_PAGES} pages."),
    )
    .into())
}
