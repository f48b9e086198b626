//! End-to-end tests: the `ward` binary on real captures and on our own
//! synthetic ones, checked against independent oracles (tshark's HL7 and
//! DICOM dissectors) and against the privacy rule (canary patient names).

mod advisories;
mod astm;
mod bacnet;
mod coap;
mod common;
mod identification;
mod modbus;
mod mqtt;
mod netbios;
mod oracle_tshark;
mod poct;
mod privacy;
mod rdp;
mod remote_support;
mod report;
mod risk;
mod sample;
mod sdc;
mod sip;
mod ssdp;
mod vnc;
