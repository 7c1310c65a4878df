//! A bounded pool of connections of the synchronous `postgres` client,
//! which the shared query layer (`ivre_pg`) is written for: a request
//! waits (asynchronously) for one of `size` permits, then runs its query
//! on a blocking thread with a connection taken from the idle list or
//! opened on demand. Every connection runs under the server's
//! `statement_timeout`, so no request holds one for longer.
//!
//! The server has two pools: the readers, whose sessions are read-only
//! (`SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY`: PostgreSQL
//! refuses any INSERT, UPDATE, DELETE, DDL or sequence change in them,
//! whatever query a bug could build), for every read route; and a small
//! writer pool for what the server writes by design: uploads (and the
//! view build they run), the audit log. Nothing a read route runs goes
//! through the writer. With `--read-role NAME` the readers also take a
//! role that has SELECT only (`ivre-httpd read-role NAME` makes it), so
//! that a write is refused by PostgreSQL's privileges too, even from a
//! session that left read-only mode; the writer keeps the server's role.

use crate::error::ApiError;
use ivre_pg::DbTarget;
use postgres::Client;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a request waits for a free connection before a 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    target: DbTarget,
    idle: Mutex<Vec<Client>>,
    permits: Arc<Semaphore>,
    statement_timeout: Duration,
    read_only: bool,
    /// The role the sessions take (`--read-role`).
    role: Option<String>,
}

/// A connection slot: the permit, and the connection once [`Conn::client`]
/// has opened or taken one. Dropped, it goes back to the idle list unless
/// it is broken or [`Conn::discard`] was called.
pub struct Conn {
    inner: Arc<Inner>,
    client: Option<Client>,
    keep: bool,
    _permit: OwnedSemaphorePermit,
}

impl Pool {
    /// A pool of read-only sessions (the read routes').
    pub fn reader(target: DbTarget, size: usize, statement_timeout: Duration) -> Pool {
        Pool::new(target, size, statement_timeout, true)
    }

    /// This pool's sessions take `role` (made by `ivre-httpd read-role`:
    /// SELECT only), so that PostgreSQL refuses a write even from a
    /// session that left read-only mode.
    pub fn with_role(mut self, role: Option<String>) -> Pool {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.role = role;
        }
        self
    }

    /// A pool of sessions that may write (uploads, the audit log).
    pub fn writer(target: DbTarget, size: usize, statement_timeout: Duration) -> Pool {
        Pool::new(target, size, statement_timeout, false)
    }

    fn new(target: DbTarget, size: usize, statement_timeout: Duration, read_only: bool) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                target,
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(size.max(1))),
                statement_timeout,
                read_only,
                role: None,
            }),
        }
    }

    /// A new session set up as this pool's are, outside the pool (for
    /// checks and tests; blocking).
    pub fn session(&self) -> ivre_pg::Result<Client> {
        connect(&self.inner)
    }

    /// Whether the sessions of this pool are read-only.
    pub fn read_only(&self) -> bool {
        self.inner.read_only
    }

    /// Waits for a free slot.
    pub async fn get(&self) -> Result<Conn, ApiError> {
        let permit =
            tokio::time::timeout(ACQUIRE_TIMEOUT, self.inner.permits.clone().acquire_owned())
                .await
                .map_err(|_| ApiError::unavailable("all database connections are busy"))?
                .map_err(|_| ApiError::unavailable("the server is shutting down"))?;
        Ok(Conn {
            inner: self.inner.clone(),
            client: None,
            keep: true,
            _permit: permit,
        })
    }
}

impl Conn {
    /// The connection (blocking: may connect).
    pub fn client(&mut self) -> ivre_pg::Result<&mut Client> {
        if self.client.is_none() {
            let idle = self.inner.idle.lock().ok().and_then(|mut v| v.pop());
            let client = match idle {
                Some(c) if !c.is_closed() => c,
                _ => connect(&self.inner)?,
            };
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("set above"))
    }

    /// Closes the connection instead of reusing it (after a cancellation,
    /// whose signal could otherwise reach the next request's query).
    pub fn discard(&mut self) {
        self.keep = false;
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            if self.keep && !c.is_closed() {
                if let Ok(mut idle) = self.inner.idle.lock() {
                    idle.push(c);
                }
            }
        }
    }
}

/// Opens a session with the pool's settings.
fn connect(inner: &Inner) -> ivre_pg::Result<Client> {
    let mut c = ivre_pg::connect_without_migrating(&inner.target)?;
    let ms = inner.statement_timeout.as_millis();
    if ms > 0 {
        c.batch_execute(&format!("SET statement_timeout = {ms}"))?;
    }
    if let Some(role) = &inner.role {
        ivre_pg::web::enter_read_role(&mut c, role)?;
    }
    if inner.read_only {
        c.batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")?;
    }
    Ok(c)
}
