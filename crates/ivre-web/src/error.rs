//! Errors of a request, as HTTP answers: a status and a JSON body
//! `{"error": message}` (plus `"token"` when a `q=` token is at fault).
//! Storage errors map through [`ivre_pg::ErrorClass`]: Usage 400,
//! BadInput 422, Unavailable 503, Internal 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ivre_model::filter::query::QueryError;
use ivre_model::filter::FilterError;
use ivre_pg::ErrorClass;
use serde_json::json;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// The `q=` token the error is about.
    pub token: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            token: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
}

impl From<ivre_pg::Error> for ApiError {
    fn from(e: ivre_pg::Error) -> ApiError {
        let status = match e.class() {
            ErrorClass::Usage => StatusCode::BAD_REQUEST,
            ErrorClass::BadInput => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorClass::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorClass::Internal => match e {
                // statement_timeout: the request asked for too much.
                ivre_pg::Error::Cancelled(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            log::error!("internal error: {e}");
        }
        ApiError::new(status, e.to_string())
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            token: e.token().map(str::to_string),
            message: format!("invalid query: {e}"),
        }
    }
}

impl From<FilterError> for ApiError {
    fn from(e: FilterError) -> ApiError {
        ApiError::bad_request(e.0)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let Some(t) = self.token {
            body["token"] = json!(t);
        }
        (self.status, axum::Json(body)).into_response()
    }
}
