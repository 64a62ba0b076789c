//! Authorization: one pure function of who asks, what they want to do, and
//! to what. Handlers call [`authorize`] and nothing else decides.

use crate::directory::Role;
use crate::error::{ErrorCode, ServiceError};
use crate::ids::{OrgId, PersonId, SessionId, TokenId};

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The person the credential belongs to.
    pub person_id: PersonId,
    /// What the call came with: a long-lived stream checks it again, to
    /// stop when it is revoked or expires.
    pub credential: Credential,
    /// Whether the person is the node operator.
    pub operator: bool,
    /// The person's roles, one per organization.
    pub memberships: Vec<(OrgId, Role)>,
}

/// What a caller proved who they are with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API token.
    Token(TokenId),
    /// A session of the web console.
    Session(SessionId),
    /// A peer node, acting for one of its people on a forwarded write.
    Peer(String),
}

impl Principal {
    /// Who the change log names as having made the caller's changes.
    pub fn actor(&self) -> crate::changes::Actor {
        crate::changes::Actor::Person(self.person_id.clone())
    }

    /// The organizations the caller is a member of, whatever the role.
    pub fn organizations(&self) -> impl Iterator<Item = &OrgId> {
        self.memberships.iter().map(|(org, _)| org)
    }

    /// The caller's role in `org`, if any.
    pub fn role_in(&self, org: &OrgId) -> Option<Role> {
        self.memberships
            .iter()
            .find(|(id, _)| id == org)
            .map(|(_, role)| *role)
    }
}

/// Something a caller may want to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Create an organization on the node.
    CreateOrganization,
    /// Change an organization's profile.
    UpdateOrganization,
    /// See an organization's members.
    ListMembers,
    /// Add a member to an organization.
    AddMember,
    /// Remove a member from an organization.
    RemoveMember,
    /// Read the change log entries of an organization.
    WatchChanges,
    /// Create, list or revoke a person's tokens.
    ManageTokens,
    /// Publish, change, cancel an organization's activities; record results.
    ManageActivities,
    /// Register the organization's cohorts, change or withdraw them.
    RegisterCohorts,
    /// See an organization's registrations (its own, or for its activities).
    ViewRegistrations,
    /// Add and change the organization's resources; decide requests for them.
    ManageResources,
    /// Request bookings for the organization, and cancel them.
    RequestBookings,
    /// See the organization's bookings (its own, or of its resources).
    ViewBookings,
    /// Draft, edit, propose and amend the organization's agreements.
    ManageAgreements,
    /// Sign, decline or terminate agreements for the organization: its director.
    SignAgreements,
    /// See the agreements the organization is a party to, drafts included.
    ViewAgreements,
    /// Pin and unpin peer nodes.
    ManagePeers,
    /// Read the node's reports.
    ViewReports,
    /// State the organization's enrolment.
    StateEnrolment,
    /// Set targets for the organization's indicators.
    SetTargets,
    /// See every record of the node, whoever it belongs to.
    ViewAllRecords,
    /// Choose what a person is told (the person rule, as for tokens).
    ManageNotifications,
    /// See and retry the node's outbox and send test messages.
    OperateNotifications,
    /// Run the organization's mentoring programmes: write them, form pairs,
    /// start and end them.
    ManageMentoring,
    /// See the mentoring programmes the organization takes part in (not
    /// their register).
    ViewMentoringProgrammes,
    /// Read a mentoring programme's closed register: who mentors whom.
    ViewMentoringRegister,
    /// Assess a programme's pairs at checkpoints and record their outcomes.
    AssessMentoring,
    /// State the organization's teachers and their professional growth.
    StateTeacherFigures,
    /// Agree (or no longer agree) that one's own professional growth is
    /// recorded by person in an organization: the person alone.
    ConsentToGrowthRecords,
    /// Record, correct or read a teacher's professional growth by person:
    /// the teacher, or the organization's admins and coordinators.
    RecordTeacherGrowth,
    /// Prepare, submit, revise and withdraw the organization's professional
    /// trials, and see them before they are approved.
    ManageTrials,
    /// Review professional trials for the network's bank: the methodical
    /// centre's admins and coordinators (`Target::Network`), or the operator.
    ReviewTrials,
    /// State the organization's designations (resource centre, base site,
    /// innovation site) with their documents.
    ManageDesignations,
    /// Compose the school's route templates, assign them to its cohorts
    /// and follow the routes.
    ManageRoutes,
    /// See the school's route templates and routes.
    ViewRoutes,
    /// Read the audit trail of the organization's records: who wrote
    /// what, when and from where.
    ReadAuditTrail,
    /// Erase a person's personal data on their request: an admin of every
    /// organization they belong to, or the operator; never the person
    /// alone.
    ErasePersonalData,
}

impl Action {
    fn describe(self) -> &'static str {
        match self {
            Action::CreateOrganization => "create organizations",
            Action::UpdateOrganization => "update the organization",
            Action::ListMembers => "list the organization's members",
            Action::AddMember => "add members",
            Action::RemoveMember => "remove members",
            Action::WatchChanges => "watch the organization's changes",
            Action::ManageTokens => "manage this person's tokens",
            Action::ManageActivities => "manage the organization's activities",
            Action::RegisterCohorts => "register the organization's cohorts",
            Action::ViewRegistrations => "see the organization's registrations",
            Action::ManageResources => "manage the organization's resources",
            Action::RequestBookings => "request bookings for the organization",
            Action::ViewBookings => "see the organization's bookings",
            Action::ManageAgreements => "prepare the organization's agreements",
            Action::SignAgreements => "sign, decline or terminate agreements for the organization",
            Action::ViewAgreements => "see the organization's agreements",
            Action::ManagePeers => "manage the node's peers",
            Action::ViewReports => "read the node's reports",
            Action::StateEnrolment => "state the organization's enrolment",
            Action::SetTargets => "set the organization's targets",
            Action::ViewAllRecords => "see every record of the node",
            Action::ManageNotifications => "choose what this person is told",
            Action::OperateNotifications => "operate the node's notifications",
            Action::ManageMentoring => "run the organization's mentoring programmes",
            Action::ViewMentoringProgrammes => "see the organization's mentoring programmes",
            Action::ViewMentoringRegister => "read the mentoring register",
            Action::AssessMentoring => "assess mentoring pairs and record their outcomes",
            Action::StateTeacherFigures => "state the organization's teachers and their growth",
            Action::ConsentToGrowthRecords => "agree to this person's growth being recorded",
            Action::RecordTeacherGrowth => "record this teacher's professional growth",
            Action::ManageTrials => "prepare the organization's professional trials",
            Action::ReviewTrials => "review professional trials for the network's bank",
            Action::ManageDesignations => "state the organization's designations",
            Action::ManageRoutes => "compose and assign the organization's learning routes",
            Action::ViewRoutes => "see the organization's learning routes",
            Action::ReadAuditTrail => "read the organization's audit trail",
            Action::ErasePersonalData => "erase this person's personal data",
        }
    }
}

/// What an action applies to.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The node as a whole.
    Node,
    /// One organization.
    Organization(&'a OrgId),
    /// A city or the whole network, for the methodical centres among the
    /// caller's organizations on this node (their admins and coordinators
    /// set the network's targets).
    Network {
        /// The caller's organizations that are methodical centres here.
        centres: &'a [OrgId],
    },
    /// A mentoring programme: its owner runs it, its partners take part,
    /// and its coordinator (a person) assesses its pairs.
    Programme {
        owner: &'a OrgId,
        partners: &'a [OrgId],
        coordinator: &'a PersonId,
    },
    /// A pair or group of a mentoring programme: the programme's rules,
    /// and the admins and coordinators of the pair's own organizations
    /// start it and end it early (their mentor left, their group moved).
    Pair {
        owner: &'a OrgId,
        partners: &'a [OrgId],
        coordinator: &'a PersonId,
        /// The mentor's organization and the mentees'.
        organizations: &'a [OrgId],
    },
    /// A teacher's professional growth in an organization.
    Growth {
        org: &'a OrgId,
        person: &'a PersonId,
    },
    /// One person, with what decides who may act for them.
    Person {
        id: &'a PersonId,
        /// Whether they are the node operator.
        operator: bool,
        /// The organizations they are members of.
        organizations: &'a [OrgId],
    },
}

/// The action was not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(String);

impl Denied {
    /// A refusal, with why for people.
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl ServiceError for Denied {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::PermissionDenied
    }
}

/// The table of roles and actions within one organization. `None` is a
/// caller with no role in the organization (a foreign one).
pub fn role_permits(role: Option<Role>, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match (action, role) {
        (
            UpdateOrganization | AddMember | RemoveMember | ManageDesignations | ReadAuditTrail,
            Some(Admin),
        ) => true,
        (
            ManageActivities
            | ManageResources
            | ManageAgreements
            | StateEnrolment
            | SetTargets
            | ManageMentoring
            | ViewMentoringRegister
            | AssessMentoring
            | StateTeacherFigures
            | ManageTrials
            | ReviewTrials
            | ManageRoutes,
            Some(Admin | Coordinator),
        ) => true,
        (SignAgreements, Some(Admin)) => true,
        (RegisterCohorts | RequestBookings, Some(Admin | Coordinator | Teacher)) => true,
        (
            ListMembers
            | WatchChanges
            | ViewRegistrations
            | ViewBookings
            | ViewAgreements
            | ViewReports
            | ViewMentoringProgrammes
            | ViewRoutes,
            Some(_),
        ) => true,
        // Organizations are created by the operator; tokens follow the person rule.
        (
            CreateOrganization
            | ManageTokens
            | ManagePeers
            | ViewAllRecords
            | ManageNotifications
            | OperateNotifications
            | ConsentToGrowthRecords
            | ErasePersonalData,
            _,
        ) => false,
        // A teacher's own growth is the person rule's (`Target::Growth`).
        (RecordTeacherGrowth, Some(Admin | Coordinator)) => true,
        _ => false,
    }
}

/// The organizations whose records the caller may `action`: every one for
/// the operator, else those of their organizations where their role allows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every organization's.
    All,
    /// These organizations' only.
    Only(Vec<OrgId>),
}

impl Scope {
    /// The organizations to keep records of, or `None` for all of them:
    /// everything when the caller may act for `owner` (an activity's
    /// publisher sees all its registrations), else only their own.
    pub fn beside(self, owner: &OrgId) -> Option<Vec<OrgId>> {
        match self {
            Scope::Only(orgs) if !orgs.contains(owner) => Some(orgs),
            _ => None,
        }
    }

    /// The organizations to keep records of, or `None` for all of them.
    pub fn organizations(self) -> Option<Vec<OrgId>> {
        match self {
            Scope::All => None,
            Scope::Only(orgs) => Some(orgs),
        }
    }
}

/// Where `principal` may do `action`: the one answer to "which of my
/// organizations may do this".
pub fn permitted(principal: &Principal, action: Action) -> Scope {
    if authorize(principal, Action::ViewAllRecords, Target::Node).is_ok()
        && authorize(principal, action, Target::Node).is_ok()
    {
        return Scope::All;
    }
    Scope::Only(
        principal
            .organizations()
            .filter(|org| authorize(principal, action, Target::Organization(org)).is_ok())
            .cloned()
            .collect(),
    )
}

/// Whether removing a member with `role` leaves the organization someone to
/// manage it, given how many admins it has: the last admin stays.
pub fn leaves_an_admin(role: Role, admins: u64) -> bool {
    role != Role::Admin || admins > 1
}

/// The role whose holders manage an organization's members.
pub const MANAGING_ROLE: Role = Role::Admin;

/// Decides whether `principal` may do `action` to `target`.
///
/// The operator may do everything but sign for an organization. Within an organization, the caller's role
/// there decides, by [`role_permits`]. For a person's tokens: the person
/// themselves, or an admin of every organization the person belongs to (so an
/// admin cannot take over someone who also works elsewhere, nor the operator).
pub fn authorize(principal: &Principal, action: Action, target: Target<'_>) -> Result<(), Denied> {
    // The operator's record is not erased while it runs the node.
    if action == Action::ErasePersonalData
        && matches!(target, Target::Person { operator: true, .. })
    {
        return Err(Denied(
            "the node's operator is not erased while they run the node; make another person \
             operator first"
                .into(),
        ));
    }
    // A signature binds an organization: only its own admin (its director)
    // gives one, never the node's operator on its behalf.
    if principal.operator && action != Action::SignAgreements {
        return Ok(());
    }
    match target {
        // Reports are counts: any member of an organization here reads them.
        Target::Node if action == Action::ViewReports && !principal.memberships.is_empty() => {
            Ok(())
        }
        Target::Node => Err(Denied(format!(
            "only the node operator may {}",
            action.describe()
        ))),
        Target::Network { centres } => {
            if centres
                .iter()
                .any(|org| role_permits(principal.role_in(org), action))
            {
                Ok(())
            } else {
                Err(Denied(format!(
                    "only the operator or an admin or coordinator of a methodical centre on this \
                     node may {} for a city or the whole network",
                    action.describe()
                )))
            }
        }
        Target::Organization(org) => {
            let role = principal.role_in(org);
            if role_permits(role, action) {
                Ok(())
            } else {
                Err(Denied(match role {
                    Some(role) => format!(
                        "the {role} role in organization {org} does not allow you to {}",
                        action.describe()
                    ),
                    None => format!(
                        "you are not a member of organization {org}, so you may not {}",
                        action.describe()
                    ),
                }))
            }
        }
        Target::Programme {
            owner,
            partners,
            coordinator,
        } => {
            // The programme's coordinator works in it whatever their role;
            // its owner's admins and coordinators run it; the partners'
            // read its register.
            let by_role = match action {
                Action::ViewMentoringProgrammes | Action::ViewMentoringRegister => {
                    std::iter::once(owner)
                        .chain(partners.iter())
                        .any(|org| role_permits(principal.role_in(org), action))
                }
                Action::ManageMentoring | Action::AssessMentoring => {
                    role_permits(principal.role_in(owner), action)
                }
                _ => false,
            };
            let as_coordinator = *coordinator == principal.person_id
                && matches!(
                    action,
                    Action::ViewMentoringProgrammes
                        | Action::ViewMentoringRegister
                        | Action::ManageMentoring
                        | Action::AssessMentoring
                );
            if by_role || as_coordinator {
                Ok(())
            } else {
                Err(Denied(if action == Action::ViewMentoringProgrammes {
                    format!(
                        "only members of the organizations taking part in the programme may {}",
                        action.describe()
                    )
                } else if action == Action::ViewMentoringRegister {
                    format!(
                        "only the programme's coordinator, or an admin or coordinator of an \
                         organization taking part in it, may {}",
                        action.describe()
                    )
                } else {
                    format!(
                        "only the programme's coordinator, or an admin or coordinator of the \
                         organization that runs it, may {}",
                        action.describe()
                    )
                }))
            }
        }
        Target::Pair {
            owner,
            partners,
            coordinator,
            organizations,
        } => {
            let programme = Target::Programme {
                owner,
                partners,
                coordinator,
            };
            let own = action == Action::ManageMentoring
                && organizations
                    .iter()
                    .any(|org| role_permits(principal.role_in(org), action));
            match authorize(principal, action, programme) {
                Ok(()) => Ok(()),
                Err(_) if own => Ok(()),
                Err(_) if action == Action::ManageMentoring => Err(Denied(format!(
                    "only the programme's coordinator, or an admin or coordinator of the \
                     organization that runs it or of one of the pair's, may {}",
                    action.describe()
                ))),
                Err(denied) => Err(denied),
            }
        }
        Target::Growth { org, person } => {
            // A teacher records their own growth (once they agreed, which
            // the store checks); the organization's admins and coordinators
            // record anyone's who agreed. Only the teacher agrees.
            let member = principal.role_in(org).is_some();
            let own = *person == principal.person_id && member;
            let allowed = match action {
                Action::ConsentToGrowthRecords => own,
                Action::RecordTeacherGrowth => own || role_permits(principal.role_in(org), action),
                _ => false,
            };
            if allowed {
                Ok(())
            } else if action == Action::ConsentToGrowthRecords {
                Err(Denied(format!(
                    "only the person, as a member of organization {org}, may {}",
                    action.describe()
                )))
            } else {
                Err(Denied(format!(
                    "only the teacher, or an admin or coordinator of organization {org}, may {}",
                    action.describe()
                )))
            }
        }
        Target::Person {
            id,
            operator,
            organizations,
        } => {
            if !matches!(
                action,
                Action::ManageTokens | Action::ManageNotifications | Action::ErasePersonalData
            ) {
                return Err(Denied(format!("you may not {}", action.describe())));
            }
            if *id == principal.person_id && action != Action::ErasePersonalData {
                return Ok(());
            }
            let admin_of_all = !organizations.is_empty()
                && organizations
                    .iter()
                    .all(|org| principal.role_in(org) == Some(Role::Admin));
            if !operator && admin_of_all {
                Ok(())
            } else {
                Err(Denied(format!(
                    "you may not {}: only the person, an admin of every organization they \
                     belong to, or the operator may",
                    action.describe()
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(memberships: &[(&OrgId, Role)]) -> Principal {
        Principal {
            person_id: PersonId::generate(),
            credential: Credential::Token(TokenId::generate()),
            operator: false,
            memberships: memberships
                .iter()
                .map(|(o, r)| ((*o).clone(), *r))
                .collect(),
        }
    }

    /// role × action, own organization and foreign, as one table.
    #[test]
    fn organization_table() {
        use Action::*;
        use Role::*;
        let own = OrgId::generate();
        let foreign = OrgId::generate();
        // (action, [admin, coordinator, teacher, viewer] on own org); foreign is always denied.
        let table = [
            (UpdateOrganization, [true, false, false, false]),
            (AddMember, [true, false, false, false]),
            (RemoveMember, [true, false, false, false]),
            (ListMembers, [true, true, true, true]),
            (WatchChanges, [true, true, true, true]),
            (ManageActivities, [true, true, false, false]),
            (RegisterCohorts, [true, true, true, false]),
            (ViewRegistrations, [true, true, true, true]),
            (ManageResources, [true, true, false, false]),
            (RequestBookings, [true, true, true, false]),
            (ViewBookings, [true, true, true, true]),
            (ManageAgreements, [true, true, false, false]),
            (SignAgreements, [true, false, false, false]),
            (ViewAgreements, [true, true, true, true]),
            (CreateOrganization, [false, false, false, false]),
            (ManageTokens, [false, false, false, false]),
            (ManagePeers, [false, false, false, false]),
            (ViewReports, [true, true, true, true]),
            (StateEnrolment, [true, true, false, false]),
            (SetTargets, [true, true, false, false]),
            (ViewAllRecords, [false, false, false, false]),
            (ManageMentoring, [true, true, false, false]),
            (ViewMentoringProgrammes, [true, true, true, true]),
            (ViewMentoringRegister, [true, true, false, false]),
            (AssessMentoring, [true, true, false, false]),
            (StateTeacherFigures, [true, true, false, false]),
        ];
        for (action, expected) in table {
            for (role, allowed) in [Admin, Coordinator, Teacher, Viewer]
                .into_iter()
                .zip(expected)
            {
                let p = principal(&[(&own, role)]);
                assert_eq!(
                    authorize(&p, action, Target::Organization(&own)).is_ok(),
                    allowed,
                    "{action:?} as {role} of own organization"
                );
                assert!(
                    authorize(&p, action, Target::Organization(&foreign)).is_err(),
                    "{action:?} as {role} of another organization"
                );
            }
        }
    }

    /// Who reads a programme's closed register, who runs it, and who
    /// assesses its pairs and records their outcomes, as one table: the
    /// owner's members by role, a partner's members by role, the
    /// programme's coordinator (a teacher of the owner), and an outsider.
    #[test]
    fn growth_table() {
        use Action::*;
        use Role::*;
        let school = OrgId::generate();
        let other = OrgId::generate();
        let teacher = principal(&[(&school, Teacher)]);
        let callers = [
            ("the teacher", teacher.clone()),
            ("the school's admin", principal(&[(&school, Admin)])),
            (
                "the school's coordinator",
                principal(&[(&school, Coordinator)]),
            ),
            ("another teacher", principal(&[(&school, Teacher)])),
            ("the school's viewer", principal(&[(&school, Viewer)])),
            ("another school's admin", principal(&[(&other, Admin)])),
        ];
        let table = [
            (
                ConsentToGrowthRecords,
                [true, false, false, false, false, false],
            ),
            (RecordTeacherGrowth, [true, true, true, false, false, false]),
        ];
        for (action, expected) in table {
            for ((who, caller), allowed) in callers.iter().zip(expected) {
                let target = Target::Growth {
                    org: &school,
                    person: &teacher.person_id,
                };
                assert_eq!(
                    authorize(caller, action, target).is_ok(),
                    allowed,
                    "{action:?} as {who}"
                );
            }
        }
        // The teacher, no longer a member, agrees to nothing there.
        let gone = Principal {
            memberships: Vec::new(),
            ..teacher.clone()
        };
        let target = Target::Growth {
            org: &school,
            person: &teacher.person_id,
        };
        assert!(authorize(&gone, ConsentToGrowthRecords, target).is_err());
    }

    #[test]
    fn pair_table() {
        use Action::*;
        use Role::*;
        let owner = OrgId::generate();
        let partner = OrgId::generate();
        let university = OrgId::generate();
        let partners = [partner.clone(), university.clone()];
        // A student of the university mentors the owner's pupils.
        let organizations = [university.clone(), owner.clone()];
        let coordinator = principal(&[(&owner, Teacher)]);
        let callers = [
            ("owner's coordinator", principal(&[(&owner, Coordinator)])),
            ("the programme's coordinator", coordinator.clone()),
            (
                "the pair's university's admin",
                principal(&[(&university, Admin)]),
            ),
            (
                "the pair's university's coordinator",
                principal(&[(&university, Coordinator)]),
            ),
            (
                "the pair's university's teacher",
                principal(&[(&university, Teacher)]),
            ),
            (
                "a partner outside the pair",
                principal(&[(&partner, Admin)]),
            ),
        ];
        let table = [
            (ViewMentoringRegister, [true, true, true, true, false, true]),
            (ManageMentoring, [true, true, true, true, false, false]),
            (AssessMentoring, [true, true, false, false, false, false]),
        ];
        for (action, expected) in table {
            for ((who, caller), allowed) in callers.iter().zip(expected) {
                let target = Target::Pair {
                    owner: &owner,
                    partners: &partners,
                    coordinator: &coordinator.person_id,
                    organizations: &organizations,
                };
                assert_eq!(
                    authorize(caller, action, target).is_ok(),
                    allowed,
                    "{action:?} as {who}"
                );
            }
        }
    }

    #[test]
    fn mentoring_table() {
        use Action::*;
        use Role::*;
        let owner = OrgId::generate();
        let partner = OrgId::generate();
        let outsider = OrgId::generate();
        let partners = [partner.clone()];
        let coordinator = principal(&[(&owner, Teacher)]);
        let callers = [
            ("owner's admin", principal(&[(&owner, Admin)])),
            ("owner's coordinator", principal(&[(&owner, Coordinator)])),
            ("owner's teacher", principal(&[(&owner, Teacher)])),
            ("owner's viewer", principal(&[(&owner, Viewer)])),
            ("partner's admin", principal(&[(&partner, Admin)])),
            (
                "partner's coordinator",
                principal(&[(&partner, Coordinator)]),
            ),
            ("partner's teacher", principal(&[(&partner, Teacher)])),
            ("partner's viewer", principal(&[(&partner, Viewer)])),
            ("the programme's coordinator", coordinator.clone()),
            ("an outsider's admin", principal(&[(&outsider, Admin)])),
        ];
        let table = [
            (
                ViewMentoringProgrammes,
                [true, true, true, true, true, true, true, true, true, false],
            ),
            (
                ViewMentoringRegister,
                [
                    true, true, false, false, true, true, false, false, true, false,
                ],
            ),
            (
                ManageMentoring,
                [
                    true, true, false, false, false, false, false, false, true, false,
                ],
            ),
            (
                AssessMentoring,
                [
                    true, true, false, false, false, false, false, false, true, false,
                ],
            ),
        ];
        for (action, expected) in table {
            for ((who, caller), allowed) in callers.iter().zip(expected) {
                let target = Target::Programme {
                    owner: &owner,
                    partners: &partners,
                    coordinator: &coordinator.person_id,
                };
                assert_eq!(
                    authorize(caller, action, target).is_ok(),
                    allowed,
                    "{action:?} as {who}"
                );
            }
        }
    }

    #[test]
    fn any_member_reads_the_node_reports() {
        let org = OrgId::generate();
        assert!(
            authorize(
                &principal(&[(&org, Role::Viewer)]),
                Action::ViewReports,
                Target::Node
            )
            .is_ok()
        );
        assert!(authorize(&principal(&[]), Action::ViewReports, Target::Node).is_err());
        assert!(
            authorize(
                &principal(&[(&org, Role::Admin)]),
                Action::ManagePeers,
                Target::Node
            )
            .is_err()
        );
    }

    #[test]
    fn operator_may_do_everything() {
        let mut p = principal(&[]);
        p.operator = true;
        let org = OrgId::generate();
        assert!(authorize(&p, Action::CreateOrganization, Target::Node).is_ok());
        assert!(authorize(&p, Action::AddMember, Target::Organization(&org)).is_ok());
        assert!(authorize(&p, Action::ManageAgreements, Target::Organization(&org)).is_ok());
        assert!(
            authorize(&p, Action::SignAgreements, Target::Organization(&org)).is_err(),
            "only the organization's own admin signs for it"
        );
        p.memberships.push((org.clone(), Role::Admin));
        assert!(authorize(&p, Action::SignAgreements, Target::Organization(&org)).is_ok());
    }

    #[test]
    fn only_operator_creates_organizations() {
        let org = OrgId::generate();
        let admin = principal(&[(&org, Role::Admin)]);
        let err = authorize(&admin, Action::CreateOrganization, Target::Node).unwrap_err();
        assert!(err.to_string().contains("operator"));
    }

    #[test]
    fn token_management_rule() {
        let a = OrgId::generate();
        let b = OrgId::generate();
        let admin_a = principal(&[(&a, Role::Admin)]);
        let teacher = PersonId::generate();
        let person = |orgs: &'static [OrgId], operator| Target::Person {
            id: &teacher,
            operator,
            organizations: orgs,
        };
        let only_a: &'static [OrgId] = Box::leak(Box::new([a.clone()]));
        let a_and_b: &'static [OrgId] = Box::leak(Box::new([a.clone(), b.clone()]));
        assert!(authorize(&admin_a, Action::ManageTokens, person(only_a, false)).is_ok());
        assert!(authorize(&admin_a, Action::ManageTokens, person(a_and_b, false)).is_err());
        assert!(authorize(&admin_a, Action::ManageTokens, person(only_a, true)).is_err());
        assert!(authorize(&admin_a, Action::ManageTokens, person(&[], false)).is_err());
        let viewer_a = principal(&[(&a, Role::Viewer)]);
        assert!(authorize(&viewer_a, Action::ManageTokens, person(only_a, false)).is_err());
        let own = Target::Person {
            id: &viewer_a.person_id,
            operator: false,
            organizations: only_a,
        };
        assert!(authorize(&viewer_a, Action::ManageTokens, own).is_ok());
    }
}
