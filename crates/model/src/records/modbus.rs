//! Modbus/TCP connections (Modbus Application Protocol V1.1b3 over TCP, the
//! MBAP header of Modbus Messaging on TCP/IP V1.0b): which function codes a
//! client used, which exceptions the server answered, and the server's Read
//! Device Identification objects. Register and coil values are never kept.

use serde::{Deserialize, Serialize};

/// One function code and how often it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModbusFunctionCount {
    /// Function code (1..=127; exceptions are counted under the request's code).
    pub code: u8,
    /// Requests (client to server) with this code.
    pub requests: u32,
    /// Normal responses (server to client) with this code.
    pub responses: u32,
}

/// One exception response kind and how often it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModbusException {
    /// Function code of the failed request (the response's code minus 0x80).
    pub function: u8,
    /// Exception code (1 illegal function, 2 illegal data address, ...).
    pub code: u8,
    /// Responses with this function and code.
    pub count: u32,
}

/// Read Device Identification (function 43, MEI type 14) objects the server
/// returned; each string cleaned and bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModbusDeviceId {
    /// Object 0x00 VendorName.
    pub vendor_name: Option<String>,
    /// Object 0x01 ProductCode.
    pub product_code: Option<String>,
    /// Object 0x02 MajorMinorRevision.
    pub revision: Option<String>,
    /// Object 0x03 VendorUrl.
    pub vendor_url: Option<String>,
    /// Object 0x04 ProductName.
    pub product_name: Option<String>,
    /// Object 0x05 ModelName.
    pub model_name: Option<String>,
    /// Object 0x06 UserApplicationName.
    pub user_application_name: Option<String>,
    /// Conformity level byte of the last response (0x01..0x03, 0x81..0x83).
    pub conformity_level: Option<u8>,
}

impl ModbusDeviceId {
    /// True when no object was read.
    pub fn is_empty(&self) -> bool {
        self.vendor_name.is_none()
            && self.product_code.is_none()
            && self.revision.is_none()
            && self.vendor_url.is_none()
            && self.product_name.is_none()
            && self.model_name.is_none()
            && self.user_application_name.is_none()
    }
}

/// One Modbus/TCP connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModbusRecord {
    /// Requests (client to server ADUs).
    pub requests: u32,
    /// Responses (server to client ADUs), exceptions included.
    pub responses: u32,
    /// Responses whose transaction identifier matched no outstanding request.
    pub unmatched_responses: u32,
    /// Distinct unit identifiers addressed (bounded, the first ones seen).
    pub unit_ids: Vec<u8>,
    /// Function codes seen, by code (bounded).
    pub functions: Vec<ModbusFunctionCount>,
    /// Exception responses, by function and code (bounded).
    pub exceptions: Vec<ModbusException>,
    /// Read Device Identification objects, if the server answered one.
    pub device_id: Option<ModbusDeviceId>,
}
