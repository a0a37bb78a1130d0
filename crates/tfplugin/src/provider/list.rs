//! [`ListResource`]: enumerates existing objects of a managed type (`terraform query`,
//! Terraform ≥ 1.14), streaming what it finds page by page.

use super::Context;
use crate::diag::Diagnostics;
use crate::schema::Schema;
use crate::value::Value;
use async_trait::async_trait;
use tokio::sync::mpsc;

/// `ListResource` input.
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// The `list` block's `config`, decoded with [`ListResource::schema`] (wholly known).
    pub config: Value,
    /// Terraform wants each item's full resource object (`include_resource = true`, and
    /// always for `-generate-config-out`).
    pub include_resource: bool,
    /// How many items Terraform wants at most (≥ 1: with 0 the framework does not call
    /// `list`); [`ListStream`] enforces it.
    pub limit: i64,
}

/// One object found by a list resource.
#[derive(Debug, Clone, Default)]
pub struct ListItem {
    /// Human-readable name, shown by `terraform query`.
    pub display_name: String,
    /// Identity of the object: conforms to the identity schema of the managed resource type
    /// of the same name, wholly known (the framework checks).
    pub identity: Value,
    /// The full resource object (the managed type's schema), when the request asks for it.
    pub resource_object: Option<Value>,
    /// Problems with this item; an error ends the listing.
    pub diagnostics: Diagnostics,
}

impl ListItem {
    /// An item with its display name and identity.
    pub fn new(display_name: impl Into<String>, identity: Value) -> Self {
        ListItem {
            display_name: display_name.into(),
            identity,
            ..Default::default()
        }
    }

    /// With the full resource object (send it only when [`ListRequest::include_resource`]).
    pub fn with_resource(mut self, state: Value) -> Self {
        self.resource_object = Some(state);
        self
    }
}

/// Where a list resource pushes the objects it finds; each one reaches Terraform as it is
/// pushed.
#[derive(Debug)]
pub struct ListStream {
    tx: mpsc::Sender<ListItem>,
    remaining: u64,
}

impl ListStream {
    /// A stream that accepts `limit` items, and the receiver they arrive on; `buffer` items
    /// may wait before a push waits for the reader. What the framework hands to
    /// [`ListResource::list`]; also for tests of a list resource.
    pub fn channel(limit: u64, buffer: usize) -> (Self, mpsc::Receiver<ListItem>) {
        let (tx, rx) = mpsc::channel(buffer.max(1));
        (
            ListStream {
                tx,
                remaining: limit,
            },
            rx,
        )
    }

    /// Sends one item. Returns whether more are wanted: `false` once the limit is reached or
    /// Terraform stopped reading, and the list should then return (fetching no further
    /// pages). Items pushed after that are dropped. Waits while Terraform is slow to read.
    #[must_use = "stop listing when no more items are wanted"]
    pub async fn push(&mut self, item: ListItem) -> bool {
        if self.remaining == 0 || self.tx.send(item).await.is_err() {
            self.remaining = 0;
            return false;
        }
        self.remaining -= 1;
        self.remaining > 0
    }

    /// Sends diagnostics that belong to no item (a warning about a skipped page, say); they
    /// do not count toward the limit, and an error ends the listing. Returns whether the
    /// listing goes on.
    pub async fn diagnostics(&mut self, d: impl Into<Diagnostics>) -> bool {
        let d = d.into();
        let fatal = d.has_errors();
        let item = ListItem {
            diagnostics: d,
            ..Default::default()
        };
        if self.remaining == 0 {
            return false;
        }
        if self.tx.send(item).await.is_err() || fatal {
            self.remaining = 0;
        }
        self.remaining > 0
    }

    /// How many more items are wanted (use it as the page size of the next API call).
    pub fn remaining(&self) -> u64 {
        self.remaining
    }
}

/// A list resource: enumerates objects of the managed type of the same name, which must have
/// an identity schema (Terraform lists by identity).
///
/// The framework guarantees: `list` runs only once the provider is configured, with a limit of
/// at least one; it stops reading (and drops the handler) once the limit is reached or an item
/// carries an error; each item's identity and resource object are checked against the managed
/// type's schemas before Terraform sees them.
#[async_trait]
pub trait ListResource<D: Send + Sync + 'static = ()>: Send + Sync + 'static {
    /// The managed resource type it lists.
    fn type_name(&self) -> &'static str;

    /// Schema of the `list` block's `config`. Called once.
    fn schema(&self) -> Schema;

    /// Checks beyond the schema's validators; values may be unknown. The provider is not
    /// configured yet.
    async fn validate(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Lists objects, pushing each to `out` as it is found, page by page, until `out.push`
    /// returns `false` or there are no more. `Err` ends the listing with an error (what was
    /// pushed before stays listed).
    async fn list(
        &self,
        ctx: &Context,
        data: &D,
        req: ListRequest,
        out: &mut ListStream,
    ) -> Result<(), Diagnostics>;
}
