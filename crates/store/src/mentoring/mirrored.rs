//! Programmes and pairs other nodes keep, as this node mirrors them: a
//! programme whole, a pair as its shared view. Only the entries concerning
//! this node's organizations arrive here (the origin's feed filters them).

use edufed_domain::changes::EntityKind;
use edufed_domain::ids::ProgrammeId;
use edufed_domain::mentoring::{Error, Programme, SharedPair};
use edufed_domain::policy::{Action, Principal, authorize};

use super::target;
use crate::Store;

/// The most mirrored programmes or pairs one call reads.
const MAX_MIRRORED: u32 = 20_000;

/// A mirror read's failure: only the database's can happen here.
fn storage_of(error: edufed_domain::federation::Error) -> Error {
    match error {
        edufed_domain::federation::Error::Storage(e) => Error::Storage(e),
        other => Error::Storage(edufed_domain::StorageError::msg(other.to_string())),
    }
}

/// A programme another node keeps.
#[derive(Debug, Clone)]
pub struct MirroredProgramme {
    /// The node that keeps it.
    pub origin: String,
    pub programme: Programme,
}

impl Store {
    /// The mirrored programmes the caller may see.
    pub async fn mirrored_programmes(
        &self,
        caller: &Principal,
    ) -> Result<Vec<MirroredProgramme>, Error> {
        let mut found = Vec::new();
        for mirror in self
            .mirrors_of_kind(EntityKind::MentoringProgramme, MAX_MIRRORED)
            .await
            .map_err(storage_of)?
        {
            let Ok(programme) = mirror.decode::<Programme>() else {
                continue;
            };
            if authorize(caller, Action::ViewMentoringProgrammes, target(&programme)).is_ok() {
                found.push(MirroredProgramme {
                    origin: mirror.origin,
                    programme,
                });
            }
        }
        Ok(found)
    }

    /// A programme another node keeps, if this node mirrors it and the
    /// caller may see it.
    pub async fn mirrored_programme(
        &self,
        id: &ProgrammeId,
        caller: &Principal,
    ) -> Result<Option<MirroredProgramme>, Error> {
        Ok(self
            .mirrored_programmes(caller)
            .await?
            .into_iter()
            .find(|m| &m.programme.id == id))
    }

    /// The pairs of a programme another node keeps, as shared with this
    /// node: those of the caller's organizations that read its register.
    pub async fn mirrored_pairs(
        &self,
        programme: &MirroredProgramme,
        caller: &Principal,
    ) -> Result<Vec<SharedPair>, Error> {
        authorize(
            caller,
            Action::ViewMentoringRegister,
            target(&programme.programme),
        )?;
        let mut pairs = Vec::new();
        for mirror in self
            .mirrors_of_kind(EntityKind::MentoringPair, MAX_MIRRORED)
            .await
            .map_err(storage_of)?
        {
            if mirror.origin != programme.origin {
                continue;
            }
            let Ok(pair) = mirror.decode::<SharedPair>() else {
                continue;
            };
            if pair.programme_id == programme.programme.id {
                pairs.push(pair);
            }
        }
        pairs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(pairs)
    }
}
