//! IVRE's web API (`/cgi/...`) over the shared query layer: the router
//! ([`router`]), the server ([`serve`]) and what `ivre-httpd` runs
//! ([`run`]). Handlers parse IVRE's parameters, build filters with the
//! model's `q=` language and call `ivre_pg`; they hold no SQL. The query
//! layer is synchronous, so queries run on blocking threads with a bounded
//! pool of connections ([`pool`]), listings stream ([`stream`]).
//!
//! Errors answer JSON `{"error": ...}` with the status of their class
//! (see [`error`]); no input gives a 500.

pub mod access;
pub mod audit;
pub mod auth;
pub mod dns;
pub mod error;
pub mod keyroutes;
pub mod keys;
pub mod params;
pub mod passivedns;
pub mod pool;
pub mod purpose;
pub mod render;
pub mod routes;
pub mod stream;
pub mod ui;
pub mod upload;
pub mod viewq;

use anyhow::Context;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use ivre_model::filter::scan::ScanLeaf;
use ivre_model::filter::view::ViewLeaf;
use purpose::{Passive, Scans, View};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the server is configured with.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where the application paths are mounted (`/cgi`; empty: at the root).
    pub prefix: String,
    /// Listing size without `limit:` (IVRE's `WEB_LIMIT`).
    pub default_limit: u64,
    /// Hard cap of any listing (IVRE's `WEB_MAXRESULTS`; 0: none).
    pub max_results: u64,
    /// Uploads accepted (with the upload permission).
    pub upload_ok: bool,
    /// Largest upload body, in bytes.
    pub max_upload: u64,
    /// Every request needs an API key.
    pub auth_required: bool,
    /// How long a verified API key is remembered.
    pub key_cache: Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            prefix: "/cgi".into(),
            default_limit: 10,
            max_results: 0,
            upload_ok: false,
            max_upload: 100 << 20,
            auth_required: false,
            key_cache: auth::KEY_CACHE,
        }
    }
}

/// The state every handler shares.
pub struct App {
    pub config: WebConfig,
    /// Read-only sessions: every read route.
    pub pool: pool::Pool,
    /// Sessions that write: uploads and the audit log only.
    pub writer: pool::Pool,
    pub geoip: Option<Arc<ivre_data::GeoIpDb>>,
    /// Where the MaxMind files were asked for (the view builds of uploads).
    pub geoip_dir: Option<std::path::PathBuf>,
    pub keys: auth::KeyCache,
}

/// The application routes, under the configured prefix.
pub fn router(app: Arc<App>) -> Router {
    let api = Router::new()
        .route("/config", get(routes::config))
        .route(
            "/scans",
            get(routes::records::<Scans>)
                .post(upload::upload_scans)
                .layer(axum::extract::DefaultBodyLimit::max(
                    usize::try_from(app.config.max_upload).unwrap_or(usize::MAX),
                )),
        )
        .route("/scans/count", get(routes::count::<Scans>))
        .route("/scans/top/{*field}", get(routes::top::<Scans>))
        .route("/scans/distinct/{*field}", get(routes::distinct::<Scans>))
        .route("/scans/onlyips", get(routes::onlyips::<ScanLeaf>))
        .route("/scans/ipsports", get(routes::ipsports::<ScanLeaf>))
        .route(
            "/scans/countopenports",
            get(routes::countopenports::<ScanLeaf>),
        )
        .route("/scans/timeline", get(routes::timeline::<ScanLeaf>))
        .route("/scans/coordinates", get(routes::coordinates::<ScanLeaf>))
        .route("/scans/diffcats", get(routes::diffcats::<ScanLeaf>))
        .route("/passive", get(routes::records::<Passive>))
        .route("/passive/count", get(routes::count::<Passive>))
        .route("/passive/top/{*field}", get(routes::top::<Passive>))
        .route(
            "/passive/distinct/{*field}",
            get(routes::distinct::<Passive>),
        )
        .route("/passivedns/{*query}", get(passivedns::passivedns))
        .route("/ipdata/{addr}", get(routes::ipdata))
        .route(
            "/view",
            get(routes::records::<View>)
                .post(upload::upload_view)
                .layer(axum::extract::DefaultBodyLimit::max(
                    usize::try_from(app.config.max_upload).unwrap_or(usize::MAX),
                )),
        )
        .route("/view/count", get(routes::count::<View>))
        .route("/view/top/{*field}", get(routes::top::<View>))
        .route("/view/distinct/{*field}", get(routes::distinct::<View>))
        .route("/view/onlyips", get(routes::onlyips::<ViewLeaf>))
        .route("/view/ipsports", get(routes::ipsports::<ViewLeaf>))
        .route(
            "/view/countopenports",
            get(routes::countopenports::<ViewLeaf>),
        )
        .route("/view/timeline", get(routes::timeline::<ViewLeaf>))
        .route("/view/coordinates", get(routes::coordinates::<ViewLeaf>))
        .route("/view/diffcats", get(routes::diffcats::<ViewLeaf>))
        .route("/rir", get(|| async { routes::no_rir() }))
        .route("/rir/{*rest}", get(|| async { routes::no_rir() }))
        .route("/dns", get(dns::dns))
        .route("/flows", get(routes::flows).post(upload::flows_post))
        .route("/flows/cleanup", axum::routing::post(upload::flows_cleanup))
        .route("/auth/me", get(keyroutes::me))
        .route(
            "/auth/api-keys",
            get(keyroutes::list_own).post(keyroutes::create),
        )
        .route(
            "/auth/api-keys/{id}",
            axum::routing::delete(keyroutes::revoke_own),
        )
        .route("/auth/admin/api-keys", get(keyroutes::list_all))
        .route(
            "/auth/admin/api-keys/{id}",
            axum::routing::delete(keyroutes::revoke_any),
        )
        .route("/audit", get(audit::list))
        .route("/audit/", get(audit::list))
        .route("/audit/count", get(audit::count))
        .route("/audit/{id}", get(audit::event))
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            auth::authenticate,
        ))
        .fallback(|| async {
            error::ApiError::new(axum::http::StatusCode::NOT_FOUND, "no such route")
        })
        .with_state(app.clone());
    let prefix = app.config.prefix.trim_end_matches('/');
    let root = if prefix.is_empty() {
        api
    } else {
        Router::new().nest(prefix, api)
    };
    root.merge(ui::router())
        .layer(axum::middleware::from_fn(access_log))
}

/// One log line per request (`peer method path status ms`), and IVRE's
/// security headers on every answer.
async fn access_log(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    log::info!(
        target: "access",
        "peer={peer} method={method} path={path:?} status={} ms={:.1}",
        resp.status().as_u16(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    resp
}

/// Serves until SIGINT or SIGTERM, then finishes the requests under way.
pub async fn serve(app: Arc<App>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    log::info!("shutting down: finishing the requests under way");
}

/// Connections of the writer pool (uploads wait for one).
const WRITERS: usize = 2;

/// How `ivre-httpd` runs the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub db: Option<String>,
    pub bind: std::net::IpAddr,
    pub port: u16,
    pub pool_size: usize,
    pub statement_timeout: Duration,
    pub geoip_dir: Option<std::path::PathBuf>,
    /// The role of the read pool's sessions (None: the server's own).
    pub read_role: Option<String>,
    pub config: WebConfig,
}

/// Applies migrations, binds, prints the address (`listening on URL`, one
/// line on stdout) and serves until a signal.
pub fn run(opts: ServerOptions) -> anyhow::Result<()> {
    // Migrations once, before the first request.
    drop(ivre_pg::connect(opts.db.as_deref())?);
    let target = ivre_pg::DbTarget::resolve(opts.db.as_deref())?;
    let geoip = match ivre_data::GeoIpDb::discover(opts.geoip_dir.as_deref()) {
        Ok(db) => Some(Arc::new(db)),
        Err(e) if opts.geoip_dir.is_some() => return Err(e.into()),
        Err(e) => {
            log::warn!("/ipdata disabled: {e}");
            None
        }
    };
    let app_target = target.clone();
    // Uploads (a scan import, a view build) run longer than a query: the
    // writer has no statement timeout.
    let app = Arc::new(App {
        pool: pool::Pool::reader(target.clone(), opts.pool_size, opts.statement_timeout)
            .with_role(opts.read_role.clone()),
        writer: pool::Pool::writer(target.clone(), WRITERS, Duration::ZERO),

        config: opts.config,
        geoip,
        geoip_dir: opts.geoip_dir.clone(),
        keys: auth::KeyCache::default(),
    });
    if let Some(role) = &opts.read_role {
        // Fails now rather than at the first request.
        app.pool.session().with_context(|| {
            format!("cannot read as role {role:?} (create it with: ivre-httpd read-role {role})")
        })?;
        log::info!("read routes run as role {role} (SELECT only)");
    }
    if !app.config.key_cache.is_zero() {
        auth::listen_revocations(app.clone(), app_target);
    }
    let listener = std::net::TcpListener::bind((opts.bind, opts.port))
        .with_context(|| format!("cannot listen on {}:{}", opts.bind, opts.port))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    {
        use std::io::Write;
        let mut out = std::io::stdout();
        writeln!(
            out,
            "ivre-httpd: listening on http://{addr}{}",
            app.config.prefix
        )?;
        out.flush()?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // The idle connections (synchronous clients, which close themselves
    // with a runtime of their own) must be dropped outside this runtime.
    let keep = app.clone();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        serve(app, listener).await
    })?;
    drop(keep);
    Ok(())
}

/// Logging to stderr for a server: access lines (info) shown by default.
pub fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => log::LevelFilter::Warn,
        (false, 0) => log::LevelFilter::Info,
        (false, _) => log::LevelFilter::Debug,
    };
    let _ = env_logger::Builder::new()
        .filter_level(level)
        .parse_default_env()
        .format_timestamp_millis()
        .try_init();
}
