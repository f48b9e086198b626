//! Records to facts, aggregated per endpoint with hard limits.

use crate::facts::{EndpointKey, Fact, FactKind};
use foldhash::fast::RandomState;
use model::records::{DicomPdu, LoginProtocol, NeighborProtocol, PasswordClass};
use model::{Direction, Endpoint, Event, FlowInfo, MacAddr, Record, Timestamp};
use std::net::IpAddr;

/// Bounds on what an [`Observer`] keeps.
#[derive(Debug, Clone, Copy)]
pub struct ObserverLimits {
    /// Distinct endpoints tracked; facts about further endpoints are dropped and counted.
    pub max_endpoints: usize,
    /// Distinct facts kept per endpoint.
    pub max_facts_per_endpoint: usize,
    /// Distinct facts of one kind kept per endpoint (peers, DNS queries...).
    pub max_per_kind: usize,
}

impl Default for ObserverLimits {
    fn default() -> Self {
        ObserverLimits {
            max_endpoints: 200_000,
            max_facts_per_endpoint: 512,
            max_per_kind: 64,
        }
    }
}

#[derive(Debug, Clone)]
struct Stat {
    source: &'static str,
    first: Timestamp,
    last: Timestamp,
    count: u64,
    /// The flow of the observation the evidence and source are of (0: none).
    flow: u64,
    /// Where the fact stands when a limit is reached ([`fact_rank`]).
    rank: u64,
    evidence: String,
}

/// A fixed pseudo-random rank of an endpoint: past the endpoint limit those
/// of lowest rank are kept, for the reasons [`fact_rank`] gives.
fn endpoint_rank(ep: &EndpointKey) -> u64 {
    fixed_rank(0x5741_5245, ep)
}

/// A fixed pseudo-random rank of a fact. When an endpoint's facts reach a
/// limit, those of lowest rank are kept: which ones then depends only on
/// which facts there were, not on the order they were seen in, nor on how
/// they were shared out among workers (a fact of low enough rank is never
/// let go, so its counts and evidence are whole; one let go can never come
/// back, since the ranks it lost to stay). The same in every run.
fn fact_rank(kind: FactKind, value: &str) -> u64 {
    fixed_rank(0x5741_5244, (kind as u8, value))
}

/// A hash of `x` with a fixed `seed`: the same in every run and process.
fn fixed_rank(seed: u64, x: impl std::hash::Hash) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(seed).hash_one(x)
}

type FactMap = hashbrown::HashMap<(FactKind, String), Stat, RandomState>;

#[derive(Default)]
struct EndpointFacts {
    facts: FactMap,
    /// Facts kept per kind, indexed by `kind as usize` (the index of the kind
    /// in [`FactKind::ALL`]; a test checks they agree).
    per_kind: [u32; FactKind::ALL.len()],
    /// The highest rank kept, of one kind (`Some`) or of all (`None`), found
    /// when that limit was reached: a fact ranked above it is let go without
    /// looking through the facts again. Emptied when a fact is let go for
    /// another.
    highest: Vec<(Option<FactKind>, u64)>,
}

/// Aggregates facts from events. One per worker; merge with [`Observer::merge`].
#[derive(Default)]
pub struct Observer {
    limits: ObserverLimits,
    /// Reused buffer for fact values built per flow (no allocation when the fact is known).
    scratch: String,
    endpoints: hashbrown::HashMap<EndpointKey, EndpointFacts, RandomState>,
    /// Observations made (by [`Observer::add`], here or in observers merged in).
    observed: u64,
    /// Every endpoint by [`endpoint_rank`], once the endpoint limit was reached.
    ranked: Option<std::collections::BTreeSet<(u64, EndpointKey)>>,
    /// Flows whose DICOM association accepted only the Verification SOP
    /// class (C-ECHO): their P-DATA carries no patient data. Bounded.
    echo_flows: hashbrown::HashSet<u64, RandomState>,
    /// Flows whose DICOM association accepted a storage SOP class and has not
    /// yet carried P-DATA (the C-STORE that makes a transfer fact). Bounded.
    store_flows: hashbrown::HashSet<u64, RandomState>,
    /// The flow of the observation being added (0: none): [`Observer::add`]
    /// keeps the evidence of a fact's earliest observation, by time and then
    /// by flow id, so that it does not depend on the order observations came
    /// in, nor on how flows were shared out among workers.
    flow: u64,
}

/// The Verification SOP class (C-ECHO), PS3.4 Annex A.
const VERIFICATION_SOP: &str = "1.2.840.10008.1.1";

/// WS-Discovery types that give the announcing device a role:
/// `(namespace, local name, role)` (DPWS 1.1, IEEE 11073-20702).
const WSD_ROLES: &[(&str, &str, &str)] = &[
    (
        "http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01",
        "Device",
        "dpws-device",
    ),
    (
        "http://standards.ieee.org/downloads/11073/11073-20702-2016",
        "MedicalDevice",
        "sdc-provider",
    ),
];

/// Roles of the client that probes for the type of the same table row.
const WSD_CLIENT_ROLES: &[(&str, &str)] = &[("sdc-provider", "sdc-consumer")];

/// Most flows remembered as verification-only at once.
const MAX_ECHO_FLOWS: usize = 4096;

fn usable_mac(mac: Option<MacAddr>) -> Option<MacAddr> {
    mac.filter(|m| !m.is_zero() && !m.is_multicast())
}

fn key_of(ep: &Endpoint) -> EndpointKey {
    EndpointKey {
        mac: usable_mac(ep.mac),
        ip: Some(ep.ip),
    }
}

/// Appends `n` in decimal (what `Display` writes), without the formatting machinery.
fn push_u64(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

fn flow_evidence(f: &FlowInfo) -> String {
    let mut s = String::with_capacity(64);
    s.push_str("flow ");
    push_u64(&mut s, f.id);
    s.push(' ');
    for (i, e) in [&f.client, &f.server].into_iter().enumerate() {
        if i == 1 {
            s.push_str(" -> ");
        }
        let v6 = e.ip.is_ipv6();
        if v6 {
            s.push('[');
        }
        model::addr::push_ip(&mut s, &e.ip);
        if v6 {
            s.push(']');
        }
        s.push(':');
        push_u64(&mut s, e.port.into());
    }
    s.push('/');
    s.push_str(f.transport.as_str());
    s
}

/// Which endpoints of a flow sent / received a message travelling in `dir`.
fn sender_receiver(f: &FlowInfo, dir: Option<Direction>) -> (EndpointKey, EndpointKey) {
    match dir.unwrap_or(Direction::ToServer) {
        Direction::ToServer => (key_of(&f.client), key_of(&f.server)),
        Direction::ToClient => (key_of(&f.server), key_of(&f.client)),
    }
}

fn pw(p: PasswordClass) -> &'static str {
    match p {
        PasswordClass::None => "none",
        PasswordClass::Empty => "empty",
        PasswordClass::Default => "default",
        PasswordClass::Other => "other",
    }
}

impl Observer {
    /// Creates an observer with the given limits.
    pub fn new(limits: ObserverLimits) -> Self {
        Observer {
            limits,
            scratch: String::new(),
            endpoints: Default::default(),
            observed: 0,
            ranked: None,
            echo_flows: Default::default(),
            store_flows: Default::default(),
            flow: 0,
        }
    }

    fn echo_only(&mut self, flow: u64, yes: bool) {
        if !yes {
            self.echo_flows.remove(&flow);
            return;
        }
        if self.echo_flows.len() >= MAX_ECHO_FLOWS {
            // Forgetting errs towards reporting patient data, never hiding it.
            self.echo_flows.clear();
        }
        self.echo_flows.insert(flow);
    }

    /// Observations not kept because a limit was reached: those made less
    /// those counted in the facts kept. It depends only on what was observed,
    /// not on how observations were shared out among observers merged here.
    pub fn dropped(&self) -> u64 {
        let kept: u64 = self
            .endpoints
            .values()
            .flat_map(|e| e.facts.values())
            .map(|s| s.count)
            .sum();
        self.observed.saturating_sub(kept)
    }

    /// Makes room for new endpoint `ep`: true if it may be added. Past the
    /// endpoint limit the endpoints of lowest [`endpoint_rank`] are kept (as
    /// facts are by [`fact_rank`]): `ep` takes the place of the kept one of
    /// highest rank, with its facts, if its rank is lower.
    fn admit(&mut self, ep: EndpointKey) -> bool {
        let rank = endpoint_rank(&ep);
        if self.endpoints.len() < self.limits.max_endpoints {
            if let Some(r) = &mut self.ranked {
                r.insert((rank, ep));
            }
            return true;
        }
        let endpoints = &self.endpoints;
        let ranked = self
            .ranked
            .get_or_insert_with(|| endpoints.keys().map(|k| (endpoint_rank(k), *k)).collect());
        match ranked.last() {
            Some(&highest) if (rank, ep) < highest => {
                ranked.pop_last();
                ranked.insert((rank, ep));
                self.endpoints.remove(&highest.1);
                true
            }
            _ => false,
        }
    }

    /// Endpoints tracked.
    pub fn endpoints(&self) -> usize {
        self.endpoints.len()
    }

    /// Adds one fact, seen at `ts`. A fact seen before keeps the evidence
    /// and source of its earliest observation (by time, then by flow id).
    /// Past a limit of facts per kind or per endpoint, the facts of lowest
    /// [`fact_rank`] are kept, and every fact let go is counted in
    /// [`Observer::dropped`].
    pub fn add(
        &mut self,
        ep: EndpointKey,
        kind: FactKind,
        value: &str,
        source: &'static str,
        ts: Timestamp,
        evidence: &dyn Fn() -> String,
    ) {
        if value.is_empty() || (ep.mac.is_none() && ep.ip.is_none()) {
            return;
        }
        self.observed += 1;
        self.keep(ep, kind, value, source, ts, evidence);
    }

    /// [`Observer::add`] without counting an observation (a merge adds
    /// observations counted where they were made).
    fn keep(
        &mut self,
        ep: EndpointKey,
        kind: FactKind,
        value: &str,
        source: &'static str,
        ts: Timestamp,
        evidence: &dyn Fn() -> String,
    ) {
        let limits = self.limits;
        let entry = match self.endpoints.get_mut(&ep) {
            Some(e) => e,
            None => {
                if !self.admit(ep) {
                    return;
                }
                self.endpoints.entry(ep).or_default()
            }
        };
        // Lookup without allocating the key when the fact is known (the common case).
        if let Some(stat) = entry.facts.get_mut(&Query(kind, value)) {
            if (ts, self.flow) < (stat.first, stat.flow) {
                stat.evidence = evidence();
                stat.source = source;
                stat.flow = self.flow;
            }
            bump(stat, ts);
            return;
        }
        // Check the limits before allocating anything for the new fact.
        let Some(per_kind) = entry.per_kind.get_mut(kind as usize) else {
            // Unreachable while `FactKind::ALL` lists every kind in order (tested).
            return;
        };
        let kind_full = *per_kind as usize >= limits.max_per_kind;
        let rank = fact_rank(kind, value);
        if kind_full || entry.facts.len() >= limits.max_facts_per_endpoint {
            // Full: the fact takes the place of the kept one of highest rank
            // (of its own kind when that kind is full), if its rank is lower.
            let scope = kind_full.then_some(kind);
            if let Some(&(_, hi)) = entry.highest.iter().find(|h| h.0 == scope) {
                if rank > hi {
                    return;
                }
            }
            let highest = entry
                .facts
                .iter()
                .filter(|((k, _), _)| !kind_full || *k == kind)
                .max_by(|a, b| (a.1.rank, &a.0).cmp(&(b.1.rank, &b.0)));
            match highest {
                Some((key, st)) if (rank, &(kind, value)) < (st.rank, &(key.0, key.1.as_str())) => {
                    let key = key.clone();
                    entry.facts.remove(&key);
                    if let Some(n) = entry.per_kind.get_mut(key.0 as usize) {
                        *n = n.saturating_sub(1);
                    }
                    entry.highest.clear();
                }
                Some((_, st)) => {
                    let hi = st.rank;
                    entry.highest.retain(|h| h.0 != scope);
                    entry.highest.push((scope, hi));
                    return;
                }
                None => return,
            }
        }
        if let Some(n) = entry.per_kind.get_mut(kind as usize) {
            *n += 1;
        }
        entry.facts.insert(
            (kind, value.to_string()),
            Stat {
                source,
                first: ts,
                last: ts,
                count: 1,
                flow: self.flow,
                rank,
                evidence: evidence(),
            },
        );
    }

    /// Extracts facts from one event.
    pub fn observe(&mut self, ev: &Event) {
        let ts = ev.ts;
        let flow = ev.flow.as_ref();
        self.flow = flow.map_or(0, |f| f.id);
        // One record may add several new facts with the same evidence: format it once.
        let ev_text = std::cell::OnceCell::new();
        let ev_flow = || {
            ev_text
                .get_or_init(|| flow.map(flow_evidence).unwrap_or_default())
                .clone()
        };
        match &ev.record {
            Record::Conn(c) => {
                let Some(f) = flow else { return };
                let (client, server) = (key_of(&f.client), key_of(&f.server));
                let service = c.service.first().map(|s| s.as_ref()).unwrap_or("");
                let port = f.server.port;
                let mut scratch = std::mem::take(&mut self.scratch);
                // Ephemeral-port flows without a recognised protocol say little
                // about the server (32768: the lowest common ephemeral range start).
                if c.established && (!service.is_empty() || port < 32768) {
                    scratch.clear();
                    scratch.push_str(if service.is_empty() {
                        "unknown"
                    } else {
                        service
                    });
                    scratch.push('/');
                    scratch.push_str(f.transport.as_str());
                    scratch.push('/');
                    push_u64(&mut scratch, port.into());
                    self.add(
                        server,
                        FactKind::ServiceOffered,
                        &scratch,
                        "conn",
                        c.start,
                        &ev_flow,
                    );
                    self.add(
                        client,
                        FactKind::ServiceUsed,
                        &scratch,
                        "conn",
                        c.start,
                        &ev_flow,
                    );
                }
                if c.established {
                    if let Some(ch) = crate::transfer::channel_for(service, f.transport, port) {
                        let (source, dest, sent) = match ch.source_side {
                            crate::transfer::Side::Client => (client, &f.server.ip, c.orig_bytes),
                            crate::transfer::Side::Server => (server, &f.client.ip, c.resp_bytes),
                        };
                        if sent >= ch.min_bytes.max(1) {
                            crate::transfer::write_value(
                                &mut scratch,
                                ch.name,
                                dest,
                                port,
                                f.transport,
                            );
                            self.add(
                                source,
                                FactKind::Transfer,
                                &scratch,
                                "conn",
                                c.start,
                                &ev_flow,
                            );
                        }
                    }
                }
                if c.established || c.orig_bytes > 0 {
                    scratch.clear();
                    model::addr::push_ip(&mut scratch, &f.server.ip);
                    self.add(client, FactKind::Peer, &scratch, "conn", c.start, &ev_flow);
                }
                // Only a server that sent something is known to exist (a
                // resolver address that was asked and never answered is not a host).
                if c.established || c.resp_pkts > 0 {
                    scratch.clear();
                    model::addr::push_ip(&mut scratch, &f.client.ip);
                    self.add(server, FactKind::Peer, &scratch, "conn", c.start, &ev_flow);
                }
                self.scratch = scratch;
            }
            Record::Hl7(h) => {
                let Some(f) = flow else { return };
                let (sender, receiver) = sender_receiver(f, h.direction);
                // An acknowledgement travels back to the sender of the message
                // it acknowledges: it makes neither end a sender or receiver.
                let ack = h
                    .message_type
                    .as_deref()
                    .is_some_and(|t| t.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("ACK")));
                if !ack {
                    self.add(sender, FactKind::Role, "hl7-sender", "hl7", ts, &ev_flow);
                    self.add(
                        receiver,
                        FactKind::Role,
                        "hl7-receiver",
                        "hl7",
                        ts,
                        &ev_flow,
                    );
                }
                let app =
                    |a: &Option<String>, fac: &Option<String>| match (a.as_deref(), fac.as_deref())
                    {
                        (None, None) => String::new(),
                        (a, f) => format!("{}^{}", a.unwrap_or(""), f.unwrap_or("")),
                    };
                let (s, r) = (
                    app(&h.sending_application, &h.sending_facility),
                    app(&h.receiving_application, &h.receiving_facility),
                );
                self.add(sender, FactKind::Hl7Application, &s, "hl7", ts, &ev_flow);
                self.add(receiver, FactKind::Hl7Application, &r, "hl7", ts, &ev_flow);
                if let Some(t) = &h.message_type {
                    self.add(sender, FactKind::Hl7MessageType, t, "hl7", ts, &ev_flow);
                    if let Some(ch) = crate::transfer::hl7_channel(t) {
                        let to = if receiver == key_of(&f.server) {
                            &f.server
                        } else {
                            &f.client
                        };
                        let mut v = String::new();
                        crate::transfer::write_value(&mut v, &ch, &to.ip, to.port, f.transport);
                        self.add(sender, FactKind::Transfer, &v, "hl7", ts, &ev_flow);
                    }
                }
                if h.carries_phi {
                    self.add(sender, FactKind::CleartextPhi, "hl7", "hl7", ts, &ev_flow);
                    self.add(receiver, FactKind::CleartextPhi, "hl7", "hl7", ts, &ev_flow);
                }
            }
            Record::Astm(a) => {
                let Some(f) = flow else { return };
                let (sender, receiver) = sender_receiver(f, a.direction);
                // Results (R) and host queries (Q) come from the instrument;
                // orders without results go from the LIS to the instrument.
                let c = &a.counts;
                let from_instrument = c.result > 0 || c.query > 0;
                let (instrument, host) = match (from_instrument, c.order > 0) {
                    (true, _) => (Some(sender), Some(receiver)),
                    (false, true) => (Some(receiver), Some(sender)),
                    (false, false) => (None, None),
                };
                if let (Some(i), Some(h)) = (instrument, host) {
                    self.add(i, FactKind::Role, "astm-instrument", "astm", ts, &ev_flow);
                    self.add(h, FactKind::Role, "astm-host", "astm", ts, &ev_flow);
                }
                if let Some(name) = &a.sender_name {
                    let mut v = format!("astm sender={name}");
                    for (k, x) in [("version", &a.sender_version), ("serial", &a.sender_serial)] {
                        if let Some(x) = x {
                            v.push_str(&format!(" {k}={x}"));
                        }
                    }
                    self.add(sender, FactKind::Application, &v, "astm", ts, &ev_flow);
                    // The instrument names itself: model, software, serial.
                    if from_instrument {
                        self.add(sender, FactKind::Model, name, "astm", ts, &ev_flow);
                        if let Some(x) = &a.sender_version {
                            self.add(sender, FactKind::Firmware, x, "astm", ts, &ev_flow);
                        }
                        if let Some(x) = &a.sender_serial {
                            self.add(sender, FactKind::Serial, x, "astm", ts, &ev_flow);
                        }
                    }
                }
                if let Some(r) = &a.receiver_id {
                    let v = format!("astm receiver={r}");
                    self.add(receiver, FactKind::Application, &v, "astm", ts, &ev_flow);
                }
                if a.carries_phi {
                    self.add(sender, FactKind::CleartextPhi, "astm", "astm", ts, &ev_flow);
                    self.add(
                        receiver,
                        FactKind::CleartextPhi,
                        "astm",
                        "astm",
                        ts,
                        &ev_flow,
                    );
                }
            }
            Record::Poct1a(p) => {
                let Some(f) = flow else { return };
                let (sender, receiver) = sender_receiver(f, p.direction);
                // Hello, status and observations come from the device; the
                // data manager answers (ACK, REQ, END).
                let prefix = p.message_type.get(..4).unwrap_or("");
                if matches!(prefix, "HEL." | "DST." | "OBS.") {
                    self.add(
                        sender,
                        FactKind::Role,
                        "poct-device",
                        "poct1a",
                        ts,
                        &ev_flow,
                    );
                    self.add(
                        receiver,
                        FactKind::Role,
                        "poct-data-manager",
                        "poct1a",
                        ts,
                        &ev_flow,
                    );
                }
                if let Some(d) = &p.device {
                    let mut v = String::from("poct1a");
                    for (k, x) in [
                        ("device", &d.device_id),
                        ("vendor", &d.vendor_id),
                        ("manufacturer", &d.manufacturer_name),
                        ("model", &d.model_id),
                        ("serial", &d.serial_id),
                        ("sw", &d.sw_version),
                        ("hw", &d.hw_version),
                        ("name", &d.device_name),
                    ] {
                        if let Some(x) = x {
                            v.push_str(&format!(" {k}={x}"));
                        }
                    }
                    self.add(sender, FactKind::Application, &v, "poct1a", ts, &ev_flow);
                    let maker = d.manufacturer_name.as_ref().or(d.vendor_id.as_ref());
                    for (kind, x) in [
                        (FactKind::Manufacturer, maker),
                        (FactKind::Model, d.model_id.as_ref()),
                        (FactKind::Firmware, d.sw_version.as_ref()),
                        (FactKind::Serial, d.serial_id.as_ref()),
                    ] {
                        if let Some(x) = x {
                            self.add(sender, kind, x, "poct1a", ts, &ev_flow);
                        }
                    }
                }
                if p.carries_phi {
                    for ep in [sender, receiver] {
                        self.add(ep, FactKind::CleartextPhi, "poct1a", "poct1a", ts, &ev_flow);
                    }
                }
            }
            Record::Dicom(d) => {
                let Some(f) = flow else { return };
                let (scu, scp) = (key_of(&f.client), key_of(&f.server));
                let imp = |d: &model::records::DicomRecord| match (
                    &d.implementation_version,
                    &d.implementation_class_uid,
                ) {
                    (Some(v), Some(u)) => format!(" impl={v} ({u})"),
                    (Some(v), None) => format!(" impl={v}"),
                    (None, Some(u)) => format!(" impl={u}"),
                    (None, None) => String::new(),
                };
                match d.pdu {
                    DicomPdu::AssociateRq => {
                        self.add(scu, FactKind::Role, "dicom-scu", "dicom", ts, &ev_flow);
                        self.add(scp, FactKind::Role, "dicom-scp", "dicom", ts, &ev_flow);
                        if let Some(ae) = &d.calling_ae {
                            self.add(scu, FactKind::AeTitle, ae, "dicom", ts, &ev_flow);
                            self.add(
                                scu,
                                FactKind::Application,
                                &format!("dicom-scu AE={ae}{}", imp(d)),
                                "dicom",
                                ts,
                                &ev_flow,
                            );
                        }
                        // The called AE title is the SCP's only once it accepts it (A-ASSOCIATE-AC).
                        for sop in &d.abstract_syntaxes {
                            self.add(scu, FactKind::SopClass, sop, "dicom", ts, &ev_flow);
                        }
                        if let Some(v) = &d.implementation_version {
                            self.add(scu, FactKind::Software, v, "dicom", ts, &ev_flow);
                        }
                    }
                    DicomPdu::AssociateAc => {
                        // Only the Verification SOP class accepted: a C-ECHO, no patient data.
                        if !d.abstract_syntaxes.is_empty()
                            && d.abstract_syntaxes.iter().all(|s| s == VERIFICATION_SOP)
                        {
                            self.echo_only(f.id, true);
                        } else {
                            self.echo_only(f.id, false);
                        }
                        if d.abstract_syntaxes
                            .iter()
                            .any(|s| crate::transfer::is_storage_sop(s))
                        {
                            if self.store_flows.len() >= MAX_ECHO_FLOWS {
                                // Forgetting loses a transfer fact, never invents one.
                                self.store_flows.clear();
                            }
                            self.store_flows.insert(f.id);
                        }
                        if let Some(ae) = &d.called_ae {
                            self.add(scp, FactKind::AeTitle, ae, "dicom", ts, &ev_flow);
                            self.add(
                                scp,
                                FactKind::Application,
                                &format!("dicom-scp AE={ae} port={}{}", f.server.port, imp(d)),
                                "dicom",
                                ts,
                                &ev_flow,
                            );
                        }
                        for sop in &d.abstract_syntaxes {
                            self.add(scp, FactKind::SopClass, sop, "dicom", ts, &ev_flow);
                        }
                        if let Some(v) = &d.implementation_version {
                            self.add(scp, FactKind::Software, v, "dicom", ts, &ev_flow);
                        }
                    }
                    DicomPdu::AssociateRj => {
                        // The called AE title was refused: it is not this SCP's.
                        self.add(
                            scp,
                            FactKind::Application,
                            &format!(
                                "dicom-scp port={} (rejects associations{})",
                                f.server.port,
                                d.reject_reason
                                    .as_deref()
                                    .map(|r| format!(", reason {r}"))
                                    .unwrap_or_default()
                            ),
                            "dicom",
                            ts,
                            &ev_flow,
                        );
                    }
                    _ => {}
                }
                if d.pdata_bytes > 0 && !self.echo_flows.contains(&f.id) {
                    self.add(scu, FactKind::CleartextPhi, "dicom", "dicom", ts, &ev_flow);
                    self.add(scp, FactKind::CleartextPhi, "dicom", "dicom", ts, &ev_flow);
                }
                if d.pdata_bytes > 0 && self.store_flows.remove(&f.id) {
                    // The storage association carried data: a C-STORE from the SCU.
                    let mut v = String::new();
                    crate::transfer::write_value(
                        &mut v,
                        crate::transfer::DICOM_STORE,
                        &f.server.ip,
                        f.server.port,
                        f.transport,
                    );
                    self.add(scu, FactKind::Transfer, &v, "dicom", ts, &ev_flow);
                }
                if matches!(d.pdu, DicomPdu::ReleaseRp | DicomPdu::Abort) {
                    self.echo_flows.remove(&f.id);
                    self.store_flows.remove(&f.id);
                }
            }
            Record::Dhcp(d) => {
                let Some(mac) = usable_mac(d.client_mac) else {
                    return;
                };
                let ep = EndpointKey {
                    mac: Some(mac),
                    ip: None,
                };
                let ev_dhcp = || format!("dhcp {} xid={:08x} from {}", d.msg_type, d.xid, mac);
                let from_client = matches!(
                    d.msg_type.as_str(),
                    "DISCOVER" | "REQUEST" | "INFORM" | "RELEASE" | "DECLINE"
                );
                if from_client {
                    self.add(ep, FactKind::Role, "dhcp-client", "dhcp", ts, &ev_dhcp);
                    for (kind, v) in [
                        (FactKind::Hostname, &d.hostname),
                        (FactKind::Hostname, &d.client_fqdn),
                        (FactKind::DhcpVendorClass, &d.vendor_class),
                        (FactKind::DhcpFingerprint, &d.param_request_list),
                        (FactKind::MudUrl, &d.mud_url),
                    ] {
                        if let Some(v) = v {
                            self.add(ep, kind, v, "dhcp", ts, &ev_dhcp);
                        }
                    }
                    if let Some(ip) = d.client_addr.or(d.requested_addr) {
                        self.add(ep, FactKind::Ip, &ip.to_string(), "dhcp", ts, &ev_dhcp);
                    }
                } else if d.msg_type == "ACK" {
                    if let Some(ip) = d.assigned_addr {
                        self.add(ep, FactKind::Ip, &ip.to_string(), "dhcp", ts, &ev_dhcp);
                    }
                }
                if let Some(f) = flow {
                    if !from_client {
                        let server = if f.server.port == 67 {
                            &f.server
                        } else {
                            &f.client
                        };
                        self.add(
                            key_of(server),
                            FactKind::Role,
                            "dhcp-server",
                            "dhcp",
                            ts,
                            &ev_flow,
                        );
                    }
                }
            }
            Record::Dns(d) => {
                let Some(f) = flow else { return };
                if d.flavor == "mdns" || d.flavor == "llmnr" {
                    // The responder announces its own names and services.
                    if !d.is_response {
                        return;
                    }
                    let responder = if f.server.port == 5353 && f.client.port == 5353 {
                        key_of(&f.client)
                    } else {
                        key_of(&f.server)
                    };
                    let responder_ip = responder.ip.map(|i| i.to_string()).unwrap_or_default();
                    // DNS-SD puts the SRV/TXT/A records in the additional section.
                    for a in d.answers.iter().chain(&d.additional) {
                        match a.rtype.as_str() {
                            "A" | "AAAA" if a.data == responder_ip => {
                                let name = a.name.trim_end_matches('.').trim_end_matches(".local");
                                self.add(responder, FactKind::Hostname, name, "mdns", ts, &ev_flow);
                            }
                            "PTR" if a.name.starts_with('_') => {
                                let svc = a.name.trim_end_matches('.').trim_end_matches(".local");
                                self.add(
                                    responder,
                                    FactKind::MdnsService,
                                    svc,
                                    "mdns",
                                    ts,
                                    &ev_flow,
                                );
                            }
                            "TXT" => {
                                for kv in txt_strings(&a.data) {
                                    let (k, v) = kv.split_once('=').unwrap_or(("", ""));
                                    match k.to_ascii_lowercase().as_str() {
                                        "md" | "model" | "ty" | "product" | "usb_mdl" => self.add(
                                            responder,
                                            FactKind::Model,
                                            v.trim_matches(['(', ')']),
                                            "mdns",
                                            ts,
                                            &ev_flow,
                                        ),
                                        "mf" | "manufacturer" | "usb_mfg" => self.add(
                                            responder,
                                            FactKind::Manufacturer,
                                            v,
                                            "mdns",
                                            ts,
                                            &ev_flow,
                                        ),
                                        "fv" | "fw" | "firmware" | "fwvers" | "srcvers" => self
                                            .add(
                                                responder,
                                                FactKind::Firmware,
                                                v,
                                                "mdns",
                                                ts,
                                                &ev_flow,
                                            ),
                                        _ => {}
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                } else if !d.is_response {
                    if let Some(q) = &d.query {
                        self.add(
                            key_of(&f.client),
                            FactKind::DnsQuery,
                            q,
                            "dns",
                            ts,
                            &ev_flow,
                        );
                    }
                } else {
                    // Only an answer shows the server is one (queries to an
                    // address that never answers name no host).
                    self.add(
                        key_of(&f.server),
                        FactKind::Role,
                        "dns-server",
                        "dns",
                        ts,
                        &ev_flow,
                    );
                }
            }
            Record::Ble(b) => crate::ble::observe(self, b, ts),
            Record::Neighbor(n) => {
                let ep = EndpointKey {
                    mac: usable_mac(Some(n.src_mac)),
                    ip: None,
                };
                if ep.mac.is_none() {
                    return;
                }
                let proto = match n.protocol {
                    NeighborProtocol::Lldp => "lldp",
                    NeighborProtocol::Cdp => "cdp",
                };
                let ev_n = || format!("{proto} frame from {}", n.src_mac);
                for (kind, v) in [
                    (FactKind::Hostname, &n.system_name),
                    (FactKind::Software, &n.system_description),
                    (FactKind::Model, &n.platform),
                    (FactKind::Manufacturer, &n.manufacturer),
                    (FactKind::Firmware, &n.firmware),
                    (FactKind::Software, &n.software),
                    (FactKind::Serial, &n.serial),
                    (FactKind::MudUrl, &n.mud_url),
                ] {
                    if let Some(v) = v {
                        self.add(ep, kind, v, proto, ts, &ev_n);
                    }
                }
                for c in &n.capabilities {
                    self.add(ep, FactKind::Capability, c, proto, ts, &ev_n);
                }
                for a in &n.mgmt_addrs {
                    if a.parse::<IpAddr>().is_ok() {
                        self.add(ep, FactKind::Ip, a, proto, ts, &ev_n);
                    }
                }
            }
            Record::Http(h) => {
                let Some(f) = flow else { return };
                let (client, server) = (key_of(&f.client), key_of(&f.server));
                if let Some(ua) = &h.user_agent {
                    self.add(client, FactKind::Software, ua, "http", ts, &ev_flow);
                }
                if let Some(host) = &h.host {
                    // The name only (the record keeps the port apart): the
                    // service it uses, as DNS and SNI say.
                    self.add(client, FactKind::HttpHost, host, "http", ts, &ev_flow);
                }
                if let Some(s) = &h.server {
                    self.add(server, FactKind::Software, s, "http", ts, &ev_flow);
                }
                self.add(server, FactKind::Role, "http-server", "http", ts, &ev_flow);
                if let Some(u) = &h.basic_auth_user {
                    let cls = pw(h.basic_auth_password.unwrap_or(PasswordClass::None));
                    let v = format!("http-basic user={u} password={cls}");
                    self.add(
                        server,
                        FactKind::CleartextCredential,
                        &v,
                        "http",
                        ts,
                        &ev_flow,
                    );
                    self.add(
                        client,
                        FactKind::CleartextCredential,
                        &v,
                        "http",
                        ts,
                        &ev_flow,
                    );
                }
            }
            Record::Tls(t) => {
                let Some(f) = flow else { return };
                let (client, server) = (key_of(&f.client), key_of(&f.server));
                if let Some(sni) = &t.server_name {
                    self.add(client, FactKind::TlsServerName, sni, "tls", ts, &ev_flow);
                    self.add(server, FactKind::TlsServerName, sni, "tls", ts, &ev_flow);
                }
                if t.ja3.is_some() || t.ja4.is_some() {
                    let v = format!(
                        "ja3={} ja4={}",
                        t.ja3.as_deref().unwrap_or("-"),
                        t.ja4.as_deref().unwrap_or("-")
                    );
                    self.add(client, FactKind::TlsFingerprint, &v, "tls", ts, &ev_flow);
                }
                if t.version.is_some() || t.cipher.is_some() {
                    let v = format!(
                        "{} {} port={}",
                        t.version.as_deref().unwrap_or("-"),
                        t.cipher.as_deref().unwrap_or("-"),
                        f.server.port
                    );
                    self.add(server, FactKind::TlsServerParams, &v, "tls", ts, &ev_flow);
                }
                if let Some(subj) = &t.cert_subject {
                    let v = format!(
                        "subject={subj} | issuer={} | not_after={}{}",
                        t.cert_issuer.as_deref().unwrap_or("-"),
                        t.cert_not_after
                            .map(|x| x.to_string())
                            .unwrap_or_else(|| "-".into()),
                        if t.cert_self_signed == Some(true) {
                            " | self-signed"
                        } else {
                            ""
                        }
                    );
                    self.add(server, FactKind::TlsCertificate, &v, "tls", ts, &ev_flow);
                }
            }
            Record::Ssh(s) => {
                let Some(f) = flow else { return };
                if let Some(c) = &s.client {
                    self.add(
                        key_of(&f.client),
                        FactKind::Software,
                        c,
                        "ssh",
                        ts,
                        &ev_flow,
                    );
                }
                if let Some(v) = &s.server {
                    self.add(
                        key_of(&f.server),
                        FactKind::Software,
                        v,
                        "ssh",
                        ts,
                        &ev_flow,
                    );
                }
            }
            Record::Smb(s) => {
                let Some(f) = flow else { return };
                let (client, server) = (key_of(&f.client), key_of(&f.server));
                if s.smb1 {
                    self.add(server, FactKind::Smb1, "smb1", "smb", ts, &ev_flow);
                    self.add(client, FactKind::Smb1, "smb1", "smb", ts, &ev_flow);
                }
                if let Some(os) = &s.native_os {
                    self.add(client, FactKind::Os, os, "smb", ts, &ev_flow);
                }
                if let Some(v) = &s.server_os_version {
                    self.add(
                        server,
                        FactKind::Os,
                        &format!("Windows NT {v}"),
                        "smb",
                        ts,
                        &ev_flow,
                    );
                }
                for (ep, name) in [
                    (server, &s.server_nb_name),
                    (server, &s.server_dns_name),
                    (client, &s.ntlm_host),
                ] {
                    if let Some(n) = name {
                        self.add(ep, FactKind::Hostname, n, "smb", ts, &ev_flow);
                    }
                }
            }
            Record::Snmp(s) => {
                let Some(f) = flow else { return };
                let agent = if f.server.port == 162 {
                    key_of(&f.client)
                } else {
                    key_of(&f.server)
                };
                if let Some(d) = &s.sys_descr {
                    self.add(agent, FactKind::Software, d, "snmp", ts, &ev_flow);
                }
                if let Some(n) = &s.sys_name {
                    self.add(agent, FactKind::Hostname, n, "snmp", ts, &ev_flow);
                }
                if let Some(o) = &s.sys_object_id {
                    self.add(
                        agent,
                        FactKind::Model,
                        &format!("sysObjectID {o}"),
                        "snmp",
                        ts,
                        &ev_flow,
                    );
                }
                if let Some(c) = &s.community {
                    let cls = match c.as_str() {
                        "public" | "private" => c.as_str(),
                        _ => "other",
                    };
                    let v = format!("snmp-v{} community={cls}", s.version);
                    self.add(
                        agent,
                        FactKind::CleartextCredential,
                        &v,
                        "snmp",
                        ts,
                        &ev_flow,
                    );
                }
            }
            Record::Login(l) => {
                let Some(f) = flow else { return };
                let proto = l.protocol.name();
                let v = format!(
                    "{proto} user={} password={}{}",
                    l.user.as_deref().unwrap_or("?"),
                    pw(l.password),
                    match l.success {
                        Some(true) => " accepted",
                        Some(false) => " refused",
                        None => "",
                    }
                );
                self.add(
                    key_of(&f.server),
                    FactKind::CleartextCredential,
                    &v,
                    proto,
                    ts,
                    &ev_flow,
                );
                self.add(
                    key_of(&f.client),
                    FactKind::CleartextCredential,
                    &v,
                    proto,
                    ts,
                    &ev_flow,
                );
                // An SMTP/IMAP/POP3 server's banner comes with its Mail record.
                let mail = matches!(
                    l.protocol,
                    LoginProtocol::Smtp | LoginProtocol::Imap | LoginProtocol::Pop3
                );
                if let Some(b) = l.banner.as_ref().filter(|_| !mail) {
                    self.add(
                        key_of(&f.server),
                        FactKind::Software,
                        b,
                        proto,
                        ts,
                        &ev_flow,
                    );
                }
            }
            Record::Mail(m) => {
                let Some(f) = flow else { return };
                let (client, server) = (key_of(&f.client), key_of(&f.server));
                let proto = m.protocol.name();
                let role = format!("{proto}-server");
                self.add(server, FactKind::Role, &role, proto, ts, &ev_flow);
                if let Some(b) = &m.banner {
                    self.add(server, FactKind::Software, b, proto, ts, &ev_flow);
                }
                // The name a device gives itself in EHLO (not an address
                // literal, not localhost): what it calls itself.
                if let Some(h) = m.helo.as_deref().filter(|h| {
                    !h.starts_with('[')
                        && h.parse::<std::net::IpAddr>().is_err()
                        && !h.eq_ignore_ascii_case("localhost")
                        && !h.eq_ignore_ascii_case("localhost.localdomain")
                }) {
                    self.add(client, FactKind::Hostname, h, proto, ts, &ev_flow);
                }
            }
            Record::Mqtt(m) => {
                let Some(f) = flow else { return };
                let (client, broker) = (key_of(&f.client), key_of(&f.server));
                self.add(client, FactKind::Role, "mqtt-client", "mqtt", ts, &ev_flow);
                self.add(broker, FactKind::Role, "mqtt-broker", "mqtt", ts, &ev_flow);
                if m.client_id.is_some() || m.username.is_some() {
                    let mut v = String::from("mqtt");
                    if let Some(id) = &m.client_id {
                        v.push_str(" client_id=");
                        v.push_str(id);
                    }
                    if let Some(u) = &m.username {
                        v.push_str(" user=");
                        v.push_str(u);
                    }
                    self.add(client, FactKind::Application, &v, "mqtt", ts, &ev_flow);
                }
                // Topic names say what a device reports (`ward3/bed7/spo2`):
                // a few, on the device that published or subscribed.
                for t in m.topics.iter().chain(&m.subscriptions).take(8) {
                    let v = format!("mqtt topic={t}");
                    self.add(client, FactKind::Application, &v, "mqtt", ts, &ev_flow);
                }
            }
            Record::Modbus(m) => {
                let Some(f) = flow else { return };
                let (client, server) = (key_of(&f.client), key_of(&f.server));
                self.add(
                    client,
                    FactKind::Role,
                    "modbus-client",
                    "modbus",
                    ts,
                    &ev_flow,
                );
                self.add(
                    server,
                    FactKind::Role,
                    "modbus-server",
                    "modbus",
                    ts,
                    &ev_flow,
                );
                // Read Device Identification: the server states who made it,
                // what it is and its firmware revision.
                if let Some(id) = &m.device_id {
                    if let Some(v) = &id.vendor_name {
                        self.add(server, FactKind::Manufacturer, v, "modbus", ts, &ev_flow);
                    }
                    let model = id.model_name.as_ref().or(id.product_name.as_ref());
                    if let Some(v) = model.or(id.product_code.as_ref()) {
                        self.add(server, FactKind::Model, v, "modbus", ts, &ev_flow);
                    }
                    if let Some(v) = &id.revision {
                        self.add(server, FactKind::Firmware, v, "modbus", ts, &ev_flow);
                    }
                    let mut v = String::from("modbus");
                    for (k, x) in [
                        ("vendor", &id.vendor_name),
                        ("product", &id.product_name),
                        ("model", &id.model_name),
                        ("code", &id.product_code),
                        ("revision", &id.revision),
                        ("url", &id.vendor_url),
                    ] {
                        if let Some(x) = x {
                            v.push_str(&format!(" {k}={x}"));
                        }
                    }
                    if v.len() > "modbus".len() {
                        self.add(server, FactKind::Application, &v, "modbus", ts, &ev_flow);
                    }
                }
            }
            Record::Bacnet(b) => {
                let Some(f) = flow else { return };
                let (from, to) = match b.direction {
                    model::Direction::ToServer => (key_of(&f.client), key_of(&f.server)),
                    model::Direction::ToClient => (key_of(&f.server), key_of(&f.client)),
                };
                // Confirmed requests come from a client (a BMS workstation);
                // I-Am and ACKs about a device object from the device.
                if b.apdu_type == Some(0) {
                    self.add(
                        from,
                        FactKind::Role,
                        "bacnet-client",
                        "bacnet",
                        ts,
                        &ev_flow,
                    );
                    self.add(to, FactKind::Role, "bacnet-device", "bacnet", ts, &ev_flow);
                }
                if let Some(i) = &b.i_am {
                    self.add(
                        from,
                        FactKind::Role,
                        "bacnet-device",
                        "bacnet",
                        ts,
                        &ev_flow,
                    );
                    let mut v = format!(
                        "bacnet device={} vendor_id={}",
                        i.device_instance, i.vendor_id
                    );
                    if let Some(name) = &i.vendor {
                        v.push_str(&format!(" vendor={name}"));
                    }
                    self.add(from, FactKind::Application, &v, "bacnet", ts, &ev_flow);
                    if let Some(name) = &i.vendor {
                        self.add(from, FactKind::Manufacturer, name, "bacnet", ts, &ev_flow);
                    }
                }
                if let (Some(d), Some((8, instance))) = (&b.device, b.object) {
                    self.add(
                        from,
                        FactKind::Role,
                        "bacnet-device",
                        "bacnet",
                        ts,
                        &ev_flow,
                    );
                    if let Some(v) = &d.vendor_name {
                        self.add(from, FactKind::Manufacturer, v, "bacnet", ts, &ev_flow);
                    }
                    if let Some(v) = &d.model_name {
                        self.add(from, FactKind::Model, v, "bacnet", ts, &ev_flow);
                    }
                    if let Some(v) = &d.firmware_revision {
                        self.add(from, FactKind::Firmware, v, "bacnet", ts, &ev_flow);
                    }
                    if let Some(v) = &d.application_software_version {
                        let v = format!("bacnet application-software-version={v}");
                        self.add(from, FactKind::Software, &v, "bacnet", ts, &ev_flow);
                    }
                    if let Some(v) = &d.object_name {
                        let v = format!("bacnet device={instance} name={v}");
                        self.add(from, FactKind::Application, &v, "bacnet", ts, &ev_flow);
                    }
                }
            }
            Record::Vnc(v) => {
                let Some(f) = flow else { return };
                let (client, server) = (key_of(&f.client), key_of(&f.server));
                self.add(client, FactKind::Role, "vnc-client", "vnc", ts, &ev_flow);
                self.add(server, FactKind::Role, "vnc-server", "vnc", ts, &ev_flow);
                if let Some(ver) = &v.server_version {
                    let mut s = format!("vnc rfb={ver}");
                    if let Some(t) = v.security_type {
                        s.push_str(&format!(" security={t}"));
                    }
                    if let (Some(w), Some(h)) = (v.width, v.height) {
                        s.push_str(&format!(" {w}x{h}"));
                    }
                    if let Some(n) = &v.desktop_name {
                        s.push_str(&format!(" desktop={n}"));
                    }
                    self.add(server, FactKind::Application, &s, "vnc", ts, &ev_flow);
                }
                // Security type None accepted: remote control of the screen
                // without any authentication (a risk finding).
                if v.no_auth {
                    self.add(server, FactKind::Role, "vnc-no-auth", "vnc", ts, &ev_flow);
                }
            }
            Record::RemoteSupport(r) => {
                let Some(f) = flow else { return };
                let product = r.product.as_str();
                // The client runs the tool; the server does too unless it is
                // the vendor's public infrastructure (a LAN peer taking a
                // direct connection runs it as well).
                let mut ends = vec![&f.client];
                if !model::addr::is_public(&f.server.ip) {
                    ends.push(&f.server);
                }
                let role = format!("remote-support-{}", product.to_ascii_lowercase());
                for ep in ends {
                    let k = key_of(ep);
                    self.add(
                        k,
                        FactKind::Software,
                        product,
                        "remote_support",
                        ts,
                        &ev_flow,
                    );
                    self.add(k, FactKind::Role, &role, "remote_support", ts, &ev_flow);
                }
            }
            Record::Rdp(r) => {
                let Some(f) = flow else { return };
                let (client, server) = (key_of(&f.client), key_of(&f.server));
                self.add(client, FactKind::Role, "rdp-client", "rdp", ts, &ev_flow);
                if !r.confirmed {
                    return;
                }
                self.add(server, FactKind::Role, "rdp-server", "rdp", ts, &ev_flow);
                let name = |p: u32| match p {
                    0 => "rdp",
                    1 => "tls",
                    2 => "credssp",
                    4 => "rdstls",
                    8 => "credssp-eua",
                    16 => "rdsaad",
                    _ => "other",
                };
                let v = match (r.selected_protocol, r.failure_code) {
                    (_, Some(code)) => format!("rdp negotiation failure={code}"),
                    (Some(p), None) => format!("rdp security={}", name(p)),
                    (None, None) => "rdp security=rdp".to_string(),
                };
                self.add(server, FactKind::Application, &v, "rdp", ts, &ev_flow);
                // Standard RDP security: RC4, no server authentication.
                if r.standard_security {
                    self.add(
                        server,
                        FactKind::Role,
                        "rdp-standard-security",
                        "rdp",
                        ts,
                        &ev_flow,
                    );
                }
            }
            Record::Sip(s) => {
                let Some(f) = flow else { return };
                let (sender, receiver) = sender_receiver(f, s.direction);
                // Product strings are the sender's own only when the message
                // comes straight from the agent that made it (one Via): a
                // proxy forwards requests with the phone's User-Agent.
                let own = s.vias <= 1;
                if s.method.as_deref() == Some("REGISTER") {
                    self.add(sender, FactKind::Role, "sip-ua", "sip", ts, &ev_flow);
                    self.add(
                        receiver,
                        FactKind::Role,
                        "sip-registrar",
                        "sip",
                        ts,
                        &ev_flow,
                    );
                    if let Some(h) = &s.request_uri_host {
                        let v = format!("sip registrar domain={h}");
                        self.add(receiver, FactKind::Application, &v, "sip", ts, &ev_flow);
                    }
                }
                if s.method.is_some() && own {
                    if let Some(ua) = &s.user_agent {
                        self.add(sender, FactKind::Software, ua, "sip", ts, &ev_flow);
                        self.add(sender, FactKind::Role, "sip-ua", "sip", ts, &ev_flow);
                        if let Some(v) = &s.product_vendor {
                            self.add(sender, FactKind::Manufacturer, v, "sip", ts, &ev_flow);
                            if let Some(m) = &s.product_model {
                                self.add(sender, FactKind::Model, m, "sip", ts, &ev_flow);
                            }
                            if let Some(x) = &s.product_version {
                                self.add(sender, FactKind::Firmware, x, "sip", ts, &ev_flow);
                            }
                        }
                    }
                }
                // A registrar's answers to REGISTER and OPTIONS are its own.
                let answered = matches!(s.cseq_method.as_deref(), Some("REGISTER" | "OPTIONS"));
                if s.status_code.is_some() && own && answered {
                    if let Some(sv) = &s.server {
                        self.add(sender, FactKind::Software, sv, "sip", ts, &ev_flow);
                    }
                }
            }
            Record::Ssdp(d) => {
                let Some(f) = flow else { return };
                let (sender, _) = sender_receiver(f, d.direction);
                if d.method.as_deref() == Some("M-SEARCH") {
                    self.add(
                        sender,
                        FactKind::Role,
                        "upnp-control-point",
                        "ssdp",
                        ts,
                        &ev_flow,
                    );
                    if let Some(ua) = &d.user_agent {
                        self.add(sender, FactKind::Software, ua, "ssdp", ts, &ev_flow);
                    }
                    return;
                }
                // Announcements and search answers come from the device.
                self.add(sender, FactKind::Role, "upnp-device", "ssdp", ts, &ev_flow);
                if let Some(sv) = &d.server {
                    self.add(sender, FactKind::Software, sv, "ssdp", ts, &ev_flow);
                }
                let urn = d
                    .usn_type
                    .as_deref()
                    .or(d.nt.as_deref())
                    .or(d.st.as_deref());
                if let Some(t) = urn.filter(|t| t.contains(":device:")) {
                    let mut v = format!("upnp device={t}");
                    if let Some(u) = &d.usn_uuid {
                        v.push_str(" uuid=");
                        v.push_str(u);
                    }
                    self.add(sender, FactKind::Application, &v, "ssdp", ts, &ev_flow);
                }
                if let Some(l) = &d.location {
                    let v = format!("upnp location={l}");
                    self.add(sender, FactKind::Application, &v, "ssdp", ts, &ev_flow);
                }
            }
            Record::Netbios(n) => {
                let Some(f) = flow else { return };
                // Datagrams go from the announcing host (the flow's first sender).
                let host = key_of(&f.client);
                if let Some(name) = &n.source_name {
                    self.add(host, FactKind::Hostname, name, "netbios", ts, &ev_flow);
                }
                let Some(t) = n.server_type else { return };
                if matches!(n.browser_command, Some(0x01 | 0x0f)) {
                    if let Some(name) = &n.server_name {
                        self.add(host, FactKind::Hostname, name, "netbios", ts, &ev_flow);
                    }
                    let (maj, min) = (n.os_major.unwrap_or(0), n.os_minor.unwrap_or(0));
                    let mut v = format!(
                        "netbios-browser os={maj}.{min} type={}",
                        n.server_roles.join(",")
                    );
                    if let Some(c) = &n.comment {
                        v.push_str(" comment=");
                        v.push_str(c);
                    }
                    self.add(host, FactKind::Application, &v, "netbios", ts, &ev_flow);
                    // Windows announces its NT version; Samba sets the Unix flag.
                    if t & 0x1000 != 0 && t & 0x0800 == 0 {
                        let os = format!("Windows NT {maj}.{min}");
                        self.add(host, FactKind::Os, &os, "netbios", ts, &ev_flow);
                    }
                    for r in &n.server_roles {
                        if matches!(
                            r.as_str(),
                            "workstation"
                                | "server"
                                | "sql-server"
                                | "domain-controller"
                                | "backup-domain-controller"
                                | "print-queue"
                                | "master-browser"
                        ) {
                            let v = format!("netbios-{r}");
                            self.add(host, FactKind::Role, &v, "netbios", ts, &ev_flow);
                        }
                    }
                }
            }
            Record::Wsd(w) => {
                let Some(f) = flow else { return };
                let (sender, _) = sender_receiver(f, w.direction);
                let roles = w.types.iter().filter_map(|t| {
                    WSD_ROLES
                        .iter()
                        .find(|(ns, l, _)| t.namespace == *ns && t.local == *l)
                        .map(|r| r.2)
                });
                let action = w.action.as_deref().unwrap_or_default();
                if matches!(action, "Probe" | "Resolve") {
                    self.add(sender, FactKind::Role, "wsd-client", "wsd", ts, &ev_flow);
                    for r in roles {
                        if let Some((_, c)) = WSD_CLIENT_ROLES.iter().find(|(p, _)| *p == r) {
                            self.add(sender, FactKind::Role, c, "wsd", ts, &ev_flow);
                        }
                    }
                    return;
                }
                if !matches!(action, "Hello" | "Bye" | "ProbeMatches" | "ResolveMatches") {
                    return;
                }
                // Announcements and answers describe the sender.
                let roles: Vec<&str> = roles.collect();
                for r in &roles {
                    self.add(sender, FactKind::Role, r, "wsd", ts, &ev_flow);
                }
                if w.endpoint.is_some() || !w.types.is_empty() {
                    let mut v = String::from("wsd");
                    if let Some(e) = &w.endpoint {
                        v.push_str(" endpoint=");
                        v.push_str(e);
                    }
                    if !w.types.is_empty() {
                        v.push_str(" types=");
                        let locals: Vec<&str> = w.types.iter().map(|t| t.local.as_str()).collect();
                        v.push_str(&locals.join(","));
                    }
                    self.add(sender, FactKind::Application, &v, "wsd", ts, &ev_flow);
                }
            }
            Record::Description(d) => {
                let Some(f) = flow else { return };
                // The HTTP server describes itself.
                let server = key_of(&f.server);
                let src = match d.kind {
                    model::records::DescriptionKind::Dpws => "dpws",
                    model::records::DescriptionKind::Upnp => "upnp",
                };
                let stated = [
                    (FactKind::Manufacturer, &d.manufacturer),
                    (FactKind::Model, &d.model_name),
                    (FactKind::Firmware, &d.firmware_version),
                    (FactKind::Serial, &d.serial_number),
                    (FactKind::Hostname, &d.friendly_name),
                ];
                for (kind, v) in stated {
                    if let Some(v) = v {
                        self.add(server, kind, v, src, ts, &ev_flow);
                    }
                }
                let mut v = format!("{src} description");
                let parts = [
                    (" model-number=", &d.model_number),
                    (" device-type=", &d.device_type),
                    (" udn=", &d.udn),
                ];
                for (k, x) in parts {
                    if let Some(x) = x {
                        v.push_str(k);
                        v.push_str(x);
                    }
                }
                self.add(server, FactKind::Application, &v, src, ts, &ev_flow);
                for t in d.service_types.iter().take(16) {
                    let v = format!("{src} service={t}");
                    self.add(server, FactKind::Application, &v, src, ts, &ev_flow);
                }
            }
            Record::Coap(c) => {
                let Some(f) = flow else { return };
                let (client, server) = (key_of(&f.client), key_of(&f.server));
                self.add(server, FactKind::Role, "coap-server", "coap", ts, &ev_flow);
                self.add(client, FactKind::Role, "coap-client", "coap", ts, &ev_flow);
                // Resources a device serves say what it is (`/ward7/bed3/spo2`).
                if c.direction == Some(model::Direction::ToServer) && !c.uri_path.is_empty() {
                    let v = format!("coap resource=/{}", c.uri_path.join("/"));
                    self.add(server, FactKind::Application, &v, "coap", ts, &ev_flow);
                }
                for l in c.links.iter().take(16) {
                    let v = format!("coap link={l}");
                    self.add(server, FactKind::Application, &v, "coap", ts, &ev_flow);
                }
            }
            Record::Arp(a) => {
                // The sender's own binding (an address probe from 0.0.0.0 claims none).
                let Some(mac) = usable_mac(Some(a.sender_mac)) else {
                    return;
                };
                let ep = EndpointKey {
                    mac: Some(mac),
                    ip: None,
                };
                let ev_arp = || {
                    format!(
                        "arp {} from {}",
                        if a.op == 1 { "request" } else { "reply" },
                        mac
                    )
                };
                self.add(ep, FactKind::Role, "arp", "arp", ts, &ev_arp);
                let ip = IpAddr::V4(a.sender_ip);
                if model::addr::is_host(&ip) && !a.sender_ip.is_unspecified() {
                    let mut scratch = std::mem::take(&mut self.scratch);
                    scratch.clear();
                    model::addr::push_ip(&mut scratch, &ip);
                    self.add(ep, FactKind::Ip, &scratch, "arp", ts, &ev_arp);
                    self.scratch = scratch;
                }
            }
            Record::Weird(_) => {}
        }
    }

    /// Merges another observer's facts into this one. The result does not
    /// depend on the order of merges nor on how the observations were shared
    /// out: past a limit, the facts and endpoints of lowest rank are kept
    /// ([`fact_rank`], [`endpoint_rank`]), and a fact keeps the evidence of
    /// its earliest observation. An endpoint this observer lacks is moved
    /// over whole when its facts fit this observer's limits (workers share
    /// out flows by address pair, so most endpoints are one worker's); only
    /// an endpoint both hold is merged fact by fact.
    pub fn merge(&mut self, other: Observer) {
        self.observed += other.observed;
        let limits = self.limits;
        // Room for the endpoints moved over, made once instead of in steps.
        let room = limits.max_endpoints.saturating_sub(self.endpoints.len());
        self.endpoints.reserve(other.endpoints.len().min(room));
        for (ep, mut theirs) in other.endpoints {
            if !self.endpoints.contains_key(&ep) {
                let fits = theirs.facts.len() <= limits.max_facts_per_endpoint
                    && theirs
                        .per_kind
                        .iter()
                        .all(|&n| n as usize <= limits.max_per_kind);
                if fits {
                    // As `keep` would for each of its facts: all kept, or none.
                    if self.admit(ep) {
                        // That cache was of the other observer's limits.
                        theirs.highest.clear();
                        self.endpoints.insert(ep, theirs);
                    }
                    continue;
                }
            }
            for ((kind, value), st) in theirs.facts {
                self.flow = st.flow;
                // Taken at most once: when the fact is new here or seen earlier there.
                let evidence = std::cell::RefCell::new(st.evidence);
                self.keep(ep, kind, &value, st.source, st.first, &|| {
                    std::mem::take(&mut *evidence.borrow_mut())
                });
                if let Some(s) = self
                    .endpoints
                    .get_mut(&ep)
                    .and_then(|e| e.facts.get_mut(&(kind, value)))
                {
                    s.count += st.count - 1;
                    s.last = s.last.max(st.last);
                    s.first = s.first.min(st.first);
                }
            }
        }
        self.flow = 0;
    }

    /// Raises the limits to at least `limits` (never lowers them): the
    /// observer that collects several workers' facts may hold all of theirs,
    /// while each worker was held to its share.
    pub fn raise_limits(&mut self, limits: ObserverLimits) {
        let l = &mut self.limits;
        l.max_endpoints = l.max_endpoints.max(limits.max_endpoints);
        l.max_facts_per_endpoint = l.max_facts_per_endpoint.max(limits.max_facts_per_endpoint);
        l.max_per_kind = l.max_per_kind.max(limits.max_per_kind);
    }

    /// All facts, sorted for deterministic output.
    pub fn into_facts(self) -> Vec<Fact> {
        // Sorted by (endpoint, kind, value), which is unique (the maps' keys):
        // endpoints first, then each endpoint's facts, gives the one order a
        // sort of all facts would, with cheaper comparisons.
        let mut endpoints: Vec<(EndpointKey, FactMap)> = self
            .endpoints
            .into_iter()
            .map(|(ep, f)| (ep, f.facts))
            .collect();
        endpoints.sort_unstable_by_key(|e| e.0);
        let total = endpoints.iter().map(|(_, f)| f.len()).sum();
        let mut out: Vec<Fact> = Vec::with_capacity(total);
        let mut facts: Vec<((FactKind, String), Stat)> = Vec::new();
        for (ep, map) in endpoints {
            facts.clear();
            facts.extend(map);
            facts.sort_unstable_by(|a, b| (a.0 .0, &a.0 .1).cmp(&(b.0 .0, &b.0 .1)));
            out.extend(facts.drain(..).map(|((kind, value), s)| Fact {
                endpoint: ep,
                kind,
                value,
                source: s.source.to_string(),
                first_seen: s.first,
                last_seen: s.last,
                count: s.count,
                evidence: s.evidence,
            }));
        }
        out
    }
}

/// The strings of a TXT record rendered as `TXT <len> <text>` per string
/// (space separated, as `proto-dns` renders them); texts may contain spaces
/// (`md=IntelliVue MX450`).
fn txt_strings(data: &str) -> Vec<&str> {
    // Start offsets of each `TXT <digits> ` header.
    let header_at = |i: usize| -> Option<usize> {
        let rest = data.get(i..)?.strip_prefix("TXT ")?;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        (digits > 0 && rest.as_bytes().get(digits) == Some(&b' ')).then_some(i + 4 + digits + 1)
    };
    let mut starts: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < data.len() {
        if (i == 0 || data.as_bytes()[i - 1] == b' ') && data.is_char_boundary(i) {
            if let Some(text) = header_at(i) {
                starts.push((i, text));
                i = text;
                continue;
            }
        }
        i += 1;
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &(_, text))| {
            let end = starts
                .get(n + 1)
                .map_or(data.len(), |&(next, _)| next.saturating_sub(1));
            data.get(text..end.max(text)).unwrap_or("")
        })
        .collect()
}

/// Borrowed form of a fact key; hashes exactly like `(FactKind, String)`.
#[derive(Hash)]
struct Query<'a>(FactKind, &'a str);

impl hashbrown::Equivalent<(FactKind, String)> for Query<'_> {
    fn equivalent(&self, key: &(FactKind, String)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

fn bump(s: &mut Stat, ts: Timestamp) {
    s.count += 1;
    if ts > s.last {
        s.last = ts;
    }
    if ts < s.first {
        s.first = ts;
    }
}

#[cfg(test)]
mod push_u64_tests {
    #[test]
    fn matches_display() {
        for n in [0, 7, 10, 99, 443, 2575, 65535, 1 << 40, u64::MAX] {
            let mut s = String::from("x");
            super::push_u64(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }
}

#[cfg(test)]
mod kind_index_tests {
    use crate::facts::FactKind;

    #[test]
    fn every_kind_indexes_its_own_per_kind_slot() {
        for (i, k) in FactKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "{k:?}");
        }
    }
}

#[cfg(test)]
mod txt_tests {
    use super::txt_strings;

    #[test]
    fn txt_strings_keep_spaces_inside_values() {
        assert_eq!(
            txt_strings("TXT 9 txtvers=1 TXT 22 md=IntelliVue MX450 TXT 8 fv=M.00.03"),
            vec!["txtvers=1", "md=IntelliVue MX450", "fv=M.00.03"]
        );
        assert_eq!(txt_strings("TXT 0 "), vec![""]);
        assert!(txt_strings("not txt").is_empty());
        assert_eq!(txt_strings("TXT 4 a=b TXTX"), vec!["a=b TXTX"]);
    }
}

#[cfg(test)]
mod merge_tests {
    use super::{Observer, ObserverLimits};
    use crate::facts::{EndpointKey, FactKind};
    use model::Timestamp;
    use std::net::{IpAddr, Ipv4Addr};

    fn ep(n: u8) -> EndpointKey {
        EndpointKey {
            mac: None,
            ip: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, n))),
        }
    }

    fn limits(endpoints: usize, per_kind: usize) -> ObserverLimits {
        ObserverLimits {
            max_endpoints: endpoints,
            max_facts_per_endpoint: 512,
            max_per_kind: per_kind,
        }
    }

    fn peer(o: &mut Observer, ep: EndpointKey, value: &str, t: i64) {
        o.add(ep, FactKind::Peer, value, "conn", Timestamp(t), &|| {
            format!("e{t}")
        });
    }

    #[test]
    fn a_limit_keeps_the_same_facts_whatever_the_order_and_the_split() {
        // 40 peers, each seen 3 times, over a limit of 5 per kind: observed in
        // different orders, by one observer or shared among three and merged.
        let obs: Vec<(String, i64)> = (0..120)
            .map(|i| (format!("192.0.2.{}", i % 40), 1000 - i as i64))
            .collect();
        let run = |order: &[usize], split: usize| {
            let mut parts: Vec<Observer> =
                (0..split).map(|_| Observer::new(limits(16, 5))).collect();
            for &i in order {
                let (v, t) = &obs[i];
                // The peer decides the part, as a pair decides the worker.
                peer(&mut parts[i % 40 % split], ep(1), v, *t);
            }
            let mut acc = parts.remove(0);
            acc.raise_limits(limits(16, 5));
            for p in parts {
                acc.merge(p);
            }
            acc.into_facts()
                .into_iter()
                .map(|f| (f.value, f.first_seen.0, f.last_seen.0, f.count, f.evidence))
                .collect::<Vec<_>>()
        };
        let forward: Vec<usize> = (0..obs.len()).collect();
        let want = run(&forward, 1);
        // The five of lowest rank, each with all three observations.
        let mut ranked: Vec<String> = (0..40).map(|i| format!("192.0.2.{i}")).collect();
        ranked.sort_by_key(|v| (super::fact_rank(FactKind::Peer, v), v.clone()));
        ranked.truncate(5);
        ranked.sort();
        let kept: Vec<String> = want.iter().map(|f| f.0.clone()).collect();
        assert_eq!(kept, ranked);
        assert!(want.iter().all(|f| f.3 == 3), "{want:?}");
        let backward: Vec<usize> = (0..obs.len()).rev().collect();
        let scrambled: Vec<usize> = (0..obs.len()).map(|i| (i * 37) % obs.len()).collect();
        for order in [&forward, &backward, &scrambled] {
            for split in [1, 2, 3] {
                assert_eq!(run(order, split), want, "split {split}");
            }
        }
    }

    #[test]
    fn an_endpoint_limit_keeps_the_same_endpoints_whatever_the_order_and_the_split() {
        // 11 endpoints, 4 peers each, each seen twice, over a limit of 3
        // endpoints: the same endpoints with whole counts, and the same count
        // of observations let go, however observed and shared.
        let obs: Vec<(u8, String, i64)> = (0..88)
            .map(|i| {
                (
                    1 + (i % 11) as u8,
                    format!("192.0.2.{}", i % 4),
                    500 - i as i64,
                )
            })
            .collect();
        let run = |order: &[usize], split: usize| {
            let mut parts: Vec<Observer> =
                (0..split).map(|_| Observer::new(limits(3, 64))).collect();
            for &i in order {
                let (e, v, t) = &obs[i];
                peer(&mut parts[(i % 4 + i % 11) % split], ep(*e), v, *t);
            }
            let mut acc = parts.remove(0);
            for p in parts {
                acc.merge(p);
            }
            let dropped = acc.dropped();
            let facts: Vec<_> = acc
                .into_facts()
                .into_iter()
                .map(|f| (f.endpoint, f.value, f.first_seen.0, f.count, f.evidence))
                .collect();
            (facts, dropped)
        };
        let forward: Vec<usize> = (0..obs.len()).collect();
        let want = run(&forward, 1);
        let endpoints: std::collections::BTreeSet<_> = want.0.iter().map(|f| f.0).collect();
        assert_eq!(endpoints.len(), 3);
        assert!(want.0.iter().all(|f| f.3 == 2), "{want:?}");
        assert_eq!(want.1, 88 - 3 * 4 * 2);
        let backward: Vec<usize> = (0..obs.len()).rev().collect();
        let scrambled: Vec<usize> = (0..obs.len()).map(|i| (i * 29) % obs.len()).collect();
        for order in [&forward, &backward, &scrambled] {
            for split in [1, 2, 3] {
                assert_eq!(run(order, split), want, "split {split}");
            }
        }
    }

    /// The fact's evidence, first and last seen and count.
    fn peer_fact(o: Observer, ep_n: u8) -> (String, i64, i64, u64) {
        let f = o
            .into_facts()
            .into_iter()
            .find(|f| f.endpoint == ep(ep_n))
            .expect("fact");
        (f.evidence, f.first_seen.0, f.last_seen.0, f.count)
    }

    #[test]
    fn a_fact_keeps_the_evidence_of_its_earliest_observation_whatever_the_order() {
        let seen = |o: &mut Observer, flow: u64, t: i64| {
            o.flow = flow;
            o.add(
                ep(1),
                FactKind::Peer,
                "192.0.2.1",
                "conn",
                Timestamp(t),
                &|| format!("flow {flow} at {t}"),
            );
        };
        let mut o = Observer::new(limits(16, 64));
        seen(&mut o, 5, 20);
        seen(&mut o, 9, 10);
        // Seen at the same time: the lower flow id.
        seen(&mut o, 3, 10);
        seen(&mut o, 4, 10);
        seen(&mut o, 1, 30);
        assert_eq!(peer_fact(o, 1), ("flow 3 at 10".to_string(), 10, 30, 5));

        // Shared between two workers: the merge keeps the earlier one's,
        // whichever worker it is.
        for later_first in [true, false] {
            let (mut a, mut b) = (Observer::new(limits(16, 64)), Observer::new(limits(16, 64)));
            seen(&mut a, 7, 40);
            seen(&mut b, 8, 15);
            seen(&mut b, 2, 50);
            let (mut acc, other) = if later_first { (a, b) } else { (b, a) };
            acc.merge(other);
            assert_eq!(peer_fact(acc, 1), ("flow 8 at 15".to_string(), 15, 50, 3));
        }
    }

    #[test]
    fn an_endpoint_moved_over_whole_is_held_to_the_collecting_observers_limits() {
        // A worker held to 2 peers per kind met 4 and remembered the highest
        // rank it kept; merged into an observer allowed 5, the endpoint moves
        // over whole. Filled to 5 there, a peer ranked between that remembered
        // rank and the highest kept now takes the highest one's place.
        let mut peers: Vec<String> = (0..40).map(|i| format!("192.0.2.{i}")).collect();
        peers.sort_by_key(|v| super::fact_rank(FactKind::Peer, v));
        let mut worker = Observer::new(limits(16, 2));
        for (t, v) in peers[..4].iter().enumerate() {
            peer(&mut worker, ep(1), v, t as i64);
        }
        assert_eq!(worker.dropped(), 2);
        let mut acc = Observer::new(limits(16, 5));
        peer(&mut acc, ep(2), &peers[0], 0);
        acc.merge(worker);
        for (t, v) in peers[36..39].iter().enumerate() {
            peer(&mut acc, ep(1), v, 10 + t as i64);
        }
        peer(&mut acc, ep(1), &peers[2], 20);
        let kept: Vec<String> = acc
            .into_facts()
            .into_iter()
            .filter(|f| f.endpoint == ep(1))
            .map(|f| f.value)
            .collect();
        let mut want: Vec<String> = [0, 1, 2, 36, 37]
            .iter()
            .map(|&i| peers[i].clone())
            .collect();
        want.sort();
        assert_eq!(kept, want);
    }

    #[test]
    fn raised_limits_let_the_collecting_observer_hold_every_workers_share() {
        let mut a = Observer::new(limits(2, 64));
        let mut b = Observer::new(limits(2, 64));
        for n in 1..=2 {
            peer(&mut a, ep(n), "192.0.2.1", 1);
            peer(&mut b, ep(n + 2), "192.0.2.1", 1);
        }
        let mut capped = Observer::new(limits(2, 64));
        peer(&mut capped, ep(1), "192.0.2.1", 1);
        peer(&mut capped, ep(2), "192.0.2.1", 1);
        let mut b2 = Observer::new(limits(2, 64));
        peer(&mut b2, ep(3), "192.0.2.1", 1);
        peer(&mut b2, ep(4), "192.0.2.1", 1);
        capped.merge(b2);
        assert_eq!(capped.endpoints(), 2, "a worker's share is its cap");
        assert_eq!(capped.dropped(), 2);

        a.raise_limits(limits(4, 64));
        a.merge(b);
        assert_eq!(a.endpoints(), 4);
        assert_eq!(a.dropped(), 0);
    }
}

#[cfg(test)]
mod transfer_tests {
    use super::Observer;
    use crate::facts::FactKind;
    use model::records::{ConnRecord, DicomPdu, DicomRecord, Hl7Record};
    use model::{Direction, Endpoint, Event, FlowInfo, MacAddr, Record, Timestamp, Transport};

    fn flow(id: u64, c: u8, s: u8, port: u16) -> FlowInfo {
        let ep = |n: u8, port| Endpoint {
            ip: [10, 0, 0, n].into(),
            port,
            mac: Some(MacAddr([2, 0, 0, 0, 0, n])),
        };
        FlowInfo {
            id,
            transport: Transport::Tcp,
            client: ep(c, 40_000),
            server: ep(s, port),
            vlan: None,
        }
    }

    fn dicom(f: &FlowInfo, pdu: DicomPdu, sops: &[&str], pdata: u64) -> Event {
        Event {
            ts: Timestamp(1),
            flow: Some(*f),
            record: Record::Dicom(DicomRecord {
                pdu,
                calling_ae: None,
                called_ae: None,
                implementation_class_uid: None,
                implementation_version: None,
                abstract_syntaxes: sops.iter().map(|s| s.to_string()).collect(),
                transfer_syntaxes: vec![],
                max_pdu_length: None,
                reject_reason: None,
                pdata_bytes: pdata,
                application_context: None,
                user_identity: None,
            }),
        }
    }

    fn transfers(o: Observer) -> Vec<(u8, String)> {
        o.into_facts()
            .into_iter()
            .filter(|f| f.kind == FactKind::Transfer)
            .map(|f| (f.endpoint.mac.unwrap().0[5], f.value))
            .collect()
    }

    const CT_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";

    #[test]
    fn a_storage_association_that_carried_data_is_a_transfer() {
        let mut o = Observer::default();
        // Stored: accepted storage, then P-DATA before the release.
        let f = flow(1, 1, 2, 104);
        o.observe(&dicom(&f, DicomPdu::AssociateRq, &[CT_STORAGE], 0));
        o.observe(&dicom(&f, DicomPdu::AssociateAc, &[CT_STORAGE], 0));
        o.observe(&dicom(&f, DicomPdu::ReleaseRq, &[], 900));
        o.observe(&dicom(&f, DicomPdu::ReleaseRp, &[], 900));
        // Proposed and rejected: nothing left.
        let g = flow(2, 3, 2, 104);
        o.observe(&dicom(&g, DicomPdu::AssociateRq, &[CT_STORAGE], 0));
        o.observe(&dicom(&g, DicomPdu::AssociateRj, &[], 0));
        // A C-ECHO with data: not storage.
        let h = flow(3, 4, 2, 104);
        o.observe(&dicom(&h, DicomPdu::AssociateAc, &["1.2.840.10008.1.1"], 0));
        o.observe(&dicom(&h, DicomPdu::ReleaseRq, &[], 200));
        // Accepted storage, released without data.
        let k = flow(4, 5, 2, 104);
        o.observe(&dicom(&k, DicomPdu::AssociateAc, &[CT_STORAGE], 0));
        o.observe(&dicom(&k, DicomPdu::ReleaseRq, &[], 0));
        let t = transfers(o);
        assert_eq!(t, vec![(1, "dicom-store 10.0.0.2 104/tcp".to_string())]);
    }

    #[test]
    fn hl7_messages_and_backup_flows_are_transfers_acks_and_idle_flows_not() {
        let mut o = Observer::default();
        let hl7 = |f: &FlowInfo, t: &str, dir| Event {
            ts: Timestamp(1),
            flow: Some(*f),
            record: Record::Hl7(Hl7Record {
                direction: Some(dir),
                message_type: Some(t.into()),
                ..Default::default()
            }),
        };
        let f = flow(1, 1, 2, 2575);
        o.observe(&hl7(&f, "ORU^R01", Direction::ToServer));
        o.observe(&hl7(&f, "ACK^R01", Direction::ToClient));
        let conn = |f: &FlowInfo, sent: u64, received: u64| Event {
            ts: Timestamp(1),
            flow: Some(*f),
            record: Record::Conn(ConnRecord {
                established: true,
                orig_bytes: sent,
                resp_bytes: received,
                ..Default::default()
            }),
        };
        o.observe(&conn(&flow(2, 3, 9, 873), 4096, 10)); // rsync push
        o.observe(&conn(&flow(3, 4, 9, 873), 0, 10)); // nothing sent
        o.observe(&conn(&flow(4, 9, 5, 10000), 20, 9000)); // NDMP: the filer's data
        o.observe(&conn(&flow(5, 6, 9, 80), 4096, 10)); // not a backup channel
        let smb = |id, c, sent| Event {
            ts: Timestamp(1),
            flow: Some(flow(id, c, 9, 445)),
            record: Record::Conn(ConnRecord {
                established: true,
                orig_bytes: sent,
                service: vec!["smb".into()],
                ..Default::default()
            }),
        };
        o.observe(&smb(6, 7, 600)); // negotiate only
        o.observe(&smb(7, 8, 1 << 20)); // a file copied
        let mut t = transfers(o);
        t.sort();
        assert_eq!(
            t,
            vec![
                (1, "hl7-oru 10.0.0.2 2575/tcp".to_string()),
                (3, "rsync 10.0.0.9 873/tcp".to_string()),
                (5, "ndmp 10.0.0.9 10000/tcp".to_string()),
                (8, "smb 10.0.0.9 445/tcp".to_string()),
            ]
        );
    }
}
