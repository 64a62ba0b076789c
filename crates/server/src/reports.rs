//! `GET /reports/<name>.csv|json`: every report as an export for
//! programs and spreadsheets. It takes the report's request as query
//! parameters (`from`, `to`, `organization`, `city`, `scope=network`,
//! `group_by=month,kind`, `expiring_within_days`) and a token: a bearer
//! header, or the password of a login prompt. People read the same reports
//! in the web console (`/reports`, a session instead of a token), which
//! serves this path's pages.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use edufed_api::ReportsService;
use edufed_api::export::{to_csv, to_json};
use edufed_api::status::ApiError;
use edufed_domain::FieldError;
use edufed_domain::policy::Principal;
use edufed_proto::v1 as pb;
use edufed_store::Store;
use tonic::Status;

/// The state of the report routes.
#[derive(Clone)]
pub(crate) struct ReportRoutes {
    pub(crate) store: Store,
    pub(crate) reports: ReportsService,
}

/// `/reports/<name>.csv|json`.
pub(crate) fn routes(state: ReportRoutes) -> axum::Router {
    axum::Router::new()
        .route("/reports/{file}", axum::routing::get(export))
        .with_state(state)
}

pub(crate) fn plain(status: StatusCode, message: &str) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static(
                "Basic realm=\"edufed reports: any name, your token as the password\", charset=\"UTF-8\"",
            ),
        );
    }
    response
}

/// The HTTP status of a call's outcome, for the plain HTTP pages.
pub(crate) fn http_code(code: tonic::Code) -> StatusCode {
    match code {
        tonic::Code::NotFound => StatusCode::NOT_FOUND,
        tonic::Code::InvalidArgument => StatusCode::BAD_REQUEST,
        tonic::Code::PermissionDenied => StatusCode::FORBIDDEN,
        tonic::Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        tonic::Code::FailedPrecondition => StatusCode::CONFLICT,
        tonic::Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn from_status(status: &Status) -> Response {
    plain(http_code(status.code()), status.message())
}

async fn caller(store: &Store, headers: &HeaderMap) -> Result<Principal, Response> {
    match edufed_api::auth::authenticate(store, headers).await {
        Ok(Some(principal)) => Ok(principal),
        Ok(None) => Err(plain(
            StatusCode::UNAUTHORIZED,
            "reports need a token: an Authorization: Bearer header, or your token as the password",
        )),
        Err(status) => Err(plain(StatusCode::UNAUTHORIZED, status.message())),
    }
}

/// The request a query string asks for; `field` errors name the parameter.
fn request(pairs: &[(String, String)]) -> Result<pb::ReportRequest, Status> {
    request_of(pairs).map_err(|e| ApiError::from(e).into_status())
}

/// The request a query string asks for; errors name the parameter.
fn request_of(pairs: &[(String, String)]) -> Result<pb::ReportRequest, FieldError> {
    let mut req = pb::ReportRequest::default();
    for (key, value) in pairs {
        match key.as_str() {
            "from" => req.from.clone_from(value),
            "to" => req.to.clone_from(value),
            "organization" => req.organization.clone_from(value),
            "city" => req.city.clone_from(value),
            "scope" => match value.as_str() {
                "network" => req.network = true,
                "" | "node" => req.network = false,
                other => {
                    return Err(FieldError::new(
                        "scope",
                        format!(
                            "{other:?} is not a scope; use network or node (or organization=, city=)"
                        ),
                    ));
                }
            },
            "group_by" => {
                for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let upper = format!("REPORT_DIMENSION_{}", name.to_ascii_uppercase());
                    let dimension =
                        pb::ReportDimension::from_str_name(&upper).ok_or_else(|| {
                            FieldError::new("group_by", format!("unknown dimension {name:?}"))
                        })?;
                    req.group_by.push(dimension as i32);
                }
            }
            "expiring_within_days" => {
                req.expiring_within_days = value
                    .parse()
                    .map_err(|_| FieldError::new("expiring_within_days", "not a number of days"))?;
            }
            _ => {}
        }
    }
    Ok(req)
}

async fn export(
    State(state): State<ReportRoutes>,
    Path(file): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let Some((name, ext)) = file.rsplit_once('.') else {
        return plain(
            StatusCode::NOT_FOUND,
            "reports are served as <name>.csv or <name>.json",
        );
    };
    if ext != "csv" && ext != "json" {
        return plain(
            StatusCode::NOT_FOUND,
            "reports are served as <name>.csv or <name>.json",
        );
    }
    let principal = match caller(&state.store, &headers).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let req = match request(&pairs) {
        Ok(req) => req,
        Err(status) => return from_status(&status),
    };
    let csv = ext == "csv";
    let r = &state.reports;
    let body = match name {
        "activities" => r
            .activities(&principal, &req)
            .await
            .map(|m| render(&m, csv)),
        "participation" => r
            .participation(&principal, &req)
            .await
            .map(|m| render(&m, csv)),
        "agreements" => r
            .agreements(&principal, &req)
            .await
            .map(|m| render(&m, csv)),
        "resources" => r.resources(&principal, &req).await.map(|m| render(&m, csv)),
        "mentoring" => r.mentoring(&principal, &req).await.map(|m| render(&m, csv)),
        "indicators" => r
            .indicators(&principal, &req)
            .await
            .map(|m| render(&m, csv)),
        _ => {
            return plain(
                StatusCode::NOT_FOUND,
                "the reports are activities, participation, agreements, resources and indicators",
            );
        }
    };
    match body {
        Ok(body) => {
            let content_type = if csv {
                "text/csv; charset=utf-8"
            } else {
                "application/json"
            };
            let disposition = format!("inline; filename=\"{name}.{ext}\"");
            (
                [
                    (header::CONTENT_TYPE, content_type.to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, "private, no-store".to_owned()),
                ],
                body,
            )
                .into_response()
        }
        Err(error) => from_status(&Status::from(error)),
    }
}

fn render<M: prost::Message + prost::Name>(message: &M, csv: bool) -> String {
    if csv {
        to_csv(message)
    } else {
        to_json(message, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_requests() {
        let pairs = |raw: &[(&str, &str)]| -> Vec<(String, String)> {
            raw.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let req = request(&pairs(&[
            ("from", "2026-01-01"),
            ("city", "Томск"),
            ("scope", "network"),
            ("group_by", "month, kind"),
        ]))
        .unwrap();
        assert_eq!(req.city, "Томск");
        assert!(req.network);
        assert_eq!(req.group_by.len(), 2);
        let err = request_of(&pairs(&[("group_by", "planet")])).unwrap_err();
        assert_eq!(err.field, "group_by");
        let err = request_of(&pairs(&[("scope", "galaxy")])).unwrap_err();
        assert_eq!(err.field, "scope");
    }
}
