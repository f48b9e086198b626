//! The packet pipeline.
//!
//! ```text
//! FileReader ─Frame─▶ wire::decode ─Packet─▶ shard filter ─▶ Defragmenter ─▶ FlowTable<FlowState>
//!                                                              │ Data / Gap / Closed
//!                                                              ▼
//!                                    dispatch: probe registry::FLOW ─▶ Analyzer::feed ─▶ Event
//!                                                              ▼
//!                                                identify::Observer (facts)
//! ```
//!
//! **Sharding without locks.** With N workers, every worker reads the input
//! itself and keeps only the IP packets whose direction-independent address
//! hash falls in its shard (link-layer frames go to shard 0). Each flow
//! therefore lives in exactly one worker, and workers share nothing on the hot
//! path: no locks, no channels, no copies of packets. Results (facts, counters)
//! are merged once at the end. Live (feature `live`), the kernel splits the
//! traffic by flow instead (an AF_PACKET fanout group, one socket per
//! worker: [`Engine::for_fanout`], [`analyze_live`]).
//!
//! **Bounded memory.** Flows are capped by the flow table (LRU eviction),
//! per-direction analyzer buffers by [`Config::max_stream_buffer`], fragments
//! by the defragmenter's limits, and facts by the observer's limits.

mod dispatch;
mod engine;

#[cfg(feature = "live")]
pub use engine::analyze_live;
pub use engine::{
    analyze_files, analyze_source, flow_view, Config, Engine, Progress, Report, INTERFACE_DROPS,
    KERNEL_DROPS, KERNEL_PACKETS,
};

/// Pipeline errors (input problems; traffic problems are counted, not errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be read.
    #[error(transparent)]
    Capture(#[from] capture::Error),
    /// A worker thread died (a bug).
    #[error("worker thread failed: {0}")]
    Worker(String),
}
