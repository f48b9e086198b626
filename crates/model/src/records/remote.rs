//! Vendor remote-support tools (TeamViewer, AnyDesk) seen on the network: the
//! product, how it was recognised (a packet signature or a TLS certificate
//! name) and how many packets carried the signature. Session contents are
//! encrypted by the products and never read.

use serde::{Deserialize, Serialize};

/// A remote-support product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RemoteSupportProduct {
    /// TeamViewer (TeamViewer Germany GmbH).
    TeamViewer,
    /// AnyDesk (AnyDesk Software GmbH).
    AnyDesk,
}

impl RemoteSupportProduct {
    /// The product's name as its vendor writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RemoteSupportProduct::TeamViewer => "TeamViewer",
            RemoteSupportProduct::AnyDesk => "AnyDesk",
        }
    }
}

/// One flow of a remote-support tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteSupportRecord {
    /// The product.
    pub product: RemoteSupportProduct,
    /// What recognised it (`tcp magic 0x1724 x4`, `tls certificate
    /// CN=AnyDesk Client`), bounded.
    pub evidence: String,
    /// Packets (TCP: data arrivals) that carried the product's signature.
    pub signature_packets: u32,
    /// The flow used the product's registered port (TeamViewer 5938,
    /// AnyDesk 7070/6568).
    pub known_port: bool,
}
