//! The printable rendering of an agreement version.

use std::collections::BTreeMap;

use super::{Agreement, Version};
use crate::ids::OrgId;

/// Renders `version` of `agreement` as a self-contained HTML page.
pub fn render(
    agreement: &Agreement,
    version: &Version,
    names: &BTreeMap<OrgId, String>,
    verified: &[bool],
) -> String {
    let _ = (agreement, version, names, verified);
    String::new()
}
