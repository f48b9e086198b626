//! MQTT sessions (MQTT 3.1, 3.1.1 and 5.0 over TCP): the CONNECT header and
//! its CONNACK, and the names of the topics published or subscribed to.
//! Payloads, the will message and the password are never kept.

use serde::{Deserialize, Serialize};

use super::PasswordClass;

/// One MQTT connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MqttRecord {
    /// CONNECT protocol name (`MQTT`, or `MQIsdp` for 3.1).
    pub protocol_name: Option<String>,
    /// CONNECT protocol level (3 = 3.1, 4 = 3.1.1, 5 = 5.0).
    pub protocol_level: Option<u8>,
    /// CONNECT client identifier.
    pub client_id: Option<String>,
    /// CONNECT user name.
    pub username: Option<String>,
    /// The CONNECT password, classified (`none` when absent); never kept.
    pub password: PasswordClass,
    /// CONNECT clean session / clean start flag.
    pub clean_session: bool,
    /// CONNECT keep alive, seconds.
    pub keep_alive: u16,
    /// CONNECT carried a will (its topic and message are not kept).
    pub will: bool,
    /// CONNACK return code (3.1.1) or reason code (5.0); 0 accepts.
    pub connack_code: Option<u8>,
    /// PUBLISH packets, both directions.
    pub publishes: u32,
    /// Distinct topic names published (bounded; the first ones seen).
    pub topics: Vec<String>,
    /// Distinct topic filters subscribed to (bounded).
    pub subscriptions: Vec<String>,
    /// Distinct topic names or filters beyond the bound (not listed).
    pub topics_dropped: u32,
}

impl Default for MqttRecord {
    fn default() -> Self {
        MqttRecord {
            protocol_name: None,
            protocol_level: None,
            client_id: None,
            username: None,
            password: PasswordClass::None,
            clean_session: false,
            keep_alive: 0,
            will: false,
            connack_code: None,
            publishes: 0,
            topics: Vec::new(),
            subscriptions: Vec::new(),
            topics_dropped: 0,
        }
    }
}
