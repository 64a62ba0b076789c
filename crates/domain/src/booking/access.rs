//! Who may act on a booking, as the policy decides it, read against the
//! booking and its resource as the write transaction found them.

use std::collections::{BTreeMap, BTreeSet};

use super::{Booking, Error, Resource};
use crate::ids::OrgId;
use crate::policy::{Action, Principal, Target, authorize};

impl Resource {
    /// Whether `caller` may see the resource: the operator, or a member of
    /// an organization it is open to. `partners` holds, for each of the
    /// caller's organizations, those it shares an agreement in force with
    /// (needed only for a resource open to its owner's partners).
    pub fn seen_by(&self, caller: &Principal, partners: &BTreeMap<OrgId, BTreeSet<OrgId>>) -> bool {
        let none = BTreeSet::new();
        authorize(caller, Action::ViewAllRecords, Target::Node).is_ok()
            || caller
                .organizations()
                .any(|org| self.open_to(org, partners.get(org).unwrap_or(&none)))
    }

    /// Whether `caller` may change the resource and decide requests for it:
    /// its owner's admins and coordinators. Someone who may not even see it
    /// is told it does not exist.
    pub fn managed_by(
        &self,
        caller: &Principal,
        partners: &BTreeMap<OrgId, BTreeSet<OrgId>>,
    ) -> Result<(), Error> {
        match authorize(
            caller,
            Action::ManageResources,
            Target::Organization(&self.owner),
        ) {
            Ok(()) => Ok(()),
            Err(_) if !self.seen_by(caller, partners) => {
                Err(Error::ResourceNotFound(self.id.to_string()))
            }
            Err(denied) => Err(denied.into()),
        }
    }
}

impl Booking {
    /// The booking, if `caller` may see it: a member of the requesting
    /// organization or of the resource's `owner`. Anyone else is told it
    /// does not exist.
    pub fn seen_by(&self, caller: &Principal, owner: &OrgId) -> Result<(), Error> {
        let requester = authorize(
            caller,
            Action::ViewBookings,
            Target::Organization(&self.requester_org),
        );
        let owner = authorize(caller, Action::ViewBookings, Target::Organization(owner));
        if requester.is_err() && owner.is_err() {
            return Err(Error::BookingNotFound(self.id.to_string()));
        }
        Ok(())
    }

    /// Whether `caller` may approve or reject the booking: the resource's
    /// owner decides.
    pub fn decided_by(&self, caller: &Principal, owner: &OrgId) -> Result<(), Error> {
        self.seen_by(caller, owner)?;
        Ok(authorize(
            caller,
            Action::ManageResources,
            Target::Organization(owner),
        )?)
    }

    /// Whether `caller` may cancel the booking: its requester, or the
    /// resource's owner.
    pub fn cancelled_by(&self, caller: &Principal, owner: &OrgId) -> Result<(), Error> {
        self.seen_by(caller, owner)?;
        if authorize(
            caller,
            Action::RequestBookings,
            Target::Organization(&self.requester_org),
        )
        .is_ok()
        {
            return Ok(());
        }
        Ok(authorize(
            caller,
            Action::ManageResources,
            Target::Organization(owner),
        )?)
    }
}
