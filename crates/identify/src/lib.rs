//! Device identification.
//!
//! Two steps, both pure:
//! 1. [`Observer`] turns [`model::Event`]s into [`Fact`]s about *endpoints*
//!    (a MAC, an IP, or both), aggregated and bounded: each distinct
//!    (endpoint, kind, value) is kept once with first/last time, a count and the
//!    evidence (packet time and flow) of its first sighting.
//! 2. [`build_inventory`] groups facts into [`Device`]s (one per MAC, or per IP
//!    where no usable MAC is seen, e.g. behind a router or on raw-IP links),
//!    looks the vendor up in the IEEE OUI registry and classifies each device
//!    with a confidence and the reasons behind it.
//!
//! [`product::product`] reads a device's make and model from its facts (for
//! per-model policies).
//!
//! Facts are the unit of storage: several captures append facts, and the
//! inventory is rebuilt from all of them.

pub mod ble;
mod classify;
mod device;
mod facts;
pub mod identity;
mod observe;
pub mod oui;
pub mod product;
pub mod transfer;

pub use classify::{classify, Category, Reason, ALL_CATEGORIES};
pub use device::{
    apply_companions, build_inventory, build_inventory_owned, build_inventory_with,
    inventory_parts, Device,
};
pub use facts::{EndpointKey, Fact, FactKind};
pub use identity::{AppUse, Conclusion, Identity};
pub use observe::{Observer, ObserverLimits};
