//! DICOM upper layer PDUs (PS3.8 section 9.3: A-ASSOCIATE-RQ/AC, P-DATA-TF,
//! A-RELEASE-RQ/RP), DIMSE C-STORE command sets (PS3.7 section 9.3.1, Implicit
//! VR Little Endian) and a small Explicit VR Little Endian CT dataset (PS3.5
//! section 7.1.2).

/// DICOM Application Context Name.
pub const APPLICATION_CONTEXT: &str = "1.2.840.10008.3.1.1.1";
/// CT Image Storage SOP class.
pub const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
/// Explicit VR Little Endian transfer syntax.
pub const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
/// Implicit VR Little Endian transfer syntax (the default).
pub const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";

fn ae_title(title: &str) -> [u8; 16] {
    let mut t = [b' '; 16];
    let n = title.len().min(16);
    t[..n].copy_from_slice(&title.as_bytes()[..n]);
    t
}

/// A variable item: type, reserved, 16-bit length, content.
fn item(item_type: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![item_type, 0];
    out.extend_from_slice(&(content.len() as u16).to_be_bytes());
    out.extend_from_slice(content);
    out
}

/// A PDU: type, reserved, 32-bit length, content.
fn pdu(pdu_type: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![pdu_type, 0];
    out.extend_from_slice(&(content.len() as u32).to_be_bytes());
    out.extend_from_slice(content);
    out
}

/// Parameters common to A-ASSOCIATE-RQ and -AC.
#[derive(Debug, Clone, Copy)]
pub struct Association<'a> {
    /// Calling AE title (the requestor).
    pub calling_ae: &'a str,
    /// Called AE title (the acceptor).
    pub called_ae: &'a str,
    /// Maximum PDU length the sender can receive.
    pub max_pdu: u32,
    /// Implementation Class UID of the sender.
    pub implementation_class_uid: &'a str,
    /// Implementation Version Name of the sender.
    pub implementation_version: &'a str,
}

impl Association<'_> {
    fn header(&self) -> Vec<u8> {
        let mut c = Vec::with_capacity(68);
        c.extend_from_slice(&1u16.to_be_bytes()); // protocol version
        c.extend_from_slice(&[0, 0]);
        c.extend_from_slice(&ae_title(self.called_ae));
        c.extend_from_slice(&ae_title(self.calling_ae));
        c.extend_from_slice(&[0; 32]);
        c.extend(item(0x10, APPLICATION_CONTEXT.as_bytes()));
        c
    }

    fn user_info(&self) -> Vec<u8> {
        let mut u = item(0x51, &self.max_pdu.to_be_bytes());
        u.extend(item(0x52, self.implementation_class_uid.as_bytes()));
        u.extend(item(0x55, self.implementation_version.as_bytes()));
        item(0x50, &u)
    }
}

/// A-ASSOCIATE-RQ proposing one presentation context.
pub fn associate_rq(
    a: &Association<'_>,
    pc_id: u8,
    abstract_syntax: &str,
    transfer_syntaxes: &[&str],
) -> Vec<u8> {
    let mut c = a.header();
    let mut pc = vec![pc_id, 0, 0, 0];
    pc.extend(item(0x30, abstract_syntax.as_bytes()));
    for ts in transfer_syntaxes {
        pc.extend(item(0x40, ts.as_bytes()));
    }
    c.extend(item(0x20, &pc));
    c.extend(a.user_info());
    pdu(0x01, &c)
}

/// A-ASSOCIATE-AC accepting presentation context `pc_id` with `transfer_syntax`.
pub fn associate_ac(a: &Association<'_>, pc_id: u8, transfer_syntax: &str) -> Vec<u8> {
    let mut c = a.header();
    let mut pc = vec![pc_id, 0, 0, 0]; // result 0 = acceptance
    pc.extend(item(0x40, transfer_syntax.as_bytes()));
    c.extend(item(0x21, &pc));
    c.extend(a.user_info());
    pdu(0x02, &c)
}

/// PDV message control header: command fragment.
pub const PDV_COMMAND: u8 = 0x01;
/// PDV message control header: last fragment.
pub const PDV_LAST: u8 = 0x02;

/// P-DATA-TF carrying `(presentation context id, control header, bytes)` PDVs.
pub fn p_data(pdvs: &[(u8, u8, &[u8])]) -> Vec<u8> {
    let mut c = Vec::new();
    for (pc_id, control, data) in pdvs {
        c.extend_from_slice(&(data.len() as u32 + 2).to_be_bytes());
        c.push(*pc_id);
        c.push(*control);
        c.extend_from_slice(data);
    }
    pdu(0x04, &c)
}

/// A-ASSOCIATE-RJ (PS3.8 9.3.4): `result` 1 permanent / 2 transient,
/// `source` 1 service user, `reason` (source 1: 3 calling AE title not
/// recognized, 7 called AE title not recognized).
pub fn associate_rj(result: u8, source: u8, reason: u8) -> Vec<u8> {
    pdu(0x03, &[0, result, source, reason])
}

/// Ultrasound Image Storage SOP class (PS3.4 Annex B).
pub const US_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.6.1";

/// A-RELEASE-RQ.
pub fn release_rq() -> Vec<u8> {
    pdu(0x05, &[0; 4])
}

/// A-RELEASE-RP.
pub fn release_rp() -> Vec<u8> {
    pdu(0x06, &[0; 4])
}

/// Pads a value to even length (UIDs with NUL, text with space).
fn even(value: &[u8], pad: u8) -> Vec<u8> {
    let mut v = value.to_vec();
    if v.len() % 2 == 1 {
        v.push(pad);
    }
    v
}

/// Implicit VR LE element.
fn implicit(out: &mut Vec<u8>, group: u16, elem: u16, value: &[u8]) {
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(value);
}

/// Command set: group length (0000,0000) followed by `elements`.
fn command_set(elements: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (elem, value) in elements {
        implicit(&mut body, 0x0000, *elem, value);
    }
    let mut out = Vec::new();
    implicit(&mut out, 0x0000, 0x0000, &(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// C-STORE-RQ command set.
pub fn c_store_rq(message_id: u16, sop_class: &str, sop_instance: &str) -> Vec<u8> {
    command_set(&[
        (0x0002, even(sop_class.as_bytes(), 0)),
        (0x0100, 0x0001u16.to_le_bytes().to_vec()), // C-STORE-RQ
        (0x0110, message_id.to_le_bytes().to_vec()),
        (0x0700, 0u16.to_le_bytes().to_vec()), // priority medium
        (0x0800, 0x0000u16.to_le_bytes().to_vec()), // data set present
        (0x1000, even(sop_instance.as_bytes(), 0)),
    ])
}

/// C-STORE-RSP command set with status 0x0000 (success).
pub fn c_store_rsp(responding_to: u16, sop_class: &str, sop_instance: &str) -> Vec<u8> {
    command_set(&[
        (0x0002, even(sop_class.as_bytes(), 0)),
        (0x0100, 0x8001u16.to_le_bytes().to_vec()), // C-STORE-RSP
        (0x0120, responding_to.to_le_bytes().to_vec()),
        (0x0800, 0x0101u16.to_le_bytes().to_vec()), // no data set
        (0x0900, 0u16.to_le_bytes().to_vec()),      // success
        (0x1000, even(sop_instance.as_bytes(), 0)),
    ])
}

/// Explicit VR LE element (handles the 4-byte-length VRs OB/OW/SQ/UN/UT).
fn explicit(out: &mut Vec<u8>, group: u16, elem: u16, vr: &str, value: &[u8]) {
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(vr.as_bytes());
    if matches!(vr, "OB" | "OW" | "SQ" | "UN" | "UT") {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(value);
}

/// Identity fields of the fake CT image.
#[derive(Debug, Clone, Copy)]
pub struct CtImage<'a> {
    /// SOP Instance UID.
    pub sop_instance: &'a str,
    /// Study Instance UID.
    pub study_instance: &'a str,
    /// Series Instance UID.
    pub series_instance: &'a str,
    /// (0010,0010) Patient's Name.
    pub patient_name: &'a str,
    /// (0010,0020) Patient ID.
    pub patient_id: &'a str,
    /// (0010,0030) Patient's Birth Date.
    pub birth_date: &'a str,
}

/// A small CT Image Storage dataset in Explicit VR LE with an 8x8 16-bit
/// pixel matrix.
pub fn ct_dataset(img: &CtImage<'_>) -> Vec<u8> {
    let mut d = Vec::new();
    explicit(
        &mut d,
        0x0008,
        0x0016,
        "UI",
        &even(CT_IMAGE_STORAGE.as_bytes(), 0),
    );
    explicit(
        &mut d,
        0x0008,
        0x0018,
        "UI",
        &even(img.sop_instance.as_bytes(), 0),
    );
    explicit(&mut d, 0x0008, 0x0020, "DA", b"20260105");
    explicit(&mut d, 0x0008, 0x0060, "CS", b"CT");
    explicit(&mut d, 0x0008, 0x0070, "LO", &even(b"SIEMENS", b' '));
    explicit(
        &mut d,
        0x0010,
        0x0010,
        "PN",
        &even(img.patient_name.as_bytes(), b' '),
    );
    explicit(
        &mut d,
        0x0010,
        0x0020,
        "LO",
        &even(img.patient_id.as_bytes(), b' '),
    );
    explicit(
        &mut d,
        0x0010,
        0x0030,
        "DA",
        &even(img.birth_date.as_bytes(), b' '),
    );
    explicit(
        &mut d,
        0x0020,
        0x000d,
        "UI",
        &even(img.study_instance.as_bytes(), 0),
    );
    explicit(
        &mut d,
        0x0020,
        0x000e,
        "UI",
        &even(img.series_instance.as_bytes(), 0),
    );
    explicit(&mut d, 0x0028, 0x0002, "US", &1u16.to_le_bytes()); // samples per pixel
    explicit(&mut d, 0x0028, 0x0004, "CS", b"MONOCHROME2 ");
    explicit(&mut d, 0x0028, 0x0010, "US", &8u16.to_le_bytes()); // rows
    explicit(&mut d, 0x0028, 0x0011, "US", &8u16.to_le_bytes()); // columns
    explicit(&mut d, 0x0028, 0x0100, "US", &16u16.to_le_bytes()); // bits allocated
    explicit(&mut d, 0x0028, 0x0101, "US", &12u16.to_le_bytes()); // bits stored
    explicit(&mut d, 0x0028, 0x0102, "US", &11u16.to_le_bytes()); // high bit
    explicit(&mut d, 0x0028, 0x0103, "US", &0u16.to_le_bytes()); // unsigned
    let pixels: Vec<u8> = (0u16..64)
        .flat_map(|i| (i * 61 % 4096).to_le_bytes())
        .collect();
    explicit(&mut d, 0x7fe0, 0x0010, "OW", &pixels);
    d
}
