//! What a person looks for among the network's resources: a kind, feature
//! tags, room for a group, and words of a name, matched with case and ё
//! folded (as the calendar's search does).

use super::{Resource, ResourceKind};
use crate::error::FieldError;
use crate::text;

/// The most feature tags a search names.
pub const MAX_FEATURES: usize = 20;
/// The most resources one listing returns.
pub const MAX_LISTED: usize = 500;

/// A search among resources; every part left empty matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// Only of this kind.
    pub kind: Option<ResourceKind>,
    /// Only with every one of these tags (folded).
    pub features: Vec<String>,
    /// Only holding at least this many people (unlimited ones do).
    pub min_capacity: u32,
    /// Only whose name or a tag contains every one of these words (folded).
    pub words: Vec<String>,
}

impl ResourceFilter {
    /// A search from what a client sent: `features` tags and a `query` of
    /// words, checked and folded, naming the field at fault.
    pub fn new(
        kind: Option<ResourceKind>,
        features: &[String],
        min_capacity: u32,
        query: &str,
    ) -> Result<Self, FieldError> {
        if features.len() > MAX_FEATURES {
            return Err(FieldError::new(
                "features",
                format!("at most {MAX_FEATURES}"),
            ));
        }
        let mut tags = Vec::new();
        for feature in features {
            let tag = text::fold(&text::line("features", feature, 60)?);
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let query = text::optional_line("query", query, 200)?.unwrap_or_default();
        Ok(Self {
            kind,
            features: tags,
            min_capacity,
            words: text::fold(&query)
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        })
    }

    /// Whether `resource` is one the search looks for.
    pub fn admits(&self, resource: &Resource) -> bool {
        let d = &resource.details;
        let name = text::fold(&d.name);
        self.kind.is_none_or(|kind| kind == d.kind)
            && d.capacity.is_none_or(|c| c >= self.min_capacity)
            && self.features.iter().all(|f| d.features.contains(f))
            && self
                .words
                .iter()
                .all(|w| name.contains(w.as_str()) || d.features.iter().any(|f| f.contains(w)))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::booking::{Access, ApprovalPolicy, BookingRules, ResourceDetails};
    use crate::ids::{OrgId, ResourceId};
    use crate::time::TimeZone;

    fn lab(name: &str, capacity: Option<u32>, features: &[&str]) -> Resource {
        Resource {
            id: ResourceId::generate(),
            owner: OrgId::generate(),
            details: ResourceDetails {
                kind: ResourceKind::Lab,
                name: name.into(),
                capacity,
                features: features.iter().map(|f| f.to_string()).collect(),
                time_zone: TimeZone::parse("tz", "Asia/Tomsk").unwrap(),
                hours: vec![],
                rules: BookingRules::default(),
                approval: ApprovalPolicy::Automatic,
                access: Access::Network,
            },
            blackouts: vec![],
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_search_matches_kind_tags_room_and_words_folded() {
        let it = lab("IT-квантум", Some(14), &["3d-принтеры", "ноутбуки"]);
        let hall = lab("Актовый зал", None, &[]);
        let all = ResourceFilter::default();
        assert!(all.admits(&it) && all.admits(&hall));

        let search = |kind, features: &[&str], min, query: &str| {
            let features: Vec<String> = features.iter().map(|f| f.to_string()).collect();
            ResourceFilter::new(kind, &features, min, query).unwrap()
        };
        assert!(search(Some(ResourceKind::Lab), &["3D-Принтеры"], 12, "").admits(&it));
        assert!(!search(Some(ResourceKind::Room), &[], 0, "").admits(&it));
        assert!(!search(None, &["3d-принтеры", "станки"], 0, "").admits(&it));
        assert!(
            !search(None, &[], 15, "").admits(&it),
            "14 seats are too few"
        );
        assert!(search(None, &[], 500, "").admits(&hall), "unlimited room");
        assert!(search(None, &[], 0, "ИТ квантум").admits(&lab("ИТ-Квантум", None, &[])));
        assert!(
            search(None, &[], 0, "принтер").admits(&it),
            "words find tags"
        );
        assert!(!search(None, &[], 0, "актовыи").admits(&lab("Актовый", None, &[])));
        assert!(search(None, &[], 0, "ёлка").admits(&lab("Елка", None, &[])));
    }

    #[test]
    fn a_search_is_bounded() {
        let many: Vec<String> = (0..=MAX_FEATURES).map(|n| n.to_string()).collect();
        let err = ResourceFilter::new(None, &many, 0, "").unwrap_err();
        assert_eq!(err.field, "features");
        let err = ResourceFilter::new(None, &[], 0, &"я".repeat(201)).unwrap_err();
        assert_eq!(err.field, "query");
    }
}
