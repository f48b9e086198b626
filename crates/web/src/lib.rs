//! Ward's web server: an HTTPS dashboard (server-rendered with askama, no
//! scripts, no external assets) and a REST API under `/api/v1` with an
//! OpenAPI document, over the same SQLite store the CLI writes.
//!
//! Layering (see `docs/style.md`): [`app`] builds the whole router from an
//! [`AppState`]; tests drive it with `tower::ServiceExt::oneshot`, and
//! [`serve`] binds it behind rustls. Handlers only translate HTTP: accounts,
//! sessions and audit rows live in `store` (`store::users`), scoring is the
//! application layer's (`app::scored_devices`, see [`Inventory`]).
//!
//! **Invariants:**
//! - there is no default account: until one exists every page but `/setup`
//!   redirects there, and the API answers 401;
//! - every state-changing request is a POST carrying a CSRF token;
//! - every string from the network reaches HTML only through askama's
//!   auto-escaping and JSON only through serde;
//! - passwords (argon2id), session ids and API tokens (SHA-256) are stored
//!   hashed; the audit log is append-only.

// Handlers and guards return `Result<_, Response>` (axum's idiom: the error
// is the reply); a response is large, but it is built only on the error path.
#![allow(clippy::result_large_err)]

pub mod alerts;
pub mod api;
pub mod auth;
pub mod conn;
pub mod form;
pub mod map;
pub mod names;
mod pages;
pub mod qr;
pub mod remediation;
pub mod snapshot;
pub mod tls;
pub mod totp;
mod view;

use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use snapshot::Snapshot;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use store::Store;

pub use auth::Role;

/// Web errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Store failure.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// Scoring the devices failed.
    #[error("cannot score devices: {}", app::chain(.0))]
    Score(app::Error),
    /// A report could not be rendered.
    #[error("cannot render the report: {0}")]
    Report(#[from] report::Error),
    /// A JSON document could not be made.
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The OS random source failed.
    #[error("no randomness available: {0}")]
    Random(String),
    /// Password hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// A template failed to render.
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    /// Certificate generation or loading failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// File or socket I/O.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Invalid configuration or input.
    #[error("{0}")]
    Invalid(String),
    /// A blocking task failed.
    #[error("internal task failed")]
    Join,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        // Details go to the server log, never to the client.
        eprintln!("ward serve: error: {self}");
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
    }
}

/// Where the dashboard's scored inventory comes from.
#[derive(Clone)]
pub enum Inventory {
    /// Scored from the store (`app::scored_devices`), again at every store
    /// generation: what `ward serve` shows.
    Scored,
    /// A fixed list (tests and demonstrations); accounts, alerts and intake
    /// still come from the store.
    Fixed(Arc<Vec<app::ScoredDevice>>),
}

impl Inventory {
    /// The scored devices of `store`.
    pub fn devices(&self, store: &Store) -> Result<Vec<app::ScoredDevice>, Error> {
        match self {
            Inventory::Scored => app::scored_devices(store).map_err(Error::Score),
            Inventory::Fixed(rows) => Ok(rows.as_ref().clone()),
        }
    }
}

/// Session lifetimes (`ward serve --session-idle-minutes / --session-hours`).
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused this long ends (seconds).
    pub idle_secs: i64,
    /// A session ends this long after sign-in, used or not (seconds).
    pub absolute_secs: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle_secs: 30 * 60,
            absolute_secs: auth::SESSION_SECS,
        }
    }
}

/// How often (at most) a request checks the store generation, ms.
const CHECK_MS: u64 = 1000;

/// Shared server state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Mutex<Store>,
    /// A second connection for scoring, so a rebuild never holds up
    /// sign-ins and session checks (absent for in-memory stores).
    reader: Option<Mutex<Store>>,
    inventory: Inventory,
    https: bool,
    db_label: String,
    sessions: SessionPolicy,
    current: RwLock<Option<Arc<Snapshot>>>,
    /// Held while a snapshot is built: one build at a time.
    building: Arc<tokio::sync::Mutex<()>>,
    /// When the generation was last checked (ms since the Unix epoch).
    checked: AtomicU64,
    /// Open high/critical alerts for the navigation bar, and when they were
    /// counted (ms since the Unix epoch): recounted at most once per [`CHECK_MS`].
    open_alerts: Mutex<(u64, usize)>,
    /// Password hashes computed at once (argon2 is slow on purpose; it runs
    /// outside the store lock, at most this many at a time).
    hashing: Arc<tokio::sync::Semaphore>,
    /// One-time token `/setup` requires (printed on the server console), so
    /// the first visitor of a fresh server cannot make themselves admin.
    setup_token: String,
}

/// Longest wait for a hashing slot before a sign-in is answered "throttled".
const HASH_QUEUE_SECS: u64 = 10;

/// Largest request body, bytes: every form and API body is small (but the
/// few of `form::LARGE_FORMS`); a larger one is refused (413) before
/// anything reads or logs it.
pub const MAX_BODY: usize = 64 * 1024;

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn lock(m: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    // A panic while holding the lock leaves the connection usable (every
    // change is a transaction), so poisoning is ignored.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    /// State over an open store. `https` adds HSTS.
    pub fn new(store: Store, inventory: Inventory, https: bool, db_label: &str) -> AppState {
        AppState::with_options(
            store,
            None,
            inventory,
            https,
            db_label,
            SessionPolicy::default(),
        )
    }

    /// State with a second (read) connection for scoring and a session policy.
    pub fn with_options(
        store: Store,
        reader: Option<Store>,
        inventory: Inventory,
        https: bool,
        db_label: &str,
        sessions: SessionPolicy,
    ) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                store: Mutex::new(store),
                reader: reader.map(Mutex::new),
                inventory,
                https,
                db_label: db_label.to_string(),
                sessions,
                current: RwLock::new(None),
                building: Arc::new(tokio::sync::Mutex::new(())),
                checked: AtomicU64::new(0),
                open_alerts: Mutex::new((0, 0)),
                hashing: Arc::new(tokio::sync::Semaphore::new(
                    std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
                )),
                // Without randomness no token can be made: then /setup stays
                // closed (`ward user add` creates the first account).
                setup_token: auth::random_token()
                    .map(|t| t[..24].to_string())
                    .unwrap_or_default(),
            }),
        }
    }

    /// The one-time token `/setup` asks for while there is no account
    /// (print it on the console; never send it to a client).
    pub fn setup_token(&self) -> &str {
        &self.inner.setup_token
    }

    /// Runs a password hash or check in a blocking thread, outside the
    /// store lock, at most a few at a time. `None` when no slot freed up
    /// within a few seconds (a flood of sign-ins).
    pub async fn hashing<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Option<T>, Error> {
        let permit = match tokio::time::timeout(
            std::time::Duration::from_secs(HASH_QUEUE_SECS),
            self.inner.hashing.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(p)) => p,
            _ => return Ok(None),
        };
        let out = tokio::task::spawn_blocking(move || {
            let out = f();
            drop(permit);
            out
        })
        .await
        .map_err(|_| Error::Join)?;
        Ok(Some(out))
    }

    /// A sign-in (password + TOTP or recovery code): throttles and the
    /// account are read, the slow password check runs outside the store
    /// lock (see [`AppState::hashing`]), then the outcome is recorded.
    pub async fn sign_in(
        &self,
        name: String,
        password: String,
        code: String,
        ip: String,
    ) -> Result<Result<store::User, auth::LoginError>, Error> {
        let pending = match self
            .db(move |s| auth::login_precheck(s, &name, &ip))
            .await?
        {
            auth::Precheck::Throttled(w) => return Ok(Err(auth::LoginError::Throttled(w))),
            auth::Precheck::Check(p) => p,
        };
        let phc = pending.phc();
        let Some(ok) = self
            .hashing(move || auth::password_matches(&password, &phc))
            .await?
        else {
            return Ok(Err(auth::LoginError::Throttled(1)));
        };
        self.db(move |s| auth::login_finish(s, pending, ok, &code))
            .await
    }

    /// The session policy.
    pub fn sessions(&self) -> SessionPolicy {
        self.inner.sessions
    }

    /// Runs `f` on the store in a blocking thread.
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || f(&lock(&me.inner.store)))
            .await
            .map_err(|_| Error::Join)?
    }

    /// Runs `f` on the store (mutably) in a blocking thread.
    pub async fn db_mut<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || f(&mut lock(&me.inner.store)))
            .await
            .map_err(|_| Error::Join)?
    }

    /// Drops the cached badge count (after a status change).
    pub fn forget_open_alerts(&self) {
        self.inner
            .open_alerts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0 = 0;
    }

    /// How many stored alerts are open (not acknowledged or closed) and high or critical (the navigation badge).
    /// Counted at most once a second; a failure counts as none (and is logged).
    pub async fn open_alerts(&self) -> usize {
        {
            let c = self
                .inner
                .open_alerts
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if c.0 != 0 && now_ms().saturating_sub(c.0) < CHECK_MS {
                return c.1;
            }
        }
        let filter = store::AlertFilter {
            min_severity: Some(monitor::Severity::High),
            statuses: vec![store::AlertStatus::Open],
            ..Default::default()
        };
        let n = match self.db(move |s| Ok(s.alerts(&filter)?.len())).await {
            Ok(n) => n,
            Err(e) => {
                eprintln!("ward serve: cannot count alerts: {e}");
                0
            }
        };
        *self
            .inner
            .open_alerts
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = (now_ms(), n);
        n
    }

    fn current(&self) -> Option<Arc<Snapshot>> {
        self.inner
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn build(&self, generation: u64) -> Result<Arc<Snapshot>, Error> {
        let me = self.clone();
        let snap = tokio::task::spawn_blocking(move || {
            let store = lock(me.inner.reader.as_ref().unwrap_or(&me.inner.store));
            Snapshot::build(&store, &me.inner.inventory, generation)
        })
        .await
        .map_err(|_| Error::Join)??;
        let snap = Arc::new(snap);
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(snap.clone());
        Ok(snap)
    }

    /// The scored inventory. Reused until the store generation changes
    /// (checked at most once a second); then rebuilt in the background —
    /// one build at a time — while requests keep getting the previous one.
    /// Only the very first call waits for a build.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, Error> {
        let fresh = |me: &AppState| {
            now_ms().saturating_sub(me.inner.checked.load(Ordering::Relaxed)) < CHECK_MS
        };
        let current = self.current();
        if let Some(s) = &current {
            if fresh(self) {
                return Ok(s.clone());
            }
        }
        let guard = match (self.inner.building.clone().try_lock_owned(), &current) {
            (Ok(g), _) => g,
            // A build is under way: serve what there is.
            (Err(_), Some(s)) => return Ok(s.clone()),
            (Err(_), None) => self.inner.building.clone().lock_owned().await,
        };
        // Someone else may have just built or checked.
        let current = self.current();
        if let Some(s) = &current {
            if fresh(self) {
                return Ok(s.clone());
            }
        }
        let generation = self.db(|s| Ok(s.generation()?)).await?;
        self.inner.checked.store(now_ms(), Ordering::Relaxed);
        match current {
            Some(s) if s.generation == generation => Ok(s),
            Some(s) => {
                let me = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = me.build(generation).await {
                        eprintln!("ward serve: cannot rebuild the scored inventory: {e}");
                        // Try again on a later request.
                        me.inner.checked.store(0, Ordering::Relaxed);
                    }
                    drop(guard);
                });
                Ok(s)
            }
            None => {
                let r = self.build(generation).await;
                drop(guard);
                r
            }
        }
    }
}

/// How the server listens.
#[derive(Debug, Clone)]
pub enum Transport {
    /// HTTPS with the operator's certificate chain and key (PEM files).
    Tls {
        /// Certificate chain.
        cert: PathBuf,
        /// Private key.
        key: PathBuf,
    },
    /// HTTPS with a self-signed certificate generated on first start and
    /// kept in the state directory.
    SelfSigned {
        /// Where `cert.pem` / `key.pem` live.
        state_dir: PathBuf,
    },
    /// Plain HTTP — tests only, and refused on anything but loopback.
    InsecureHttp,
}

/// Server configuration.
pub struct Config {
    /// Address to bind (port 0 picks a free one).
    pub listen: SocketAddr,
    /// TLS mode.
    pub transport: Transport,
    /// Connection cap and timeouts.
    pub limits: conn::ConnLimits,
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(pages::router())
        .merge(api::router())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state)
}

async fn security_headers(
    axum::extract::State(st): axum::extract::State<AppState>,
    req: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, "content-security-policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    if st.inner.https {
        set(h, "strict-transport-security", "max-age=31536000");
    }
    res
}

/// A bound server: its address, and the future that runs it.
pub struct Bound {
    /// The address actually bound (the chosen port when 0 was asked).
    pub addr: SocketAddr,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// Where the self-signed certificate is, when one is used.
    pub cert_path: Option<PathBuf>,
    listener: std::net::TcpListener,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    state: AppState,
    limits: conn::ConnLimits,
}

/// Binds the listener and prepares TLS (generating the self-signed
/// certificate on first start). Call [`Bound::run`] inside a tokio runtime.
pub async fn bind(config: Config, state: AppState) -> Result<Bound, Error> {
    if matches!(config.transport, Transport::InsecureHttp) && !config.listen.ip().is_loopback() {
        return Err(Error::Invalid(format!(
            "--insecure-http is for tests on loopback only, not {}",
            config.listen
        )));
    }
    // A missing or different TOTP secret key stops the start with one line,
    // instead of failing every second-factor sign-in later.
    state.db(|s| Ok(s.check_secret_key()?)).await?;
    let (tls, cert_path) = match &config.transport {
        Transport::InsecureHttp => (None, None),
        Transport::Tls { cert, key } => (Some(tls::server_config(cert, key)?), None),
        Transport::SelfSigned { state_dir } => {
            let (cert, key) = tls::self_signed(state_dir)?;
            (Some(tls::server_config(&cert, &key)?), Some(cert))
        }
    };
    let listener = std::net::TcpListener::bind(config.listen).map_err(|source| Error::Io {
        what: format!("cannot listen on {}", config.listen),
        source,
    })?;
    listener.set_nonblocking(true).map_err(|source| Error::Io {
        what: "listener".into(),
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| Error::Io {
        what: "listener".into(),
        source,
    })?;
    Ok(Bound {
        addr,
        scheme: if tls.is_some() { "https" } else { "http" },
        cert_path,
        listener,
        tls,
        state,
        limits: config.limits,
    })
}

/// HTTP/1.1 only (the automatic version detection waits for the client's
/// first bytes without a deadline), with a header-read deadline that also
/// covers a connection idle before its first request or between requests.
fn configure(
    b: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    l: &conn::ConnLimits,
) {
    let auto = std::mem::replace(
        b,
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new()),
    );
    *b = auto.http1_only();
    b.http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(l.header_read);
}

impl Bound {
    /// Serves until `shutdown` resolves; then stops accepting connections
    /// and lets requests in flight finish (at most 10 s).
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        // Score the inventory now, not on the first request.
        let warm = self.state.clone();
        tokio::spawn(async move {
            if let Err(e) = warm.snapshot().await {
                eprintln!("ward serve: cannot score the inventory: {e}");
            }
        });
        let app = app(self.state).into_make_service_with_connect_info::<SocketAddr>();
        let io = |source| Error::Io {
            what: "server".into(),
            source,
        };
        let handle = axum_server::Handle::new();
        let h = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            h.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
        });
        let limits = self.limits;
        let capped = conn::Capped::new(
            axum_server::accept::DefaultAcceptor::new(),
            limits.max_connections,
            limits.header_read,
        );
        match self.tls {
            Some(tls) => {
                let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls)
                    .handshake_timeout(limits.handshake)
                    .acceptor(capped);
                let mut server = axum_server::from_tcp(self.listener)
                    .map_err(io)?
                    .acceptor(acceptor);
                configure(server.http_builder(), &limits);
                server.handle(handle).serve(app).await.map_err(io)
            }
            None => {
                let mut server = axum_server::from_tcp(self.listener)
                    .map_err(io)?
                    .acceptor(capped);
                configure(server.http_builder(), &limits);
                server.handle(handle).serve(app).await.map_err(io)
            }
        }
    }

    /// Serves until the process ends.
    pub async fn run(self) -> Result<(), Error> {
        self.run_until(std::future::pending()).await
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Binds and serves on a new tokio runtime until SIGTERM or Ctrl-C, then
/// shuts down gracefully; `on_bound` sees the bound server first (to print
/// its address).
pub fn serve_blocking(
    config: Config,
    state: AppState,
    on_bound: impl FnOnce(&Bound),
) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            what: "cannot start the runtime".into(),
            source,
        })?;
    // The last reference to the state (and its stores) is dropped here,
    // outside the runtime: the synchronous PostgreSQL client runs a runtime
    // of its own to close its connection, which panics inside another one
    // ("Cannot start a runtime from within a runtime").
    let keep = state.clone();
    let served = rt.block_on(async move {
        let bound = bind(config, state).await?;
        on_bound(&bound);
        bound.run_until(shutdown_signal()).await
    });
    // Tasks still holding the state are dropped with the runtime; a store
    // call still running on a blocking thread gets a few seconds to finish.
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    drop(keep);
    served
}
