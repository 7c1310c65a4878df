//! What can go wrong in storage, as a type the caller can act on: the web
//! API maps [`Error::class`] to 400 / 503 / 500, the command-line tools to
//! exit status 2 / 1. Messages keep the cause in one line.

use ivre_model::filter::FilterError;
use postgres::error::SqlState;
use std::path::PathBuf;

/// The result of every fallible function of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The filter (or a query option: sort key, top field, ...) cannot be
    /// built or run as given; the message says why, in the user's terms.
    #[error("{0}")]
    BadFilter(String),
    /// PostgreSQL refused a user-given regular expression.
    #[error("invalid regular expression: {0}")]
    BadRegex(String),
    /// The statement was cancelled (statement_timeout, pg_cancel_backend).
    #[error("query cancelled: {0}")]
    Cancelled(String),
    /// The server cannot be reached.
    #[error("cannot connect to PostgreSQL at {target}: {reason}")]
    Connect { target: String, reason: String },
    /// The connection broke while in use (server restart, network).
    #[error("connection to PostgreSQL lost")]
    ConnectionLost(#[source] postgres::Error),
    /// The connection broke while a COMMIT was in flight: the server may
    /// have committed the transaction or not, and the client cannot tell.
    #[error("connection to PostgreSQL lost during COMMIT: whether it was committed is unknown")]
    CommitUnknown(#[source] postgres::Error),
    /// A row broke a constraint of the schema.
    #[error(transparent)]
    Constraint(postgres::Error),
    /// Any other database error.
    #[error(transparent)]
    Db(postgres::Error),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A record cannot be stored as given (e.g. its address is not an IP
    /// address): the input is wrong, not the database.
    #[error("{0}")]
    InvalidRecord(String),
    /// The embedded cluster, the configuration or the schema migrations
    /// could not be set up; the message names what and where.
    #[error("{0}")]
    Setup(String),
}

/// Who is to blame, for mapping an error to an HTTP status or exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request is wrong (HTTP 400, exit status 2).
    Usage,
    /// The data given to store is wrong (HTTP 422, exit status 1: the
    /// command line was right, the file was not).
    BadInput,
    /// The database is unreachable or gone (HTTP 503, exit status 1).
    Unavailable,
    /// Anything else (HTTP 500, exit status 1).
    Internal,
}

impl Error {
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::BadFilter(_) | Error::BadRegex(_) => ErrorClass::Usage,
            Error::InvalidRecord(_) => ErrorClass::BadInput,
            Error::Connect { .. } | Error::ConnectionLost(_) | Error::CommitUnknown(_) => {
                ErrorClass::Unavailable
            }
            _ => ErrorClass::Internal,
        }
    }

    /// An error of a query built from a user's filter: errors that the
    /// filter's values cause (bad regex, bad value, too complex) become
    /// [`Error::BadRegex`] / [`Error::BadFilter`]; the rest as [`From`].
    pub fn from_query(e: postgres::Error) -> Error {
        if let Some(db) = e.as_db_error() {
            let code = db.code();
            let message = db.message().to_string();
            if *code == SqlState::INVALID_REGULAR_EXPRESSION {
                return Error::BadRegex(regex_reason(db).to_owned());
            }
            if *code == SqlState::QUERY_CANCELED {
                return Error::Cancelled(message);
            }
            if *code == SqlState::PROGRAM_LIMIT_EXCEEDED
                || *code == SqlState::SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION
            {
                return Error::BadFilter(format!("invalid filter: {message}"));
            }
            if code.code().starts_with("22") || *code == SqlState::SYNTAX_ERROR {
                return Error::BadFilter(format!("invalid filter value: {message}"));
            }
        }
        Error::from(e)
    }

    /// An error of a COMMIT: a connection lost then leaves the outcome
    /// unknown ([`Error::CommitUnknown`]); the rest as [`From`].
    pub fn at_commit(e: postgres::Error) -> Error {
        match Error::from(e) {
            Error::ConnectionLost(e) => Error::CommitUnknown(e),
            other => other,
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Why PostgreSQL refused a regular expression, without the "invalid
/// regular expression: " its message starts with (our messages say it).
pub(crate) fn regex_reason(db: &postgres::error::DbError) -> &str {
    let message = db.message();
    message
        .strip_prefix("invalid regular expression: ")
        .unwrap_or(message)
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Error {
        if e.is_closed() {
            return Error::ConnectionLost(e);
        }
        match e.code().map(|c| c.code()) {
            Some(c) if c.starts_with("08") || c.starts_with("57P") => Error::ConnectionLost(e),
            Some(c) if c.starts_with("23") => Error::Constraint(e),
            _ => Error::Db(e),
        }
    }
}

impl From<FilterError> for Error {
    fn from(e: FilterError) -> Error {
        Error::BadFilter(e.0)
    }
}
