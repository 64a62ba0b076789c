//! Small pieces pages share: names of enum values for selects, instants in
//! local time, organization names.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

/// One choice of a select.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// The values of a protobuf enum (all but UNSPECIFIED), named in Russian,
/// with `selected` marked.
pub(crate) fn choices<E>(selected: i32) -> Vec<Choice>
where
    E: TryFrom<i32> + Copy + Into<i32>,
    E: ProtoName,
{
    (1..200)
        .map_while(|n| E::try_from(n).ok())
        .map(|value| Choice {
            value: value.into().to_string(),
            label: ru().proto_name(value.name()),
            selected: value.into() == selected,
        })
        .collect()
}

/// A protobuf enum value's name (`ACTIVITY_KIND_COURSE`).
pub(crate) trait ProtoName {
    fn name(self) -> &'static str;
}

macro_rules! proto_names {
    ($($enum:ident),+) => {
        $(impl ProtoName for pb::$enum {
            fn name(self) -> &'static str {
                self.as_str_name()
            }
        })+
    };
}

proto_names!(
    ActivityKind,
    Direction,
    Format,
    Visibility,
    ActivityStatus,
    PlaceKind,
    RegistrationState,
    OrganizationKind,
    Role,
    ResourceKind,
    ApprovalPolicy,
    Access,
    OccurrenceState,
    AgreementKind,
    AgreementState,
    PartyRole,
    PartKind,
    PledgePeriod,
    ReportDimension,
    MentoringForm,
    PairState,
    MentoringResult,
    GrowthKind,
    TrialState,
    ReviewDecision,
    DesignationKind,
    DesignationLevel,
    RouteItemStatus,
    RouteState
);

/// A protobuf enum value named in Russian; empty for UNSPECIFIED or unknown.
pub(crate) fn named<E>(raw: i32) -> String
where
    E: TryFrom<i32> + ProtoName,
{
    match E::try_from(raw) {
        Ok(value) if raw != 0 => ru().proto_name(value.name()),
        _ => String::new(),
    }
}

/// An instant of a protobuf timestamp.
pub(crate) fn instant(ts: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    ts.and_then(|ts| DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(0)))
}

/// A record's zone: its own when it names one, else `fallback`.
pub(crate) fn zone_of(name: &str, fallback: Tz) -> Tz {
    name.parse().unwrap_or(fallback)
}

/// The zone times are read in for a visitor without one of their own.
pub(crate) const DEFAULT_ZONE: Tz = chrono_tz::Europe::Moscow;

/// Names of the organizations the node knows, by id.
pub(crate) struct Names(HashMap<String, String>);

impl Names {
    /// From a listing.
    pub(crate) fn of(orgs: &[pb::Organization]) -> Self {
        Self(
            orgs.iter()
                .map(|o| {
                    let name = if o.short_name.is_empty() {
                        o.full_name.clone()
                    } else {
                        o.short_name.clone()
                    };
                    (o.id.clone(), name)
                })
                .collect(),
        )
    }

    /// An organization's name, or its id when unknown here.
    pub(crate) fn name(&self, id: &str) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }
}

/// Every organization the node knows (hosted and mirrored), by slug.
pub(crate) async fn organizations(
    api: &crate::rpc::Clients,
) -> Result<Vec<pb::Organization>, tonic::Status> {
    let mut all = Vec::new();
    let mut page_token = String::new();
    for _ in 0..20 {
        let page = api
            .directory()
            .list_organizations(pb::ListOrganizationsRequest {
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        all.extend(page.organizations);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(all)
}
