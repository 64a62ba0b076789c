//! Learning routes between the wire and the domain.

use edufed_domain::FieldError;
use edufed_domain::ids::{ActivityId, ResourceId};
use edufed_domain::routes::{
    ItemDraft, ItemStatus, Offering, Outcome, ProfileCount, Route, RouteCohort, RouteState,
    RouteTemplate, TemplateDraft, TemplateItem,
};
use edufed_proto::v1 as pb;

use super::{enum_map, instant, local, local_out, timestamp};

enum_map!(
    status_in,
    status_out,
    pb::RouteItemStatus,
    "ROUTE_ITEM_STATUS_",
    ItemStatus
);
enum_map!(
    state_in,
    state_out,
    pb::RouteState,
    "ROUTE_STATE_",
    RouteState
);

/// A state to filter by, if any.
pub(crate) fn state_filter(raw: i32) -> Result<Option<RouteState>, FieldError> {
    state_in("state", raw)
}

fn offering_in(raw: Option<&pb::RouteOffering>) -> Result<Offering, FieldError> {
    let raw = raw.ok_or_else(|| FieldError::new("offering", "is required"))?;
    let activity = raw.activity_id.trim();
    let resource = raw.resource_id.trim();
    match (activity.is_empty(), resource.is_empty()) {
        (false, true) => Ok(Offering::Activity {
            activity: ActivityId::parse("offering.activity_id", activity)?,
            occurrence: instant("offering.occurrence_start", raw.occurrence_start.as_ref())?,
            venue: (raw.venue != 0).then_some(raw.venue),
        }),
        (true, false) => Ok(Offering::Booking {
            resource: ResourceId::parse("offering.resource_id", resource)?,
            start: local("offering.start", &raw.start)?,
            end: local("offering.end", &raw.end)?,
            purpose: raw.purpose.clone(),
        }),
        _ => Err(FieldError::new(
            "offering.activity_id",
            "names an activity or (in resource_id) a resource to book, one of them",
        )),
    }
}

/// The draft a request carries in `template`; fields are named from the
/// request's root (`template.items[1].title`).
pub(crate) fn draft_in(raw: Option<&pb::RouteTemplateDraft>) -> Result<TemplateDraft, FieldError> {
    let raw = raw.ok_or_else(|| FieldError::new("template", "is required"))?;
    let mut items = Vec::with_capacity(raw.items.len());
    for (i, item) in raw.items.iter().enumerate() {
        items.push(ItemDraft {
            title: item.title.clone(),
            offering: offering_in(item.offering.as_ref())
                .map_err(|e| e.within(&format!("template.items[{i}]")))?,
            required: item.required,
            hours: item.hours,
            note: item.note.clone(),
        });
    }
    TemplateDraft {
        title: raw.title.clone(),
        profile: raw.profile.clone(),
        grade: u8::try_from(raw.grade).unwrap_or(0),
        school_year: u16::try_from(raw.school_year).unwrap_or(0),
        items,
    }
    .validate()
    .map_err(|e| e.within("template"))
}

/// The cohort a request carries in `cohort`.
pub(crate) fn cohort_in(raw: Option<&pb::RouteCohort>) -> Result<RouteCohort, FieldError> {
    let raw = raw.ok_or_else(|| FieldError::new("cohort.code", "is required"))?;
    RouteCohort {
        code: raw.code.clone(),
        headcount: raw.headcount,
        teacher: raw.teacher.clone(),
        teacher_contact: Some(raw.teacher_contact.clone()),
    }
    .validate()
}

/// The outcome a request carries in `outcome`.
pub(crate) fn outcome_in(raw: Option<&pb::RouteOutcome>) -> Result<Outcome, FieldError> {
    let raw = raw.ok_or_else(|| FieldError::new("outcome", "is required"))?;
    Ok(Outcome {
        profiles: raw
            .profiles
            .iter()
            .map(|p| ProfileCount {
                profile: p.profile.clone(),
                count: p.count,
            })
            .collect(),
        leavers: raw.leavers,
        continuing: raw.continuing,
    })
}

fn offering_out(o: &Offering) -> pb::RouteOffering {
    match o {
        Offering::Activity {
            activity,
            occurrence,
            venue,
        } => pb::RouteOffering {
            activity_id: activity.to_string(),
            occurrence_start: occurrence.map(timestamp),
            venue: venue.unwrap_or(0),
            ..Default::default()
        },
        Offering::Booking {
            resource,
            start,
            end,
            purpose,
        } => pb::RouteOffering {
            resource_id: resource.to_string(),
            start: local_out(*start),
            end: local_out(*end),
            purpose: purpose.clone(),
            ..Default::default()
        },
    }
}

fn item_out(i: &TemplateItem) -> pb::RouteTemplateItem {
    pb::RouteTemplateItem {
        number: i.number,
        title: i.title.clone(),
        offering: Some(offering_out(&i.offering)),
        required: i.required,
        hours: i.hours,
        note: i.note.clone(),
        offering_name: i.facts.name.clone(),
        organization_id: i.facts.org.to_string(),
        home_node: i.facts.home.clone().unwrap_or_default(),
        trial: i.facts.trial,
    }
}

/// A template on the wire.
pub(crate) fn template_out(t: &RouteTemplate) -> pb::RouteTemplate {
    let (required_hours, total_hours) = t.hours();
    pb::RouteTemplate {
        id: t.id.to_string(),
        school_id: t.school.to_string(),
        title: t.title.clone(),
        profile: t.profile.clone(),
        grade: u32::from(t.grade),
        school_year: u32::from(t.school_year),
        items: t.items.iter().map(item_out).collect(),
        copied_from: t
            .copied_from
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        required_hours,
        total_hours,
        version: t.version,
        created_at: Some(timestamp(t.created_at)),
        updated_at: Some(timestamp(t.updated_at)),
    }
}

/// A route's item status on the wire.
pub(crate) fn item_status_out(s: ItemStatus) -> i32 {
    status_out(s)
}

/// A route on the wire.
pub(crate) fn route_out(r: &Route) -> pb::Route {
    let f = r.figures();
    pb::Route {
        id: r.id.to_string(),
        school_id: r.school.to_string(),
        template_id: r.template.to_string(),
        title: r.title.clone(),
        profile: r.profile.clone(),
        grade: u32::from(r.grade),
        school_year: u32::from(r.school_year),
        cohort: Some(pb::RouteCohort {
            code: r.cohort.code.clone(),
            headcount: r.cohort.headcount,
            teacher: r.cohort.teacher.clone(),
            teacher_contact: r.cohort.teacher_contact.clone().unwrap_or_default(),
        }),
        items: r
            .items
            .iter()
            .map(|i| pb::RouteItem {
                item: Some(item_out(&i.item)),
                status: status_out(i.status),
                record_id: i.record.clone().unwrap_or_default(),
                refusal: i.refusal.clone().unwrap_or_default(),
                attended: i.attended,
                result: i.result.clone(),
            })
            .collect(),
        state: state_out(r.state),
        outcome: r.outcome.as_ref().map(|o| pb::RouteOutcome {
            profiles: o
                .profiles
                .iter()
                .map(|p| pb::ProfileCount {
                    profile: p.profile.clone(),
                    count: p.count,
                })
                .collect(),
            leavers: o.leavers,
            continuing: o.continuing,
        }),
        figures: Some(pb::RouteFigures {
            trial_visits: f.trial_visits,
            trials_per_pupil: f.trials_per_pupil,
            items_attended: f.attended,
            items_chosen: f.chosen,
            hours_attended: f.hours_attended,
            hours_chosen: f.hours_chosen,
        }),
        version: r.version,
        created_at: Some(timestamp(r.created_at)),
        updated_at: Some(timestamp(r.updated_at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_enum_value_has_a_wire_twin() {
        for s in ItemStatus::ALL {
            assert_eq!(status_in("status", status_out(*s)).unwrap(), Some(*s));
        }
        for s in RouteState::ALL {
            assert_eq!(state_in("state", state_out(*s)).unwrap(), Some(*s));
        }
    }
}
