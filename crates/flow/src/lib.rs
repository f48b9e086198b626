//! Flow table with bounded memory, and bounded TCP reassembly.
//!
//! The table maps a direction-independent 5-tuple to a slot holding the flow's
//! [`FlowInfo`], counters, TCP reassembly state and a caller-defined per-flow
//! state `S` (the sensor keeps its analyzer there). It knows no protocol.
//!
//! **Invariants**
//! - At most `max_flows` flows are tracked; when full, the least recently used
//!   flow is evicted (reported as `Closed { reason: Evicted }`) and counted.
//! - Out-of-order TCP bytes are buffered up to `max_ooo_bytes` per direction;
//!   beyond that the hole is declared a [`FlowUpdate::Gap`] and skipped.
//! - In-order TCP payload is passed through without copying.
//! - Time is packet time; "now" is the largest timestamp seen, so captures
//!   with clocks going backwards cannot make flows immortal.

mod reassembly;
mod table;

pub use reassembly::{Segment, StreamState};
pub use table::{
    CloseReason, FlowConfig, FlowCounters, FlowState, FlowStats, FlowTable, FlowUpdate, PacketView,
    TcpFlags,
};
