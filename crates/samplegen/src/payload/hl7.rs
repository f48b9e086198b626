//! HL7 v2.5 messages (HL7 v2.5 chapter 2 encoding rules: `|` field and `^`
//! component separators, segments ended by CR) framed with MLLP (HL7 v2.5.1
//! appendix C.4: 0x0B, message, 0x1C 0x0D).

/// Wraps a message in MLLP start/end blocks.
pub fn mllp(message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 3);
    out.push(0x0b);
    out.extend_from_slice(message.as_bytes());
    out.extend_from_slice(&[0x1c, 0x0d]);
    out
}

/// Sending/receiving application and facility of a message header.
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    /// MSH-3 sending application.
    pub sending_app: &'a str,
    /// MSH-4 sending facility.
    pub sending_facility: &'a str,
    /// MSH-5 receiving application.
    pub receiving_app: &'a str,
    /// MSH-6 receiving facility.
    pub receiving_facility: &'a str,
}

impl Route<'_> {
    fn msh(&self, timestamp: &str, message_type: &str, control_id: &str) -> String {
        format!(
            "MSH|^~\\&|{}|{}|{}|{}|{timestamp}||{message_type}|{control_id}|P|2.5\r",
            self.sending_app, self.sending_facility, self.receiving_app, self.receiving_facility
        )
    }

    /// The route of the answer (sender and receiver swapped).
    pub fn reversed(&self) -> Self {
        Route {
            sending_app: self.receiving_app,
            sending_facility: self.receiving_facility,
            receiving_app: self.sending_app,
            receiving_facility: self.sending_facility,
        }
    }
}

/// Fake patient identity used in PID segments (a canary: it must never be
/// stored by Ward).
#[derive(Debug, Clone, Copy)]
pub struct Patient<'a> {
    /// PID-3 identifier.
    pub mrn: &'a str,
    /// PID-5 name as `FAMILY^GIVEN^MIDDLE`.
    pub name: &'a str,
    /// PID-7 date of birth (YYYYMMDD).
    pub dob: &'a str,
}

impl Patient<'_> {
    fn pid(&self) -> String {
        format!(
            "PID|1||{}^^^HOSP^MR||{}||{}|U\r",
            self.mrn, self.name, self.dob
        )
    }
}

/// ORU^R01 observation result: MSH, PID, OBR, and two numeric OBX.
pub fn oru_r01(
    route: &Route<'_>,
    timestamp: &str,
    control_id: &str,
    patient: &Patient<'_>,
) -> String {
    let mut m = route.msh(timestamp, "ORU^R01^ORU_R01", control_id);
    m += &patient.pid();
    m += &format!("OBR|1|||8716-3^Vital signs^LN|||{timestamp}\r");
    m += "OBX|1|NM|8867-4^Heart rate^LN||72|/min^beats per minute^UCUM|||||F\r";
    m += "OBX|2|NM|59408-5^SpO2^LN||98|%^percent^UCUM|||||F\r";
    m
}

/// ADT^A01 admit: MSH, EVN, PID, PV1.
pub fn adt_a01(
    route: &Route<'_>,
    timestamp: &str,
    control_id: &str,
    patient: &Patient<'_>,
) -> String {
    let mut m = route.msh(timestamp, "ADT^A01^ADT_A01", control_id);
    m += &format!("EVN|A01|{timestamp}\r");
    m += &patient.pid();
    m += "PV1|1|I|ICU^3^1^HOSP\r";
    m
}

/// Accept acknowledgment (MSA-1 `AA`) for `acked_control_id`.
pub fn ack(
    route: &Route<'_>,
    timestamp: &str,
    trigger: &str,
    control_id: &str,
    acked_control_id: &str,
) -> String {
    let mut m = route.msh(timestamp, &format!("ACK^{trigger}^ACK"), control_id);
    m += &format!("MSA|AA|{acked_control_id}\r");
    m
}
