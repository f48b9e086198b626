//! Ward's web server: an HTTPS dashboard (server-rendered with askama, no
//! scripts, no external assets) and a REST API under `/api/v1` with an
//! OpenAPI document, over the same SQLite store the CLI writes.
//!
//! Layering (see `docs/style.md`): [`app`] builds the whole router from an
//! [`AppState`]; tests drive it with `tower::ServiceExt::oneshot`, and
//! [`serve`] binds it behind rustls. Handlers only translate HTTP: accounts,
//! sessions and audit rows live in `store` (`store::users`), scoring comes
//! from the caller through [`Scorer`] (the `ward` binary passes its
//! `risk::scored_devices`).
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

pub mod api;
pub mod auth;
mod pages;
pub mod tls;
pub mod totp;
mod view;

use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use store::Store;

pub use auth::Role;

/// Web errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Store failure.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// Scoring the devices failed.
    #[error("cannot score devices: {0}")]
    Score(String),
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

/// Scores every device in the store (the `ward` binary passes
/// `risk::scored_devices`).
pub type Scorer = Arc<dyn Fn(&Store) -> Result<Vec<report::DeviceRow>, String> + Send + Sync>;

/// Shared server state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Mutex<Store>,
    scorer: Scorer,
    https: bool,
    db_label: String,
}

impl AppState {
    /// State over an open store. `https` adds HSTS.
    pub fn new(store: Store, scorer: Scorer, https: bool, db_label: &str) -> AppState {
        AppState { inner: Arc::new(Inner { store: Mutex::new(store), scorer, https, db_label: db_label.to_string() }) }
    }

    /// Runs `f` on the store in a blocking thread.
    pub async fn db<T: Send + 'static>(&self, f: impl FnOnce(&Store) -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves the connection usable
            // (every change is a transaction), so poisoning is ignored.
            let store = me.inner.store.lock().unwrap_or_else(|p| p.into_inner());
            f(&store)
        })
        .await
        .map_err(|_| Error::Join)?
    }

    /// Every device, scored, highest risk first.
    pub async fn scored(&self) -> Result<Vec<report::DeviceRow>, Error> {
        let scorer = self.inner.scorer.clone();
        self.db(move |s| scorer(s).map_err(Error::Score)).await
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
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(pages::router())
        .merge(api::router())
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers))
        .with_state(state)
}

async fn security_headers(axum::extract::State(st): axum::extract::State<AppState>, req: Request<axum::body::Body>, next: Next) -> Response {
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
}

/// Binds the listener and prepares TLS (generating the self-signed
/// certificate on first start). Call [`Bound::run`] inside a tokio runtime.
pub async fn bind(config: Config, state: AppState) -> Result<Bound, Error> {
    if matches!(config.transport, Transport::InsecureHttp) && !config.listen.ip().is_loopback() {
        return Err(Error::Invalid(format!("--insecure-http is for tests on loopback only, not {}", config.listen)));
    }
    let (tls, cert_path) = match &config.transport {
        Transport::InsecureHttp => (None, None),
        Transport::Tls { cert, key } => (Some(tls::server_config(cert, key)?), None),
        Transport::SelfSigned { state_dir } => {
            let (cert, key) = tls::self_signed(state_dir)?;
            (Some(tls::server_config(&cert, &key)?), Some(cert))
        }
    };
    let listener = std::net::TcpListener::bind(config.listen).map_err(|source| Error::Io { what: format!("cannot listen on {}", config.listen), source })?;
    listener.set_nonblocking(true).map_err(|source| Error::Io { what: "listener".into(), source })?;
    let addr = listener.local_addr().map_err(|source| Error::Io { what: "listener".into(), source })?;
    Ok(Bound { addr, scheme: if tls.is_some() { "https" } else { "http" }, cert_path, listener, tls, state })
}

impl Bound {
    /// Serves until the process ends.
    pub async fn run(self) -> Result<(), Error> {
        let app = app(self.state).into_make_service_with_connect_info::<SocketAddr>();
        let io = |source| Error::Io { what: "server".into(), source };
        match self.tls {
            Some(tls) => axum_server::from_tcp_rustls(self.listener, tls).serve(app).await.map_err(io),
            None => axum_server::from_tcp(self.listener).serve(app).await.map_err(io),
        }
    }
}

/// Binds and serves on a new tokio runtime until the process ends;
/// `on_bound` sees the bound server first (to print its address).
pub fn serve_blocking(config: Config, state: AppState, on_bound: impl FnOnce(&Bound)) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| Error::Io { what: "cannot start the runtime".into(), source })?;
    rt.block_on(async move {
        let bound = bind(config, state).await?;
        on_bound(&bound);
        bound.run().await
    })
}
