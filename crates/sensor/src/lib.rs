//! The packet pipeline.
//!
//! ```text
//! FileReader ─Frame─▶ reader: shard ─Batch─▶ wire::decode ─Packet─▶ Defragmenter ─▶ FlowTable<FlowState>
//!                                                              │ Data / Gap / Closed
//!                                                              ▼
//!                                    dispatch: probe registry::FLOW ─▶ Analyzer::feed ─▶ Event
//!                                                              ▼
//!                                                identify::Observer (facts)
//! ```
//!
//! **Sharding without locks.** With N workers, one reader (the calling
//! thread) reads the input, finds each frame's shard from the
//! direction-independent hash of its IP addresses (link-layer frames go to
//! shard 0) and copies the frame into a batch for that shard's worker. Batches
//! come from a fixed pool per worker and go back and forth over bounded
//! channels: one message per batch, no allocation per packet, no locks. Each
//! flow therefore lives in exactly one worker, and workers share nothing on
//! the hot path. Results (facts, counters) are merged once at the end. With
//! one worker, the calling thread reads and analyzes, without copies. Live (feature `live`), the kernel splits the
//! traffic by flow instead (an AF_PACKET fanout group, one socket per
//! worker: [`analyze_live`]).
//!
//! **Bounded memory.** Flows are capped by the flow table (LRU eviction),
//! per-direction analyzer buffers by [`Config::max_stream_buffer`], fragments
//! by the defragmenter's limits, and facts by the observer's limits.

mod dispatch;
mod engine;
mod fanout;

#[cfg(feature = "live")]
pub use engine::{add_up, analyze_live};
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
