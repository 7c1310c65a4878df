//! Running the (synchronous) query layer for a request: [`blocking`] for a
//! bounded answer, [`streamed`] for listings, whose rows go from the
//! PostgreSQL portal to the socket through a small channel (a million
//! records are never in memory). The HTTP status is chosen when the first
//! chunk (or an error) arrives, so a bad filter still gets its 400; an error
//! after that cuts the response short. A client that goes away cancels its
//! query on the server (`pg_cancel_backend` through the cancel token), and
//! the connection is then closed rather than reused.

use crate::error::ApiError;
use crate::pool::{Conn, Pool};
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use postgres::{Client, NoTls};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Bytes gathered before a chunk is sent.
const CHUNK: usize = 32 * 1024;
/// Chunks in flight between the query thread and the socket.
const IN_FLIGHT: usize = 8;

/// Why a streaming job stopped early.
#[derive(Debug)]
pub enum Halt {
    /// A real error (before the first chunk: the response's status).
    Error(ApiError),
    /// The client went away.
    ClientGone,
    /// The job has what it needs (a limit was reached): success.
    Enough,
}

impl From<ApiError> for Halt {
    fn from(e: ApiError) -> Halt {
        Halt::Error(e)
    }
}

impl From<ivre_pg::Error> for Halt {
    fn from(e: ivre_pg::Error) -> Halt {
        Halt::Error(e.into())
    }
}

impl From<ivre_model::filter::FilterError> for Halt {
    fn from(e: ivre_model::filter::FilterError) -> Halt {
        Halt::Error(e.into())
    }
}

/// Runs `f` with a connection on a blocking thread.
pub async fn blocking<T: Send + 'static>(
    pool: &Pool,
    f: impl FnOnce(&mut Client) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let mut conn = pool.get().await?;
    tokio::task::spawn_blocking(move || {
        let r = f(conn.client()?);
        drop(conn);
        r
    })
    .await
    .map_err(|e| ApiError::internal(format!("query task failed: {e}")))?
}

enum Msg {
    Data(Bytes),
    Fail(ApiError),
}

/// Whether the query is still running, whether it was cancelled, and the
/// token that cancels it.
#[derive(Default)]
struct RunState {
    finished: bool,
    cancelled: bool,
    token: Option<postgres::CancelToken>,
}

/// Dropped with the response body: at its end, or when the client goes
/// away, in which case the query still running is cancelled.
struct CancelOnDrop(Arc<Mutex<RunState>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let running = self.0.lock().map(|st| !st.finished).unwrap_or(false);
        if running {
            let state = self.0.clone();
            // The cancel request is a blocking network call.
            std::thread::spawn(move || cancel_if_running(&state));
        }
    }
}

/// Where a streaming job writes its output.
pub struct Sink {
    buf: Vec<u8>,
    tx: mpsc::Sender<Msg>,
    sent: bool,
}

impl Sink {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Halt> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Halt> {
        let data = Bytes::from(std::mem::take(&mut self.buf));
        self.sent = true;
        self.tx
            .blocking_send(Msg::Data(data))
            .map_err(|_| Halt::ClientGone)
    }
}

/// Streams what `job` writes to its [`Sink`], as the body of a response
/// with these headers.
pub async fn streamed(
    pool: &Pool,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    job: impl FnOnce(&mut Client, &mut Sink) -> Result<(), Halt> + Send + 'static,
) -> Response {
    let conn = match pool.get().await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let (tx, mut rx) = mpsc::channel::<Msg>(IN_FLIGHT);
    let state = Arc::new(Mutex::new(RunState::default()));
    let guard = CancelOnDrop(state.clone());
    tokio::task::spawn_blocking(move || run_job(conn, tx, state, job));
    let first = match rx.recv().await {
        Some(Msg::Data(b)) => b,
        Some(Msg::Fail(e)) => return e.into_response(),
        None => return ApiError::internal("the query stopped without an answer").into_response(),
    };
    let rest = tokio_stream::wrappers::ReceiverStream::new(rx);
    let body = tokio_stream::StreamExt::map(
        tokio_stream::StreamExt::chain(tokio_stream::once(Msg::Data(first)), rest),
        move |m| {
            let _ = &guard;
            match m {
                Msg::Data(b) => Ok(b),
                Msg::Fail(e) => Err(std::io::Error::other(e.message)),
            }
        },
    );
    let mut resp = (StatusCode::OK, Body::from_stream(body)).into_response();
    for (k, v) in headers {
        resp.headers_mut().insert(k, v);
    }
    resp
}

fn cancel_if_running(state: &Mutex<RunState>) {
    let Ok(mut st) = state.lock() else { return };
    if st.finished {
        return;
    }
    st.cancelled = true;
    if let Some(token) = &st.token {
        log::info!("client gone: cancelling its query");
        if let Err(e) = token.cancel_query(NoTls) {
            log::warn!("cannot cancel a query: {e}");
        }
    }
}

fn run_job(
    mut conn: Conn,
    tx: mpsc::Sender<Msg>,
    state: Arc<Mutex<RunState>>,
    job: impl FnOnce(&mut Client, &mut Sink) -> Result<(), Halt>,
) {
    let mut sink = Sink {
        buf: Vec::new(),
        tx,
        sent: false,
    };
    let outcome = match conn.client() {
        Err(e) => Err(Halt::from(e)),
        Ok(client) => {
            let gone = {
                let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
                st.token = Some(client.cancel_token());
                st.cancelled
            };
            if gone {
                Err(Halt::ClientGone)
            } else {
                job(client, &mut sink)
            }
        }
    };
    {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        st.finished = true;
        if st.cancelled || matches!(outcome, Err(Halt::ClientGone)) {
            conn.discard();
        }
    }
    drop(conn);
    match outcome {
        Ok(()) | Err(Halt::Enough) => {
            let _ = sink.flush();
        }
        Err(Halt::ClientGone) => {}
        Err(Halt::Error(e)) => {
            if !sink.sent {
                let _ = sink.tx.blocking_send(Msg::Fail(e));
            } else {
                // Headers are gone: cut the body short.
                log::warn!("response cut short: {}", e.message);
                let _ = sink.tx.blocking_send(Msg::Fail(e));
            }
        }
    }
}
