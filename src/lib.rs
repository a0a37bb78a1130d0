//! terraform-provider-clouddb (work in progress)
pub mod client;
