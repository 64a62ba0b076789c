//! Teachers' figures each organization states per school year: counts,
//! like enrolment, kept beside the programmes they are the denominators of.

use edufed_domain::ids::OrgId;
use edufed_domain::mentoring::{Error, TeacherFigures};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::report::SchoolYear;
use sqlx::AnyConnection;

use super::homes;
use crate::Store;
use crate::audit::Written;
use crate::error::storage;
use crate::sql::micros;

/// A row of `teacher_figures`.
#[derive(sqlx::FromRow)]
struct FiguresRow {
    org_id: String,
    school_year: i64,
    teachers: i64,
    young_teachers: i64,
    courses: i64,
    course_hours: i64,
    internships: i64,
    seminars: i64,
    association_members: i64,
    growth_system: i64,
    updated_at: i64,
}

const FIGURES_COLUMNS: &str = "org_id, school_year, teachers, young_teachers, courses, \
     course_hours, internships, seminars, association_members, growth_system, updated_at";

impl TryFrom<FiguresRow> for TeacherFigures {
    type Error = edufed_domain::StorageError;

    fn try_from(row: FiguresRow) -> Result<Self, Self::Error> {
        let count = |v: i64| u32::try_from(v).map_err(edufed_domain::StorageError::new);
        Ok(TeacherFigures {
            org_id: OrgId::from_stored(row.org_id),
            school_year: SchoolYear(
                i32::try_from(row.school_year).map_err(edufed_domain::StorageError::new)?,
            ),
            teachers: count(row.teachers)?,
            young_teachers: count(row.young_teachers)?,
            courses: count(row.courses)?,
            course_hours: count(row.course_hours)?,
            internships: count(row.internships)?,
            seminars: count(row.seminars)?,
            association_members: count(row.association_members)?,
            growth_system: count(row.growth_system)?,
            updated_at: crate::sql::instant(row.updated_at)?,
        })
    }
}

/// Every organization's stated teacher figures, by organization and year.
pub(crate) async fn teacher_figures(
    conn: &mut AnyConnection,
    org: Option<&OrgId>,
) -> Result<Vec<TeacherFigures>, edufed_domain::StorageError> {
    let rows: Vec<FiguresRow> = sqlx::query_as(&format!(
        "SELECT {FIGURES_COLUMNS} FROM teacher_figures WHERE ($1 = '' OR org_id = $1) \
         ORDER BY org_id, school_year"
    ))
    .bind(org.map(ToString::to_string).unwrap_or_default())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    rows.into_iter().map(TeacherFigures::try_from).collect()
}

impl Store {
    /// States an organization's teachers for a school year, replacing what
    /// was stated before. Its admins and coordinators.
    #[tracing::instrument(name = "store.mentoring.set_teacher_figures", skip_all)]
    pub async fn set_teacher_figures(
        &self,
        figures: TeacherFigures,
        caller: &Principal,
    ) -> Result<TeacherFigures, Error> {
        authorize(
            caller,
            Action::StateTeacherFigures,
            Target::Organization(&figures.org_id),
        )?;
        let figures = TeacherFigures {
            updated_at: self.clock().now(),
            ..figures
        }
        .validate()?;
        let mut tx = self.write_tx().await?;
        let homes = homes(tx.conn(), std::slice::from_ref(&figures.org_id)).await?;
        match homes.get(&figures.org_id) {
            None => return Err(Error::OrganizationNotFound(figures.org_id.to_string())),
            Some(Some(node)) => {
                return Err(Error::HostedElsewhere {
                    organization: figures.org_id.to_string(),
                    node: node.clone(),
                });
            }
            Some(None) => {}
        }
        sqlx::query(&format!(
            "INSERT INTO teacher_figures ({FIGURES_COLUMNS}, actor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (org_id, school_year) DO UPDATE SET teachers = excluded.teachers, \
             young_teachers = excluded.young_teachers, courses = excluded.courses, \
             course_hours = excluded.course_hours, internships = excluded.internships, \
             seminars = excluded.seminars, association_members = excluded.association_members, \
             growth_system = excluded.growth_system, actor = excluded.actor, \
             updated_at = excluded.updated_at"
        ))
        .bind(figures.org_id.to_string())
        .bind(i64::from(figures.school_year.0))
        .bind(i64::from(figures.teachers))
        .bind(i64::from(figures.young_teachers))
        .bind(i64::from(figures.courses))
        .bind(i64::from(figures.course_hours))
        .bind(i64::from(figures.internships))
        .bind(i64::from(figures.seminars))
        .bind(i64::from(figures.association_members))
        .bind(i64::from(figures.growth_system))
        .bind(micros(figures.updated_at))
        .bind(caller.actor().as_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        let record = format!("{}/{}", figures.org_id, figures.school_year.0);
        tx.audit(Written::private(
            "teacher_figures",
            &record,
            "upsert",
            &figures.org_id,
            &caller.actor(),
        ))
        .await?;
        tx.commit().await?;
        Ok(figures)
    }

    /// The teacher figures stated on this node, of one organization or all.
    pub async fn list_teacher_figures(
        &self,
        org: Option<&OrgId>,
    ) -> Result<Vec<TeacherFigures>, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        Ok(teacher_figures(&mut conn, org).await?)
    }
}
