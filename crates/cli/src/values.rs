//! The values of the enum flags, each named as its protobuf enum's value in
//! lower_snake case without the prefix (`--kind methodical_centre` for
//! `ORGANIZATION_KIND_METHODICAL_CENTRE`). The flags take them in any case
//! and with `-` for `_` as well, as they always have; the demo's seed file
//! names them the same way.

/// An enum whose variants are those of the protobuf enum `pb::$proto` but
/// its UNSPECIFIED, named alike, so that the conversion matches them by name.
macro_rules! proto_enum {
    (
        $(#[$meta:meta])*
        $name:ident => $proto:ident {
            $( $(#[$variant_meta:meta])* $variant:ident, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, ::clap::ValueEnum, ::serde::Deserialize)]
        #[value(rename_all = "snake_case")]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl From<$name> for ::edufed_proto::v1::$proto {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => ::edufed_proto::v1::$proto::$variant, )+
                }
            }
        }

        impl From<$name> for i32 {
            fn from(value: $name) -> Self {
                ::edufed_proto::v1::$proto::from(value).into()
            }
        }
    };
}

pub(crate) use proto_enum;

proto_enum! {
    /// What an organization is.
    OrganizationKind => OrganizationKind {
        /// A school, gymnasium or lyceum.
        School,
        /// A university or institute.
        University,
        /// A college (vocational education).
        College,
        /// A technopark such as «Кванториум».
        Technopark,
        Museum,
        Theatre,
        /// A centre of additional education for children.
        #[value(alias = "additional-education")]
        AdditionalEducation,
        /// The municipal (or regional) methodical centre that oversees the network.
        #[value(alias = "methodical-centre")]
        MethodicalCentre,
        /// An enterprise that provides resources or mentors.
        Enterprise,
        /// Anything else, e.g. a public society.
        Other,
    }
}

proto_enum! {
    /// A member's role in an organization.
    Role => Role {
        /// Manages the organization's profile, members and their tokens.
        Admin,
        /// Publishes and coordinates the organization's activities, bookings and agreements.
        Coordinator,
        /// Teaches; registers groups and requests bookings.
        Teacher,
        /// Reads what the organization can see.
        Viewer,
    }
}

proto_enum! {
    /// What kind of event an activity is.
    ActivityKind => ActivityKind {
        Olympiad,
        /// A course preparing for olympiads.
        #[value(alias = "olympiad-prep-course")]
        OlympiadPrepCourse,
        Course,
        /// A lesson taught in network form (Article 15 of 273-FZ).
        #[value(alias = "network-lesson")]
        NetworkLesson,
        Excursion,
        #[value(alias = "master-class")]
        MasterClass,
        Conference,
        Contest,
        /// An intellectual game or quiz.
        Game,
        /// A profile camp (профильная смена).
        #[value(alias = "profile-camp")]
        ProfileCamp,
        #[value(alias = "open-day")]
        OpenDay,
        /// A professional trial (профессиональная проба).
        #[value(alias = "professional-trial")]
        ProfessionalTrial,
        /// An internship for teachers (стажировка).
        #[value(alias = "teacher-internship")]
        TeacherInternship,
        Seminar,
        #[value(alias = "round-table")]
        RoundTable,
        Festival,
        Sport,
        Other,
        /// A meeting of a mentoring pair or group (seen by its organizations).
        #[value(alias = "mentoring-meeting")]
        MentoringMeeting,
    }
}

proto_enum! {
    /// The line of work of the network an activity belongs to.
    Direction => Direction {
        #[value(alias = "research-and-projects")]
        ResearchAndProjects,
        /// Distance learning and gifted children.
        #[value(alias = "distance-and-gifted")]
        DistanceAndGifted,
        /// Upbringing and education programmes.
        Upbringing,
        #[value(alias = "sport-and-health")]
        SportAndHealth,
        /// Innovation and experiments.
        Innovation,
        #[value(alias = "teacher-development")]
        TeacherDevelopment,
        #[value(alias = "career-guidance")]
        CareerGuidance,
        #[value(alias = "additional-education")]
        AdditionalEducation,
    }
}

proto_enum! {
    /// How participants take part in an activity.
    ActivityFormat => Format {
        /// In person (очный).
        #[value(alias = "in-person")]
        InPerson,
        Online,
        /// Partly in person, partly online.
        Blended,
        /// By correspondence (заочный).
        Correspondence,
    }
}

proto_enum! {
    /// Who may see an activity.
    Visibility => Visibility {
        /// Anyone, without a token.
        Public,
        /// Anyone with a token on the node.
        Network,
        /// The publisher's members only.
        Organization,
        /// The members of the publisher and of its partners only.
        Partners,
    }
}

proto_enum! {
    /// Where an activity stands.
    ActivityStatus => ActivityStatus {
        /// Being prepared; only the publisher sees it.
        Draft,
        /// Open to see and to register for.
        Published,
        /// Called off.
        Cancelled,
        /// Took place.
        Completed,
    }
}

proto_enum! {
    /// What a bookable resource is.
    ResourceKind => ResourceKind {
        /// A classroom.
        Room,
        Lab,
        Hall,
        #[value(alias = "sports-facility")]
        SportsFacility,
        Equipment,
        /// A specialist's time.
        Specialist,
        Transport,
        #[value(alias = "online-room")]
        OnlineRoom,
    }
}

proto_enum! {
    /// How a resource's booking requests are confirmed.
    ApprovalPolicy => ApprovalPolicy {
        /// Confirmed at once when free.
        Automatic,
        /// Pending until the owner decides (the owner's own requests are confirmed).
        #[value(alias = "approval-required")]
        ApprovalRequired,
        /// Confirmed at once for partners under an active agreement, pending for others.
        #[value(alias = "automatic-for-partners")]
        AutomaticForPartners,
    }
}

proto_enum! {
    /// Who may book a resource.
    Access => Access {
        /// The owner's members only.
        #[value(alias = "own-organization")]
        OwnOrganization,
        /// The owner and its agreement partners.
        #[value(alias = "agreement-partners")]
        AgreementPartners,
        /// Every organization of the network.
        Network,
    }
}

proto_enum! {
    /// What a network agreement is.
    AgreementKind => AgreementKind {
        /// Network-form delivery of a programme (Article 15 of 273-FZ).
        #[value(alias = "network-form")]
        NetworkForm,
        /// A cooperation agreement (договор о сотрудничестве).
        Cooperation,
        #[value(alias = "network-interaction")]
        NetworkInteraction,
        /// An innovation-site status.
        #[value(alias = "innovation-site")]
        InnovationSite,
        Other,
    }
}

proto_enum! {
    /// Where an agreement stands.
    AgreementState => AgreementState {
        /// Being written by its initiator.
        Draft,
        /// Frozen; parties are signing.
        Proposed,
        /// A party declined; the initiator may revise it.
        Declined,
        /// Signed by every party; its term has not begun.
        Signed,
        /// In force.
        Active,
        /// Its term is over.
        Expired,
        /// Ended early by a party.
        Terminated,
    }
}

proto_enum! {
    /// What a report's rows are grouped by.
    ReportDimension => ReportDimension {
        /// The organization a row is about: an activity's publisher, a
        /// cohort's school, an agreement's party, a resource's owner.
        Organization,
        /// The activity's publisher (participation).
        Publisher,
        Direction,
        /// The activity's, agreement's or resource's kind.
        Kind,
        /// The local month, YYYY-MM.
        Month,
        /// The cohort's grades (participation).
        Grade,
        /// The agreement's state (agreements).
        State,
        /// The resource (resources).
        Resource,
        /// The publisher's designation (activities, participation).
        Designation,
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;
    use edufed_proto::v1 as pb;

    use super::*;
    use crate::designation::{DesignationKind, DesignationLevel};
    use crate::growth::GrowthKind;
    use crate::mentoring::{MentoringForm, MentoringResult};
    use crate::route::RouteState;
    use crate::trial::{ReviewDecision, TrialState};

    /// Every value but UNSPECIFIED is named as the protobuf enum names it,
    /// lowercase without the prefix, in any case and with `-` for `_`.
    fn named_as_in_proto<T: ValueEnum + Copy>(
        prefix: &str,
        proto_name: impl Fn(T) -> &'static str,
        proto_count: impl Fn(i32) -> bool,
    ) {
        let values = T::value_variants();
        let defined = (1..100).take_while(|&i| proto_count(i)).count();
        assert_eq!(values.len(), defined, "{prefix}: a value is missing");
        for &value in values {
            let expected = proto_name(value)
                .strip_prefix(prefix)
                .unwrap()
                .to_ascii_lowercase();
            let name = value.to_possible_value().unwrap().get_name().to_owned();
            assert_eq!(name, expected);
            for spelling in [
                name.clone(),
                name.to_ascii_uppercase(),
                name.replace('_', "-"),
            ] {
                let parsed = T::from_str(&spelling, true)
                    .unwrap_or_else(|e| panic!("{spelling:?} is refused: {e}"));
                assert_eq!(proto_name(parsed), proto_name(value));
            }
        }
    }

    macro_rules! check {
        ($name:ident => $proto:ident, $prefix:literal) => {
            named_as_in_proto::<$name>(
                $prefix,
                |v| pb::$proto::from(v).as_str_name(),
                |i| pb::$proto::try_from(i).is_ok(),
            )
        };
    }

    #[test]
    fn values_are_the_protobuf_names() {
        check!(OrganizationKind => OrganizationKind, "ORGANIZATION_KIND_");
        check!(Role => Role, "ROLE_");
        check!(ActivityKind => ActivityKind, "ACTIVITY_KIND_");
        check!(Direction => Direction, "DIRECTION_");
        check!(ActivityFormat => Format, "FORMAT_");
        check!(Visibility => Visibility, "VISIBILITY_");
        check!(ActivityStatus => ActivityStatus, "ACTIVITY_STATUS_");
        check!(ResourceKind => ResourceKind, "RESOURCE_KIND_");
        check!(ApprovalPolicy => ApprovalPolicy, "APPROVAL_POLICY_");
        check!(Access => Access, "ACCESS_");
        check!(AgreementKind => AgreementKind, "AGREEMENT_KIND_");
        check!(AgreementState => AgreementState, "AGREEMENT_STATE_");
        check!(ReportDimension => ReportDimension, "REPORT_DIMENSION_");
        check!(MentoringForm => MentoringForm, "MENTORING_FORM_");
        check!(MentoringResult => MentoringResult, "MENTORING_RESULT_");
        check!(GrowthKind => GrowthKind, "GROWTH_KIND_");
        check!(ReviewDecision => ReviewDecision, "REVIEW_DECISION_");
        check!(TrialState => TrialState, "TRIAL_STATE_");
        check!(DesignationKind => DesignationKind, "DESIGNATION_KIND_");
        check!(DesignationLevel => DesignationLevel, "DESIGNATION_LEVEL_");
        check!(RouteState => RouteState, "ROUTE_STATE_");
    }

    /// Flags that took their values in any case before they were enums
    /// take them so still; those that were always enums stay exact.
    #[test]
    fn enum_flags_ignore_case() {
        use clap::{CommandFactory as _, Parser as _};
        fn walk(command: &clap::Command, path: &str, found: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = format!("{path} {}", arg.get_id());
                let exact = [
                    " output",
                    " report name",
                    " report format",
                    " serve log_format",
                    " init log_format",
                    " oidc check log_format",
                    " backup log_format",
                    " restore log_format",
                ];
                if arg.get_action().takes_values()
                    && !arg.get_possible_values().is_empty()
                    && !arg.is_ignore_case_set()
                    && !exact.contains(&id.as_str())
                {
                    found.push(id);
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), found);
            }
        }
        let mut found = Vec::new();
        walk(&crate::Cli::command(), "", &mut found);
        assert!(found.is_empty(), "case-sensitive: {found:?}");
        crate::Cli::try_parse_from(["edufed", "org", "list", "--kind", "Methodical-Centre"])
            .unwrap();
    }

    #[test]
    fn values_convert_to_the_protobuf_numbers() {
        assert_eq!(
            i32::from(OrganizationKind::MethodicalCentre),
            pb::OrganizationKind::MethodicalCentre as i32
        );
        assert_eq!(i32::from(Role::Viewer), pb::Role::Viewer as i32);
        assert_eq!(
            pb::Format::from(ActivityFormat::Correspondence),
            pb::Format::Correspondence
        );
    }
}
